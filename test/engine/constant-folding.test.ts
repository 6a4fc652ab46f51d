/**
 * Constant folding (src/engine/constant-folding.ts): folded nodes give what their kernels give, are still
 * observed, keep their values across runs out of buffer recycling, and fold nothing a run can change
 * (fed inputs with initializer defaults, body inputs shadowing outer constants, kernels that fail).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { onnx } from 'onnx-proto';
import { setBufferRecycling } from '../../src/engine/buffers';
import { MultiplyContext } from '../../src/engine/multiply';
import { Session } from '../../src/engine/session';
import type { Value } from '../../src/engine/types';
import { loadModel, type Node, type Tensor } from '../../src/onnx';
import { FLOAT, INT64, floatTensor, modelBytes, node, tensorValue } from '../onnx/helpers';

const A = onnx.AttributeProto.AttributeType;
const BOOL = onnx.TensorProto.DataType.BOOL;

const tensorAttribute = (t: onnx.ITensorProto): onnx.IAttributeProto => ({ name: 'value', type: A.TENSOR, t });
const graphAttribute = (name: string, g: onnx.IGraphProto): onnx.IAttributeProto => ({ name, type: A.GRAPH, g });
const int64Tensor = (name: string, dims: number[], values: number[]): onnx.ITensorProto => ({
  name,
  dims,
  dataType: INT64,
  int64Data: values,
});
const constant = (output: string, t: onnx.ITensorProto) => node('Constant', [], [output], output, [tensorAttribute(t)]);

async function session(graph: onnx.IGraphProto, opset = 17): Promise<Session> {
  return new Session(await loadModel(modelBytes(graph, { opsetImport: [{ domain: '', version: opset }] })));
}

const floats = (name: string, dims: number[], values: number[]): Tensor => ({
  name,
  dtype: 'float32',
  dims,
  data: Float32Array.from(values),
});

function data(value: Value | undefined): number[] {
  assert.ok(value && !Array.isArray(value), 'expected a tensor');
  return Array.from(value.data as ArrayLike<number | bigint>, Number);
}

/**
 * y = x + Tile(Transpose(Concat(…))): every node but the Add depends on Constants alone. c is [2, 3] = 0…5;
 * the Slice keeps row 1 reversed ([1, 3]: 5, 4, 3); Shape(c) = (2, 3) cast to float and reshaped to [1, 2];
 * the slice's first column ([1, 1]: 5): concatenated, (5, 4, 3, 2, 3, 5), made a column tiled twice.
 */
function foldableGraph(): onnx.IGraphProto {
  return {
    name: 'foldable',
    input: [tensorValue('x', FLOAT, [6, 2])],
    output: [tensorValue('y', FLOAT, [6, 2]), tensorValue('t', FLOAT, [6, 2])],
    node: [
      constant('c', floatTensor('c', [2, 3], [0, 1, 2, 3, 4, 5])),
      constant('starts', int64Tensor('starts', [2], [1, -1])),
      constant('ends', int64Tensor('ends', [2], [2, -4])),
      constant('axes', int64Tensor('axes', [2], [0, 1])),
      constant('steps', int64Tensor('steps', [2], [1, -1])),
      node('Slice', ['c', 'starts', 'ends', 'axes', 'steps'], ['row'], 'slice'),
      node('Shape', ['c'], ['shape'], 'shape'),
      node('Cast', ['shape'], ['shape_f'], 'cast', [{ name: 'to', type: A.INT, i: FLOAT }]),
      constant('pair', int64Tensor('pair', [2], [1, 2])),
      node('Reshape', ['shape_f', 'pair'], ['shape_row'], 'reshape'),
      constant('first', int64Tensor('first', [1], [0])),
      constant('one', int64Tensor('one', [1], [1])),
      node('Slice', ['row', 'first', 'one', 'one'], ['corner'], 'corner'),
      node('Concat', ['row', 'shape_row', 'corner'], ['joined'], 'concat', [{ name: 'axis', type: A.INT, i: 1 }]),
      node('Unsqueeze', ['joined', 'first'], ['wide'], 'unsqueeze'),
      node('Squeeze', ['wide', 'first'], ['narrow'], 'squeeze'),
      node('Transpose', ['narrow'], ['column'], 'transpose'),
      constant('tile', int64Tensor('tile', [2], [1, 2])),
      node('Tile', ['column', 'tile'], ['t'], 'tile_node'),
      node('Add', ['x', 't'], ['y'], 'add'),
    ],
  };
}

test('folded nodes are observed in every run with the outputs their kernels give, and fold once', async () => {
  const s = await session(foldableGraph());
  const x = floats('x', [6, 2], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
  const outputsByRun: Map<string, (Value | undefined)[]>[] = [];
  for (let run = 0; run < 2; run++) {
    const seen = new Map<string, (Value | undefined)[]>();
    const result = s.run(new Map([['x', x]]), {
      observeNode: (node: Node, inputs, outputs) => {
        seen.set(node.name, [...outputs]);
        // What the node's kernel gives on the inputs the observer is shown, bit for bit.
        const again = s.runNode(node, inputs, MultiplyContext.exact());
        assert.deepEqual(outputs.map(data), again.map(data), `${node.name}`);
      },
    });
    assert.deepEqual(data(result.get('y')), [6, 7, 7, 8, 8, 9, 9, 10, 12, 13, 16, 17]);
    outputsByRun.push(seen);
  }
  const [first, second] = outputsByRun as [(typeof outputsByRun)[0], (typeof outputsByRun)[0]];
  assert.equal(first.size, 20, 'every node is observed');
  for (const name of ['slice', 'shape', 'cast', 'reshape', 'corner', 'concat', 'transpose', 'tile_node']) {
    assert.equal(first.get(name)![0], second.get(name)![0], `${name} is folded: the same value in every run`);
  }
  assert.notEqual(first.get('add')![0], second.get('add')![0], 'the Add depends on x: computed in each run');
  // Unobserved runs skip the folded nodes, their values in scope from the start; a folded output is returned.
  for (let run = 0; run < 2; run++) {
    const result = s.run(new Map([['x', x]]));
    assert.deepEqual(data(result.get('y')), [6, 7, 7, 8, 8, 9, 9, 10, 12, 13, 16, 17]);
    assert.deepEqual(data(result.get('t')), [5, 5, 4, 4, 3, 3, 2, 2, 3, 3, 5, 5]);
  }
});

test('an input with an initializer default is not a constant: a feed overrides it in any run', async () => {
  const s = await session({
    name: 'defaults',
    input: [tensorValue('w', FLOAT, [2])],
    output: [tensorValue('y', FLOAT, [4])],
    initializer: [floatTensor('w', [2], [1, 2])],
    node: [node('Concat', ['w', 'w'], ['y'], 'concat', [{ name: 'axis', type: A.INT, i: 0 }])],
  });
  assert.deepEqual(data(s.run(new Map()).get('y')), [1, 2, 1, 2]);
  assert.deepEqual(data(s.run(new Map([['w', floats('w', [2], [7, 8])]])).get('y')), [7, 8, 7, 8]);
  assert.deepEqual(data(s.run(new Map()).get('y')), [1, 2, 1, 2]);
});

test('a body input shadows an outer constant of the same name', async () => {
  // Loop body (i, cond, c) → (cond, Cast(c)): c is the carried value, not the outer Constant c.
  const body: onnx.IGraphProto = {
    name: 'body',
    input: [tensorValue('i', INT64, []), tensorValue('cond_in', BOOL, []), tensorValue('c', FLOAT, [1])],
    output: [tensorValue('cond_out', BOOL, []), tensorValue('c_out', FLOAT, [1])],
    node: [
      node('Identity', ['cond_in'], ['cond_out'], 'keep_going'),
      node('Cast', ['c'], ['c_out'], 'carry', [{ name: 'to', type: A.INT, i: FLOAT }]),
    ],
  };
  const s = await session({
    name: 'shadowing',
    input: [tensorValue('x', FLOAT, [1])],
    output: [tensorValue('y', FLOAT, [1])],
    node: [
      constant('c', floatTensor('c', [1], [10])),
      constant('trips', int64Tensor('trips', [], [2])),
      node('Loop', ['trips', '', 'x'], ['y'], 'loop', [graphAttribute('body', body)]),
      node('Identity', ['c'], ['c_used'], 'reads_outer_c'),
    ],
  });
  assert.deepEqual(data(s.run(new Map([['x', floats('x', [1], [3])]])).get('y')), [3]);
});

test('a foldable node whose kernel fails is left to the runs: the nodes before it run and are observed', async () => {
  const bad = node('Reshape', ['six', 'four'], ['r'], 'bad');
  const branch = (name: string, nodes: onnx.INodeProto[], output: string): onnx.IGraphProto => ({
    name,
    input: [],
    output: [{ name: output }],
    node: nodes,
  });
  const s = await session({
    name: 'failing',
    input: [tensorValue('cond', BOOL, []), tensorValue('x', FLOAT, [6])],
    output: [{ name: 'y' }],
    node: [
      constant('six', floatTensor('six', [6], [1, 2, 3, 4, 5, 6])),
      constant('four', int64Tensor('four', [1], [4])),
      node('If', ['cond'], ['y'], 'if', [
        graphAttribute('then_branch', branch('then', [node('Relu', ['x'], ['before'], 'before'), bad], 'r')),
        graphAttribute('else_branch', branch('else', [], 'x')),
      ]),
    ],
  });
  const cond = (value: boolean): Tensor => ({ name: 'cond', dtype: 'bool', dims: [], data: Uint8Array.of(+value) });
  const x = floats('x', [6], [0, 0, 0, 0, 0, 1]);
  assert.deepEqual(
    data(
      s
        .run(
          new Map([
            ['cond', cond(false)],
            ['x', x],
          ]),
        )
        .get('y'),
    ),
    [0, 0, 0, 0, 0, 1],
  );
  for (let run = 0; run < 2; run++) {
    const observed: string[] = [];
    const observeNode = (node: Node) => observed.push(node.name);
    assert.throws(
      () =>
        s.run(
          new Map([
            ['cond', cond(true)],
            ['x', x],
          ]),
          { observeNode },
        ),
      /Reshape node "bad" failed/,
    );
    assert.ok(observed.includes('before'), `run ${run}: the node before the failing one was not observed`);
  }
});

test('a folded value is never recycled: later runs cannot overwrite it', async () => {
  // ConstantOfShape draws its float32 result from the buffer pool; the Add releases it after each run.
  const n = 1024;
  const s = await session({
    name: 'pooled',
    input: [tensorValue('x', FLOAT, [n])],
    output: [tensorValue('y', FLOAT, [n])],
    node: [
      constant('shape', int64Tensor('shape', [1], [n])),
      node('ConstantOfShape', ['shape'], ['filled'], 'fill', [tensorAttribute(floatTensor('', [1], [1.5]))]),
      node('Add', ['x', 'filled'], ['y'], 'add'),
    ],
  });
  const x = floats(
    'x',
    [n],
    Array.from({ length: n }, (_, i) => i),
  );
  const expected = Array.from({ length: n }, (_, i) => i + 1.5);
  const previous = setBufferRecycling(true);
  try {
    const first = s.run(new Map([['x', x]])).get('y');
    for (let run = 0; run < 3; run++)
      assert.deepEqual(data(s.run(new Map([['x', x]])).get('y')), expected, `run ${run}`);
    assert.deepEqual(data(first), expected, 'the first output');
  } finally {
    setBufferRecycling(previous);
  }
});

test('a multiplication of constants is not folded: each run computes it under its own scheme', async () => {
  const s = await session({
    name: 'product',
    input: [],
    output: [tensorValue('y', FLOAT, [2])],
    node: [
      constant('a', floatTensor('a', [2], [1.7, -2.9])),
      constant('b', floatTensor('b', [2], [1.3, 0.55])),
      node('Mul', ['a', 'b'], ['y'], 'mul'),
    ],
  });
  const exact = data(s.run(new Map(), { multiply: MultiplyContext.exact() }).get('y'));
  const lmul = data(s.run(new Map(), { multiply: new MultiplyContext({ scheme: 'lmul4' }) }).get('y'));
  const f = Math.fround;
  assert.deepEqual(exact, [f(f(1.7) * f(1.3)), f(f(-2.9) * f(0.55))]);
  assert.notDeepEqual(lmul, exact);
});

test('a loop body folds its constants and outer ones once, and every iteration reads them, observed or not', async () => {
  // Body: v + Concat(c, k), c the outer Constant 10, k the body's Constant 2; three trips.
  const body: onnx.IGraphProto = {
    name: 'body',
    input: [tensorValue('i', INT64, []), tensorValue('cond_in', BOOL, []), tensorValue('v', FLOAT, [2])],
    output: [tensorValue('cond_out', BOOL, []), tensorValue('v_out', FLOAT, [2])],
    node: [
      node('Identity', ['cond_in'], ['cond_out'], 'keep_going'),
      constant('k', floatTensor('k', [1], [2])),
      node('Concat', ['c', 'k'], ['ck'], 'join', [{ name: 'axis', type: A.INT, i: 0 }]),
      node('Add', ['v', 'ck'], ['v_out'], 'step'),
    ],
  };
  const s = await session({
    name: 'loop',
    input: [tensorValue('x', FLOAT, [2])],
    output: [tensorValue('y', FLOAT, [2])],
    node: [
      constant('c', floatTensor('c', [1], [10])),
      constant('trips', int64Tensor('trips', [], [3])),
      node('Loop', ['trips', '', 'x'], ['y'], 'loop', [graphAttribute('body', body)]),
    ],
  });
  const feeds = new Map([['x', floats('x', [2], [1, 1])]]);
  for (let run = 0; run < 2; run++) {
    assert.deepEqual(data(s.run(feeds).get('y')), [31, 7], `unobserved run ${run}`);
    const joins: (Value | undefined)[] = [];
    const observeNode = (node: Node, _inputs: unknown, outputs: readonly (Value | undefined)[]) => {
      if (node.name === 'join') joins.push(outputs[0]);
    };
    assert.deepEqual(data(s.run(feeds, { observeNode }).get('y')), [31, 7], `observed run ${run}`);
    assert.equal(joins.length, 3, 'the folded node is observed in every iteration');
    assert.deepEqual(data(joins[0]), [10, 2]);
    assert.ok(
      joins.every((value) => value === joins[0]),
      'folded with the outer c: one value for every iteration',
    );
  }
});
