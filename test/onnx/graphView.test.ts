import assert from 'node:assert/strict';
import { test } from 'node:test';
import { onnx } from 'onnx-proto';
import { summarizeModel } from '../../src/onnx';
import { loadModel } from '../../src/onnx/load';
import { buildGraphView } from '../../src/onnx/graphView';
import { loadModelFile } from '../../src/onnx/node-fs';
import type { GraphView } from '../../src/protocol/graph';
import { REAL_MODELS } from '../fixtures/real-models';
import { FLOAT, floatTensor, modelBytes, node, tensorValue } from './helpers';

const path = (name: string) => REAL_MODELS.find((m) => m.name === name)!.path;

/** Every id points where it should: nodes and values are numbered by position, edges stay in their scope. */
function assertConsistent(view: GraphView): void {
  view.nodes.forEach((n, i) => assert.equal(n.id, i));
  view.values.forEach((v, i) => assert.equal(v.id, i));
  view.scopes.forEach((s, i) => assert.equal(s.id, i));
  for (const node of view.nodes) {
    for (const id of [...node.inputs.filter((i) => i >= 0), ...node.outputs]) {
      assert.equal(view.values[id]!.scope, node.scope, `${node.name}: value ${view.values[id]!.name} in its scope`);
    }
    for (const scope of node.subgraphs) assert.equal(view.scopes[scope]!.ownerNode, node.id);
  }
}

test('Silero VAD: If bodies are scopes owned by their If nodes, with their own nodes and values', async () => {
  const model = await loadModelFile(path('Silero VAD v5'));
  const view = buildGraphView(model);
  const summary = summarizeModel(model);
  assertConsistent(view);
  assert.equal(view.nodes.filter((n) => n.scope === 0).length, summary.nodes.main);
  assert.equal(view.nodes.filter((n) => n.scope !== 0).length, summary.nodes.subgraph);
  assert.equal(view.scopes.length - 1, summary.nodes.subgraphs);
  const owners = view.nodes.filter((n) => n.subgraphs.length > 0);
  assert.ok(owners.every((n) => n.opType === 'If'));
  const top = owners.find((n) => n.scope === 0)!;
  assert.deepEqual(top.subgraphs.map((s) => view.scopes[s]!.label).sort(), [
    `${top.name}/else_branch`,
    `${top.name}/then_branch`,
  ]);
  assert.ok(view.nodes.some((n) => n.scope !== 0 && n.opType === 'Conv' && n.multiplies === 'multiply'));
  const inputs = view.values.filter((v) => v.kind === 'input');
  assert.deepEqual(
    inputs.map((v) => [v.name, v.dtype]),
    [
      ['input', 'float32'],
      ['state', 'float32'],
      ['sr', 'int64'],
    ],
  );
  assert.deepEqual(inputs[1]!.shape, [2, null, 128]);
  assert.deepEqual(
    view.values.filter((v) => v.kind === 'output').map((v) => v.name),
    ['output', 'stateN'],
  );
});

test('openWakeWord embedding: convolutions with attributes, weight statistics and multiply categories', async () => {
  const model = await loadModelFile(path('openWakeWord embedding'));
  const view = buildGraphView(model);
  assertConsistent(view);
  assert.equal(view.scopes.length, 1);
  const convs = view.nodes.filter((n) => n.opType === 'Conv');
  assert.ok(convs.length >= 20);
  for (const conv of convs) {
    assert.equal(conv.multiplies, 'multiply');
    const weight = view.values[conv.inputs[1]!]!;
    assert.equal(weight.kind, 'weight');
    const stats = weight.stats!;
    assert.equal(
      stats.count,
      weight.shape!.reduce<number>((a, d) => a * (d as number), 1),
    );
    assert.ok(stats.min <= stats.mean && stats.mean <= stats.max && stats.std > 0);
    assert.ok(conv.attributes.some((a) => a.name === 'strides' && /^\[\d+, \d+\]$/.test(a.value)));
  }
  const initializer = model.graph.initializers.find((t) => t.name === view.values[convs[0]!.inputs[1]!]!.name)!;
  const data = initializer.data as Float32Array;
  assert.equal(view.values[convs[0]!.inputs[1]!]!.stats!.max, Math.max(...data));
  // LeakyRelu's alpha·x is an activation product (replaced only with activations on).
  const category = (n: (typeof view.nodes)[number]) =>
    n.opType === 'LeakyRelu' ? 'activation' : ['Conv', 'MatMul', 'Mul'].includes(n.opType) ? 'multiply' : undefined;
  assert.ok(view.nodes.every((n) => n.multiplies === category(n)));
});

test('PaddleOCR rec: every node of the main graph, outputs marked, long attributes shortened', async () => {
  const model = await loadModelFile(path('PaddleOCR v4 rec'));
  const view = buildGraphView(model);
  assertConsistent(view);
  assert.equal(view.nodes.length, model.graph.nodes.length);
  assert.deepEqual(
    view.nodes.map((n) => n.name),
    model.graph.nodes.map((n) => n.name),
  );
  assert.deepEqual(
    view.values.filter((v) => v.kind === 'output').map((v) => v.name),
    model.graph.outputs.map((o) => o.name),
  );
  assert.ok(view.nodes.every((n) => n.attributes.every((a) => a.value.length <= 121)));
  const constants = view.nodes.filter((n) => n.opType === 'Constant');
  assert.ok(constants.length > 0 && constants.every((n) => view.values[n.outputs[0]!]!.kind === 'weight'));
});

test('a body that reads a value of the enclosing graph sees its kind, type, shape and statistics', async () => {
  const branch = (name: string): onnx.IGraphProto => ({
    name,
    output: [tensorValue(`${name}_y`, FLOAT, [])],
    node: [node('Mul', ['x', 'W'], [`${name}_y`], `${name}_mul`)],
  });
  const graph: onnx.IGraphProto = {
    name: 'if',
    input: [tensorValue('x', FLOAT, ['n', 3]), tensorValue('c', onnx.TensorProto.DataType.BOOL, [])],
    output: [tensorValue('y', FLOAT, ['n', 3])],
    initializer: [floatTensor('W', [3], [1, 0, 3])],
    node: [
      node(
        'If',
        ['c'],
        ['y'],
        'if',
        ['then_branch', 'else_branch'].map((name) => ({
          name,
          type: onnx.AttributeProto.AttributeType.GRAPH,
          g: branch(name),
        })),
      ),
    ],
  };
  const view = buildGraphView(await loadModel(modelBytes(graph)));
  assertConsistent(view);
  const mul = view.nodes.find((n) => n.name === 'then_branch_mul')!;
  const [x, w] = mul.inputs.map((id) => view.values[id]!);
  assert.deepEqual([x!.kind, x!.dtype, x!.shape], ['intermediate', 'float32', ['n', 3]]);
  assert.deepEqual([w!.kind, w!.dtype, w!.shape], ['weight', 'float32', [3]]);
  assert.deepEqual(w!.stats, { count: 3, min: 0, max: 3, mean: 4 / 3, std: Math.sqrt(14 / 9), zeros: 1 });
  assert.equal(w!.scope, mul.scope);
});
