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
  build({
    ...common,
    entryPoints: ['media/main.ts'],
    outfile: 'dist/webview.js',
    platform: 'browser',
    format: 'iife',
  }),
]);
