/** Multiply schemes (SPEC §3): presets, parsing and the scalar multiply pipeline. */
import { fp32FromBits, fp32ToBits, pow2 } from './bits';
import { BF16, E4M3, E5M2, FP16, FP32, e8m, roundToFormat, type FloatFormat, type RoundingMode } from './formats';
import { applyProductRule, type ProductRule } from './products';

export interface Scheme {
  /** Canonical preset name, `:trunc` included when operands are truncated. */
  readonly preset: string;
  readonly operandFormat: FloatFormat;
  readonly operandRounding: RoundingMode;
  readonly rule: ProductRule;
  /** Format the product is rounded into before fp32 (an fp8 multiplier's output), if any. */
  readonly productFormat: FloatFormat | null;
  /** Operands are fp8 and scaled per tensor by a power of two (SPEC §4). */
  readonly fp8: boolean;
}

const LMUL_BITS = Array.from({ length: 23 }, (_, i) => i + 1);

/** Every preset name without a rounding suffix. */
export const ALL_PRESETS: readonly string[] = [
  'exact',
  ...LMUL_BITS.map((k) => `lmul${k}`),
  ...LMUL_BITS.map((k) => `lmul${k}-formula`),
  'e4m3',
  'e5m2',
  'e4m3-mul',
  'e5m2-mul',
  'bf16',
  'fp16',
];

const PRESET_PATTERN = /^(?:(exact|bf16|fp16)|lmul(\d+)(-formula)?|(e4m3|e5m2)(-mul)?)(?::(rne|trunc))?$/;

export function parseScheme(preset: string): Scheme {
  const m = PRESET_PATTERN.exec(preset.trim());
  if (!m) throw new SchemeError(preset);
  const [, plain, lmulBits, formula, fp8Name, fp8Mul, rounding] = m;
  const operandRounding: RoundingMode = rounding === 'trunc' ? 'trunc' : 'rne';
  const base = { operandRounding, productFormat: null, fp8: false };
  let scheme: Omit<Scheme, 'preset'>;
  if (plain) {
    const operandFormat = plain === 'exact' ? FP32 : plain === 'bf16' ? BF16 : FP16;
    scheme = { ...base, operandFormat, rule: 'exact' };
  } else if (lmulBits) {
    const k = Number(lmulBits);
    if (k < 1 || k > 23 || String(k) !== lmulBits) throw new SchemeError(preset);
    scheme = { ...base, operandFormat: e8m(k), rule: formula ? 'lmul-formula' : 'lmul-adder' };
  } else {
    const format = fp8Name === 'e4m3' ? E4M3 : E5M2;
    scheme = { ...base, operandFormat: format, rule: 'exact', fp8: true, productFormat: fp8Mul ? format : null };
  }
  const name = preset.trim().replace(/:rne$/, '');
  return { preset: name, ...scheme };
}

export class SchemeError extends Error {
  constructor(preset: string) {
    super(
      `unknown scheme "${preset}": use exact, lmulK or lmulK-formula (K = 1..23), e4m3, e5m2, e4m3-mul, ` +
        `e5m2-mul, bf16 or fp16, optionally followed by :trunc`,
    );
    this.name = 'SchemeError';
  }
}

/**
 * One multiplication under `scheme` of two fp32 values, returning the fp32 value that enters the
 * accumulator. scaleA/scaleB are the per-tensor fp8 scale exponents of SPEC §4 (0 = unscaled).
 */
export function mulValues(scheme: Scheme, a: number, b: number, scaleA = 0, scaleB = 0): number {
  const { operandFormat, operandRounding } = scheme;
  const qa = roundToFormat(scaleA === 0 ? a : a * pow2(scaleA), operandFormat, operandRounding);
  const qb = roundToFormat(scaleB === 0 ? b : b * pow2(scaleB), operandFormat, operandRounding);
  return multiplyPrepared(scheme, qa, qb, scaleA, scaleB);
}

/** The product of operands already rounded (and scaled) into the operand format, rounded to fp32. */
export function multiplyPrepared(scheme: Scheme, qa: number, qb: number, scaleA: number, scaleB: number): number {
  let p = applyProductRule(scheme.rule, scheme.operandFormat.manBits, qa, qb);
  // SPEC §3–4 in order: the fp8 multiplier rounds the product of the scaled operands into its own format,
  // then the product is multiplied back by 2^-(sa+sb) (exact in a double) and rounded to fp32.
  if (scheme.productFormat) p = roundToFormat(p, scheme.productFormat, 'rne');
  if (scaleA + scaleB !== 0) p *= pow2(-(scaleA + scaleB));
  return Math.fround(p);
}

export const CANONICAL_NAN_BITS = 0x7fc00000;

/** mulValues on fp32 bit patterns (no scaling); any NaN result is the canonical quiet NaN. */
export function mulBits(scheme: Scheme, aBits: number, bBits: number): number {
  const p = mulValues(scheme, fp32FromBits(aBits), fp32FromBits(bBits));
  return p !== p ? CANONICAL_NAN_BITS : fp32ToBits(p);
}
