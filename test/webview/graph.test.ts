/** The model editor webview (dist/webview.js) in headless Chromium, driven by protocol messages. */
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import type { GraphView } from '../../src/protocol/graph';
import { openWebview, THEME, type Webview } from './browser';
import { EMBEDDING, handMadeAudit, modelMessage, OCR_REC, SILERO } from './fixtures';
import { syntheticGraph } from './synthetic';
import { launchChromium } from '../fixtures/chromium';

let browser: Browser;
before(async () => {
  browser = await launchChromium();
});
after(() => browser?.close());

const graphView = (page: Page) => page.locator('#graph-view');
const attr = (page: Page, name: string) => graphView(page).getAttribute(name);
const boxes = async (page: Page) => Number(await attr(page, 'data-nodes'));

async function ready(page: Page): Promise<void> {
  await page.waitForSelector('#graph-view[data-state="ready"]');
}

/** Waits for a re-layout to finish with a different number of boxes than before. */
async function boxesChangeFrom(page: Page, before: number): Promise<number> {
  await page.waitForFunction((n) => {
    const view = document.getElementById('graph-view')!;
    return view.dataset.state === 'ready' && Number(view.dataset.nodes) !== n;
  }, before);
  return boxes(page);
}

/** A canvas point inside a box of the given fill (a 7×7 patch of that colour), or undefined. */
function findFill(page: Page, hex: string): Promise<{ x: number; y: number } | undefined> {
  // No named inner functions: the evaluated source must not depend on the test bundler's helpers.
  return page.evaluate((colour) => {
    const canvas = document.getElementById('graph-canvas') as HTMLCanvasElement;
    const { data, width, height } = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height);
    const rgb = [1, 3, 5].map((i) => parseInt(colour.slice(i, i + 2), 16));
    const offsets = [0, 0, -3, -3, 3, 3, -3, 3, 3, -3];
    for (let y = 3; y < height - 3; y += 2) {
      for (let x = 3; x < width - 3; x += 2) {
        let inside = true;
        for (let o = 0; o < offsets.length && inside; o += 2) {
          const k = ((y + offsets[o + 1]!) * width + x + offsets[o]!) * 4;
          inside = data[k] === rgb[0] && data[k + 1] === rgb[1] && data[k + 2] === rgb[2];
        }
        if (inside) return { x, y };
      }
    }
    return undefined;
  }, hex);
}

async function clickCanvas(page: Page, point: { x: number; y: number }): Promise<void> {
  const box = (await page.locator('#graph-canvas').boundingBox())!;
  await page.mouse.click(box.x + point.x, box.y + point.y);
}

async function open(path: string): Promise<{ view: Webview; graph: GraphView }> {
  const view = await openWebview(browser, 'webview.js');
  const message = await modelMessage(path);
  await view.post(message);
  await ready(view.page);
  return { view, graph: message.graph };
}

test('a small model is drawn node by node; the heatmap colours audited, propagated and planned nodes', async () => {
  const { view, graph } = await open(EMBEDDING);
  const { page } = view;
  assert.deepEqual(await view.sent(), [{ type: 'ready' }]);
  assert.equal(await boxes(page), graph.nodes.length, 'a graph of 65 nodes opens expanded');
  assert.equal(await attr(page, 'data-colored'), '0');
  assert.equal(await page.locator('#export-plan').isDisabled(), true);
  assert.equal(await page.locator('#legend').isHidden(), true);

  const audit = handMadeAudit(graph);
  await view.post({ type: 'audit', audit });
  assert.equal(await attr(page, 'data-colored'), String(audit.nodes.length), 'isolated SQNR: the audited nodes');
  assert.equal(await page.locator('#scheme').inputValue(), 'lmul4');
  assert.equal(await page.locator('#legend').isVisible(), true);
  assert.ok(await findFill(page, '#1a9850').then((p) => p === undefined), 'no node is at 60 dB or above');

  await page.selectOption('#metric', 'propagated');
  assert.equal(await attr(page, 'data-colored'), String(graph.nodes.length), 'propagated: every node');
  await page.check('#plan-view');
  const planned = Object.keys(audit.plan.assignment).length;
  assert.equal(await attr(page, 'data-colored'), String(planned), 'plan view: the converted nodes');
  assert.match((await page.locator('#legend').textContent()) ?? '', /e4m3.*exact/);
  await page.uncheck('#plan-view');
  await page.selectOption('#metric', 'isolated');
  await page.selectOption('#scheme', 'e4m3');
  assert.equal(await attr(page, 'data-colored'), String(audit.nodes.length));

  mkdirSync('test-results', { recursive: true });
  await page.screenshot({ path: 'test-results/graph-heatmap-embedding.png' });
  assert.deepEqual(view.errors, []);
  await page.close();
});

test('search highlights, Enter cycles and centres; a click on a node selects it and sends selectNode', async () => {
  const { view, graph } = await open(EMBEDDING);
  const { page } = view;
  await view.post({ type: 'audit', audit: handMadeAudit(graph) });
  const convs = graph.nodes.filter((n) => n.name.toLowerCase().includes('conv') || n.opType === 'Conv');
  await page.fill('#graph-search', 'conv');
  assert.equal(await page.locator('#search-count').textContent(), `${convs.length} found`);
  await page.press('#graph-search', 'Enter');
  assert.equal(await attr(page, 'data-selected'), convs[0]!.name);
  await page.press('#graph-search', 'Enter');
  assert.equal(await attr(page, 'data-selected'), convs[1]!.name);
  assert.equal(await page.locator('#search-count').textContent(), `2 of ${convs.length}`);
  assert.deepEqual((await view.sent()).slice(-2), [
    { type: 'selectNode', nodeName: convs[0]!.name },
    { type: 'selectNode', nodeName: convs[1]!.name },
  ]);

  // The host's reveal selects and centres without echoing selectNode; a click in the centre hits that node.
  const target = convs[5]!;
  await view.post({ type: 'reveal', nodeName: target.name });
  assert.equal(await attr(page, 'data-selected'), target.name);
  const sentBefore = (await view.sent()).length;
  await page.waitForTimeout(50);
  await clickCanvas(page, { x: 600 - (await sideWidth(page)) / 2, y: 400 - (await toolbarHeight(page)) / 2 });
  const sent = await view.sent();
  assert.equal(sent.length, sentBefore + 1);
  assert.deepEqual(sent.at(-1), { type: 'selectNode', nodeName: target.name });
  assert.equal(await page.locator('#details h2').textContent(), target.name);
  const details = (await page.locator('#details').textContent()) ?? '';
  for (const text of ['Conv', 'Weights', 'Isolated SQNR', 'lmul4', 'float32']) assert.ok(details.includes(text), text);
  assert.deepEqual(view.errors, []);
  await page.close();
});

const sideWidth = (page: Page) => page.locator('#side').evaluate((e) => e.getBoundingClientRect().width);
const toolbarHeight = (page: Page) => page.locator('#toolbar').evaluate((e) => e.getBoundingClientRect().height);

test('a large model opens as collapsed groups that expand and collapse on click', async () => {
  const { view, graph } = await open(OCR_REC);
  const { page } = view;
  const collapsed = await boxes(page);
  assert.ok(collapsed > 1 && collapsed <= 120, `${graph.nodes.length} nodes read as ${collapsed} boxes`);
  // Zoom in around the centre (the wheel zooms around the cursor) until group boxes are large enough to hit.
  const canvas = (await page.locator('#graph-canvas').boundingBox())!;
  await page.mouse.move(canvas.x + canvas.width / 2, canvas.y + canvas.height / 2);
  await page.mouse.wheel(0, -800);
  const group = await findFill(page, THEME['--vscode-editorWidget-background']);
  assert.ok(group, 'a collapsed group is drawn');
  await clickCanvas(page, group);
  const expanded = await boxesChangeFrom(page, collapsed);
  assert.ok(expanded > collapsed, `expanding a group shows its members (${collapsed} → ${expanded})`);
  await page.click('#collapse-all');
  assert.equal(await boxesChangeFrom(page, expanded), collapsed);

  const audit = handMadeAudit(graph);
  await view.post({ type: 'audit', audit });
  const colored = Number(await attr(page, 'data-colored'));
  assert.ok(colored > 0 && colored <= collapsed, 'groups carry the worst SQNR of their members');
  await page.keyboard.press('f');
  mkdirSync('test-results', { recursive: true });
  await page.screenshot({ path: 'test-results/graph-heatmap-paddleocr-rec.png' });

  // Enter on a match inside a collapsed group opens the group and selects the node.
  const matmul = graph.nodes.find((n) => n.opType === 'MatMul')!;
  await page.fill('#graph-search', matmul.name);
  await page.press('#graph-search', 'Enter');
  assert.ok((await boxesChangeFrom(page, collapsed)) > collapsed);
  assert.equal(await attr(page, 'data-selected'), matmul.name);
  assert.deepEqual(view.errors, []);
  await page.close();
});

test('If bodies are groups of their own: a node inside a branch can be revealed and shows its graph', async () => {
  const { view, graph } = await open(SILERO);
  const { page } = view;
  const inBody = graph.nodes.find((n) => n.scope !== 0 && n.opType === 'Conv')!;
  const collapsed = await boxes(page);
  await view.post({ type: 'reveal', nodeName: inBody.name });
  assert.ok((await boxesChangeFrom(page, collapsed)) > collapsed);
  assert.equal(await attr(page, 'data-selected'), inBody.name);
  const scope = graph.scopes[inBody.scope]!;
  assert.match((await page.locator('#details').textContent()) ?? '', new RegExp(`Graph${scope.label}`));
  assert.deepEqual(view.errors, []);
  await page.close();
});

test('the audit buttons send runAudit, cancelAudit and exportPlan; progress shows while running', async () => {
  const { view, graph } = await open(EMBEDDING);
  const { page } = view;
  await page.click('#run-audit');
  await view.post({ type: 'auditState', audit: { state: 'running', phase: 'audit', done: 3, total: 10 } });
  assert.equal(await page.locator('#run-audit').isHidden(), true);
  assert.equal(await page.locator('#cancel-audit').isVisible(), true);
  assert.equal(await page.locator('#audit-status').textContent(), 'audit 3/10');
  await page.click('#cancel-audit');
  await view.post({ type: 'auditState', audit: { state: 'cancelled' } });
  assert.equal(await page.locator('#cancel-audit').isHidden(), true);
  assert.equal(await page.locator('#audit-status').textContent(), 'Audit cancelled');
  await view.post({ type: 'audit', audit: handMadeAudit(graph) });
  await page.click('#export-plan');
  assert.deepEqual((await view.sent()).slice(1), [
    { type: 'runAudit' },
    { type: 'cancelAudit' },
    { type: 'exportPlan' },
  ]);
  await page.close();
});

test('names from the model are shown as text, never interpreted as HTML', async () => {
  const view = await openWebview(browser, 'webview.js');
  const { page } = view;
  const evil = '<img src=x onerror="window.__pwned=1">';
  const message = await modelMessage(EMBEDDING);
  const graph: GraphView = {
    ...message.graph,
    nodes: message.graph.nodes.map((n, i) =>
      i === 0
        ? { ...n, name: evil, opType: '<b>op</b>', attributes: [{ name: '<i>a</i>', value: '<script>x</script>' }] }
        : n,
    ),
  };
  await view.post({ ...message, fileName: `${evil}.onnx`, graph });
  await ready(page);
  await view.post({ type: 'reveal', nodeName: evil });
  assert.equal(await page.locator('#details h2').textContent(), evil);
  await view.post({ type: 'error', fileName: evil, title: '<b>bad</b>', message: evil });
  assert.equal(await attr(page, 'data-state'), 'error');
  assert.equal(await page.locator('img, b, i, #details script').count(), 0);
  assert.equal(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned), undefined);
  await page.close();
});

test('a 5,000-node namespaced model opens as one box per layer', async () => {
  const view = await openWebview(browser, 'webview.js');
  const graph = syntheticGraph(100, true);
  await view.post({
    type: 'model',
    fileName: 'synthetic.onnx',
    summary: (await modelMessage(EMBEDDING)).summary,
    graph,
  });
  await ready(view.page);
  assert.equal(graph.nodes.length, 5000);
  assert.equal(await boxes(view.page), 100);
  assert.deepEqual(view.errors, []);
  await view.page.close();
});

test('an audit that arrives before the model colours the graph once it is drawn', async () => {
  const view = await openWebview(browser, 'webview.js');
  const message = await modelMessage(EMBEDDING);
  const audit = handMadeAudit(message.graph);
  await view.post({ type: 'audit', audit });
  await view.post(message);
  await ready(view.page);
  assert.equal(await attr(view.page, 'data-colored'), String(audit.nodes.length));
  assert.equal(await view.page.locator('#export-plan').isEnabled(), true);
  await view.page.close();
});
