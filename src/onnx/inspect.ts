/**
 * `lmul-audit inspect`: the facts about a model that matter before an audit, as a JSON-able summary
 * and as a terminal report. Counts cover the main graph, nested subgraphs and function bodies, kept
 * apart so a model with control flow is not mistaken for a bigger one.
 */
import type { DType } from './dtype';
import {
  subgraphsOf,
  type Dim,
  type Graph,
  type Node,
  type OnnxModel,
  type OpsetImport,
  type ValueInfo,
  type ValueType,
} from './model';
import { elementCount, rawByteLength, type Tensor } from './tensor';

export interface FileInfo {
  readonly path: string;
  readonly sizeBytes: number;
}

/** Where a node lives: the main graph, a subgraph of a control-flow node, or a function body. */
export type NodeLocation = 'main' | 'subgraph' | 'function';

/**
 * SPEC §6 groups: `multiply` ops are always replaced by the audited scheme, `normalization` scales
 * are replaced by default, `activation` multiplies only on request.
 */
export type MultiplyCategory = 'multiply' | 'normalization' | 'activation';

/**
 * Multiplications per output element that an activation op's kernel takes as scheme products when
 * activations are replaced (SPEC §6): alpha·x (LeakyRelu, Elu, Celu, HardSigmoid), slope·x (PRelu), gamma
 * and alpha (Selu), x·gate(x) (Gelu, Mish, Swish), HardSwish's x/6 and x·gate, SwiGLU's gate and ·b. Softmax
 * and LogSoftmax divide and take exponentials: nothing to replace.
 */
export const ACTIVATION_PRODUCTS_PER_ELEMENT: Readonly<Record<string, number>> = {
  LeakyRelu: 1,
  PRelu: 1,
  Elu: 1,
  Selu: 2,
  Celu: 1,
  HardSigmoid: 1,
  HardSwish: 2,
  Gelu: 1,
  Mish: 1,
  Swish: 1,
  SwiGLU: 2,
};

const OPS_BY_CATEGORY: Record<MultiplyCategory, readonly string[]> = {
  multiply: ['MatMul', 'Gemm', 'Conv', 'ConvTranspose', 'Einsum', 'Attention', 'Mul'],
  normalization: [
    'BatchNormalization',
    'LayerNormalization',
    'InstanceNormalization',
    'GroupNormalization',
    'RMSNormalization',
  ],
  activation: Object.keys(ACTIVATION_PRODUCTS_PER_ELEMENT),
};

const MULTIPLY_OPS: ReadonlyMap<string, MultiplyCategory> = new Map(
  (Object.entries(OPS_BY_CATEGORY) as [MultiplyCategory, readonly string[]][]).flatMap(([category, ops]) =>
    ops.map((op) => [op, category] as const),
  ),
);

/** Domains whose op names mean the ONNX operators above ('com.microsoft' has Attention and Gelu). */
const MULTIPLY_DOMAINS = new Set(['', 'com.microsoft']);

export function multiplyCategory(node: Pick<Node, 'opType' | 'domain'>): MultiplyCategory | undefined {
  return MULTIPLY_DOMAINS.has(node.domain) ? MULTIPLY_OPS.get(node.opType) : undefined;
}

export interface ValueSummary {
  readonly name: string;
  /** Readable type: 'float32', 'sequence<float32>', 'unknown', … */
  readonly type: string;
  /** Element type of a tensor value, else null. */
  readonly dtype: DType | null;
  /** Dims of a tensor value (symbolic names as strings, unknown as null); null if the rank is unknown. */
  readonly shape: Dim[] | null;
}

export interface OpTypeCount {
  readonly opType: string;
  readonly domain: string;
  readonly total: number;
  readonly main: number;
  readonly subgraph: number;
  readonly function: number;
}

export interface MultiplyNode {
  readonly name: string;
  readonly opType: string;
  readonly category: MultiplyCategory;
  /** Whether the audit replaces this node's multiplies unless told otherwise. */
  readonly onByDefault: boolean;
  readonly location: NodeLocation;
}

export interface TensorTally {
  readonly tensors: number;
  readonly elements: number;
  /** Size as stored in the file (sub-byte types packed; strings as UTF-8). */
  readonly bytes: number;
}

export interface ModelSummary {
  readonly file: FileInfo | null;
  readonly irVersion: number;
  readonly opsets: OpsetImport[];
  readonly producer: { readonly name: string; readonly version: string };
  readonly domain: string;
  readonly modelVersion: number;
  readonly metadata: Record<string, string>;
  readonly graphName: string;
  /** Inputs the caller feeds (inputs that merely re-list initializers are left out). */
  readonly inputs: ValueSummary[];
  readonly outputs: ValueSummary[];
  /** Node counts by location, and how many subgraphs hang below the main graph. */
  readonly nodes: Readonly<Record<NodeLocation, number>> & { readonly subgraphs: number };
  readonly functions: { readonly domain: string; readonly name: string; readonly nodes: number }[];
  /** Sorted by total count, most frequent first. */
  readonly opTypes: OpTypeCount[];
  readonly parameters: TensorTally & {
    /** Part stored as initializers (any graph), of which `external` outside the model file. */
    readonly initializers: TensorTally;
    /** Part stored as Constant nodes (exporters such as Paddle2ONNX keep all weights there). */
    readonly constants: TensorTally;
    readonly external: TensorTally & { readonly files: string[] };
  };
  readonly multiplyNodes: MultiplyNode[];
  readonly multiplyCounts: Record<MultiplyCategory, number>;
}

const ON_BY_DEFAULT: Record<MultiplyCategory, boolean> = { multiply: true, normalization: true, activation: false };

function describeType(type: ValueType | null): string {
  if (!type) return 'unknown';
  switch (type.kind) {
    case 'tensor':
      return type.elemType ?? 'unknown';
    case 'sparse-tensor':
      return `sparse ${type.elemType ?? 'unknown'}`;
    case 'sequence':
    case 'optional':
      return `${type.kind}<${describeType(type.elemType)}>`;
    case 'map':
      return `map<${type.keyType ?? 'unknown'}, ${describeType(type.valueType)}>`;
  }
}

function summarizeValue(value: ValueInfo): ValueSummary {
  const tensor = value.type?.kind === 'tensor' ? value.type : null;
  const type = describeType(value.type);
  return { name: value.name, type, dtype: tensor?.elemType ?? null, shape: tensor?.shape ?? null };
}

const utf8 = new TextEncoder();

function storedBytes(tensor: Tensor): number {
  if (tensor.dtype === 'string') return tensor.data.reduce((sum, s) => sum + utf8.encode(s).length, 0);
  return rawByteLength(tensor.dtype, elementCount(tensor.dims));
}

class Tally {
  tensors = 0;
  elements = 0;
  bytes = 0;

  add(tensor: Tensor): void {
    this.tensors++;
    this.elements += elementCount(tensor.dims);
    this.bytes += storedBytes(tensor);
  }

  result(): TensorTally {
    return { tensors: this.tensors, elements: this.elements, bytes: this.bytes };
  }
}

/** Visits nodes and, recursively, the subgraphs they hold; below the main graph nodes count as 'subgraph'. */
function walkNodes(
  nodes: readonly Node[],
  location: NodeLocation,
  visitNode: (node: Node, location: NodeLocation) => void,
  visitSubgraph: (graph: Graph) => void,
): void {
  for (const node of nodes) {
    visitNode(node, location);
    for (const sub of subgraphsOf(node)) {
      visitSubgraph(sub);
      walkNodes(sub.nodes, location === 'main' ? 'subgraph' : location, visitNode, visitSubgraph);
    }
  }
}

export function summarizeModel(model: OnnxModel, fileInfo?: FileInfo): ModelSummary {
  const opCounts = new Map<string, { opType: string; domain: string } & Record<NodeLocation, number>>();
  const multiplyNodes: MultiplyNode[] = [];
  const nodeCounts = { main: 0, subgraph: 0, function: 0 };
  let subgraphs = 0;
  const initializers = new Tally();
  const constants = new Tally();
  const external = new Tally();
  const externalFiles = new Set<string>();

  const visitNode = (node: Node, location: NodeLocation): void => {
    nodeCounts[location]++;
    const key = `${node.domain}::${node.opType}`;
    const entry = opCounts.get(key) ?? { opType: node.opType, domain: node.domain, main: 0, subgraph: 0, function: 0 };
    entry[location]++;
    opCounts.set(key, entry);
    const category = multiplyCategory(node);
    if (category) {
      const onByDefault = ON_BY_DEFAULT[category];
      multiplyNodes.push({ name: node.name, opType: node.opType, category, onByDefault, location });
    }
    if (node.opType === 'Constant' && node.domain === '') {
      for (const a of node.attributes) {
        if (a.refAttrName !== undefined) continue;
        if (a.type === 'tensor') constants.add(a.value);
        if (a.type === 'sparse-tensor') constants.add(a.value.values);
      }
    }
  };
  const tallyInitializers = (graph: Graph): void => {
    for (const tensor of [...graph.initializers, ...graph.sparseInitializers.map((s) => s.values)]) {
      initializers.add(tensor);
      if (tensor.external) {
        external.add(tensor);
        externalFiles.add(tensor.external.location);
      }
    }
  };
  tallyInitializers(model.graph);
  walkNodes(model.graph.nodes, 'main', visitNode, (graph) => {
    subgraphs++;
    tallyInitializers(graph);
  });
  for (const fn of model.functions.values()) walkNodes(fn.nodes, 'function', visitNode, tallyInitializers);

  const opTypes = [...opCounts.values()]
    .map((c) => ({ ...c, total: c.main + c.subgraph + c.function }))
    .sort((a, b) => b.total - a.total || a.opType.localeCompare(b.opType) || a.domain.localeCompare(b.domain));
  const multiplyCounts: Record<MultiplyCategory, number> = { multiply: 0, normalization: 0, activation: 0 };
  for (const node of multiplyNodes) multiplyCounts[node.category]++;
  const parameterTotal = (part: keyof TensorTally): number => initializers[part] + constants[part];

  return {
    file: fileInfo ?? null,
    irVersion: model.irVersion,
    opsets: model.opsetImports.map((o) => ({ ...o })),
    producer: { name: model.producerName, version: model.producerVersion },
    domain: model.domain,
    modelVersion: model.modelVersion,
    metadata: { ...model.metadata },
    graphName: model.graph.name,
    inputs: model.graph.inputs.filter((v) => !v.isInitializer).map(summarizeValue),
    outputs: model.graph.outputs.map(summarizeValue),
    nodes: { ...nodeCounts, subgraphs },
    functions: [...model.functions.values()].map((f) => ({ domain: f.domain, name: f.name, nodes: f.nodes.length })),
    opTypes,
    parameters: {
      tensors: parameterTotal('tensors'),
      elements: parameterTotal('elements'),
      bytes: parameterTotal('bytes'),
      initializers: initializers.result(),
      constants: constants.result(),
      external: { ...external.result(), files: [...externalFiles].sort() },
    },
    multiplyNodes,
    multiplyCounts,
  };
}

// ---- Terminal report -------------------------------------------------------------------------

function count(n: number): string {
  return n.toLocaleString('en-US');
}

function plural(n: number, noun: string): string {
  return `${count(n)} ${noun}${n === 1 ? '' : 's'}`;
}

function showBytes(n: number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB'];
  let unit = 0;
  while (n >= 1024 && unit < units.length - 1) {
    n /= 1024;
    unit++;
  }
  return unit === 0 ? `${n} bytes` : `${n.toFixed(1)} ${units[unit]}`;
}

function showShape(shape: Dim[] | null): string {
  return shape ? `[${shape.map((d) => (d === null ? '?' : String(d))).join(', ')}]` : 'rank unknown';
}

function showDomain(domain: string): string {
  return domain === '' ? 'ai.onnx' : domain;
}

/** Rows padded to common column widths; columns listed in `right` are right-aligned (numbers). */
function table(header: string[], rows: string[][], right: ReadonlySet<number> = new Set()): string[] {
  const widths = header.map((h, i) => rows.reduce((width, row) => Math.max(width, row[i]!.length), h.length));
  const line = (cells: string[]): string =>
    '  ' +
    cells
      .map((c, i) => (right.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)];
}

function fields(rows: [string, string][]): string[] {
  const width = rows.reduce((w, [k]) => Math.max(w, k.length), 0);
  return rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`);
}

export function formatSummaryText(summary: ModelSummary): string {
  const { parameters: p, nodes } = summary;
  const facts: [string, string][] = [];
  if (summary.file) facts.push(['Model', `${summary.file.path} (${showBytes(summary.file.sizeBytes)})`]);
  facts.push(['IR version', String(summary.irVersion)]);
  facts.push(['Producer', `${summary.producer.name || '(none)'} ${summary.producer.version}`.trimEnd()]);
  if (summary.domain || summary.modelVersion) {
    facts.push(['Model domain', `${summary.domain || '(none)'}, version ${summary.modelVersion}`]);
  }
  facts.push(['Opsets', summary.opsets.map((o) => `${showDomain(o.domain)} ${o.version}`).join(', ') || '(none)']);
  if (summary.graphName) facts.push(['Graph', summary.graphName]);
  const nodeParts = [`${count(nodes.main)} in the main graph`];
  if (nodes.subgraphs > 0) nodeParts.push(`${count(nodes.subgraph)} in ${plural(nodes.subgraphs, 'subgraph')}`);
  if (summary.functions.length > 0) {
    nodeParts.push(`${count(nodes.function)} in ${plural(summary.functions.length, 'function')}`);
  }
  facts.push(['Nodes', nodeParts.join(', ')]);
  const parameters = `${plural(p.elements, 'element')} in ${plural(p.tensors, 'tensor')}, ${showBytes(p.bytes)}`;
  facts.push(['Parameters', parameters]);
  const origin = [`initializers ${count(p.initializers.elements)}`, `Constant nodes ${count(p.constants.elements)}`];
  if (p.external.tensors > 0) origin.push(`external ${count(p.external.elements)} in ${p.external.files.join(', ')}`);
  facts.push(['', origin.join(', ')]);
  for (const [key, value] of Object.entries(summary.metadata)) facts.push([`Metadata`, `${key} = ${value}`]);

  const values = (list: ValueSummary[]): string[] =>
    list.length === 0
      ? ['  (none)']
      : table(
          ['name', 'type', 'shape'],
          list.map((v) => [v.name, v.type, v.dtype ? showShape(v.shape) : '']),
        );
  const ops = table(
    ['op type', 'domain', 'total', 'main', 'subgraph', 'function'],
    summary.opTypes.map((o) => [
      o.opType,
      showDomain(o.domain),
      ...[o.total, o.main, o.subgraph, o.function].map(count),
    ]),
    new Set([2, 3, 4, 5]),
  );
  const c = summary.multiplyCounts;
  const multiplyHeading =
    `Multiply-bearing nodes: ${c.multiply} always replaced, ` +
    `${c.normalization} normalization (on by default), ${c.activation} activation (off by default)`;
  const multiplies =
    summary.multiplyNodes.length === 0
      ? ['  (none)']
      : table(
          ['name', 'op type', 'category', 'default', 'location'],
          summary.multiplyNodes.map((m) => [m.name, m.opType, m.category, m.onByDefault ? 'on' : 'off', m.location]),
        );

  return [
    ...fields(facts),
    '',
    'Inputs',
    ...values(summary.inputs),
    '',
    'Outputs',
    ...values(summary.outputs),
    '',
    `Operators (${summary.opTypes.length} types)`,
    ...ops,
    '',
    multiplyHeading,
    ...multiplies,
    '',
  ].join('\n');
}
