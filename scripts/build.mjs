// Bundles every entry point with esbuild: the desktop and web extension hosts with their job workers, the CLI
// and the webviews.
import { execFileSync } from 'node:child_process';
import { build } from 'esbuild';

execFileSync(process.execPath, ['scripts/build-wasm.mjs'], { stdio: 'inherit' });

const production = process.argv.includes('--production');
const common = { bundle: true, sourcemap: !production, minify: production, logLevel: 'warning', target: 'es2022' };

await Promise.all([
  build({
    ...common,
    entryPoints: ['src/host/extension.ts'],
    outfile: 'dist/extension.js',
    platform: 'node',
    format: 'cjs',
    external: ['vscode'],
  }),
  build({
    ...common,
    entryPoints: ['src/host/worker.node.ts'],
    outfile: 'dist/worker.js',
    platform: 'node',
    format: 'cjs',
  }),
  build({
    ...common,
    entryPoints: ['src/host/extension.web.ts'],
    outfile: 'dist/web/extension.js',
    platform: 'browser',
    format: 'cjs',
    external: ['vscode'],
  }),
  build({
    ...common,
    entryPoints: ['src/host/worker.web.ts'],
    outfile: 'dist/web/worker.js',
    platform: 'browser',
    format: 'iife',
  }),
  build({
    ...common,
    entryPoints: ['src/cli/main.ts'],
    outfile: 'dist/cli.js',
    platform: 'node',
    format: 'cjs',
    banner: { js: '#!/usr/bin/env node' },
  }),
  buildWebviews(),
]);

/**
 * The webviews: the model editor, with the code of its layout worker inlined as a string (a webview starts
 * workers from Blob URLs), and the per-layer panel.
 */
async function buildWebviews() {
  const worker = await build({
    ...common,
    sourcemap: false,
    entryPoints: ['media/graph/layout-worker.ts'],
    write: false,
    platform: 'browser',
    format: 'iife',
  });
  const web = { ...common, platform: 'browser', format: 'iife' };
  await Promise.all([
    build({
      ...web,
      entryPoints: ['media/main.ts'],
      outfile: 'dist/webview.js',
      define: { LAYOUT_WORKER_SOURCE: JSON.stringify(worker.outputFiles[0].text) },
    }),
    build({ ...web, entryPoints: ['media/panel.ts'], outfile: 'dist/panel.js' }),
  ]);
}
