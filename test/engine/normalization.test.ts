/**
 * The normalisations' scale multiplications under multiply schemes: bit-exact against the definition —
 * statistics in doubles, each written multiply (x̂·γ, and D·InvStdDev where ONNX writes it) a SPEC product
 * of whole-tensor prepared operands, additions in fp32.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fp8ScaleExponent, mulValues, parseScheme, type Scheme } from '../../src/arith';
import { seededNormal } from '../../src/audit/random';
import { MultiplyContext } from '../../src/engine/multiply';
import { tensor } from '../../src/engine/types';
import type { Attribute, Tensor } from '../../src/onnx';
import { runKernel } from './kernel-harness';

function run(
  opType: string,
  inputs: Tensor[],
  multiply: MultiplyContext,
  attributes: Attribute[] = [],
  opset = 21,
): Tensor[] {
  return runKernel(opType, inputs, { multiply, attributes, opset }) as Tensor[];
}

function random(dims: number[], seed: number, offset = 0): Tensor {
  const draw = seededNormal(seed);
  const count = dims.reduce((a, b) => a * b, 1);
  return tensor(
    'float32',
    dims,
    Float32Array.from({ length: count }, () => offset + draw() * 2 ** Math.round(draw() * 2)),
  );
}

function scaleOf(scheme: Scheme, values: ArrayLike<number>): number {
  let amax = 0;
  for (let i = 0; i < values.length; i++) amax = Math.max(amax, Math.abs(values[i]!));
  return scheme.fp8 ? fp8ScaleExponent(amax, scheme.operandFormat) : 0;
}

/** a[i]·b[factor(i)] as SPEC products of the two whole tensors. */
function schemeProducts(scheme: Scheme, a: Float32Array, b: Float32Array, factor: (i: number) => number): Float32Array {
  const [sa, sb] = [scaleOf(scheme, a), scaleOf(scheme, b)];
  return a.map((v, i) => mulValues(scheme, v, b[factor(i)]!, sa, sb));
}

/** Mean and population variance of consecutive blocks, summed in order in doubles. */
function blockMoments(x: Float32Array, block: number) {
  const groups = x.length / block;
  const mean = new Float64Array(groups);
  const variance = new Float64Array(groups);
  for (let g = 0; g < groups; g++) {
    for (let i = g * block; i < (g + 1) * block; i++) mean[g]! += x[i]!;
    mean[g]! /= block;
    for (let i = g * block; i < (g + 1) * block; i++) variance[g]! += (x[i]! - mean[g]!) ** 2;
    variance[g]! /= block;
  }
  return { mean, variance };
}

const SCHEMES = ['lmul4', 'lmul3-formula', 'e4m3', 'e4m3-mul', 'bf16', 'exact'];

for (const preset of SCHEMES) {
  const scheme = parseScheme(preset);

  test(`LayerNormalization ${preset}: D·InvStdDev and ·Scale are scheme products, + B in fp32`, () => {
    const x = random([2, 3, 4], 1, 0.5);
    const scale = random([3, 4], 2);
    const bias = random([4], 3);
    const [y, mean, invStd] = run('LayerNormalization', [x, scale, bias], new MultiplyContext({ scheme: preset }), [
      { name: 'axis', type: 'int', value: 1 },
      { name: 'epsilon', type: 'float', value: 1e-3 },
    ]);
    const X = x.data as Float32Array;
    const moments = blockMoments(X, 12);
    const inv = Float32Array.from(moments.variance, (v) => 1 / Math.sqrt(v + 1e-3));
    const deviation = X.map((v, i) => v - moments.mean[Math.floor(i / 12)]!);
    const normalized = schemeProducts(scheme, deviation, inv, (i) => Math.floor(i / 12));
    const scaled = schemeProducts(scheme, normalized, scale.data as Float32Array, (i) => i % 12);
    const expected = scaled.map((v, i) => v + (bias.data as Float32Array)[i % 4]!);
    assert.deepEqual(y!.data, expected);
    assert.deepEqual(mean!.dims, [2, 1, 1]);
    assert.deepEqual(mean!.data, Float32Array.from(moments.mean));
    assert.deepEqual(invStd!.data, inv);
  });

  test(`RMSNormalization ${preset}: X·(1/rms) and ·scale are scheme products`, () => {
    const x = random([3, 5], 4);
    const scale = random([5], 5);
    const [y] = run('RMSNormalization', [x, scale], new MultiplyContext({ scheme: preset }), [], 23);
    const X = x.data as Float32Array;
    const inv = Float32Array.from({ length: 3 }, (_, r) => {
      const row = X.subarray(r * 5, r * 5 + 5);
      return 1 / Math.sqrt(row.reduce((s, v) => s + v * v, 0) / 5 + 1e-5);
    });
    const normalized = schemeProducts(scheme, X, inv, (i) => Math.floor(i / 5));
    assert.deepEqual(
      y!.data,
      schemeProducts(scheme, normalized, scale.data as Float32Array, (i) => i % 5),
    );
  });

  test(`BatchNormalization ${preset}: x̂·scale is a scheme product, + B in fp32`, () => {
    const x = random([2, 3, 2, 2], 6);
    const [scale, bias, mean] = [random([3], 7), random([3], 8), random([3], 9)];
    const variance = tensor('float32', [3], Float32Array.of(0.5, 2, 0.125));
    const [y] = run('BatchNormalization', [x, scale, bias, mean, variance], new MultiplyContext({ scheme: preset }));
    const channel = (i: number) => Math.floor(i / 4) % 3;
    const [M, V, B] = [mean.data, variance.data, bias.data] as Float32Array[];
    const normalized = (x.data as Float32Array).map((v, i) => (v - M[channel(i)]!) / Math.sqrt(V[channel(i)]! + 1e-5));
    const scaled = schemeProducts(scheme, normalized, scale.data as Float32Array, channel);
    assert.deepEqual(
      y!.data,
      scaled.map((v, i) => v + B[channel(i)]!),
    );
  });
}

test('GroupNormalization: scale and bias per group at opset 18, per channel at opset 21', () => {
  const x = random([2, 4, 3], 10);
  const exact = MultiplyContext.exact();
  const groups: Attribute[] = [{ name: 'num_groups', type: 'int', value: 2 }];
  const X = x.data as Float32Array;
  const moments = blockMoments(X, 6);
  const normalized = X.map(
    (v, i) => (v - moments.mean[Math.floor(i / 6)]!) / Math.sqrt(moments.variance[Math.floor(i / 6)]! + 1e-5),
  );
  const perGroup = [Float32Array.of(2, -1), Float32Array.of(0.5, 3)];
  const [y18] = run('GroupNormalization', [x, ...perGroup.map((v) => tensor('float32', [2], v))], exact, groups, 18);
  const groupOf = (i: number) => Math.floor(i / 6) % 2;
  assert.deepEqual(
    y18!.data,
    normalized.map((v, i) => Math.fround(v * perGroup[0]![groupOf(i)]!) + perGroup[1]![groupOf(i)]!),
  );
  const perChannel = [Float32Array.of(2, -1, 4, 0.25), Float32Array.of(0.5, 3, -2, 1)];
  const [y21] = run('GroupNormalization', [x, ...perChannel.map((v) => tensor('float32', [4], v))], exact, groups, 21);
  const channelOf = (i: number) => Math.floor(i / 3) % 4;
  assert.deepEqual(
    y21!.data,
    normalized.map((v, i) => Math.fround(v * perChannel[0]![channelOf(i)]!) + perChannel[1]![channelOf(i)]!),
  );
  assert.throws(
    () => run('GroupNormalization', [x, ...perGroup.map((v) => tensor('float32', [2], v))], exact, groups, 21),
    /expected 4/,
  );
});

test('normalisation products stay exact when the scheme does not replace the normalization group', () => {
  const x = random([2, 3, 4], 11);
  const scale = random([4], 12);
  const multiply = new MultiplyContext({ scheme: 'lmul3', replaceNormalization: false });
  const [viaScheme] = run('LayerNormalization', [x, scale], multiply);
  const [viaExact] = run('LayerNormalization', [x, scale], MultiplyContext.exact());
  assert.deepEqual(viaScheme!.data, viaExact!.data);
});

test('InstanceNormalization of float16 is computed exactly and rounded to float16', () => {
  const x = tensor('float16', [1, 1, 4], Float32Array.of(1, 2, 3, 4));
  const ones = tensor('float16', [1], Float32Array.of(1));
  const zeros = tensor('float16', [1], Float32Array.of(0));
  const [y] = run('InstanceNormalization', [x, ones, zeros], new MultiplyContext({ scheme: 'lmul3' }));
  assert.equal(y!.dtype, 'float16');
  // (x − 2.5)/sqrt(1.25 + 1e-5), each value rounded once to fp16.
  assert.deepEqual(Array.from(y!.data as Float32Array), [-1.341796875, -0.447265625, 0.447265625, 1.341796875]);
});

test('BatchNormalization of float32 in exact mode (one WebAssembly pass) equals its three f32 steps bit for bit', () => {
  const [n, c, spatial] = [2, 5, 131];
  const special = [NaN, Infinity, -Infinity, 0, -0, 1e-45, -3e-39];
  const data = Float32Array.from({ length: n * c * spatial }, (_, i) =>
    i % 17 === 0 ? special[(i / 17) % special.length]! : Math.fround(Math.sin(i) * 2 ** ((i % 40) - 20)),
  );
  const params = (values: number[]) => tensor('float32', [c], Float32Array.from(values));
  const scale = params([1.5, -0.25, 0, 3e-20, 7]);
  const bias = params([0.5, -0, 2, -1e10, 0]);
  const mean = params([0.1, -3, 0, 1e-30, 5]);
  const variance = params([2, 0, 1e-8, 4e10, 0.5]);
  const x = tensor('float32', [n, c, spatial], data);
  const [y] = run('BatchNormalization', [x, scale, bias, mean, variance], MultiplyContext.exact());
  const expected = Float32Array.from(data, (v, i) => {
    const j = Math.floor(i / spatial) % c;
    const d = Math.sqrt((variance.data as Float32Array)[j]! + 1e-5);
    const t = Math.fround((v - (mean.data as Float32Array)[j]!) / d);
    return Math.fround(Math.fround(t * (scale.data as Float32Array)[j]!) + (bias.data as Float32Array)[j]!);
  });
  const bits = (a: Float32Array) => Array.from(new Uint32Array(a.slice().buffer));
  assert.deepEqual(bits((y as Tensor).data as Float32Array), bits(expected));
});
