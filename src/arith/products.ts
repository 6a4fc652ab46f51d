/** The product rules of SPEC §3, on operands that are already values of the operand format. */
import { exponentOf, pow2 } from './bits';

export type ProductRule = 'exact' | 'lmul-formula' | 'lmul-adder';

/** l(M) of the L-Mul offset term 2^-l(M). */
export function lmulOffsetBits(manBits: number): number {
  return manBits <= 3 ? manBits : manBits === 4 ? 3 : 4;
}

/**
 * The exact (unrounded) product of a and b under `rule`. Operands have at most 24 significant bits, so
 * every result here is exact in a double: the caller does all rounding.
 */
export function applyProductRule(rule: ProductRule, manBits: number, a: number, b: number): number {
  if (rule === 'exact' || a !== a || b !== b || a === 0 || b === 0) return a * b; // IEEE gives the specials
  const negative = a < 0 !== b < 0;
  const absA = Math.abs(a);
  const absB = Math.abs(b);
  if (absA === Infinity || absB === Infinity) return negative ? -Infinity : Infinity;
  // a = (1 + ma)·2^ea with subnormals normalised (ea may lie below the format's emin).
  const ea = exponentOf(absA);
  const eb = exponentOf(absB);
  const ma = absA / pow2(ea) - 1;
  const mb = absB / pow2(eb) - 1;
  const t = ma + mb + pow2(-lmulOffsetBits(manBits));
  let magnitude: number;
  if (rule === 'lmul-formula') {
    magnitude = (1 + t) * pow2(ea + eb);
  } else {
    // An integer adder on the packed fields: the mantissa carry floor(t) flows into the exponent.
    const carry = Math.floor(t);
    magnitude = (1 + t - carry) * pow2(ea + eb + carry);
  }
  return negative ? -magnitude : magnitude;
}
