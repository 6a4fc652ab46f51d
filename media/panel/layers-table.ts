/**
 * The per-layer error table: one row per audited node (tr[data-node]), columns sortable by clicking their
 * header (th[data-sort]), rows filtered by a text on node name or op type.
 */
import type { AuditView, NodeAuditView } from '../../src/protocol/messages';
import { el } from '../dom';
import { formatDb, formatEnergy } from '../graph/heatmap';

interface Column {
  readonly key: string;
  readonly label: string;
  readonly title: string;
  readonly text: (node: NodeAuditView) => string;
  /** Sort value: numbers compare numerically (NaN last), strings by locale. */
  readonly value: (node: NodeAuditView) => number | string;
}

export interface LayersTable {
  readonly element: HTMLTableElement;
  filter(text: string): void;
  /** Highlights a node's row and scrolls it into view; false if it has none. */
  select(nodeName: string): boolean;
}

export function createLayersTable(audit: AuditView, onRowClick: (nodeName: string) => void): LayersTable {
  const plan = audit.plan.assignment;
  const columns: Column[] = [
    { key: 'name', label: 'Node', title: 'Node name', text: (n) => n.name, value: (n) => n.name },
    { key: 'op', label: 'Op', title: 'Op type', text: (n) => n.opType, value: (n) => n.opType },
    {
      key: 'multiplies',
      label: 'Mults',
      title: 'Multiplications the scheme replaces',
      text: (n) => n.multiplies.toLocaleString('en-US'),
      value: (n) => n.multiplies,
    },
    ...audit.schemes.flatMap((scheme): Column[] =>
      (['isolated', 'propagated'] as const).map((kind) => ({
        key: `${kind}:${scheme}`,
        label: `${kind === 'isolated' ? 'iso' : 'prop'} ${scheme}`,
        title: `${kind} SQNR under ${scheme}`,
        text: (n) => formatDb(n.schemes[scheme]?.[kind].sqnrDb ?? NaN),
        value: (n) => n.schemes[scheme]?.[kind].sqnrDb ?? NaN,
      })),
    ),
    {
      key: 'plan',
      label: 'Plan',
      title: "The plan's scheme",
      text: (n) => plan[n.name] ?? 'exact',
      value: (n) => plan[n.name] ?? 'exact',
    },
    {
      key: 'saved',
      label: 'Saved',
      title: 'Arithmetic energy the plan saves on this node',
      text: (n) => formatEnergy(planSaved(n, plan)),
      value: (n) => planSaved(n, plan),
    },
  ];
  const rows = new Map<string, HTMLTableRowElement>();
  const order = audit.nodes.map((node) => {
    const row = el('tr', { 'data-node': node.name }, ...columns.map((c) => el('td', {}, c.text(node))));
    row.addEventListener('click', () => onRowClick(node.name));
    rows.set(node.name, row);
    return { node, row };
  });
  const body = el('tbody', {}, ...order.map((o) => o.row));
  const headers = columns.map((column) => {
    const th = el(
      'th',
      { 'data-sort': column.key, title: column.title, 'aria-sort': 'none', tabindex: '0' },
      column.label,
    );
    const sort = () => {
      const descending = th.getAttribute('aria-sort') === 'ascending';
      for (const other of headers) other.setAttribute('aria-sort', 'none');
      th.setAttribute('aria-sort', descending ? 'descending' : 'ascending');
      order.sort((a, b) => compare(column.value(a.node), column.value(b.node)) * (descending ? -1 : 1));
      body.append(...order.map((o) => o.row));
    };
    th.addEventListener('click', sort);
    th.addEventListener('keydown', (event) => {
      if (event.key === 'Enter' || event.key === ' ') sort();
    });
    return th;
  });
  const element = el('table', { id: 'layers' }, el('thead', {}, el('tr', {}, ...headers)), body);
  let selected: HTMLTableRowElement | undefined;
  return {
    element,
    filter: (text) => {
      const q = text.trim().toLowerCase();
      for (const { node, row } of order) {
        row.hidden = q !== '' && !node.name.toLowerCase().includes(q) && !node.opType.toLowerCase().includes(q);
      }
    },
    select: (nodeName) => {
      selected?.classList.remove('selected');
      selected?.removeAttribute('aria-selected');
      selected = rows.get(nodeName);
      if (!selected) return false;
      selected.classList.add('selected');
      selected.setAttribute('aria-selected', 'true');
      selected.scrollIntoView({ block: 'nearest' });
      return true;
    },
  };
}

function planSaved(node: NodeAuditView, plan: Readonly<Record<string, string>>): number {
  const scheme = plan[node.name];
  return scheme ? (node.schemes[scheme]?.savedPj ?? 0) : 0;
}

/** Numbers ascending with NaN last; strings in locale order. */
function compare(a: number | string, b: number | string): number {
  if (typeof a === 'string' || typeof b === 'string') return String(a).localeCompare(String(b));
  if (Number.isNaN(a)) return Number.isNaN(b) ? 0 : 1;
  if (Number.isNaN(b)) return -1;
  return a === b ? 0 : a < b ? -1 : 1;
}
