/**
 * A fast scalar product for one scheme, for kernels that multiply element by element: the same result as
 * `multiplyPrepared` (the definition; tests compare them), with the common cases done on fp32 bit patterns.
 */
import { lmulOffsetBits } from './products';
import { fp32Rounder } from './roundArray';
import { multiplyPrepared, type Scheme } from './schemes';

/** Product of two prepared operand values (with their tensors' fp8 scale exponents), rounded to fp32. */
export type ProductFunction = (a: number, b: number, scaleA: number, scaleB: number) => number;

const f32 = new Float32Array(2);
const u32 = new Uint32Array(f32.buffer);

export function productFunction(scheme: Scheme): ProductFunction {
  const slow: ProductFunction = (a, b, sa, sb) => multiplyPrepared(scheme, a, b, sa, sb);
  if (scheme.productFormat) {
    if (scheme.rule !== 'exact' || scheme.operandFormat.manBits > 11) return slow;
    // Products of two operands of at most 12 significant bits are exact in fp32 when in its normal range.
    const round = fp32Rounder(scheme.productFormat, 'rne');
    return (a, b, sa, sb) => {
      const p = a * b;
      const magnitude = Math.abs(p);
      if (magnitude !== 0 && (magnitude < 1.1754943508222875e-38 || magnitude > 3.4e38)) return slow(a, b, sa, sb);
      const r = round(p);
      return Math.fround(sa + sb === 0 ? r : r * 2 ** -(sa + sb));
    };
  }
  if (scheme.rule === 'exact') {
    // Prepared operands have at most 24 significant bits: a·b is exact in a double, so is the power-of-two
    // unscale, and Math.fround is the one rounding.
    return (a, b, sa, sb) => Math.fround(sa + sb === 0 ? a * b : a * b * 2 ** -(sa + sb));
  }
  const offsetBits = lmulOffsetBits(scheme.operandFormat.manBits);
  if (scheme.rule === 'lmul-adder') {
    // One integer addition of the patterns, valid while both operands are normal and the result stays normal.
    const offset = 0x3f800000 - 2 ** (23 - offsetBits);
    return (a, b, sa, sb) => {
      f32[0] = a;
      f32[1] = b;
      const A = u32[0]!;
      const B = u32[1]!;
      const magnitudeA = A & 0x7fffffff;
      const magnitudeB = B & 0x7fffffff;
      if (magnitudeA >= 0x00800000 && magnitudeA < 0x7f800000 && magnitudeB >= 0x00800000 && magnitudeB < 0x7f800000) {
        const sum = magnitudeA + magnitudeB - offset;
        if (sum >= 0x00800000 && sum < 0x7f800000) {
          u32[0] = (sum | ((A ^ B) & 0x80000000)) >>> 0;
          return f32[0]!;
        }
      }
      return slow(a, b, sa, sb);
    };
  }
  // lmul-formula: with E(x) the sign and exponent of x, formula(a, b) = a·E(b) + E(a)·b + (c − 1)·E(a)·E(b),
  // every term exact in a double and their sum too (26 significant bits at most).
  const cMinusOne = 2 ** -offsetBits - 1;
  return (a, b, sa, sb) => {
    f32[0] = a;
    f32[1] = b;
    const magnitudeA = u32[0]! & 0x7fffffff;
    const magnitudeB = u32[1]! & 0x7fffffff;
    if (magnitudeA >= 0x00800000 && magnitudeA < 0x7f800000 && magnitudeB >= 0x00800000 && magnitudeB < 0x7f800000) {
      u32[0] = u32[0]! & 0xff800000;
      u32[1] = u32[1]! & 0xff800000;
      const ea = f32[0]!;
      const eb = f32[1]!;
      return Math.fround(a * eb + ea * b + cMinusOne * ea * eb);
    }
    return slow(a, b, sa, sb);
  };
}
