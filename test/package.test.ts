/** The .vsix holds exactly the bundles the manifest and the host load, and nothing else (no sources, maps or node_modules). */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

test('vsce packs the entry points, both job workers and both webview bundles', () => {
  const vsce = require.resolve('@vscode/vsce/vsce');
  const listed = execFileSync(process.execPath, [vsce, 'ls', '--no-dependencies'], { encoding: 'utf8' })
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean)
    .sort();
  const manifest = JSON.parse(readFileSync('package.json', 'utf8'));
  const entry = (path: string) => path.replace(/^\.\//, '');
  const expected = [
    'LICENSE',
    'README.md',
    'package.json',
    entry(manifest.main),
    entry(manifest.browser),
    'dist/worker.js', // src/host/extension.ts starts it
    'dist/web/worker.js', // src/host/extension.web.ts starts it
    'dist/webview.js', // the model editor
    'dist/panel.js', // the per-layer panel
    'dist/cli.js',
  ].sort();
  assert.deepEqual(listed, expected);
});
