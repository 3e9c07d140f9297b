#!/usr/bin/env node
// validate-schemas.mjs - checks documents against the published JSON Schemas (docs/*.schema.json,
// draft 2020-12) with Ajv, so the schemas say what the parser accepts.
//
// usage: node validate-schemas.mjs SCHEMA_DIR annotation|protocol|segmentation FILE...
// Prints {"results": [{"file", "valid", "errors"}]} and exits 0 (the caller judges).
import fs from 'node:fs';
import path from 'node:path';
import Ajv2020 from 'ajv/dist/2020.js';

const [schemaDir, kind, ...files] = process.argv.slice(2);
if (!schemaDir || !kind || files.length === 0) {
  console.error('usage: node validate-schemas.mjs SCHEMA_DIR annotation|protocol|segmentation FILE...');
  process.exit(2);
}
const ajv = new Ajv2020({ allErrors: true, strict: false });
for (const name of ['annotation', 'protocol', 'segmentation']) {
  ajv.addSchema(JSON.parse(fs.readFileSync(path.join(schemaDir, `${name}.schema.json`), 'utf8')));
}
const validate = ajv.getSchema(`https://annotation-node.example/schemas/${kind}.schema.json`);
if (!validate) {
  console.error(`no schema for ${kind}`);
  process.exit(2);
}
const results = files.map((file) => {
  const valid = validate(JSON.parse(fs.readFileSync(file, 'utf8')));
  return { file, valid, errors: valid ? [] : validate.errors.map((e) => `${e.instancePath || '/'} ${e.message}`) };
});
console.log(JSON.stringify({ results }));
