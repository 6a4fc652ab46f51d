/**
 * The graph webview at scale: a synthetic 5,000-node transformer-like graph (namespaced, and flat without
 * namespaces) opened in headless Chromium from dist/webview.js. Measures the time from the `model` message to
 * the first paint (data-state "ready"), the time to expand every group, and the drawing time and frame interval
 * during a scripted pan, zoomed to fit (everything visible, no text) and at 100% (culling, text). Writes the
 * "## Graph webview" section at the end of bench/RESULTS.md.
 *
 * Run: node scripts/build.mjs && npx tsx bench/graph-bench.ts
 */
import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import type { Page } from 'playwright-core';
import { openWebview } from '../test/webview/browser';
import { EMBEDDING, modelMessage } from '../test/webview/fixtures';
import { syntheticGraph } from '../test/webview/synthetic';
import { launchChromium } from '../test/fixtures/chromium';

const PAN_STEPS = 120;
const RESULTS = 'bench/RESULTS.md';
const HEADING = '## Graph webview';

interface Frames {
  readonly drawMedian: number;
  readonly drawP95: number;
  readonly intervalMedian: number;
  readonly intervalP95: number;
}

function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

/** Time from posting a message to the view's next data-state="ready", measured inside the page. */
function timeToReady(page: Page, message: unknown, click?: string): Promise<number> {
  return page.evaluate(
    ({ message, click }) =>
      new Promise<number>((resolve) => {
        const view = document.getElementById('graph-view')!;
        const started = performance.now();
        let seenLoading = false;
        const observer = new MutationObserver(() => {
          if (view.dataset.state === 'loading') seenLoading = true;
          if (seenLoading && view.dataset.state === 'ready') {
            observer.disconnect();
            resolve(performance.now() - started);
          }
        });
        observer.observe(view, { attributes: true, attributeFilter: ['data-state'] });
        if (click) document.getElementById(click)!.click();
        else window.postMessage(message, '*');
      }),
    { message, click },
  );
}

/** Drags the canvas in a circle, one frame per step; returns drawing times and intervals between frames. */
async function pan(page: Page): Promise<Frames> {
  const box = (await page.locator('#graph-canvas').boundingBox())!;
  const [cx, cy] = [box.x + box.width / 2, box.y + box.height / 2];
  await page.mouse.move(cx, cy);
  await page.mouse.down();
  const draws: number[] = [];
  const stamps: number[] = [];
  for (let i = 0; i < PAN_STEPS; i++) {
    const angle = (2 * Math.PI * i) / PAN_STEPS;
    await page.mouse.move(cx + 200 * Math.sin(angle), cy + 150 * (1 - Math.cos(angle)));
    const frame = await page.evaluate(
      () =>
        new Promise<[number, number]>((resolve) =>
          requestAnimationFrame((t) => resolve([Number(document.getElementById('graph-view')!.dataset.frameMs), t])),
        ),
    );
    draws.push(frame[0]);
    stamps.push(frame[1]);
  }
  await page.mouse.up();
  const intervals = stamps.slice(1).map((t, i) => t - stamps[i]!);
  return {
    drawMedian: quantile(draws, 0.5),
    drawP95: quantile(draws, 0.95),
    intervalMedian: quantile(intervals, 0.5),
    intervalP95: quantile(intervals, 0.95),
  };
}

async function main(): Promise<void> {
  const browser = await launchChromium();
  const summary = (await modelMessage(EMBEDDING)).summary;
  const rows: string[] = [];
  for (const namespaced of [true, false]) {
    const graph = syntheticGraph(100, namespaced);
    const view = await openWebview(browser, 'webview.js');
    const { page } = view;
    const paint = await timeToReady(page, { type: 'model', fileName: 'synthetic.onnx', summary, graph });
    const collapsedBoxes = await page.locator('#graph-view').getAttribute('data-nodes');
    const collapsedPan = await pan(page);
    const expand = await timeToReady(page, undefined, 'expand-all');
    const expandedBoxes = await page.locator('#graph-view').getAttribute('data-nodes');
    const fitPan = await pan(page);
    // 100% zoom: culling to the viewport, with text.
    await page.evaluate(() => document.getElementById('graph-search')!.focus());
    await page.fill('#graph-search', graph.nodes[2500]!.name);
    await page.press('#graph-search', 'Enter');
    await page.locator('#graph-canvas').focus();
    const closePan = await pan(page);
    if (view.errors.length > 0) throw new Error(`page errors: ${view.errors.join('; ')}`);
    const frames = (f: Frames) =>
      `${f.drawMedian.toFixed(1)} / ${f.drawP95.toFixed(1)} ms (interval ${f.intervalMedian.toFixed(1)} / ${f.intervalP95.toFixed(1)})`;
    rows.push(
      `| ${namespaced ? 'namespaced' : 'flat'} | ${graph.nodes.length} | ${collapsedBoxes} | **${paint.toFixed(0)} ms** | ` +
        `${frames(collapsedPan)} | ${expandedBoxes} in ${expand.toFixed(0)} ms | ${frames(fitPan)} | ${frames(closePan)} |`,
    );
    console.log(rows.at(-1));
    await page.close();
  }
  await browser.close();
  const section = [
    HEADING,
    '',
    `Command: \`node scripts/build.mjs && npx tsx bench/graph-bench.ts\` — ${new Date().toISOString().slice(0, 10)}, ` +
      `${os.cpus().length} × ${os.cpus()[0]?.model.trim() ?? 'CPU'}, headless Chromium (software rendering), 1200×800.`,
    '',
    'A synthetic 100-layer transformer-like graph of 5,000 nodes, with namespaced names (`/encoder/layer.3/attention/query/MatMul`)',
    'or flat ones (`MatMul_1234`, grouped in blocks of execution order). "paint": `model` message to the first',
    `painted frame (layout in the worker included). Pan: ${PAN_STEPS} drag steps, one frame each; drawing time median /`,
    "p95, and in brackets the interval between frames (median / p95; it includes the driver's round trip per step and",
    'the display refresh, so it bounds the frame rate from below). Target: paint < 1.5 s.',
    '',
    '| graph | nodes | boxes at open | paint | pan (collapsed, fit) | expand all | pan (all nodes, fit: no text) | pan (all nodes, 100%: culled, text) |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
    ...rows,
    '',
  ].join('\n');
  const current = readFileSync(RESULTS, 'utf8');
  const at = current.indexOf(HEADING);
  writeFileSync(RESULTS, `${(at < 0 ? current : current.slice(0, at)).trimEnd()}\n\n${section}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
