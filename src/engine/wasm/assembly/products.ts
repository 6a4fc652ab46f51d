// Element-wise scheme products over broadcast runs (scheme `Mul` nodes), same conventions as gemm.ts and
// elementwise.ts: row r reads a from element startA[r] advancing by stepA (0 or 1), likewise b.

/** lmul product rules of `lmulRuns`. */
const ADDER = 0;

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
// @ts-ignore: decorator
@inline
function lmulProduct(a: f32, b: f32, rule: i32, c: f64): f32 {
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

/**
 * out = lmul products of a and b over a broadcast (`rule` 0 adder, 1 formula; `c` = 2^−l), each as
 * `lmulProduct`.
 */
export function lmulRuns(
  rule: i32,
  c: f64,
  a: usize,
  b: usize,
  out: usize,
  rows: i32,
  run: i32,
  stepA: i32,
  stepB: i32,
  startA: usize,
  startB: usize,
): void {
  const byteStepA = (<usize>stepA) << 2;
  const byteStepB = (<usize>stepB) << 2;
  // The adder's pattern offset 0x3f800000 − 2^(23−l) for c = 2^−l (0: no four-lane path).
  const cBits = reinterpret<u64>(c);
  const minusL = <i32>(cBits >>> 52) - 1023;
  const exactPowerOfTwo = (cBits & 0x000fffffffffffff) == 0 && minusL <= 0 && minusL >= -23;
  const offset: i32 = exactPowerOfTwo ? 0x3f800000 - (1 << (23 + minusL)) : 0;
  for (let r = 0; r < rows; r++) {
    let pa = a + ((<usize>load<i32>(startA + ((<usize>r) << 2))) << 2);
    let pb = b + ((<usize>load<i32>(startB + ((<usize>r) << 2))) << 2);
    const rowOut = out + ((<usize>(r * run)) << 2);
    if (rule == ADDER) {
      let i = 0;
      if (offset != 0) {
        // Four at a time where in every lane both operands are normal and the pattern sum minus the offset
        // is a normal f32 pattern, or one operand is zero and both are finite (IEEE's ±0). A normal lane's
        // (1 + t − ⌊t⌋)·2^(ea+eb+⌊t⌋) is exactly that pattern: t's bits fit the 23-bit field and the carry
        // flows into the exponent. Any other group of four takes lmulProduct lane by lane.
        const k = i32x4.splat(offset);
        const magMask = i32x4.splat(0x7fffffff);
        const signMask = i32x4.splat(0x80000000);
        const normalLow = i32x4.splat(0x00800000);
        const normalSpan = i32x4.splat(0x7f000000); // magnitude − 2^23 <u 0x7f000000: normal
        const infinity = i32x4.splat(0x7f800000);
        for (; i + 4 <= run; i += 4, pa += byteStepA << 2, pb += byteStepB << 2) {
          const va = stepA != 0 ? v128.load(pa) : v128.load32_splat(pa);
          const vb = stepB != 0 ? v128.load(pb) : v128.load32_splat(pb);
          const magA = v128.and(va, magMask);
          const magB = v128.and(vb, magMask);
          const sum = i32x4.sub(i32x4.add(magA, magB), k);
          const normal = v128.and(
            v128.and(
              i32x4.lt_u(i32x4.sub(magA, normalLow), normalSpan),
              i32x4.lt_u(i32x4.sub(magB, normalLow), normalSpan),
            ),
            i32x4.lt_u(i32x4.sub(sum, normalLow), normalSpan),
          );
          // A zero times a finite operand is IEEE's signed zero: the sign alone.
          const zero = v128.and(
            v128.or(i32x4.eq(magA, i32x4.splat(0)), i32x4.eq(magB, i32x4.splat(0))),
            v128.and(i32x4.lt_u(magA, infinity), i32x4.lt_u(magB, infinity)),
          );
          const at = rowOut + ((<usize>i) << 2);
          if (i32x4.all_true(v128.or(normal, zero))) {
            const sign = v128.and(v128.xor(va, vb), signMask);
            v128.store(at, v128.or(v128.andnot(sum, zero), sign));
          } else {
            for (let j = 0; j < 4; j++) {
              const x = load<f32>(pa + byteStepA * <usize>j);
              const y = load<f32>(pb + byteStepB * <usize>j);
              store<f32>(at + ((<usize>j) << 2), lmulProduct(x, y, ADDER, c));
            }
          }
        }
      }
      for (; i < run; i++, pa += byteStepA, pb += byteStepB)
        store<f32>(rowOut + ((<usize>i) << 2), lmulProduct(load<f32>(pa), load<f32>(pb), ADDER, c));
    } else {
      let i = 0;
      // Four at a time where in every lane both operands are normal, or one is zero and both are finite
      // (IEEE's ±0): (1 + fa + fb + c)·2^(ea+eb), the fractions summed as integers, is exact in f64 two
      // lanes at a time and rounded to f32 once, as lmulProduct does. Other groups take it lane by lane.
      const magMask = i32x4.splat(0x7fffffff);
      const signMask = i32x4.splat(0x80000000);
      const fractionMask = i32x4.splat(0x007fffff);
      const normalLow = i32x4.splat(0x00800000);
      const normalSpan = i32x4.splat(0x7f000000);
      const infinity = i32x4.splat(0x7f800000);
      const onePlusC = f64x2.splat(1 + c);
      const ulp = f64x2.splat(1.1920928955078125e-7); // 2^-23
      for (; i + 4 <= run; i += 4, pa += byteStepA << 2, pb += byteStepB << 2) {
        const va = stepA != 0 ? v128.load(pa) : v128.load32_splat(pa);
        const vb = stepB != 0 ? v128.load(pb) : v128.load32_splat(pb);
        const magA = v128.and(va, magMask);
        const magB = v128.and(vb, magMask);
        const normal = v128.and(
          i32x4.lt_u(i32x4.sub(magA, normalLow), normalSpan),
          i32x4.lt_u(i32x4.sub(magB, normalLow), normalSpan),
        );
        const zero = v128.and(
          v128.or(i32x4.eq(magA, i32x4.splat(0)), i32x4.eq(magB, i32x4.splat(0))),
          v128.and(i32x4.lt_u(magA, infinity), i32x4.lt_u(magB, infinity)),
        );
        const at = rowOut + ((<usize>i) << 2);
        if (!i32x4.all_true(v128.or(normal, zero))) {
          for (let j = 0; j < 4; j++) {
            const x = load<f32>(pa + byteStepA * <usize>j);
            const y = load<f32>(pb + byteStepB * <usize>j);
            store<f32>(at + ((<usize>j) << 2), lmulProduct(x, y, 1, c));
          }
          continue;
        }
        // 2^(ea+eb) as an f64 exponent field: (biased ea + biased eb − 254 + 1023) << 52.
        const exponents = i32x4.add(i32x4.add(i32x4.shr_u(magA, 23), i32x4.shr_u(magB, 23)), i32x4.splat(1023 - 254));
        const fractions = i32x4.add(v128.and(magA, fractionMask), v128.and(magB, fractionMask));
        const low = f64x2.mul(
          f64x2.add(onePlusC, f64x2.mul(f64x2.convert_low_i32x4_s(fractions), ulp)),
          i64x2.shl(i64x2.extend_low_i32x4_s(exponents), 52),
        );
        const high = f64x2.mul(
          f64x2.add(onePlusC, f64x2.mul(f64x2.convert_low_i32x4_s(v128.shuffle<u32>(fractions, fractions, 2, 3, 0, 1)), ulp)),
          i64x2.shl(i64x2.extend_high_i32x4_s(exponents), 52),
        );
        const magnitude = v128.shuffle<u32>(f32x4.demote_f64x2_zero(low), f32x4.demote_f64x2_zero(high), 0, 1, 4, 5);
        const sign = v128.and(v128.xor(va, vb), signMask);
        v128.store(at, v128.or(v128.andnot(magnitude, zero), sign));
      }
      for (; i < run; i++, pa += byteStepA, pb += byteStepB)
        store<f32>(rowOut + ((<usize>i) << 2), lmulProduct(load<f32>(pa), load<f32>(pb), 1, c));
    }
  }
}

/**
 * out = table[codeA·256 + codeB]·factor (f32) over a broadcast of two fp8 code arrays (a product-table
 * scheme's `Mul`; the caller makes sure that the multiplication is exact).
 */
export function tableRuns(
  table: usize,
  factor: f32,
  a: usize,
  b: usize,
  out: usize,
  rows: i32,
  run: i32,
  stepA: i32,
  stepB: i32,
  startA: usize,
  startB: usize,
): void {
  for (let r = 0; r < rows; r++) {
    let pa = a + <usize>load<i32>(startA + ((<usize>r) << 2));
    let pb = b + <usize>load<i32>(startB + ((<usize>r) << 2));
    const rowOut = out + ((<usize>(r * run)) << 2);
    for (let i = 0; i < run; i++, pa += <usize>stepA, pb += <usize>stepB) {
      const entry = ((<usize>load<u8>(pa)) << 10) | ((<usize>load<u8>(pb)) << 2);
      store<f32>(rowOut + ((<usize>i) << 2), load<f32>(table + entry) * factor);
    }
  }
}
