/** Pure HTML rendering of the model page (kept apart from the VS Code API so a browser test can drive it). */
import type { ModelSummary, ValueSummary } from '../src/onnx/inspect';

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function shapeText(value: ValueSummary): string {
  if (!value.shape) return '?';
  return `[${value.shape.map((d) => (d === null ? '?' : String(d))).join(', ')}]`;
}

function table(headers: string[], rows: string[][]): string {
  const head = headers.map((h) => `<th>${escapeHtml(h)}</th>`).join('');
  const body = rows.map((r) => `<tr>${r.map((c) => `<td>${escapeHtml(c)}</td>`).join('')}</tr>`).join('');
  return `<table><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table>`;
}

export function renderModel(fileName: string, summary: ModelSummary): string {
  const facts: string[][] = [
    ['IR version', String(summary.irVersion)],
    ['Opsets', summary.opsets.map((o) => `${o.domain || 'ai.onnx'} ${o.version}`).join(', ')],
    ['Producer', `${summary.producer.name} ${summary.producer.version}`.trim() || '–'],
    [
      'Nodes',
      `${summary.nodes.main} in the main graph, ${summary.nodes.subgraph} in ${summary.nodes.subgraphs} subgraphs, ${summary.nodes.function} in functions`,
    ],
    [
      'Parameters',
      `${summary.parameters.elements.toLocaleString('en-US')} (${summary.parameters.bytes.toLocaleString('en-US')} bytes)`,
    ],
    [
      'Multiply-bearing nodes',
      `${summary.multiplyCounts.multiply} always replaced, ${summary.multiplyCounts.normalization} normalisation scales, ` +
        `${summary.multiplyCounts.activation} activations`,
    ],
  ];
  const values = (list: ValueSummary[]) => list.map((v) => [v.name, v.type, shapeText(v)]);
  return [
    `<h1>${escapeHtml(fileName)}</h1>`,
    table(['Property', 'Value'], facts),
    '<h2>Inputs</h2>',
    table(['Name', 'Type', 'Shape'], values(summary.inputs)),
    '<h2>Outputs</h2>',
    table(['Name', 'Type', 'Shape'], values(summary.outputs)),
    '<h2>Operators</h2>',
    table(
      ['Op type', 'Domain', 'Count'],
      summary.opTypes.map((o) => [o.opType, o.domain || 'ai.onnx', String(o.total)]),
    ),
    '<h2>Multiply-bearing nodes</h2>',
    table(
      ['Node', 'Op type', 'Category', 'Replaced by default'],
      summary.multiplyNodes.map((n) => [n.name, n.opType, n.category, n.onByDefault ? 'yes' : 'no']),
    ),
  ].join('\n');
}

export function renderError(fileName: string, title: string, message: string): string {
  return `<div class="error" role="alert"><h1>${escapeHtml(title)}</h1><p>${escapeHtml(fileName)}</p><pre>${escapeHtml(message)}</pre></div>`;
}
