/** The per-layer error panel (dist/panel.js) in headless Chromium. */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import type { AuditView } from '../../src/protocol/messages';
import { openWebview, type Webview } from './browser';
import { EMBEDDING, handMadeAudit, modelMessage } from './fixtures';
import { launchChromium } from '../fixtures/chromium';

let browser: Browser;
let audit: AuditView;
before(async () => {
  browser = await launchChromium();
  audit = handMadeAudit((await modelMessage(EMBEDDING)).graph);
});
after(() => browser?.close());

const rowNames = (page: Page) =>
  page.locator('#layers tbody tr:not([hidden])').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-node')));

async function openPanel(withAudit: AuditView | null): Promise<Webview> {
  const view = await openWebview(browser, 'panel.js', { width: 1000, height: 400 });
  await view.post({ type: 'audit', modelName: 'embedding_model.onnx', audit: withAudit });
  return view;
}

test('without an audit the panel shows an empty state', async () => {
  const view = await openPanel(null);
  assert.deepEqual(await view.sent(), [{ type: 'ready' }]);
  assert.match((await view.page.locator('#empty').textContent()) ?? '', /No audit of embedding_model\.onnx/);
  assert.equal(await view.page.locator('#layers').count(), 0);
  await view.page.close();
});

test('the table lists the audited nodes and sorts by a column, ascending then descending', async () => {
  const view = await openPanel(audit);
  const { page } = view;
  assert.deepEqual(
    await rowNames(page),
    audit.nodes.map((n) => n.name),
  );
  const headers = await page.locator('th[data-sort]').evaluateAll((ths) => ths.map((t) => t.getAttribute('data-sort')));
  assert.deepEqual(headers, [
    'name',
    'op',
    'multiplies',
    'isolated:lmul4',
    'propagated:lmul4',
    'isolated:e4m3',
    'propagated:e4m3',
    'plan',
    'saved',
  ]);
  const byIsolated = [...audit.nodes].sort(
    (a, b) => a.schemes.lmul4!.isolated.sqnrDb - b.schemes.lmul4!.isolated.sqnrDb,
  );
  await page.click('th[data-sort="isolated:lmul4"]');
  assert.deepEqual(
    await rowNames(page),
    byIsolated.map((n) => n.name),
  );
  assert.equal(await page.locator('th[data-sort="isolated:lmul4"]').getAttribute('aria-sort'), 'ascending');
  await page.click('th[data-sort="isolated:lmul4"]');
  assert.deepEqual(await rowNames(page), byIsolated.map((n) => n.name).reverse());
  await page.click('th[data-sort="multiplies"]');
  assert.equal(await page.locator('#layers tbody tr').first().getAttribute('data-node'), audit.nodes[0]!.name);
  const first = page.locator('#layers tbody tr').first().locator('td');
  assert.equal(await first.nth(2).textContent(), '1,000');
  assert.equal(await first.nth(7).textContent(), 'e4m3', 'the plan converts the first node');
  await page.close();
});

test('the filter matches node names and op types; a row click sends reveal; select highlights a row', async () => {
  const view = await openPanel(audit);
  const { page } = view;
  const target = audit.nodes[3]!;
  await page.fill('#layer-filter', target.name.toUpperCase());
  assert.deepEqual(await rowNames(page), [target.name]);
  await page.fill('#layer-filter', 'conv');
  assert.equal((await rowNames(page)).length, audit.nodes.filter((n) => /conv/i.test(n.name + n.opType)).length);
  await page.fill('#layer-filter', 'no such layer');
  assert.deepEqual(await rowNames(page), []);
  await page.fill('#layer-filter', '');
  await page.click(`tr[data-node="${target.name}"]`);
  assert.deepEqual((await view.sent()).at(-1), { type: 'reveal', nodeName: target.name });

  const last = audit.nodes.at(-1)!;
  await view.post({ type: 'select', nodeName: last.name });
  const row = page.locator(`tr[data-node="${last.name}"]`);
  assert.equal(await row.getAttribute('aria-selected'), 'true');
  assert.ok(await row.isVisible());
  assert.equal(await page.locator('tr.selected').count(), 1);
  await page.close();
});

test('node names in the table are text, never HTML', async () => {
  const evil = '<img src=x onerror="window.__pwned=1">';
  const view = await openPanel({ ...audit, nodes: [{ ...audit.nodes[0]!, name: evil, opType: '<b>Conv</b>' }] });
  const { page } = view;
  assert.equal(await page.locator('#layers tbody td').first().textContent(), evil);
  assert.equal(await page.locator('#layers img, #layers b').count(), 0);
  assert.equal(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned), undefined);
  assert.deepEqual(view.errors, []);
  await page.close();
});
