// Operand statistics (same conventions as gemm.ts: f32 arrays in linear memory, byte offsets).

/**
 * The range of nonzero magnitude bit patterns of `len` f32 values: out[0] the lowest (0x7f800000 when every
 * value is ±0), out[1] the highest (0 when every value is ±0; ≥ 0x7f800000 when any is inf or NaN).
 */
export function magnitudeRange(src: usize, len: i32, out: usize): void {
  const sign = i32x4.splat(0x7fffffff);
  const zero = i32x4.splat(0);
  const none = i32x4.splat(-1); // 0xffffffff: above every magnitude in unsigned order
  let low = none;
  let high = zero;
  let i = 0;
  for (; i + 4 <= len; i += 4) {
    const magnitude = v128.and(v128.load(src + ((<usize>i) << 2)), sign);
    low = i32x4.min_u(low, v128.bitselect(none, magnitude, i32x4.eq(magnitude, zero)));
    high = i32x4.max_u(high, magnitude);
  }
  let lowest: u32 = 0x7f800000;
  let highest: u32 = 0;
  for (let lane = 0; lane < 4; lane++) {
    lowest = min(lowest, <u32>i32x4.extract_lane(low, 0));
    highest = max(highest, <u32>i32x4.extract_lane(high, 0));
    low = v128.shuffle<u32>(low, low, 1, 2, 3, 0);
    high = v128.shuffle<u32>(high, high, 1, 2, 3, 0);
  }
  for (; i < len; i++) {
    const magnitude = load<u32>(src + ((<usize>i) << 2)) & 0x7fffffff;
    if (magnitude != 0) lowest = min(lowest, magnitude);
    highest = max(highest, magnitude);
  }
  store<u32>(out, lowest);
  store<u32>(out, highest, 4);
}
