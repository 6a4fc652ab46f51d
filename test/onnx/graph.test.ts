import assert from 'node:assert/strict';
import { test } from 'node:test';
import { onnx } from 'onnx-proto';
import { loadModel } from '../../src/onnx/load';
import { getAttribute, subgraphsOf, type Graph, type Node } from '../../src/onnx/model';
import { functionOrder, orderModel, topologicalOrder } from '../../src/onnx/topo';
import { FLOAT, INT64, floatTensor, int64, modelBytes, node, rejectsWith, smallGraph, tensorValue } from './helpers';

const A = onnx.AttributeProto.AttributeType;

function names(nodes: readonly Node[]): string[] {
  return nodes.map((n) => n.name);
}

test('model header, opsets, metadata and graph inputs/outputs/initializers are decoded', async () => {
  const graph = smallGraph();
  graph.input!.push(tensorValue('W', FLOAT, [3])); // old-IR style: the initializer listed as input too
  graph.valueInfo = [
    tensorValue('y', FLOAT, ['batch', null, -1 as number]),
    { name: 'seq', type: { sequenceType: { elemType: { tensorType: { elemType: INT64 } } } } },
    {
      name: 'map',
      type: { mapType: { keyType: 8, valueType: { tensorType: { elemType: FLOAT, shape: { dim: [] } } } } },
    },
    { name: 'opt', type: { optionalType: { elemType: { tensorType: { elemType: 16 } } } } },
    { name: 'untyped' },
  ];
  const model = await loadModel(
    modelBytes(graph, {
      irVersion: 7,
      producerName: 'unit-test',
      producerVersion: '1.0',
      domain: 'org.example',
      modelVersion: 3,
      docString: 'doc',
      opsetImport: [
        { domain: 'ai.onnx', version: 13 },
        { domain: 'com.microsoft', version: 1 },
      ],
      metadataProps: [
        { key: 'author', value: 'me' },
        { key: '__proto__', value: 'harmless' },
      ],
    }),
  );
  assert.equal(model.irVersion, 7);
  assert.equal(model.producerName, 'unit-test');
  assert.equal(model.producerVersion, '1.0');
  assert.equal(model.domain, 'org.example');
  assert.equal(model.modelVersion, 3);
  assert.equal(model.docString, 'doc');
  assert.deepEqual(model.opsetImports, [
    { domain: '', version: 13 },
    { domain: 'com.microsoft', version: 1 },
  ]);
  assert.equal(model.metadata.author, 'me');
  assert.equal(Object.getOwnPropertyDescriptor(model.metadata, '__proto__')?.value, 'harmless');

  const g = model.graph;
  assert.equal(g.name, 'small');
  assert.deepEqual(
    g.inputs.map((i) => [i.name, i.isInitializer]),
    [
      ['x', false],
      ['W', true],
    ],
  );
  assert.deepEqual(g.inputs[0]!.type, { kind: 'tensor', elemType: 'float32', shape: ['batch', 3] });
  assert.deepEqual(
    g.outputs.map((o) => o.name),
    ['z'],
  );
  assert.deepEqual(
    g.initializers.map((t) => [t.name, t.dtype, t.dims, [...t.data]]),
    [['W', 'float32', [3], [1, 2, 3]]],
  );
  assert.deepEqual(
    g.valueInfo.map((v) => v.type),
    [
      // A negative dim_value is an exporter's "unknown", like a dim with neither value nor name.
      { kind: 'tensor', elemType: 'float32', shape: ['batch', null, null] },
      { kind: 'sequence', elemType: { kind: 'tensor', elemType: 'int64', shape: null } },
      { kind: 'map', keyType: 'string', valueType: { kind: 'tensor', elemType: 'float32', shape: [] } },
      { kind: 'optional', elemType: { kind: 'tensor', elemType: 'bfloat16', shape: null } },
      null,
    ],
  );
});

test('every attribute type decodes to a plain value; untyped IR-1 attributes are typed by their field', async () => {
  const body: onnx.IGraphProto = {
    name: 'body',
    node: [node('Identity', ['x'], ['b'], 'inner')],
    output: [{ name: 'b' }],
  };
  const attributes: onnx.IAttributeProto[] = [
    { name: 'f', type: A.FLOAT, f: 0.5 },
    { name: 'i', type: A.INT, i: int64(2n ** 63n - 1n) },
    { name: 's', type: A.STRING, s: Buffer.from('ünï') },
    { name: 't', type: A.TENSOR, t: floatTensor('tv', [2], [1, 2]) },
    { name: 'g', type: A.GRAPH, g: body },
    {
      name: 'st',
      type: A.SPARSE_TENSOR,
      sparseTensor: {
        dims: [4],
        values: floatTensor('sv', [1], [9]),
        indices: { dataType: INT64, dims: [1], int64Data: [2] },
      },
    },
    { name: 'tp', type: A.TYPE_PROTO, tp: { tensorType: { elemType: FLOAT } } },
    { name: 'fs', type: A.FLOATS, floats: [1, 2] },
    { name: 'is', type: A.INTS, ints: [-1, 3] },
    { name: 'ss', type: A.STRINGS, strings: [Buffer.from('a'), Buffer.from('b')] },
    { name: 'ts', type: A.TENSORS, tensors: [floatTensor('t0', [], [3])] },
    { name: 'gs', type: A.GRAPHS, graphs: [body, body] },
    { name: 'legacy', i: 7 },
    { name: 'legacyInts', ints: [1, 2] },
  ];
  const model = await loadModel(
    modelBytes({
      input: [{ name: 'x' }],
      output: [{ name: 'y' }],
      node: [node('Custom', ['x'], ['y'], 'n', attributes)],
    }),
  );
  const n = model.graph.nodes[0]!;
  const value = (name: string): unknown => {
    const a = getAttribute(n, name);
    assert.ok(a && a.refAttrName === undefined, name);
    return [a.type, a.value];
  };
  assert.deepEqual(value('f'), ['float', 0.5]);
  assert.deepEqual(value('i'), ['int', 2 ** 63]); // INT64_MAX, as the nearest double
  assert.deepEqual(value('s'), ['string', 'ünï']);
  const [, t] = value('t') as [string, { name: string; data: Float32Array }];
  assert.deepEqual([t.name, [...t.data]], ['tv', [1, 2]]);
  const [, g] = value('g') as [string, Graph];
  assert.deepEqual(names(g.nodes), ['inner']);
  const [, st] = value('st') as [
    string,
    { dims: number[]; values: { data: Float32Array }; indices: { data: BigInt64Array } },
  ];
  assert.deepEqual([st.dims, [...st.values.data], [...st.indices.data]], [[4], [9], [2n]]);
  assert.deepEqual(value('tp'), ['type', { kind: 'tensor', elemType: 'float32', shape: null }]);
  assert.deepEqual(value('fs'), ['floats', [1, 2]]);
  assert.deepEqual(value('is'), ['ints', [-1, 3]]);
  assert.deepEqual(value('ss'), ['strings', ['a', 'b']]);
  assert.equal((value('ts') as [string, unknown[]])[1].length, 1);
  assert.equal(subgraphsOf(n).length, 3);
  assert.deepEqual(value('legacy'), ['int', 7]);
  assert.deepEqual(value('legacyInts'), ['ints', [1, 2]]);
});

test('nodes keep absent optional inputs as "", normalise the ai.onnx domain and get stable generated names', async () => {
  const model = await loadModel(
    modelBytes({
      input: [{ name: 'x' }],
      output: [{ name: 'c' }],
      node: [
        { ...node('Relu', ['x'], ['a']), domain: 'ai.onnx' },
        node('Relu', ['a'], ['b'], 'Relu_2'),
        node('Relu', ['b'], ['c2']),
        node('Clip', ['c2', '', 'x'], ['c']),
      ],
    }),
  );
  const nodes = model.graph.nodes;
  assert.deepEqual(names(nodes), ['Relu_0', 'Relu_2', 'Relu_2_2', 'Clip_3']);
  assert.deepEqual(
    nodes.map((n) => n.nameGenerated),
    [true, false, true, true],
  );
  assert.equal(nodes[0]!.domain, '');
  assert.deepEqual(nodes[3]!.inputs, ['c2', '', 'x']);
});

test('model-local functions are keyed by domain and name, with attribute references kept', async () => {
  const fn: onnx.IFunctionProto = {
    name: 'Scale',
    domain: 'local',
    input: ['x'],
    output: ['y'],
    attribute: ['alpha'],
    opsetImport: [{ domain: '', version: 17 }],
    node: [
      node('Constant', [], ['a'], 'const', [{ name: 'value_float', type: A.FLOAT, refAttrName: 'alpha' }]),
      node('Mul', ['x', 'a'], ['y'], 'mul'),
    ],
  };
  const call = { ...node('Scale', ['x'], ['y'], 'call'), domain: 'local' };
  const graph = { input: [{ name: 'x' }], output: [{ name: 'y' }], node: [call] };
  const model = await loadModel(modelBytes(graph, { functions: [fn] }));
  const scale = model.functions.get('local::Scale');
  assert.ok(scale);
  assert.deepEqual([scale.inputs, scale.outputs, scale.attributeNames], [['x'], ['y'], ['alpha']]);
  assert.deepEqual(scale.opsetImports, [{ domain: '', version: 17 }]);
  assert.deepEqual(scale.nodes[0]!.attributes, [{ name: 'value_float', type: 'float', refAttrName: 'alpha' }]);
  assert.deepEqual(names(functionOrder(scale)), ['const', 'mul']);
  assert.deepEqual(names(orderModel(model).get(scale)!), ['const', 'mul']);

  await rejectsWith(
    () => loadModel(modelBytes(graph, { functions: [fn, fn] })),
    'invalid-graph',
    /'local::Scale' is defined twice/,
  );
});

test('topological order keeps a valid file order and repairs an invalid one stably', async () => {
  const valid = await loadModel(modelBytes(smallGraph()));
  assert.deepEqual(names(topologicalOrder(valid.graph)), ['relu', 'mul']);

  // File order: d (needs c), b, c (needs b), a: independent nodes keep their relative file order.
  const shuffled = await loadModel(
    modelBytes({
      input: [{ name: 'x' }],
      output: [{ name: 'd' }, { name: 'a' }],
      node: [
        node('Add', ['c', 'b'], ['d'], 'D'),
        node('Relu', ['x'], ['b'], 'B'),
        node('Relu', ['b'], ['c'], 'C'),
        node('Relu', ['x'], ['a'], 'A'),
      ],
    }),
  );
  assert.deepEqual(names(topologicalOrder(shuffled.graph)), ['B', 'C', 'D', 'A']);
});

test('a subgraph reading an outer name orders its owner after the producer; outer scopes are honoured', async () => {
  const thenBranch: onnx.IGraphProto = {
    name: 'then',
    node: [node('Identity', ['late'], ['t'], 'useLate')],
    output: [{ name: 't' }],
  };
  const elseBranch: onnx.IGraphProto = {
    name: 'else',
    node: [node('Identity', ['x'], ['e'], 'useX')],
    output: [{ name: 'e' }],
  };
  const model = await loadModel(
    modelBytes({
      input: [{ name: 'x' }, { name: 'cond' }],
      output: [{ name: 'out' }],
      node: [
        node('If', ['cond'], ['out'], 'if', [
          { name: 'then_branch', type: A.GRAPH, g: thenBranch },
          { name: 'else_branch', type: A.GRAPH, g: elseBranch },
        ]),
        node('Relu', ['x'], ['late'], 'producer'),
      ],
    }),
  );
  assert.deepEqual(names(topologicalOrder(model.graph)), ['producer', 'if']);
  const orders = orderModel(model);
  assert.equal(orders.size, 3);
  const [thenGraph] = subgraphsOf(model.graph.nodes[0]!);
  assert.deepEqual(names(orders.get(thenGraph!)!), ['useLate']);
  // Sorting a subgraph on its own needs the names of its outer scope.
  assert.deepEqual(names(topologicalOrder(thenGraph!, ['late'])), ['useLate']);
  await rejectsWith(() => topologicalOrder(thenGraph!), 'invalid-graph', /node 'useLate' reads 'late'/);
});

test('cycles name their nodes; dangling inputs, double producers and unproduced outputs name the culprit', async () => {
  const cyclic = await loadModel(
    modelBytes({
      input: [{ name: 'x' }],
      output: [{ name: 'c' }],
      node: [
        node('Add', ['x', 'c'], ['a'], 'first'),
        node('Relu', ['a'], ['b'], 'second'),
        node('Relu', ['b'], ['c'], 'third'),
      ],
    }),
  );
  await rejectsWith(() => topologicalOrder(cyclic.graph), 'cycle', /first -> second -> third -> first/);

  const selfLoop = await loadModel(
    modelBytes({ output: [{ name: 'a' }], node: [node('Relu', ['a'], ['a'], 'ouroboros')] }),
  );
  await rejectsWith(() => orderModel(selfLoop), 'cycle', /ouroboros -> ouroboros/);

  const xToY = { input: [{ name: 'x' }], output: [{ name: 'y' }] };
  const dangling = await loadModel(modelBytes({ ...xToY, node: [node('Add', ['x', 'ghost'], ['y'], 'adder')] }));
  await rejectsWith(() => orderModel(dangling), 'invalid-graph', /node 'adder' reads 'ghost'/);

  const twice = await loadModel(
    modelBytes({ ...xToY, node: [node('Relu', ['x'], ['y'], 'one'), node('Relu', ['x'], ['y'], 'two')] }),
  );
  await rejectsWith(
    () => orderModel(twice),
    'invalid-graph',
    /output 'y' of node 'two' is also produced by node 'one'/,
  );

  const unproduced = await loadModel(modelBytes({ input: [{ name: 'x' }], output: [{ name: 'nothing' }], node: [] }));
  await rejectsWith(() => orderModel(unproduced), 'invalid-graph', /graph output 'nothing' is produced by nothing/);

  // Inside a subgraph the error names the inner node and where it sits.
  const body: onnx.IGraphProto = {
    name: 'body',
    node: [node('Relu', ['phantom'], ['o'], 'innerNode')],
    output: [{ name: 'o' }],
  };
  const nested = await loadModel(
    modelBytes({
      input: [{ name: 'c' }],
      output: [{ name: 'r' }],
      node: [
        node('If', ['c'], ['r'], 'branch', [
          { name: 'then_branch', type: A.GRAPH, g: body },
          { name: 'else_branch', type: A.GRAPH, g: body },
        ]),
      ],
    }),
  );
  await rejectsWith(
    () => orderModel(nested),
    'invalid-graph',
    /node 'innerNode' in subgraph 'body' of node 'branch' reads 'phantom'/,
  );
});
