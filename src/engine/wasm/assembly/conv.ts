// Direct convolution kernels (same conventions as gemm.ts: f32 arrays in linear memory, byte offsets).

/**
 * Depthwise 2-D convolution (one input channel per group, `multiplier` output channels per input channel)
 * of `batch` images [channels, h, w] with weights [channels·multiplier, kh, kw], into [.., oh, ow]. Each
 * output sums w·x over its taps in tap order (row-major kernel index), taps on padding skipped, in f64 —
 * products of two f32 are exact there — and is rounded to f32 once after the sum is multiplied by
 * `unscale` (a power of two): the same value as the JS `depthwisePlane`. `acc` holds `ow` doubles.
 */
export function depthwise2d(
  x: usize,
  w: usize,
  out: usize,
  acc: usize,
  batch: i32,
  channels: i32,
  multiplier: i32,
  h: i32,
  wd: i32,
  oh: i32,
  ow: i32,
  kh: i32,
  kw: i32,
  strideH: i32,
  strideW: i32,
  dilationH: i32,
  dilationW: i32,
  padTop: i32,
  padLeft: i32,
  unscale: f64,
): void {
  const taps = kh * kw;
  const outChannels = channels * multiplier;
  for (let n = 0; n < batch; n++) {
    for (let m = 0; m < outChannels; m++) {
      const plane = x + ((<usize>(n * channels + m / multiplier) * <usize>(h * wd)) << 2);
      const weights = w + ((<usize>(m * taps)) << 2);
      let outRow = out + ((<usize>(n * outChannels + m) * <usize>(oh * ow)) << 2);
      for (let oy = 0; oy < oh; oy++, outRow += <usize>ow << 2) {
        memory.fill(acc, 0, <usize>ow << 3);
        for (let ky = 0; ky < kh; ky++) {
          const iy = oy * strideH - padTop + ky * dilationH;
          if (iy < 0 || iy >= h) continue;
          const row = plane + ((<usize>(iy * wd)) << 2);
          for (let kx = 0; kx < kw; kx++) {
            const weight = <f64>load<f32>(weights + ((<usize>(ky * kw + kx)) << 2));
            // Outputs ox whose tap reads inside the row: 0 <= ox·stride + shift < wd.
            const shift = kx * dilationW - padLeft;
            const first = shift >= 0 ? 0 : (-shift + strideW - 1) / strideW;
            const end = min(ow, shift >= wd ? 0 : (wd - 1 - shift) / strideW + 1);
            accumulateTap(acc, row, weight, first, end, strideW, shift);
          }
        }
        for (let ox = 0; ox < ow; ox++)
          store<f32>(outRow + ((<usize>ox) << 2), <f32>(load<f64>(acc + ((<usize>ox) << 3)) * unscale));
      }
    }
  }
}

/** acc[ox] += weight·row[ox·stride + shift] for ox in [first, end), f64, four outputs per step at stride 1. */
// @ts-ignore: decorator
@inline
function accumulateTap(acc: usize, row: usize, weight: f64, first: i32, end: i32, stride: i32, shift: i32): void {
  let ox = first;
  if (stride == 1) {
    const wv = f64x2.splat(weight);
    for (; ox + 4 <= end; ox += 4) {
      const v = v128.load(row + ((<usize>(ox + shift)) << 2));
      const at = acc + ((<usize>ox) << 3);
      v128.store(at, f64x2.add(v128.load(at), f64x2.mul(wv, f64x2.promote_low_f32x4(v))));
      const high = f64x2.promote_low_f32x4(v128.shuffle<u32>(v, v, 2, 3, 0, 1));
      v128.store(at, f64x2.add(v128.load(at, 16), f64x2.mul(wv, high)), 16);
    }
  }
  for (; ox < end; ox++) {
    const at = acc + ((<usize>ox) << 3);
    store<f64>(at, load<f64>(at) + weight * <f64>load<f32>(row + ((<usize>(ox * stride + shift)) << 2)));
  }
}
