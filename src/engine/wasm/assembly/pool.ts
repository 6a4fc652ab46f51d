// Pooling kernels (same conventions as gemm.ts: f32 arrays in linear memory, byte offsets).
import { copyIntoPadded } from './shared/patches';

/** Four f32 lanes of a partial output group. */
const lanes = memory.data(16, 16);

/**
 * 2-D max pooling of `planes` image planes [h, wd] into [oh, ow] (geometry as `depthwise2d`'s), four
 * outputs per step. Each plane is copied into `padded` (h rows of `paddedWidth` floats, the row at column
 * padLeft, −inf around it), so a tap on left or right padding reads −inf, which never replaces a window's
 * running maximum; taps on rows outside the image are skipped. Each window keeps its first maximum in tap
 * order (`v > max`, so NaN never wins and +0 does not replace an earlier −0), as the JS `reduceWindows`;
 * a window of padding or NaN only is −inf. `paddedWidth` must cover column
 * (⌈ow/4⌉·4 − 1)·strideW + (kw − 1)·dilationW (one more at stride 2).
 */
export function maxPool2d(
  x: usize,
  out: usize,
  padded: usize,
  paddedWidth: i32,
  planes: i32,
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
): void {
  const paddedRow = <usize>paddedWidth << 2;
  const lowest = f32x4.splat(-Infinity);
  for (let at: usize = 0; at < <usize>h * paddedRow; at += 4) store<f32>(padded + at, -Infinity);
  for (let plane = 0; plane < planes; plane++) {
    const image = x + ((<usize>plane * <usize>(h * wd)) << 2);
    copyIntoPadded(image, padded, h, wd, paddedRow, padLeft);
    let outRow = out + ((<usize>plane * <usize>(oh * ow)) << 2);
    for (let oy = 0; oy < oh; oy++, outRow += <usize>ow << 2) {
      for (let ox = 0; ox < ow; ox += 4) {
        let max = lowest;
        for (let ky = 0; ky < kh; ky++) {
          const iy = oy * strideH - padTop + ky * dilationH;
          if (iy < 0 || iy >= h) continue;
          const row = padded + <usize>iy * paddedRow + ((<usize>(ox * strideW)) << 2);
          for (let kx = 0; kx < kw; kx++) {
            const at = row + ((<usize>(kx * dilationW)) << 2);
            let v: v128;
            if (strideW == 1) v = v128.load(at);
            else if (strideW == 2) v = v128.shuffle<u32>(v128.load(at), v128.load(at, 16), 0, 2, 4, 6);
            else {
              const step = <usize>strideW << 2;
              v = v128.load32_zero(at);
              v = v128.load32_lane(at + step, v, 1);
              v = v128.load32_lane(at + 2 * step, v, 2);
              v = v128.load32_lane(at + 3 * step, v, 3);
            }
            max = v128.bitselect(v, max, f32x4.gt(v, max));
          }
        }
        const at = outRow + ((<usize>ox) << 2);
        if (ox + 4 <= ow) v128.store(at, max);
        else {
          v128.store(lanes, max);
          memory.copy(at, lanes, <usize>(ow - ox) << 2);
        }
      }
    }
  }
}

/**
 * The mean of each of `planes` planes of `size` f32 values from `x`, as doubles at `out`: as the JS kernel
 * sums them — four running sums in doubles (s0 over elements 0, 4, 8…, s1 over 1, 5, 9…, and so on; the
 * elements past the last four to s0), then (s0 + s1 + (s2 + s3)) / size — here two to a vector.
 */
export function planeMeans(x: usize, out: usize, planes: i32, size: i32): void {
  const quads = size & ~3;
  for (let plane = 0; plane < planes; plane++) {
    const start = x + ((<usize>plane * <usize>size) << 2);
    let low = f64x2.splat(0), high = f64x2.splat(0);
    for (let i = 0; i < quads; i += 4) {
      const v = v128.load(start + ((<usize>i) << 2));
      low = f64x2.add(low, f64x2.promote_low_f32x4(v));
      high = f64x2.add(high, f64x2.promote_low_f32x4(v128.shuffle<u32>(v, v, 2, 3, 0, 1)));
    }
    let s0 = f64x2.extract_lane(low, 0);
    for (let i = quads; i < size; i++) s0 += <f64>load<f32>(start + ((<usize>i) << 2));
    const sum = s0 + f64x2.extract_lane(low, 1) + (f64x2.extract_lane(high, 0) + f64x2.extract_lane(high, 1));
    store<f64>(out + ((<usize>plane) << 3), sum / <f64>size);
  }
}

/**
 * Nearest upsampling by integer factors of `planes` planes [h, w] of f32 from `x` into [h·rh, w·rw] at
 * `out`: each element repeated rw times along its row, each row rh times.
 */
export function upsampleNearest(x: usize, out: usize, planes: i32, h: i32, w: i32, rh: i32, rw: i32): void {
  const rowBytes = (<usize>(w * rw)) << 2;
  let src = x;
  let dst = out;
  for (let row = 0; row < planes * h; row++, src += (<usize>w) << 2) {
    let i = 0;
    if (rw == 2) {
      for (; i + 4 <= w; i += 4) {
        const v = v128.load(src + ((<usize>i) << 2));
        const at = dst + ((<usize>i) << 3);
        v128.store(at, v128.shuffle<u32>(v, v, 0, 0, 1, 1));
        v128.store(at, v128.shuffle<u32>(v, v, 2, 2, 3, 3), 16);
      }
    }
    for (; i < w; i++) {
      const value = load<u32>(src + ((<usize>i) << 2));
      for (let r = 0; r < rw; r++) store<u32>(dst + ((<usize>(i * rw + r)) << 2), value);
    }
    const first = dst;
    dst += rowBytes;
    for (let r = 1; r < rh; r++, dst += rowBytes) memory.copy(dst, first, rowBytes);
  }
}
