import assert from 'node:assert/strict';
import { test } from 'node:test';
import { accumulate, formatByName, fp8ScaleExponent, mulValues, parseScheme } from '../../src/arith';
import { seededNormal, seededUniform } from '../../src/audit/random';
import { MultiplyContext, type AccumulationName } from '../../src/engine/multiply';

function randomMatrix(rows: number, cols: number, seed: number, extras: number[] = []): Float32Array {
  const draw = seededNormal(seed);
  const out = Float32Array.from({ length: rows * cols }, () =>
    Math.abs(draw()) < 0.1 ? 0 : draw() * 2 ** Math.round(draw() * 3),
  );
  extras.forEach((v, i) => (out[(i * 7) % out.length] = v));
  return out;
}

function amax(values: Float32Array): number {
  return values.reduce((m, v) => (Number.isFinite(v) ? Math.max(m, Math.abs(v)) : m), 0);
}

/** The SPEC's definition, element by element: scheme products of the original values, then accumulation. */
function referenceGemm(
  preset: string,
  accumulation: AccumulationName,
  A: Float32Array,
  B: Float32Array,
  m: number,
  n: number,
  k: number,
) {
  const scheme = parseScheme(preset);
  const scaled = scheme.fp8;
  const sa = scaled ? fp8ScaleExponent(amax(A), scheme.operandFormat) : 0;
  const sb = scaled ? fp8ScaleExponent(amax(B), scheme.operandFormat) : 0;
  const sums: number[] = [];
  const bounds: number[] = [];
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      const products = Array.from({ length: k }, (_, p) => mulValues(scheme, A[i * k + p]!, B[p * n + j]!, sa, sb));
      sums.push(accumulate(products, formatByName(accumulation)));
      bounds.push(k * 2 ** -24 * products.reduce((s, p) => s + Math.abs(p), 0));
    }
  }
  return { sums, bounds };
}

const PRESETS = [
  'exact',
  'lmul1',
  'lmul3',
  'lmul4',
  'lmul7',
  'lmul23',
  'lmul3-formula',
  'lmul4-formula',
  'lmul23-formula',
  'e4m3',
  'e5m2',
  'e4m3-mul',
  'e5m2-mul',
  'bf16',
  'fp16',
  'lmul4:trunc',
  'e4m3:trunc',
];

for (const preset of PRESETS) {
  for (const accumulation of ['fp32', 'bf16', 'e4m3'] as const) {
    test(`gemm ${preset}, ${accumulation} accumulation, equals the SPEC's element-wise definition`, () => {
      const [m, n, k] = [5, 11, 19];
      const A = randomMatrix(m, k, 1);
      const B = randomMatrix(k, n, 2);
      const ctx = new MultiplyContext({ scheme: preset, accumulation });
      const out = ctx.gemm(ctx.prepare(A), ctx.prepare(B), { m, n, k });
      const { sums, bounds } = referenceGemm(preset, accumulation, A, B, m, n, k);
      sums.forEach((expected, i) => {
        if (accumulation === 'fp32') {
          assert.ok(Math.abs(out[i]! - expected) <= bounds[i]! + 1e-45, `${preset}[${i}]: ${out[i]} vs ${expected}`);
        } else {
          assert.equal(out[i], expected, `${preset}[${i}] with ${accumulation} accumulation`);
        }
      });
    });
  }
}

test('gemm with transposed operands equals gemm of the transposes', () => {
  const ctx = new MultiplyContext({ scheme: 'lmul4' });
  const [m, n, k] = [3, 4, 5];
  const A = randomMatrix(m, k, 3);
  const B = randomMatrix(k, n, 4);
  const At = new Float32Array(k * m);
  const Bt = new Float32Array(n * k);
  for (let i = 0; i < m; i++) for (let p = 0; p < k; p++) At[p * m + i] = A[i * k + p]!;
  for (let p = 0; p < k; p++) for (let j = 0; j < n; j++) Bt[j * k + p] = B[p * n + j]!;
  const plain = ctx.gemm(ctx.prepare(A), ctx.prepare(B), { m, n, k });
  const transposed = ctx.gemm(ctx.prepare(At), ctx.prepare(Bt), { m, n, k, transA: true, transB: true });
  assert.deepEqual(transposed, plain);
});

for (const preset of ['lmul4', 'lmul4-formula', 'exact']) {
  test(`gemm ${preset}: special operands (inf, NaN, subnormal, huge) follow SPEC §3`, () => {
    const [m, n, k] = [3, 4, 6];
    const A = randomMatrix(m, k, 5, [Infinity, 1e-40, 3e38]);
    const B = randomMatrix(k, n, 6, [0, NaN, -2e38]);
    const ctx = new MultiplyContext({ scheme: preset });
    const out = ctx.gemm(ctx.prepare(A), ctx.prepare(B), { m, n, k });
    const { sums, bounds } = referenceGemm(preset, 'fp32', A, B, m, n, k);
    sums.forEach((expected, i) => {
      if (Number.isNaN(expected) || !Number.isFinite(expected)) assert.equal(out[i], expected, `[${i}]`);
      else assert.ok(Math.abs(out[i]! - expected) <= bounds[i]! + 1e-45, `[${i}]: ${out[i]} vs ${expected}`);
    });
  });
}

for (const preset of ['lmul4', 'lmul3', 'lmul23']) {
  test(`gemm ${preset}: products beyond fp32's normal range overflow to inf and round to subnormals like the SPEC`, () => {
    const [m, n, k] = [3, 6, 4];
    // Normal operands only (the integer-add kernel's domain) whose products leave the normal range both ways.
    // Rows: huge and tiny operands; a row with a single 2^-63, whose products with 2^-64 are subnormal.
    const A = Float32Array.from([
      2 ** 100,
      2 ** -100,
      1.5 * 2 ** -70,
      3,
      2 ** 90,
      2 ** -63,
      1,
      2 ** -80,
      2 ** -63,
      0,
      0,
      0,
    ]);
    const B = Float32Array.from(
      { length: k * n },
      (_, i) => [2 ** 60, 2 ** -60, 1.75 * 2 ** -64, 2 ** -50, 2 ** 40, 1.25][i % 6]!,
    );
    const ctx = new MultiplyContext({ scheme: preset });
    const out = ctx.gemm(ctx.prepare(A), ctx.prepare(B), { m, n, k });
    const { sums, bounds } = referenceGemm(preset, 'fp32', A, B, m, n, k);
    sums.forEach((expected, i) => {
      if (!Number.isFinite(expected)) assert.equal(out[i], expected, `[${i}]`);
      else assert.ok(Math.abs(out[i]! - expected) <= bounds[i]! + 1e-45, `[${i}]: ${out[i]} vs ${expected}`);
    });
    assert.ok(
      sums.some((s) => s === Infinity) && sums.some((s) => s !== 0 && Math.abs(s) < 1.2e-38),
      'both ranges are exercised',
    );
  });
}

for (const [m, n, k] of [
  [9, 21, 37],
  [40, 6, 33],
]) {
  test(`gemm lmul4 ${m}×${n}×${k}: the adder kernel sums the SPEC's products in f32 in order p, bit for bit`, () => {
    // Register blocks, the rows and columns left over, and (Cᵀ = BᵀAᵀ for short rows) swapped operands; zero A
    // and B operands, a column of zero A operands, and A operands whose products with B's range leave the
    // normal range (the general step).
    const A = randomMatrix(m, k, 7, [0, 0, 2 ** 100, 2 ** -100, 0, 1.5 * 2 ** -90]);
    for (let i = 0; i < m; i++) A[i * k + 5] = 0; // a step without products (a zero-padded STFT frame's)
    const B = randomMatrix(k, n, 8, [2 ** 40, 2 ** -40, 0]);
    const ctx = new MultiplyContext({ scheme: 'lmul4' });
    const [pa, pb] = [ctx.prepare(A), ctx.prepare(B)];
    const out = ctx.gemm(pa, pb, { m, n, k });
    const scheme = parseScheme('lmul4');
    for (let i = 0; i < m; i++)
      for (let j = 0; j < n; j++) {
        let sum = 0;
        for (let p = 0; p < k; p++)
          sum = Math.fround(sum + mulValues(scheme, pa.values[i * k + p]!, pb.values[p * n + j]!, 0, 0));
        assert.equal(out[i * n + j], sum, `[${i}, ${j}]`);
      }
  });
}

test('gemm with a row bias adds it in f32 to every sum, with finite and with non-finite operands', () => {
  const [m, n, k] = [6, 11, 9];
  const random = seededUniform(17);
  const rowBias = Float32Array.from({ length: m }, () => Math.fround(random() * 8 - 4));
  const finite = Float32Array.from({ length: m * k }, () => Math.fround(random() * 4 - 2));
  const withInf = finite.map((v, i) => (i === 2 * k + 3 ? -Infinity : v));
  const B = Float32Array.from({ length: k * n }, () => Math.fround(random() * 4 - 2));
  for (const preset of ['exact', 'lmul4', 'lmul3-formula', 'e4m3', 'e4m3-mul'])
    for (const A of [finite, withInf]) {
      const ctx = new MultiplyContext({ scheme: preset });
      const [a, b] = [ctx.prepare(A), ctx.prepare(B)];
      const plain = ctx.gemm(a, b, { m, n, k });
      const biased = ctx.gemm(a, b, { m, n, k, rowBias });
      const expected = plain.map((v, i) => v + rowBias[Math.floor(i / n)]!);
      assert.deepEqual(Array.from(biased), Array.from(expected), `${preset}${A === withInf ? ' with −inf' : ''}`);
    }
});

test('gemm lmul4-formula: each product is the SPEC formula product, bit for bit (zero, subnormal, negative operands)', () => {
  // One nonzero A operand per row, so that every element of C is a single formula product (a sum from +0: a
  // −0 product gives +0).
  const values = [1.75, -2.5, 3e-39, 0.1875, -1e-40, 6.5e30, -0.375, 1.2e-38, 5, -7.25, 2 ** -126, 33];
  const [m, k, n] = [values.length, 12, 10];
  const A = new Float32Array(m * k);
  values.forEach((v, i) => (A[i * k + i] = v));
  const B = Float32Array.from({ length: k * n }, (_, i) => [1.5, -3, 0, 2.75, 4e-39, -0.625, 96, 1e-3][i % 8]!);
  const ctx = new MultiplyContext({ scheme: 'lmul4-formula' });
  const [pa, pb] = [ctx.prepare(A), ctx.prepare(B)];
  const out = ctx.gemm(pa, pb, { m, n, k });
  const scheme = parseScheme('lmul4-formula');
  for (let i = 0; i < m; i++)
    for (let j = 0; j < n; j++) {
      const expected = Math.fround(0 + mulValues(scheme, pa.values[i * k + i]!, pb.values[i * n + j]!, 0, 0));
      assert.equal(out[i * n + j], expected, `${values[i]} × ${B[i * n + j]}`);
    }
});
