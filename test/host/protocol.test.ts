/** Messages from webviews are untrusted: only well-formed ones get through, rebuilt without extra fields. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parsePanelMessage, parseWebviewMessage } from '../../src/protocol/messages';

test('editor webview messages are accepted only when well-formed', () => {
  for (const type of ['ready', 'runAudit', 'cancelAudit', 'exportPlan'] as const)
    assert.deepEqual(parseWebviewMessage({ type, extra: '<script>' }), { type });
  assert.deepEqual(parseWebviewMessage({ type: 'selectNode', nodeName: '/conv/1' }), {
    type: 'selectNode',
    nodeName: '/conv/1',
  });
  for (const bad of [
    null,
    'ready',
    42,
    [],
    {},
    { type: 'eval', code: '1' },
    { type: 'selectNode' },
    { type: 'selectNode', nodeName: '' },
    { type: 'selectNode', nodeName: 7 },
    { type: 'selectNode', nodeName: 'x'.repeat(5000) },
    { type: '__proto__' },
  ])
    assert.equal(parseWebviewMessage(bad), undefined, JSON.stringify(bad));
});

test('panel messages are accepted only when well-formed', () => {
  assert.deepEqual(parsePanelMessage({ type: 'ready' }), { type: 'ready' });
  assert.deepEqual(parsePanelMessage({ type: 'reveal', nodeName: 'a', x: 1 }), { type: 'reveal', nodeName: 'a' });
  for (const bad of [undefined, { type: 'reveal' }, { type: 'reveal', nodeName: {} }, { type: 'runAudit' }])
    assert.equal(parsePanelMessage(bad), undefined, JSON.stringify(bad));
});
