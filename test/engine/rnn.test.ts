/**
 * LSTM / GRU / RNN: the options the ONNX conformance cases leave out (bidirectional, reverse, sequence_lens,
 * initial states, peepholes, clip, input_forget, linear_before_reset, other activations) against
 * onnxruntime-node, and the multiply-scheme path bit-exactly against a slow reference built from `mulValues`.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { onnx } from 'onnx-proto';
import * as ort from 'onnxruntime-node';
import { mulValues, parseScheme } from '../../src/arith';
import { MultiplyContext } from '../../src/engine/multiply';
import { Session } from '../../src/engine/session';
import type { Value } from '../../src/engine/types';
import { loadModel, type Tensor } from '../../src/onnx';
import { toOrtTensor } from '../fixtures/ort';
import { FLOAT, modelBytes, node, seededRandom, tensorValue } from '../onnx/helpers';

const A = onnx.AttributeProto.AttributeType;
const INT32 = onnx.TensorProto.DataType.INT32;

type Attr = onnx.IAttributeProto;
const ints = (name: string, i: number): Attr => ({ name, type: A.INT, i });
const float = (name: string, f: number): Attr => ({ name, type: A.FLOAT, f });
const str = (name: string, s: string): Attr => ({ name, type: A.STRING, s: new TextEncoder().encode(s) });
const strs = (name: string, values: string[]): Attr => ({
  name,
  type: A.STRINGS,
  strings: values.map((s) => new TextEncoder().encode(s)),
});
const floats = (name: string, values: number[]): Attr => ({ name, type: A.FLOATS, floats: values });

function randomTensor(name: string, dims: number[], random: () => number, scale = 1): Tensor {
  const data = new Float32Array(dims.reduce((a, b) => a * b, 1));
  for (let i = 0; i < data.length; i++) data[i] = scale * (2 * random() - 1);
  return { name, dtype: 'float32', dims, data };
}

interface RecurrentCase {
  readonly title: string;
  readonly op: 'LSTM' | 'GRU' | 'RNN';
  readonly seq: number;
  readonly batch: number;
  readonly input: number;
  readonly hidden: number;
  readonly direction: 'forward' | 'reverse' | 'bidirectional';
  readonly attributes?: Attr[];
  readonly bias?: boolean;
  readonly lengths?: number[];
  readonly initial?: boolean;
  readonly peepholes?: boolean;
}

const GATES = { LSTM: 4, GRU: 3, RNN: 1 } as const;

/** The node's inputs in ONNX order ('' for absent ones) with their random values. */
function caseInputs(c: RecurrentCase): { names: string[]; values: (Tensor | undefined)[] } {
  const random = seededRandom(c.title.length * 7919 + c.seq);
  const dirs = c.direction === 'bidirectional' ? 2 : 1;
  const width = GATES[c.op] * c.hidden;
  const lengths = c.lengths && { name: 'lens', dtype: 'int32', dims: [c.batch], data: Int32Array.from(c.lengths) };
  const state = (name: string) => (c.initial ? randomTensor(name, [dirs, c.batch, c.hidden], random) : undefined);
  const values: (Tensor | undefined)[] = [
    randomTensor('X', [c.seq, c.batch, c.input], random),
    randomTensor('W', [dirs, width, c.input], random, 0.8),
    randomTensor('R', [dirs, width, c.hidden], random, 0.8),
    c.bias ? randomTensor('B', [dirs, 2 * width], random, 0.5) : undefined,
    lengths as Tensor | undefined,
    state('initial_h'),
  ];
  if (c.op === 'LSTM') {
    values.push(state('initial_c'), c.peepholes ? randomTensor('P', [dirs, 3 * c.hidden], random) : undefined);
  }
  while (values.length > 3 && values[values.length - 1] === undefined) values.pop();
  return { names: values.map((v) => v?.name ?? ''), values };
}

function recurrentModel(c: RecurrentCase, names: string[], values: (Tensor | undefined)[]): Uint8Array {
  const outputs = c.op === 'LSTM' ? ['Y', 'Y_h', 'Y_c'] : ['Y', 'Y_h'];
  const attributes = [ints('hidden_size', c.hidden), str('direction', c.direction), ...(c.attributes ?? [])];
  return modelBytes(
    {
      name: c.title,
      input: values.flatMap((v) => (v ? [tensorValue(v.name, v.dtype === 'int32' ? INT32 : FLOAT, v.dims)] : [])),
      output: outputs.map((name) => ({ name })),
      node: [node(c.op, names, outputs, 'rnn', attributes)],
    },
    { opsetImport: [{ domain: '', version: 14 }] },
  );
}

async function runBoth(
  c: RecurrentCase,
): Promise<{ ours: Map<string, Value | undefined>; reference: ort.InferenceSession.ReturnType }> {
  const { names, values } = caseInputs(c);
  const bytes = recurrentModel(c, names, values);
  const given = values.filter((v): v is Tensor => v !== undefined);
  const ours = new Session(await loadModel(bytes)).run(new Map(given.map((t) => [t.name, t])));
  const session = await ort.InferenceSession.create(bytes);
  const reference = await session.run(Object.fromEntries(given.map((t) => [t.name, toOrtTensor32(t)])));
  return { ours, reference };
}

function toOrtTensor32(t: Tensor): ort.Tensor {
  return t.dtype === 'int32' ? new ort.Tensor('int32', t.data, t.dims) : toOrtTensor(t);
}

const CASES: RecurrentCase[] = [
  {
    title: 'LSTM bidirectional, sequence_lens, initial states, peepholes',
    op: 'LSTM',
    seq: 4,
    batch: 3,
    input: 3,
    hidden: 5,
    direction: 'bidirectional',
    bias: true,
    lengths: [4, 2, 3],
    initial: true,
    peepholes: true,
  },
  {
    title: 'LSTM reverse with clip and input_forget',
    op: 'LSTM',
    seq: 3,
    batch: 2,
    input: 2,
    hidden: 3,
    direction: 'reverse',
    bias: true,
    attributes: [float('clip', 0.4), ints('input_forget', 1)],
  },
  {
    title: 'LSTM with HardSigmoid/LeakyRelu/Softsign activations and alpha/beta',
    op: 'LSTM',
    seq: 3,
    batch: 2,
    input: 3,
    hidden: 2,
    direction: 'forward',
    bias: true,
    initial: true,
    attributes: [
      strs('activations', ['HardSigmoid', 'LeakyRelu', 'Softsign']),
      floats('activation_alpha', [0.3, 0.05]),
      floats('activation_beta', [0.4]),
    ],
  },
  {
    title: 'GRU bidirectional, sequence_lens, initial state',
    op: 'GRU',
    seq: 4,
    batch: 3,
    input: 2,
    hidden: 4,
    direction: 'bidirectional',
    bias: true,
    lengths: [1, 4, 3],
    initial: true,
  },
  {
    title: 'GRU reverse, linear_before_reset',
    op: 'GRU',
    seq: 3,
    batch: 2,
    input: 3,
    hidden: 3,
    direction: 'reverse',
    bias: true,
    initial: true,
    attributes: [ints('linear_before_reset', 1)],
  },
  {
    title: 'GRU bidirectional, linear_before_reset, sequence_lens',
    op: 'GRU',
    seq: 3,
    batch: 2,
    input: 2,
    hidden: 2,
    direction: 'bidirectional',
    bias: true,
    lengths: [2, 3],
    attributes: [ints('linear_before_reset', 1)],
  },
  {
    title: 'RNN bidirectional Relu/Tanh, sequence_lens',
    op: 'RNN',
    seq: 3,
    batch: 2,
    input: 2,
    hidden: 3,
    direction: 'bidirectional',
    bias: true,
    lengths: [3, 1],
    initial: true,
    attributes: [strs('activations', ['Relu', 'Tanh'])],
  },
];

for (const c of CASES) {
  test(`${c.title}: matches onnxruntime-node`, async () => {
    const { ours, reference } = await runBoth(c);
    for (const [name, expected] of Object.entries(reference)) {
      const mine = ours.get(name) as Tensor;
      assert.deepEqual(mine.dims, [...expected.dims], `${name} shape`);
      const want = expected.data as Float32Array;
      const got = mine.data as Float32Array;
      for (let i = 0; i < want.length; i++) {
        assert.ok(
          Math.abs(got[i]! - want[i]!) <= 1e-5 + 1e-4 * Math.abs(want[i]!),
          `${name}[${i}]: ${got[i]} vs ${want[i]}`,
        );
      }
    }
  });
}

test('an unknown activation and a bad direction are reported by name', async () => {
  const base = CASES[2]!;
  const cases: [RecurrentCase, RegExp][] = [
    [{ ...base, attributes: [strs('activations', ['Sigmoid', 'Swish', 'Tanh'])] }, /unknown activation "Swish"/],
    [{ ...base, direction: 'sideways' as never }, /direction must be forward, reverse or bidirectional/],
  ];
  for (const [c, pattern] of cases) {
    const { names, values } = caseInputs(c);
    const session = new Session(await loadModel(recurrentModel(c, names, values)));
    const given = values.filter((v): v is Tensor => v !== undefined);
    assert.throws(() => session.run(new Map(given.map((t) => [t.name, t]))), pattern);
  }
});

// ---- The scheme path: every product through the scheme, bit for bit ----

/** A one-direction LSTM with peepholes, computed product by product with mulValues, in the kernel's addition order. */
function referenceLstm(
  scheme: string,
  x: Float32Array,
  w: Float32Array,
  r: Float32Array,
  b: Float32Array,
  p: Float32Array,
  seq: number,
  input: number,
  hidden: number,
): { h: Float32Array; c: Float32Array } {
  const s = parseScheme(scheme);
  const mul = (a: number, bb: number) => mulValues(s, a, bb);
  const f32 = Math.fround;
  const sigmoid = (v: number) => f32(1 / (1 + Math.exp(-v)));
  const tanh = (v: number) => f32(Math.tanh(v));
  let h = new Float32Array(hidden);
  let c = new Float32Array(hidden);
  for (let t = 0; t < seq; t++) {
    const pre = (gate: number, j: number) => {
      const row = gate * hidden + j;
      let xw = 0;
      for (let k = 0; k < input; k++) xw += mul(x[t * input + k]!, w[row * input + k]!);
      let hr = 0;
      for (let k = 0; k < hidden; k++) hr += mul(h[k]!, r[row * hidden + k]!);
      return f32(f32(f32(xw) + f32(b[row]! + b[4 * hidden + row]!)) + f32(hr));
    };
    const nextC = new Float32Array(hidden);
    const nextH = new Float32Array(hidden);
    for (let j = 0; j < hidden; j++) {
      const i = sigmoid(f32(pre(0, j) + mul(p[j]!, c[j]!)));
      const f = sigmoid(f32(pre(2, j) + mul(p[2 * hidden + j]!, c[j]!)));
      const g = tanh(pre(3, j));
      nextC[j] = f32(mul(f, c[j]!) + mul(i, g));
      const o = sigmoid(f32(pre(1, j) + mul(p[hidden + j]!, nextC[j]!)));
      nextH[j] = mul(o, tanh(nextC[j]!));
    }
    h = nextH;
    c = nextC;
  }
  return { h, c };
}

test('LSTM under lmul4 is bit-exact with a mulValues reference and differs from exact', async () => {
  const c: RecurrentCase = {
    title: 'scheme',
    op: 'LSTM',
    seq: 3,
    batch: 1,
    input: 2,
    hidden: 2,
    direction: 'forward',
    bias: true,
    peepholes: true,
  };
  const { names, values } = caseInputs(c);
  const model = await loadModel(recurrentModel(c, names, values));
  const given = values.filter((v): v is Tensor => v !== undefined);
  const feeds = new Map(given.map((t) => [t.name, t]));
  const session = new Session(model);
  const lmul = session.run(feeds, { multiply: new MultiplyContext({ scheme: 'lmul4' }) });
  const exact = session.run(feeds);
  const [x, w, r, b, , , , p] = values.map((v) => v?.data as Float32Array);
  const reference = referenceLstm('lmul4', x!, w!, r!, b!, p!, c.seq, c.input, c.hidden);
  assert.deepEqual(Array.from((lmul.get('Y_h') as Tensor).data as Float32Array), Array.from(reference.h));
  assert.deepEqual(Array.from((lmul.get('Y_c') as Tensor).data as Float32Array), Array.from(reference.c));
  assert.notDeepEqual((lmul.get('Y_h') as Tensor).data, (exact.get('Y_h') as Tensor).data);
});
