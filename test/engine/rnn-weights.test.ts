/**
 * LSTM/GRU/RNN transpose blocks of W and R once per weight array (rnn-recurrence.ts): a session run again
 * with other weights, fed or computed by the run (on recycled buffers too), gives each run's own results.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { onnx } from 'onnx-proto';
import { setBufferRecycling } from '../../src/engine/buffers';
import { MultiplyContext } from '../../src/engine/multiply';
import { Session } from '../../src/engine/session';
import type { Value } from '../../src/engine/types';
import { loadModel, type Tensor } from '../../src/onnx';
import { FLOAT, floatTensor, modelBytes, node, seededRandom, tensorValue } from '../onnx/helpers';

const A = onnx.AttributeProto.AttributeType;
const GATES = { LSTM: 4, GRU: 3, RNN: 1 } as const;
type Op = keyof typeof GATES;

const SEQ = 3;
const BATCH = 2;
const SIZE = 16; // input and hidden size: W and R blocks of 1024+ floats come from the buffer pool

function randomTensor(name: string, dims: number[], seed: number): Tensor {
  const random = seededRandom(seed);
  const data = new Float32Array(dims.reduce((a, b) => a * b, 1));
  for (let i = 0; i < data.length; i++) data[i] = 0.6 * (2 * random() - 1);
  return { name, dtype: 'float32', dims, data };
}

/**
 * A bidirectional `op` node whose W and R are the fed W and R plus zero (a fresh array each run, on a
 * recycled buffer when the pool has one), or the fed ones themselves.
 */
async function recurrentSession(op: Op, computedWeights: boolean): Promise<Session> {
  const width = GATES[op] * SIZE;
  const weight = [2, width, SIZE];
  const zeros = (name: string) => floatTensor(name, weight, new Array<number>(2 * width * SIZE).fill(0));
  const nodes = computedWeights ? [node('Add', ['W', 'zw'], ['w'], 'w'), node('Add', ['R', 'zr'], ['r'], 'r')] : [];
  const [w, r] = computedWeights ? ['w', 'r'] : ['W', 'R'];
  const attributes = [
    { name: 'hidden_size', type: A.INT, i: SIZE },
    { name: 'direction', type: A.STRING, s: new TextEncoder().encode('bidirectional') },
    ...(op === 'GRU' ? [{ name: 'linear_before_reset', type: A.INT, i: 0 }] : []),
  ];
  const bytes = modelBytes({
    name: op,
    input: [
      tensorValue('X', FLOAT, [SEQ, BATCH, SIZE]),
      tensorValue('W', FLOAT, weight),
      tensorValue('R', FLOAT, weight),
    ],
    output: [{ name: 'Y' }, { name: 'Y_h' }],
    initializer: computedWeights ? [zeros('zw'), zeros('zr')] : [],
    node: [...nodes, node(op, ['X', w, r], ['Y', 'Y_h'], 'rnn', attributes)],
  });
  return new Session(await loadModel(bytes));
}

function feeds(op: Op, seed: number): Map<string, Tensor> {
  const width = GATES[op] * SIZE;
  return new Map([
    ['X', randomTensor('X', [SEQ, BATCH, SIZE], 1)],
    ['W', randomTensor('W', [2, width, SIZE], seed)],
    ['R', randomTensor('R', [2, width, SIZE], seed + 1)],
  ]);
}

const bits = (value: Value | undefined) =>
  Array.from(new Uint32Array(Float32Array.from((value as Tensor).data as Float32Array).buffer));

/** The outputs of a new session on copies of the feeds, nothing recycled: no cache entry can apply. */
async function expected(op: Op, given: Map<string, Tensor>, multiply: MultiplyContext): Promise<number[][]> {
  const copies = new Map(
    [...given].map(([name, t]) => [name, { ...t, data: (t.data as Float32Array).slice() } as Tensor]),
  );
  const previous = setBufferRecycling(false);
  try {
    const outputs = (await recurrentSession(op, false)).run(copies, { multiply });
    return ['Y', 'Y_h'].map((name) => bits(outputs.get(name)));
  } finally {
    setBufferRecycling(previous);
  }
}

for (const op of ['LSTM', 'GRU', 'RNN'] as const) {
  for (const computed of [false, true]) {
    const weights = computed ? 'computed by the run' : 'fed';
    test(`${op} with ${weights} weights: runs with other weights give their own results`, async () => {
      const session = await recurrentSession(op, computed);
      const [first, second] = [feeds(op, 10), feeds(op, 20)];
      const previous = setBufferRecycling(true);
      try {
        for (const scheme of ['exact', 'lmul4']) {
          const multiply = new MultiplyContext({ scheme });
          const want = [await expected(op, first, multiply), await expected(op, second, multiply)];
          // first, second, first again (the same arrays): each run against its own expectation.
          [first, second, first].forEach((given, run) => {
            const outputs = session.run(given, { multiply });
            const got = ['Y', 'Y_h'].map((name) => bits(outputs.get(name)));
            assert.deepEqual(got, want[run % 2], `${scheme}, run ${run}`);
          });
        }
      } finally {
        setBufferRecycling(previous);
      }
    });
  }
}
