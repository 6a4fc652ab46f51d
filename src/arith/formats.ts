/**
 * Number formats as data (SPEC §1): exponent/mantissa widths, bias, special-value encoding and the
 * overflow rule. Everything else in src/arith is generic over these records.
 */
import { exponentOf, pow2, roundHalfEven } from './bits';

export type RoundingMode = 'rne' | 'trunc';

/**
 * How NaN and infinity are encoded:
 * - `ieee`: exponent all ones is inf (mantissa 0) or NaN;
 * - `fn` (OCP e4m3fn): no inf, NaN only S.1111.111, the rest of the top binade is finite;
 * - `fnuz`: no inf, no negative zero, NaN is the bit pattern of -0 (ONNX float8e4m3fnuz/e5m2fnuz).
 */
export type SpecialEncoding = 'ieee' | 'fn' | 'fnuz';

export interface FloatFormat {
  readonly name: string;
  readonly expBits: number;
  readonly manBits: number;
  readonly bias: number;
  /** Exponent of the smallest normal binade. */
  readonly emin: number;
  /** Exponent of the largest finite binade. */
  readonly emax: number;
  readonly maxFinite: number;
  readonly specials: SpecialEncoding;
  /** Finite overflow: `saturate` to ±maxFinite (fp8 satfinite practice) or `ieee` (±inf under rne). */
  readonly overflow: 'ieee' | 'saturate';
}

function defineFormat(
  name: string,
  expBits: number,
  manBits: number,
  specials: SpecialEncoding,
  overflow: FloatFormat['overflow'],
  bias = 2 ** (expBits - 1) - 1,
): FloatFormat {
  const topField = 2 ** expBits - 1;
  const emax = (specials === 'ieee' ? topField - 1 : topField) - bias;
  // In `fn` the all-ones mantissa of the top binade is NaN, so the largest mantissa is one step lower.
  const maxMantissa = specials === 'fn' ? 2 - 2 * pow2(-manBits) : 2 - pow2(-manBits);
  return {
    name,
    expBits,
    manBits,
    bias,
    emin: 1 - bias,
    emax,
    maxFinite: maxMantissa * pow2(emax),
    specials,
    overflow,
  };
}

export const FP32 = defineFormat('fp32', 8, 23, 'ieee', 'ieee');
export const FP16 = defineFormat('fp16', 5, 10, 'ieee', 'ieee');
export const BF16 = defineFormat('bf16', 8, 7, 'ieee', 'ieee');
export const E4M3 = defineFormat('e4m3', 4, 3, 'fn', 'saturate');
export const E5M2 = defineFormat('e5m2', 5, 2, 'ieee', 'saturate');
/** Decode-only formats that ONNX tensors may carry (not operand formats of any scheme). */
export const E4M3FNUZ = defineFormat('e4m3fnuz', 4, 3, 'fnuz', 'saturate', 8);
export const E5M2FNUZ = defineFormat('e5m2fnuz', 5, 2, 'fnuz', 'saturate', 16);

const e8mCache = new Map<number, FloatFormat>();
/** e8mK: fp32's exponent range with K mantissa bits (K = 23 is fp32 itself). */
export function e8m(k: number): FloatFormat {
  if (!Number.isInteger(k) || k < 1 || k > 23) throw new RangeError(`e8mK needs 1 <= K <= 23, got ${k}`);
  if (k === 23) return FP32;
  let format = e8mCache.get(k);
  if (!format) {
    format = defineFormat(`e8m${k}`, 8, k, 'ieee', 'ieee');
    e8mCache.set(k, format);
  }
  return format;
}

const NAMED: Record<string, FloatFormat> = { fp32: FP32, fp16: FP16, bf16: BF16, e4m3: E4M3, e5m2: E5M2 };

export function formatByName(name: string): FloatFormat {
  const named = NAMED[name];
  if (named) return named;
  const m = /^e8m(\d+)$/.exec(name);
  if (m) return e8m(Number(m[1]));
  throw new RangeError(`unknown number format "${name}" (known: ${Object.keys(NAMED).join(', ')}, e8m1..e8m23)`);
}

/**
 * q_F(v, mode) of SPEC §2: round the exact value v (a double) into format f.
 * Overflow follows the format's rule; under `trunc` an IEEE format overflows to ±maxFinite, as IEEE 754
 * roundTowardZero does. NaN stays NaN; ±inf stays ±inf, or saturates in formats without infinity.
 */
export function roundToFormat(v: number, f: FloatFormat, mode: RoundingMode = 'rne'): number {
  if (f === FP32 && mode === 'rne') return Math.fround(v);
  if (v !== v) return NaN;
  if (v === 0) return v;
  const sign = v < 0 ? -1 : 1;
  const a = Math.abs(v);
  if (a === Infinity) return f.overflow === 'saturate' ? sign * f.maxFinite : v;
  const quantum = pow2(Math.max(exponentOf(a), f.emin) - f.manBits);
  const steps = a / quantum; // exact: scaling by a power of two, and below 2^(M+1)
  let r = (mode === 'rne' ? roundHalfEven(steps) : Math.floor(steps)) * quantum;
  if (r > f.maxFinite) r = f.overflow === 'saturate' || mode === 'trunc' ? f.maxFinite : Infinity;
  return sign * r;
}

/** The value of an encoded bit pattern of format f (at most 32 bits wide). */
export function decodeBits(f: FloatFormat, bits: number): number {
  const manMask = 2 ** f.manBits - 1;
  const expMask = 2 ** f.expBits - 1;
  const signBit = 2 ** (f.expBits + f.manBits);
  bits = bits % (2 * signBit);
  const negative = bits >= signBit;
  const exp = Math.floor((bits % signBit) / 2 ** f.manBits);
  const man = bits & manMask;
  if (f.specials === 'fnuz' && bits === signBit) return NaN;
  if (f.specials === 'ieee' && exp === expMask) return man === 0 ? (negative ? -Infinity : Infinity) : NaN;
  if (f.specials === 'fn' && exp === expMask && man === manMask) return NaN;
  const magnitude = exp === 0 ? man * pow2(f.emin - f.manBits) : (1 + man / 2 ** f.manBits) * pow2(exp - f.bias);
  return negative ? -magnitude : magnitude;
}
