/** Grouping, visibility and layout of the graph view, in Node (no browser). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  buildGroups,
  isGroupItem,
  itemGroup,
  namespaceOf,
  opMix,
  ROOT,
  type GroupTree,
} from '../../media/graph/groups';
import { computeLayout } from '../../media/graph/layout';
import { indexGraph } from '../../media/graph/model';
import { visibleGraph } from '../../media/graph/visible';
import { EMBEDDING, modelMessage, OCR_REC, SILERO } from './fixtures';
import { syntheticGraph } from './synthetic';

test('namespaces come from "/" paths, else from "." with numeric segments kept with their parent', () => {
  assert.deepEqual(namespaceOf('/encoder/layer.3/attn/MatMul'), ['encoder', 'layer.3', 'attn']);
  assert.deepEqual(namespaceOf('model/conv2d/Conv2D__6'), ['model', 'conv2d']);
  assert.deepEqual(namespaceOf('encoder.layer.3.attn.MatMul'), ['encoder', 'layer.3', 'attn']);
  assert.deepEqual(namespaceOf('p2o.Conv.12'), ['p2o']);
  assert.deepEqual(namespaceOf('Conv_3'), []);
  assert.deepEqual(namespaceOf('/MatMul'), []);
});

const labels = (tree: GroupTree, group: number) =>
  tree.groups[group]!.children.map((item) => (isGroupItem(item) ? tree.groups[itemGroup(item)]!.label : item));

test('a namespaced 100-layer model reads as one group per layer; a flat one as 100 blocks in order', () => {
  const namespaced = buildGroups(syntheticGraph(100, true));
  assert.deepEqual(
    labels(namespaced, ROOT),
    Array.from({ length: 100 }, (_, i) => `layer.${i}`),
  );
  const layer = itemGroup(namespaced.groups[ROOT]!.children[3]!);
  assert.deepEqual(labels(namespaced, layer), ['attention', 'ffn', 'output']);
  assert.equal(namespaced.groups[layer]!.members.length, 50);
  assert.deepEqual(namespaced.groups[ROOT]!.members, [...Array(5000).keys()]);

  const flat = buildGroups(syntheticGraph(100, false));
  assert.equal(flat.groups[ROOT]!.children.length, 100);
  flat.groups[ROOT]!.children.forEach((item, k) => {
    const block = flat.groups[itemGroup(item)]!;
    assert.equal(block.kind, 'block');
    assert.deepEqual(
      block.members,
      Array.from({ length: 50 }, (_, i) => 50 * k + i),
    );
  });
});

test('an If node becomes a group of the node and its bodies; body nodes sit inside their body', async () => {
  const { graph } = await modelMessage(SILERO);
  const tree = buildGroups(graph);
  for (const node of graph.nodes.filter((n) => n.subgraphs.length > 0)) {
    const owner = tree.ancestors[node.id]!.at(-1)!;
    assert.equal(tree.groups[owner]!.kind, 'subgraph');
    const bodies = tree.groups[owner]!.children.filter(isGroupItem).map(itemGroup);
    assert.deepEqual(
      bodies.map((b) => tree.groups[b]!.kind),
      ['body', 'body'],
    );
  }
  const inBody = graph.nodes.filter((n) => n.scope !== 0);
  assert.ok(inBody.every((n) => tree.ancestors[n.id]!.some((g) => tree.groups[g]!.kind === 'body')));
});

test('a value a body reads from the enclosing graph is an edge from its producer into the body', () => {
  const value = (id: number, name: string, scope: number) => ({ id, name, scope, kind: 'intermediate' as const });
  const node = (
    id: number,
    name: string,
    scope: number,
    inputs: number[],
    outputs: number[],
    subgraphs: number[] = [],
  ) => ({
    id,
    name,
    opType: name,
    domain: '',
    scope,
    inputs,
    outputs,
    attributes: [],
    subgraphs,
  });
  const model = indexGraph({
    scopes: [
      { id: 0, label: 'main' },
      { id: 1, label: 'Loop/body', ownerNode: 1 },
    ],
    nodes: [node(0, 'Relu', 0, [], [0]), node(1, 'Loop', 0, [], [1], [1]), node(2, 'Mul', 1, [2, 2], [3])],
    values: [value(0, 'a', 0), value(1, 'out', 0), value(2, 'a', 1), value(3, 'b', 1)],
  });
  assert.deepEqual(model.edges, [[0, 2]]);
});

test('a Constant without a namespace is placed with its first consumer', async () => {
  const { graph } = await modelMessage(OCR_REC);
  const tree = buildGroups(graph);
  const model = indexGraph(graph);
  const constants = graph.nodes.filter((n) => n.opType === 'Constant');
  assert.ok(constants.length > 50);
  // Same block as the consumer, or the block just before when a block boundary falls between them.
  let together = 0;
  for (const constant of constants) {
    const consumer = model.edges.find(([a]) => a === constant.id)![1];
    const [mine, theirs] = [tree.ancestors[constant.id]!, tree.ancestors[consumer]!];
    if (mine.join() === theirs.join()) together++;
    else
      assert.equal(
        tree.groups[mine.at(-1)!]!.label,
        `block ${Number(tree.groups[theirs.at(-1)!]!.label.slice(6)) - 1}`,
      );
  }
  assert.ok(together > 0.9 * constants.length, `${together} of ${constants.length}`);
});

test('visible boxes: collapsed groups stand for their members; the layout keeps boxes apart and inside frames', async () => {
  const { graph } = await modelMessage(EMBEDDING);
  const model = indexGraph(graph);
  const tree = buildGroups(graph);
  const collapsed = visibleGraph(model, tree, new Set());
  assert.ok(collapsed.boxes.length < graph.nodes.length);
  assert.ok([...collapsed.boxOfNode].every((b) => b >= 0 && b < collapsed.boxes.length));
  assert.ok(collapsed.request.edges.every(([a, b]) => a !== b));

  const all = new Set(tree.groups.map((g) => g.id));
  const expanded = visibleGraph(model, tree, all);
  assert.equal(expanded.boxes.length, graph.nodes.length);
  assert.equal(expanded.request.edges.length, model.edges.length);
  const layout = computeLayout({ seq: 7, ...expanded.request });
  assert.equal(layout.seq, 7);
  const rects = layout.boxes.map((p, i) => ({ ...p, ...expanded.request.boxes[i]! }));
  for (let i = 0; i < rects.length; i++) {
    for (let j = i + 1; j < rects.length; j++) {
      const [a, b] = [rects[i]!, rects[j]!];
      const apart = a.x + a.width <= b.x || b.x + b.width <= a.x || a.y + a.height <= b.y || b.y + b.height <= a.y;
      assert.ok(apart, `boxes ${i} and ${j} overlap`);
    }
    const cluster = rects[i]!.cluster;
    if (cluster < 0) continue;
    const frame = layout.clusters[cluster]!;
    assert.ok(rects[i]!.x >= frame.x && rects[i]!.x + rects[i]!.width <= frame.x + frame.width);
    assert.ok(rects[i]!.y >= frame.y && rects[i]!.y + rects[i]!.height <= frame.y + frame.height);
  }
  assert.ok(layout.edges.every((points) => points.length >= 4));
});

test('a group box names its most frequent computing ops, not the Constant nodes holding weights', async () => {
  const { graph } = await modelMessage(OCR_REC);
  const tree = buildGroups(graph);
  const block = tree.groups[itemGroup(tree.groups[ROOT]!.children.find(isGroupItem)!)]!;
  assert.ok(block.members.some((id) => graph.nodes[id]!.opType === 'Constant'));
  const mix = opMix(graph, block);
  assert.match(mix, /^\w+ ×\d+( · \w+ ×\d+)?$/);
  assert.doesNotMatch(mix, /Constant/);
});
