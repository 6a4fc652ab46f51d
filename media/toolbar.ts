/** The editor's toolbar: search, overlay settings, fit, and the audit buttons with their progress text. */
import type { AuditState } from '../src/protocol/messages';
import { el } from './dom';
import type { MetricKind, Overlay } from './graph/heatmap';

export interface Toolbar {
  readonly element: HTMLElement;
  readonly search: HTMLInputElement;
  readonly searchCount: HTMLElement;
  readonly fit: HTMLButtonElement;
  readonly expandAll: HTMLButtonElement;
  readonly collapseAll: HTMLButtonElement;
  readonly metric: HTMLSelectElement;
  readonly scheme: HTMLSelectElement;
  readonly plan: HTMLInputElement;
  readonly runAudit: HTMLButtonElement;
  readonly cancelAudit: HTMLButtonElement;
  readonly exportPlan: HTMLButtonElement;
  readonly status: HTMLElement;
}

export function createToolbar(): Toolbar {
  const search = el('input', {
    id: 'graph-search',
    type: 'search',
    placeholder: 'Search name or op (Enter: next)',
    'aria-label': 'Search nodes by name or op type',
  });
  const metric = el(
    'select',
    { id: 'metric', 'aria-label': 'Heatmap metric' },
    el('option', { value: 'isolated' }, 'Isolated SQNR'),
    el('option', { value: 'propagated' }, 'Propagated SQNR'),
  );
  const scheme = el('select', { id: 'scheme', 'aria-label': 'Scheme', disabled: '' });
  const plan = el('input', { id: 'plan-view', type: 'checkbox', disabled: '' });
  const button = (id: string, text: string, title: string) => el('button', { id, type: 'button', title }, text);
  const toolbar: Toolbar = {
    element: el('div', { id: 'toolbar', role: 'toolbar' }),
    search,
    searchCount: el('span', { id: 'search-count', class: 'muted' }),
    fit: button('fit', 'Fit', 'Fit the graph to the window (F)'),
    expandAll: button('expand-all', 'Expand all', 'Open every group'),
    collapseAll: button('collapse-all', 'Collapse all', 'Close every group'),
    metric,
    scheme,
    plan,
    runAudit: button('run-audit', 'Run audit', 'Audit every multiply-bearing node under the configured schemes'),
    cancelAudit: button('cancel-audit', 'Cancel', 'Stop the running audit'),
    exportPlan: button('export-plan', 'Export plan', 'Save the conversion plan'),
    status: el('span', { id: 'audit-status', class: 'muted', role: 'status' }),
  };
  toolbar.cancelAudit.hidden = true;
  toolbar.exportPlan.disabled = true;
  toolbar.element.append(
    search,
    toolbar.searchCount,
    toolbar.fit,
    toolbar.expandAll,
    toolbar.collapseAll,
    el('span', { class: 'separator' }),
    metric,
    scheme,
    el('label', { for: 'plan-view' }, plan, ' Plan view'),
    el('span', { class: 'separator' }),
    toolbar.runAudit,
    toolbar.cancelAudit,
    toolbar.exportPlan,
    toolbar.status,
  );
  return toolbar;
}

export function readOverlay(toolbar: Toolbar): Overlay {
  return {
    metric: toolbar.metric.value as MetricKind,
    scheme: toolbar.scheme.value,
    plan: toolbar.plan.checked,
  };
}

/** Fills the scheme list from an audit, keeping the current choice if it is still there. */
export function setSchemes(toolbar: Toolbar, schemes: readonly string[]): void {
  const current = toolbar.scheme.value;
  toolbar.scheme.replaceChildren(...schemes.map((s) => el('option', { value: s }, s)));
  if (schemes.includes(current)) toolbar.scheme.value = current;
  toolbar.scheme.disabled = false;
  toolbar.plan.disabled = false;
  toolbar.exportPlan.disabled = false;
}

export function showAuditState(toolbar: Toolbar, state: AuditState): void {
  const running = state.state === 'running';
  toolbar.runAudit.hidden = running;
  toolbar.cancelAudit.hidden = !running;
  switch (state.state) {
    case 'running':
      toolbar.status.textContent = `${state.phase} ${state.done}/${state.total}`;
      break;
    case 'failed':
      toolbar.status.textContent = `Audit failed: ${state.message}`;
      break;
    case 'cancelled':
      toolbar.status.textContent = 'Audit cancelled';
      break;
    case 'idle':
      toolbar.status.textContent = '';
      break;
  }
}
