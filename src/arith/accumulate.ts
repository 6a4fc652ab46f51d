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
 * every addition (rne, A's overflow rule). Summing in a double and rounding once is exact: the double sum
 * of two values of at most 24 bits rounds innocuously (53 >= 2·24 + 2).
 */
export function accumulate(products: ArrayLike<number>, accFormat: FloatFormat): number {
  let acc = 0;
  if (accFormat === FP32) {
    for (let k = 0; k < products.length; k++) acc = Math.fround(acc + products[k]!);
  } else {
    for (let k = 0; k < products.length; k++) acc = roundToFormat(acc + products[k]!, accFormat, 'rne');
  }
  return acc;
}
