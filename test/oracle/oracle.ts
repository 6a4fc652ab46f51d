/**
 * Independent oracle for docs SPEC-numerics §1–§5, written from the spec text only.
 *
 * Everything is exact rational arithmetic on dyadic values (-1)^neg · m · 2^e with a BigInt m ≥ 0.
 * No floating-point arithmetic is used to compute any result: bit patterns are decoded and encoded
 * with integer operations, and every rounding is done here on the exact value.
 *
 * It shares no code with src/ and imports nothing from it (on purpose: it is the second opinion).
 * It is slow and simple; the only concession to speed is memoisation of parsed presets and of rounded
 * operands (a pure function of preset and operand bits).
 */

// ---------------------------------------------------------------------------------------------
// Exact values

export type Val =
  | { readonly k: 'nan' }
  | { readonly k: 'inf'; readonly neg: boolean }
  /** (-1)^neg · m · 2^e; m = 0n is a zero that keeps its sign. */
  | { readonly k: 'fin'; readonly neg: boolean; readonly m: bigint; readonly e: number };

export type Fin = Extract<Val, { k: 'fin' }>;

export const NAN: Val = { k: 'nan' };
export const inf = (neg: boolean): Val => ({ k: 'inf', neg });
export const fin = (neg: boolean, m: bigint, e: number): Fin => ({ k: 'fin', neg, m, e });
export const zero = (neg: boolean): Fin => ({ k: 'fin', neg, m: 0n, e: 0 });

/** A dyadic from an integer numerator and a power-of-two exponent (sign from the numerator). */
export function dyadic(num: bigint, exp = 0): Fin {
  return num < 0n ? fin(true, -num, exp) : fin(false, num, exp);
}

/** Number of bits of m > 0 (floor(log2 m) + 1); 0 for m = 0. */
export function bitLength(m: bigint): number {
  if (m < 0n) throw new Error('bitLength of a negative value');
  if (m < 0x100000000n) {
    const n = Number(m); // exact: below 2^32
    return 32 - Math.clz32(n);
  }
  const hex = m.toString(16);
  return (hex.length - 1) * 4 + (32 - Math.clz32(parseInt(hex[0]!, 16)));
}

/** floor(log2 |v|) of a finite nonzero value. */
export function floorLog2(v: Fin): number {
  if (v.m === 0n) throw new Error('floorLog2 of zero');
  return bitLength(v.m) - 1 + v.e;
}

/** v · 2^k exactly. */
export function scale2(v: Val, k: number): Val {
  return v.k === 'fin' ? fin(v.neg, v.m, v.e + k) : v;
}

/** Compares |a| and |b| of finite values: -1, 0, 1. */
export function cmpAbs(a: Fin, b: Fin): number {
  if (a.m === 0n || b.m === 0n) return a.m === b.m ? 0 : a.m === 0n ? -1 : 1;
  const la = floorLog2(a);
  const lb = floorLog2(b);
  if (la !== lb) return la < lb ? -1 : 1; // different binades
  const e = Math.min(a.e, b.e);
  const x = a.m << BigInt(a.e - e);
  const y = b.m << BigInt(b.e - e);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** Exact sum with IEEE special rules; an exact zero sum of nonzero or opposite zero terms is +0. */
export function addExact(a: Val, b: Val): Val {
  if (a.k === 'nan' || b.k === 'nan') return NAN;
  if (a.k === 'inf' && b.k === 'inf') return a.neg === b.neg ? a : NAN;
  if (a.k === 'inf') return a;
  if (b.k === 'inf') return b;
  if (a.m === 0n && b.m === 0n) return zero(a.neg && b.neg);
  if (a.m === 0n) return b;
  if (b.m === 0n) return a;
  const e = Math.min(a.e, b.e);
  const x = (a.m << BigInt(a.e - e)) * (a.neg ? -1n : 1n);
  const y = (b.m << BigInt(b.e - e)) * (b.neg ? -1n : 1n);
  const s = x + y;
  if (s === 0n) return zero(false);
  return dyadic(s, e);
}

/** Exact product of two finite values (sign = xor). */
export function mulExact(a: Fin, b: Fin): Fin {
  return fin(a.neg !== b.neg, a.m * b.m, a.e + b.e);
}

export function isZero(v: Val): boolean {
  return v.k === 'fin' && v.m === 0n;
}

// ---------------------------------------------------------------------------------------------
// Formats (§1)

export interface OFormat {
  readonly name: string;
  readonly E: number;
  readonly M: number;
  readonly bias: number;
  /** Exponent of the smallest normal binade (1 − bias). */
  readonly emin: number;
  /** Exponent of the largest finite binade. */
  readonly emax: number;
  /** OCP e4m3fn encoding: no inf, NaN only S.1111.111. Otherwise IEEE-like (inf and NaNs at all-ones). */
  readonly fn: boolean;
  /** fp8 practice: finite overflow and ±inf saturate to ±max finite. */
  readonly saturate: boolean;
  /** Max finite = maxM · 2^maxE. */
  readonly maxM: bigint;
  readonly maxE: number;
}

function makeFormat(name: string, E: number, M: number, fn: boolean, saturate: boolean): OFormat {
  const bias = 2 ** (E - 1) - 1;
  const topField = 2 ** E - 1;
  // IEEE-like: the all-ones exponent field is inf/NaN, so the largest finite binade is field topField-1.
  // e4m3fn: the all-ones field is finite except mantissa all ones (NaN).
  const emax = (fn ? topField : topField - 1) - bias;
  const fullMantissa = (1n << BigInt(M + 1)) - 1n; // 1.111…1 scaled by 2^M
  const maxM = fn ? fullMantissa - 1n : fullMantissa;
  return { name, E, M, bias, emin: 1 - bias, emax, fn, saturate, maxM, maxE: emax - M };
}

export const O_FP32 = makeFormat('fp32', 8, 23, false, false);
export const O_FP16 = makeFormat('fp16', 5, 10, false, false);
export const O_BF16 = makeFormat('bf16', 8, 7, false, false);
export const O_E4M3 = makeFormat('e4m3', 4, 3, true, true);
export const O_E5M2 = makeFormat('e5m2', 5, 2, false, true);
/** Not a spec format: only used to decode/encode JS doubles exactly in tests. */
export const O_FP64 = makeFormat('fp64', 11, 52, false, false);

const e8mCache = new Map<number, OFormat>();
/** e8mK: 8 exponent bits (fp32's range), K mantissa bits, IEEE-like. e8m23 is fp32 itself. */
export function oE8m(K: number): OFormat {
  if (!Number.isInteger(K) || K < 1 || K > 23) throw new Error(`no format e8m${K}`);
  if (K === 23) return O_FP32;
  let f = e8mCache.get(K);
  if (!f) {
    f = makeFormat(`e8m${K}`, 8, K, false, false);
    e8mCache.set(K, f);
  }
  return f;
}

export function oFormat(name: string): OFormat {
  switch (name) {
    case 'fp32':
      return O_FP32;
    case 'fp16':
      return O_FP16;
    case 'bf16':
      return O_BF16;
    case 'e4m3':
      return O_E4M3;
    case 'e5m2':
      return O_E5M2;
    case 'fp64':
      return O_FP64;
  }
  const m = /^e8m(\d+)$/.exec(name);
  if (m) return oE8m(Number(m[1]));
  throw new Error(`oracle: unknown format ${name}`);
}

export function maxFinite(f: OFormat, neg = false): Fin {
  return fin(neg, f.maxM, f.maxE);
}

/** The smallest positive subnormal 2^(emin − M). */
export function minSubnormal(f: OFormat): Fin {
  return fin(false, 1n, f.emin - f.M);
}

/** Exact value of a bit pattern of format f (1 + E + M bits). NaN payloads are not kept. */
export function decode(f: OFormat, bits: number | bigint): Val {
  const b = BigInt(bits);
  const width = 1 + f.E + f.M;
  if (b < 0n || b >= 1n << BigInt(width)) throw new Error(`decode ${f.name}: bits out of range`);
  const neg = b >> BigInt(f.E + f.M) === 1n;
  const field = Number((b >> BigInt(f.M)) & ((1n << BigInt(f.E)) - 1n));
  const man = b & ((1n << BigInt(f.M)) - 1n);
  const topField = 2 ** f.E - 1;
  const manOnes = (1n << BigInt(f.M)) - 1n;
  if (f.fn) {
    if (field === topField && man === manOnes) return NAN;
  } else if (field === topField) {
    return man === 0n ? inf(neg) : NAN;
  }
  if (field === 0) return fin(neg, man, f.emin - f.M);
  return fin(neg, (1n << BigInt(f.M)) + man, field - f.bias - f.M);
}

/** True when the finite value v is exactly a finite member of f. */
export function representable(f: OFormat, v: Fin): boolean {
  if (v.m === 0n) return true;
  if (cmpAbs(v, maxFinite(f)) > 0) return false;
  const L = floorLog2(v);
  const q = Math.max(L, f.emin) - f.M; // quantum exponent
  // v is a multiple of 2^q
  if (v.e >= q) return true;
  const shift = BigInt(q - v.e);
  return (v.m & ((1n << shift) - 1n)) === 0n;
}

/** Bit pattern of a value that is a member of f (finite, ±inf where f has inf, or NaN → canonical quiet NaN). */
export function encode(f: OFormat, v: Val): bigint {
  const signShift = BigInt(f.E + f.M);
  const topField = BigInt(2 ** f.E - 1);
  if (v.k === 'nan') {
    // IEEE: exponent all ones, quiet bit (top mantissa bit) set; e4m3fn: S.1111.111.
    if (f.fn) return (topField << BigInt(f.M)) | ((1n << BigInt(f.M)) - 1n);
    return (topField << BigInt(f.M)) | (1n << BigInt(f.M - 1));
  }
  if (v.k === 'inf') {
    if (f.fn) throw new Error(`encode ${f.name}: no infinity`);
    return (v.neg ? 1n << signShift : 0n) | (topField << BigInt(f.M));
  }
  const sign = v.neg ? 1n << signShift : 0n;
  if (v.m === 0n) return sign;
  if (!representable(f, v)) throw new Error(`encode ${f.name}: value not representable`);
  const L = floorLog2(v);
  if (L < f.emin) {
    // subnormal: v = man · 2^(emin − M)
    const man = shiftToExponent(v, f.emin - f.M);
    return sign | man;
  }
  const sig = shiftToExponent(v, L - f.M); // in [2^M, 2^(M+1))
  const field = BigInt(L + f.bias);
  return sign | (field << BigInt(f.M)) | (sig - (1n << BigInt(f.M)));
}

/** |v| / 2^q for a v known to be a multiple of 2^q. */
function shiftToExponent(v: Fin, q: number): bigint {
  if (v.e >= q) return v.m << BigInt(v.e - q);
  const s = BigInt(q - v.e);
  if ((v.m & ((1n << s) - 1n)) !== 0n) throw new Error('not a multiple of the quantum');
  return v.m >> s;
}

// ---------------------------------------------------------------------------------------------
// Rounding q_F(v, mode) (§2)

export type Mode = 'rne' | 'trunc';

export function round(f: OFormat, v: Val, mode: Mode): Val {
  if (v.k === 'nan') return NAN;
  if (v.k === 'inf') return f.saturate ? maxFinite(f, v.neg) : v;
  if (v.m === 0n) return v; // signed zero stays
  const L = floorLog2(v);
  const q = Math.max(L, f.emin) - f.M; // quantum 2^q
  let n: bigint; // |v| / 2^q rounded to an integer
  if (v.e >= q) {
    n = v.m << BigInt(v.e - q);
  } else {
    const s = BigInt(q - v.e);
    n = v.m >> s;
    const rem = v.m - (n << s);
    if (mode === 'rne') {
      const half = 1n << (s - 1n);
      if (rem > half || (rem === half && (n & 1n) === 1n)) n += 1n;
    }
  }
  const r = fin(v.neg, n, q); // n = 0n gives a zero with v's sign
  // below 2^emax nothing can overflow (rounding up reaches at most 2^emax ≤ max finite)
  if (L >= f.emax && cmpAbs(r, maxFinite(f)) > 0) {
    // finite overflow
    if (f.saturate) return maxFinite(f, v.neg);
    return mode === 'rne' ? inf(v.neg) : maxFinite(f, v.neg); // IEEE: RNE → ±inf, toward zero → ±max
  }
  return r;
}

// ---------------------------------------------------------------------------------------------
// fp32 bit helpers (integer only)

export function decodeFp32(bits: number): Val {
  return decode(O_FP32, bits >>> 0);
}

export function encodeFp32(v: Val): number {
  if (v.k === 'nan') return 0x7fc00000;
  return Number(encode(O_FP32, v));
}

/** q_fp32(v, rne) as an fp32 bit pattern (canonical NaN 0x7fc00000). */
export function toFp32Bits(v: Val): number {
  return encodeFp32(round(O_FP32, v, 'rne'));
}

// ---------------------------------------------------------------------------------------------
// Product rules (§3)

export type Rule = 'exact' | 'lmul-formula' | 'lmul-adder';

/** l(M) = M if M ≤ 3, 3 if M = 4, 4 if M > 4. */
export function lmulL(M: number): number {
  return M <= 3 ? M : M === 4 ? 3 : 4;
}

/**
 * The product rule on operands already in the operand format (mantissa bits M), special operands
 * included: NaN → NaN; inf·0 → NaN; inf·x → ±inf; 0·x → ±0; signs xor.
 */
export function applyRule(rule: Rule, M: number, a: Val, b: Val): Val {
  if (a.k === 'nan' || b.k === 'nan') return NAN;
  const neg = a.neg !== b.neg;
  if (a.k === 'inf' || b.k === 'inf') {
    if (isZero(a) || isZero(b)) return NAN;
    return inf(neg);
  }
  if (a.m === 0n || b.m === 0n) return zero(neg);
  if (rule === 'exact') return mulExact(a, b);
  // a = (1 + ma)·2^ea with 1 + ma = a.m / 2^La, ea = La + a.e (subnormals normalised by construction)
  const La = bitLength(a.m) - 1;
  const Lb = bitLength(b.m) - 1;
  const ea = La + a.e;
  const eb = Lb + b.e;
  const l = lmulL(M);
  const D = Math.max(La, Lb, l); // common denominator 2^D
  const one = 1n << BigInt(D);
  const Xa = a.m << BigInt(D - La); // (1 + ma)·2^D
  const Xb = b.m << BigInt(D - Lb);
  const T = Xa - one + (Xb - one) + (one >> BigInt(l)); // t·2^D, t = ma + mb + 2^-l
  if (rule === 'lmul-formula') {
    return fin(neg, one + T, ea + eb - D); // (1 + t)·2^(ea+eb)
  }
  // lmul-adder: (1 + frac(t))·2^(ea + eb + floor(t))
  const fl = T >> BigInt(D); // floor(t) ∈ {0, 1, 2}
  const frac = T - (fl << BigInt(D));
  return fin(neg, one + frac, ea + eb + Number(fl) - D);
}

// ---------------------------------------------------------------------------------------------
// Presets (§3)

export interface OScheme {
  readonly name: string;
  readonly operand: OFormat;
  readonly mode: Mode;
  readonly rule: Rule;
  readonly product: OFormat | null;
  readonly fp8: boolean;
  /** Memo: fp32 operand bits → operand rounded into the operand format. */
  readonly opCache: Map<number, Val>;
}

/** Every preset name of the spec, without suffix (built independently of the product's list). */
export const ORACLE_PRESETS: readonly string[] = [
  'exact',
  ...Array.from({ length: 23 }, (_, i) => `lmul${i + 1}`),
  ...Array.from({ length: 23 }, (_, i) => `lmul${i + 1}-formula`),
  'e4m3',
  'e5m2',
  'e4m3-mul',
  'e5m2-mul',
  'bf16',
  'fp16',
];

const schemeCache = new Map<string, OScheme>();

export function oScheme(preset: string): OScheme {
  const hit = schemeCache.get(preset);
  if (hit) return hit;
  let base = preset;
  let mode: Mode = 'rne';
  if (preset.endsWith(':trunc')) {
    base = preset.slice(0, -':trunc'.length);
    mode = 'trunc';
  }
  let operand: OFormat;
  let rule: Rule = 'exact';
  let product: OFormat | null = null;
  let fp8 = false;
  const lm = /^lmul([1-9][0-9]?)(-formula)?$/.exec(base);
  if (base === 'exact') operand = O_FP32;
  else if (lm && Number(lm[1]) >= 1 && Number(lm[1]) <= 23) {
    const K = Number(lm[1]);
    operand = K === 23 ? O_FP32 : oE8m(K);
    rule = lm[2] ? 'lmul-formula' : 'lmul-adder';
  } else if (base === 'e4m3' || base === 'e5m2' || base === 'e4m3-mul' || base === 'e5m2-mul') {
    operand = base.startsWith('e4m3') ? O_E4M3 : O_E5M2;
    product = base.endsWith('-mul') ? operand : null;
    fp8 = true;
  } else if (base === 'bf16') operand = O_BF16;
  else if (base === 'fp16') operand = O_FP16;
  else throw new Error(`oracle: unknown preset ${preset}`);
  const s: OScheme = { name: preset, operand, mode, rule, product, fp8, opCache: new Map() };
  schemeCache.set(preset, s);
  return s;
}

let lastScheme: OScheme | null = null;

function roundedOperand(s: OScheme, bits: number): Val {
  if (s !== lastScheme) {
    lastScheme?.opCache.clear(); // tests go preset by preset: keep only the current preset's memo
    lastScheme = s;
  }
  const key = bits >>> 0;
  let v = s.opCache.get(key);
  if (v === undefined) {
    if (s.opCache.size >= 1 << 17) s.opCache.clear(); // bounded: random fp32 operands rarely repeat
    v = round(s.operand, decodeFp32(key), s.mode);
    s.opCache.set(key, v);
  }
  return v;
}

/** The exact product value of a scheme, operands already rounded; then the product-format rounding. */
function schemeProduct(s: OScheme, a: Val, b: Val): Val {
  let p = applyRule(s.rule, s.operand.M, a, b);
  if (s.product) p = round(s.product, p, 'rne');
  return p;
}

/**
 * §3 scalar multiply on fp32 bit patterns: operand rounding (mode of the preset), product rule,
 * product-format rounding (rne) if any, rounding into fp32 (rne). NaN → 0x7fc00000. No fp8 scaling.
 */
export function oracleMulBits(preset: string, aBits: number, bBits: number): number {
  const s = oScheme(preset);
  return toFp32Bits(schemeProduct(s, roundedOperand(s, aBits), roundedOperand(s, bBits)));
}

/** The exact value of oracleMulBits before the final fp32 rounding (for tests of the oracle itself). */
export function oracleMulValue(preset: string, a: Val, b: Val): Val {
  const s = oScheme(preset);
  return schemeProduct(s, round(s.operand, a, s.mode), round(s.operand, b, s.mode));
}

/**
 * §4: fp8 operands scaled by 2^sa, 2^sb before rounding into fp8, product (after the product-format
 * rounding, if any) multiplied by 2^−(sa+sb) exactly, then rounded into fp32. Only fp8 presets scale.
 */
export function oracleMulScaledBits(preset: string, aBits: number, bBits: number, sa: number, sb: number): number {
  const s = oScheme(preset);
  if (!s.fp8) {
    if (sa !== 0 || sb !== 0) throw new Error(`oracle: preset ${preset} has no fp8 scaling`);
    return oracleMulBits(preset, aBits, bBits);
  }
  const a = round(s.operand, scale2(decodeFp32(aBits >>> 0), sa), s.mode);
  const b = round(s.operand, scale2(decodeFp32(bBits >>> 0), sb), s.mode);
  return toFp32Bits(scale2(schemeProduct(s, a, b), -(sa + sb)));
}

/** §4: the maximal integer s with amax·2^s ≤ max finite; 0 for amax = 0. amax: fp32 bits of a finite value. */
export function oracleFp8Scale(formatName: string, amaxBits: number): number {
  const f = oFormat(formatName);
  const v = decodeFp32(amaxBits >>> 0);
  if (v.k !== 'fin') throw new Error('oracleFp8Scale: amax must be finite');
  if (v.m === 0n) return 0;
  const max = maxFinite(f);
  // log2(max/amax) ∈ (d − 1, d + 1) with d = floorLog2(max) − floorLog2(amax): s is d or d − 1.
  const d = floorLog2(max) - floorLog2(v);
  const fits = (k: number) => cmpAbs(fin(false, v.m, v.e + k), max) <= 0;
  if (fits(d + 1)) throw new Error('oracleFp8Scale: bracket reasoning failed');
  if (fits(d)) return d;
  if (fits(d - 1)) return d - 1;
  throw new Error('oracleFp8Scale: bracket reasoning failed');
}

/**
 * §5: sequential sum in increasing k, accumulator starting at +0, every exact sum rounded into the
 * accumulator format (rne, the format's overflow rule). Result: fp32 bits of the accumulator value.
 */
export function oracleAccumulate(accFormatName: string, productBits: readonly number[]): number {
  const f = oFormat(accFormatName);
  let acc: Val = zero(false);
  for (const p of productBits) acc = round(f, addExact(acc, decodeFp32(p >>> 0)), 'rne');
  return encodeFp32(acc);
}

/** q_F(v, mode) for a format name. */
export function oracleRound(formatName: string, v: Val, mode: Mode): Val {
  return round(oFormat(formatName), v, mode);
}
