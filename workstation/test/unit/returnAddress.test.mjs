import assert from 'node:assert/strict';
import { test } from 'node:test';

import { viewerReturnAddress } from '../../src/model/returnAddress.js';

const here = 'https://pacs.example/annotation/ui/index.html?next=x';

test('the viewer of this server is where a sign-in may return', () => {
  assert.equal(viewerReturnAddress('/annotation/viewer/viewer?StudyInstanceUIDs=1.2', here),
    'https://pacs.example/annotation/viewer/viewer?StudyInstanceUIDs=1.2');
  assert.equal(viewerReturnAddress('/annotation/viewer', here), 'https://pacs.example/annotation/viewer');
  assert.equal(viewerReturnAddress('/viewer/viewer', 'http://node:8080/ui/index.html'), 'http://node:8080/viewer/viewer');
});

test('nothing else is followed', () => {
  for (const next of ['', 'https://evil.example/annotation/viewer', '//evil.example/annotation/viewer', '/\t/evil.example/viewer',
    '/\\evil.example/viewer', 'javascript:alert(1)', '/annotation/api/v1/session', '/annotation/viewerx', '/viewer/viewer',
    '/annotation/viewer/../api/v1/users']) {
    assert.equal(viewerReturnAddress(next, here), '', JSON.stringify(next));
  }
});
