/** The arithmetic core: number formats, rounding, multiply schemes and accumulation (pure, no I/O). */
export { fp32FromBits, fp32ToBits, pow2, exponentOf } from './bits';
export {
  BF16,
  E4M3,
  E4M3FNUZ,
  E5M2,
  E5M2FNUZ,
  FP16,
  FP32,
  decodeBits,
  e8m,
  formatByName,
  roundToFormat,
  type FloatFormat,
  type RoundingMode,
} from './formats';
export { applyProductRule, lmulOffsetBits, type ProductRule } from './products';
export {
  ALL_PRESETS,
  CANONICAL_NAN_BITS,
  SchemeError,
  mulBits,
  mulValues,
  multiplyPrepared,
  parseScheme,
  type Scheme,
} from './schemes';
export { accumulate, accumulateStep, fp8ScaleExponent } from './accumulate';
export { roundArray } from './roundArray';
export { productFunction, type ProductFunction } from './productFunction';
