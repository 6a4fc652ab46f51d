// f64 totals of f32 chunk sums (the f32 GEMM's summation: f32 over chunks of 64 terms, the chunks in f64),
// shared by the GEMM blocks (gemm.ts) and the formula's depthwise kernel (conv.ts). Not an entry of the module.

/** Adds four f32 lanes into four f64 totals at `at`. */
// @ts-ignore: decorator
@inline
export function flush(at: usize, v: v128): void {
  v128.store(at, f64x2.add(v128.load(at), f64x2.promote_low_f32x4(v)));
  v128.store(at, f64x2.add(v128.load(at, 16), f64x2.promote_low_f32x4(v128.shuffle<u32>(v, v, 2, 3, 0, 1))), 16);
}

/** Four f64 totals at `at`, rounded to f32. */
// @ts-ignore: decorator
@inline
export function narrow(at: usize): v128 {
  return v128.shuffle<u32>(f32x4.demote_f64x2_zero(v128.load(at)), f32x4.demote_f64x2_zero(v128.load(at, 16)), 0, 1, 4, 5);
}
