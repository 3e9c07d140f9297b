import assert from 'node:assert/strict';
import { test } from 'node:test';

import { frameKey, masksFromLabelmaps, paintMasks, paintRuns, runsOf } from '../../src/model/maskModel.js';

test('runs cover exactly the pixels of a segment, row-major', () => {
  const lm = new Uint8Array([0, 1, 1, 0, 2, 2, 1, 0, 0, 1]);
  assert.deepEqual(runsOf(lm, 1), [[1, 2], [6, 1], [9, 1]]);
  assert.deepEqual(runsOf(lm, 2), [[4, 2]]);
  assert.deepEqual(runsOf(lm, 3), []);
});

test('painting the runs back gives the same labelmap', () => {
  // A 7x5 frame (odd size: 35 pixels) with two segments touching.
  const lm = new Uint8Array(35);
  for (const i of [0, 1, 2, 8, 9, 15, 16, 17, 34]) lm[i] = 1;
  for (const i of [3, 4, 10, 11, 33]) lm[i] = 2;
  const masks = masksFromLabelmaps([{ image: { sopInstanceUid: '1.2' }, labelmap: lm }]);
  assert.deepEqual(masks.map((m) => m.segment), [1, 2]);
  const again = new Uint8Array(35);
  assert.deepEqual(paintMasks(masks, () => again), []);
  assert.deepEqual(again, lm);
});

test('empty frames are left out and frames keep their image reference', () => {
  const frames = [
    { image: { sopInstanceUid: '1.2', frame: 3 }, labelmap: new Uint8Array(4) },
    { image: { sopInstanceUid: '1.2', frame: 4 }, labelmap: new Uint8Array([0, 0, 1, 1]) },
  ];
  assert.deepEqual(masksFromLabelmaps(frames), [{ segment: 1, image: { sopInstanceUid: '1.2', frame: 4 }, runs: [[2, 2]] }]);
  assert.equal(frameKey({ sopInstanceUid: '1.2', frame: 4 }), '1.2:4');
  assert.equal(frameKey({ sopInstanceUid: '1.2' }), '1.2');
});

test('a run that leaves the frame is refused, and masks on images not shown are reported', () => {
  assert.throws(() => paintRuns(new Uint8Array(10), 1, [[8, 3]]), /leaves the frame/);
  const notPlaced = paintMasks([{ segment: 1, image: { sopInstanceUid: '9.9' }, runs: [[0, 1]] }], () => null);
  assert.equal(notPlaced.length, 1);
});
