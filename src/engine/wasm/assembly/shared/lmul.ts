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
 * lane. Four at a time where every operand is zero or normal and, for the adder, every lane with two nonzero
 * operands has a pattern sum |a| + |b| − offset that is a normal pattern: it is then exactly the product, t's
 * bits fitting the 23-bit field and the carry flowing into the exponent; a zero operand gives IEEE's ±0
 * (`formulaMagnitudes` for the formula). Other groups of four (or an adder offset of 0) take `lmulProduct`
 * lane by lane.
 */
// @ts-ignore: decorator
@inline
export function lmulFour(va: v128, vb: v128, rule: i32, c: f64, offset: i32): v128 {
  const magA = v128.and(va, i32x4.splat(0x7fffffff));
  const magB = v128.and(vb, i32x4.splat(0x7fffffff));
  const operands = v128.and(zeroOrNormal(magA), zeroOrNormal(magB));
  const zero = v128.or(i32x4.eq(magA, i32x4.splat(0)), i32x4.eq(magB, i32x4.splat(0)));
  const sign = v128.and(v128.xor(va, vb), i32x4.splat(0x80000000));
  if (rule == ADDER) {
    const sum = i32x4.sub(i32x4.add(magA, magB), i32x4.splat(offset));
    if (offset != 0 && v128.all_true<i32>(v128.and(operands, v128.or(zero, normalSums(sum)))))
      return v128.or(v128.andnot(sum, zero), sign);
  } else if (v128.all_true<i32>(operands)) return v128.or(v128.andnot(formulaMagnitudes(magA, magB, c), zero), sign);
  return lmulLanes(va, vb, rule, c);
}

/**
 * The lmul formula's product magnitudes of four pairs of normal magnitudes: (1 + fa + fb + c)·2^(ea+eb), the
 * fractions summed as integers, exact in f64 two lanes at a time and rounded to f32 once.
 */
// @ts-ignore: decorator
@inline
export function formulaMagnitudes(magA: v128, magB: v128, c: f64): v128 {
  // 2^(ea+eb) as an f64 exponent field: (biased ea + biased eb − 254 + 1023) << 52.
  const exponents = i32x4.add(i32x4.add(i32x4.shr_u(magA, 23), i32x4.shr_u(magB, 23)), i32x4.splat(1023 - 254));
  const fractionMask = i32x4.splat(0x007fffff);
  const fractions = i32x4.add(v128.and(magA, fractionMask), v128.and(magB, fractionMask));
  const onePlusC = f64x2.splat(1 + c);
  const ulp = f64x2.splat(1.1920928955078125e-7); // 2^-23
  const low = f64x2.mul(
    f64x2.add(onePlusC, f64x2.mul(f64x2.convert_low_i32x4_s(fractions), ulp)),
    i64x2.shl(i64x2.extend_low_i32x4_s(exponents), 52),
  );
  const high = f64x2.mul(
    f64x2.add(onePlusC, f64x2.mul(f64x2.convert_low_i32x4_s(v128.shuffle<u32>(fractions, fractions, 2, 3, 0, 1)), ulp)),
    i64x2.shl(i64x2.extend_high_i32x4_s(exponents), 52),
  );
  return v128.shuffle<u32>(f32x4.demote_f64x2_zero(low), f32x4.demote_f64x2_zero(high), 0, 1, 4, 5);
}

/**
 * Lanes whose adder pattern sum of two normal magnitudes (|a| + |b| − offset) is a normal pattern. For normal
 * operands the sum lies in (−2^30, 3·2^30): moved by 2^31 − 2^23 (wrapping), its normal range
 * [2^23, 0x7f800000) becomes the signed values below −2^24 and nothing else does.
 */
// @ts-ignore: decorator
@inline
export function normalSums(sum: v128): v128 {
  return i32x4.lt_s(i32x4.add(sum, i32x4.splat(0x7f800000)), i32x4.splat(-0x01000000));
}

/** `lmulProduct` of each lane. */
export function lmulLanes(va: v128, vb: v128, rule: i32, c: f64): v128 {
  let out = f32x4.splat(lmulProduct(f32x4.extract_lane(va, 0), f32x4.extract_lane(vb, 0), rule, c));
  out = f32x4.replace_lane(out, 1, lmulProduct(f32x4.extract_lane(va, 1), f32x4.extract_lane(vb, 1), rule, c));
  out = f32x4.replace_lane(out, 2, lmulProduct(f32x4.extract_lane(va, 2), f32x4.extract_lane(vb, 2), rule, c));
  return f32x4.replace_lane(out, 3, lmulProduct(f32x4.extract_lane(va, 3), f32x4.extract_lane(vb, 3), rule, c));
}
