// Operand rounding into a float format F (SPEC §2), shared by operand preparation (operands.ts) and the
// fused element-wise chains (chain.ts). Not an entry of the module.

/**
 * The pattern of q_F(v) for an f32 v: F has `manBits` mantissa bits, smallest normal exponent `emin` and
 * largest finite value `maxFinite` (pattern `maxBits`). Round to nearest even (or truncate) on the integer
 * significand, the quantum 2^(max(e, emin) − M) covering F's subnormals. Finite overflow saturates to
 * ±maxFinite when `saturate` (fp8) or under truncation, and is ±inf otherwise; inf saturates only when
 * `saturate`; NaN and zeros pass.
 */
export function roundedBits(
  v: f32,
  manBits: i32,
  emin: i32,
  maxFinite: f32,
  maxBits: u32,
  saturate: bool,
  trunc: bool,
): u32 {
  const bits = reinterpret<u32>(v);
  const sign = bits & 0x80000000;
  const magnitude = bits & 0x7fffffff;
  if (magnitude == 0x7f800000) return saturate ? sign | maxBits : bits;
  if (magnitude == 0 || magnitude > 0x7f800000) return bits;
  const field = <i32>(magnitude >>> 23);
  const significand = field == 0 ? magnitude : (magnitude & 0x7fffff) | 0x800000;
  const low = (field == 0 ? 1 : field) - 150; // value = significand · 2^low
  const quantum = max(field == 0 ? -127 : field - 127, emin) - manBits;
  const shift = quantum - low;
  if (shift <= 0) return bits;
  let steps: u32 = 0;
  if (shift < 26) {
    steps = significand >>> shift;
    const rest = significand & ((1 << shift) - 1);
    const half: u32 = 1 << (shift - 1);
    if (!trunc && (rest > half || (rest == half && (steps & 1) != 0))) steps++;
  } // else: below a quarter quantum, zero under either rounding
  const r = <f32>(<f64>steps * reinterpret<f64>((<u64>(quantum + 1023)) << 52));
  return sign | (r > maxFinite ? (saturate || trunc ? maxBits : 0x7f800000) : reinterpret<u32>(r));
}

/**
 * Four magnitude patterns (sign bits clear) rounded on the pattern to 23 − `drop` mantissa bits (drop ≥ 1): RNE
 * (or truncation) with the mantissa carry flowing into the exponent. Exact where `roundedOnPattern` holds.
 * The splat constants come from `halfMinusOneOf`, `oddBitOf` and `keepOf`, computed outside the caller's
 * loop (V8 does not hoist them).
 */
// @ts-ignore: decorator
@inline
export function patternRounded(magnitude: v128, drop: i32, halfMinusOne: v128, oddBit: v128, keep: v128): v128 {
  const odd = v128.and(i32x4.shr_u(magnitude, drop), oddBit);
  return v128.and(i32x4.add(magnitude, i32x4.add(halfMinusOne, odd)), keep);
}

/** `patternRounded`'s halfMinusOne: 2^(drop−1) − 1 under RNE, 0 under truncation. */
// @ts-ignore: decorator
@inline
export function halfMinusOneOf(drop: i32, trunc: bool): v128 {
  return i32x4.splat(trunc ? 0 : (1 << (drop - 1)) - 1);
}

/** `patternRounded`'s oddBit: 1 under RNE (ties to even), 0 under truncation. */
// @ts-ignore: decorator
@inline
export function oddBitOf(trunc: bool): v128 {
  return i32x4.splat(trunc ? 0 : 1);
}

/** `patternRounded`'s keep: the mask of the kept pattern bits. */
// @ts-ignore: decorator
@inline
export function keepOf(drop: i32): v128 {
  return i32x4.splat(~((1 << drop) - 1));
}

/**
 * Lanes where `patternRounded` is q_F: zero, or normal in F (from the pattern `lowest` of F's smallest
 * normal on) with the rounded pattern at most F's largest finite `highest`.
 */
// @ts-ignore: decorator
@inline
export function roundedOnPattern(magnitude: v128, rounded: v128, lowest: v128, highest: v128): v128 {
  const normal = v128.and(i32x4.ge_s(magnitude, lowest), i32x4.le_u(rounded, highest));
  return v128.or(normal, i32x4.eq(magnitude, i32x4.splat(0)));
}

/**
 * Four values rounded to nearest even into F (`roundedBits`), every lane: from F's smallest normal (pattern
 * `lowest`) on, on the pattern (`patternRounded`), a result past F's largest finite pattern `highest` (finite
 * overflow, inf) becoming `overflow` (±maxFinite when F saturates, else ±inf); below it, by adding `magic`
 * (`subnormalMagic`); NaN passes.
 */
// @ts-ignore: decorator
@inline
export function roundedNearest(
  v: v128,
  drop: i32,
  halfMinusOne: v128,
  oddBit: v128,
  keep: v128,
  lowest: v128,
  highest: v128,
  overflow: v128,
  magic: v128,
): v128 {
  const signBit = i32x4.splat(0x80000000);
  const magnitude = v128.andnot(v, signBit);
  const rounded = patternRounded(magnitude, drop, halfMinusOne, oddBit, keep);
  const normal = v128.bitselect(overflow, rounded, i32x4.gt_s(rounded, highest));
  const small = f32x4.sub(f32x4.add(magnitude, magic), magic);
  const finite = v128.bitselect(small, normal, i32x4.lt_s(magnitude, lowest));
  return v128.bitselect(v, v128.or(finite, v128.and(v, signBit)), i32x4.gt_s(magnitude, i32x4.splat(0x7f800000)));
}

/**
 * 2^(emin − M + 23) for a format with `manBits` M and smallest normal exponent emin: its ulp is F's subnormal
 * quantum, so adding it to a magnitude below 2^emin (and taking it off again) rounds that magnitude to nearest
 * even on F's subnormals, exactly.
 */
// @ts-ignore: decorator
@inline
export function subnormalMagic(emin: i32, manBits: i32): v128 {
  return f32x4.splat(reinterpret<f32>((emin - manBits + 23 + 127) << 23));
}
