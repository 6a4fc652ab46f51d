// Patch matrices of convolutions (im2col), shared by the f32 GEMMs (gemm.ts: elements as u32 bit patterns)
// and the product-table GEMMs (operands.ts: fp8 codes as u8), and the padded planes of the direct window
// kernels (conv.ts, pool.ts). Not an entry of the module.

/**
 * Copies an f32 image plane (h rows of wd) into `padded` (h rows `paddedRow` bytes apart), each row from
 * column `padLeft` on; the padding around it is left as the caller filled it.
 */
// @ts-ignore: decorator
@inline
export function copyIntoPadded(plane: usize, padded: usize, h: i32, wd: i32, paddedRow: usize, padLeft: i32): void {
  for (let iy = 0; iy < h; iy++)
    copyShort(padded + <usize>iy * paddedRow + (<usize>padLeft << 2), plane + ((<usize>(iy * wd)) << 2), <usize>wd << 2, 4);
}

/**
 * The patch matrix of columns [from, from + width) of `channels` image planes (`imageSize` elements of type T
 * each, from `x`): row c·taps + t holds, per position o, the image element at offsets[t·positions + o], or 0
 * where that offset is negative (padding: +0, code 0).
 */
// @ts-ignore: decorator
@inline
export function gatherPatches<T>(
  x: usize,
  offsets: usize,
  col: usize,
  channels: i32,
  taps: i32,
  positions: i32,
  imageSize: i32,
  from: i32,
  width: i32,
): void {
  const size = <usize>sizeof<T>();
  let out = col;
  for (let c = 0; c < channels; c++) {
    const plane = x + <usize>(c * imageSize) * size;
    for (let t = 0; t < taps; t++) {
      const tapOffsets = offsets + ((<usize>(t * positions + from)) << 2);
      for (let o = 0; o < width; o++, out += size) {
        const s = load<i32>(tapOffsets + ((<usize>o) << 2));
        store<T>(out, s >= 0 ? load<T>(plane + <usize>s * size) : <T>0);
      }
    }
  }
}

/**
 * `gatherPatches` from runs instead of one offset per element: `runs` holds `count` entries (tap, first
 * position, length, plane offset of the first position or −1 for padding) in which consecutive positions
 * read consecutive plane elements, so each run is one block move (or zero fill) per channel.
 */
// @ts-ignore: decorator
@inline
export function gatherPatchRuns<T>(
  x: usize,
  runs: usize,
  count: i32,
  col: usize,
  channels: i32,
  taps: i32,
  imageSize: i32,
  from: i32,
  width: i32,
): void {
  const size = <usize>sizeof<T>();
  const end = from + width;
  for (let c = 0; c < channels; c++) {
    const plane = x + <usize>(c * imageSize) * size;
    const rows = col + <usize>(c * taps * width) * size;
    for (let r = 0; r < count; r++) {
      const entry = runs + ((<usize>r) << 4);
      const start = load<i32>(entry, 4);
      const stop = start + load<i32>(entry, 8);
      const first = max(start, from);
      const last = min(stop, end);
      if (first >= last) continue;
      const dst = rows + <usize>(load<i32>(entry) * width + first - from) * size;
      const bytes = <usize>(last - first) * size;
      const source = load<i32>(entry, 12);
      if (source < 0) fillZeros(dst, bytes, size);
      else copyShort(dst, plane + <usize>(source + first - start) * size, bytes, size);
    }
  }
}

/**
 * memory.copy for the short runs of a patch matrix or plane rows (a few to a few hundred bytes, whole
 * elements of `size` bytes), inline: V8's bulk-memory call costs more than such a copy.
 */
// @ts-ignore: decorator
@inline
function copyShort(dst: usize, src: usize, bytes: usize, size: usize): void {
  if (size != 4) {
    memory.copy(dst, src, bytes);
    return;
  }
  let at: usize = 0;
  for (; at + 16 <= bytes; at += 16) v128.store(dst + at, v128.load(src + at));
  for (; at < bytes; at += 4) store<i32>(dst + at, load<i32>(src + at));
}

/** memory.fill with zeros, inline, for the same short runs. */
// @ts-ignore: decorator
@inline
function fillZeros(dst: usize, bytes: usize, size: usize): void {
  if (size != 4) {
    memory.fill(dst, 0, bytes);
    return;
  }
  let at: usize = 0;
  for (; at + 16 <= bytes; at += 16) v128.store(dst + at, i32x4.splat(0));
  for (; at < bytes; at += 4) store<i32>(dst + at, 0);
}
