// Operand preparation (SPEC §2, §4) and fp8 product-table kernels. Same conventions as gemm.ts: f32 arrays
// in linear memory, pointers are byte offsets.
import { gatherPatchRuns, gatherPatches } from './shared/patches';
import {
  halfMinusOneOf,
  keepOf,
  oddBitOf,
  patternRounded,
  roundedBits,
  roundedNearest,
  roundedOnPattern,
  subnormalMagic,
} from './shared/round';
import { gather4, storeSums } from './shared/table';

/** Largest finite magnitude of `len` f32 values (inf and NaN ignored); 0 if there is none. */
export function finiteAmax(src: usize, len: i32): f32 {
  // Four running maxima, so that no step waits for the previous one; pmax (one instruction, where max
  // spends several on NaN) sees no NaN: NaN and inf lanes compare false and contribute +0.
  let best0 = f32x4.splat(0), best1 = f32x4.splat(0), best2 = f32x4.splat(0), best3 = f32x4.splat(0);
  let i = 0;
  for (; i + 16 <= len; i += 16) {
    const at = src + ((<usize>i) << 2);
    best0 = f32x4.pmax(best0, finiteMagnitudes(v128.load(at)));
    best1 = f32x4.pmax(best1, finiteMagnitudes(v128.load(at, 16)));
    best2 = f32x4.pmax(best2, finiteMagnitudes(v128.load(at, 32)));
    best3 = f32x4.pmax(best3, finiteMagnitudes(v128.load(at, 48)));
  }
  for (; i + 4 <= len; i += 4) best0 = f32x4.pmax(best0, finiteMagnitudes(v128.load(src + ((<usize>i) << 2))));
  const best = f32x4.pmax(f32x4.pmax(best0, best1), f32x4.pmax(best2, best3));
  let amax = max(
    max(f32x4.extract_lane(best, 0), f32x4.extract_lane(best, 1)),
    max(f32x4.extract_lane(best, 2), f32x4.extract_lane(best, 3)),
  );
  for (; i < len; i++) {
    const magnitude = abs(load<f32>(src + ((<usize>i) << 2)));
    if (magnitude > amax && magnitude < Infinity) amax = magnitude;
  }
  return amax;
}

/** |v| in each lane, +0 where v is NaN or infinite. */
// @ts-ignore: decorator
@inline
function finiteMagnitudes(v: v128): v128 {
  const magnitude = f32x4.abs(v);
  return v128.and(magnitude, f32x4.lt(magnitude, f32x4.splat(Infinity)));
}

/**
 * dst[i] = q_F(fp32(src[i]·factor)) (`roundedBits`) for a format F with `manBits` mantissa bits, smallest
 * normal exponent `emin` and largest finite value `maxFinite`. `factor` is a power of two, applied in f64
 * so that it may lie outside f32's range: fp32 rounding of the exact product is the one rounding, as in the
 * JS definition.
 */
export function roundOperands(
  src: usize,
  dst: usize,
  len: i32,
  factor: f64,
  manBits: i32,
  emin: i32,
  maxFinite: f32,
  saturate: bool,
  trunc: bool,
): void {
  const maxBits = reinterpret<u32>(maxFinite);
  let i = 0;
  if (factor >= 1.1754943508222875e-38 && factor <= 1.7014118346046923e38 && manBits < 23) {
    // factor is a normal f32: one f32 multiplication rounds the exact product as the f64 path does.
    const scale = f32x4.splat(<f32>factor);
    const lowest = i32x4.splat((emin + 127) << 23);
    const highest = i32x4.splat(maxBits);
    const signBit = i32x4.splat(0x80000000);
    const drop = 23 - manBits;
    const halfMinusOne = halfMinusOneOf(drop, trunc);
    const oddBit = oddBitOf(trunc);
    const keep = keepOf(drop);
    if (!trunc) {
      // RNE, every lane four at a time (finite overflow and inf become ±maxFinite when saturating, else ±inf).
      const overflow = i32x4.splat(saturate ? maxBits : 0x7f800000);
      const magic = subnormalMagic(emin, manBits);
      for (; i + 4 <= len; i += 4) {
        const at = (<usize>i) << 2;
        const v = f32x4.mul(v128.load(src + at), scale);
        v128.store(dst + at, roundedNearest(v, drop, halfMinusOne, oddBit, keep, lowest, highest, overflow, magic));
      }
    } else {
      // Truncation: four at a time where every lane is zero or normal in F below its top, else one by one.
      for (; i + 4 <= len; i += 4) {
        const at = (<usize>i) << 2;
        const v = f32x4.mul(v128.load(src + at), scale);
        const magnitude = v128.andnot(v, signBit);
        const rounded = patternRounded(magnitude, drop, halfMinusOne, oddBit, keep);
        if (!v128.all_true<i32>(roundedOnPattern(magnitude, rounded, lowest, highest))) {
          roundScalar(src, dst, i, 4, factor, manBits, emin, maxFinite, maxBits, saturate, trunc);
          continue;
        }
        v128.store(dst + at, v128.or(rounded, v128.and(v, signBit)));
      }
    }
  }
  roundScalar(src, dst, i, len - i, factor, manBits, emin, maxFinite, maxBits, saturate, trunc);
}

/** `roundOperands` of `count` values from index `from`, one at a time: every case of SPEC §2. */
// @ts-ignore: decorator
@inline
function roundScalar(
  src: usize,
  dst: usize,
  from: i32,
  count: i32,
  factor: f64,
  manBits: i32,
  emin: i32,
  maxFinite: f32,
  maxBits: u32,
  saturate: bool,
  trunc: bool,
): void {
  for (let i = from; i < from + count; i++) {
    const v = <f32>(<f64>load<f32>(src + ((<usize>i) << 2)) * factor);
    store<u32>(dst + ((<usize>i) << 2), roundedBits(v, manBits, emin, maxFinite, maxBits, saturate, trunc));
  }
}

/**
 * fp8 codes (sign, E exponent bits with `bias`, M mantissa bits) of `len` values that are already exact
 * values of the format (prepared operands). NaN becomes 0x7f (a NaN of both e4m3fn and e5m2); the return
 * value says whether any value was NaN or infinite (whose products with zero are NaN).
 */
export function encodeFp8(src: usize, dst: usize, len: i32, manBits: i32, bias: i32): bool {
  let special = false;
  let i = 0;
  // Sixteen at a time where every lane is finite, narrowed to a byte store. Normal values: the pattern's
  // exponent re-biased and mantissa shifted down in place; subnormals and zeros (below the smallest
  // normal, 2^(1 − bias)): the value in units of the smallest subnormal, an exact integer below 2^manBits.
  // Groups of sixteen holding NaN or inf take the general path.
  const lowest = i32x4.splat((128 - bias) << 23);
  const units = f32x4.splat(<f32>Math.pow(2, manBits + bias - 1));
  for (; i + 16 <= len; i += 16) {
    const at = src + ((<usize>i) << 2);
    const v0 = v128.load(at), v1 = v128.load(at, 16), v2 = v128.load(at, 32), v3 = v128.load(at, 48);
    const infinity = i32x4.splat(0x7f800000);
    const finite = v128.and(
      v128.and(i32x4.lt_u(magnitudeOf(v0), infinity), i32x4.lt_u(magnitudeOf(v1), infinity)),
      v128.and(i32x4.lt_u(magnitudeOf(v2), infinity), i32x4.lt_u(magnitudeOf(v3), infinity)),
    );
    if (!v128.all_true<i32>(finite)) {
      special = encodeScalar(src, dst, i, 16, manBits, bias) || special;
      continue;
    }
    const c0 = finiteCodes(v0, manBits, bias, lowest, units);
    const c1 = finiteCodes(v1, manBits, bias, lowest, units);
    const c2 = finiteCodes(v2, manBits, bias, lowest, units);
    const c3 = finiteCodes(v3, manBits, bias, lowest, units);
    v128.store(dst + i, i8x16.narrow_i16x8_u(i16x8.narrow_i32x4_u(c0, c1), i16x8.narrow_i32x4_u(c2, c3)));
  }
  return encodeScalar(src, dst, i, len - i, manBits, bias) || special;
}

/**
 * `roundOperands` then `encodeFp8` in one pass for an fp8 format (saturating; exponent `bias`): codes[i] is
 * the code of q_F(fp32(src[i]·factor)), the rounded values themselves never stored. Sixteen at a time where
 * every lane is finite and at most maxFinite once rounded: normal lanes round on the pattern as
 * `roundOperands` does, lanes below the smallest normal (F's subnormals, zeros) take their value in units
 * of the smallest subnormal, rounded to an integer (nearest even, or truncated) — the quantum of those
 * lanes, so that integer is both the rounding and the code. Other groups (NaN, inf, overflow, a factor
 * outside f32's normal range) are rounded into `dst` (len f32) by the general path and encoded from there.
 * Returns whether any rounded value is NaN or infinite.
 */
export function roundEncodeFp8(
  src: usize,
  dst: usize,
  codes: usize,
  len: i32,
  factor: f64,
  manBits: i32,
  bias: i32,
  maxFinite: f32,
  trunc: bool,
): bool {
  let special = false;
  let i = 0;
  if (factor >= 1.1754943508222875e-38 && factor <= 1.7014118346046923e38) {
    // The fp8 formats' mantissa widths as constants, so that every shift is by an immediate.
    if (manBits == 3) special = roundEncodeGroups(src, dst, codes, len, factor, 3, bias, maxFinite, trunc);
    else special = roundEncodeGroups(src, dst, codes, len, factor, 2, bias, maxFinite, trunc);
    i = len & ~15;
  }
  roundScalar(src, dst, i, len - i, factor, manBits, 1 - bias, maxFinite, reinterpret<u32>(maxFinite), true, trunc);
  return encodeScalar(dst, codes, i, len - i, manBits, bias) || special;
}

/** `roundEncodeFp8` of the whole groups of sixteen, for a normal f32 `factor`: whether any value is NaN or inf. */
// @ts-ignore: decorator
@inline
function roundEncodeGroups(
  src: usize,
  dst: usize,
  codes: usize,
  len: i32,
  factor: f64,
  manBits: i32,
  bias: i32,
  maxFinite: f32,
  trunc: bool,
): bool {
  const emin = 1 - bias;
  const maxBits = reinterpret<u32>(maxFinite);
  let special = false;
  // Every constant splatted once, out of the loop (inside it, they are rebuilt at every step).
  const scale = f32x4.splat(<f32>factor);
  const drop = 23 - manBits;
  const keep = i32x4.splat(~((1 << drop) - 1));
  // RNE adds half a quantum less one plus the kept part's lowest bit; truncation adds nothing.
  const half = i32x4.splat(trunc ? 0 : (1 << (drop - 1)) - 1);
  const odd = i32x4.splat(trunc ? 0 : 1);
  const rebias = i32x4.splat((127 - bias) << manBits);
  const lowest = i32x4.splat((emin + 127) << 23);
  const units = f32x4.splat(<f32>Math.pow(2, manBits - emin));
  const highest = i32x4.splat(maxBits);
  for (let i = 0; i + 16 <= len; i += 16) {
    const at = src + ((<usize>i) << 2);
    const v0 = f32x4.mul(v128.load(at), scale), v1 = f32x4.mul(v128.load(at, 16), scale);
    const v2 = f32x4.mul(v128.load(at, 32), scale), v3 = f32x4.mul(v128.load(at, 48), scale);
    const r0 = patternRounded(magnitudeOf(v0), drop, half, odd, keep);
    const r1 = patternRounded(magnitudeOf(v1), drop, half, odd, keep);
    const r2 = patternRounded(magnitudeOf(v2), drop, half, odd, keep);
    const r3 = patternRounded(magnitudeOf(v3), drop, half, odd, keep);
    // A lane is in range where its pattern rounded as a normal value is at most maxFinite's: never inf or
    // NaN, always a lane below the smallest normal.
    const ok = v128.and(
      v128.and(i32x4.le_u(r0, highest), i32x4.le_u(r1, highest)),
      v128.and(i32x4.le_u(r2, highest), i32x4.le_u(r3, highest)),
    );
    if (!v128.all_true<i32>(ok)) {
      roundScalar(src, dst, i, 16, factor, manBits, emin, maxFinite, maxBits, true, trunc);
      special = encodeScalar(dst, codes, i, 16, manBits, bias) || special;
      continue;
    }
    const c0 = roundedCodes(v0, r0, drop, rebias, lowest, units, trunc);
    const c1 = roundedCodes(v1, r1, drop, rebias, lowest, units, trunc);
    const c2 = roundedCodes(v2, r2, drop, rebias, lowest, units, trunc);
    const c3 = roundedCodes(v3, r3, drop, rebias, lowest, units, trunc);
    v128.store(codes + i, i8x16.narrow_i16x8_u(i16x8.narrow_i32x4_u(c0, c1), i16x8.narrow_i32x4_u(c2, c3)));
  }
  return special;
}

/**
 * fp8 codes (one per i32 lane) of four finite values rounded into the format: normal lanes from their
 * `rounded` magnitude patterns (the exponent re-biased by `rebias`), the others as their value in units
 * (`units`: the reciprocal of the smallest subnormal) rounded to an integer — 2^manBits where they round up to the smallest normal, which is its code.
 * That integer (below 2^23) is the low bits of its sum with 2^23, whose f32 addition rounds to nearest even.
 */
// @ts-ignore: decorator
@inline
function roundedCodes(v: v128, rounded: v128, drop: i32, rebias: v128, lowest: v128, units: v128, trunc: bool): v128 {
  const magnitude = magnitudeOf(v);
  const normal = i32x4.sub(i32x4.shr_u(rounded, drop), rebias);
  const scaled = f32x4.mul(magnitude, units);
  const integer = f32x4.add(trunc ? f32x4.trunc(scaled) : scaled, f32x4.splat(8388608));
  const subnormal = i32x4.sub(integer, i32x4.splat(0x4b000000));
  const codes = v128.bitselect(normal, subnormal, i32x4.ge_s(magnitude, lowest));
  return v128.or(codes, i32x4.shr_u(v128.and(v, i32x4.splat(0x80000000)), 24));
}

/**
 * Element-wise products of a product-format scheme computed rather than looked up, over a broadcast of two
 * f32 tensors (`rows` runs of `run` outputs, element steps 0 or 1, run starts as `tableRuns`): each operand
 * is rounded into the fp8 format after its factor (`factorA`, `factorB`: 2^s, normal f32 values) exactly as
 * `roundEncodeFp8` rounds it, or taken as it is where it is prepared (`preparedA`, `preparedB`: finite
 * values of the format already); their product, exact in f32, is rounded into the format (nearest even,
 * saturating) and multiplied by `unscale` in f32 — the product table's entry for the two codes times
 * `unscale`. Returns false, leaving `out` unfinished, as soon as an operand is NaN, infinite or past the
 * largest finite value once scaled (the table path takes those).
 */
export function fp8ProductRuns(
  a: usize,
  b: usize,
  out: usize,
  rows: i32,
  run: i32,
  stepA: i32,
  stepB: i32,
  startA: usize,
  startB: usize,
  factorA: f32,
  factorB: f32,
  preparedA: bool,
  preparedB: bool,
  unscale: f32,
  manBits: i32,
  bias: i32,
  maxFinite: f32,
  trunc: bool,
): bool {
  // The fp8 formats' mantissa widths as constants, so that every shift is by an immediate.
  if (manBits == 3) {
    return productGroups(
      a, b, out, rows, run, stepA, stepB, startA, startB,
      factorA, factorB, preparedA, preparedB, unscale, 3, bias, maxFinite, trunc,
    );
  }
  return productGroups(
    a, b, out, rows, run, stepA, stepB, startA, startB,
    factorA, factorB, preparedA, preparedB, unscale, 2, bias, maxFinite, trunc,
  );
}

/** `fp8ProductRuns` for a constant `manBits`, four outputs at a time. */
// @ts-ignore: decorator
@inline
function productGroups(
  a: usize,
  b: usize,
  out: usize,
  rows: i32,
  run: i32,
  stepA: i32,
  stepB: i32,
  startA: usize,
  startB: usize,
  factorA: f32,
  factorB: f32,
  preparedA: bool,
  preparedB: bool,
  unscale: f32,
  manBits: i32,
  bias: i32,
  maxFinite: f32,
  trunc: bool,
): bool {
  const emin = 1 - bias;
  const drop = 23 - manBits;
  const keep = i32x4.splat(~((1 << drop) - 1));
  // Operands round as `roundEncodeFp8` does (nearest even or truncation), products to nearest even.
  const half = i32x4.splat((1 << (drop - 1)) - 1);
  const odd = i32x4.splat(1);
  const operandHalf = trunc ? i32x4.splat(0) : half;
  const operandOdd = trunc ? i32x4.splat(0) : odd;
  const lowest = i32x4.splat((emin + 127) << 23);
  const units = f32x4.splat(<f32>Math.pow(2, manBits - emin));
  const quantum = f32x4.splat(<f32>Math.pow(2, emin - manBits));
  // A sum with `magic` (whose ulp is the quantum) rounds a value below the smallest normal to nearest even.
  const magic = f32x4.splat(<f32>Math.pow(2, emin - manBits + 23));
  const highest = i32x4.splat(reinterpret<u32>(maxFinite));
  const scaleA = f32x4.splat(factorA), scaleB = f32x4.splat(factorB), back = f32x4.splat(unscale);
  for (let r = 0; r < rows; r++) {
    const pa = a + ((<usize>load<i32>(startA + ((<usize>r) << 2))) << 2);
    const pb = b + ((<usize>load<i32>(startB + ((<usize>r) << 2))) << 2);
    const rowOut = out + ((<usize>(r * run)) << 2);
    for (let i = 0; i < run; i += 4) {
      const count = min(4, run - i);
      let x = loadLanes(pa + ((<usize>(i * stepA)) << 2), stepA, count);
      let y = loadLanes(pb + ((<usize>(i * stepB)) << 2), stepB, count);
      if (!preparedA) {
        x = f32x4.mul(x, scaleA);
        const rounded = patternRounded(magnitudeOf(x), drop, operandHalf, operandOdd, keep);
        if (!v128.all_true<i32>(i32x4.le_u(rounded, highest))) return false;
        x = v128.or(formatMagnitudes(x, rounded, lowest, units, quantum, magic, trunc), signOf(x));
      }
      if (!preparedB) {
        y = f32x4.mul(y, scaleB);
        const rounded = patternRounded(magnitudeOf(y), drop, operandHalf, operandOdd, keep);
        if (!v128.all_true<i32>(i32x4.le_u(rounded, highest))) return false;
        y = v128.or(formatMagnitudes(y, rounded, lowest, units, quantum, magic, trunc), signOf(y));
      }
      const p = f32x4.mul(x, y);
      const rp = patternRounded(magnitudeOf(p), drop, half, odd, keep);
      const magnitude = i32x4.min_u(formatMagnitudes(p, rp, lowest, units, quantum, magic, false), highest);
      storeLanes(rowOut + ((<usize>i) << 2), f32x4.mul(v128.or(magnitude, signOf(p)), back), count);
    }
  }
  return true;
}

/**
 * The magnitudes of four finite values rounded into the format: `rounded` (their patterns rounded on the
 * pattern, `patternRounded`) where normal in the format, else the nearest (or, with `trunc`, the lower)
 * multiple of the quantum — both exact f32 values, as `roundScalar` computes them.
 */
// @ts-ignore: decorator
@inline
function formatMagnitudes(
  v: v128,
  rounded: v128,
  lowest: v128,
  units: v128,
  quantum: v128,
  magic: v128,
  trunc: bool,
): v128 {
  const magnitude = magnitudeOf(v);
  const small = trunc
    ? f32x4.mul(f32x4.trunc(f32x4.mul(magnitude, units)), quantum)
    : f32x4.sub(f32x4.add(magnitude, magic), magic);
  return v128.bitselect(rounded, small, i32x4.ge_s(magnitude, lowest));
}

/** The sign bit of each lane. */
// @ts-ignore: decorator
@inline
function signOf(v: v128): v128 {
  return v128.and(v, i32x4.splat(0x80000000));
}

/** Four f32 values from `at`, `step` (0 or 1) apart: the first `count` (1–4), zeros after them. */
// @ts-ignore: decorator
@inline
function loadLanes(at: usize, step: i32, count: i32): v128 {
  if (step == 0) return f32x4.splat(load<f32>(at));
  if (count == 4) return v128.load(at);
  let v = f32x4.splat(0);
  v = f32x4.replace_lane(v, 0, load<f32>(at));
  if (count > 1) v = f32x4.replace_lane(v, 1, load<f32>(at, 4));
  if (count > 2) v = f32x4.replace_lane(v, 2, load<f32>(at, 8));
  return v;
}

/** Stores the first `count` (1–4) lanes of `v` at `at`. */
// @ts-ignore: decorator
@inline
function storeLanes(at: usize, v: v128, count: i32): void {
  if (count == 4) {
    v128.store(at, v);
    return;
  }
  store<f32>(at, f32x4.extract_lane(v, 0));
  if (count > 1) store<f32>(at, f32x4.extract_lane(v, 1), 4);
  if (count > 2) store<f32>(at, f32x4.extract_lane(v, 2), 8);
}

/** The pattern of |v| in each lane. */
// @ts-ignore: decorator
@inline
function magnitudeOf(v: v128): v128 {
  return v128.andnot(v, i32x4.splat(0x80000000));
}

/**
 * fp8 codes (one per i32 lane) of four finite values of the format: `lowest` is the smallest normal's
 * pattern, `units` the reciprocal of the smallest subnormal.
 */
// @ts-ignore: decorator
@inline
function finiteCodes(v: v128, manBits: i32, bias: i32, lowest: v128, units: v128): v128 {
  const magnitude = magnitudeOf(v);
  const normal = i32x4.sub(i32x4.shr_u(magnitude, 23 - manBits), i32x4.splat((127 - bias) << manBits));
  const subnormal = i32x4.trunc_sat_f32x4_s(f32x4.mul(magnitude, units));
  const codes = v128.bitselect(normal, subnormal, i32x4.ge_s(magnitude, lowest));
  return v128.or(codes, i32x4.shr_u(v128.and(v, i32x4.splat(0x80000000)), 24));
}

/** `encodeFp8` of `count` values from index `from`, one at a time. */
// @ts-ignore: decorator
@inline
function encodeScalar(src: usize, dst: usize, from: i32, count: i32, manBits: i32, bias: i32): bool {
  const emin = 1 - bias;
  let special = false;
  for (let i = from; i < from + count; i++) {
    const bits = load<u32>(src + ((<usize>i) << 2));
    const sign = (bits >>> 24) & 0x80;
    const magnitude = bits & 0x7fffffff;
    let code: u32;
    if (magnitude > 0x7f800000) {
      code = 0x7f;
      special = true;
    } else if (magnitude == 0) {
      code = sign;
    } else if (magnitude == 0x7f800000) {
      // e5m2's inf (prepared e4m3 operands are never infinite: fp8 rounding saturates).
      code = sign | 0x7c;
      special = true;
    } else {
      const e = <i32>(magnitude >>> 23) - 127;
      const mantissa = magnitude & 0x7fffff;
      if (e >= emin) code = sign | ((<u32>(e + bias)) << manBits) | (mantissa >>> (23 - manBits));
      else code = sign | ((mantissa | 0x800000) >>> (23 - manBits + emin - e));
    }
    store<u8>(dst + i, code);
  }
  return special;
}

/** dst[i] = src[i]·factor in f32 for the 65,536 entries of a product table (factor a normal power of two). */
export function scaleTable(src: usize, dst: usize, factor: f32): void {
  const f = f32x4.splat(factor);
  for (let i: usize = 0; i < 65536 * 4; i += 16) v128.store(dst + i, f32x4.mul(v128.load(src + i), f));
}

/**
 * C[m×n] = Σ_p table[a[i,p]·256 + b[p,j]] over fp8 codes: each product is a table entry (already rounded
 * into the product format, unscaled and rounded to fp32) and the sum runs in f64 in order p = 0, 1, …,
 * rounded to f32 once; blocks of eight columns keep their sums in registers, the rest in `acc` (n
 * doubles). Rows of A with a zero code skip their products when `skipZeros` (B holds no NaN or inf, so
 * those products are all ±0 and do not change an f64 sum).
 */
export function gemmTable(
  a: usize,
  b: usize,
  c: usize,
  m: i32,
  n: i32,
  k: i32,
  table: usize,
  acc: usize,
  skipZeros: bool,
): void {
  const blocked = n & ~7;
  for (let i = 0; i < m; i++) {
    const aRow = a + <usize>i * k;
    const cRow = c + ((<usize>i * n) << 2);
    // Eight columns at a time with their sums in registers.
    for (let j = 0; j < blocked; j += 8) {
      let s0 = f64x2.splat(0), s1 = f64x2.splat(0), s2 = f64x2.splat(0), s3 = f64x2.splat(0);
      for (let p = 0; p < k; p++) {
        const code = <u32>load<u8>(aRow + p);
        if (skipZeros && (code & 0x7f) == 0) continue;
        const row = table + ((<usize>code) << 10);
        const codes = load<u64>(b + <usize>p * n + j);
        const low = lookup4(row, <u32>codes);
        const high = lookup4(row, <u32>(codes >>> 32));
        s0 = f64x2.add(s0, f64x2.promote_low_f32x4(low));
        s1 = f64x2.add(s1, f64x2.promote_low_f32x4(v128.shuffle<u32>(low, low, 2, 3, 0, 1)));
        s2 = f64x2.add(s2, f64x2.promote_low_f32x4(high));
        s3 = f64x2.add(s3, f64x2.promote_low_f32x4(v128.shuffle<u32>(high, high, 2, 3, 0, 1)));
      }
      const at = cRow + ((<usize>j) << 2);
      v128.store(at, v128.shuffle<u32>(f32x4.demote_f64x2_zero(s0), f32x4.demote_f64x2_zero(s1), 0, 1, 4, 5));
      v128.store(at, v128.shuffle<u32>(f32x4.demote_f64x2_zero(s2), f32x4.demote_f64x2_zero(s3), 0, 1, 4, 5), 16);
    }
    if (blocked == n) continue;
    memory.fill(acc, 0, (<usize>(n - blocked)) << 3);
    for (let p = 0; p < k; p++) {
      const code = <u32>load<u8>(aRow + p);
      if (skipZeros && (code & 0x7f) == 0) continue;
      const row = table + ((<usize>code) << 10);
      const bRow = b + <usize>p * n;
      for (let j = blocked; j < n; j++) {
        const at = acc + ((<usize>(j - blocked)) << 3);
        store<f64>(at, load<f64>(at) + <f64>load<f32>(row + ((<usize>load<u8>(bRow + j)) << 2)));
      }
    }
    for (let j = blocked; j < n; j++)
      store<f32>(cRow + ((<usize>j) << 2), <f32>load<f64>(acc + ((<usize>(j - blocked)) << 3)));
  }
}

/**
 * C[m×n] = unit · Σ_p table[a[i,p]·256 + b[p,j]] over fp8 codes, where `table` holds every product as an
 * i32 count of `unit`s and the caller has checked that k·max|entry| < 2^31. Such sums are exact in any
 * order, so they equal the ordered f64 sum of the unscaled products (itself exact: every partial sum is a
 * multiple of the unit below 2^53 units), and sum·unit rounded from f64 to f32 is the one rounding.
 * Order-free sums allow 4×4 blocks in i32x4 registers, the four rows sharing each load of B: a product
 * costs one address add and one load into a lane, B being packed into `panels` of table byte offsets and
 * each block's rows of A into `rows` of table row addresses (padded with code 0 past the operands' edges:
 * those sums are not stored).
 */
export function gemmTableExact(
  a: usize,
  b: usize,
  c: usize,
  m: i32,
  n: i32,
  k: i32,
  table: usize,
  unit: f64,
  panels: usize,
  rows: usize,
): void {
  packPanels(b, panels, k, n);
  const scale = f64x2.splat(unit);
  const panelBytes = (<usize>k) << 3;
  for (let i = 0; i < m; i += 4) {
    packRows(a, rows, i, m, k, table);
    const end = rows + ((<usize>k) << 4);
    for (let j = 0; j < n; j += 4) {
      let s0 = i32x4.splat(0), s1 = i32x4.splat(0), s2 = i32x4.splat(0), s3 = i32x4.splat(0);
      let offsets = panels + (<usize>(j >> 2)) * panelBytes;
      for (let row = rows; row < end; row += 16, offsets += 8) {
        const o0 = <usize>load<u16>(offsets), o1 = <usize>load<u16>(offsets, 2);
        const o2 = <usize>load<u16>(offsets, 4), o3 = <usize>load<u16>(offsets, 6);
        s0 = i32x4.add(s0, gather4(<usize>load<u32>(row), o0, o1, o2, o3));
        s1 = i32x4.add(s1, gather4(<usize>load<u32>(row, 4), o0, o1, o2, o3));
        s2 = i32x4.add(s2, gather4(<usize>load<u32>(row, 8), o0, o1, o2, o3));
        s3 = i32x4.add(s3, gather4(<usize>load<u32>(row, 12), o0, o1, o2, o3));
      }
      const columns = min(4, n - j);
      const at = c + ((<usize>(i * n + j)) << 2);
      const rowBytes = (<usize>n) << 2;
      storeSums(at, s0, scale, columns);
      if (i + 1 < m) storeSums(at + rowBytes, s1, scale, columns);
      if (i + 2 < m) storeSums(at + 2 * rowBytes, s2, scale, columns);
      if (i + 3 < m) storeSums(at + 3 * rowBytes, s3, scale, columns);
    }
  }
}

/** Steps p whose quad tables (8 KB each, of which only B's code groups are touched) `gemmTableQuads` keeps. */
const QUAD_STEPS = 4;

/**
 * `gemmTableExact` for a wide B, with one load per four products: for a block of rows of A (eight with i32
 * counts, four with f64) and a step p, the quad table Q_p[b] = (T[a0][b], T[a1][b], …) — 32 bytes per code
 * b, built from the block's table rows by transposes — gives the block's products with column j's code
 * b[p,j] in two v128 loads, added to the column's sums in `acc` over QUAD_STEPS steps at a time. Only the
 * groups of four codes that B holds at step p are built (`groups`: a mask per step, `stepCodeGroups`), so a
 * quad table costs at most 64 groups' transposes, against n·rows products — far fewer where a step holds
 * few codes (a windowed STFT kernel's column holds ~18 groups of the tensor's 62). `quads`
 * holds QUAD_STEPS quad tables; rows past the edge take code 0 (products 0, not stored). `table` holds
 * i32 counts (sums exact in i32 up to the caller's bound on k). `transposed` computes Cᵀ = BᵀAᵀ instead,
 * for a narrow B and a wide A (products commute, so the table is symmetric): quad tables of columns of B,
 * and the groups are those that A holds at each step.
 */
export function gemmTableQuads(
  a: usize,
  b: usize,
  c: usize,
  m: i32,
  n: i32,
  k: i32,
  transposed: bool,
  table: usize,
  unit: f64,
  acc: usize,
  quads: usize,
  groups: usize,
): void {
  if (transposed) quadGemm<i32>(b, 1, n, a, 1, k, c, 1, n, n, m, k, table, unit, acc, quads, groups);
  else quadGemm<i32>(a, k, 1, b, n, 1, c, n, 1, m, n, k, table, unit, acc, quads, groups);
}

/**
 * `gemmTableQuads` over f64 counts (e5m2, whose largest product is ~2^31.8 units; f64 sums are exact below
 * 2^53 units): blocks of four rows, two f64x2 per column's sums.
 */
export function gemmTableQuadsWide(
  a: usize,
  b: usize,
  c: usize,
  m: i32,
  n: i32,
  k: i32,
  transposed: bool,
  table: usize,
  unit: f64,
  acc: usize,
  quads: usize,
  groups: usize,
): void {
  if (transposed) quadGemm<f64>(b, 1, n, a, 1, k, c, 1, n, n, m, k, table, unit, acc, quads, groups);
  else quadGemm<f64>(a, k, 1, b, n, 1, c, n, 1, m, n, k, table, unit, acc, quads, groups);
}

/**
 * The quad-table GEMM over counts of type T (i32 or f64): for r < rowCount and j < colCount, the output at
 * c + (r·cRow + j·cCol)·4 is unit · Σ_p T[x][y] for the row operand's code x at r·rowStride + p·rowStep and
 * the column operand's code y at p·colStep + j·colStride.
 */
// @ts-ignore: decorator
@inline
function quadGemm<T>(
  rowOperand: usize,
  rowStride: i32,
  rowStep: i32,
  colOperand: usize,
  colStep: i32,
  colStride: i32,
  c: usize,
  cRow: i32,
  cCol: i32,
  rowCount: i32,
  colCount: i32,
  k: i32,
  table: usize,
  unit: f64,
  acc: usize,
  quads: usize,
  groups: usize,
): void {
  const scale = f64x2.splat(unit);
  const step = <usize>colStep;
  const stride = <usize>colStride;
  const rows = 32 / sizeof<T>(); // a block's rows: a code's entries fill 32 bytes
  for (let i = 0; i < rowCount; i += rows) {
    memory.fill(acc, 0, (<usize>colCount) << 5);
    for (let p0 = 0; p0 < k; p0 += QUAD_STEPS) {
      const steps = min(QUAD_STEPS, k - p0);
      for (let s = 0; s < steps; s++) {
        const quad = quads + ((<usize>s) << 13);
        const stepGroups = load<u64>(groups + ((<usize>(p0 + s)) << 3));
        buildQuad<T>(quad, table, rowOperand, i, rowCount, rowStride, rowStep, p0 + s, stepGroups);
      }
      const codes = colOperand + <usize>p0 * step;
      if (steps == QUAD_STEPS) {
        // The four steps' sums of a column held in registers.
        let column = codes;
        for (let j: usize = 0; j < <usize>colCount; j++, column += stride) {
          const at = acc + (j << 5);
          const e0 = quads + ((<usize>load<u8>(column)) << 5);
          const e1 = quads + 8192 + ((<usize>load<u8>(column + step)) << 5);
          const e2 = quads + 16384 + ((<usize>load<u8>(column + 2 * step)) << 5);
          const e3 = quads + 24576 + ((<usize>load<u8>(column + 3 * step)) << 5);
          let low = addSums<T>(addSums<T>(v128.load(at), v128.load(e0)), v128.load(e1));
          let high = addSums<T>(addSums<T>(v128.load(at, 16), v128.load(e0, 16)), v128.load(e1, 16));
          low = addSums<T>(addSums<T>(low, v128.load(e2)), v128.load(e3));
          high = addSums<T>(addSums<T>(high, v128.load(e2, 16)), v128.load(e3, 16));
          v128.store(at, low);
          v128.store(at, high, 16);
        }
      } else {
        for (let s = 0; s < steps; s++) {
          const quad = quads + ((<usize>s) << 13);
          let column = codes + <usize>s * step;
          for (let j: usize = 0; j < <usize>colCount; j++, column += stride) {
            const at = acc + (j << 5);
            const entry = quad + ((<usize>load<u8>(column)) << 5);
            v128.store(at, addSums<T>(v128.load(at), v128.load(entry)));
            v128.store(at, addSums<T>(v128.load(at, 16), v128.load(entry, 16)), 16);
          }
        }
      }
    }
    storeColumns<T>(c, cRow, cCol, acc, i, rowCount, colCount, scale);
  }
}

/** Lane-wise sums of counts of type T: i32x4 or f64x2. */
// @ts-ignore: decorator
@inline
function addSums<T>(x: v128, y: v128): v128 {
  return isInteger<T>() ? i32x4.add(x, y) : f64x2.add(x, y);
}

/**
 * Quad table of the block of rows from i (code 0 past rowCount) at step p, for the code groups whose bits
 * `groups` sets (bit g: codes 4g…4g+3).
 */
// @ts-ignore: decorator
@inline
function buildQuad<T>(
  quad: usize,
  table: usize,
  operand: usize,
  i: i32,
  rowCount: i32,
  rowStride: i32,
  rowStep: i32,
  p: i32,
  groups: u64,
): void {
  const at = operand + <usize>(p * rowStep);
  const r0 = tableRow<T>(table, at, i, rowCount, rowStride);
  const r1 = tableRow<T>(table, at, i + 1, rowCount, rowStride);
  const r2 = tableRow<T>(table, at, i + 2, rowCount, rowStride);
  const r3 = tableRow<T>(table, at, i + 3, rowCount, rowStride);
  if (isInteger<T>()) {
    // Eight rows: two 4×4 transposes per group of four codes, rows 4–7 in each entry's second half.
    const r4 = tableRow<T>(table, at, i + 4, rowCount, rowStride);
    const r5 = tableRow<T>(table, at, i + 5, rowCount, rowStride);
    const r6 = tableRow<T>(table, at, i + 6, rowCount, rowStride);
    const r7 = tableRow<T>(table, at, i + 7, rowCount, rowStride);
    for (let bits = groups; bits != 0; bits &= bits - 1) {
      const from = (<usize>ctz(bits)) << 4; // the group's first code·4
      const to = quad + (from << 3);
      transpose4(v128.load(r0 + from), v128.load(r1 + from), v128.load(r2 + from), v128.load(r3 + from), to);
      transpose4(v128.load(r4 + from), v128.load(r5 + from), v128.load(r6 + from), v128.load(r7 + from), to + 16);
    }
  } else {
    // Four rows: two 2×2 transposes per pair of codes.
    for (let bits = groups; bits != 0; bits &= bits - 1) {
      const code = (<usize>ctz(bits)) << 2;
      for (let pair: usize = 0; pair < 4; pair += 2) {
        const from = (code + pair) << 3;
        const x0 = v128.load(r0 + from), x1 = v128.load(r1 + from);
        const x2 = v128.load(r2 + from), x3 = v128.load(r3 + from);
        const to = quad + ((code + pair) << 5);
        v128.store(to, v128.shuffle<u64>(x0, x1, 0, 2));
        v128.store(to, v128.shuffle<u64>(x2, x3, 0, 2), 16);
        v128.store(to, v128.shuffle<u64>(x0, x1, 1, 3), 32);
        v128.store(to, v128.shuffle<u64>(x2, x3, 1, 3), 48);
      }
    }
  }
}

/** Four rows' entries of four codes (x0…x3) stored code by code, 32 bytes apart from `to`. */
// @ts-ignore: decorator
@inline
function transpose4(x0: v128, x1: v128, x2: v128, x3: v128, to: usize): void {
  const low01 = v128.shuffle<u32>(x0, x1, 0, 4, 1, 5), high01 = v128.shuffle<u32>(x0, x1, 2, 6, 3, 7);
  const low23 = v128.shuffle<u32>(x2, x3, 0, 4, 1, 5), high23 = v128.shuffle<u32>(x2, x3, 2, 6, 3, 7);
  v128.store(to, v128.shuffle<u64>(low01, low23, 0, 2));
  v128.store(to, v128.shuffle<u64>(low01, low23, 1, 3), 32);
  v128.store(to, v128.shuffle<u64>(high01, high23, 0, 2), 64);
  v128.store(to, v128.shuffle<u64>(high01, high23, 1, 3), 96);
}

/** The table row (256 entries of type T) of the code at `at` + i·rowStride, or of code 0 past rowCount. */
// @ts-ignore: decorator
@inline
function tableRow<T>(table: usize, at: usize, i: i32, rowCount: i32, rowStride: i32): usize {
  return table + (i < rowCount ? (<usize>load<u8>(at + <usize>(i * rowStride))) * (sizeof<T>() << 8) : 0);
}

/**
 * Output rows from i (those below rowCount) from `acc`, whose column j holds their sums in 32 bytes: eight
 * i32 or four f64.
 */
// @ts-ignore: decorator
@inline
function storeColumns<T>(
  c: usize,
  cRow: i32,
  cCol: i32,
  acc: usize,
  i: i32,
  rowCount: i32,
  colCount: i32,
  scale: v128,
): void {
  const rowBytes = (<usize>cRow) << 2;
  for (let j: usize = 0; j < <usize>colCount; j++) {
    const to = c + ((<usize>(i * cRow) + j * <usize>cCol) << 2);
    const low = v128.load(acc + (j << 5)), high = v128.load(acc + (j << 5), 16);
    if (isInteger<T>()) {
      storeRows(to, rowBytes, i, rowCount, countsToF64(low, 0, scale), countsToF64(low, 1, scale));
      storeRows(to + 4 * rowBytes, rowBytes, i + 4, rowCount, countsToF64(high, 0, scale), countsToF64(high, 1, scale));
    } else {
      storeRows(to, rowBytes, i, rowCount, f64x2.mul(low, scale), f64x2.mul(high, scale));
    }
  }
}

/** Lanes 2·half and 2·half + 1 of i32 counts, as f64 times `scale` (exact). */
// @ts-ignore: decorator
@inline
function countsToF64(counts: v128, half: i32, scale: v128): v128 {
  const lanes = half == 0 ? counts : v128.shuffle<u32>(counts, counts, 2, 3, 0, 1);
  return f64x2.mul(f64x2.convert_low_i32x4_s(lanes), scale);
}

/** Four rows' values (f64x2 `low`: rows i, i+1; `high`: i+2, i+3) rounded to f32, rows below rowCount. */
// @ts-ignore: decorator
@inline
function storeRows(to: usize, rowBytes: usize, i: i32, rowCount: i32, low: v128, high: v128): void {
  if (i < rowCount) store<f32>(to, <f32>f64x2.extract_lane(low, 0));
  if (i + 1 < rowCount) store<f32>(to + rowBytes, <f32>f64x2.extract_lane(low, 1));
  if (i + 2 < rowCount) store<f32>(to + 2 * rowBytes, <f32>f64x2.extract_lane(high, 0));
  if (i + 3 < rowCount) store<f32>(to + 3 * rowBytes, <f32>f64x2.extract_lane(high, 1));
}

/**
 * c[i·n + j] += bias[i] (f64) over an m×n f32 result (a Conv bias): each f32 value and its addend summed in
 * f64 (exact for an f32 addend) and rounded to f32 once, as adding to a Float32Array element in JS does.
 */
export function addRowBias(c: usize, m: i32, n: i32, bias: usize): void {
  for (let i = 0; i < m; i++) {
    const row = c + ((<usize>(i * n)) << 2);
    const addend = load<f64>(bias + ((<usize>i) << 3));
    const add = f64x2.splat(addend);
    let j = 0;
    for (; j + 4 <= n; j += 4) {
      const at = row + ((<usize>j) << 2);
      const v = v128.load(at);
      const low = f64x2.add(f64x2.promote_low_f32x4(v), add);
      const high = f64x2.add(f64x2.promote_low_f32x4(v128.shuffle<u32>(v, v, 2, 3, 0, 1)), add);
      v128.store(at, v128.shuffle<u32>(f32x4.demote_f64x2_zero(low), f32x4.demote_f64x2_zero(high), 0, 1, 4, 5));
    }
    for (; j < n; j++) {
      const at = row + ((<usize>j) << 2);
      store<f32>(at, <f32>(<f64>load<f32>(at) + addend));
    }
  }
}

/** `im2col` (gemm.ts) over image planes of fp8 codes (`gatherPatches`): padding is code 0 (+0). */
export function im2colCodes(
  x: usize,
  offsets: usize,
  col: usize,
  channels: i32,
  taps: i32,
  positions: i32,
  imageSize: i32,
  from: i32,
  width: i32,
): void {
  gatherPatches<u8>(x, offsets, col, channels, taps, positions, imageSize, from, width);
}

/** `im2colCodes` by runs of consecutive elements (`gatherPatchRuns`): the same patch matrix. */
export function im2colCodeRuns(
  x: usize,
  runs: usize,
  count: i32,
  col: usize,
  channels: i32,
  taps: i32,
  imageSize: i32,
  from: i32,
  width: i32,
): void {
  gatherPatchRuns<u8>(x, runs, count, col, channels, taps, imageSize, from, width);
}

/**
 * For each step p of a quad-table GEMM's column operand (the code of column j at step p at codes +
 * p·colStep + j·colStride), the groups of four codes it holds at that step as a mask (u64 at masks + p·8,
 * bit g for codes 4g…4g+3). `flags` (k·64 bytes) marks the groups seen per step first: independent stores,
 * no chain of dependent operations per code. Returns the masks' total count of groups (the quad tables' to
 * build).
 */
export function stepCodeGroups(
  codes: usize,
  colCount: i32,
  k: i32,
  colStep: i32,
  colStride: i32,
  flags: usize,
  masks: usize,
): i32 {
  memory.fill(flags, 0, (<usize>k) << 6);
  // Along whichever of the two runs through consecutive codes.
  if (colStep == 1) {
    for (let j = 0; j < colCount; j++) {
      const column = codes + <usize>(j * colStride);
      for (let p = 0; p < k; p++) store<u8>(flags + ((<usize>p) << 6) + ((<usize>load<u8>(column + p)) >> 2), 1);
    }
  } else {
    for (let p = 0; p < k; p++) {
      const step = codes + <usize>(p * colStep);
      const stepFlags = flags + ((<usize>p) << 6);
      for (let j = 0; j < colCount; j++) {
        store<u8>(stepFlags + ((<usize>load<u8>(step + <usize>(j * colStride))) >> 2), 1);
      }
    }
  }
  let total = 0;
  for (let p = 0; p < k; p++) {
    const at = flags + ((<usize>p) << 6);
    const low = flagBits(v128.load(at)) | (flagBits(v128.load(at, 16)) << 16);
    const high = flagBits(v128.load(at, 32)) | (flagBits(v128.load(at, 48)) << 16);
    const mask = ((<u64>high) << 32) | <u64>low;
    store<u64>(masks + ((<usize>p) << 3), mask);
    total += <i32>popcnt(mask);
  }
  return total;
}

/**
 * `stepCodeGroups` of the patch matrix of `channels` code planes (`imageSize` codes each, from `planes`;
 * row c·taps + t for plane c), from the planes themselves: every step of plane c gets the groups of the
 * plane's codes and of code 0 (padding) — a superset of the codes its row holds (the quad tables of groups
 * no column reads are built and never read), found in one pass over the planes instead of the matrix.
 */
export function planeCodeGroups(planes: usize, channels: i32, imageSize: i32, taps: i32, flags: usize, masks: usize): i32 {
  let total = 0;
  for (let c = 0; c < channels; c++) {
    memory.fill(flags, 0, 64);
    store<u8>(flags, 1); // code 0: padding
    const plane = planes + <usize>(c * imageSize);
    for (let i = 0; i < imageSize; i++) store<u8>(flags + ((<usize>load<u8>(plane + i)) >> 2), 1);
    const low = flagBits(v128.load(flags)) | (flagBits(v128.load(flags, 16)) << 16);
    const high = flagBits(v128.load(flags, 32)) | (flagBits(v128.load(flags, 48)) << 16);
    const mask = ((<u64>high) << 32) | <u64>low;
    for (let t = 0; t < taps; t++) store<u64>(masks + ((<usize>(c * taps + t)) << 3), mask);
    total += <i32>popcnt(mask) * taps;
  }
  return total;
}

/** Bit i set where byte i of `flags` is nonzero. */
// @ts-ignore: decorator
@inline
function flagBits(flags: v128): u32 {
  return <u32>i8x16.bitmask(i8x16.ne(flags, i8x16.splat(0)));
}

/** B (k×n codes) as panels of four columns, panel[p·4 + q] = code·4 (u16), columns past n padded with 0. */
// @ts-ignore: decorator
@inline
function packPanels(b: usize, panels: usize, k: i32, n: i32): void {
  for (let j = 0; j < n; j += 4) {
    const panel = panels + (<usize>(j >> 2)) * ((<usize>k) << 3);
    for (let p = 0; p < k; p++) {
      const src = b + <usize>(p * n + j);
      const dst = panel + ((<usize>p) << 3);
      for (let q = 0; q < 4; q++) store<u16>(dst + ((<usize>q) << 1), j + q < n ? (<u32>load<u8>(src + q)) << 2 : 0);
    }
  }
}

/** Rows i…i+3 of A (m×k codes) as table row addresses, rows[p·4 + r] = table + code·1024, rows past m code 0. */
// @ts-ignore: decorator
@inline
function packRows(a: usize, rows: usize, i: i32, m: i32, k: i32, table: usize): void {
  for (let r = 0; r < 4; r++) {
    const src = a + <usize>((i + r) * k);
    const dst = rows + ((<usize>r) << 2);
    for (let p = 0; p < k; p++)
      store<u32>(dst + ((<usize>p) << 4), <u32>table + (i + r < m ? (<u32>load<u8>(src + p)) << 10 : 0));
  }
}

/** The table entries (f32) of four codes packed in `codes`, from the table row `row`. */
// @ts-ignore: decorator
@inline
function lookup4(row: usize, codes: u32): v128 {
  let v = f32x4.splat(load<f32>(row + ((codes & 0xff) << 2)));
  v = f32x4.replace_lane(v, 1, load<f32>(row + ((codes >>> 6) & 0x3fc)));
  v = f32x4.replace_lane(v, 2, load<f32>(row + ((codes >>> 14) & 0x3fc)));
  return f32x4.replace_lane(v, 3, load<f32>(row + ((codes >>> 22) & 0x3fc)));
}

/** E(x) = sign·2^⌊log2|x|⌋ of a finite nonzero f32, subnormals included. */
// @ts-ignore: decorator
@inline
function powerOfTwoPart(x: f32): f32 {
  const bits = reinterpret<u32>(x);
  const magnitude = bits & 0x7fffffff;
  const top = magnitude >= 0x00800000 ? magnitude & 0x7f800000 : (<u32>1) << (31 - clz(magnitude));
  return reinterpret<f32>((bits & 0x80000000) | top);
}

/**
 * Left operand of the lmul-formula GEMM: A (m×k) becomes [a + c·E(a) | E(a)] (m×2k), the sum in f64 and
 * rounded once; zeros and non-finite entries give zeros (their products are fixed by the caller). Four at a
 * time where every entry is zero or normal (E is then the pattern's sign and exponent bits; ±0 give +0), else
 * one by one.
 */
export function formulaLeft(src: usize, dst: usize, m: i32, k: i32, c: f64): void {
  const cs = f64x2.splat(c);
  for (let i = 0; i < m; i++) {
    const row = src + ((<usize>(i * k)) << 2);
    const out = dst + ((<usize>(2 * i * k)) << 2);
    const outE = out + ((<usize>k) << 2);
    let p = 0;
    for (; p + 4 <= k; p += 4) {
      const at = (<usize>p) << 2;
      const a = v128.load(row + at);
      const zero = zeroLanes(a);
      if (!v128.all_true<i32>(v128.or(normalLanes(a), zero))) {
        formulaLeftScalar(row, out, outE, p, 4, c);
        continue;
      }
      const e = v128.andnot(v128.and(a, i32x4.splat(0xff800000)), zero);
      const low = f64x2.add(f64x2.promote_low_f32x4(a), f64x2.mul(cs, f64x2.promote_low_f32x4(e)));
      const a23 = v128.shuffle<u32>(a, a, 2, 3, 0, 1);
      const e23 = v128.shuffle<u32>(e, e, 2, 3, 0, 1);
      const high = f64x2.add(f64x2.promote_low_f32x4(a23), f64x2.mul(cs, f64x2.promote_low_f32x4(e23)));
      const sum = v128.shuffle<u32>(f32x4.demote_f64x2_zero(low), f32x4.demote_f64x2_zero(high), 0, 1, 4, 5);
      v128.store(out + at, v128.andnot(sum, zero));
      v128.store(outE + at, e);
    }
    formulaLeftScalar(row, out, outE, p, k - p, c);
  }
}

/** `formulaLeft` of `count` entries of one row from `from`, one at a time. */
function formulaLeftScalar(row: usize, out: usize, outE: usize, from: i32, count: i32, c: f64): void {
  for (let p = from; p < from + count; p++) {
    const a = load<f32>(row + ((<usize>p) << 2));
    let sum: f32 = 0;
    let e: f32 = 0;
    if (a != 0 && isFinite<f32>(a)) {
      e = powerOfTwoPart(a);
      sum = <f32>(<f64>a + c * <f64>e);
    }
    store<f32>(out + ((<usize>p) << 2), sum);
    store<f32>(outE + ((<usize>p) << 2), e);
  }
}

/**
 * Right operand of the lmul-formula GEMM: B (k×n) becomes [E(b) ; b − E(b)] (2k×n); zeros and specials 0.
 * b − E(b) is exact in f32 (Sterbenz). Four at a time where every entry is zero or normal, else one by one.
 */
export function formulaRight(src: usize, dst: usize, k: i32, n: i32): void {
  const half = (<usize>(k * n)) << 2;
  const len = k * n;
  let i = 0;
  for (; i + 4 <= len; i += 4) {
    const at = (<usize>i) << 2;
    const b = v128.load(src + at);
    const zero = zeroLanes(b);
    if (!v128.all_true<i32>(v128.or(normalLanes(b), zero))) {
      formulaRightScalar(src, dst, half, i, 4);
      continue;
    }
    // E(b) is the pattern's sign and exponent bits; ±0 lanes give +0 twice.
    const e = v128.andnot(v128.and(b, i32x4.splat(0xff800000)), zero);
    v128.store(dst + at, e);
    v128.store(dst + half + at, v128.andnot(f32x4.sub(b, e), zero));
  }
  formulaRightScalar(src, dst, half, i, len - i);
}

/** `formulaRight` of `count` entries from `from`, one at a time. */
function formulaRightScalar(src: usize, dst: usize, half: usize, from: i32, count: i32): void {
  for (let i = from; i < from + count; i++) {
    const at = (<usize>i) << 2;
    const b = load<f32>(src + at);
    let e: f32 = 0;
    let rest: f32 = 0;
    if (b != 0 && isFinite<f32>(b)) {
      e = powerOfTwoPart(b);
      rest = <f32>(<f64>b - <f64>e);
    }
    store<f32>(dst + at, e);
    store<f32>(dst + half + at, rest);
  }
}

/** Lanes holding ±0. */
// @ts-ignore: decorator
@inline
function zeroLanes(v: v128): v128 {
  return i32x4.eq(v128.and(v, i32x4.splat(0x7fffffff)), i32x4.splat(0));
}

/** Lanes holding a normal f32. */
// @ts-ignore: decorator
@inline
function normalLanes(v: v128): v128 {
  const magnitude = v128.and(v, i32x4.splat(0x7fffffff));
  return v128.and(i32x4.gt_s(magnitude, i32x4.splat(0x007fffff)), i32x4.lt_s(magnitude, i32x4.splat(0x7f800000)));
}
