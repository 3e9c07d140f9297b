// OHIF's configuration as the annotation node serves it (replaces the published build's demo
// configuration): one DICOMweb data source, the node's own /dicomweb, on the same origin, so the
// session the labeling workstation signed in carries over and no token is written anywhere.
// The viewer is served at "<prefix>/viewer" ("" on the node, "/annotation" inside Orthanc);
// index.html says where in window.PUBLIC_URL.
(function () {
  var base = String(window.PUBLIC_URL || '/viewer/').replace(/\/$/, '');
  var root = window.location.origin + base.replace(/\/viewer$/, '') + '/dicomweb';
  window.config = {
    name: 'annotation-node',
    routerBasename: base,
    extensions: [],
    modes: [],
    customizationService: {},
    showStudyList: true,
    maxNumberOfWebWorkers: 2,
    showWarningMessageForCrossOrigin: false,
    showCPUFallbackMessage: true,
    showLoadingIndicator: true,
    strictZSpacingForVolumeViewport: true,
    maxNumRequests: { interaction: 100, thumbnail: 5, prefetch: 10 },
    showErrorDetails: 'always',
    // The investigational-use notice is shown once per browser; the product's users are told
    // what the viewer is for by the site.
    investigationalUseDialog: { option: 'never' },
    defaultDataSourceName: 'node',
    dataSources: [
      {
        namespace: '@ohif/extension-default.dataSourcesModule.dicomweb',
        sourceName: 'node',
        configuration: {
          friendlyName: 'Annotation node',
          name: 'node',
          wadoUriRoot: root,
          qidoRoot: root,
          wadoRoot: root,
          qidoSupportsIncludeField: true,
          imageRendering: 'wadors',
          thumbnailRendering: 'wadors',
          enableStudyLazyLoad: true,
          supportsFuzzyMatching: false,
          supportsWildcard: true,
          staticWado: false,
          singlepart: 'bulkdata,video',
          bulkDataURI: { enabled: true, relativeResolution: 'studies' },
          omitQuotationForMultipartRequest: true,
        },
      },
    ],
  };
})();
