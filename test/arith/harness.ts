/**
 * Test-side helpers for comparing the product's arithmetic against the oracle: a seeded PRNG,
 * fp32/fp64 bit views (typed arrays are fine here — the oracle itself never uses them), generators
 * of interesting operands, and a mismatch collector that reports the first few disagreements.
 */
import assert from 'node:assert/strict';
import {
  decode,
  encode,
  O_E4M3,
  O_E5M2,
  O_FP32,
  O_FP64,
  representable,
  type OFormat,
  type Val,
} from '../oracle/oracle';

// ---------------------------------------------------------------------------------------------
// Bit views

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);
const f64 = new Float64Array(1);
const u64 = new BigUint64Array(f64.buffer);

export function f32FromBits(bits: number): number {
  u32[0] = bits >>> 0;
  return f32[0]!;
}

export function f32Bits(x: number): number {
  f32[0] = x;
  return u32[0]!;
}

export function f64Bits(x: number): bigint {
  f64[0] = x;
  return u64[0]!;
}

export function f64FromBits(bits: bigint): number {
  u64[0] = bits;
  return f64[0]!;
}

/** Exact value of a JS number (via its binary64 bit pattern). */
export function valOfDouble(x: number): Val {
  return decode(O_FP64, f64Bits(x));
}

/** A JS number holding an exact value (must be representable in binary64). */
export function doubleOfVal(v: Val): number {
  return f64FromBits(encode(O_FP64, v));
}

export function isNaN32(bits: number): boolean {
  return (bits & 0x7f800000) === 0x7f800000 && (bits & 0x007fffff) !== 0;
}

/** Bit-exact equality of fp32 patterns, any NaN equal to any NaN. */
export function same32(a: number, b: number): boolean {
  a >>>= 0;
  b >>>= 0;
  return a === b || (isNaN32(a) && isNaN32(b));
}

/** Bit-exact equality of JS numbers (sign of zero included), any NaN equal to any NaN. */
export function sameDouble(a: number, b: number): boolean {
  if (Number.isNaN(a) || Number.isNaN(b)) return Number.isNaN(a) && Number.isNaN(b);
  return Object.is(a, b);
}

export const hex = (bits: number) => '0x' + (bits >>> 0).toString(16).padStart(8, '0');

export function describe32(bits: number): string {
  return `${hex(bits)} (${f32FromBits(bits)})`;
}

// ---------------------------------------------------------------------------------------------
// Mismatch collection

export class Mismatches {
  readonly first: string[] = [];
  count = 0;
  checked = 0;
  constructor(
    readonly label: string,
    readonly keep = 6,
  ) {}

  /** Records one comparison; `detail` is only evaluated on a mismatch. */
  check(ok: boolean, detail: () => string): void {
    this.checked++;
    if (ok) return;
    this.count++;
    if (this.first.length < this.keep) this.first.push(detail());
  }

  assertNone(minChecked = 1): void {
    assert.ok(
      this.checked >= minChecked,
      `${this.label}: only ${this.checked} comparisons ran (expected ≥ ${minChecked})`,
    );
    assert.equal(
      this.count,
      0,
      `${this.label}: ${this.count} of ${this.checked} disagree with the oracle; first:\n  ${this.first.join('\n  ')}`,
    );
  }
}

// ---------------------------------------------------------------------------------------------
// PRNG

/** mulberry32, seeded and deterministic: the product's own generator. */
export { seededUniform as prng } from '../../src/audit/random';

export function randInt(rand: () => number, lo: number, hi: number): number {
  return lo + Math.floor(rand() * (hi - lo + 1));
}

export function randU32(rand: () => number): number {
  return (Math.floor(rand() * 0x10000) * 0x10000 + Math.floor(rand() * 0x10000)) >>> 0;
}

export function pick<T>(rand: () => number, xs: readonly T[]): T {
  return xs[Math.floor(rand() * xs.length)]!;
}

// ---------------------------------------------------------------------------------------------
// fp32 bit-pattern construction

/** fp32 bits from sign, unbiased exponent of a normal number (−126..127) and a 23-bit mantissa field. */
export function normal32(neg: boolean, exp: number, man: number): number {
  return ((neg ? 0x80000000 : 0) | ((exp + 127) << 23) | (man & 0x7fffff)) >>> 0;
}

/** fp32 bits of a subnormal with the given mantissa field (1..2^23−1). */
export function subnormal32(neg: boolean, man: number): number {
  return ((neg ? 0x80000000 : 0) | (man & 0x7fffff)) >>> 0;
}

/** fp32 bits of an fp8 (or any narrow) pattern: exact value; NaN payload kept (shifted), so some are signalling. */
export function narrowToFp32Bits(f: OFormat, bits: number): number {
  const v = decode(f, bits);
  if (v.k === 'nan') {
    const sign = (bits >> (f.E + f.M)) & 1;
    const man = bits & ((1 << f.M) - 1);
    return ((sign ? 0x80000000 : 0) | 0x7f800000 | (man << (23 - f.M)) | (man === 0 ? 0x400000 : 0)) >>> 0;
  }
  return Number(encode(O_FP32, v));
}

export const E4M3_AS_FP32: readonly number[] = Array.from({ length: 256 }, (_, i) => narrowToFp32Bits(O_E4M3, i));
export const E5M2_AS_FP32: readonly number[] = Array.from({ length: 256 }, (_, i) => narrowToFp32Bits(O_E5M2, i));

export const SPECIAL32: readonly number[] = [
  0x00000000,
  0x80000000, // ±0
  0x7f800000,
  0xff800000, // ±inf
  0x7fc00000,
  0xffc00000,
  0x7f800001,
  0xffbfffff,
  0x7fffffff,
  0x7fa00000, // NaNs (quiet, signalling, payloads)
  0x00000001,
  0x80000001,
  0x007fffff,
  0x807fffff,
  0x00400000,
  0x00000003, // subnormals
  0x00800000,
  0x80800000, // ±min normal
  0x7f7fffff,
  0xff7fffff,
  0x7f7ff000,
  0x7f000000, // near max
  0x3f800000,
  0xbf800000,
  0x3fc00000,
  0x40000000,
  0x3f7fffff,
  0x3f800001,
  0x5f800000,
  0x5f7fffff,
  0x1f800000, // 2^64, just below, 2^-64
  0x43e00000,
  0x43e80000,
  0x47600000,
  0x47700000, // e4m3 max 448, tie 464, e5m2 max 57344, tie 61440
].map((b) => b >>> 0);

/**
 * An exact midpoint between two neighbours of format f (a tie under rne) that is a member of
 * `container`, in a random binade of f's range (its subnormal binades and the binade above max included).
 */
export function tieVal(rand: () => number, f: OFormat, container: OFormat): Val {
  if (f.M >= container.M) throw new Error('tieVal: ties of f are not members of the container');
  const cLo = container.emin - container.M;
  for (;;) {
    const neg = rand() < 0.5;
    const L = randInt(rand, Math.max(f.emin - f.M, cLo), Math.min(f.emax + 1, container.emax));
    const q = Math.max(L, f.emin) - f.M; // quantum of that binade
    if (q - 1 < cLo) continue; // the midpoint would be below the container's resolution
    // value = (n + 1/2)·2^q with n in the binade
    const lo = L >= f.emin ? 2 ** f.M : 2 ** (L - q);
    const hi = L >= f.emin ? 2 ** (f.M + 1) - 1 : 2 ** (L - q + 1) - 1;
    const n = BigInt(randInt(rand, lo, hi));
    const v: Val = { k: 'fin', neg, m: 2n * n + 1n, e: q - 1 };
    if (representable(container, v)) return v;
  }
}

/** fp32 bits of a tie of format f (f narrower than fp32). */
export function tieFor(rand: () => number, f: OFormat): number {
  return Number(encode(O_FP32, tieVal(rand, f, O_FP32)));
}

/** A random finite fp32 pattern with the exponent in [lo, hi] (normals) and random mantissa. */
export function normalIn(rand: () => number, lo: number, hi: number): number {
  return normal32(rand() < 0.5, randInt(rand, Math.max(lo, -126), Math.min(hi, 127)), randU32(rand) & 0x7fffff);
}

/** Neighbours of a pattern (±1, ±2 ulp in the bit pattern, clamped within the same sign). */
export function nudge(rand: () => number, bits: number): number {
  const d = pick(rand, [-2, -1, 0, 0, 1, 2]);
  const mag = (bits & 0x7fffffff) + d;
  if (mag < 0 || mag > 0x7f800000) return bits >>> 0;
  return ((bits & 0x80000000) | mag) >>> 0;
}

/** True when the fp32 pattern is exactly halfway between two neighbours of format f (an rne tie). */
export function isTieOf(f: OFormat, bits: number): boolean {
  const v = decode(O_FP32, bits >>> 0);
  if (v.k !== 'fin' || v.m === 0n) return false;
  const L = v.m.toString(2).length - 1 + v.e;
  const q = Math.max(L, f.emin) - f.M; // quantum exponent; a tie is an odd multiple of 2^(q−1)
  if (v.e > q - 1) return false;
  const shift = BigInt(q - 1 - v.e);
  return (v.m & ((1n << shift) - 1n)) === 0n && ((v.m >> shift) & 1n) === 1n;
}

/** Counts of result classes, used to prove that random inputs reach the corners they aim at. */
export interface Coverage {
  opTies: number;
  opOverflow: number;
  infFromFinite: number;
  subnormal: number;
  zeroFromNonzero: number;
  nan: number;
}
