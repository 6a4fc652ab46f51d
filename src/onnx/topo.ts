/**
 * Executable node order. ONNX requires file order to be topological, but not every exporter obeys,
 * so we sort: Kahn's algorithm always taking the earliest ready node in file order, which returns
 * the file order unchanged whenever it is valid. A subgraph (If/Loop/Scan body) may read names of
 * enclosing graphs; those reads count as inputs of the node that owns the subgraph.
 */
import { OnnxLoadError } from './errors';
import { functionKey, subgraphsOf, type Graph, type Node, type OnnxFunction, type OnnxModel } from './model';

const freeNamesCache = new WeakMap<Graph, ReadonlySet<string>>();

/** Names a graph's nodes produce or its inputs and initializers define. */
function definedNames(graph: Graph): Set<string> {
  return new Set([
    ...graph.inputs.map((v) => v.name),
    ...graph.initializers.map((t) => t.name),
    ...graph.sparseInitializers.map((s) => s.values.name),
    ...graph.nodes.flatMap((n) => n.outputs.filter((o) => o !== '')),
  ]);
}

/** The names a graph (including its nested subgraphs) reads from enclosing scopes. */
export function outerScopeReads(graph: Graph): ReadonlySet<string> {
  let free = freeNamesCache.get(graph);
  if (!free) {
    const defined = definedNames(graph);
    const reads = graph.nodes.flatMap((n) => [...n.inputs, ...subgraphsOf(n).flatMap((g) => [...outerScopeReads(g)])]);
    const names = new Set(reads.filter((name) => name !== '' && !defined.has(name)));
    for (const output of graph.outputs) if (!defined.has(output.name)) names.add(output.name);
    free = names;
    freeNamesCache.set(graph, free);
  }
  return free;
}

/** A min-heap of node indices: the ready node earliest in the file comes out first. */
class IndexHeap {
  private readonly items: number[] = [];

  get size(): number {
    return this.items.length;
  }

  push(value: number): void {
    const items = this.items;
    let i = items.push(value) - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (items[parent]! <= value) break;
      items[i] = items[parent]!;
      i = parent;
    }
    items[i] = value;
  }

  pop(): number {
    const items = this.items;
    const top = items[0]!;
    const last = items.pop()!;
    if (items.length > 0) {
      let i = 0;
      for (;;) {
        let child = 2 * i + 1;
        if (child >= items.length) break;
        if (child + 1 < items.length && items[child + 1]! < items[child]!) child++;
        if (items[child]! >= last) break;
        items[i] = items[child]!;
        i = child;
      }
      items[i] = last;
    }
    return top;
  }
}

interface Scope {
  /** Graph or function inputs and initializers. */
  readonly given: ReadonlySet<string>;
  /** Names visible from enclosing graphs. */
  readonly outer: ReadonlySet<string>;
  /** Appended to messages: where this graph sits, e.g. " in subgraph 'body' of node 'Loop_3'". */
  readonly label: string;
}

/** Walks predecessors inside the unsorted remainder until a node repeats: that loop is a cycle. */
function findCycle(nodes: readonly Node[], predecessors: readonly number[][], sorted: readonly boolean[]): string[] {
  const start = sorted.findIndex((done) => !done);
  const path: number[] = [];
  const seenAt = new Map<number, number>();
  let current = start;
  while (!seenAt.has(current)) {
    seenAt.set(current, path.length);
    path.push(current);
    current = predecessors[current]!.find((p) => !sorted[p])!;
  }
  // The path runs against the data flow; reverse it so each node feeds the next, and start the
  // report at the cycle's earliest node in the file.
  const cycle = path.slice(seenAt.get(current)).reverse();
  const first = cycle.indexOf(cycle.reduce((a, b) => Math.min(a, b)));
  return [...cycle.slice(first), ...cycle.slice(0, first)].map((i) => nodes[i]!.name);
}

function orderNodes(nodes: readonly Node[], outputs: readonly string[], scope: Scope): Node[] {
  const producer = new Map<string, number>();
  nodes.forEach((node, index) => {
    for (const output of node.outputs) {
      if (output === '') continue;
      const other = producer.get(output);
      if (other !== undefined || scope.given.has(output)) {
        const clash =
          other === undefined
            ? 'is also a graph input or initializer'
            : `is also produced by node '${nodes[other]!.name}'`;
        throw new OnnxLoadError('invalid-graph', `output '${output}' of node '${node.name}'${scope.label} ${clash}`);
      }
      producer.set(output, index);
    }
  });

  const available = (name: string): boolean => producer.has(name) || scope.given.has(name) || scope.outer.has(name);
  const predecessors = nodes.map((node) => {
    const direct = node.inputs.filter((name) => name !== '');
    const viaSubgraphs = subgraphsOf(node).flatMap((g) => [...outerScopeReads(g)]);
    for (const [names, how] of [
      [direct, 'reads'],
      [viaSubgraphs, 'reads (inside a subgraph)'],
    ] as const) {
      const missing = names.find((name) => !available(name));
      if (missing !== undefined) {
        throw new OnnxLoadError(
          'invalid-graph',
          `node '${node.name}'${scope.label} ${how} '${missing}', ` +
            'which no node, graph input, initializer or outer scope provides',
        );
      }
    }
    return [...new Set([...direct, ...viaSubgraphs].flatMap((name) => producer.get(name) ?? []))];
  });
  for (const output of outputs) {
    if (!available(output)) {
      throw new OnnxLoadError('invalid-graph', `graph output '${output}'${scope.label} is produced by nothing`);
    }
  }

  const successors: number[][] = nodes.map(() => []);
  const waitingFor = predecessors.map((ps, index) => {
    for (const p of ps) successors[p]!.push(index);
    return ps.length;
  });
  const ready = new IndexHeap();
  waitingFor.forEach((count, index) => count === 0 && ready.push(index));
  const order: Node[] = [];
  const sorted = nodes.map(() => false);
  while (ready.size > 0) {
    const index = ready.pop();
    order.push(nodes[index]!);
    sorted[index] = true;
    for (const s of successors[index]!) if (--waitingFor[s]! === 0) ready.push(s);
  }
  if (order.length < nodes.length) {
    const cycle = findCycle(nodes, predecessors, sorted);
    throw new OnnxLoadError('cycle', `nodes${scope.label} form a cycle: ${[...cycle, cycle[0]].join(' -> ')}`);
  }
  return order;
}

function graphScope(graph: Graph, outer: ReadonlySet<string>, label: string): Scope {
  const given = new Set([
    ...graph.inputs.map((v) => v.name),
    ...graph.initializers.map((t) => t.name),
    ...graph.sparseInitializers.map((s) => s.values.name),
  ]);
  return { given, outer, label };
}

/**
 * The graph's nodes in an executable order. `outerScope` lists the names a subgraph may read from
 * enclosing graphs; `label` is appended to error messages to say where the graph sits. Throws
 * 'cycle' naming the nodes of one cycle, or 'invalid-graph' naming a node and an input nothing provides.
 */
export function topologicalOrder(graph: Graph, outerScope: Iterable<string> = [], label = ''): Node[] {
  return orderNodes(
    graph.nodes,
    graph.outputs.map((v) => v.name),
    graphScope(graph, new Set(outerScope), label),
  );
}

/** The body of a model-local function in an executable order. */
export function functionOrder(fn: OnnxFunction): Node[] {
  const label = ` in function '${functionKey(fn.domain, fn.name)}'`;
  return orderNodes(fn.nodes, fn.outputs, { given: new Set(fn.inputs), outer: new Set(), label });
}

/**
 * Orders every graph of the model (main graph, all nested subgraphs) and every function body,
 * checking each subgraph against the names of its enclosing scopes. Inner graphs are checked
 * first, so a broken reference is reported at the node that makes it.
 */
export function orderModel(model: OnnxModel): Map<Graph | OnnxFunction, Node[]> {
  const orders = new Map<Graph | OnnxFunction, Node[]>();
  const visit = (graph: Graph, outer: ReadonlySet<string>, label: string): void => {
    const inner = new Set([...outer, ...definedNames(graph)]);
    for (const node of graph.nodes) {
      for (const sub of subgraphsOf(node)) {
        visit(sub, inner, ` in subgraph '${sub.name}' of node '${node.name}'${label}`);
      }
    }
    orders.set(graph, topologicalOrder(graph, outer, label));
  };
  visit(model.graph, new Set(), '');
  for (const fn of model.functions.values()) orders.set(fn, functionOrder(fn));
  return orders;
}
