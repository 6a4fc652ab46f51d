// The exponential as V8's Math.exp computes it (fdlibm's e_exp.c, as ported in V8's base/ieee754.cc), so
// that WebAssembly kernels give the bits the JS kernels give: two lanes at a time where the argument is in the
// ordinary range, the scalar port elsewhere. Tests compare both with Math.exp.

const HALF_LN2_HIGH: i64 = 0x3fd62e42; // |x| > 0.5·ln 2 above this high word
const THREE_HALVES_LN2_HIGH: i64 = 0x3ff0a2b2; // |x| < 1.5·ln 2 below it
const TINY_HIGH: i64 = 0x3e300000; // |x| < 2^−28 below it
const OVERFLOW_HIGH: i64 = 0x40862e42; // |x| ≥ 709.78… from it
/** The lanes' fast range ends at |x| < 512 (high word 0x40800000): 2^k is then a normal double. */
const FAST_END_HIGH: i64 = 0x40800000;

const LN2_HI: f64 = 6.93147180369123816490e-1;
const LN2_LO: f64 = 1.90821492927058770002e-10;
const INV_LN2: f64 = 1.4426950408889633870;
const P1: f64 = 1.66666666666666019037e-1;
const P2: f64 = -2.77777777770155933842e-3;
const P3: f64 = 6.61375632143793436117e-5;
const P4: f64 = -1.65339022054652515390e-6;
const P5: f64 = 4.13813679705723846039e-8;
const O_THRESHOLD: f64 = 7.09782712893383973096e2;
const U_THRESHOLD: f64 = -7.45133219101941108420e2;
const TWO_M1000: f64 = 9.33263618503218878990e-302;
const TWO_1023: f64 = 8.988465674311579539e307;
const E: f64 = 2.718281828459045;

/** exp(x), scalar: every case of fdlibm's algorithm. */
export function expScalar(x: f64): f64 {
  const bits = reinterpret<i64>(x);
  const xsb = <i32>(bits >>> 63);
  const hx = (bits >>> 32) & 0x7fffffff;
  if (hx >= OVERFLOW_HIGH) {
    if (hx >= 0x7ff00000) return (bits & 0x000fffffffffffff) != 0 ? x + x : xsb == 0 ? x : 0.0; // NaN, ±inf
    if (x > O_THRESHOLD) return Infinity;
    if (x < U_THRESHOLD) return 0.0;
  }
  let hi: f64 = 0;
  let lo: f64 = 0;
  let k: i32 = 0;
  let r = x;
  if (hx > HALF_LN2_HIGH) {
    if (hx < THREE_HALVES_LN2_HIGH) {
      if (x == 1.0) return E;
      hi = xsb ? x + LN2_HI : x - LN2_HI;
      lo = xsb ? -LN2_LO : LN2_LO;
      k = 1 - xsb - xsb;
    } else {
      k = <i32>(INV_LN2 * x + (xsb ? -0.5 : 0.5));
      const t = <f64>k;
      hi = x - t * LN2_HI;
      lo = t * LN2_LO;
    }
    r = hi - lo;
  } else if (hx < TINY_HIGH) {
    return 1.0 + x;
  }
  const t = r * r;
  const c = r - t * (P1 + t * (P2 + t * (P3 + t * (P4 + t * P5))));
  if (k == 0) return 1.0 - ((r * c) / (c - 2.0) - r);
  const y = 1.0 - ((lo - (r * c) / (2.0 - c)) - hi);
  if (k >= -1021) {
    if (k == 1024) return y * 2.0 * TWO_1023;
    return y * reinterpret<f64>((<i64>(0x3ff + k)) << 52);
  }
  return y * reinterpret<f64>((<i64>(0x3ff + k + 1000)) << 52) * TWO_M1000;
}

/**
 * exp of two lanes: the vector path where both lie in 2^−28 ≤ |x| < 512 and neither is 1 (every lane then
 * takes the same operations as the scalar code, with k = 0, ±1 or the rounded quotient selected per lane),
 * else `expScalar` per lane.
 */
// @ts-ignore: decorator
@inline
export function expTwo(x: v128): v128 {
  const high = i64x2.shr_u(v128.and(x, i64x2.splat(0x7fffffffffffffff)), 32);
  const fast = v128.and(
    v128.and(i64x2.ge_s(high, i64x2.splat(TINY_HIGH)), i64x2.lt_s(high, i64x2.splat(FAST_END_HIGH))),
    v128.not(f64x2.eq(x, f64x2.splat(1.0))),
  );
  if (!v128.all_true<i64>(fast))
    return f64x2.replace_lane(f64x2.splat(expScalar(f64x2.extract_lane(x, 0))), 1, expScalar(f64x2.extract_lane(x, 1)));
  const negative = i64x2.lt_s(x, i64x2.splat(0));
  // k: 0 up to 0.5·ln 2, ±1 up to 1.5·ln 2, else trunc(x/ln 2 ± 0.5).
  const half = v128.bitselect(f64x2.splat(-0.5), f64x2.splat(0.5), negative);
  const quotient = f64x2.trunc(f64x2.add(f64x2.mul(f64x2.splat(INV_LN2), x), half)); // the C code's (int) cast
  const one = v128.bitselect(f64x2.splat(-1.0), f64x2.splat(1.0), negative);
  const beyondOne = i64x2.ge_s(high, i64x2.splat(THREE_HALVES_LN2_HIGH));
  const reduced = i64x2.gt_s(high, i64x2.splat(HALF_LN2_HIGH));
  const t = v128.and(v128.bitselect(quotient, one, beyondOne), reduced); // +0 where k = 0
  const hi = f64x2.sub(x, f64x2.mul(t, f64x2.splat(LN2_HI)));
  const lo = f64x2.mul(t, f64x2.splat(LN2_LO));
  const r = f64x2.sub(hi, lo);
  const rr = f64x2.mul(r, r);
  let poly = f64x2.add(f64x2.splat(P4), f64x2.mul(rr, f64x2.splat(P5)));
  poly = f64x2.add(f64x2.splat(P3), f64x2.mul(rr, poly));
  poly = f64x2.add(f64x2.splat(P2), f64x2.mul(rr, poly));
  poly = f64x2.add(f64x2.splat(P1), f64x2.mul(rr, poly));
  const c = f64x2.sub(r, f64x2.mul(rr, poly));
  const rc = f64x2.mul(r, c);
  const two = f64x2.splat(2.0);
  const unit = f64x2.splat(1.0);
  const atZero = f64x2.sub(unit, f64x2.sub(f64x2.div(rc, f64x2.sub(c, two)), r));
  const y = f64x2.sub(unit, f64x2.sub(f64x2.sub(lo, f64x2.div(rc, f64x2.sub(two, c))), hi));
  // 2^k: k sits in the low bits of t + 1.5·2^52, whose other bits the shift drops.
  const twoToK = i64x2.add(i64x2.shl(f64x2.add(t, f64x2.splat(6755399441055744.0)), 52), i64x2.splat(0x3ff << 52));
  return v128.bitselect(f64x2.mul(y, twoToK), atZero, reduced);
}

/**
 * Logistic sigmoid of `count` f32 values from `src` into `dst` (f32): 1/(1 + e) for x ≥ 0, e/(1 + e) below,
 * e = exp(−|x|) in doubles, rounded to f32 once — the JS Sigmoid kernel's expression.
 */
export function sigmoidF32(src: usize, dst: usize, count: i32): void {
  const unit = f64x2.splat(1.0);
  let i = 0;
  for (; i + 2 <= count; i += 2) {
    const at = (<usize>i) << 2;
    const x = f64x2.promote_low_f32x4(v128.load64_zero(src + at));
    const e = expTwo(f64x2.neg(f64x2.abs(x)));
    const whole = f64x2.add(unit, e);
    const positive = f64x2.ge(x, f64x2.splat(0));
    const sigmoid = v128.bitselect(f64x2.div(unit, whole), f64x2.div(e, whole), positive);
    v128.store64_lane(dst + at, f32x4.demote_f64x2_zero(sigmoid), 0);
  }
  for (; i < count; i++) {
    const at = (<usize>i) << 2;
    const x = <f64>load<f32>(src + at);
    const e = expScalar(-Math.abs(x));
    store<f32>(dst + at, <f32>(x >= 0 ? 1.0 / (1.0 + e) : e / (1.0 + e)));
  }
}

/** values[i] = exp(values[i] − shift) for `count` doubles (Softmax's exponentials, its line shifted by its maximum). */
export function expShifted(values: usize, count: i32, shift: f64): void {
  const by = f64x2.splat(shift);
  let i = 0;
  for (; i + 2 <= count; i += 2) {
    const at = values + ((<usize>i) << 3);
    v128.store(at, expTwo(f64x2.sub(v128.load(at), by)));
  }
  for (; i < count; i++) {
    const at = values + ((<usize>i) << 3);
    store<f64>(at, expScalar(load<f64>(at) - shift));
  }
}

/**
 * Softmax of `lines` contiguous lines of n f32 values from `src` into `dst`, as the JS kernel computes each
 * line in doubles: its maximum (a running `>` comparison), e_k = exp(x_k − max) summed in order k = 0, 1, …,
 * then e_k / sum, rounded to f32. `scratch` holds n doubles.
 */
export function softmaxLinesF32(src: usize, dst: usize, lines: i32, n: i32, scratch: usize): void {
  const lineBytes = (<usize>n) << 2;
  for (let line = 0; line < lines; line++, src += lineBytes, dst += lineBytes) {
    let max: f64 = -Infinity;
    for (let k = 0; k < n; k++) {
      const v = <f64>load<f32>(src + ((<usize>k) << 2));
      store<f64>(scratch + ((<usize>k) << 3), v);
      if (v > max) max = v;
    }
    expShifted(scratch, n, max);
    let sum: f64 = 0;
    for (let k = 0; k < n; k++) sum += load<f64>(scratch + ((<usize>k) << 3));
    const total = f64x2.splat(sum);
    let k = 0;
    for (; k + 2 <= n; k += 2) {
      const quotient = f64x2.div(v128.load(scratch + ((<usize>k) << 3)), total);
      v128.store64_lane(dst + ((<usize>k) << 2), f32x4.demote_f64x2_zero(quotient), 0);
    }
    if (k < n) store<f32>(dst + ((<usize>k) << 2), <f32>(load<f64>(scratch + ((<usize>k) << 3)) / sum));
  }
}
