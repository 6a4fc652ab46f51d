/**
 * Layered (Sugiyama) layout of the visible boxes with dagre; runs inside the layout worker. Expanded groups
 * are laid out hierarchically: each cluster's contents get a layout of their own, innermost first, and the
 * cluster then takes part in its parent's layout as one box of that size (dagre's compound mode is far
 * slower and fails on some inputs). Edges between boxes of one level follow dagre's routes; edges that cross
 * a cluster frame are drawn from the source's bottom to the target's top.
 */
import dagre from '@dagrejs/dagre';
import type { LayoutRequest, LayoutResult, Rect } from './layout-protocol';

const PADDING = 14;
const HEADER = 22;
/** Above this many items in one level, the cheaper longest-path ranker is used. */
const LARGE_LEVEL = 400;

interface Item {
  readonly kind: 'box' | 'cluster';
  readonly index: number;
  width: number;
  height: number;
  x: number;
  y: number;
}

export function computeLayout(request: LayoutRequest): LayoutResult {
  const started = performance.now();
  const { boxes: boxSpecs, clusters: clusterSpecs } = request;
  const boxes: Item[] = boxSpecs.map((b, index) => ({
    kind: 'box',
    index,
    width: b.width,
    height: b.height,
    x: 0,
    y: 0,
  }));
  const clusters: Item[] = clusterSpecs.map((_, index) => ({
    kind: 'cluster',
    index,
    width: 0,
    height: 0,
    x: 0,
    y: 0,
  }));
  // Level of every item: -1 for the top level, else the cluster index it sits in.
  const levelItems = new Map<number, Item[]>([[-1, []]]);
  clusterSpecs.forEach((_, i) => levelItems.set(i, []));
  clusterSpecs.forEach((c, i) => levelItems.get(c.parent)!.push(clusters[i]!));
  boxSpecs.forEach((b, i) => levelItems.get(b.cluster)!.push(boxes[i]!));
  const depth = (cluster: number): number => (cluster < 0 ? 0 : 1 + depth(clusterSpecs[cluster]!.parent));
  const clusterDepth = clusterSpecs.map((_, i) => depth(i));
  // The item that represents box b at level L (b itself, or the cluster around it just below L).
  const lift = (box: number, level: number): Item | undefined => {
    let cluster = boxSpecs[box]!.cluster;
    if (cluster === level) return boxes[box];
    while (cluster >= 0) {
      const parent = clusterSpecs[cluster]!.parent;
      if (parent === level) return clusters[cluster];
      cluster = parent;
    }
    return undefined;
  };
  const routes: (number[] | undefined)[] = request.edges.map(() => undefined);
  const order = [...levelItems.keys()].sort((a, b) => (b < 0 ? -1 : a < 0 ? 1 : clusterDepth[b]! - clusterDepth[a]!));
  for (const level of order) {
    const items = levelItems.get(level)!;
    const size = layoutLevel(items, request.edges, lift, level, routes);
    if (level >= 0) {
      clusters[level]!.width = size.width + 2 * PADDING;
      clusters[level]!.height = size.height + 2 * PADDING + HEADER;
    }
  }
  // Positions so far are relative to their level; shift every level by its cluster's absolute origin.
  const place = (level: number, dx: number, dy: number): void => {
    for (const item of levelItems.get(level)!) {
      item.x += dx;
      item.y += dy;
      if (item.kind === 'cluster') place(item.index, item.x + PADDING, item.y + PADDING + HEADER);
    }
  };
  place(-1, 0, 0);
  const edges = request.edges.map(([from, to], i) => {
    const a = boxes[from]!;
    const b = boxes[to]!;
    const route = routes[i];
    if (route) {
      const origin = boxSpecs[from]!.cluster;
      const dx = origin < 0 ? 0 : clusters[origin]!.x + PADDING;
      const dy = origin < 0 ? 0 : clusters[origin]!.y + PADDING + HEADER;
      return route.map((v, k) => v + (k % 2 === 0 ? dx : dy));
    }
    return [a.x + a.width / 2, a.y + a.height, b.x + b.width / 2, b.y];
  });
  const top = levelItems.get(-1)!;
  return {
    seq: request.seq,
    boxes: boxes.map((b) => ({ x: b.x, y: b.y })),
    clusters: clusters.map((c): Rect => ({ x: c.x, y: c.y, width: c.width, height: c.height })),
    edges,
    width: Math.max(0, ...top.map((i) => i.x + i.width)),
    height: Math.max(0, ...top.map((i) => i.y + i.height)),
    milliseconds: performance.now() - started,
  };
}

/** Lays out one level's items (positions relative to the level); returns its size. */
function layoutLevel(
  items: readonly Item[],
  edges: LayoutRequest['edges'],
  lift: (box: number, level: number) => Item | undefined,
  level: number,
  routes: (number[] | undefined)[],
): { width: number; height: number } {
  const key = (item: Item) => `${item.kind[0]}${item.index}`;
  const g = new dagre.graphlib.Graph({ multigraph: false });
  g.setGraph({
    rankdir: 'TB',
    nodesep: 24,
    ranksep: 40,
    edgesep: 10,
    ranker: items.length > LARGE_LEVEL ? 'longest-path' : 'tight-tree',
  });
  g.setDefaultEdgeLabel(() => ({}));
  for (const item of items) g.setNode(key(item), { width: item.width, height: item.height });
  const direct: number[] = [];
  edges.forEach(([from, to], i) => {
    const a = lift(from, level);
    const b = lift(to, level);
    if (!a || !b || a === b) return;
    g.setEdge(key(a), key(b));
    if (a.kind === 'box' && b.kind === 'box') direct.push(i);
  });
  dagre.layout(g);
  let minX = Infinity;
  let minY = Infinity;
  let maxX = 0;
  let maxY = 0;
  for (const item of items) {
    const n = g.node(key(item));
    item.x = (n.x ?? 0) - item.width / 2;
    item.y = (n.y ?? 0) - item.height / 2;
    minX = Math.min(minX, item.x);
    minY = Math.min(minY, item.y);
    maxX = Math.max(maxX, item.x + item.width);
    maxY = Math.max(maxY, item.y + item.height);
  }
  if (items.length === 0) return { width: 0, height: 0 };
  for (const item of items) {
    item.x -= minX;
    item.y -= minY;
  }
  for (const i of direct) {
    const [from, to] = edges[i]!;
    const points = g.edge(`b${from}`, `b${to}`)?.points ?? [];
    routes[i] = points.flatMap((p: { x: number; y: number }) => [p.x - minX, p.y - minY]);
  }
  return { width: maxX - minX, height: maxY - minY };
}
