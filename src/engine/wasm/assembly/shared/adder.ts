// lmul-adder products on fp32 bit patterns, shared by the GEMM and the depthwise kernels. Not an entry of
// the module (scripts/build-wasm.mjs compiles only the files directly in the assembly folder).

/**
 * Four lmul-adder products of one A operand with four B operands (bit patterns in `bv`). Pattern sums are
 * compared unsigned: every sum A + B − offset is carried as A + B − offset + `bias`, which the caller chose
 * to lie in [0, 2^32 − 1); carried sums from `overflowAt` on are past fp32's top binade, those below
 * `normalAt` below its normal range (thresholds clamped into [0, 2^32 − 1] by the caller, so that no
 * comparison wraps).
 */
// @ts-ignore: decorator
@inline
export function adderProducts(
  aBits: i32,
  aMagMinusOffset: i32,
  bv: v128,
  bias: i32,
  overflowAt: i32,
  normalAt: i32,
): v128 {
  const bMag = v128.and(bv, i32x4.splat(0x7fffffff));
  const biased = i32x4.add(bMag, i32x4.splat(aMagMinusOffset + bias));
  const overflow = i32x4.ge_u(biased, i32x4.splat(overflowAt));
  const underflow = i32x4.lt_u(biased, i32x4.splat(normalAt));
  const unbiased = i32x4.sub(biased, i32x4.splat(bias));
  // Below the normal range: the same pattern 64 binades up (clamped at +0), then × 2^-64 in f32.
  const lifted = i32x4.max_s(i32x4.add(unbiased, i32x4.splat(0x20000000)), i32x4.splat(0));
  const small = f32x4.mul(lifted, f32x4.splat(5.421010862427522e-20));
  let magnitude = v128.bitselect(i32x4.splat(0x7f800000), unbiased, overflow);
  magnitude = v128.bitselect(small, magnitude, underflow);
  const sign = v128.and(v128.xor(bv, i32x4.splat(aBits)), i32x4.splat(0x80000000));
  // A zero B operand gives a zero product.
  return v128.and(v128.or(magnitude, sign), i32x4.ne(bMag, i32x4.splat(0)));
}

/**
 * Four lmul-adder products whose pattern sums are known to stay in the normal range: adding the A term to
 * B's pattern keeps B's sign bit (no carry reaches it), the xor applies A's sign, zeros of B are masked.
 */
// @ts-ignore: decorator
@inline
export function normalProducts(aBits: i32, aMagMinusOffset: i32, bv: v128): v128 {
  const product = v128.xor(i32x4.add(bv, i32x4.splat(aMagMinusOffset)), i32x4.splat(aBits & 0x80000000));
  return v128.and(product, f32x4.ne(bv, f32x4.splat(0)));
}
