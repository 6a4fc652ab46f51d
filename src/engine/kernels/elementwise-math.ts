/** Scalar math the element-wise kernels need beyond `Math`: erf, rounding half to even, integer powers and mods. */
import { roundHalfEven } from '../../arith/bits';

const TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI);

/** erf(x) to about 1e-15 relative error (JavaScript has no Math.erf). */
export function erf(x: number): number {
  const a = Math.abs(x);
  if (a === 0 || x !== x) return x;
  if (a >= 6) return Math.sign(x); // erfc(6) ≈ 2e-17: below half an ulp of 1
  return Math.sign(x) * (a < 2.5 ? erfSeries(a) : 1 - erfcContinuedFraction(a));
}

/** A&S 7.1.6: erf(a) = 2/√π · e^(−a²) · Σ 2ⁿa^(2n+1) / (1·3···(2n+1)); all terms positive, so no cancellation. */
function erfSeries(a: number): number {
  const twoA2 = 2 * a * a;
  let term = a;
  let sum = a;
  for (let n = 1; term > sum * 1e-17; n++) {
    term *= twoA2 / (2 * n + 1);
    sum += term;
  }
  return TWO_OVER_SQRT_PI * Math.exp(-a * a) * sum;
}

/** A&S 7.1.14: erfc(a) = e^(−a²)/√π · 1/(a + (1/2)/(a + 1/(a + (3/2)/(a + …)))), converged for a ≥ 2.5. */
function erfcContinuedFraction(a: number): number {
  let f = a;
  for (let k = 60; k >= 1; k--) f = a + k / 2 / f;
  return (TWO_OVER_SQRT_PI / 2) * (Math.exp(-a * a) / f);
}

/** Round half to even (ONNX Round, numpy.round); keeps −0, infinities and NaN. */
export function roundHalfToEven(x: number): number {
  const a = Math.abs(x);
  if (!(a < 2 ** 52)) return x; // already an integer, or NaN
  return x < 0 ? -roundHalfEven(a) : roundHalfEven(a);
}

/** a^n with wrap-around in 32 bits (stores narrow it further), by repeated squaring. */
export function integerPow(a: number, n: number): number {
  if (n < 0) return reciprocalPower(a, n);
  let result = 1;
  let base = a;
  for (let e = n; e > 0; e = Math.floor(e / 2)) {
    if (e % 2 === 1) result = Math.imul(result, base);
    base = Math.imul(base, base);
  }
  return result;
}

/** a^n with wrap-around in 64 bits. */
export function bigintPow(a: bigint, n: bigint): bigint {
  if (n < 0n) return BigInt(reciprocalPower(Number(a), Number(n)));
  let result = 1n;
  let base = a;
  for (let e = n; e > 0n; e >>= 1n) {
    if (e & 1n) result = BigInt.asIntN(64, result * base);
    base = BigInt.asIntN(64, base * base);
  }
  return result;
}

/** An integer to a negative power, truncated like C's cast of pow(): 0 unless |a| = 1. */
function reciprocalPower(a: number, n: number): number {
  if (a === 1) return 1;
  if (a === -1) return n % 2 === 0 ? 1 : -1;
  return 0;
}

/** An integer raised to a float power, truncated to an integer (0 where the power is not finite). */
export function truncatedPow(a: number, b: number): number {
  const p = Math.pow(a, b);
  return Number.isFinite(p) ? Math.trunc(p) : 0;
}

/** Python's integer mod: the result takes the divisor's sign; 0 for a zero divisor. */
export function floorMod(a: number, b: number): number {
  if (b === 0) return 0;
  const r = a % b;
  return r !== 0 && r < 0 !== b < 0 ? r + b : r;
}

export function floorModBigInt(a: bigint, b: bigint): bigint {
  if (b === 0n) return 0n;
  const r = a % b;
  return r !== 0n && r < 0n !== b < 0n ? r + b : r;
}

/** C's fmod on integers (the result takes the dividend's sign); 0 for a zero divisor. */
export function truncMod(a: number, b: number): number {
  return b === 0 ? 0 : a % b;
}

export function truncModBigInt(a: bigint, b: bigint): bigint {
  return b === 0n ? 0n : a % b;
}
