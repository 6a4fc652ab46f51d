/**
 * Headless Chromium for the webview tests: a page that loads a built bundle (dist/webview.js or dist/panel.js)
 * under the CSP the host uses (plus worker-src blob:), with acquireVsCodeApi stubbed to record messages.
 * Chromium is required: a missing browser fails the tests.
 */
import { existsSync, readFileSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';

const ORIGIN = 'http://webview.test';
/** The webview CSP of src/host/webviewHtml.ts with the worker source the graph view needs. */
export const WEBVIEW_CSP = "default-src 'none'; style-src 'unsafe-inline'; script-src 'nonce-test'; worker-src blob:;";

/** Distinct theme colours, so tests can find boxes on the canvas by their pixels. */
export const THEME = {
  '--vscode-editor-background': '#1e1e1e',
  '--vscode-editor-foreground': '#d4d4d4',
  '--vscode-sideBar-background': '#203040',
  '--vscode-editorWidget-background': '#402030',
  '--vscode-focusBorder': '#0090f0',
  '--vscode-panel-border': '#444444',
};

export interface Webview {
  readonly page: Page;
  /** Uncaught errors and CSP violations reported by the page. */
  readonly errors: string[];
  post(message: unknown): Promise<void>;
  /** Messages the page posted to the host so far. */
  sent(): Promise<unknown[]>;
}

export async function openWebview(
  browser: Browser,
  bundle: 'webview.js' | 'panel.js',
  viewport = { width: 1200, height: 800 },
): Promise<Webview> {
  const path = `dist/${bundle}`;
  if (!existsSync(path)) throw new Error(`${path} is missing: build first (node scripts/build.mjs)`);
  const page = await browser.newPage({ viewport, deviceScaleFactor: 1 });
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  const theme = Object.entries(THEME)
    .map(([name, value]) => `${name}: ${value};`)
    .join(' ');
  const html = `<!DOCTYPE html><html lang="en"><head><meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${WEBVIEW_CSP}">
<style>body { ${theme} }</style>
<script nonce="test">
window.__sent = [];
window.acquireVsCodeApi = () => ({ postMessage: (m) => window.__sent.push(JSON.parse(JSON.stringify(m))) });
</script></head>
<body><main id="root"></main><script nonce="test" src="${ORIGIN}/${bundle}"></script></body></html>`;
  await page.route(`${ORIGIN}/**`, (route) => {
    const url = route.request().url();
    if (url.endsWith(`/${bundle}`)) {
      return route.fulfill({ contentType: 'text/javascript', body: readFileSync(path, 'utf8') });
    }
    return route.fulfill({ contentType: 'text/html', body: html });
  });
  await page.goto(`${ORIGIN}/index.html`);
  await page.waitForFunction(() => (window as unknown as { __sent: unknown[] }).__sent.length > 0);
  return {
    page,
    errors,
    // Dispatched synchronously (window.postMessage would deliver after evaluate returns, racing the assertions).
    post: (message) =>
      page.evaluate((m) => void window.dispatchEvent(new MessageEvent('message', { data: m })), message),
    sent: () => page.evaluate(() => (window as unknown as { __sent: unknown[] }).__sent),
  };
}
