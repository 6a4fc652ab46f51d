/**
 * The executor: runs a model's graph node by node in topological order, releasing each value after its
 * last use, with subgraphs (If/Loop/Scan bodies) run in a scope chained to their parent's.
 */
import {
  outerScopeReads,
  subgraphsOf,
  topologicalOrder,
  type Graph,
  type Node,
  type OnnxModel,
  type Tensor,
} from '../onnx';
import { Attributes } from './attributes';
import { BufferRecycler } from './buffers';
import { foldConstants, initialConstants } from './constant-folding';
import { elementwiseChains, runElementwiseChain, type ElementwiseChain } from './fusion';
import { inlineFunctions } from './inline';
import { MultiplyContext } from './multiply';
import { kernelFor } from './registry';
import { densify } from './tensors';
import { CancelledError, EngineError, type KernelContext, type Value } from './types';
import { markConstant } from './wasm/kernels';

export interface RunOptions {
  /** The multiply scheme of every node (default exact fp32). */
  readonly multiply?: MultiplyContext;
  /** Per-node override, e.g. to convert a single node in an isolated-error run. */
  readonly multiplyFor?: (node: Node) => MultiplyContext;
  /** Checked between nodes: a long run can be cancelled. */
  readonly signal?: AbortSignal;
  /** Sees every node this run executes, inside If/Loop/Scan bodies too (once per execution). */
  readonly observeNode?: (
    node: Node,
    inputs: readonly (Value | undefined)[],
    outputs: readonly (Value | undefined)[],
  ) => void;
  /** `observeNode` reads what it is shown only during its call (a profiler): the run may recycle buffers. */
  readonly observerKeepsNothing?: boolean;
}

interface GraphPlan {
  readonly order: readonly Node[];
  /**
   * For each node of `order`, the names read for the last time by it that a run computed or was given:
   * graph outputs are never released, constants (held by the plan or the model) need not be.
   */
  readonly releaseAfter: readonly (readonly string[])[];
  /** For each node of `order`, its outputs when they were computed once for every run (constant-folding.ts). */
  readonly folded: readonly ((Value | undefined)[] | undefined)[];
  /** Indices into `order`: of every node, and of the nodes not folded. */
  readonly everyStep: readonly number[];
  readonly computedSteps: readonly number[];
  /** The graph's initializers (sparse ones densified): the constants an observed run starts with. */
  readonly initializers: ReadonlyMap<string, Tensor>;
  /** The initializers and every folded output: the constants an unobserved run starts with. */
  readonly startValues: ReadonlyMap<string, Value | undefined>;
  /** Element-wise chains (fusion.ts) by first link: an unobserved exact run computes each in one pass. */
  readonly chains: ReadonlyMap<Node, ElementwiseChain>;
}

/** Sees, after each main-graph node, its inputs and outputs in every lockstep run (run 0 first). */
export type LockstepObserver = (
  node: Node,
  inputs: readonly (readonly (Value | undefined)[])[],
  outputs: readonly (readonly (Value | undefined)[])[],
) => void;

export type Scope = { readonly values: ReadonlyMap<string, Value | undefined>; readonly parent: Scope | null };

export class UnsupportedOperatorError extends EngineError {
  constructor(readonly nodes: readonly { name: string; opType: string; domain: string }[]) {
    const list = nodes.slice(0, 20).map((n) => `  ${n.name} (${n.domain ? `${n.domain}.` : ''}${n.opType})`);
    const more = nodes.length > 20 ? `\n  … and ${nodes.length - 20} more` : '';
    super(
      `the engine does not implement ${nodes.length === 1 ? 'this operator' : 'these operators'}:\n${list.join('\n')}${more}`,
    );
    this.name = 'UnsupportedOperatorError';
  }
}

export class Session {
  readonly graph: Graph;
  readonly opset: number;
  /** Graph inputs the caller must (or may, when they have an initializer default) feed. */
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  private readonly plans = new WeakMap<Graph, GraphPlan>();
  /** For each subgraph planned so far, the constants of its enclosing graph (recorded when that is planned). */
  private readonly outerConstants = new WeakMap<Graph, ReadonlyMap<string, Value>>();
  /** The multiply context of runs that name none. */
  private readonly exact = MultiplyContext.exact();

  constructor(model: OnnxModel) {
    this.graph = inlineFunctions(model);
    this.opset = model.opsetImports.find((o) => o.domain === '' || o.domain === 'ai.onnx')?.version ?? 1;
    const unsupported = collectNodes(this.graph).filter((n) => !kernelFor(n.domain, n.opType));
    if (unsupported.length > 0) throw new UnsupportedOperatorError(unsupported);
    this.inputNames = this.graph.inputs.filter((i) => !i.isInitializer).map((i) => i.name);
    this.outputNames = this.graph.outputs.map((o) => o.name);
  }

  run(feeds: ReadonlyMap<string, Tensor>, options: RunOptions = {}): Map<string, Value | undefined> {
    return this.runLockstep(feeds, [options])[0]!;
  }

  /**
   * Several runs of the model on the same inputs, advanced node by node together (e.g. the exact reference
   * and one run per scheme), so an observer can compare every node's outputs across runs while each run
   * holds only its live values: nothing is stored per node.
   */
  runLockstep(
    feeds: ReadonlyMap<string, Tensor>,
    runs: readonly RunOptions[],
    observe?: LockstepObserver,
  ): Map<string, Value | undefined>[] {
    for (const name of this.inputNames) {
      if (!feeds.has(name)) throw new EngineError(`no value given for model input "${name}"`);
    }
    // An unobserved single run recycles the buffers of values it releases (nobody else can still read
    // them); observers may keep any node's inputs and outputs, so their runs allocate afresh.
    const recycler =
      runs.length === 1 && !observe && (!runs[0]!.observeNode || runs[0]!.observerKeepsNothing === true)
        ? new BufferRecycler()
        : null;
    for (const value of feeds.values()) recycler?.pin(value);
    const parents = runs.map(() => null);
    const results = this.runGraph(this.graph, feeds, parents, runs, observe, recycler);
    return results.map((outputs) => new Map(this.outputNames.map((name, i) => [name, outputs[i]])));
  }

  /** One node's kernel on the given inputs under `multiply`: also how the audit evaluates a node in isolation. */
  runNode(
    node: Node,
    inputs: readonly (Value | undefined)[],
    multiply: MultiplyContext,
    scope: Scope = { values: new Map(), parent: null },
    options: RunOptions = {},
    recycler: BufferRecycler | null = null,
  ): (Value | undefined)[] {
    return this.execute(node, inputs, multiply, this.subgraphRunner(scope, options, recycler), options);
  }

  /** How kernels run their bodies (If/Loop/Scan) in `scope`: made once per graph run, not per node. */
  private subgraphRunner(
    scope: Scope,
    options: RunOptions,
    recycler: BufferRecycler | null,
  ): KernelContext['runSubgraph'] {
    return (subgraph, bindings) => {
      // The body releases its bindings after their last use: counted as stored, so that a buffer the
      // enclosing scope (or the kernel running the body) still holds is not recycled.
      if (recycler) for (const value of bindings.values()) recycler.stored(value);
      return this.runGraph(subgraph, bindings, [scope], [options], undefined, recycler)[0]!;
    };
  }

  private execute(
    node: Node,
    inputs: readonly (Value | undefined)[],
    multiply: MultiplyContext,
    runSubgraph: KernelContext['runSubgraph'],
    options: RunOptions,
  ): (Value | undefined)[] {
    const ctx: KernelContext = { node, attributes: attributesOf(node), opset: this.opset, multiply, runSubgraph };
    let outputs: (Value | undefined)[];
    try {
      outputs = kernelFor(node.domain, node.opType)!(inputs, ctx);
    } catch (error) {
      if (error instanceof CancelledError) throw error;
      if (error instanceof EngineError && error.message.includes(`"${node.name}"`)) throw error;
      const reason = error instanceof Error ? error.message : String(error);
      throw new EngineError(`${node.opType} node "${node.name}" failed: ${reason}`);
    }
    options.observeNode?.(node, inputs, outputs);
    return outputs;
  }

  /**
   * Runs `graph` once per entry of `runs`, each in a scope of its own that starts with `bindings` (the
   * model's inputs, a body's formal inputs) above a layer of the graph's constants if it has any (which
   * the bindings override) above `parents[r]`.
   */
  private runGraph(
    graph: Graph,
    bindings: ReadonlyMap<string, Value | undefined>,
    parents: readonly (Scope | null)[],
    runs: readonly RunOptions[],
    observe?: LockstepObserver,
    recycler: BufferRecycler | null = null,
  ): (Value | undefined)[][] {
    const plan = this.planFor(graph);
    const { order, folded, everyStep, computedSteps, releaseAfter, initializers, startValues, chains } = plan;
    // Observers are shown every node; an unobserved run sees the folded values from the start and visits
    // only the other nodes. The constants are a layer shared by every run, not copied into each scope.
    const observed = observe !== undefined || runs.some((options) => options.observeNode !== undefined);
    const constants = observed ? initializers : startValues;
    const locals = parents.map(() => new Map(bindings));
    const below = (parent: Scope | null): Scope | null => (constants.size > 0 ? { values: constants, parent } : parent);
    const scopes = locals.map((values, r): Scope => ({ values, parent: below(parents[r]!) }));
    const runners = scopes.map((scope, r) => this.subgraphRunner(scope, runs[r]!, recycler));
    const release = (index: number) => {
      for (const name of releaseAfter[index]!) {
        for (const values of locals) {
          recycler?.released(values.get(name));
          values.delete(name);
        }
      }
    };
    // Element-wise chains run fused only where nobody sees their links and one arithmetic runs them all.
    const single = runs.length === 1 ? runs[0]! : null;
    const fusing = !observed && single !== null && !single.multiplyFor;
    const fusedLinks = new Set<Node>();
    for (const index of observed ? everyStep : computedSteps) {
      const node = order[index]!;
      if (fusedLinks.has(node)) {
        release(index);
        continue;
      }
      const chain = fusing ? chains.get(node) : undefined;
      if (chain && this.runChain(chain, scopes[0]!, locals[0]!, recycler, single!)) {
        for (const link of chain.links) if (link !== node) fusedLinks.add(link);
        release(index);
        continue;
      }
      const constant = folded[index];
      const inputs = scopes.map((scope) => inputsOf(scope, node));
      const outputs: (Value | undefined)[][] = [];
      for (let r = 0; r < runs.length; r++) {
        const options = runs[r]!;
        if (options.signal?.aborted) throw new CancelledError();
        if (constant) options.observeNode?.(node, inputs[r]!, constant);
        const multiply = options.multiplyFor?.(node) ?? options.multiply ?? this.exact;
        outputs.push(constant ?? this.execute(node, inputs[r]!, multiply, runners[r]!, options));
      }
      for (let r = 0; r < locals.length; r++) {
        const values = locals[r]!;
        for (let i = 0; i < node.outputs.length; i++) {
          const name = node.outputs[i]!;
          if (name === '') continue;
          values.set(name, outputs[r]![i]);
          recycler?.stored(outputs[r]![i]);
        }
      }
      observe?.(node, inputs, outputs);
      release(index);
    }
    return scopes.map((scope) => graph.outputs.map((o) => lookup(scope, o.name, null)));
  }

  /** Runs a chain in one pass (fusion.ts) and stores its output: false if its values make it decline. */
  private runChain(
    chain: ElementwiseChain,
    scope: Scope,
    values: Map<string, Value | undefined>,
    recycler: BufferRecycler | null,
    { signal, multiply = this.exact }: RunOptions,
  ): boolean {
    if (signal?.aborted) throw new CancelledError();
    const fused = runElementwiseChain(chain, (name) => valueIn(scope, name), this.opset, multiply);
    if (!fused) return false;
    // The chain's value is its last link's output; the other links' outputs are never made.
    values.set(chain.output, fused);
    recycler?.stored(fused);
    return true;
  }

  private planFor(graph: Graph): GraphPlan {
    let plan = this.plans.get(graph);
    if (!plan) {
      // Outer names are checked when the enclosing graph is planned; here only local order matters.
      const order = topologicalOrder(graph, outerScopeReads(graph));
      const initializers = graphConstants(graph);
      const outer = this.outerConstants.get(graph);
      // The main graph's inputs may override their initializers; a body's formal inputs shadow its own.
      const bound = new Set(graph.inputs.filter((i) => !outer || !i.isInitializer).map((i) => i.name));
      const constants = initialConstants(graph, initializers, bound, outer ?? new Map());
      const folding = foldConstants(order, constants, (node, inputs) => this.runNode(node, inputs, this.exact));
      for (const node of order) for (const g of subgraphsOf(node)) this.outerConstants.set(g, folding.constants);
      const outputs = new Set(graph.outputs.map((o) => o.name));
      const releaseAfter = lastReads(order, (name) => !outputs.has(name) && !folding.constants.has(name));
      const startValues = new Map<string, Value | undefined>(initializers);
      order.forEach((node, index) =>
        folding.outputs[index]?.forEach((value, i) => {
          if (node.outputs[i]) startValues.set(node.outputs[i]!, value);
        }),
      );
      // Weights and folded values never change: GEMMs may keep them in linear memory.
      for (const value of startValues.values())
        if (value && !Array.isArray(value) && value.data instanceof Float32Array) markConstant(value.data);
      const everyStep = order.map((_, index) => index);
      const computedSteps = everyStep.filter((index) => !folding.outputs[index]);
      const computed = order.filter((_, index) => !folding.outputs[index]);
      const chains = elementwiseChains(graph, computed, (name) => folding.constants.has(name));
      plan = {
        order,
        releaseAfter,
        folded: folding.outputs,
        everyStep,
        computedSteps,
        initializers,
        startValues,
        chains,
      };
      this.plans.set(graph, plan);
    }
    return plan;
  }
}

/** For each node of `order`, the names it reads for the last time (its bodies' outer reads too) that `releasable` accepts. */
function lastReads(order: readonly Node[], releasable: (name: string) => boolean): string[][] {
  const lastUse = new Map<string, number>();
  order.forEach((node, index) => {
    for (const name of node.inputs) if (name !== '') lastUse.set(name, index);
    for (const g of subgraphsOf(node)) for (const name of outerScopeReads(g)) lastUse.set(name, index);
  });
  const reads: string[][] = order.map(() => []);
  for (const [name, index] of lastUse) if (releasable(name)) reads[index]!.push(name);
  return reads;
}

/** A node's attributes are immutable: their typed view is made once per node. */
const attributeViews = new WeakMap<Node, Attributes>();

function attributesOf(node: Node): Attributes {
  let attributes = attributeViews.get(node);
  if (!attributes) attributeViews.set(node, (attributes = new Attributes(node)));
  return attributes;
}

/** A node's input values in `scope` ('' inputs are undefined). */
function inputsOf(scope: Scope, node: Node): (Value | undefined)[] {
  const inputs = new Array<Value | undefined>(node.inputs.length);
  for (let i = 0; i < inputs.length; i++) {
    const name = node.inputs[i]!;
    inputs[i] = name === '' ? undefined : lookup(scope, name, node);
  }
  return inputs;
}

/** The value of `name` in scope, or undefined if there is none (yet). */
function valueIn(scope: Scope, name: string): Value | undefined {
  for (let s: Scope | null = scope; s; s = s.parent) if (s.values.has(name)) return s.values.get(name);
  return undefined;
}

function lookup(scope: Scope, name: string, node: Node | null): Value | undefined {
  for (let s: Scope | null = scope; s; s = s.parent) if (s.values.has(name)) return s.values.get(name);
  const where = node ? `input "${name}" of ${node.opType} node "${node.name}"` : `graph output "${name}"`;
  throw new EngineError(`${where} has no value (it was never computed)`);
}

function collectNodes(graph: Graph): Node[] {
  return graph.nodes.flatMap((node) => [node, ...subgraphsOf(node).flatMap(collectNodes)]);
}

function graphConstants(graph: Graph): Map<string, Tensor> {
  const constants = new Map<string, Tensor>(graph.initializers.map((t) => [t.name, t]));
  for (const sparse of graph.sparseInitializers)
    constants.set(sparse.values.name, { ...densify(sparse), name: sparse.values.name });
  return constants;
}
