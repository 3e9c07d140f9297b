// Orthanc Explorer, extended by the Orthanc plugin deployment: a "Labeling worklist" button on
// the study page (that study's tasks) and on the home page. Orthanc Explorer runs jQuery Mobile.
$('#study').live('pagebeforeshow', function () {
  if ($('#annotation-worklist').length) return;
  var b = $('<a>').attr('id', 'annotation-worklist').attr('data-role', 'button').attr('data-icon', 'grid')
    .attr('href', '#').text('Labeling worklist');
  b.insertBefore($('#study-delete').parent().parent());
  b.button();
  b.click(function () {
    var id = $.mobile.pageData.uuid;
    $.ajax({
      url: '../studies/' + id,
      dataType: 'json',
      success: function (s) {
        window.open('../annotation/ui?study=' + encodeURIComponent(s.MainDicomTags.StudyInstanceUID));
      },
    });
  });
});
$('#lookup').live('pagebeforeshow', function () {
  if ($('#annotation-worklist-home').length) return;
  var b = $('<a>').attr('id', 'annotation-worklist-home').attr('data-role', 'button').attr('href', '../annotation/ui')
    .attr('target', '_blank').text('Labeling worklist');
  $('#lookup').find('[data-role=content]').first().append(b);
  b.button();
});
