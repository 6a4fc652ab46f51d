/** The details pane of the selected node: op, attributes, inputs/outputs, weight statistics, audit metrics. */
import type { ValueView } from '../../src/protocol/graph';
import type { NodeAuditView } from '../../src/protocol/messages';
import { el, table } from '../dom';
import { formatDb, formatEnergy } from './heatmap';
import type { GraphModel } from './model';

export function renderDetails(
  container: HTMLElement,
  model: GraphModel,
  nodeId: number,
  audit: NodeAuditView | undefined,
  planChoice: string,
): void {
  const node = model.node(nodeId);
  const scope = model.view.scopes[node.scope];
  const parts: Node[] = [
    el('h2', {}, node.name),
    table(
      ['Property', 'Value'],
      [
        ['Op type', node.opType],
        ['Domain', node.domain || 'ai.onnx'],
        ['Graph', scope?.label ?? 'main'],
        ...(node.multiplies ? [['Multiplications', node.multiplies]] : []),
      ],
    ),
  ];
  if (node.attributes.length > 0) {
    parts.push(
      el('h3', {}, 'Attributes'),
      table(
        ['Name', 'Value'],
        node.attributes.map((a) => [a.name, a.value]),
      ),
    );
  }
  const values = (ids: readonly number[]) =>
    ids.map((id) => model.value(id)).filter((v): v is ValueView => v !== undefined);
  const valueRows = (list: ValueView[]) => list.map((v) => [v.name, v.kind, v.dtype ?? '?', shapeText(v)]);
  parts.push(el('h3', {}, 'Inputs'), table(['Name', 'Kind', 'Type', 'Shape'], valueRows(values(node.inputs))));
  parts.push(el('h3', {}, 'Outputs'), table(['Name', 'Kind', 'Type', 'Shape'], valueRows(values(node.outputs))));
  const weights = values(node.inputs).filter((v) => v.stats);
  if (weights.length > 0) {
    parts.push(
      el('h3', {}, 'Weights'),
      table(
        ['Name', 'Count', 'Min', 'Max', 'Mean', 'Std', 'Zeros'],
        weights.map((v) => {
          const s = v.stats!;
          return [v.name, String(s.count), num(s.min), num(s.max), num(s.mean), num(s.std), String(s.zeros)];
        }),
      ),
    );
  }
  if (audit) {
    parts.push(
      el('h3', {}, 'Audit'),
      el('p', {}, `${audit.multiplies.toLocaleString('en-US')} multiplications · plan: ${planChoice || 'exact'}`),
      table(
        ['Scheme', 'Isolated SQNR', 'Propagated SQNR', 'Isolated cosine', 'Energy saved'],
        Object.entries(audit.schemes).map(([scheme, m]) => [
          scheme,
          formatDb(m.isolated.sqnrDb),
          formatDb(m.propagated.sqnrDb),
          m.isolated.cosine.toFixed(5),
          `${formatEnergy(m.savedPj)} (${(100 * m.savedFraction).toFixed(1)}%)`,
        ]),
      ),
    );
  }
  container.replaceChildren(...parts);
}

function shapeText(value: ValueView): string {
  return value.shape ? `[${value.shape.map((d) => (d === null ? '?' : String(d))).join(', ')}]` : '?';
}

function num(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toPrecision(4);
}
