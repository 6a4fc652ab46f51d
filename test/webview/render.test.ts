import assert from 'node:assert/strict';
import { test } from 'node:test';
import { renderError, renderModel } from '../../media/render';
import { summarizeModel } from '../../src/onnx';
import { loadModelFile } from '../../src/onnx/node-fs';

test('the model page lists properties, inputs, operators and multiply-bearing nodes', async () => {
  const model = await loadModelFile('node_modules/@ricky0123/vad-web/dist/silero_vad_v5.onnx');
  const html = renderModel('silero_vad_v5.onnx', summarizeModel(model));
  assert.match(html, /<h1>silero_vad_v5\.onnx<\/h1>/);
  for (const input of ['input', 'state', 'sr']) assert.match(html, new RegExp(`<td>${input}</td>`));
  assert.match(html, /<td>If<\/td>/);
  assert.match(html, /<h2>Multiply-bearing nodes<\/h2>/);
});

test('names and messages from a file are escaped, never interpreted as HTML', () => {
  const html = renderError('<img src=x onerror=alert(1)>.onnx', 'Bad <model>', 'tensor "a&b" is <broken>');
  assert.doesNotMatch(html, /<img|<model>|<broken>/);
  assert.match(html, /&#60;img src=x onerror=alert\(1\)&#62;\.onnx/);
  assert.match(html, /role="alert"/);
});
