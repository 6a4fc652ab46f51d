/** Exact power-of-two and exponent helpers on IEEE doubles (the carrier type of every exact value here). */

const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);
const HI = 1; // little-endian: high word of the double is the second uint32
const f32 = new Float32Array(1);
const f32Bits = new Uint32Array(f32.buffer);

/** 2^k exactly, for any integer k in [-1074, 1023]. */
export function pow2(k: number): number {
  if (k < -1022) return pow2(k + 64) * 5.421010862427522e-20; // 2^-64, exact
  f64[0] = 0;
  u32[HI] = (k + 1023) << 20;
  return f64[0]!;
}

/** floor(log2(a)) exactly, for a finite a > 0 (double subnormals included). */
export function exponentOf(a: number): number {
  if (a < 2.2250738585072014e-308) return exponentOf(a * 18446744073709551616) - 64; // * 2^64
  f64[0] = a;
  return ((u32[HI]! >>> 20) & 0x7ff) - 1023;
}

/** Round a non-negative double that is below 2^52 to an integer, ties to even. */
export function roundHalfEven(n: number): number {
  const floor = Math.floor(n);
  const rest = n - floor;
  if (rest > 0.5 || (rest === 0.5 && floor % 2 === 1)) return floor + 1;
  return floor;
}

export function fp32FromBits(bits: number): number {
  f32Bits[0] = bits >>> 0;
  return f32[0]!;
}

/** The fp32 bit pattern of v (v is rounded to fp32 first). */
export function fp32ToBits(v: number): number {
  f32[0] = v;
  return f32Bits[0]!;
}
