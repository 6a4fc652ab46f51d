/**
 * The paper's single-multiplication precision experiment, made fair: every scheme with round-to-nearest-even
 * and with truncating operand rounding, on two operand distributions, next to L-Mul's expected error.
 */
import { mulValues, parseScheme, type RoundingMode, type Scheme } from '../arith';
import { seededNormal, seededUniform } from './random';

export type Family = 'lmul-adder' | 'lmul-formula' | 'fp8-mul' | 'float';
export type Distribution = 'normal' | 'uniform';

export const DISTRIBUTIONS: Record<Distribution, string> = {
  normal: 'standard normal N(0, 1)',
  uniform: 'uniform U(-1, 1)',
};

export interface SchemeUnderTest {
  readonly basePreset: string;
  readonly family: Family;
  /** Mantissa bits of the operand format (x axis of the plot). */
  readonly mantissaBits: number;
}

const LMUL_BITS = [2, 3, 4, 5, 6, 7];

export const SCHEMES_UNDER_TEST: readonly SchemeUnderTest[] = [
  ...LMUL_BITS.map((k) => ({ basePreset: `lmul${k}`, family: 'lmul-adder' as const, mantissaBits: k })),
  ...LMUL_BITS.map((k) => ({ basePreset: `lmul${k}-formula`, family: 'lmul-formula' as const, mantissaBits: k })),
  { basePreset: 'e5m2-mul', family: 'fp8-mul', mantissaBits: 2 },
  { basePreset: 'e4m3-mul', family: 'fp8-mul', mantissaBits: 3 },
  { basePreset: 'bf16', family: 'float', mantissaBits: 7 },
  { basePreset: 'fp16', family: 'float', mantissaBits: 10 },
];

export interface ErrorStats {
  readonly mean: number;
  readonly median: number;
  readonly max: number;
}

export interface MeasuredRow extends SchemeUnderTest {
  readonly preset: string;
  readonly rounding: RoundingMode;
  readonly measured: Record<Distribution, ErrorStats>;
  /** Expected mean relative error under the reciprocal mantissa law (L-Mul families only). */
  readonly expectedMean: number | null;
}

export interface ClaimCheck {
  readonly claim: string;
  readonly lmulPreset: string;
  readonly fp8Preset: string;
  readonly distribution: Distribution;
  readonly lmulMean: number;
  readonly fp8Mean: number;
  /** lmulMean / fp8Mean: below 1 means L-Mul is more precise. */
  readonly ratio: number;
  /** The same ratio of medians: the mean of fp8 is dominated by products that underflow its range. */
  readonly medianRatio: number;
  readonly verdict: 'holds' | 'roughly (within 10%)' | 'does not hold';
}

export interface NumericsResult {
  readonly schemaVersion: 1;
  readonly samples: number;
  readonly seed: number;
  readonly distributions: Record<Distribution, string>;
  readonly expectationModel: string;
  readonly rows: readonly MeasuredRow[];
  readonly claims: readonly ClaimCheck[];
}

export interface NumericsOptions {
  readonly samples: number;
  readonly seed: number;
  /** Grid points per mantissa axis for the expectation integral. */
  readonly expectationGrid?: number;
}

/**
 * Relative error of each sample pair under one scheme, as single multiplications (the `mul` command's
 * semantics, no fp8 scaling: both distributions lie well inside the fp8 ranges).
 */
function relativeErrors(scheme: Scheme, a: Float32Array, b: Float32Array): Float64Array {
  const errors = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) {
    const exact = a[i]! * b[i]!; // exact in a double: two 24-bit significands
    errors[i] = Math.abs(mulValues(scheme, a[i]!, b[i]!) - exact) / Math.abs(exact);
  }
  return errors;
}

export function summarize(errors: Float64Array): ErrorStats {
  const sorted = Float64Array.from(errors).sort();
  let sum = 0;
  for (const e of sorted) sum += e;
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return { mean: sum / sorted.length, median, max: sorted[sorted.length - 1]! };
}

/** n non-zero fp32 samples of a distribution. */
function sampleOperands(distribution: Distribution, n: number, seed: number): Float32Array {
  const draw =
    distribution === 'normal'
      ? seededNormal(seed)
      : (
          (u) => () =>
            2 * u() - 1
        )(seededUniform(seed));
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let v = 0;
    while (v === 0) v = Math.fround(draw());
    out[i] = v;
  }
  return out;
}

/**
 * E|relative error| of one L-Mul scheme when operand mantissas follow the reciprocal (Benford) law
 * p(m) = 1 / ((1 + m) ln 2), the classical model of floating-point significands. L-Mul's relative error
 * depends only on the two mantissas, so this is a 2-D integral, taken by the midpoint rule with exact
 * cell masses; the offset 2^-l(M) is chosen by the paper to centre exactly this error.
 */
export function expectedLmulError(scheme: Scheme, grid: number): number {
  const points = new Float32Array(grid);
  const mass = new Float64Array(grid);
  for (let i = 0; i < grid; i++) {
    points[i] = 1 + (i + 0.5) / grid;
    mass[i] = Math.log2((1 + (i + 1) / grid) / (1 + i / grid));
  }
  let expectation = 0;
  for (let i = 0; i < grid; i++) {
    let row = 0;
    for (let j = 0; j < grid; j++) {
      const exact = points[i]! * points[j]!;
      row += (mass[j]! * Math.abs(mulValues(scheme, points[i]!, points[j]!) - exact)) / exact;
    }
    expectation += mass[i]! * row;
  }
  return expectation;
}

const CLAIMS = [
  { claim: '4-bit L-Mul is as precise as fp8 e4m3 multiplication', lmul: 'lmul4', fp8: 'e4m3-mul' },
  { claim: '3-bit L-Mul is more precise than fp8 e5m2 multiplication', lmul: 'lmul3', fp8: 'e5m2-mul' },
];

function verdictOf(ratio: number): ClaimCheck['verdict'] {
  return ratio <= 1 ? 'holds' : ratio <= 1.1 ? 'roughly (within 10%)' : 'does not hold';
}

export function runNumericsExperiment(options: NumericsOptions): NumericsResult {
  const { samples, seed } = options;
  const grid = options.expectationGrid ?? 512;
  const operands = {
    normal: [sampleOperands('normal', samples, seed), sampleOperands('normal', samples, seed + 1)],
    uniform: [sampleOperands('uniform', samples, seed + 2), sampleOperands('uniform', samples, seed + 3)],
  } as const;
  const rows: MeasuredRow[] = [];
  for (const rounding of ['rne', 'trunc'] as const) {
    for (const test of SCHEMES_UNDER_TEST) {
      const preset = rounding === 'rne' ? test.basePreset : `${test.basePreset}:trunc`;
      const scheme = parseScheme(preset);
      const measure = (d: Distribution) => summarize(relativeErrors(scheme, operands[d][0], operands[d][1]));
      const isLmul = test.family === 'lmul-adder' || test.family === 'lmul-formula';
      rows.push({
        ...test,
        preset,
        rounding,
        measured: { normal: measure('normal'), uniform: measure('uniform') },
        expectedMean: isLmul ? expectedLmulError(scheme, grid) : null,
      });
    }
  }
  const statsOf = (preset: string, d: Distribution) => rows.find((r) => r.preset === preset)!.measured[d];
  const claims: ClaimCheck[] = [];
  for (const { claim, lmul, fp8 } of CLAIMS) {
    for (const [lmulRounding, fp8Rounding] of [
      ['rne', 'rne'],
      ['trunc', 'trunc'],
      ['trunc', 'rne'],
    ] as const) {
      const lmulPreset = lmulRounding === 'rne' ? lmul : `${lmul}:trunc`;
      const fp8Preset = fp8Rounding === 'rne' ? fp8 : `${fp8}:trunc`;
      for (const distribution of ['normal', 'uniform'] as const) {
        const lmulStats = statsOf(lmulPreset, distribution);
        const fp8Stats = statsOf(fp8Preset, distribution);
        const ratio = lmulStats.mean / fp8Stats.mean;
        claims.push({
          claim,
          lmulPreset,
          fp8Preset,
          distribution,
          lmulMean: lmulStats.mean,
          fp8Mean: fp8Stats.mean,
          ratio,
          medianRatio: lmulStats.median / fp8Stats.median,
          verdict: verdictOf(ratio),
        });
      }
    }
  }
  return {
    schemaVersion: 1,
    samples,
    seed,
    distributions: DISTRIBUTIONS,
    expectationModel: `reciprocal mantissa law p(m) = 1/((1+m) ln 2), ${grid}x${grid} midpoint grid`,
    rows,
    claims,
  };
}
