/**
 * Collapsible groups built from node names, so a model of hundreds of layers reads as one box per layer:
 *
 * - a name with '/' ("/encoder/layer.3/attn/MatMul") is a path: every segment but the last is a namespace;
 * - a name without '/' but with '.' ("encoder.layer.3.attn.MatMul") is split at '.', a numeric segment
 *   staying with the one before it ("layer.3"); auto-generated names such as "p2o.Conv.12" thus have the
 *   single namespace "p2o";
 * - a node without a namespace that reads nothing but weights (a Constant) joins the namespace of its
 *   first consumer and is placed just before it;
 * - a node with If/Loop/Scan bodies becomes a group holding the node and one group per body;
 * - a namespace with one child is merged into its parent (labels joined with '/'), a group with one child
 *   dissolves, and a group with more than MAX_CHILDREN children (a flat graph) is cut into consecutive
 *   blocks of its children in execution order.
 */
import type { GraphView } from '../../src/protocol/graph';

export type GroupKind = 'root' | 'namespace' | 'block' | 'subgraph' | 'body';

/** A child of a group: a node id (>= 0) or a group, encoded as -(group id) - 1. */
export type Item = number;

export interface Group {
  readonly id: number;
  label: string;
  readonly kind: GroupKind;
  parent: number;
  children: Item[];
  /** Every node inside, at any depth, in execution order. */
  members: number[];
}

export interface GroupTree {
  readonly groups: readonly Group[];
  /** For every node, the groups that contain it, outermost first (the root excluded). */
  readonly ancestors: readonly (readonly number[])[];
}

export const ROOT = 0;
const MAX_CHILDREN = 120;
const TARGET_BLOCKS = 100;
const MIN_BLOCK = 16;

export const groupItem = (group: number): Item => -group - 1;
export const isGroupItem = (item: Item): boolean => item < 0;
export const itemGroup = (item: Item): number => -item - 1;

/** The namespace segments of a node name (its own last segment excluded). */
export function namespaceOf(name: string): string[] {
  if (name.includes('/'))
    return name
      .split('/')
      .filter((s) => s.length > 0)
      .slice(0, -1);
  if (!name.includes('.')) return [];
  const parts: string[] = [];
  for (const segment of name.split('.')) {
    if (/^\d+$/.test(segment) && parts.length > 0) parts[parts.length - 1] += `.${segment}`;
    else parts.push(segment);
  }
  return parts.slice(0, -1);
}

export function buildGroups(view: GraphView): GroupTree {
  const groups: Group[] = [];
  const create = (label: string, kind: GroupKind, parent: number): number => {
    const id = groups.length;
    groups.push({ id, label, kind, parent, children: [], members: [] });
    if (parent >= 0) groups[parent]!.children.push(groupItem(id));
    return id;
  };
  create('main', 'root', -1);
  const scopeGroup = new Map<number, number>([[0, ROOT]]);
  const namespaces = new Map<string, number>();
  const namespace = (container: number, segment: string): number => {
    const key = `${container}\u0000${segment}`;
    let id = namespaces.get(key);
    if (id === undefined) {
      id = create(segment, 'namespace', container);
      namespaces.set(key, id);
    }
    return id;
  };
  const { paths, order } = placeNodes(view);
  for (const id of order) {
    const node = view.nodes[id]!;
    let container = scopeGroup.get(node.scope) ?? ROOT;
    for (const segment of paths[id]!) container = namespace(container, segment);
    if (node.subgraphs.length === 0) {
      groups[container]!.children.push(node.id);
      continue;
    }
    const owner = create(`${node.name} (${node.opType})`, 'subgraph', container);
    groups[owner]!.children.push(node.id);
    for (const scopeId of node.subgraphs) {
      const label = view.scopes[scopeId]?.label ?? String(scopeId);
      scopeGroup.set(scopeId, create(label.slice(label.lastIndexOf('/') + 1), 'body', owner));
    }
  }
  simplify(groups, ROOT);
  const ancestors: number[][] = view.nodes.map(() => []);
  const collect = (id: number, chain: number[]): number[] => {
    const group = groups[id]!;
    const inside = id === ROOT ? chain : [...chain, id];
    group.members = group.children.flatMap((item) => {
      if (isGroupItem(item)) return collect(itemGroup(item), inside);
      ancestors[item] = inside;
      return [item];
    });
    group.members.sort((a, b) => a - b);
    return group.members;
  };
  collect(ROOT, []);
  return { groups, ancestors };
}

/** Every node's namespace path, and the order to place nodes in: execution order, sources before consumers. */
function placeNodes(view: GraphView): { paths: string[][]; order: number[] } {
  const paths = view.nodes.map((n) => namespaceOf(n.name));
  const firstConsumer = new Map<number, number>();
  for (const node of view.nodes) {
    for (const input of node.inputs) if (input >= 0 && !firstConsumer.has(input)) firstConsumer.set(input, node.id);
  }
  const position = view.nodes.map((n) => n.id);
  for (const node of view.nodes) {
    const source = node.inputs.every((v) => v < 0 || view.values[v]?.kind === 'weight');
    if (!source || paths[node.id]!.length > 0) continue;
    const consumer = node.outputs.map((v) => firstConsumer.get(v)).find((c) => c !== undefined);
    if (consumer === undefined || view.nodes[consumer]!.scope !== node.scope) continue;
    paths[node.id] = paths[consumer]!;
    position[node.id] = consumer - 0.5;
  }
  const order = view.nodes.map((n) => n.id).sort((a, b) => position[a]! - position[b]! || a - b);
  return { paths, order };
}

/** Merges single-child namespaces, dissolves single-child groups and cuts wide groups into blocks. */
function simplify(groups: Group[], id: number): void {
  const group = groups[id]!;
  group.children = group.children.flatMap((item) => {
    if (!isGroupItem(item)) return [item];
    const child = groups[itemGroup(item)]!;
    simplify(groups, child.id);
    if (child.children.length === 1 && child.kind !== 'body') {
      const only = child.children[0]!;
      if (isGroupItem(only)) groups[itemGroup(only)]!.parent = id;
      return [only];
    }
    return [item];
  });
  const only = group.children.length === 1 ? group.children[0]! : undefined;
  if (only !== undefined && isGroupItem(only) && groups[itemGroup(only)]!.kind === 'namespace') {
    const child = groups[itemGroup(only)]!;
    if (group.kind === 'namespace') group.label = `${group.label}/${child.label}`;
    group.children = child.children;
    for (const item of group.children) if (isGroupItem(item)) groups[itemGroup(item)]!.parent = id;
  }
  while (group.children.length > MAX_CHILDREN) {
    const size = Math.max(MIN_BLOCK, Math.ceil(group.children.length / TARGET_BLOCKS));
    const items = group.children;
    group.children = [];
    for (let start = 0; start < items.length; start += size) {
      const block = groups.length;
      const label = `block ${start / size + 1}`;
      groups.push({ id: block, label, kind: 'block', parent: id, children: [], members: [] });
      group.children.push(groupItem(block));
      const slice = items.slice(start, start + size);
      groups[block]!.children = slice;
      for (const item of slice) if (isGroupItem(item)) groups[itemGroup(item)]!.parent = block;
    }
  }
}

/**
 * The most frequent op types of a group ("Conv ×12 · Add ×5"), for its box; Constant nodes (exporters such as
 * Paddle2ONNX hold every weight in one) would crowd out the operators that compute.
 */
export function opMix(view: GraphView, group: Group, top = 2): string {
  const counts = new Map<string, number>();
  for (const id of group.members) {
    const op = view.nodes[id]!.opType;
    if (op !== 'Constant') counts.set(op, (counts.get(op) ?? 0) + 1);
  }
  return [...counts]
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .slice(0, top)
    .map(([op, n]) => `${op} ×${n}`)
    .join(' · ');
}
