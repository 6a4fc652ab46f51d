/**
 * Model editor webview entry: the graph view (canvas, layout worker, heatmap), its toolbar, the details of
 * the selected node and the model properties. Receives HostToWebview and sends WebviewToHost
 * (src/protocol/messages.ts).
 */
import type { HostToWebview, WebviewToHost } from '../src/protocol/messages';
import { el } from './dom';
import { renderDetails } from './graph/details';
import { GraphViewController } from './graph/graph-view';
import { renderLegend } from './legend';
import { renderError, renderModel } from './render';
import { STYLES } from './styles';
import { onThemeChange, readTheme } from './theme';
import { createToolbar, readOverlay, setSchemes, showAuditState } from './toolbar';

declare function acquireVsCodeApi(): { postMessage(message: WebviewToHost): void };

const vscode = acquireVsCodeApi();
const style = document.createElement('style');
style.textContent = STYLES;
document.head.appendChild(style);

const toolbar = createToolbar();
const canvas = el('canvas', { id: 'graph-canvas', tabindex: '0', 'aria-label': 'Model graph' });
const legend = el('div', { id: 'legend', hidden: '' });
const message = el('div', { id: 'graph-message', role: 'alert' });
const container = el('div', { id: 'graph-view' }, canvas, legend, message);
const details = el('section', { id: 'details' }, el('p', { class: 'muted' }, 'Click a node to see its details.'));
const properties = el('div', { id: 'properties-body' });
const side = el(
  'aside',
  { id: 'side' },
  details,
  el('details', { id: 'properties' }, el('summary', {}, 'Model properties'), properties),
);
const root = document.getElementById('root') ?? document.body;
root.replaceChildren(toolbar.element, el('div', { id: 'content' }, container, side));

const graph = new GraphViewController(container, canvas, {
  onSelect: (nodeName) => vscode.postMessage({ type: 'selectNode', nodeName }),
  onDetails: (nodeId) => {
    const model = graph.model;
    if (!model || nodeId < 0) return;
    const { audit, plan } = graph.nodeAudit(nodeId);
    renderDetails(details, model, nodeId, audit, plan);
  },
});
let schemes: readonly string[] | undefined;

window.addEventListener('message', (event: MessageEvent<HostToWebview>) => {
  const data = event.data;
  switch (data.type) {
    case 'loading':
      message.textContent = `Loading ${data.fileName}…`;
      graph.showLoading();
      break;
    case 'model':
      message.textContent = '';
      properties.innerHTML = renderModel(data.fileName, data.summary);
      graph.setModel(data.graph);
      break;
    case 'error':
      message.innerHTML = renderError(data.fileName, data.title, data.message);
      graph.showError();
      break;
    case 'auditState':
      showAuditState(toolbar, data.audit);
      break;
    case 'audit':
      schemes = data.audit.schemes;
      setSchemes(toolbar, schemes);
      showAuditState(toolbar, { state: 'idle' });
      graph.setOverlay(readOverlay(toolbar));
      graph.setAudit(data.audit);
      renderLegend(legend, schemes, toolbar.plan.checked);
      break;
    case 'reveal':
      graph.reveal(data.nodeName);
      break;
  }
});

const onOverlay = () => {
  graph.setOverlay(readOverlay(toolbar));
  renderLegend(legend, schemes, toolbar.plan.checked);
};
toolbar.metric.addEventListener('change', onOverlay);
toolbar.scheme.addEventListener('change', onOverlay);
toolbar.plan.addEventListener('change', onOverlay);
toolbar.fit.addEventListener('click', () => graph.renderer.fit());
toolbar.expandAll.addEventListener('click', () => graph.expandAll(true));
toolbar.collapseAll.addEventListener('click', () => graph.expandAll(false));
toolbar.runAudit.addEventListener('click', () => vscode.postMessage({ type: 'runAudit' }));
toolbar.cancelAudit.addEventListener('click', () => vscode.postMessage({ type: 'cancelAudit' }));
toolbar.exportPlan.addEventListener('click', () => vscode.postMessage({ type: 'exportPlan' }));
toolbar.search.addEventListener('input', () => {
  const count = graph.search(toolbar.search.value);
  toolbar.searchCount.textContent = toolbar.search.value.trim() ? `${count} found` : '';
});
toolbar.search.addEventListener('keydown', (event) => {
  if (event.key !== 'Enter') return;
  event.preventDefault();
  const position = graph.nextMatch();
  if (position > 0) toolbar.searchCount.textContent = `${position} of ${graph.matchCount}`;
});

// Pan by dragging, click (a press that does not move) to select or open, zoom around the cursor.
let drag: { x: number; y: number; moved: boolean } | undefined;
canvas.addEventListener('pointerdown', (event) => {
  canvas.setPointerCapture(event.pointerId);
  drag = { x: event.clientX, y: event.clientY, moved: false };
});
canvas.addEventListener('pointermove', (event) => {
  if (!drag) return;
  const dx = event.clientX - drag.x;
  const dy = event.clientY - drag.y;
  if (!drag.moved && Math.abs(dx) + Math.abs(dy) < 4) return;
  drag = { x: event.clientX, y: event.clientY, moved: true };
  graph.renderer.panBy(dx, dy);
});
canvas.addEventListener('pointerup', (event) => {
  const click = drag && !drag.moved;
  drag = undefined;
  if (!click) return;
  const rect = canvas.getBoundingClientRect();
  graph.click(event.clientX - rect.left, event.clientY - rect.top);
});
canvas.addEventListener(
  'wheel',
  (event) => {
    event.preventDefault();
    const rect = canvas.getBoundingClientRect();
    graph.renderer.zoomAt(event.clientX - rect.left, event.clientY - rect.top, Math.exp(-event.deltaY * 0.0015));
  },
  { passive: false },
);
document.addEventListener('keydown', (event) => {
  if (event.target instanceof HTMLInputElement || event.target instanceof HTMLSelectElement) return;
  const centre = () => ({ x: canvas.clientWidth / 2, y: canvas.clientHeight / 2 });
  if (event.key === 'f' || event.key === 'F') graph.renderer.fit();
  else if (event.key === '+' || event.key === '=') graph.renderer.zoomAt(centre().x, centre().y, 1.25);
  else if (event.key === '-') graph.renderer.zoomAt(centre().x, centre().y, 0.8);
  else if (event.key === '/') {
    event.preventDefault();
    toolbar.search.focus();
  }
});
new ResizeObserver(() => graph.renderer.invalidate()).observe(canvas);
onThemeChange(() => graph.renderer.setTheme(readTheme()));

vscode.postMessage({ type: 'ready' });
