import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

import { adoptTracking, buildDocument, newFinding, placeProblem, provenanceBadge, readDocument } from '../../src/model/labelingDocument.js';

const protocol = JSON.parse(readFileSync(new URL('../../../sr-templates/protocols/chest-ct-lung-nodules.json', import.meta.url)));
const code = (c, s, m) => ({ code: c, scheme: s, meaning: m });
const box = { type: 'bbox', image: { sopInstanceUid: '1.2.3' }, points: [[1, 2], [30, 40]] };

function work() {
  const f = newFinding('uid-1', 'nodule');
  f.findingSite = code('45653009', 'SCT', 'Structure of upper lobe of right lung');
  f.evaluations = [
    { concept: code('NODCOMP', '99ANNOT', 'Nodule composition'), value: code('SOLID', '99ANNOT', 'Solid') },
    { concept: code('MARGIN', '99ANNOT', 'Margin description'), text: '  smooth ' },
    { concept: code('LRCAT', '99ANNOT', 'Lung-RADS assessment category'), value: null },
  ];
  f.measurements = [
    { concept: code('103339001', 'SCT', 'Long Axis'), value: 12.5, unit: code('mm', 'UCUM', 'millimeter') },
    { concept: code('42798000', 'SCT', 'Area'), value: 99, unit: code('mm2', 'UCUM', 'square millimeter'), derived: true },
  ];
  return {
    observer: { name: 'reader' },
    findings: [f],
    classifications: [{ label: 'emphysema', value: code('2667000', 'SCT', 'Absent') }, { label: 'other', value: null }],
    masks: [
      { segment: 2, image: { sopInstanceUid: '1.2.3' }, runs: [[5, 3]] },
      { segment: 2, image: { sopInstanceUid: '1.2.4' }, runs: [[9, 1]] },
    ],
  };
}

test('the document carries what the reader gave, and nothing unanswered', () => {
  const doc = buildDocument(protocol, work(), () => box);
  assert.deepEqual(doc.protocol, { id: 'chest-ct-lung-nodules', version: protocol.version });
  const f = doc.findings[0];
  assert.equal(f.label, 'nodule');
  assert.deepEqual(f.geometry, box);
  assert.deepEqual(f.evaluations.map((e) => e.text || e.value.code), ['SOLID', 'smooth']);
  // Derived measurements are recomputed by the server, typed ones are sent.
  assert.deepEqual(f.measurements.map((m) => m.concept.code), ['103339001']);
  assert.deepEqual(doc.classifications.map((c) => c.label), ['emphysema']);
});

test('masks become segments of the protocol labels they were painted with', () => {
  const doc = buildDocument(protocol, work(), () => box);
  // Labelmap value 2 is the second label allowing masks: "mass". Only used segments are written.
  assert.equal(doc.segmentation.segments.length, 1);
  assert.deepEqual(doc.segmentation.segments[0].type, code('4147007', 'SCT', 'Mass'));
  assert.equal(doc.segmentation.segments[0].algorithm.type, 'MANUAL');
  assert.deepEqual(doc.segmentation.masks.map((m) => m.segment), [1, 1]);
  // Read back, the masks carry their labelmap value again.
  const back = readDocument(protocol, doc);
  assert.deepEqual(back.masks.map((m) => m.segment), [2, 2]);
  assert.deepEqual(back.masks[1].runs, [[9, 1]]);
  assert.deepEqual(back.unknownSegments, []);
});

test('a saved document reads back into the same work', () => {
  const doc = buildDocument(protocol, work(), () => box);
  const back = readDocument(protocol, doc);
  assert.equal(back.findings.length, 1);
  assert.deepEqual(back.findings[0].geometry, box);
  const again = buildDocument(protocol, { observer: { name: 'reader' }, findings: back.findings, classifications: back.classifications, masks: back.masks }, (f) => f.geometry);
  assert.deepEqual(again, doc);
});

test('problems are placed next to what they concern', () => {
  assert.deepEqual(placeProblem('findings[2].evaluations: required evaluation (LRCAT) is missing'),
    { area: 'finding', index: 2, field: 'evaluations', message: 'required evaluation (LRCAT) is missing' });
  assert.equal(placeProblem('findings[0].geometry.points[1]: (900, 2) is outside the image').field, 'geometry');
  assert.equal(placeProblem("classifications: required classification 'emphysema' is missing").area, 'classifications');
  assert.equal(placeProblem('segmentation.masks[0]: the mask has 10 pixels, the image 4096').area, 'segmentation');
  assert.equal(placeProblem('document: has neither findings').area, 'document');
});

test('tracking identifiers made by the server are kept for the next revision', () => {
  const w = work();
  adoptTracking(w.findings, { findings: [{ trackingUid: '2.25.9', trackingId: 'nodule #1', measurements: [{ concept: code('x', 'y', 'z'), value: 1, derived: true }] }] });
  assert.equal(w.findings[0].trackingUid, '2.25.9');
  assert.equal(w.findings[0].trackingId, 'nodule #1');
  assert.deepEqual(w.findings[0].measurements.map((m) => m.concept.code), ['103339001', 'x']);
});

test('a pre-label finding carries its provenance and the server decides it at each save', () => {
  const algorithm = { name: 'NoduleNet', version: '3.1' };
  const doc = { findings: [{ label: 'nodule', trackingUid: '2.25.7', geometry: box, provenance: { source: 'algorithm', algorithm } }] };
  const back = readDocument(protocol, doc);
  assert.deepEqual(provenanceBadge(back.findings[0]), { text: 'AI', title: 'As NoduleNet 3.1 found it' });
  // The provenance is never sent: the server compares with the pre-label itself.
  assert.equal(buildDocument(protocol, { observer: { name: 'r' }, findings: back.findings, classifications: [] }, (f) => f.geometry).findings[0].provenance, undefined);
  adoptTracking(back.findings, { findings: [{ trackingUid: '2.25.7', provenance: { source: 'algorithm-edited', algorithm } }] });
  assert.equal(provenanceBadge(back.findings[0]).text, 'AI, edited');
  adoptTracking(back.findings, { findings: [{ trackingUid: '2.25.7' }] });
  assert.equal(provenanceBadge(back.findings[0]), null, "the reader's own");
  assert.equal(provenanceBadge(newFinding('u', 'nodule')), null);
});
