/**
 * The WebAssembly kernels against their JS definitions, bit for bit: operand rounding (roundArray and the
 * fp8 scale), and the fp8 product-table GEMM and element-wise products (multiplyPrepared, summed in order
 * in doubles and rounded to fp32 once).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  E4M3,
  E5M2,
  decodeBits,
  e8m,
  formatByName,
  fp8ScaleExponent,
  lmulOffsetBits,
  multiplyPrepared,
  parseScheme,
  roundArray,
  type FloatFormat,
} from '../../src/arith';
import { seededNormal, seededUniform } from '../../src/audit/random';
import { col2imAdd, im2col, patchTable, type WindowGeometry } from '../../src/engine/kernels/conv-geometry';
import { float32Arithmetic, planBroadcast } from '../../src/engine/kernels/elementwise-core';
import { arithmeticFor } from '../../src/engine/kernels/scheme-arithmetic';
import { MultiplyContext } from '../../src/engine/multiply';
import {
  wasmBinaryRuns,
  wasmClip,
  wasmCol2imAdd,
  addBlocks,
  wasmGemm,
  markConstant,
  wasmGemmPatches,
  wasmGemmLmulFormula,
  wasmLeakyRelu,
  wasmMagnitudeRange,
  wasmRelu,
  wasmExpShifted,
  wasmSigmoid,
  wasmSoftmaxLines,
  wasmPlaneMeans,
  wasmUpsampleNearest,
  wasmGemmProductTable,
  wasmEncodeFp8,
  wasmFp8ProductRuns,
  wasmPrepareFp8,
  wasmProductTableRuns,
  wasmRoundOperands,
  wasmScaledProductTable,
  fp8Values,
} from '../../src/engine/wasm/kernels';

/** Bit patterns spread over the whole fp32 range (every exponent, subnormals, specials) and normal values. */
function mixedValues(count: number, seed: number): Float32Array {
  const uniform = seededUniform(seed);
  const normal = seededNormal(seed + 1);
  const bits = new Uint32Array(count);
  const out = new Float32Array(bits.buffer);
  for (let i = 0; i < count; i++) bits[i] = Math.floor(uniform() * 2 ** 32);
  for (let i = 0; i < count; i += 2) out[i] = normal() * 2 ** Math.round(normal() * 8);
  const specials = [0, -0, Infinity, -Infinity, NaN, 1e-45, -1e-40, 3.4028235e38, 448, 464, 57344, 61440, 2 ** -9];
  specials.forEach((v, i) => (out[i * 3] = v));
  return out;
}

const sameBits = (actual: Float32Array, expected: Float32Array, what: string) => {
  for (let i = 0; i < expected.length; i++) {
    const [x, y] = [actual[i]!, expected[i]!];
    if (!(Object.is(x, y) || (Number.isNaN(x) && Number.isNaN(y))))
      assert.fail(`${what}[${i}]: ${x} vs ${y} (input index ${i})`);
  }
};

const FORMATS: FloatFormat[] = [
  E4M3,
  E5M2,
  formatByName('bf16'),
  formatByName('fp16'),
  e8m(1),
  e8m(3),
  e8m(4),
  e8m(22),
];

for (const format of FORMATS) {
  for (const mode of ['rne', 'trunc'] as const) {
    test(`operand rounding into ${format.name} (${mode}) equals roundArray bit for bit, scaled and unscaled`, () => {
      const values = mixedValues(20000, 7);
      for (const scale of [0, 5, -7, 140, -160]) {
        const { values: out, scale: s } = wasmRoundOperands(values, format, mode, () => scale);
        assert.equal(s, scale);
        sameBits(out, roundArray(values, format, mode, 2 ** scale), `${format.name} 2^${scale}`);
      }
    });
  }
}

test('operand rounding picks the fp8 scale from the largest finite magnitude', () => {
  const values = Float32Array.from([1e-3, -0.25, Infinity, NaN, 0.125]);
  let seen = -1;
  const { scale } = wasmRoundOperands(values, E4M3, 'rne', (amax) => {
    seen = amax;
    return fp8ScaleExponent(amax, E4M3);
  });
  assert.equal(seen, 0.25);
  assert.equal(scale, fp8ScaleExponent(0.25, E4M3));
});

/**
 * Values around an fp8 format's range once scaled by 2^scale: normal and subnormal values of the format and
 * the ties between them (rounding halfway up or down), tiny and zero values of both signs; in the second
 * half also values just past the largest finite one (saturating or not) and f32 patterns spread over every
 * exponent (the first half's groups of sixteen are all in range).
 */
function fp8RangeValues(format: FloatFormat, count: number, seed: number, scale: number): Float32Array {
  const uniform = seededUniform(seed);
  const normal = seededNormal(seed + 1);
  const spread = mixedFinite(count, seed + 2);
  const quantum = 2 ** (format.emin - format.manBits);
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    const sign = uniform() < 0.5 ? -1 : 1;
    const kind = Math.floor(uniform() * (i < count / 2 ? 4 : 6));
    let v: number;
    // Subnormals and the ties between them, normal values off the format's, tiny values, f32 values of the
    // format's range; in the second half values just past the largest finite one and spread f32 patterns.
    if (kind === 0) v = Math.floor(uniform() * 2 ** (format.manBits + 2)) * quantum * 0.5;
    else if (kind === 1) v = decodeBits(format, Math.floor(uniform() * 0x7c)) * (1 + (uniform() - 0.5) * 2 ** -4);
    else if (kind === 2) v = uniform() < 0.5 ? 0 : quantum * uniform() * 2 ** -Math.floor(uniform() * 30);
    else if (kind === 3) v = normal() * 2 ** Math.round(normal() * 2);
    else if (kind === 4) v = format.maxFinite * (1 + uniform() * 2 ** -(format.manBits - 1));
    else v = spread[i]!;
    out[i] = sign * v * 2 ** -scale;
  }
  return out;
}

for (const format of [E4M3, E5M2]) {
  for (const mode of ['rne', 'trunc'] as const) {
    test(`fp8 preparation into ${format.name} (${mode}): one-pass codes equal encodeFp8 of roundOperands bit for bit`, () => {
      // Scales whose factor is a normal f32 (the sixteen-lane path) and ones outside it (the general path).
      for (const scale of [0, 3, -9, 100, 130, -128, -140]) {
        for (const specials of [false, true]) {
          const values = fp8RangeValues(format, 4099, 90 + scale, scale);
          if (specials) values.set(mixedValues(64, scale + 5), 1000); // NaN, ±inf, f32 extremes among them
          const rounded = wasmRoundOperands(values, format, mode, () => scale).values;
          sameBits(rounded, roundArray(values, format, mode, 2 ** scale), 'rounded reference');
          const expected = wasmEncodeFp8(format, rounded);
          const prepared = wasmPrepareFp8(values, format, mode, () => scale);
          assert.equal(prepared.scale, scale);
          assert.equal(prepared.codes.specials, expected.specials, `specials at 2^${scale}`);
          assert.deepEqual(prepared.codes.bytes, expected.bytes, `codes at 2^${scale}`);
          // Values come with the codes exactly when a value is NaN or inf; otherwise decoding gives them.
          assert.equal(prepared.values !== undefined, expected.specials);
          sameBits(prepared.values ?? fp8Values(format, prepared.codes.bytes), rounded, `values at 2^${scale}`);
        }
      }
    });
  }
}

/** fp8 operands: random codes' values (NaN and, in e5m2, ±inf only when asked), some zeros. */
function fp8Operand(format: FloatFormat, count: number, seed: number, withSpecials: boolean): Float32Array {
  const uniform = seededUniform(seed);
  return Float32Array.from({ length: count }, () => {
    const code = Math.floor(uniform() * 256);
    const v = decodeBits(format, uniform() < 0.15 ? 0 : code);
    if (withSpecials || Number.isFinite(v)) return v;
    return Number.isNaN(v) ? 1 : Math.sign(v) * format.maxFinite;
  });
}

for (const preset of ['e4m3-mul', 'e5m2-mul']) {
  const scheme = parseScheme(preset);
  const format = scheme.operandFormat;
  const codes = (values: Float32Array) => wasmEncodeFp8(format, values);
  // Scale sums inside f32's range, outside it (the table is scaled in doubles), and ones whose products
  // fall to fp32 subnormals or overflow to inf.
  for (const scales of [0, 9, -20, 135, -140, 150, -130]) {
    for (const withSpecials of [false, true]) {
      test(`${preset} table GEMM equals the ordered double sum of multiplyPrepared (2^-${scales}, specials ${withSpecials})`, () => {
        const [m, n, k] = [7, 13, 37];
        const A = fp8Operand(format, m * k, 11 + scales, withSpecials);
        const B = fp8Operand(format, k * n, 12 + scales, withSpecials);
        const out = wasmGemmProductTable(scheme, codes(A), codes(B), m, n, k, scales);
        sameBits(out, orderedTableSums(A, B, m, n, k, scales), preset);
      });
    }
  }

  /** The definition: multiplyPrepared products summed in doubles in order k = 0, 1, …, rounded to f32. */
  function orderedTableSums(A: Float32Array, B: Float32Array, m: number, n: number, k: number, scales: number) {
    const expected = new Float32Array(m * n);
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let sum = 0;
        for (let p = 0; p < k; p++) sum += multiplyPrepared(scheme, A[i * k + p]!, B[p * n + j]!, scales, 0);
        expected[i * n + j] = sum;
      }
    }
    return expected;
  }

  test(`${preset} table GEMM: block edges, signed zeros and saturated codes equal the ordered double sum`, () => {
    const uniform = seededUniform(31);
    // Codes: ±0, ±max, NaN-free random values; whole rows of A and columns of B of −0 only.
    const pick = [0x00, 0x80, 0x7e, 0xfe, 0x7b, 0xfb];
    const operand = (count: number, zeroEvery: number) =>
      Float32Array.from({ length: count }, (_, i) => {
        if (i % zeroEvery === 0) return -0;
        const code = uniform() < 0.3 ? pick[Math.floor(uniform() * pick.length)]! : Math.floor(uniform() * 256);
        const v = decodeBits(format, code);
        return Number.isFinite(v) ? v : 0;
      });
    // Narrow A and B (4×4 blocks), wide B (quad tables: n ≥ 4 × the groups of four codes B holds) and wide
    // A (quad tables of Cᵀ = BᵀAᵀ), k not a multiple of the quad tables' four steps.
    for (const [m, n, k] of [
      [1, 1, 1],
      [4, 4, 4],
      [5, 3, 9],
      [9, 7, 33],
      [6, 11, 130],
      [5, 300, 9],
      [7, 257, 34],
      [300, 5, 9],
      [258, 2, 35],
    ] as const) {
      // Scales inside and just outside the range where every unscaled product is an exact fp32 value (e4m3:
      // smallest 2^-149 at 140, largest below 2^128 down to -119).
      for (const scales of [0, 17, -11, 140, 141, -119, -120]) {
        const A = operand(m * k, 5);
        const B = operand(k * n, 7);
        for (let p = 0; p < k; p++) A[p] = -0; // row 0 of A: −0 only, so its sums are +0
        const out = wasmGemmProductTable(scheme, codes(A), codes(B), m, n, k, scales);
        sameBits(out, orderedTableSums(A, B, m, n, k, scales), preset);
      }
    }
  });

  test(`${preset} table GEMM: B of few codes (quad tables of a few groups) equals the ordered double sum`, () => {
    const uniform = seededUniform(41);
    const few = [0x00, 0x80, 0x31, 0xb1, 0x7b, 0xfb, 0x5a]; // finite in both formats
    for (const [m, n, k] of [
      [3, 9, 7],
      [8, 24, 16],
      [6, 40, 5],
    ] as const) {
      const A = fp8Operand(format, m * k, 42, false);
      const B = Float32Array.from({ length: k * n }, () =>
        decodeBits(format, few[Math.floor(uniform() * few.length)]!),
      );
      sameBits(
        wasmGemmProductTable(scheme, codes(A), codes(B), m, n, k, 5),
        orderedTableSums(A, B, m, n, k, 5),
        preset,
      );
    }
  });

  test(`${preset} table GEMM: code groups kept per weight slice equal the ordered double sum, run after run`, () => {
    // One weight tensor's codes, sliced as a grouped Conv slices them: each slice holds its own few code
    // groups (wide A of few groups: quad tables of Cᵀ = BᵀAᵀ over A's groups per step), found once and kept.
    const [m, n, k] = [40, 3, 9];
    const uniform = seededUniform(51);
    const sets = [
      [0x31, 0xb1, 0x00],
      [0x5a, 0xda, 0x0b],
    ];
    const weights = Float32Array.from({ length: 2 * m * k }, (_, i) => {
      const set = sets[i < m * k ? 0 : 1]!;
      return decodeBits(format, set[Math.floor(uniform() * set.length)]!);
    });
    const whole = codes(weights);
    const B = fp8Operand(format, k * n, 52, false);
    for (let run = 0; run < 2; run++) {
      for (const half of [0, 1]) {
        const A = weights.subarray(half * m * k, (half + 1) * m * k);
        const slice = { bytes: whole.bytes.subarray(half * m * k, (half + 1) * m * k), specials: false };
        const out = wasmGemmProductTable(scheme, slice, codes(B), m, n, k, 3);
        sameBits(out, orderedTableSums(A, B, m, n, k, 3), `${preset} slice ${half}, run ${run}`);
      }
    }
  });

  if (preset === 'e4m3-mul') {
    test('e4m3-mul table GEMM: integer sums up to the i32 bound (k = 9362 products of 448), ordered sums past it', () => {
      // 448 = 229,376 units of 2^-9: k·229,376 < 2^31 up to k = 9362.
      for (const k of [9362, 9363]) {
        const [m, n] = [2, 3];
        const A = Float32Array.from({ length: m * k }, (_, i) => (i < k ? 448 : -448));
        const B = new Float32Array(k * n).fill(448);
        const out = wasmGemmProductTable(scheme, codes(A), codes(B), m, n, k, 0);
        sameBits(out, orderedTableSums(A, B, m, n, k, 0), `k = ${k}`);
      }
    });
  }

  test(`${preset} element-wise table products equal multiplyPrepared for every pair of codes`, () => {
    const values = Float32Array.from({ length: 256 }, (_, code) => decodeBits(format, code));
    const A = Float32Array.from({ length: 65536 }, (_, i) => values[i >> 8]!);
    const B = Float32Array.from({ length: 65536 }, (_, i) => values[i & 255]!);
    const plan = planBroadcast([65536], [65536]);
    // Unscaled products exact in fp32 (the runs multiply the base table) and not (an unscaled table).
    for (const scales of [0, -3, 130, -135, 141, -120]) {
      const [a, b] = [codes(A), codes(B)];
      const table = wasmScaledProductTable(scheme, scales);
      const out = Float32Array.from({ length: 65536 }, (_, i) => table[(a.bytes[i]! << 8) | b.bytes[i]!]!);
      const expected = Float32Array.from({ length: 65536 }, (_, i) =>
        multiplyPrepared(scheme, A[i]!, B[i]!, scales, 0),
      );
      sameBits(out, expected, `${preset} 2^-${scales}`);
      sameBits(wasmProductTableRuns(scheme, plan, a, b, scales), expected, `${preset} runs 2^-${scales}`);
    }
  });
}

for (const preset of ['lmul4', 'lmul3', 'lmul23', 'lmul1']) {
  test(`${preset} adder GEMM: every single product equals multiplyPrepared, subnormal operands included`, () => {
    const scheme = parseScheme(preset);
    const ctx = new MultiplyContext({ scheme: preset });
    const normal = seededNormal(21);
    const operand = (count: number, binades: number, extras: number[]) => {
      const out = Float32Array.from({ length: count }, () => normal() * 2 ** Math.round(normal() * binades));
      extras.forEach((v, i) => (out[i * 3] = v));
      return out;
    };
    // Subnormals with moderate values, with tiny ones (products vanish), and with huge ones (too wide a
    // range to scale: the scalar path), on either side; k = 1, so each output is one product.
    const cases: [Float32Array, Float32Array][] = [
      [operand(40, 10, [1e-40, -3e-39, 1e-45, 0]), operand(50, 10, [2 ** 100, -0])],
      [operand(40, 10, [2 ** 60]), operand(50, 10, [-1e-44, 5e-39, 2 ** -140])],
      [operand(40, 20, [1e-42, 2 ** -126]), operand(50, 20, [7e-39, 2 ** 120, -(2 ** -120)])],
      [operand(40, 30, [1e-45, 3e38]), operand(50, 30, [1e-40, -3.3e38])],
    ];
    for (const [A, B] of cases) {
      const a = ctx.prepare(A);
      const b = ctx.prepare(B);
      const out = ctx.gemm(a, b, { m: A.length, n: B.length, k: 1 });
      const expected = Float32Array.from(
        { length: A.length * B.length },
        (_, i) =>
          // A sum starts from +0 (SPEC §5): a -0 product sums to +0.
          0 + multiplyPrepared(scheme, a.values[Math.floor(i / B.length)]!, b.values[i % B.length]!, 0, 0),
      );
      sameBits(out, expected, preset);
    }
  });
}

// Operands 30 binades apart: pattern sums far below and above fp32's range, in the SIMD body and the
// scalar tail (n = 7) of the row. Before the thresholds were clamped, tail products vanished.
for (const preset of ['lmul4', 'lmul23']) {
  test(`${preset} adder GEMM of widely ranged operands equals the ordered f32 sum of multiplyPrepared`, () => {
    const scheme = parseScheme(preset);
    const ctx = new MultiplyContext({ scheme: preset });
    const [m, n, k] = [5, 7, 9];
    const a = ctx.prepare(wideFinite(m * k, 81));
    const b = ctx.prepare(wideFinite(k * n, 82));
    const out = ctx.gemm(a, b, { m, n, k });
    const expected = new Float32Array(m * n);
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let sum = 0;
        for (let p = 0; p < k; p++)
          sum = Math.fround(sum + multiplyPrepared(scheme, a.values[i * k + p]!, b.values[p * n + j]!, 0, 0));
        expected[i * n + j] = sum;
      }
    }
    sameBits(out, expected, preset);
  });
}

/** Depthwise geometries: 2-D and 1-D, strides, dilations, asymmetric pads, depth multiplier, batch. */
const DEPTHWISE_CASES: {
  name: string;
  geometry: WindowGeometry;
  batch: number;
  channels: number;
  multiplier: number;
}[] = [
  {
    name: '3×3 pads 1',
    geometry: window([9, 13], [3, 3], [1, 1], [1, 1], [1, 1, 1, 1]),
    batch: 2,
    channels: 3,
    multiplier: 1,
  },
  {
    name: '5×5 stride 2, pads 2',
    geometry: window([11, 10], [5, 5], [2, 2], [1, 1], [2, 2, 2, 2]),
    batch: 1,
    channels: 4,
    multiplier: 1,
  },
  {
    name: '3×3 dilation 2, multiplier 2, asymmetric pads',
    geometry: window([8, 17], [3, 3], [1, 2], [2, 2], [0, 3, 1, 0]),
    batch: 1,
    channels: 2,
    multiplier: 2,
  },
  {
    name: '7×7 larger than the image, stride 3',
    geometry: window([4, 5], [7, 7], [3, 3], [1, 1], [3, 3, 3, 3]),
    batch: 1,
    channels: 2,
    multiplier: 1,
  },
  {
    name: '7×7 pads 3 (98 formula terms: two f32 chunks, most taps inside the image)',
    geometry: window([12, 20], [7, 7], [1, 1], [1, 1], [3, 3, 3, 3]),
    batch: 1,
    channels: 2,
    multiplier: 1,
  },
  {
    name: '5×5 pads 2 on a wide row (register blocks of eight and leftovers)',
    geometry: window([6, 43], [5, 5], [1, 1], [1, 1], [2, 2, 2, 2]),
    batch: 1,
    channels: 2,
    multiplier: 1,
  },
  {
    name: '3×3 stride (2, 1), dilation (1, 2), left pad 0',
    geometry: window([7, 30], [3, 3], [2, 1], [1, 2], [1, 0, 1, 3]),
    batch: 2,
    channels: 1,
    multiplier: 2,
  },
  {
    name: '1-D kernel 5, pads 2',
    geometry: window([1, 33], [1, 5], [1, 1], [1, 1], [0, 2, 0, 2]),
    batch: 1,
    channels: 3,
    multiplier: 1,
  },
];

function window(
  imageDims: number[],
  kernel: number[],
  strides: number[],
  dilations: number[],
  pads: number[],
): WindowGeometry {
  const [padsBegin, padsEnd] = [pads.slice(0, 2), pads.slice(2)];
  const positions = imageDims.map(
    (d, a) => Math.floor((d + padsBegin[a]! + padsEnd[a]! - (kernel[a]! - 1) * dilations[a]! - 1) / strides[a]!) + 1,
  );
  return { imageDims, positions, kernel, strides, dilations, padsBegin, padsEnd };
}

/** A depthwise case's shape for the WebAssembly kernels. */
function depthwiseShapeOf({ geometry, batch, channels, multiplier }: (typeof DEPTHWISE_CASES)[number]) {
  const pair = (v: readonly number[]) => [v[0]!, v[1]!] as const;
  return {
    batch,
    channels,
    multiplier,
    image: pair(geometry.imageDims),
    output: pair(geometry.positions),
    kernel: pair(geometry.kernel),
    strides: pair(geometry.strides),
    dilations: pair(geometry.dilations),
    padsBegin: pair(geometry.padsBegin),
  };
}

// The direct depthwise kernels against what Conv computes without them: one scheme GEMM per channel of its
// weights by the patch matrix (7×7 has 98 formula terms: two f32 chunks).
const DEPTHWISE_PRESETS = [
  'exact',
  'e4m3',
  'e5m2',
  'lmul4',
  'lmul3',
  'lmul23',
  'lmul4-formula',
  'lmul1-formula',
  'e4m3-mul',
  'e5m2-mul',
];
for (const preset of DEPTHWISE_PRESETS) {
  for (const c of DEPTHWISE_CASES) {
    test(`${preset} depthwise kernel equals one scheme GEMM per channel bit for bit: ${c.name}`, () => {
      const ctx = new MultiplyContext({ scheme: preset });
      const { batch, channels, multiplier, geometry } = c;
      const table = patchTable(geometry);
      const [xCount, wCount] = [batch * channels * table.imageSize, channels * multiplier * table.taps];
      const inputs: [Float32Array, Float32Array][] = [
        // Magnitudes over ±30 binades with subnormals and signed zeros (products under- and overflow).
        [wideFinite(xCount, 71), wideFinite(wCount, 72)],
        // Activations after a ReLU-like op (many zeros), ordinary weights.
        [seededNormalArray(xCount, 73).map((v) => Math.max(v, 0)), seededNormalArray(wCount, 74)],
      ];
      // Every finite magnitude that stays finite in the operand format (too wide for the adder's integer
      // kernel, which refuses it).
      const belowTop = (v: Float32Array) => v.map((e) => (Math.abs(e) > 1e38 ? 1.5 : e));
      if (!ctx.scheme.rule.endsWith('adder'))
        inputs.push([belowTop(mixedFinite(xCount, 75)), belowTop(mixedFinite(wCount, 76))]);
      // Product tables and plain products also take x holding NaN and inf (their products with zero weights count).
      if (preset.endsWith('-mul') || ctx.plainProducts) inputs.push([mixedValues(xCount, 77), inputs[1]![1]]);
      if (ctx.plainProducts) {
        // A weight's inf times a padding zero is NaN in the GEMM: the kernel declines (Conv runs the GEMM);
        // fp8 operands saturate, so their kernel takes such weights.
        const infinite = inputs[1]![1].map((v, i) => (i === wCount - 1 ? -Infinity : v));
        if (ctx.prepare(infinite).values.every(Number.isFinite)) inputs.push([inputs[1]![0], infinite]);
        else assert.equal(ctx.depthwise(ctx.prepare(inputs[1]![0]), ctx.prepare(infinite), depthwiseShapeOf(c)), null);
      }
      for (const [X, W] of inputs) {
        const x = ctx.prepare(X);
        const w = ctx.prepare(W);
        const out = ctx.depthwise(x, w, depthwiseShapeOf(c));
        assert.ok(out, `${preset} has a direct depthwise kernel for these operands`);
        const expected = new Float32Array(out.length);
        const col = new Float32Array(table.taps * table.positions);
        for (let n = 0; n < batch; n++) {
          for (let ch = 0; ch < channels; ch++) {
            im2col(table, x.values, (n * channels + ch) * table.imageSize, 1, col);
            const weights = w.values.subarray(ch * multiplier * table.taps, (ch + 1) * multiplier * table.taps);
            const y = ctx.gemm(
              { values: weights, scale: w.scale },
              { values: col, scale: x.scale },
              { m: multiplier, n: table.positions, k: table.taps },
            );
            expected.set(y, (n * channels + ch) * multiplier * table.positions);
          }
        }
        sameBits(out, expected, `${preset} ${c.name}`);
        // A Conv bias: added to each output channel's sums in f32.
        const outChannels = channels * multiplier;
        const bias = Float32Array.from({ length: outChannels }, (_, i) => (i - 1.5) * 0.75);
        const biased = ctx.depthwise(x, w, depthwiseShapeOf(c), bias)!;
        const channelOf = (i: number) => Math.floor(i / table.positions) % outChannels;
        sameBits(
          biased,
          expected.map((v, i) => v + bias[channelOf(i)]!),
          `${preset} ${c.name} with a bias`,
        );
      }
    });
  }
}

function wideFinite(count: number, seed: number): Float32Array {
  const normal = seededNormal(seed);
  const out = Float32Array.from({ length: count }, () => normal() * 2 ** Math.round(normal() * 30));
  [0, -0, 1e-40, -3e-39, 1e-45, 2 ** -126].forEach((v, i) => (out[i * 5] = v));
  return out;
}

function seededNormalArray(count: number, seed: number): Float32Array {
  const normal = seededNormal(seed);
  return Float32Array.from({ length: count }, () => normal());
}

/** Finite values of many magnitudes and signs, zeros and subnormals among them. */
function mixedFinite(count: number, seed: number): Float32Array {
  const values = mixedValues(count, seed);
  return values.map((v) => (Number.isFinite(v) ? v : 1.5));
}

// Same-shape, scalar, per-channel, row/column and two-sided broadcasts; odd run lengths exercise the tails.
const BROADCASTS: [number[], number[]][] = [
  [
    [3, 7, 11],
    [3, 7, 11],
  ],
  [[5, 13], [1]],
  [[1], [4, 9]],
  [
    [2, 6, 5, 7],
    [6, 1, 1],
  ],
  [
    [6, 1],
    [1, 9],
  ],
  [
    [3, 10, 1],
    [3, 1, 6],
  ],
];

for (const op of ['add', 'sub', 'mul', 'div', 'min', 'max'] as const) {
  test(`${op} kernel equals the JS float32 loop bit for bit over broadcasts, specials included`, () => {
    for (const [dimsA, dimsB] of BROADCASTS) {
      const plan = planBroadcast(dimsA, dimsB);
      const a = mixedValues(
        dimsA.reduce((x, y) => x * y, 1),
        41,
      );
      const b = mixedValues(
        dimsB.reduce((x, y) => x * y, 1),
        42,
      );
      const expected = new Float32Array(plan.count);
      float32Arithmetic(op, plan, expected, a, b);
      sameBits(wasmBinaryRuns(op, plan, a, b), expected, `${op} [${dimsA}] [${dimsB}]`);
    }
  });
}

test('clip kernel equals the JS comparisons bit for bit (NaN and -0 pass, lo > hi gives hi)', () => {
  const values = mixedValues(1003, 43);
  for (const [lo, hi] of [
    [0, 6],
    [-Infinity, 0],
    [-1.5, Infinity],
    [2, -3],
    [0, 0],
  ] as const) {
    const expected = values.map((v) => {
      const low = v < lo ? lo : v;
      return low > hi ? hi : low;
    });
    sameBits(wasmClip(values, lo, hi), expected, `clip [${lo}, ${hi}]`);
  }
});

test('LeakyRelu kernel equals x < 0 ? fp32(x·alpha) : x bit for bit', () => {
  const values = mixedValues(1001, 44);
  for (const alpha of [0.01, 0.2, -3, 1e-30]) {
    const factor = Math.fround(alpha);
    const expected = values.map((v) => (v < 0 ? Math.fround(v * factor) : v));
    sameBits(wasmLeakyRelu(values, factor), expected, `LeakyRelu ${alpha}`);
  }
});

test('magnitude range: lowest and highest nonzero magnitude patterns, null with inf or NaN', () => {
  const reference = (values: Float32Array) => {
    const bits = new Uint32Array(values.slice().buffer);
    let [low, high] = [0x7f800000, 0];
    for (const b of bits) {
      const magnitude = b & 0x7fffffff;
      if (magnitude >= 0x7f800000) return null;
      if (magnitude !== 0 && magnitude < low) low = magnitude;
      if (magnitude > high) high = magnitude;
    }
    return { low, high };
  };
  const finite = mixedFinite(1001, 46);
  const cases: [string, Float32Array][] = [
    ['finite values with subnormals and zeros', finite],
    ['with NaN and inf', mixedValues(1001, 47)],
    ['zeros only', Float32Array.of(0, -0, 0, -0, 0)],
    ['one subnormal among zeros, in the tail', Float32Array.of(0, 0, 0, 0, -0, 0, -1e-45)],
    ['inf in the tail', Float32Array.of(1, 2, 3, 4, -Infinity)],
    ['empty', new Float32Array(0)],
  ];
  for (const [name, values] of cases) assert.deepEqual(wasmMagnitudeRange(values), reference(values), name);
});

test('the WebAssembly exponential equals Math.exp bit for bit, in every range of its algorithm', () => {
  const random = seededUniform(61);
  const within = (lo: number, hi: number) => () => lo + random() * (hi - lo);
  // A double a few thousand ulps from v: the boundaries between the algorithm's cases.
  const near = (v: number) => () => {
    const bits = new BigInt64Array(Float64Array.of(v).buffer);
    bits[0]! += BigInt(Math.floor(random() * 4001) - 2000);
    return new Float64Array(bits.buffer)[0]!;
  };
  const ranges = [within(-750, 750), within(-30, 0), within(-2, 2), within(-1e-7, 1e-7)];
  for (const v of [0.5, 1.5].flatMap((f) => [f * Math.LN2, -f * Math.LN2])) ranges.push(near(v)); // k = 0, ±1, rounded
  for (const v of [512, -512, 709.782712893384, -708.3964185322641, -745.1332191019411, 2 ** -28, -(2 ** -28), 1, -1])
    ranges.push(near(v)); // the vector range's end, overflow, the scaled-down subnormals, underflow, tiny, e
  const specials = [NaN, Infinity, -Infinity, 0, -0, 1, -1, 5e-324, -5e-324, 1e-300, 710, -746];
  for (const range of ranges) {
    // An odd count: the last value takes the scalar code.
    const values = Float64Array.from([...specials, ...Array.from({ length: 20001 }, range)]);
    const expected = values.map((v) => Math.exp(v - 0.25));
    wasmExpShifted(values, 0.25);
    assert.deepEqual(Array.from(values), Array.from(expected));
  }
});

test('Softmax lines equal the JS computation in doubles bit for bit (odd lengths, inf and NaN lines)', () => {
  const random = seededUniform(63);
  for (const n of [64, 65, 1001]) {
    const lines = 5;
    const values = Float32Array.from({ length: lines * n }, () => Math.fround((random() - 0.5) * 60));
    values[n + 3] = Infinity; // a line with +inf: its maximum, so NaN throughout
    values[2 * n + 7] = NaN; // a NaN never wins the maximum
    values.fill(-Infinity, 3 * n, 4 * n); // all −inf: NaN throughout
    const expected = new Float32Array(values.length);
    for (let line = 0; line < lines; line++) {
      const x = Array.from(values.subarray(line * n, (line + 1) * n));
      let max = -Infinity;
      for (const v of x) if (v > max) max = v;
      const e = x.map((v) => Math.exp(v - max));
      let sum = 0;
      for (const v of e) sum += v;
      expected.set(
        e.map((v) => v / sum),
        line * n,
      );
    }
    sameBits(wasmSoftmaxLines(values, lines, n), expected, `n ${n}`);
  }
});

test('plane means equal the four running double sums of the JS global average pool bit for bit', () => {
  for (const size of [4, 7, 30, 1001]) {
    const planes = 5;
    const values = spreadMatrix(planes * size, size);
    const expected = Float64Array.from({ length: planes }, (_, plane) => {
      const s = [0, 0, 0, 0];
      const start = plane * size;
      let at = start;
      for (; at + 4 <= start + size; at += 4) for (let q = 0; q < 4; q++) s[q]! += values[at + q]!;
      for (; at < start + size; at++) s[0]! += values[at]!;
      return (s[0]! + s[1]! + (s[2]! + s[3]!)) / size;
    });
    assert.deepEqual(Array.from(wasmPlaneMeans(values, planes, size)), Array.from(expected), `size ${size}`);
  }
});

test('nearest upsampling by integer factors repeats every value rh × rw times', () => {
  for (const [h, w, rh, rw] of [
    [3, 5, 2, 2],
    [2, 9, 1, 3],
    [4, 8, 3, 1],
  ] as const) {
    const planes = 3;
    const values = mixedValues(planes * h * w, h * w);
    const out = wasmUpsampleNearest(values, planes, [h, w], [rh, rw]);
    const expected = new Float32Array(planes * h * rh * w * rw);
    expected.forEach((_, i) => {
      const [plane, y, x] = [Math.floor(i / (h * rh * w * rw)), Math.floor(i / (w * rw)) % (h * rh), i % (w * rw)];
      expected[i] = values[plane * h * w + Math.floor(y / rh) * w + Math.floor(x / rw)]!;
    });
    sameBits(out, expected, `${h}×${w} by ${rh}×${rw}`);
  }
});

test('Sigmoid kernel equals the JS expression bit for bit (NaN, ±inf, ±0, subnormals)', () => {
  const values = mixedValues(5003, 62);
  const sigmoid = (x: number) => {
    const e = Math.exp(-Math.abs(x));
    return x >= 0 ? 1 / (1 + e) : e / (1 + e);
  };
  sameBits(wasmSigmoid(values), values.map(sigmoid), 'sigmoid');
});

test('Relu kernel equals x < 0 ? +0 : x bit for bit (−0 and NaN pass)', () => {
  const values = mixedValues(1002, 45);
  sameBits(
    wasmRelu(values),
    values.map((v) => (v < 0 ? 0 : v)),
    'Relu',
  );
});

/** The lmul-formula operand transforms as the engine first wrote them in JS (doubles, one f32 rounding). */
function formulaOperandsJs(A: Float32Array, B: Float32Array, m: number, n: number, k: number, c: number) {
  const E = (x: number) => Math.sign(x) * 2 ** Math.floor(Math.log2(Math.abs(x)));
  const left = new Float32Array(m * 2 * k);
  const right = new Float32Array(2 * k * n);
  for (let i = 0; i < m; i++) {
    for (let p = 0; p < k; p++) {
      const a = A[i * k + p]!;
      if (a === 0 || !Number.isFinite(a)) continue;
      left[i * 2 * k + p] = a + c * E(a);
      left[i * 2 * k + k + p] = E(a);
    }
  }
  for (let p = 0; p < k * n; p++) {
    const b = B[p]!;
    if (b === 0 || !Number.isFinite(b)) continue;
    right[p] = E(b);
    right[k * n + p] = b - E(b);
  }
  return { left, right };
}

for (const preset of ['lmul4-formula', 'lmul1-formula', 'lmul7-formula']) {
  test(`${preset} GEMM: WebAssembly operand transforms equal the JS ones bit for bit, subnormals included`, () => {
    const ctx = new MultiplyContext({ scheme: preset });
    const [m, n, k] = [6, 21, 19];
    const A = ctx.prepare(mixedValues(m * k, 51)).values;
    const B = ctx.prepare(mixedValues(k * n, 52)).values;
    const c = 2 ** -lmulOffsetBits(ctx.scheme.operandFormat.manBits);
    const { left, right } = formulaOperandsJs(A, B, m, n, k, c);
    sameBits(wasmGemmLmulFormula(A, B, { m, n, k }, c), wasmGemm(left, right, m, n, 2 * k), preset);
    // Constant weights: their transform made once and kept in linear memory, read again by later calls.
    const constant = A.slice();
    markConstant(constant);
    for (let call = 0; call < 2; call++)
      sameBits(wasmGemmLmulFormula(constant, B, { m, n, k }, c), wasmGemm(left, right, m, n, 2 * k), `${preset} kept`);
  });
}

for (const preset of ['lmul4', 'lmul3', 'lmul23', 'lmul4-formula', 'lmul1-formula', 'e4m3-mul', 'e5m2-mul', 'e4m3']) {
  test(`${preset} element-wise products in WebAssembly equal productsOf bit for bit over broadcasts`, () => {
    const ctx = new MultiplyContext({ scheme: preset });
    for (const [dimsA, dimsB] of BROADCASTS) {
      const plan = planBroadcast(dimsA, dimsB);
      const size = (dims: number[]) => dims.reduce((x, y) => x * y, 1);
      // Subnormals, zeros of both signs, inf and NaN, products past fp32's range and below it.
      const a = ctx.prepare(mixedValues(size(dimsA), 61));
      const b = ctx.prepare(mixedValues(size(dimsB), 62));
      const expected = new Float32Array(plan.count);
      const fill = ctx.productsOf(a, b);
      const [startA, startB] = plan.rowStart as [Int32Array, Int32Array];
      for (let r = 0; r < plan.rows; r++)
        fill(expected, r * plan.run, plan.run, startA[r]!, plan.step[0]!, startB[r]!, plan.step[1]!);
      const out = ctx.productRuns(a, b, plan);
      assert.ok(out, `${preset} has a WebAssembly product kernel`);
      sameBits(out, expected, `${preset} [${dimsA}] [${dimsB}]`);
    }
  });
}

for (const preset of ['e4m3-mul', 'e5m2-mul']) {
  const scheme = parseScheme(preset);
  const format = scheme.operandFormat;

  test(`${preset} computed element-wise products equal the table's for every pair of codes, scaled`, () => {
    const values = Float32Array.from({ length: 256 }, (_, code) => decodeBits(format, code));
    const finite = values.filter((v) => Number.isFinite(v));
    const A = Float32Array.from({ length: finite.length ** 2 }, (_, i) => finite[Math.floor(i / finite.length)]!);
    const B = Float32Array.from({ length: finite.length ** 2 }, (_, i) => finite[i % finite.length]!);
    const plan = planBroadcast([A.length], [B.length]);
    const [a, b] = [wasmEncodeFp8(format, A), wasmEncodeFp8(format, B)];
    // Prepared operands (factor 1) with scales whose unscaled products are exact fp32 values, and beyond.
    for (const [sa, sb] of [
      [0, 0],
      [3, -7],
      [70, 60],
      [-60, -59],
      [71, 70],
    ]) {
      const out = wasmFp8ProductRuns(scheme, 'rne', plan, { values: A, scale: sa }, { values: B, scale: sb });
      const expected = wasmProductTableRuns(scheme, plan, a, b, sa + sb);
      // Computed where the smallest and largest products unscaled are fp32 values (e4m3: −119 ≤ sa + sb ≤ 140).
      const [smallest, largest] = [2 ** (format.emin - format.manBits - sa - sb), format.maxFinite * 2 ** -(sa + sb)];
      if (Math.fround(smallest) !== smallest || Math.fround(largest) !== largest) assert.equal(out, null, 'inexact');
      else sameBits(out!, expected, `${preset} 2^-${sa + sb}`);
    }
  });

  for (const rounding of ['', ':trunc']) {
    test(`${preset}${rounding} computed element-wise products equal prepared table products over broadcasts`, () => {
      const ctx = new MultiplyContext({ scheme: preset + rounding });
      const size = (dims: number[]) => dims.reduce((x, y) => x * y, 1);
      let seed = 130;
      for (const [dimsA, dimsB] of BROADCASTS) {
        const plan = planBroadcast(dimsA, dimsB);
        for (const [scaleA, scaleB] of [
          [0, 0],
          [5, -3],
          [-20, 12],
        ]) {
          // Subnormals of the format and ties, tiny values, zeros of both signs (the in-range first half of
          // fp8RangeValues), with the tensors' own scales.
          const x = fp8RangeValues(format, 2 * size(dimsA), seed++, scaleA).slice(0, size(dimsA));
          const y = fp8RangeValues(format, 2 * size(dimsB), seed++, scaleB).slice(0, size(dimsB));
          const computed = ctx.fp8ProductRuns(x, y, plan);
          const looked = ctx.productRuns(ctx.prepare(x), ctx.prepare(y), plan)!;
          assert.ok(computed, `${preset}${rounding} computes [${dimsA}] [${dimsB}]`);
          sameBits(computed, looked, `${preset}${rounding} [${dimsA}] [${dimsB}]`);
          // x, prepared and cached above, now enters as its prepared values (factor 1).
          sameBits(
            ctx.fp8ProductRuns(x, y.slice(), plan)!,
            looked,
            `${preset}${rounding} cached [${dimsA}] [${dimsB}]`,
          );
        }
      }
    });
  }

  test(`${preset} computed element-wise products decline NaN, inf and values past the format's range`, () => {
    const ctx = new MultiplyContext({ scheme: preset, fp8Scaling: 'none' });
    const plan = planBroadcast([64], [64]);
    const ones = new Float32Array(64).fill(1);
    for (const special of [NaN, Infinity, -Infinity, format.maxFinite * 2]) {
      const x = new Float32Array(64).fill(0.5);
      x[37] = special;
      assert.equal(ctx.fp8ProductRuns(x, ones, plan), null, `${special}`);
    }
    assert.ok(ctx.fp8ProductRuns(ones, ones, plan));
  });
}

/** Mostly normal values over ±2^±70 (products below, inside and past the normal range) with specials sprinkled. */
function mostlyNormalValues(count: number, seed: number): Float32Array {
  const uniform = seededUniform(seed);
  const normal = seededNormal(seed + 1);
  const out = new Float32Array(count);
  const specials = [0, -0, Infinity, -Infinity, NaN, 1e-45, -1e-40, 3.4028235e38, 2 ** -126, -(2 ** 127)];
  for (let i = 0; i < count; i++) {
    const u = uniform();
    out[i] =
      u < 0.02
        ? specials[Math.floor(uniform() * specials.length)]!
        : normal() * 2 ** Math.round((uniform() * 2 - 1) * 70);
  }
  return out;
}

for (const preset of ['lmul4', 'lmul3', 'lmul1', 'lmul23', 'lmul4-formula', 'lmul1-formula']) {
  test(`${preset} element-wise products: the four-lane path equals productsOf bit for bit`, () => {
    const ctx = new MultiplyContext({ scheme: preset });
    const shapes: [number[], number[]][] = [
      [
        [3, 41, 67],
        [3, 41, 67],
      ],
      [[7, 130], [1]],
      [[1], [5, 97]],
      [
        [4, 8, 33],
        [8, 1],
      ],
      [
        [6, 1],
        [1, 75],
      ],
    ];
    let fast = 0;
    for (const [dimsA, dimsB] of shapes) {
      const plan = planBroadcast(dimsA, dimsB);
      const size = (dims: number[]) => dims.reduce((x, y) => x * y, 1);
      const [rawA, rawB] = [mostlyNormalValues(size(dimsA), 71), mostlyNormalValues(size(dimsB), 72)];
      if (rawA.length === rawB.length)
        for (let j = 1; j < rawA.length; j += 37) {
          // Zero times inf or NaN among normal lanes: NaN, not the four-lane path's ±0.
          rawA[j] = j % 2 ? 0 : -0;
          rawB[j] = [Infinity, -Infinity, NaN][j % 3]!;
        }
      const [a, b] = [ctx.prepare(rawA), ctx.prepare(rawB)];
      const expected = new Float32Array(plan.count);
      const fill = ctx.productsOf(a, b);
      const [startA, startB] = plan.rowStart as [Int32Array, Int32Array];
      for (let r = 0; r < plan.rows; r++)
        fill(expected, r * plan.run, plan.run, startA[r]!, plan.step[0]!, startB[r]!, plan.step[1]!);
      for (let i = 0; i < expected.length; i++) if (Math.abs(expected[i]!) >= 2 ** -126) fast++;
      const out = ctx.productRuns(a, b, plan);
      assert.ok(out, `${preset} has a WebAssembly product kernel`);
      sameBits(out, expected, `${preset} [${dimsA}] [${dimsB}]`);
    }
    assert.ok(fast > 1000, 'most products are normal, so most groups of four take the four-lane path');
  });
}

for (const preset of ['lmul4', 'lmul4-formula', 'e4m3-mul', 'e5m2', 'bf16']) {
  test(`${preset} per-channel scaling (normalisations) equals the scheme's product bit for bit`, () => {
    const ctx = new MultiplyContext({ scheme: preset });
    const [channels, blockSize] = [6, 97];
    const values = mixedValues(2 * channels * blockSize, 91);
    const factors = mixedValues(channels, 92);
    const out = arithmeticFor(ctx, 'float32').scaleBlocks(values, factors, blockSize);
    const [a, f] = [ctx.prepare(values), ctx.prepare(factors)];
    const expected = values.map((_, i) =>
      ctx.product(a.values[i]!, f.values[Math.floor(i / blockSize) % channels]!, a.scale, f.scale),
    );
    sameBits(out as Float32Array, expected, preset);
  });
}

/** The f32 GEMM's sums as its kernels define them: f32 sums over chunks of 64 terms, chunk sums in f64. */
function chunkedGemm(A: Float32Array, B: Float32Array, m: number, n: number, k: number): Float32Array {
  const out = new Float32Array(m * n);
  for (let i = 0; i < m; i++)
    for (let j = 0; j < n; j++) {
      let total = 0;
      for (let start = 0; start < k; start += 64) {
        let sum = 0;
        for (let p = start; p < Math.min(k, start + 64); p++)
          sum = Math.fround(sum + Math.fround(A[i * k + p]! * B[p * n + j]!));
        total += sum;
      }
      out[i * n + j] = total;
    }
  return out;
}

/** Magnitudes spread over many binades, so that summation order shows in the bits. */
function spreadMatrix(length: number, seed: number): Float32Array {
  const normal = seededNormal(seed);
  return Float32Array.from({ length }, (_, i) => Math.fround(normal() * 2 ** ((i % 23) - 11)));
}

test('f32 GEMM: every block shape (4×8, 4×4, single rows, remaining columns, packed panels, narrow C) gives the chunked sums bit for bit', () => {
  let seed = 11;
  // m ≥ 8 packs panels (n ≥ 16: sixteen columns wide, 2×16 blocks; n < 8: A's rows as the panel, C stored
  // transposed); k = 5000 is too long for a sixteen-column panel, k = 8193 for any.
  const shapes: [number, number, number][] = [
    [8, 3, 8193],
    [9, 9, 8193],
    [16, 1, 8193],
    [9, 37, 5000],
  ];
  for (const m of [1, 3, 4, 5, 8, 9, 17])
    for (const n of [1, 3, 4, 5, 7, 8, 12, 13, 20, 21, 33])
      for (const k of [1, 63, 64, 65, 200]) shapes.push([m, n, k]);
  for (const [m, n, k] of shapes) {
    const A = spreadMatrix(m * k, seed++);
    const B = spreadMatrix(k * n, seed++);
    const expected = chunkedGemm(A, B, m, n, k);
    sameBits(wasmGemm(A, B, m, n, k), expected, `${m}×${n}×${k}`);
    // A row bias is added in f32 to each rounded sum, as the JS loop adds it; a scale multiplies it first.
    const rowBias = spreadMatrix(m, seed++);
    sameBits(wasmGemm(A, B, m, n, k, { rowBias }), addBlocks(expected.slice(), rowBias, n), `${m}×${n}×${k} with bias`);
    for (const scale of [2 ** -9, 2 ** 100, 2 ** -126]) {
      const scaled = expected.map((v) => v * scale);
      sameBits(wasmGemm(A, B, m, n, k, { scale }), scaled, `${m}×${n}×${k} × ${scale}`);
      const both = addBlocks(scaled, rowBias, n);
      sameBits(wasmGemm(A, B, m, n, k, { scale, rowBias }), both, `${m}×${n}×${k} × ${scale} with bias`);
    }
  }
});

test('a constant left operand is kept in linear memory after its first GEMM, with the same results', () => {
  const [m, n, k] = [24, 37, 96];
  let seed = 900;
  const A = spreadMatrix(m * k, seed++);
  const B = spreadMatrix(k * n, seed++);
  const expected = chunkedGemm(A, B, m, n, k);
  markConstant(A);
  sameBits(wasmGemm(A, B, m, n, k), expected, 'first use: placed');
  // From now on the kernel reads A where it was placed: other data copied in between must not disturb it.
  const other = spreadMatrix(m * k, seed++);
  sameBits(wasmGemm(other, B, m, n, k), chunkedGemm(other, B, m, n, k), 'another operand');
  sameBits(wasmGemm(A, B, m, n, k), expected, 'resident');
  const B2 = spreadMatrix(k * n, seed++);
  sameBits(wasmGemm(A, B2, m, n, k), chunkedGemm(A, B2, m, n, k), 'resident with new columns');
});

test('col2im in WebAssembly adds a patch matrix back into image planes as the JS col2imAdd does, bit for bit', () => {
  let seed = 120;
  for (const { name, geometry } of DEPTHWISE_CASES) {
    const table = patchTable(geometry);
    const channels = 3;
    // Overlapping windows add several values into one element: their order shows in the bits.
    const col = spreadMatrix(channels * table.taps * table.positions, seed++);
    const image = spreadMatrix(2 * channels * table.imageSize, seed++);
    const expected = image.slice();
    col2imAdd(table, col, expected, channels * table.imageSize, channels, null);
    const out = image.slice();
    wasmCol2imAdd(table, col, out, channels * table.imageSize, channels);
    sameBits(out, expected, name);
  }
});

test('GEMM on a patch matrix too tall for a 16- or an 8-column panel equals wasmGemm of the JS im2col', () => {
  const { geometry } = DEPTHWISE_CASES[0]!;
  const table = patchTable(geometry);
  // k > 4096: panels of eight columns only; k > 8192: the patch matrix, packed as a plain GEMM's B.
  for (const tall of [5000, 8200]) {
    const channels = Math.ceil(tall / table.taps);
    const k = channels * table.taps;
    const x = mixedFinite(channels * table.imageSize, 48);
    const A = mixedFinite(3 * k, 49);
    const col = new Float32Array(k * table.positions);
    im2col(table, x, 0, channels, col, 0, table.positions);
    const out = wasmGemmPatches(A, x, table, { m: 3, channels, from: 0, width: table.positions });
    sameBits(out!, wasmGemm(A, col, 3, table.positions, k), `k ${k}`);
  }
});

test('GEMM on a patch matrix built in WebAssembly equals wasmGemm of the JS im2col bit for bit', () => {
  let seed = 40;
  for (const { name, geometry } of DEPTHWISE_CASES) {
    const table = patchTable(geometry);
    const channels = 3;
    for (const m of [1, 5, 8]) {
      // NaN, ±inf, −0 and subnormals in the image: copied bit for bit, padding +0.
      const x = mixedValues(channels * table.imageSize, seed++);
      const A = mixedFinite(m * channels * table.taps, seed++);
      // Whole rows of positions, and a tile of them in the middle.
      const tiles = [[0, table.positions]];
      if (table.positions > 4) tiles.push([2, table.positions - 3]);
      for (const [from, to] of tiles) {
        const width = to! - from!;
        const col = new Float32Array(channels * table.taps * width);
        im2col(table, x, 0, channels, col, from, to);
        const expected = wasmGemm(A, col, m, width, channels * table.taps);
        const out = wasmGemmPatches(A, x, table, { m, channels, from: from!, width });
        assert.ok(out, 'no pool injected: the kernel runs');
        sameBits(out, expected, `${name}, m ${m}, positions [${from}, ${to})`);
        // The epilogue: a power-of-two scale and a row bias, applied as each sum is stored.
        const epilogue = { scale: 2 ** -3, rowBias: mixedFinite(m, seed++) };
        const scaled = wasmGemmPatches(A, x, table, { m, channels, from: from!, width }, epilogue);
        sameBits(scaled!, wasmGemm(A, col, m, width, channels * table.taps, epilogue), `${name}, m ${m} scaled`);
      }
    }
  }
});

for (const preset of ['lmul4', 'lmul3', 'lmul23']) {
  test(`${preset} adder GEMM with short rows (run as Cᵀ = Bᵀ·Aᵀ) equals it row by row`, () => {
    const ctx = new MultiplyContext({ scheme: preset });
    let seed = 90;
    for (const [m, n, k] of [
      [8, 1, 37],
      [9, 3, 70],
      [17, 5, 8],
      [12, 7, 129],
      [70, 13, 40],
      [100, 63, 9],
    ] as const) {
      // Normal operands over 2^±70 with zeros: products under- and overflow, so every path of the kernel
      // runs, and the range stays narrow enough for the integer-add plan (no scalar fallback, which sums
      // in f64).
      const operand = (count: number) => {
        const normal = seededNormal(seed++);
        return ctx.prepare(
          Float32Array.from({ length: count }, (_, i) =>
            i % 13 === 0 ? 0 : i % 17 === 0 ? 2 ** 70 : Math.fround(normal() * 2 ** ((i * 7) % 121) * 2 ** -60),
          ),
        );
      };
      const a = operand(m * k);
      const b = operand(k * n);
      const whole = ctx.gemm(a, b, { m, n, k });
      for (let i = 0; i < m; i++) {
        const row = ctx.gemm({ values: a.values.subarray(i * k, (i + 1) * k), scale: a.scale }, b, { m: 1, n, k });
        sameBits(whole.subarray(i * n, (i + 1) * n), row, `${preset} ${m}×${n}×${k} row ${i}`);
      }
    }
  });
}

test('product-table gemmPatches (code groups from the planes) equals gemm on the JS patch matrix', () => {
  let seed = 130;
  for (const preset of ['e4m3-mul', 'e5m2-mul']) {
    const ctx = new MultiplyContext({ scheme: preset });
    for (const { name, geometry } of DEPTHWISE_CASES) {
      const table = patchTable(geometry);
      for (const [channels, m] of [
        [3, 6],
        [2, 13],
      ] as const) {
        // Activations after a ReLU (many zeros: few code groups per plane), and without zeros (code 0, whose
        // group every step needs, only on the padding); ordinary weights.
        const normal = seededNormalArray(channels * table.imageSize, seed++);
        const a = ctx.prepare(seededNormalArray(m * channels * table.taps, seed++));
        for (const planes of [normal.map((v) => Math.max(v, 0)), normal.map((v) => 1 + Math.abs(v))]) {
          const x = ctx.prepare(planes);
          const col = new Float32Array(channels * table.taps * table.positions);
          im2col(table, x.values, 0, channels, col, 0, table.positions);
          const k = channels * table.taps;
          const expected = ctx.gemm(a, { values: col, scale: x.scale }, { m, n: table.positions, k });
          const out = ctx.gemmPatches(a, x, table, { m, channels, from: 0, width: table.positions });
          sameBits(out!, expected, `${preset} ${name}, ${channels} channels, m ${m}`);
        }
      }
    }
  }
});

test('lmul gemmPatches: planes plan, subnormals and wide ranges equal gemm on the JS patch matrix', () => {
  let seed = 90;
  for (const preset of ['lmul4', 'lmul3', 'lmul4-formula', 'lmul7-formula']) {
    const ctx = new MultiplyContext({ scheme: preset });
    for (const { name, geometry } of DEPTHWISE_CASES) {
      const table = patchTable(geometry);
      const [channels, m] = [3, 6];
      // Image values over about ±2^±40 (with the weights' 2^40, products past fp32's range), subnormals, zeros.
      const normal = seededNormal(seed++);
      const raw = Float32Array.from({ length: channels * table.imageSize }, (_, i) =>
        i % 11 === 3
          ? 1.5 * 2 ** -128 * (i % 2 ? 1 : -1)
          : i % 13 === 5
            ? 0
            : normal() * 2 ** Math.round(normal() * 12),
      );
      const x = ctx.prepare(raw);
      const a = ctx.prepare(
        Float32Array.from({ length: m * channels * table.taps }, (_, i) => normal() * 2 ** (i % 3 ? 40 : -60)),
      );
      const from = table.positions > 4 ? 2 : 0;
      const width = table.positions - from;
      const col = new Float32Array(channels * table.taps * width);
      im2col(table, x.values, 0, channels, col, from, from + width);
      const k = channels * table.taps;
      const expected = ctx.gemm(a, { values: col, scale: x.scale }, { m, n: width, k });
      const out = ctx.gemmPatches(a, x, table, { m, channels, from, width });
      assert.ok(out, `${preset} ${name}: gathers patches in WebAssembly`);
      sameBits(out, expected, `${preset} ${name}`);
      // A Conv bias, added to each row's sums in f32.
      const rowBias = Float32Array.from({ length: m }, (_, i) => (i - 2.5) * 0.375);
      const biased = ctx.gemmPatches(a, x, table, { m, channels, from, width, rowBias })!;
      const rowOf = (i: number) => Math.floor(i / width);
      sameBits(
        biased,
        expected.map((v, i) => v + rowBias[rowOf(i)]!),
        `${preset} ${name} with a bias`,
      );
      // An infinite image value: the kernel declines, the JS patch matrix and the scalar path run.
      const withInf = ctx.prepare(Float32Array.from(raw, (v, i) => (i === 0 ? Infinity : v)));
      assert.equal(ctx.gemmPatches(a, withInf, table, { m, channels, from, width }), null);
    }
  }
});

test('MultiplyContext.gemmPatches equals gemm on the JS patch matrix bit for bit, per scheme', () => {
  let seed = 70;
  for (const preset of ['exact', 'e4m3', 'e5m2', 'e4m3-mul', 'e5m2-mul', 'lmul4-formula', 'lmul3']) {
    const ctx = new MultiplyContext({ scheme: preset });
    for (const { name, geometry } of DEPTHWISE_CASES) {
      const table = patchTable(geometry);
      const channels = 2;
      const m = 5;
      // Below f32's top binade, so that rounding into an lmul operand format stays finite.
      const operand = (count: number) => mixedFinite(count, seed++).map((v) => (Math.abs(v) > 2 ** 100 ? 3 : v));
      const x = ctx.prepare(operand(channels * table.imageSize));
      const a = ctx.prepare(operand(m * channels * table.taps));
      const from = table.positions > 4 ? 1 : 0;
      const width = table.positions - from;
      const out = ctx.gemmPatches(a, x, table, { m, channels, from, width });
      assert.ok(out, `${preset} gathers patches in WebAssembly`);
      const col = new Float32Array(channels * table.taps * width);
      im2col(table, x.values, 0, channels, col, from, from + width);
      const k = channels * table.taps;
      const expected = ctx.gemm(a, { values: col, scale: x.scale }, { m, n: width, k });
      sameBits(out, expected, `${preset} ${name}`);
      // A row bias (a Conv's), fused into the GEMM or added after it, is added in f32 to each result.
      const rowBias = mixedFinite(m, seed++);
      const biased = ctx.gemmPatches(a, x, table, { m, channels, from, width, rowBias });
      sameBits(biased!, addBlocks(expected, rowBias, width), `${preset} ${name} with bias`);
    }
  }
});
