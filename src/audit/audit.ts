/**
 * The audit: one lockstep pass per sample runs the exact reference and the whole model under every scheme
 * (propagated error at every node), and at each multiply-bearing node also re-runs that node alone under
 * every scheme on the reference inputs (isolated error). Nothing is stored per node but running sums.
 */
import {
  multiplyCategory,
  outerScopeReads,
  subgraphsOf,
  topologicalOrder,
  type Graph,
  type Node,
  type Tensor,
} from '../onnx';
import { MultiplyContext, type AccumulationName, type Fp8Scaling, type MultiplyGroup } from '../engine/multiply';
import type { Session } from '../engine/session';
import { EngineError, type Value } from '../engine/types';
import { countNode, type OpCounts } from './counts';
import { ErrorAccumulator, type ErrorMetrics } from './metrics';

export interface AuditOptions {
  readonly schemes: readonly string[];
  readonly accumulation?: AccumulationName;
  readonly fp8Scaling?: Fp8Scaling;
  readonly replaceNormalization?: boolean;
  readonly replaceActivation?: boolean;
  /** Called after each node of each sample. */
  readonly onProgress?: (done: number, total: number) => void;
  readonly signal?: AbortSignal;
}

export interface SchemeErrors {
  readonly isolated: ErrorMetrics;
  readonly propagated: ErrorMetrics;
}

export interface AuditedNode {
  readonly name: string;
  readonly opType: string;
  readonly group: MultiplyGroup;
  /** Counted on the first sample's shapes. */
  readonly counts: OpCounts;
  readonly schemes: Readonly<Record<string, SchemeErrors>>;
}

export interface AuditResult {
  readonly samples: number;
  readonly schemes: readonly string[];
  readonly settings: Required<Omit<AuditOptions, 'schemes' | 'onProgress' | 'signal'>>;
  /** The nodes whose multiplications the schemes replace, in execution order. */
  readonly nodes: readonly AuditedNode[];
  /** Propagated error at the outputs of every node with float outputs, per scheme (node name → metrics). */
  readonly propagated: Readonly<Record<string, Readonly<Record<string, ErrorMetrics>>>>;
  /** Error at each model output per scheme, aggregated over samples and per sample. */
  readonly outputs: Readonly<Record<string, Readonly<Record<string, ErrorMetrics & { perSample: ErrorMetrics[] }>>>>;
}

type Accumulators = Map<string, ErrorAccumulator[]>; // key → one accumulator per scheme

export function runAudit(
  session: Session,
  samples: readonly ReadonlyMap<string, Tensor>[],
  options: AuditOptions,
): AuditResult {
  if (samples.length === 0) throw new EngineError('the audit needs at least one input sample');
  const settings = {
    accumulation: options.accumulation ?? 'fp32',
    fp8Scaling: options.fp8Scaling ?? 'per-tensor',
    replaceNormalization: options.replaceNormalization ?? true,
    replaceActivation: options.replaceActivation ?? false,
  } as const;
  const contexts = options.schemes.map((scheme) => new MultiplyContext({ scheme, ...settings }));
  const enabled: Record<MultiplyGroup, boolean> = {
    multiply: true,
    normalization: settings.replaceNormalization,
    activation: settings.replaceActivation,
  };
  const isConstant = constantNames(session.graph);
  const isolated: Accumulators = new Map();
  const propagated: Accumulators = new Map();
  const counts = new Map<string, OpCounts>();
  const audited: Node[] = [];
  const outputTotals = new Map<string, ErrorAccumulator[]>();
  const outputPerSample = new Map<string, ErrorMetrics[][]>();
  const exact = MultiplyContext.exact();
  const totalSteps = samples.length * session.graph.nodes.length;
  let done = 0;

  // Nodes inside If/Loop/Scan bodies run inside their owner's kernel, possibly several times: their isolated
  // error and counts come from every execution in the reference run; their propagated error is reported
  // at the outputs of the main-graph node that owns them.
  const ownerOf = subgraphOwners(session.graph);
  samples.forEach((feeds, sampleIndex) => {
    const observeNode = (
      node: Node,
      inputs: readonly (Value | undefined)[],
      outputs: readonly (Value | undefined)[],
    ) => {
      const group = multiplyCategory(node);
      if (!group || !enabled[group]) return;
      if (sampleIndex === 0) {
        if (!counts.has(node.name)) audited.push(node);
        counts.set(node.name, addCounts(counts.get(node.name), countNode(node, inputs, outputs, isConstant)));
      }
      const perScheme = accumulatorsFor(isolated, node.name, contexts.length);
      contexts.forEach((ctx, s) => compareOutputs(perScheme[s]!, session.runNode(node, inputs, ctx), outputs));
    };
    const runs = [
      { multiply: exact, signal: options.signal, observeNode },
      ...contexts.map((multiply) => ({ multiply, signal: options.signal })),
    ];
    const results = session.runLockstep(feeds, runs, (node, _inputs, outputs) => {
      if (outputs[0]!.some(isFloatTensor)) {
        const perScheme = accumulatorsFor(propagated, node.name, contexts.length);
        contexts.forEach((_, s) => compareOutputs(perScheme[s]!, outputs[s + 1]!, outputs[0]!));
      }
      options.onProgress?.(++done, totalSteps);
    });
    for (const name of session.outputNames) {
      const reference = results[0]!.get(name);
      if (!isFloatTensor(reference)) continue;
      const totals = accumulatorsFor(outputTotals, name, contexts.length);
      const perSample = outputPerSample.get(name) ?? contexts.map(() => []);
      outputPerSample.set(name, perSample);
      contexts.forEach((_, s) => {
        const sample = new ErrorAccumulator();
        compareOutputs(sample, [results[s + 1]!.get(name)], [reference], classAxis(session, name, reference));
        totals[s]!.merge(sample);
        perSample[s]!.push(sample.metrics());
      });
    }
  });

  const bySchemes = <T>(f: (s: number) => T) => Object.fromEntries(options.schemes.map((scheme, s) => [scheme, f(s)]));
  return {
    samples: samples.length,
    schemes: options.schemes,
    settings,
    nodes: audited.map((node) => ({
      name: node.name,
      opType: node.opType,
      group: multiplyCategory(node)!,
      counts: counts.get(node.name)!,
      schemes: bySchemes((s) => ({
        isolated: isolated.get(node.name)![s]!.metrics(),
        propagated: (propagated.get(ownerOf.get(node.name) ?? node.name)?.[s] ?? new ErrorAccumulator()).metrics(),
      })),
    })),
    propagated: Object.fromEntries([...propagated].map(([name, accs]) => [name, bySchemes((s) => accs[s]!.metrics())])),
    outputs: Object.fromEntries(
      [...outputTotals].map(([name, accs]) => [
        name,
        bySchemes((s) => ({ ...accs[s]!.metrics(), perSample: outputPerSample.get(name)![s]! })),
      ]),
    ),
  };
}

/** Name of every node nested in a subgraph → name of the main-graph node that owns that subgraph. */
function subgraphOwners(graph: Graph): Map<string, string> {
  const owners = new Map<string, string>();
  const visit = (g: Graph, owner: string) => {
    for (const node of g.nodes) {
      owners.set(node.name, owner);
      for (const sub of subgraphsOf(node)) visit(sub, owner);
    }
  };
  for (const node of graph.nodes) for (const sub of subgraphsOf(node)) visit(sub, node.name);
  return owners;
}

/** Counts of two executions of a node (a node in a Loop body runs once per iteration). */
function addCounts(a: OpCounts | undefined, b: OpCounts): OpCounts {
  if (!a) return b;
  return {
    multiplies: {
      multiply: a.multiplies.multiply + b.multiplies.multiply,
      normalization: a.multiplies.normalization + b.multiplies.normalization,
      activation: a.multiplies.activation + b.multiplies.activation,
    },
    accumulations: a.accumulations + b.accumulations,
    weightElements: a.weightElements + b.weightElements,
    activationElements: a.activationElements + b.activationElements,
  };
}

function accumulatorsFor(map: Accumulators, key: string, schemes: number): ErrorAccumulator[] {
  let accs = map.get(key);
  if (!accs) {
    accs = Array.from({ length: schemes }, () => new ErrorAccumulator());
    map.set(key, accs);
  }
  return accs;
}

function isFloatTensor(v: Value | undefined): v is Tensor & { data: Float32Array | Float64Array } {
  return v !== undefined && !Array.isArray(v) && (v.data instanceof Float32Array || v.data instanceof Float64Array);
}

function compareOutputs(
  acc: ErrorAccumulator,
  actual: readonly (Value | undefined)[],
  reference: readonly (Value | undefined)[],
  classes: number | null = null,
): void {
  reference.forEach((r, i) => {
    const y = actual[i];
    if (isFloatTensor(r) && isFloatTensor(y)) acc.add(y.data, r.data, classes);
  });
}

/**
 * Outputs that look like class scores get a top-1 agreement: rank ≥ 2, a last axis of at least two classes,
 * produced by a Softmax/LogSoftmax or a classifier head (Gemm/MatMul).
 */
function classAxis(session: Session, outputName: string, reference: Tensor): number | null {
  const producer = session.graph.nodes.find((n) => n.outputs.includes(outputName));
  const classes = reference.dims[reference.dims.length - 1] ?? 0;
  const head = producer && ['Softmax', 'LogSoftmax', 'Gemm', 'MatMul'].includes(producer.opType);
  return reference.dims.length >= 2 && classes >= 2 && head ? classes : null;
}

/**
 * Names whose values depend on constants only (initializers, Constant nodes and what is computed from them),
 * in the main graph and in every subgraph.
 */
export function constantNames(graph: Graph): (name: string) => boolean {
  const constants = new Set<string>();
  const visit = (g: Graph, outer: ReadonlySet<string>) => {
    for (const t of g.initializers) constants.add(t.name);
    for (const input of g.inputs) if (!input.isInitializer) constants.delete(input.name);
    for (const node of topologicalOrder(g, [...outer, ...outerScopeReads(g)])) {
      const fromConstants = node.inputs.length > 0 && node.inputs.every((name) => name === '' || constants.has(name));
      if (node.opType === 'Constant' || fromConstants) for (const name of node.outputs) constants.add(name);
      for (const sub of subgraphsOf(node)) visit(sub, new Set([...outer, ...outerScopeReads(g)]));
    }
  };
  visit(graph, new Set());
  return (name) => constants.has(name);
}
