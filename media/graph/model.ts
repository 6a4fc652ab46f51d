/**
 * An index over the GraphView the host sends: node-to-node edges (values resolved by producer, including
 * values a subgraph body reads from an enclosing scope by name), and lookups by node name.
 */
import type { GraphNodeView, GraphView, ValueView } from '../../src/protocol/graph';

export interface GraphModel {
  readonly view: GraphView;
  /** Node → node edges along values, each pair once, in node order. */
  readonly edges: readonly (readonly [number, number])[];
  readonly nodeByName: ReadonlyMap<string, number>;
  /** A value by id (undefined for an omitted optional input, -1). */
  value(id: number): ValueView | undefined;
  node(id: number): GraphNodeView;
}

export function indexGraph(view: GraphView): GraphModel {
  const parentScope = view.scopes.map((scope) =>
    scope.ownerNode === undefined ? -1 : (view.nodes[scope.ownerNode]?.scope ?? -1),
  );
  // Per scope: value name → producing node.
  const producers = view.scopes.map(() => new Map<string, number>());
  for (const node of view.nodes) {
    for (const output of node.outputs) {
      const value = view.values[output];
      if (value) producers[node.scope]?.set(value.name, node.id);
    }
  }
  const producerOf = (name: string, scope: number): number | undefined => {
    for (let s = scope; s >= 0; s = parentScope[s] ?? -1) {
      const found = producers[s]?.get(name);
      if (found !== undefined) return found;
    }
    return undefined;
  };
  const edges: [number, number][] = [];
  const seen = new Set<number>();
  const count = view.nodes.length;
  for (const node of view.nodes) {
    for (const input of node.inputs) {
      const value = input >= 0 ? view.values[input] : undefined;
      const from = value ? producerOf(value.name, node.scope) : undefined;
      if (from === undefined || from === node.id) continue;
      const key = from * count + node.id;
      if (seen.has(key)) continue;
      seen.add(key);
      edges.push([from, node.id]);
    }
  }
  const nodeByName = new Map<string, number>();
  for (const node of view.nodes) if (!nodeByName.has(node.name)) nodeByName.set(node.name, node.id);
  return {
    view,
    edges,
    nodeByName,
    value: (id) => view.values[id],
    node: (id) => view.nodes[id]!,
  };
}
