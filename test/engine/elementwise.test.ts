/**
 * Element-wise kernels: Mul under multiply schemes (bit for bit against the SPEC's mulValues with
 * per-tensor fp8 scales), numpy broadcasting, and the dtype rules (C-like integer wrap-around, int64 in
 * BigInt, float16/bfloat16 rounding, strings and bools).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fp8ScaleExponent, mulValues, parseScheme } from '../../src/arith';
import { seededNormal } from '../../src/audit/random';
import { MultiplyContext } from '../../src/engine/multiply';
import { EngineError, tensor, type Value } from '../../src/engine/types';
import type { Attribute, Tensor } from '../../src/onnx';
import { runKernel } from './kernel-harness';

interface RunOptions {
  readonly attributes?: Attribute[];
  readonly multiply?: MultiplyContext;
  readonly opset?: number;
}

function run(opType: string, inputs: (Value | undefined)[], options: RunOptions = {}): Tensor {
  return runKernel(opType, inputs, options)[0] as Tensor;
}

const f32 = (dims: number[], values: number[]) => tensor('float32', dims, Float32Array.from(values));
const attr = (name: string, type: Attribute['type'], value: unknown) => ({ name, type, value }) as Attribute;
const fmod = (v: number) => attr('fmod', 'int', v);

function random(dims: number[], seed: number, extras: number[] = []): Tensor {
  const draw = seededNormal(seed);
  const count = dims.reduce((a, b) => a * b, 1);
  const data = Float32Array.from({ length: count }, () =>
    Math.abs(draw()) < 0.1 ? 0 : draw() * 2 ** Math.round(draw() * 6),
  );
  extras.forEach((v, i) => (data[(i * 5) % count] = v));
  return tensor('float32', dims, data);
}

function finiteAmax(values: Float32Array): number {
  return values.reduce((m, v) => (Number.isFinite(v) ? Math.max(m, Math.abs(v)) : m), 0);
}

function values(t: Tensor): unknown[] {
  return Array.from(t.data as ArrayLike<unknown>);
}

// Small shapes run in JS, large ones (>= WASM_MIN_ELEMENTS) through the WebAssembly kernels where the scheme allows.
for (const preset of ['lmul4', 'lmul3-formula', 'e4m3', 'e4m3-mul', 'e5m2', 'bf16', 'fp16']) {
  for (const [rows, cols] of [
    [3, 4],
    [30, 41],
  ] as const) {
    test(`Mul under ${preset} equals mulValues bit for bit, with broadcasting and special values (2×${rows}×${cols})`, () => {
      const scheme = parseScheme(preset);
      const a = random([2, rows, cols], 1, [Infinity, -0, NaN, 1e-40, 3.4e38]);
      const b = random([rows, 1], 2, [-Infinity]);
      const y = run('Mul', [a, b], { multiply: new MultiplyContext({ scheme: preset }) });
      assert.deepEqual(y.dims, [2, rows, cols]);
      const ad = a.data as Float32Array;
      const bd = b.data as Float32Array;
      const sa = scheme.fp8 ? fp8ScaleExponent(finiteAmax(ad), scheme.operandFormat) : 0;
      const sb = scheme.fp8 ? fp8ScaleExponent(finiteAmax(bd), scheme.operandFormat) : 0;
      const out = y.data as Float32Array;
      for (let i = 0; i < out.length; i++) {
        const expected = mulValues(scheme, ad[i]!, bd[Math.floor(i / cols) % rows]!, sa, sb);
        assert.ok(Object.is(out[i], expected), `element ${i}: ${out[i]} vs ${expected}`);
      }
    });
  }
}

test('Mul in exact mode is the fp32-rounded product; other dtypes ignore the scheme', () => {
  const a = f32([3], [1.75, 1 + 2 ** -23, -3]);
  const b = f32([3], [2.5, 1 + 2 ** -23, 0.1]);
  assert.deepEqual(values(run('Mul', [a, b])), [
    4.375,
    Math.fround((1 + 2 ** -23) ** 2),
    Math.fround(-3 * Math.fround(0.1)),
  ]);
  const lmul = new MultiplyContext({ scheme: 'lmul4' });
  assert.deepEqual(values(run('Mul', [a, b], { multiply: lmul })).slice(0, 1), [4.5]); // SPEC §3 reference example
  const d = tensor('float64', [1], Float64Array.of(1.75));
  assert.deepEqual(values(run('Mul', [d, tensor('float64', [1], Float64Array.of(2.5))], { multiply: lmul })), [4.375]);
});

test('broadcasting: scalars, size-1 axes on both sides, empty tensors, and incompatible shapes', () => {
  const scalar = f32([], [10]);
  assert.deepEqual(run('Add', [scalar, f32([2], [1, 2])]).dims, [2]);
  assert.deepEqual(values(run('Add', [scalar, scalar])), [20]);
  const a = random([1, 4, 1, 6], 3);
  const b = random([3, 1, 5, 6], 4);
  const y = run('Sub', [a, b]);
  assert.deepEqual(y.dims, [3, 4, 5, 6]);
  const ad = a.data as Float32Array;
  const bd = b.data as Float32Array;
  for (let i = 0; i < 3; i++)
    for (let j = 0; j < 4; j++)
      for (let k = 0; k < 5; k++)
        for (let l = 0; l < 6; l++) {
          const expected = Math.fround(ad[j * 6 + l]! - bd[i * 30 + k * 6 + l]!);
          assert.equal((y.data as Float32Array)[((i * 4 + j) * 5 + k) * 6 + l], expected);
        }
  const empty = run('Mul', [f32([0, 3], []), f32([3], [1, 2, 3])]);
  assert.deepEqual(empty.dims, [0, 3]);
  assert.equal(empty.data.length, 0);
  assert.throws(() => run('Add', [f32([2, 3], [0, 0, 0, 0, 0, 0]), f32([2], [0, 0])]), EngineError);
  assert.throws(() => run('Add', [f32([1], [0]), tensor('int32', [1], Int32Array.of(0))]), /mix dtypes/);
});

test('before opset 7, B broadcasts aligned at `axis` of A', () => {
  const a = f32([2, 3], [1, 2, 3, 4, 5, 6]);
  const b = f32([2], [10, 20]);
  const y = run('Add', [a, b], { opset: 6, attributes: [attr('broadcast', 'int', 1), attr('axis', 'int', 0)] });
  assert.deepEqual(values(y), [11, 12, 13, 24, 25, 26]);
});

test('integer arithmetic wraps around in its width like C', () => {
  const i8 = (v: number[]) => tensor('int8', [v.length], Int8Array.from(v));
  assert.deepEqual(values(run('Add', [i8([100, -100]), i8([100, -100])])), [-56, 56]);
  assert.deepEqual(values(run('Neg', [i8([-128])])), [-128]);
  const u8 = tensor('uint8', [1], Uint8Array.of(1));
  assert.deepEqual(values(run('Sub', [u8, tensor('uint8', [1], Uint8Array.of(2))])), [255]);
  const i32 = (v: number[]) => tensor('int32', [v.length], Int32Array.from(v));
  assert.deepEqual(values(run('Mul', [i32([65536, 2147483647]), i32([65536, 3])])), [0, 2147483645]);
  assert.deepEqual(values(run('Div', [i32([-7, 7, 5]), i32([2, -2, 0])])), [-3, -3, 0]);
  const u32 = tensor('uint32', [1], Uint32Array.of(4294967295));
  assert.deepEqual(values(run('Mul', [u32, u32])), [1]);
});

test('int64 and uint64 compute in BigInt without losing precision', () => {
  const i64 = (v: bigint[]) => tensor('int64', [v.length], BigInt64Array.from(v));
  assert.deepEqual(values(run('Add', [i64([2n ** 62n, 9007199254740993n]), i64([2n ** 62n, 1n])])), [
    -(2n ** 63n),
    9007199254740994n,
  ]);
  assert.deepEqual(values(run('Div', [i64([-7n, 1n]), i64([2n, 0n])])), [-3n, 0n]);
  const u64 = tensor('uint64', [1], BigUint64Array.of(2n ** 64n - 1n));
  assert.deepEqual(values(run('Add', [u64, tensor('uint64', [1], BigUint64Array.of(2n))])), [1n]);
  assert.deepEqual(values(run('Abs', [i64([-5n])])), [5n]);
});

test('Mod: Python sign rule by default, C fmod with fmod=1; float Mod needs fmod=1', () => {
  const a = tensor('int32', [4], Int32Array.of(-7, 7, -7, 7));
  const b = tensor('int32', [4], Int32Array.of(3, -3, -3, 0));
  assert.deepEqual(values(run('Mod', [a, b])), [2, -2, -1, 0]);
  assert.deepEqual(values(run('Mod', [a, b], { attributes: [fmod(1)] })), [-1, 1, -1, 0]);
  const i64 = tensor('int64', [2], BigInt64Array.of(-7n, 7n));
  assert.deepEqual(values(run('Mod', [i64, tensor('int64', [1], BigInt64Array.of(3n))])), [2n, 1n]);
  assert.deepEqual(values(run('Mod', [f32([2], [-7.5, 7.5]), f32([1], [2])], { attributes: [fmod(1)] })), [-1.5, 1.5]);
  assert.throws(() => run('Mod', [f32([1], [1]), f32([1], [1])]), /fmod=1/);
});

test('Pow keeps the base dtype: integer powers wrap, float exponents truncate, exponents of any dtype', () => {
  const base = tensor('int32', [3], Int32Array.of(3, 2, -2));
  assert.deepEqual(values(run('Pow', [base, tensor('int32', [3], Int32Array.of(4, 32, -1))])), [81, 0, 0]);
  assert.deepEqual(values(run('Pow', [base, f32([1], [0.5])])), [1, 1, 0]);
  const big = tensor('int64', [1], BigInt64Array.of(3n));
  assert.deepEqual(values(run('Pow', [big, tensor('int64', [1], BigInt64Array.of(39n))])), [3n ** 39n]);
  assert.deepEqual(values(run('Pow', [f32([2], [2, 4]), tensor('int64', [1], BigInt64Array.of(-1n))])), [0.5, 0.25]);
});

test('bitwise ops and BitShift on unsigned widths', () => {
  const u8 = (v: number[]) => tensor('uint8', [v.length], Uint8Array.from(v));
  const left = [attr('direction', 'string', 'LEFT')];
  assert.deepEqual(values(run('BitShift', [u8([255, 1]), u8([1, 8])], { attributes: left })), [254, 0]);
  const u32 = tensor('uint32', [2], Uint32Array.of(0x80000001, 1));
  const by = tensor('uint32', [2], Uint32Array.of(31, 32));
  assert.deepEqual(values(run('BitShift', [u32, by], { attributes: left })), [0x80000000, 0]);
  const right = [attr('direction', 'string', 'RIGHT')];
  assert.deepEqual(
    values(run('BitShift', [u32, tensor('uint32', [1], Uint32Array.of(31))], { attributes: right })),
    [1, 0],
  );
  assert.deepEqual(values(run('BitwiseNot', [tensor('uint16', [1], Uint16Array.of(1))])), [65534]);
  const u64 = tensor('uint64', [1], BigUint64Array.of(0n));
  assert.deepEqual(values(run('BitwiseNot', [u64])), [2n ** 64n - 1n]);
  assert.throws(() => run('BitShift', [f32([1], [1]), f32([1], [1])], { attributes: left }), EngineError);
});

test('float16 and bfloat16 results are rounded into their format; float64 keeps its precision', () => {
  const h = (v: number[]) => tensor('float16', [v.length], Float32Array.from(v));
  // 1 + 2^-11 is a tie between 1 and 1 + 2^-10: to even.
  assert.deepEqual(values(run('Add', [h([1, 1]), h([2 ** -11, 3 * 2 ** -11])])), [1, 1 + 2 ** -9]);
  assert.deepEqual(values(run('Exp', [h([1])])), [2.71875]);
  const bf = tensor('bfloat16', [1], Float32Array.of(1));
  assert.deepEqual(values(run('Div', [bf, tensor('bfloat16', [1], Float32Array.of(3))])), [0.333984375]);
  const d = (v: number) => tensor('float64', [1], Float64Array.of(v));
  assert.deepEqual(values(run('Add', [d(1), d(1e-12)])), [1 + 1e-12]);
  assert.throws(
    () =>
      run('Add', [tensor('float8e4m3fn', [1], Float32Array.of(1)), tensor('float8e4m3fn', [1], Float32Array.of(1))]),
    EngineError,
  );
});

test('comparisons, logic, strings and Where', () => {
  const a = f32([3], [1, NaN, 3]);
  const b = f32([1], [1]);
  assert.deepEqual(values(run('Equal', [a, b])), [1, 0, 0]);
  assert.deepEqual(values(run('GreaterOrEqual', [a, b])), [1, 0, 1]);
  assert.equal(run('Less', [a, b]).dtype, 'bool');
  const s = (v: string[]) => tensor('string', [v.length], v);
  assert.deepEqual(values(run('Equal', [s(['a', 'b']), s(['b'])])), [0, 1]);
  assert.throws(() => run('Less', [s(['a']), s(['b'])]), EngineError);
  const bool = (v: number[]) => tensor('bool', [v.length], Uint8Array.from(v));
  assert.deepEqual(values(run('Xor', [bool([0, 1, 1]), bool([1])])), [1, 0, 0]);
  assert.deepEqual(values(run('Not', [bool([0, 1])])), [1, 0]);
  assert.throws(() => run('And', [f32([1], [1]), f32([1], [1])]), EngineError);
  const where = run('Where', [tensor('bool', [2, 1], Uint8Array.of(1, 0)), s(['x', 'y']), s(['z'])]);
  assert.deepEqual(where.dims, [2, 2]);
  assert.deepEqual(values(where), ['x', 'y', 'z', 'z']);
});

test('Clip: bounds from inputs (opset 11+) or attributes, missing bounds, min > max, int64', () => {
  const x = f32([4], [-2, -0.5, 0.5, NaN]);
  assert.deepEqual(values(run('Clip', [x, f32([], [-1]), f32([], [0])])), [-1, -0.5, 0, NaN]);
  assert.deepEqual(values(run('Clip', [x, undefined, f32([], [0])])), [-2, -0.5, 0, NaN]);
  assert.deepEqual(values(run('Clip', [x, f32([], [1]), f32([], [0])])), [0, 0, 0, NaN]);
  const legacy = run('Clip', [x], { opset: 6, attributes: [attr('min', 'float', -1)] });
  assert.deepEqual(values(legacy), [-1, -0.5, 0.5, NaN]);
  const i64 = tensor('int64', [3], BigInt64Array.of(-(2n ** 62n), 5n, 2n ** 62n));
  const clipped = run('Clip', [i64, tensor('int64', [], BigInt64Array.of(0n))]);
  assert.deepEqual(values(clipped), [0n, 5n, 2n ** 62n]);
});

test('variadic Sum/Min/Max/Mean broadcast all inputs; Max and Min propagate NaN', () => {
  const y = run('Sum', [f32([2, 1], [1, 2]), f32([3], [10, 20, 30]), f32([], [100])]);
  assert.deepEqual(y.dims, [2, 3]);
  assert.deepEqual(values(y), [111, 121, 131, 112, 122, 132]);
  assert.deepEqual(values(run('Max', [f32([2], [1, NaN]), f32([2], [NaN, 1])])), [NaN, NaN]);
  assert.deepEqual(values(run('Min', [tensor('uint64', [2], BigUint64Array.of(1n, 2n ** 63n))])), [1n, 2n ** 63n]);
  assert.deepEqual(values(run('Mean', [f32([1], [1]), f32([1], [2]), f32([1], [6])])), [3]);
  assert.throws(() => run('Mean', [tensor('int32', [1], Int32Array.of(1))]), EngineError);
});

test('math functions: Round half to even, Sign, Erf, IsInf/IsNaN, Sigmoid without overflow', () => {
  const round = run('Round', [f32([7], [0.5, 1.5, 2.5, -0.5, -1.5, -2.4, 2 ** 23 + 1])]);
  assert.deepEqual(values(round), [0, 2, 2, -0, -2, -2, 2 ** 23 + 1]);
  assert.deepEqual(values(run('Sign', [f32([4], [-3, 0, 2, NaN])])), [-1, 0, 1, NaN]);
  assert.deepEqual(values(run('Sign', [tensor('int8', [2], Int8Array.of(-5, 0))])), [-1, 0]);
  const erf = run('Erf', [tensor('float64', [5], Float64Array.of(0.5, -1, 2, 3, 7))]).data as Float64Array;
  const expected = [0.5204998778130465, -0.8427007929497149, 0.9953222650189527, 0.9999779095030014, 1];
  expected.forEach((e, i) => assert.ok(Math.abs(erf[i]! - e) <= 1e-15 * Math.abs(e), `erf ${i}: ${erf[i]}`));
  const special = f32([4], [Infinity, -Infinity, NaN, 1]);
  assert.deepEqual(values(run('IsInf', [special], { attributes: [attr('detect_negative', 'int', 0)] })), [1, 0, 0, 0]);
  assert.deepEqual(values(run('IsNaN', [special])), [0, 0, 1, 0]);
  assert.deepEqual(values(run('Sigmoid', [f32([3], [-1000, 0, 1000])])), [0, 0.5, 1]);
  assert.throws(() => run('Sqrt', [tensor('int32', [1], Int32Array.of(4))]), EngineError);
});

test('Pow by one exponent (the plain loop) equals Math.pow element by element, squares included', () => {
  const data = Float32Array.from({ length: 700 }, (_, i) =>
    i % 7 === 0 ? [0, -0, Infinity, -Infinity, 1e-45][i % 5]! : Math.fround(Math.sin(i) * 2 ** ((i % 60) - 30)),
  );
  const x = tensor('float32', [7, 100], data);
  for (const n of [2, 3, 0.5, -1]) {
    const expected = Array.from(data, (a) => Math.fround(Math.pow(a, n)));
    assert.deepEqual(values(run('Pow', [x, f32([], [n])])), expected, `exponent ${n}`);
    assert.deepEqual(values(run('Pow', [x, f32([1, 1], [n])])), expected, `exponent ${n} of shape [1, 1]`);
  }
});
