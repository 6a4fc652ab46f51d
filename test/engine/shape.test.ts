/**
 * Edge cases of the data-movement kernels that the ONNX conformance cases leave out, and the sequence
 * cases whose sequence-typed data the conformance runner cannot compare.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Reader } from 'protobufjs/minimal';
import { Session } from '../../src/engine/session';
import { EngineError, tensor, type Value } from '../../src/engine/types';
import { decodeTensorProto, type Attribute, type Tensor } from '../../src/onnx';
import { loadModelFile } from '../../src/onnx/node-fs';
import { CONFORMANCE_ROOT, compare } from '../conformance/runner';
import { runKernel } from './kernel-harness';

const INT64_MAX = 9223372036854775807n;
const INT64_MIN = -9223372036854775808n;

function run(
  opType: string,
  inputs: (Value | undefined)[],
  attributes: Attribute[] = [],
  { opset = 21, outputs = 1 } = {},
): (Value | undefined)[] {
  return runKernel(opType, inputs, { attributes, opset, outputs });
}

const first = (values: (Value | undefined)[]): Tensor => {
  const v = values[0];
  assert.ok(v && !Array.isArray(v), 'expected a tensor');
  return v;
};
const f32 = (dims: number[], values: number[]) => tensor('float32', dims, Float32Array.from(values));
const i64 = (values: bigint[], dims = [values.length]) => tensor('int64', dims, BigInt64Array.from(values));
const iota = (dims: number[]) =>
  f32(
    dims,
    Array.from({ length: dims.reduce((a, b) => a * b, 1) }, (_, i) => i),
  );
const int = (name: string, value: number): Attribute => ({ name, type: 'int', value });
const ints = (name: string, value: number[]): Attribute => ({ name, type: 'ints', value });
const str = (name: string, value: string): Attribute => ({ name, type: 'string', value });
const values = (t: Tensor) => Array.from(t.data as ArrayLike<unknown>);

test('Reshape copies 0 dims, infers -1 and shares the data', () => {
  const data = iota([2, 3, 4]);
  const out = first(run('Reshape', [data, i64([0n, -1n])]));
  assert.deepEqual(out.dims, [2, 12]);
  assert.equal(out.data, data.data);
  assert.deepEqual(first(run('Reshape', [data, i64([-1n, 0n, 2n])])).dims, [4, 3, 2]);
  const empty = f32([0, 3], []);
  assert.deepEqual(first(run('Reshape', [empty, i64([3n, 0n])], [int('allowzero', 1)])).dims, [3, 0]);
  assert.throws(() => run('Reshape', [data, i64([-1n, -1n])]), EngineError);
  assert.throws(() => run('Reshape', [data, i64([5n, -1n])]), EngineError);
});

test('Squeeze, Unsqueeze and Flatten are views', () => {
  const data = iota([1, 3, 1, 2]);
  for (const out of [
    first(run('Squeeze', [data])),
    first(run('Unsqueeze', [data, i64([-1n, 0n])])),
    first(run('Flatten', [data], [int('axis', -2)])),
  ]) {
    assert.equal(out.data, data.data);
  }
  assert.deepEqual(first(run('Unsqueeze', [data, i64([-1n, 0n])])).dims, [1, 1, 3, 1, 2, 1]);
  assert.deepEqual(first(run('Unsqueeze', [data], [ints('axes', [0])], { opset: 11 })).dims, [1, 1, 3, 1, 2]);
  assert.throws(() => run('Squeeze', [data, i64([1n])]), EngineError);
});

test('Slice clamps INT64 sentinels and walks negative steps', () => {
  const data = iota([10]);
  const slice = (starts: bigint[], ends: bigint[], steps: bigint[]) =>
    values(first(run('Slice', [data, i64(starts), i64(ends), i64([0n]), i64(steps)])));
  assert.deepEqual(slice([-1n], [INT64_MIN], [-1n]), [9, 8, 7, 6, 5, 4, 3, 2, 1, 0]);
  assert.deepEqual(slice([INT64_MAX], [INT64_MIN], [-3n]), [9, 6, 3, 0]);
  assert.deepEqual(slice([2n], [INT64_MAX], [3n]), [2, 5, 8]);
  assert.deepEqual(slice([INT64_MIN], [-7n], [1n]), [0, 1, 2]);
  assert.deepEqual(slice([5n], [2n], [1n]), []);
  assert.throws(() => slice([0n], [1n], [0n]), EngineError);
});

test('Slice on a middle axis with a negative step, and opset 1 attributes', () => {
  const data = iota([2, 3, 2]);
  const out = first(run('Slice', [data, i64([-1n]), i64([INT64_MIN]), i64([-2n]), i64([-2n])]));
  assert.deepEqual(out.dims, [2, 2, 2]);
  assert.deepEqual(values(out), [4, 5, 0, 1, 10, 11, 6, 7]);
  const legacy = first(
    run('Slice', [data], [ints('starts', [1]), ints('ends', [1000]), ints('axes', [2])], { opset: 9 }),
  );
  assert.deepEqual(values(legacy), [1, 3, 5, 7, 9, 11]);
});

test('Transpose matches a direct index computation', () => {
  const dims = [2, 3, 4, 5];
  const data = iota(dims);
  const perm = [2, 0, 3, 1];
  const out = first(run('Transpose', [data], [ints('perm', perm)]));
  assert.deepEqual(out.dims, [4, 2, 5, 3]);
  const strides = [60, 20, 5, 1];
  let k = 0;
  for (let a = 0; a < 4; a++)
    for (let b = 0; b < 2; b++)
      for (let c = 0; c < 5; c++)
        for (let d = 0; d < 3; d++) {
          const source = a * strides[2]! + b * strides[0]! + c * strides[3]! + d * strides[1]!;
          assert.equal((out.data as Float32Array)[k++], source);
        }
  // Moving only size-1 axes keeps the element order: a view.
  const column = iota([3, 1]);
  assert.equal(first(run('Transpose', [column])).data, column.data);
});

test('Concat, Split, Tile and Expand move strings and int64 too', () => {
  const words = tensor('string', [2, 1], ['a', 'b']);
  const joined = first(run('Concat', [words, tensor('string', [2, 2], ['c', 'd', 'e', 'f'])], [int('axis', -1)]));
  assert.deepEqual(values(joined), ['a', 'c', 'd', 'b', 'e', 'f']);
  const parts = run('Split', [joined, i64([1n, 2n])], [int('axis', 1)], { outputs: 2 }) as Tensor[];
  assert.deepEqual(parts.map(values), [
    ['a', 'b'],
    ['c', 'd', 'e', 'f'],
  ]);
  const uneven = run('Split', [iota([5])], [int('num_outputs', 3)], { opset: 18, outputs: 3 }) as Tensor[];
  assert.deepEqual(uneven.map(values), [[0, 1], [2, 3], [4]]);
  assert.deepEqual(values(first(run('Tile', [words, i64([1n, 3n])]))), ['a', 'a', 'a', 'b', 'b', 'b']);
  const expanded = first(run('Expand', [i64([7n, 8n], [2, 1]), i64([2n, 2n, 3n])]));
  assert.deepEqual(expanded.dims, [2, 2, 3]);
  assert.deepEqual(values(expanded), [7n, 7n, 7n, 8n, 8n, 8n, 7n, 7n, 7n, 8n, 8n, 8n]);
});

test('Pad crops with negative pads and mirrors, clamps or wraps', () => {
  const data = iota([5]);
  const pad = (mode: string, pads: bigint[]) => values(first(run('Pad', [data, i64(pads)], [str('mode', mode)])));
  assert.deepEqual(pad('reflect', [6n, 0n]), [2, 3, 4, 3, 2, 1, 0, 1, 2, 3, 4]);
  assert.deepEqual(pad('edge', [2n, -3n]), [0, 0, 0, 1]);
  assert.deepEqual(pad('wrap', [-1n, 3n]), [1, 2, 3, 4, 1, 2, 3]);
  assert.deepEqual(pad('constant', [-2n, 1n]), [2, 3, 4, 0]);
  const int64 = first(run('Pad', [i64([1n, 2n]), i64([1n, 1n])]));
  assert.deepEqual(values(int64), [0n, 1n, 2n, 0n]);
  assert.throws(() => run('Pad', [f32([0], []), i64([1n, 0n])], [str('mode', 'edge')]), EngineError);
});

test('Gather takes negative indices and refuses out-of-range ones', () => {
  const data = iota([3, 2]);
  assert.deepEqual(values(first(run('Gather', [data, i64([-1n, 0n])]))), [4, 5, 0, 1]);
  assert.deepEqual(values(first(run('Gather', [data, i64([1n], [])], [int('axis', 1)]))), [1, 3, 5]);
  assert.throws(() => run('Gather', [data, i64([3n])]), EngineError);
});

test('Cast into float8 saturates, or overflows to inf/NaN with saturate=0', () => {
  const input = f32([6], [1000, -1e6, Infinity, NaN, -0, 0.3]);
  const cast = (to: number, saturate = 1) =>
    values(first(run('Cast', [input], [int('to', to), int('saturate', saturate)])));
  // 17 float8e4m3fn, 18 float8e4m3fnuz, 19 float8e5m2, 20 float8e5m2fnuz
  assert.deepEqual(cast(17), [448, -448, 448, NaN, -0, 0.3125]);
  assert.deepEqual(cast(17, 0), [NaN, NaN, NaN, NaN, -0, 0.3125]);
  assert.deepEqual(cast(19), [1024, -57344, 57344, NaN, -0, 0.3125]);
  assert.deepEqual(cast(19, 0), [1024, -Infinity, Infinity, NaN, -0, 0.3125]);
  // fnuz formats have no negative zero.
  assert.deepEqual(cast(18), [240, -240, 240, NaN, 0, 0.3125]);
  assert.deepEqual(cast(20, 0), [1024, NaN, NaN, NaN, 0, 0.3125]);
});

test('Cast float to integers truncates toward zero; strings round-trip', () => {
  const input = f32([4], [-2.75, 2.75, 300.5, -0.5]);
  assert.deepEqual(values(first(run('Cast', [input], [int('to', 6)]))), [-2, 2, 300, 0]);
  assert.deepEqual(values(first(run('Cast', [input], [int('to', 7)]))), [-2n, 2n, 300n, 0n]);
  assert.deepEqual(values(first(run('Cast', [input], [int('to', 2)]))), [254, 2, 44, 0]);
  assert.deepEqual(values(first(run('Cast', [input], [int('to', 9)]))), [1, 1, 1, 1]);
  const text = tensor('string', [5], ['0.1', '-INF', 'nan', ' 1e-5 ', '+Inf']);
  assert.deepEqual(values(first(run('Cast', [text], [int('to', 1)]))), [
    Math.fround(0.1),
    -Infinity,
    NaN,
    Math.fround(1e-5),
    Infinity,
  ]);
  const big = tensor('string', [1], ['9007199254740993']);
  assert.deepEqual(values(first(run('Cast', [big], [int('to', 7)]))), [9007199254740993n]);
  const printed = first(run('Cast', [f32([3], [0.1, -Infinity, 1 / 3])], [int('to', 8)]));
  assert.deepEqual(values(printed), ['0.1', '-INF', '0.33333334']);
  assert.throws(() => run('Cast', [tensor('string', [1], ['hello'])], [int('to', 1)]), EngineError);
});

test('Resize nearest by integer factors (the WebAssembly path for float32) equals the general gather', () => {
  const dims = [1, 3, 13, 17];
  const data = Array.from({ length: 3 * 13 * 17 }, (_, i) => Math.fround(Math.sin(i) * 10));
  for (const scales of [
    [1, 1, 2, 2],
    [1, 1, 3, 1],
    [1, 1, 2, 1.5], // not an integer factor: the general gather for both
    [1, 2, 2, 2], // a leading axis resized too
  ]) {
    const resized = (t: Tensor) => first(run('Resize', [t, undefined, f32([4], scales)], []));
    const fast = resized(f32(dims, data));
    const general = resized(tensor('float64', dims, Float64Array.from(data)));
    assert.deepEqual(fast.dims, general.dims);
    assert.deepEqual(values(fast), values(general), `scales [${scales}]`);
  }
});

test('Resize nearest extrapolates with tf_crop_and_resize and rejects unknown modes', () => {
  const data = iota([1, 4]);
  const roi = f32([4], [0, -0.5, 1, 1.5]);
  const out = first(
    run(
      'Resize',
      [data, roi, f32([2], [1, 1])],
      [
        str('coordinate_transformation_mode', 'tf_crop_and_resize'),
        { name: 'extrapolation_value', type: 'float', value: -1 },
      ],
    ),
  );
  assert.deepEqual(values(out), [-1, 0, 2, -1]);
  assert.throws(() => run('Resize', [data, undefined, f32([2], [1, 2])], [str('mode', 'area')]), EngineError);
});

test('Constant reads every value attribute, sparse ones densified', () => {
  const sparse = (indices: Tensor): Attribute => ({
    name: 'sparse_value',
    type: 'sparse-tensor',
    value: { dims: [2, 3], values: f32([2], [7, 9]), indices },
  });
  const linear = first(run('Constant', [], [sparse(i64([1n, 5n]))]));
  assert.deepEqual(linear.dims, [2, 3]);
  assert.deepEqual(values(linear), [0, 7, 0, 0, 0, 9]);
  const coordinates = first(run('Constant', [], [sparse(i64([0n, 2n, 1n, 0n], [2, 2]))]));
  assert.deepEqual(values(coordinates), [0, 0, 7, 9, 0, 0]);
  const scalar = first(run('Constant', [], [int('value_int', -3)]));
  assert.deepEqual([scalar.dtype, scalar.dims, values(scalar)], ['int64', [], [-3n]]);
  const list = first(run('Constant', [], [{ name: 'value_strings', type: 'strings', value: ['x', 'y'] }]));
  assert.deepEqual([list.dtype, list.dims, values(list)], ['string', [2], ['x', 'y']]);
  assert.throws(() => run('Constant', [], [int('value_int', 1), int('value_ints', 2)]), EngineError);
  const filled = first(
    run('ConstantOfShape', [i64([2n, 2n])], [{ name: 'value', type: 'tensor', value: i64([5n], [1]) }]),
  );
  assert.deepEqual([filled.dtype, values(filled)], ['int64', [5n, 5n, 5n, 5n]]);
});

test('sequence kernels: positions, stacking and chunked splits', () => {
  const [a, b, c] = [f32([2], [1, 2]), f32([2], [3, 4]), f32([2], [5, 6])];
  const sequence = run('SequenceConstruct', [a, b])[0] as Tensor[];
  const inserted = run('SequenceInsert', [sequence, c, i64([-1n], [])])[0] as Tensor[];
  assert.deepEqual(inserted, [a, c, b]);
  assert.deepEqual(sequence, [a, b], 'sequences are values: insert leaves the input alone');
  assert.equal(run('SequenceAt', [inserted, i64([-3n], [])])[0], a);
  assert.deepEqual(run('SequenceErase', [inserted])[0], [a, c]);
  assert.deepEqual(values(first(run('SequenceLength', [inserted]))), [3n]);
  assert.throws(() => run('SequenceAt', [inserted, i64([3n], [])]), EngineError);
  const stacked = first(run('ConcatFromSequence', [inserted], [int('axis', -1), int('new_axis', 1)]));
  assert.deepEqual(stacked.dims, [2, 3]);
  assert.deepEqual(values(stacked), [1, 5, 3, 2, 6, 4]);
  const chunks = run('SplitToSequence', [iota([7]), i64([3n], [])])[0] as Tensor[];
  assert.deepEqual(chunks.map(values), [[0, 1, 2], [3, 4, 5], [6]]);
  assert.deepEqual(run('SequenceEmpty', [])[0], []);
});

/** A SequenceProto of tensors: field 3 holds the TensorProtos. */
function decodeSequence(bytes: Uint8Array): Tensor[] {
  const reader = Reader.create(bytes);
  const tensors: Tensor[] = [];
  while (reader.pos < reader.len) {
    const tag = reader.uint32();
    if (tag >>> 3 === 3) tensors.push(decodeTensorProto(reader.bytes()));
    else reader.skipType(tag & 7);
  }
  return tensors;
}

for (const name of [
  'test_sequence_insert_at_back',
  'test_sequence_insert_at_front',
  'test_split_to_sequence_1',
  'test_split_to_sequence_2',
  'test_split_to_sequence_nokeepdims',
  'test_identity_sequence',
]) {
  test(`conformance case with sequence data: ${name}`, async () => {
    const dir = join(CONFORMANCE_ROOT, 'node', name);
    const model = await loadModelFile(join(dir, 'model.onnx'));
    const inputs = model.graph.inputs.filter((i) => !i.isInitializer);
    const read = (file: string, isSequence: boolean): Value => {
      const bytes = readFileSync(join(dir, 'test_data_set_0', file));
      return isSequence ? decodeSequence(bytes) : decodeTensorProto(bytes);
    };
    const feeds = new Map(
      inputs.map((input, i) => [input.name, read(`input_${i}.pb`, input.type?.kind === 'sequence')]),
    );
    const outputs = new Session(model).run(feeds as Map<string, Tensor>);
    const files = readdirSync(join(dir, 'test_data_set_0')).filter((f) => f.startsWith('output_'));
    model.graph.outputs.forEach((output, i) => {
      assert.ok(files.includes(`output_${i}.pb`));
      const expected = read(`output_${i}.pb`, output.type?.kind === 'sequence');
      const actual = outputs.get(output.name);
      if (!Array.isArray(expected)) return assert.equal(compare(actual, expected), null);
      assert.ok(Array.isArray(actual), 'expected a sequence');
      assert.equal(actual.length, expected.length);
      expected.forEach((t, k) => assert.equal(compare(actual[k], t), null, `element ${k}`));
    });
  });
}
