/** What is drawn for a set of expanded groups: boxes (nodes and collapsed groups), frames and edges. */
import type { LayoutRequest } from './layout-protocol';
import type { GraphModel } from './model';
import { isGroupItem, itemGroup, ROOT, type GroupTree } from './groups';

export interface VisibleBox {
  readonly kind: 'node' | 'group';
  /** Node id or group id. */
  readonly ref: number;
}

export interface VisibleGraph {
  readonly boxes: readonly VisibleBox[];
  /** Group id of every frame (expanded group other than the root). */
  readonly clusters: readonly number[];
  /** For every node, the box that shows it (itself or its collapsed group). */
  readonly boxOfNode: Int32Array;
  readonly request: Omit<LayoutRequest, 'seq'>;
}

const NODE_SIZE = { width: 170, height: 52 };
const GROUP_SIZE = { width: 220, height: 52 };

export function visibleGraph(model: GraphModel, tree: GroupTree, expanded: ReadonlySet<number>): VisibleGraph {
  const boxes: VisibleBox[] = [];
  const specs: { width: number; height: number; cluster: number }[] = [];
  const clusters: number[] = [];
  const clusterSpecs: { parent: number }[] = [];
  const boxOfNode = new Int32Array(model.view.nodes.length).fill(-1);
  const walk = (group: number, cluster: number): void => {
    for (const item of tree.groups[group]!.children) {
      if (!isGroupItem(item)) {
        boxOfNode[item] = boxes.length;
        boxes.push({ kind: 'node', ref: item });
        specs.push({ ...NODE_SIZE, cluster });
        continue;
      }
      const child = itemGroup(item);
      if (expanded.has(child)) {
        clusters.push(child);
        clusterSpecs.push({ parent: cluster });
        walk(child, clusters.length - 1);
        continue;
      }
      for (const member of tree.groups[child]!.members) boxOfNode[member] = boxes.length;
      boxes.push({ kind: 'group', ref: child });
      specs.push({ ...GROUP_SIZE, cluster });
    }
  };
  walk(ROOT, -1);
  const edges: [number, number][] = [];
  const seen = new Set<number>();
  for (const [from, to] of model.edges) {
    const a = boxOfNode[from]!;
    const b = boxOfNode[to]!;
    if (a === b || a < 0 || b < 0 || seen.has(a * boxes.length + b)) continue;
    seen.add(a * boxes.length + b);
    edges.push([a, b]);
  }
  return { boxes, clusters, boxOfNode, request: { boxes: specs, clusters: clusterSpecs, edges } };
}
