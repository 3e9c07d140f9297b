// Talks DICOMweb the way OHIF does, through dicomweb-client, and prints what it got as JSON.
// usage: node dicomweb.mjs URL TOKEN|- OPERATION 'JSON options' [files to store...]
// Operations: searchForStudies, searchForSeries, searchForInstances, retrieveStudyMetadata,
// retrieveSeriesMetadata, retrieveInstanceMetadata, retrieveInstance, retrieveInstanceFrames,
// retrieveSeries, storeInstances.
import fs from 'node:fs';
import XMLHttpRequest from 'xhr2';
import * as dicomweb from 'dicomweb-client';
import dcmjs from 'dcmjs';

globalThis.XMLHttpRequest = XMLHttpRequest;

const [url, token, operation, optionsText, ...files] = process.argv.slice(2);
const headers = token && token !== '-' ? { Authorization: `Bearer ${token}` } : {};
const client = new dicomweb.api.DICOMwebClient({ url, headers });
const options = JSON.parse(optionsText || '{}');

function describePart10(buffer) {
  const dataset = dcmjs.data.DicomMessage.readFile(buffer instanceof ArrayBuffer ? buffer : buffer.buffer);
  const natural = dcmjs.data.DicomMetaDictionary.naturalizeDataset(dataset.dict);
  return { bytes: buffer.byteLength, SOPInstanceUID: natural.SOPInstanceUID, Rows: natural.Rows };
}

async function run() {
  switch (operation) {
    case 'retrieveInstance':
      return describePart10(await client.retrieveInstance(options));
    case 'retrieveSeries':
      return (await client.retrieveSeries(options)).map(describePart10);
    case 'retrieveInstanceFrames':
      return (await client.retrieveInstanceFrames(options)).map((f) => ({ bytes: f.byteLength }));
    case 'storeInstances': {
      const datasets = files.map((f) => {
        const b = fs.readFileSync(f);
        return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength);
      });
      const answer = await client.storeInstances({ ...options, datasets });
      if (answer === undefined || answer === null || answer === '') return {};
      if (typeof answer === 'string') return JSON.parse(answer);
      if (answer instanceof ArrayBuffer || ArrayBuffer.isView(answer)) return JSON.parse(new TextDecoder().decode(answer));
      return answer;
    }
    default:
      if (typeof client[operation] !== 'function') throw new Error(`unknown operation ${operation}`);
      return client[operation](options);
  }
}

run().then(
  (result) => console.log(JSON.stringify(result)),
  (error) => {
    console.log(JSON.stringify({ error: String(error && (error.message || error)), status: error && error.status, stack: process.env.DEBUG ? String(error && error.stack) : undefined }));
    process.exit(2);
  },
);
