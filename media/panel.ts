/**
 * Per-layer error panel entry (a WebviewView in VS Code's panel area): the audited nodes as a sortable,
 * filterable table. Receives HostToPanel and sends PanelToHost (src/protocol/messages.ts).
 */
import type { HostToPanel, PanelToHost } from '../src/protocol/messages';
import { el } from './dom';
import { formatDb } from './graph/heatmap';
import { createLayersTable, type LayersTable } from './panel/layers-table';
import { PANEL_STYLES } from './panel/styles';

declare function acquireVsCodeApi(): { postMessage(message: PanelToHost): void };

const vscode = acquireVsCodeApi();
const style = document.createElement('style');
style.textContent = PANEL_STYLES;
document.head.appendChild(style);

const filter = el('input', {
  id: 'layer-filter',
  type: 'search',
  placeholder: 'Filter by node or op',
  'aria-label': 'Filter layers by node name or op type',
});
const summary = el('p', { id: 'summary', class: 'muted' });
const content = el('div', { id: 'layers-content' });
const root = document.getElementById('root') ?? document.body;
root.replaceChildren(el('div', { id: 'panel-toolbar' }, filter, summary), content);
let table: LayersTable | undefined;
let pendingSelect = '';

function showEmpty(text: string): void {
  table = undefined;
  summary.textContent = '';
  content.replaceChildren(el('p', { id: 'empty', class: 'muted' }, text));
}

window.addEventListener('message', (event: MessageEvent<HostToPanel>) => {
  const data = event.data;
  switch (data.type) {
    case 'audit': {
      if (!data.audit) {
        showEmpty(`No audit of ${data.modelName || 'this model'} yet: run one from the model editor (Run audit).`);
        break;
      }
      const audit = data.audit;
      table = createLayersTable(audit, (nodeName) => vscode.postMessage({ type: 'reveal', nodeName }));
      const plan = audit.plan;
      summary.textContent =
        `${data.modelName} · ${audit.nodes.length} audited nodes · ${audit.settings} · plan (${plan.budget}): ` +
        `${Object.keys(plan.assignment).length} converted, ${(100 * plan.savedFraction).toFixed(1)}% energy saved, ` +
        `value ${plan.value === null ? '–' : plan.budget.startsWith('sqnr') ? formatDb(plan.value) : plan.value.toFixed(4)}` +
        `${plan.meetsBudget ? '' : ' (budget not met)'}`;
      content.replaceChildren(table.element);
      table.filter(filter.value);
      if (pendingSelect) table.select(pendingSelect);
      break;
    }
    case 'select':
      pendingSelect = data.nodeName;
      table?.select(data.nodeName);
      break;
  }
});

filter.addEventListener('input', () => table?.filter(filter.value));
showEmpty('No audit yet.');
vscode.postMessage({ type: 'ready' });
