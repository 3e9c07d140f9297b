#!/usr/bin/env bash
# Seed corpora from the test fixtures, once per build: DICOM objects the product and its peers
# make (CT slices, an Enhanced CT, radiographs, colour ultrasound, an SR and a SEG the product
# wrote, JPEG/RLE public samples), the documented examples and the shipped protocols, and the
# small text seeds kept in tests/fuzz/seeds.
#   tests/fuzz/seeds.sh MAIN_BUILD_DIR OUT_DIR
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$here/../.."
build="$1"
out="$2"
[ -f "$out/.done" ] && exit 0
rm -rf "$out"
mkdir -p "$out"
for t in "$here"/seeds/*/; do cp -r "$t" "$out/"; done
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
gen="$build/tests/annot-testdata"
node="$build/dicom-node/dicom-node"
"$gen" --out "$scratch/ct" --slices 2 --rows 16 --columns 16 >/dev/null
"$gen" --out "$scratch/enh" --enhanced --slices 3 --rows 16 --columns 16 >/dev/null
"$gen" --out "$scratch/dx" --modality DX --rows 16 --columns 24 >/dev/null
"$gen" --out "$scratch/us" --modality US --frames 2 --rgb --rows 16 --columns 16 >/dev/null
mkdir -p "$out/dicom"
# (Inputs that once made a fuzzer fail, kept as regressions, came with tests/fuzz/seeds/dicom.)
n=0
for f in $(find "$scratch" -name '*.dcm' | sort); do cp "$f" "$out/dicom/fixture$((n++)).dcm"; done
# JPEG, RLE and JPEG 2000 encapsulated pixel data from Debian's public pydicom samples.
samples=/usr/lib/python3/dist-packages/pydicom/data/test_files
for s in JPEG-lossy.dcm SC_rgb_rle_2frame.dcm MR_small_jpeg_ls_lossless.dcm JPEG2000.dcm; do
  [ -f "$samples/$s" ] && cp "$samples/$s" "$out/dicom/$s"
done
# An SR and a SEG the product wrote on the CT.
slice="$(find "$scratch/ct" -name '*.dcm' | sort | head -1)"
sop="$(dcmdump +P SOPInstanceUID "$slice" | sed 's/.*\[\(.*\)\].*/\1/')"
cat > "$scratch/ann.json" <<JSON
{"observer": {"name": "Reader^Rita"}, "findings": [{"finding": {"code": "27925004", "scheme": "SCT", "meaning": "Nodule"},
 "geometry": {"type": "ellipse", "image": {"sopInstanceUid": "$sop"}, "points": [[4, 8], [12, 8], [8, 6], [8, 10]]}}]}
JSON
sed "s/1.2.3\"/$sop\"/; s/\"frame\":2//; s/,}/}/" "$here/seeds/segmentation_json/one" > "$scratch/seg.json"
"$node" make-sr --annotation "$scratch/ann.json" --images "$scratch/ct" --out "$out/dicom/sr.dcm" >/dev/null
"$node" make-seg --segments "$scratch/seg.json" --images "$scratch/ct" --out "$out/dicom/seg.dcm" >/dev/null
mkdir -p "$out/annotation_json" "$out/protocol_json"
cp "$root"/docs/examples/*.json "$out/annotation_json/"
cp "$root"/sr-templates/protocols/*.json "$out/protocol_json/"
touch "$out/.done"
