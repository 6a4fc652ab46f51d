import assert from 'node:assert/strict';
import { test } from 'node:test';
import { onnx } from 'onnx-proto';
import { formatSummaryText, summarizeModel } from '../../src/onnx/inspect';
import { loadModel } from '../../src/onnx/load';
import { FLOAT, floatTensor, modelBytes, node, tensorValue } from './helpers';

const GRAPH = onnx.AttributeProto.AttributeType.GRAPH;
const TENSOR = onnx.AttributeProto.AttributeType.TENSOR;

async function sampleModel() {
  const branch: onnx.IGraphProto = {
    name: 'branch',
    node: [node('Conv', ['x', 'W'], ['bc'], 'branchConv')],
    output: [{ name: 'bc' }],
  };
  const sequenceOfFloats = { sequenceType: { elemType: { tensorType: { elemType: FLOAT } } } };
  const fn: onnx.IFunctionProto = {
    name: 'Square',
    domain: 'local',
    input: ['a'],
    output: ['b'],
    opsetImport: [{ domain: '', version: 17 }],
    node: [node('Mul', ['a', 'a'], ['b'], 'square')],
  };
  return loadModel(
    modelBytes(
      {
        name: 'sample',
        input: [tensorValue('x', FLOAT, ['batch', 4]), tensorValue('W', FLOAT, [4, 4]), { name: 'flag' }],
        output: [tensorValue('y', FLOAT, ['batch', null]), { name: 'seq', type: sequenceOfFloats }],
        initializer: [
          floatTensor('W', [4, 4], Array(16).fill(0.5)),
          { name: 'q', dataType: 22, dims: [3], rawData: Uint8Array.from([0x21, 0x03]) }, // int4: 2 bytes for 3 elements
          { name: 'labels', dataType: 8, dims: [2], stringData: [Buffer.from('ab'), Buffer.from('ü')] }, // 2 + 2 UTF-8 bytes
        ],
        node: [
          node('MatMul', ['x', 'W'], ['m'], 'matmul'),
          node('LayerNormalization', ['m', 'W'], ['n'], 'norm'),
          { ...node('Gelu', ['n'], ['g'], 'gelu'), domain: 'com.microsoft' },
          node('Softmax', ['g'], ['s'], 'softmax'),
          { ...node('Mul', ['s', 's'], ['custom'], 'notOnnxMul'), domain: 'org.example' },
          { ...node('Square', ['s'], ['sq'], 'call'), domain: 'local' },
          node('Constant', [], ['k'], 'const', [{ name: 'value', type: TENSOR, t: floatTensor('k', [2], [1, 2]) }]),
          node('If', ['flag'], ['y'], 'if', [
            { name: 'then_branch', type: GRAPH, g: branch },
            { name: 'else_branch', type: GRAPH, g: branch },
          ]),
          node('SequenceConstruct', ['sq', 'k'], ['seq'], 'seqc'),
        ],
      },
      {
        producerName: 'hand',
        producerVersion: '0.1',
        functions: [fn],
        metadataProps: [{ key: 'note', value: 'test' }],
      },
    ),
  );
}

test('summarizeModel counts ops by location, parameters by origin and lists multiply-bearing nodes', async () => {
  const summary = summarizeModel(await sampleModel(), { path: 'sample.onnx', sizeBytes: 2048 });
  assert.deepEqual(summary.file, { path: 'sample.onnx', sizeBytes: 2048 });
  assert.deepEqual(summary.producer, { name: 'hand', version: '0.1' });
  assert.deepEqual(summary.inputs, [
    { name: 'x', type: 'float32', dtype: 'float32', shape: ['batch', 4] },
    { name: 'flag', type: 'unknown', dtype: null, shape: null },
  ]);
  assert.deepEqual(summary.outputs[1], { name: 'seq', type: 'sequence<float32>', dtype: null, shape: null });
  assert.deepEqual(summary.nodes, { main: 9, subgraph: 2, function: 1, subgraphs: 2 });
  assert.deepEqual(summary.functions, [{ domain: 'local', name: 'Square', nodes: 1 }]);
  assert.deepEqual(summary.opTypes[0], { opType: 'Conv', domain: '', total: 2, main: 0, subgraph: 2, function: 0 });
  assert.deepEqual(
    summary.opTypes.find((o) => o.opType === 'Mul' && o.domain === ''),
    { opType: 'Mul', domain: '', total: 1, main: 0, subgraph: 0, function: 1 },
  );
  assert.deepEqual(summary.parameters.initializers, { tensors: 3, elements: 16 + 3 + 2, bytes: 64 + 2 + 4 });
  assert.deepEqual(summary.parameters.constants, { tensors: 1, elements: 2, bytes: 8 });
  assert.deepEqual([summary.parameters.tensors, summary.parameters.elements, summary.parameters.bytes], [4, 23, 78]);
  assert.deepEqual(summary.parameters.external, { tensors: 0, elements: 0, bytes: 0, files: [] });
  assert.deepEqual(
    summary.multiplyNodes.map((m) => [m.name, m.category, m.onByDefault, m.location]),
    [
      ['matmul', 'multiply', true, 'main'],
      ['norm', 'normalization', true, 'main'],
      ['gelu', 'activation', false, 'main'],
      ['branchConv', 'multiply', true, 'subgraph'],
      ['branchConv', 'multiply', true, 'subgraph'],
      ['square', 'multiply', true, 'function'],
    ],
  );
  // Softmax divides: no multiplication of it is replaced.
  assert.deepEqual(summary.multiplyCounts, { multiply: 4, normalization: 1, activation: 1 });
});

test('formatSummaryText renders aligned fields and tables', async () => {
  const text = formatSummaryText(summarizeModel(await sampleModel(), { path: 'sample.onnx', sizeBytes: 2048 }));
  const lines = text.split('\n');
  assert.ok(lines.includes('Model       sample.onnx (2.0 KiB)'), text);
  assert.ok(lines.includes('Producer    hand 0.1'), text);
  assert.ok(lines.includes('Nodes       9 in the main graph, 2 in 2 subgraphs, 1 in 1 function'), text);
  assert.ok(lines.includes('Parameters  23 elements in 4 tensors, 78 bytes'), text);
  assert.ok(lines.includes('Metadata    note = test'), text);
  assert.ok(lines.includes('  x     float32  [batch, 4]'), text);
  assert.ok(lines.includes('  flag  unknown'), text);
  assert.ok(lines.includes('  y     float32            [batch, ?]'), text);
  assert.ok(lines.includes('  seq   sequence<float32>'), text);
  assert.ok(lines.includes('  Conv                ai.onnx            2     0         2         0'), text);
  const heading =
    'Multiply-bearing nodes: 4 always replaced, 1 normalization (on by default), 1 activation (off by default)';
  assert.ok(lines.includes(heading), text);
  assert.ok(lines.includes('  square      Mul                 multiply       on       function'), text);
});
