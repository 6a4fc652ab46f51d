// Integer product-table sums, shared by the table GEMM and the table depthwise kernels. Not an entry of the
// module (scripts/build-wasm.mjs compiles only the files directly in the assembly folder).

/** The i32 table entries at four byte offsets of the table row `row`, one load into each lane. */
// @ts-ignore: decorator
@inline
export function gather4(row: usize, o0: usize, o1: usize, o2: usize, o3: usize): v128 {
  let v = v128.load32_zero(row + o0);
  v = v128.load32_lane(row + o1, v, 1);
  v = v128.load32_lane(row + o2, v, 2);
  return v128.load32_lane(row + o3, v, 3);
}

/** The f64 table entries at two byte offsets of the table row `row`. */
// @ts-ignore: decorator
@inline
export function gather2(row: usize, o0: usize, o1: usize): v128 {
  return v128.load64_lane(row + o1, v128.load64_zero(row + o0), 1);
}

/** Stores the first `count` (1–4) of four exact i32 sums times `scale` (f64x2 of a power of two). */
// @ts-ignore: decorator
@inline
export function storeSums(at: usize, sums: v128, scale: v128, count: i32): void {
  const high = v128.shuffle<u32>(sums, sums, 2, 3, 0, 1);
  storeScaled(at, f64x2.convert_low_i32x4_s(sums), f64x2.convert_low_i32x4_s(high), scale, count);
}

/**
 * Stores the first `count` (1–4) of four exact sums (f64x2 `low`, `high`) times `scale`: the product is
 * exact in f64, so the demotion to f32 is the one rounding.
 */
// @ts-ignore: decorator
@inline
export function storeScaled(at: usize, low: v128, high: v128, scale: v128, count: i32): void {
  const values = v128.shuffle<u32>(
    f32x4.demote_f64x2_zero(f64x2.mul(low, scale)),
    f32x4.demote_f64x2_zero(f64x2.mul(high, scale)),
    0,
    1,
    4,
    5,
  );
  if (count == 4) {
    v128.store(at, values);
    return;
  }
  store<f32>(at, f32x4.extract_lane(values, 0));
  if (count > 1) store<f32>(at, f32x4.extract_lane(values, 1), 4);
  if (count > 2) store<f32>(at, f32x4.extract_lane(values, 2), 8);
}
