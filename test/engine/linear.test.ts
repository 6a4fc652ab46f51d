/**
 * MatMul, Gemm and Einsum under multiply schemes against the SPEC's element-wise definition: every
 * product is mulValues of the original values with per-tensor fp8 scales, summed by `accumulate`
 * (bit-exact for narrow accumulators, within K·2^-24·Σ|p| for fp32).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { accumulate, formatByName, fp8ScaleExponent, mulValues, parseScheme, type Scheme } from '../../src/arith';
import { seededNormal } from '../../src/audit/random';
import { MultiplyContext, type AccumulationName } from '../../src/engine/multiply';
import { tensor } from '../../src/engine/types';
import type { Attribute, Tensor } from '../../src/onnx';
import { runKernel } from './kernel-harness';

function run(opType: string, inputs: Tensor[], multiply: MultiplyContext, attributes: Attribute[] = []): Tensor {
  return runKernel(opType, inputs, { multiply, attributes, opset: 21 })[0] as Tensor;
}

function random(dims: number[], seed: number): Tensor {
  const draw = seededNormal(seed);
  const count = dims.reduce((a, b) => a * b, 1);
  const data = Float32Array.from({ length: count }, () =>
    Math.abs(draw()) < 0.15 ? 0 : draw() * 2 ** Math.round(draw() * 3),
  );
  return tensor('float32', dims, data);
}

function amax(values: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < values.length; i++) m = Math.max(m, Math.abs(values[i]!));
  return m;
}

/** The per-tensor scale exponent SPEC §4 gives a tensor under the scheme (0 without fp8). */
function scaleOf(scheme: Scheme, values: ArrayLike<number>): number {
  return scheme.fp8 ? fp8ScaleExponent(amax(values), scheme.operandFormat) : 0;
}

/** One dot product by the SPEC: scheme products in order, then the accumulator. */
function referenceDot(
  scheme: Scheme,
  accumulation: AccumulationName,
  pairs: [number, number][],
  sa: number,
  sb: number,
) {
  const products = pairs.map(([a, b]) => mulValues(scheme, a, b, sa, sb));
  return {
    value: accumulate(products, formatByName(accumulation)),
    bound: pairs.length * 2 ** -24 * products.reduce((s, p) => s + Math.abs(p), 0),
  };
}

function assertMatches(
  actual: ArrayLike<number>,
  expected: { value: number; bound: number }[],
  accumulation: AccumulationName,
  label: string,
): void {
  assert.equal(actual.length, expected.length, `${label}: element count`);
  expected.forEach(({ value, bound }, i) => {
    if (accumulation === 'fp32') {
      assert.ok(Math.abs(actual[i]! - value) <= bound + 1e-45, `${label}[${i}]: ${actual[i]} vs ${value}`);
    } else {
      assert.equal(actual[i], value, `${label}[${i}]`);
    }
  });
}

const SCHEMES = ['lmul4', 'lmul3-formula', 'e4m3', 'e4m3-mul', 'bf16', 'exact'];
const ACCUMULATIONS: AccumulationName[] = ['fp32', 'bf16'];

/** Reference batched matmul of row-major [...batch, m, k]·[...batch, k, n] with explicit batch maps. */
function referenceMatMul(
  preset: string,
  accumulation: AccumulationName,
  a: Tensor,
  b: Tensor,
  shape: {
    batch: number;
    m: number;
    n: number;
    k: number;
    aBatch: (i: number) => number;
    bBatch: (i: number) => number;
  },
) {
  const scheme = parseScheme(preset);
  const A = a.data as Float32Array;
  const B = b.data as Float32Array;
  const [sa, sb] = [scaleOf(scheme, A), scaleOf(scheme, B)];
  const { m, n, k } = shape;
  const out: { value: number; bound: number }[] = [];
  for (let batch = 0; batch < shape.batch; batch++) {
    const aStart = shape.aBatch(batch) * m * k;
    const bStart = shape.bBatch(batch) * k * n;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        const pairs = Array.from({ length: k }, (_, p): [number, number] => [
          A[aStart + i * k + p]!,
          B[bStart + p * n + j]!,
        ]);
        out.push(referenceDot(scheme, accumulation, pairs, sa, sb));
      }
    }
  }
  return out;
}

for (const preset of SCHEMES) {
  for (const accumulation of ACCUMULATIONS) {
    const multiply = () => new MultiplyContext({ scheme: preset, accumulation });

    test(`MatMul ${preset}/${accumulation}: broadcast batches equal the SPEC definition`, () => {
      const a = random([2, 1, 3, 7], 1);
      const b = random([3, 7, 4], 2);
      const y = run('MatMul', [a, b], multiply());
      assert.deepEqual(y.dims, [2, 3, 3, 4]);
      const expected = referenceMatMul(preset, accumulation, a, b, {
        batch: 6,
        m: 3,
        n: 4,
        k: 7,
        aBatch: (i) => Math.floor(i / 3),
        bBatch: (i) => i % 3,
      });
      assertMatches(y.data as Float32Array, expected, accumulation, 'MatMul');
    });

    test(`MatMul ${preset}/${accumulation}: shared 2-D weights and 1-D operands`, () => {
      const x = random([2, 3, 9], 3);
      const w = random([9, 5], 4);
      const shared = { batch: 2, m: 3, n: 5, k: 9, aBatch: (i: number) => i, bBatch: () => 0 };
      assertMatches(
        run('MatMul', [x, w], multiply()).data as Float32Array,
        referenceMatMul(preset, accumulation, x, w, shared),
        accumulation,
        'weights',
      );
      const v = random([9], 5);
      const y = run('MatMul', [v, w], multiply());
      assert.deepEqual(y.dims, [5]);
      const row = { batch: 1, m: 1, n: 5, k: 9, aBatch: () => 0, bBatch: () => 0 };
      assertMatches(y.data as Float32Array, referenceMatMul(preset, accumulation, v, w, row), accumulation, '1-D');
    });

    test(`Einsum ${preset}/${accumulation}: a batched contraction with a transposed operand`, () => {
      const a = random([2, 3, 6], 6);
      const bt = random([2, 4, 6], 7);
      const y = run('Einsum', [a, bt], multiply(), [{ name: 'equation', type: 'string', value: 'bij,bkj->bik' }]);
      assert.deepEqual(y.dims, [2, 3, 4]);
      // The reference reads B transposed: same values, same per-tensor scale.
      const b = tensor('float32', [2, 6, 4], new Float32Array(48));
      for (let batch = 0; batch < 2; batch++)
        for (let kk = 0; kk < 4; kk++)
          for (let j = 0; j < 6; j++)
            (b.data as Float32Array)[batch * 24 + j * 4 + kk] = (bt.data as Float32Array)[batch * 24 + kk * 6 + j]!;
      const shape = { batch: 2, m: 3, n: 4, k: 6, aBatch: (i: number) => i, bBatch: (i: number) => i };
      assertMatches(y.data as Float32Array, referenceMatMul(preset, accumulation, a, b, shape), accumulation, 'Einsum');
    });
  }
}

for (const preset of SCHEMES) {
  test(`Gemm ${preset}/bf16: transA/transB, alpha and beta·C are scheme products of the normalization group`, () => {
    const multiply = new MultiplyContext({ scheme: preset, accumulation: 'bf16' });
    const scheme = parseScheme(preset);
    const [m, n, k] = [3, 5, 4];
    const at = random([k, m], 8);
    const bt = random([n, k], 9);
    const c = random([n], 10);
    const [alpha, beta] = [0.75, -1.5];
    const attributes: Attribute[] = [
      { name: 'transA', type: 'int', value: 1 },
      { name: 'transB', type: 'int', value: 1 },
      { name: 'alpha', type: 'float', value: alpha },
      { name: 'beta', type: 'float', value: beta },
    ];
    const y = run('Gemm', [at, bt, c], multiply, attributes);
    const A = at.data as Float32Array;
    const B = bt.data as Float32Array;
    const [sa, sb] = [scaleOf(scheme, A), scaleOf(scheme, B)];
    const dots = Float32Array.from({ length: m * n }, (_, e) => {
      const [i, j] = [Math.floor(e / n), e % n];
      const pairs = Array.from({ length: k }, (__, p): [number, number] => [A[p * m + i]!, B[j * k + p]!]);
      return referenceDot(scheme, 'bf16', pairs, sa, sb).value;
    });
    const C = c.data as Float32Array;
    const sDots = scaleOf(scheme, dots);
    const sC = scaleOf(scheme, C);
    const sAlpha = scaleOf(scheme, [alpha]);
    const sBeta = scaleOf(scheme, [beta]);
    const expected = Array.from(dots, (d, e) =>
      Math.fround(mulValues(scheme, alpha, d, sAlpha, sDots) + mulValues(scheme, beta, C[e % n]!, sBeta, sC)),
    );
    assert.deepEqual(Array.from(y.data as Float32Array), expected);
  });
}

test('Gemm: alpha and beta stay exact when the normalization group is not replaced', () => {
  const multiply = new MultiplyContext({ scheme: 'lmul3', accumulation: 'bf16', replaceNormalization: false });
  const scheme = parseScheme('lmul3');
  const a = random([2, 3], 11);
  const b = random([3, 2], 12);
  const c = random([2, 2], 13);
  const y = run('Gemm', [a, b, c], multiply, [
    { name: 'alpha', type: 'float', value: 3 },
    { name: 'beta', type: 'float', value: 0.5 },
  ]);
  const A = a.data as Float32Array;
  const B = b.data as Float32Array;
  const C = c.data as Float32Array;
  const expected = Array.from({ length: 4 }, (_, e) => {
    const [i, j] = [Math.floor(e / 2), e % 2];
    const pairs = Array.from({ length: 3 }, (__, p): [number, number] => [A[i * 3 + p]!, B[p * 2 + j]!]);
    const dot = referenceDot(scheme, 'bf16', pairs, 0, 0).value;
    return Math.fround(Math.fround(3 * dot) + Math.fround(0.5 * C[e]!));
  });
  assert.deepEqual(Array.from(y.data as Float32Array), expected);
});

test('Einsum: diagonals, traces, ellipsis broadcasting and implicit outputs (exact)', () => {
  const exact = MultiplyContext.exact();
  const einsum = (equation: string, ...inputs: Tensor[]) =>
    run('Einsum', inputs, exact, [{ name: 'equation', type: 'string', value: equation }]);
  const square = tensor(
    'float32',
    [3, 3],
    Float32Array.from({ length: 9 }, (_, i) => i + 1),
  );
  assert.deepEqual(Array.from(einsum('ii->i', square).data as Float32Array), [1, 5, 9]);
  assert.deepEqual(Array.from(einsum('ii', square).data as Float32Array), [15]);
  assert.deepEqual(Array.from(einsum('ij->', square).data as Float32Array), [45]);
  assert.deepEqual(Array.from(einsum('ji', square).data as Float32Array), [1, 4, 7, 2, 5, 8, 3, 6, 9]);
  // Ellipsis dims broadcast: [2, 1, 2, 3] · [4, 3, 2] → [2, 4, 2, 2].
  const a = random([2, 1, 2, 3], 14);
  const b = random([4, 3, 2], 15);
  const viaEinsum = einsum('...ij,...jk->...ik', a, b);
  const viaMatMul = run('MatMul', [a, b], exact);
  assert.deepEqual(viaEinsum.dims, [2, 4, 2, 2]);
  assert.deepEqual(viaEinsum.data, viaMatMul.data);
  // Three operands with a label summed out of one operand only: Σ_j x_ij · (Σ_l y_jkl) · z_k.
  const x = random([2, 3], 16);
  const y = random([3, 4, 5], 17);
  const z = random([4], 18);
  const out = einsum('ij,jkl,k->i', x, y, z).data as Float32Array;
  const [X, Y, Z] = [x.data, y.data, z.data] as Float32Array[];
  for (let i = 0; i < 2; i++) {
    let expected = 0;
    for (let j = 0; j < 3; j++)
      for (let kk = 0; kk < 4; kk++)
        for (let l = 0; l < 5; l++) expected += X[i * 3 + j]! * Y[(j * 4 + kk) * 5 + l]! * Z[kk]!;
    assert.ok(Math.abs(out[i]! - expected) <= 1e-5 * (1 + Math.abs(expected)), `[${i}] ${out[i]} vs ${expected}`);
  }
});

test('MatMul of float16 and int32 inputs is exact in their own dtype', () => {
  const multiply = new MultiplyContext({ scheme: 'lmul3' });
  // 3 + (1 + 2^-9) + 2^-24: an fp32 sum would round to the fp16 tie 4 + 2^-9 and then to 4; exact is above it.
  const a = tensor('float16', [1, 3], Float32Array.of(3, 1 + 2 ** -9, 2 ** -12));
  const b = tensor('float16', [3, 1], Float32Array.of(1, 1, 2 ** -12));
  const y = run('MatMul', [a, b], multiply);
  assert.equal(y.dtype, 'float16');
  assert.deepEqual(Array.from(y.data as Float32Array), [4 + 2 ** -8]);
  const ints = run(
    'MatMul',
    [tensor('int32', [1, 2], Int32Array.of(7, -3)), tensor('int32', [2, 1], Int32Array.of(5, 4))],
    multiply,
  );
  assert.equal(ints.dtype, 'int32');
  assert.deepEqual(Array.from(ints.data as Int32Array), [23]);
});
