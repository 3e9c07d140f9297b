// A reader's work on a task <-> the annotation document the API stores as revisions.
//
// The work is: findings (one per drawn shape, with the protocol label, site, evaluations,
// measurements typed by the reader and a comment), classifications (study- or image-level
// answers) and masks painted per protocol label. Shapes themselves live in Cornerstone's
// annotation state; `geometryOf(finding)` reads them when a document is built.
//
// Pure functions: no DOM, no Cornerstone, unit-tested under Node.

export const DEFAULT_SEGMENT_CATEGORY = { code: '49755003', scheme: 'SCT', meaning: 'Morphologically Abnormal Structure' };

// Colours for labels whose protocol names none: distinct on a grey image, and from each other.
export const PALETTE = [
  [255, 196, 0],
  [0, 200, 255],
  [255, 80, 160],
  [120, 230, 80],
  [190, 120, 255],
  [255, 120, 40],
  [0, 230, 170],
  [240, 240, 120],
];

export function sameCode(a, b) {
  return !!a && !!b && a.code === b.code && a.scheme === b.scheme;
}

export function colorOfLabel(protocol, key) {
  const index = protocol.labels.findIndex((l) => l.key === key);
  const label = protocol.labels[index];
  return (label && label.color) || PALETTE[Math.max(index, 0) % PALETTE.length];
}

// The protocol labels a mask can be painted with, in order: their position + 1 is the value
// painted into the labelmaps.
export function maskLabels(protocol) {
  return protocol.labels.filter((l) => l.segmentation);
}

export function segmentOf(protocol, label) {
  return {
    label: label.finding.meaning.slice(0, 64),
    category: label.segmentCategory || DEFAULT_SEGMENT_CATEGORY,
    type: label.finding,
    algorithm: { type: 'MANUAL' },
    color: colorOfLabel(protocol, label.key),
  };
}

// A new, empty finding of a label for a shape just drawn.
export function newFinding(annotationUID, label) {
  return { annotationUID, label, findingSite: null, evaluations: [], measurements: [], comment: '', trackingId: '', trackingUid: '', provenance: null };
}

// The badge of a finding that came from an AI pre-label: the algorithm's as made, or changed by
// the reader (as of the last save); null for the reader's own.
export function provenanceBadge(finding) {
  const p = finding.provenance;
  if (!p) return null;
  const who = `${p.algorithm.name}${p.algorithm.version ? ` ${p.algorithm.version}` : ''}`;
  return p.source === 'algorithm'
    ? { text: 'AI', title: `As ${who} found it` }
    : { text: 'AI, edited', title: `Found by ${who}, changed by the reader` };
}

// The annotation document for the API.
//   work: {observer, findings, classifications, masks}
//     masks: [{segment: labelmap value, image, runs}] (maskModel.masksFromLabelmaps)
//   geometryOf(finding): the finding's geometry, read from the drawing state
export function buildDocument(protocol, work, geometryOf) {
  const doc = {
    observer: { type: 'person', name: work.observer.name },
    protocol: { id: protocol.id, version: protocol.version },
    findings: work.findings.map((f) => {
      const out = { label: f.label, geometry: geometryOf(f) };
      if (f.trackingUid) out.trackingUid = f.trackingUid;
      if (f.trackingId) out.trackingId = f.trackingId;
      if (f.findingSite) out.findingSite = f.findingSite;
      const evaluations = f.evaluations.filter((e) => e.value || (e.text && e.text.trim()));
      if (evaluations.length) {
        out.evaluations = evaluations.map((e) => (e.value ? { concept: e.concept, value: e.value } : { concept: e.concept, text: e.text.trim() }));
      }
      // Derived values are the server's to compute again; only what the reader typed goes back.
      const typed = f.measurements.filter((m) => !m.derived && Number.isFinite(m.value));
      if (typed.length) out.measurements = typed.map((m) => ({ concept: m.concept, value: m.value, unit: m.unit }));
      if (f.comment && f.comment.trim()) out.comment = f.comment.trim();
      return out;
    }),
    classifications: work.classifications.filter((c) => c.value).map((c) => {
      const out = { label: c.label, value: c.value };
      if (c.image) out.image = { ...c.image };
      return out;
    }),
  };
  const masks = work.masks || [];
  if (masks.length) {
    const labels = maskLabels(protocol);
    const used = [...new Set(masks.map((m) => m.segment))].sort((a, b) => a - b);
    doc.segmentation = {
      contentLabel: 'MASKS',
      segments: used.map((value) => segmentOf(protocol, labels[value - 1])),
      masks: masks.map((m) => ({ segment: used.indexOf(m.segment) + 1, image: { ...m.image }, runs: m.runs })),
    };
  }
  return doc;
}

// A stored revision's document back into the reader's work. Geometries are returned beside each
// finding for the caller to draw; masks carry their labelmap value (found by segment type).
export function readDocument(protocol, doc) {
  const labels = maskLabels(protocol);
  const findings = (doc.findings || []).map((f) => ({
    annotationUID: '',
    label: f.label,
    findingSite: f.findingSite || null,
    evaluations: (f.evaluations || []).map((e) => ({ ...e })),
    measurements: (f.measurements || []).map((m) => ({ ...m })),
    comment: f.comment || '',
    trackingId: f.trackingId || '',
    trackingUid: f.trackingUid || '',
    provenance: f.provenance || null,
    geometry: f.geometry,
  }));
  const classifications = (doc.classifications || []).map((c) => {
    const out = { label: c.label, value: c.value };
    if (c.image) out.image = { ...c.image };
    return out;
  });
  const masks = [];
  const unknownSegments = [];
  const seg = doc.segmentation;
  if (seg) {
    (seg.segments || []).forEach((segment, i) => {
      const value = labels.findIndex((l) => sameCode(l.finding, segment.type)) + 1;
      if (value === 0) unknownSegments.push(segment.label);
      for (const m of seg.masks || []) {
        if (m.segment === i + 1 && value > 0) masks.push({ segment: value, image: { ...m.image }, runs: m.runs || [] });
      }
    });
  }
  return { findings, classifications, masks, unknownSegments };
}

// Where a problem the API reported belongs: "findings[2].evaluations: ..." -> {area: 'finding',
// index: 2, field: 'evaluations', message}. Areas: finding, classifications, segmentation, document.
export function placeProblem(problem) {
  const colon = problem.indexOf(': ');
  const path = colon >= 0 ? problem.slice(0, colon) : '';
  const message = colon >= 0 ? problem.slice(colon + 2) : problem;
  let m = /^findings\[(\d+)\](?:\.([A-Za-z]+))?/.exec(path);
  if (m) return { area: 'finding', index: Number(m[1]), field: m[2] || '', message };
  m = /^classifications(?:\[(\d+)\])?/.exec(path);
  if (m) return { area: 'classifications', index: m[1] === undefined ? -1 : Number(m[1]), field: '', message };
  if (path.startsWith('segmentation')) return { area: 'segmentation', index: -1, field: path, message };
  return { area: 'document', index: -1, field: path, message };
}

// After a save, the server's tracking identifiers (made on first save) are kept by the findings
// so that the next revision continues them.
export function adoptTracking(findings, savedDocument) {
  (savedDocument.findings || []).forEach((saved, i) => {
    if (!findings[i]) return;
    findings[i].trackingUid = saved.trackingUid || findings[i].trackingUid;
    findings[i].trackingId = saved.trackingId || findings[i].trackingId;
    // Whether it is still the algorithm's is the server's judgement, made at each save.
    findings[i].provenance = saved.provenance || null;
    findings[i].measurements = [
      ...findings[i].measurements.filter((m) => !m.derived),
      ...(saved.measurements || []).filter((m) => m.derived),
    ];
  });
}
