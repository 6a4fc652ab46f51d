// Element-wise lmul products, shared by the scheme `Mul` kernel (products.ts) and the fused element-wise
// chains (chain.ts). Not an entry of the module (scripts/build-wasm.mjs compiles only the files directly in
// the assembly folder).

/** lmul product rules (`rule` arguments): the integer adder and the paper's formula. */
export const ADDER = 0;

/** 2^e as an f64 for e in f64's normal exponent range. */
// @ts-ignore: decorator
@inline
function pow2(e: i32): f64 {
  return reinterpret<f64>((<u64>(e + 1023)) << 52);
}

/**
 * One lmul product of two f32 operands, rounded to f32, as `applyProductRule` defines it: zeros, NaN and
 * inf take IEEE's product (0·x = ±0, inf·0 = NaN, inf·x = ±inf); otherwise with a = (1 + ma)·2^ea
 * (subnormals normalised) and t = ma + mb + c, the formula gives (1 + t)·2^(ea+eb) and the adder lets the
 * carry ⌊t⌋ into the exponent, (1 + t − ⌊t⌋)·2^(ea+eb+⌊t⌋) — exact in f64, rounded to f32 once.
 */
export function lmulProduct(a: f32, b: f32, rule: i32, c: f64): f32 {
  const aBits = reinterpret<u32>(a);
  const bBits = reinterpret<u32>(b);
  const magA = aBits & 0x7fffffff;
  const magB = bBits & 0x7fffffff;
  if (magA == 0 || magB == 0 || magA >= 0x7f800000 || magB >= 0x7f800000) return a * b;
  const t = fraction(magA) + fraction(magB) + c;
  const e = exponent(magA) + exponent(magB);
  let magnitude: f64;
  if (rule == ADDER) {
    const carry = floor(t);
    magnitude = (1 + t - carry) * pow2(e + <i32>carry);
  } else magnitude = (1 + t) * pow2(e);
  const r = <f32>magnitude;
  return reinterpret<f32>(reinterpret<u32>(r) | ((aBits ^ bBits) & 0x80000000));
}

/** ⌊log2 m⌋ of a finite nonzero f32 magnitude pattern (subnormals normalised). */
// @ts-ignore: decorator
@inline
function exponent(magnitude: u32): i32 {
  return magnitude >= 0x00800000 ? <i32>(magnitude >>> 23) - 127 : -118 - <i32>clz(magnitude);
}

/** The mantissa fraction m of a finite nonzero magnitude (1 + m)·2^e, exact in f64. */
// @ts-ignore: decorator
@inline
function fraction(magnitude: u32): f64 {
  if (magnitude >= 0x00800000) return <f64>(magnitude & 0x7fffff) * 1.1920928955078125e-7; // 2^-23
  const top: u32 = 31 - clz(magnitude);
  return <f64>(magnitude - ((<u32>1) << top)) / <f64>((<u32>1) << top);
}

/** The adder's pattern offset 0x3f800000 − 2^(23−l) for c = 2^−l, or 0 when c is no such power of two. */
export function adderOffset(c: f64): i32 {
  const cBits = reinterpret<u64>(c);
  const minusL = <i32>(cBits >>> 52) - 1023;
  const exactPowerOfTwo = (cBits & 0x000fffffffffffff) == 0 && minusL <= 0 && minusL >= -23;
  return exactPowerOfTwo ? 0x3f800000 - (1 << (23 + minusL)) : 0;
}

/** Lanes whose magnitude pattern is zero or that of a normal f32 (signed compares: SSE has no unsigned ones). */
// @ts-ignore: decorator
@inline
function zeroOrNormal(magnitude: v128): v128 {
  const normal = v128.and(i32x4.gt_s(magnitude, i32x4.splat(0x007fffff)), i32x4.lt_s(magnitude, i32x4.splat(0x7f800000)));
  return v128.or(normal, i32x4.eq(magnitude, i32x4.splat(0)));
}

/**
 * Four lmul products (`rule`, c = 2^−l, `offset` = `adderOffset(c)`), bit for bit `lmulProduct` lane by
 * lane: `patternProducts` where every operand is zero or normal and every lane's product fits its pattern
 * arithmetic, else `lmulProduct` lane by lane.
 */
// @ts-ignore: decorator
@inline
export function lmulFour(va: v128, vb: v128, rule: i32, c: f64, offset: i32): v128 {
  const magA = v128.and(va, i32x4.splat(0x7fffffff));
  const magB = v128.and(vb, i32x4.splat(0x7fffffff));
  const operands = v128.and(zeroOrNormal(magA), zeroOrNormal(magB));
  const products = patternProducts(magA, magB, operands, v128.xor(va, vb), rule, offset);
  return v128.any_true(i32x4.eq(products, i32x4.splat(-1))) ? lmulLanes(va, vb, rule, c) : products;
}

/**
 * Four lmul products of zero or normal magnitudes `magA`, `magB` (lanes flagged in `operands`; the sign is
 * that of `signs`) by integer arithmetic on their patterns, with c = 2^−l from `offset` =
 * `adderOffset(c)`: with t = fa + fb + c in units of 2^−23 (T), the adder's product is the pattern sum
 * |a| + |b| − offset (t's bits fit the 23-bit field, its carry flows into the exponent); the formula's
 * (1 + t)·2^(ea+eb) is the pattern of 1 + t — 0x3f800000 + T, or 0x40000000 + (T − 2^23)/2 from 2 on —
 * with ea + eb added to its exponent field. A zero operand gives IEEE's ±0. Lanes where that is not the
 * product — an operand neither zero nor normal, a product outside the normal range, an odd T from 2 on (the
 * halving would round), an offset of 0 — are all-ones (a NaN pattern no product has).
 */
// @ts-ignore: decorator
@inline
export function patternProducts(magA: v128, magB: v128, operands: v128, signs: v128, rule: i32, offset: i32): v128 {
  const zero = v128.or(i32x4.eq(magA, i32x4.splat(0)), i32x4.eq(magB, i32x4.splat(0)));
  let magnitude: v128;
  let exact: v128;
  if (rule == ADDER) {
    magnitude = i32x4.sub(i32x4.add(magA, magB), i32x4.splat(offset));
    exact = normalSums(magnitude);
  } else {
    const fractions = i32x4.splat(0x007fffff);
    const t = i32x4.add(i32x4.add(v128.and(magA, fractions), v128.and(magB, fractions)), i32x4.splat(0x3f800000 - offset));
    const carried = i32x4.gt_s(t, fractions);
    const halved = i32x4.add(i32x4.shr_u(i32x4.sub(t, i32x4.splat(0x00800000)), 1), i32x4.splat(0x40000000));
    const one = v128.bitselect(halved, i32x4.add(t, i32x4.splat(0x3f800000)), carried);
    const exponents = i32x4.add(v128.and(magA, i32x4.splat(0x7f800000)), v128.and(magB, i32x4.splat(0x7f800000)));
    magnitude = i32x4.add(one, i32x4.sub(exponents, i32x4.splat(0x7f000000)));
    const odd = i32x4.eq(v128.and(t, i32x4.splat(1)), i32x4.splat(1));
    exact = v128.andnot(normalSums(magnitude), v128.and(carried, odd));
  }
  let fits = v128.and(operands, v128.or(zero, exact));
  if (offset == 0) fits = i32x4.splat(0);
  const product = v128.or(v128.andnot(magnitude, zero), v128.and(signs, i32x4.splat(0x80000000)));
  return v128.or(product, v128.not(fits));
}

/**
 * Lanes whose pattern arithmetic result from two normal magnitudes is a normal pattern. Such results lie in
 * (−2^30, 3·2^30): moved by 2^31 − 2^23 (wrapping), the normal range [2^23, 0x7f800000) becomes the signed
 * values below −2^24 and nothing else does.
 */
// @ts-ignore: decorator
@inline
function normalSums(sum: v128): v128 {
  return i32x4.lt_s(i32x4.add(sum, i32x4.splat(0x7f800000)), i32x4.splat(-0x01000000));
}

/** `lmulProduct` of each lane. */
export function lmulLanes(va: v128, vb: v128, rule: i32, c: f64): v128 {
  let out = f32x4.splat(lmulProduct(f32x4.extract_lane(va, 0), f32x4.extract_lane(vb, 0), rule, c));
  out = f32x4.replace_lane(out, 1, lmulProduct(f32x4.extract_lane(va, 1), f32x4.extract_lane(vb, 1), rule, c));
  out = f32x4.replace_lane(out, 2, lmulProduct(f32x4.extract_lane(va, 2), f32x4.extract_lane(vb, 2), rule, c));
  return f32x4.replace_lane(out, 3, lmulProduct(f32x4.extract_lane(va, 3), f32x4.extract_lane(vb, 3), rule, c));
}
