// Painted masks <-> the annotation document's segmentation runs.
//
// In the browser each source frame has a labelmap: one byte per pixel, row-major, holding the
// segment number painted there (0 = none). The document keeps, per segment and frame, runs of
// set pixels: [offset, length] over the same row-major index (docs/segmentation.schema.json).
// A labelmap holds one segment per pixel, so masks that overlap in a SEG read from elsewhere
// come back with the later segment on top.

// Runs of pixels equal to `segment` in a labelmap.
export function runsOf(labelmap, segment) {
  const runs = [];
  let start = -1;
  for (let i = 0; i < labelmap.length; i++) {
    if (labelmap[i] === segment) {
      if (start < 0) start = i;
    } else if (start >= 0) {
      runs.push([start, i - start]);
      start = -1;
    }
  }
  if (start >= 0) runs.push([start, labelmap.length - start]);
  return runs;
}

// Paints runs of one segment into a labelmap; throws when a run leaves the frame.
export function paintRuns(labelmap, segment, runs) {
  for (const [offset, length] of runs) {
    if (!Number.isInteger(offset) || !Number.isInteger(length) || offset < 0 || length < 0 || offset + length > labelmap.length) {
      throw new RangeError(`run [${offset}, ${length}] leaves the frame of ${labelmap.length} pixels`);
    }
    labelmap.fill(segment, offset, offset + length);
  }
}

// The segments present in a labelmap, ascending.
export function segmentsIn(labelmap) {
  const seen = new Set();
  for (let i = 0; i < labelmap.length; i++) if (labelmap[i]) seen.add(labelmap[i]);
  return [...seen].sort((a, b) => a - b);
}

// Masks of the document from labelmaps.
// frames: [{image: {sopInstanceUid, frame?}, labelmap: Uint8Array}]; empty frames are left out.
export function masksFromLabelmaps(frames) {
  const masks = [];
  for (const { image, labelmap } of frames) {
    for (const segment of segmentsIn(labelmap)) masks.push({ segment, image: { ...image }, runs: runsOf(labelmap, segment) });
  }
  masks.sort((a, b) => a.segment - b.segment);
  return masks;
}

// The key a frame is found by, from an image reference or a frame record: "SOP", or
// "SOP:frame" for a frame of a multi-frame image.
export function frameKey(image) {
  return image.frame ? `${image.sopInstanceUid}:${image.frame}` : image.sopInstanceUid;
}

// Paints the document's masks into labelmaps: labelmapFor(image) returns the frame's labelmap
// (or nothing when the image is not shown; such masks are reported back as not placed).
export function paintMasks(masks, labelmapFor) {
  const notPlaced = [];
  for (const mask of masks || []) {
    const labelmap = labelmapFor(mask.image);
    if (!labelmap) {
      notPlaced.push(mask);
      continue;
    }
    paintRuns(labelmap, mask.segment, mask.runs || []);
  }
  return notPlaced;
}
