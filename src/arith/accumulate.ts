/** fp8 per-tensor scaling (SPEC §4) and narrow accumulation (SPEC §5). */
import { exponentOf, pow2 } from './bits';
import { FP32, roundToFormat, type FloatFormat } from './formats';

/**
 * The largest integer s with amax·2^s <= maxFinite of `format`; 0 for an all-zero tensor. amax is the
 * largest finite magnitude of the tensor (non-finite elements saturate or stay NaN and do not set the scale).
 */
export function fp8ScaleExponent(amax: number, format: FloatFormat): number {
  if (!(amax > 0) || amax === Infinity) return 0;
  let s = exponentOf(format.maxFinite) - exponentOf(amax);
  // The estimate is off by at most one in either direction: the significands decide.
  if (amax * pow2(s) > format.maxFinite) s -= 1;
  else if (amax * pow2(s + 1) <= format.maxFinite) s += 1;
  return s;
}

/**
 * Sequential sum of fp32 products into an accumulator of format A, starting from +0 and rounding after
 * every addition (rne, A's overflow rule). For fp32, Math.fround(acc + p) is correctly rounded (53 ≥ 2·24 + 2).
 * Narrower accumulators see the double sum rounded to odd first: a double that rounded away the tiny
 * part of a sum could otherwise land exactly on a tie of A and round the wrong way.
 */
export function accumulate(products: ArrayLike<number>, accFormat: FloatFormat): number {
  let acc = 0;
  for (let k = 0; k < products.length; k++) acc = accumulateStep(acc, products[k]!, accFormat);
  return acc;
}

/** One addition of SPEC §5: acc + p, correctly rounded into the accumulator format. */
export function accumulateStep(acc: number, p: number, accFormat: FloatFormat): number {
  return accFormat === FP32 ? Math.fround(acc + p) : roundToFormat(sumRoundedToOdd(acc, p), accFormat, 'rne');
}

const f64 = new Float64Array(1);
const u64 = new BigUint64Array(f64.buffer);

/**
 * a + b rounded to odd in double precision: if the double sum is inexact and its last significand bit is
 * even, step one ulp towards the exact sum. Rounding that into any format of at most 51 bits is then the
 * correct rounding of the exact sum.
 */
export function sumRoundedToOdd(a: number, b: number): number {
  const s = a + b;
  if (!Number.isFinite(s)) return s;
  // TwoSum (Knuth): the exact error of the double addition.
  const bVirtual = s - a;
  const error = a - (s - bVirtual) + (b - bVirtual);
  if (error === 0) return s;
  f64[0] = s;
  if ((u64[0]! & 1n) === 1n) return s;
  // Moving away from zero increases the magnitude bits, towards zero decreases them.
  u64[0] = error > 0 === s > 0 ? u64[0]! + 1n : u64[0]! - 1n;
  return f64[0]!;
}
