// AssemblyScript source of the engine's WebAssembly kernels (compiled by scripts/build-wasm.mjs with SIMD).
// Matrices are row-major f32 in linear memory; pointers are byte offsets.
import { adderProducts, normalProducts } from './shared/adder';
import { gatherPatchRuns, gatherPatches } from './shared/patches';
import { flush, narrow } from './shared/totals';

/** Length of the k-chunks summed in f32 registers before being added into f64 totals. */
const CHUNK = 64;
/** f64 totals of one 4×8 register block (32 doubles). */
const totals = memory.data(32 * 8, 16);
/**
 * Eight columns of a GEMM operand for every k, contiguous (k × 32 bytes): the block kernels then stream one
 * cache line per two k steps instead of striding through whole rows of B. Operands with more k rows than fit
 * are read in place.
 */
const PANEL_BYTES: usize = 256 * 1024;
const panel = memory.data(PANEL_BYTES, 16);

/**
 * C[m×n] = A[m×k] · B[k×n], each sum rounded to f32 then times `scale` (a power of two, normal in f32: one
 * f32 multiplication, skipped at 1) and plus bias[i] on row i when `bias` is not 0 (in f32): f32 SIMD
 * products summed in f32 over chunks of 64 terms, and the chunk sums added in f64. Error grows with the
 * chunk length, not with k, so even the 4,000-term dot products of a 3×3×480 convolution stay near one fp32
 * rounding, like an FMA-based runtime's. Every element's sum is the same whatever block computes it, so the
 * blocking below never shows in the bits.
 */
export function gemm(a: usize, b: usize, c: usize, m: i32, n: i32, k: i32, scale: f32, bias: usize): void {
  const rowA = <usize>k << 2;
  const rowB = <usize>n << 2;
  const packs = m >= 8 && (<usize>k << 5) <= PANEL_BYTES;
  let j = 0;
  if (packs && (<usize>k << 6) <= PANEL_BYTES)
    for (; j + 16 <= n; j += 16) {
      packColumns16(b + (<usize>j << 2), rowB, k);
      rowsOfSixteen(a, rowA, c + (<usize>j << 2), rowB, m, k, scale, bias, 16);
    }
  for (; j + 8 <= n; j += 8) {
    let strip = b + (<usize>j << 2);
    let stripRow = rowB;
    if (packs) {
      packColumns(strip, rowB, k);
      strip = panel;
      stripRow = 32;
    }
    let i = 0;
    for (; i + 4 <= m; i += 4) {
      block4x8(a + <usize>i * rowA, rowA, 4, strip, stripRow, k);
      for (let r = 0; r < 4; r++) storeRow8(c + <usize>(i + r) * rowB + (<usize>j << 2), totals + <usize>r * 64, scale, biasOf(bias, i + r));
    }
    for (; i < m; i++) {
      block1x8(a + <usize>i * rowA, 4, strip, stripRow, k);
      storeRow8(c + <usize>i * rowB + (<usize>j << 2), totals, scale, biasOf(bias, i));
    }
  }
  if (j == n) return;
  // Fewer than 8 columns left: the vectors run along 8 rows of A instead (C's transpose), then the rows left.
  let i = 0;
  if (packs)
    for (; i + 8 <= m; i += 8)
      narrowColumns(a + <usize>i * rowA, b + (<usize>j << 2), c + <usize>i * rowB + (<usize>j << 2), n - j, rowB, k, scale, bias ? bias + (<usize>i << 2) : 0);
  for (; j + 4 <= n; j += 4) {
    let r = i;
    for (; r + 4 <= m; r += 4) {
      block4x4(a + <usize>r * rowA, rowA, b + (<usize>j << 2), rowB, k);
      for (let q = 0; q < 4; q++) storeRow4(c + <usize>(r + q) * rowB + (<usize>j << 2), totals + <usize>q * 32, scale, biasOf(bias, r + q));
    }
    for (; r < m; r++) {
      block4x4(a + <usize>r * rowA, 0, b + (<usize>j << 2), rowB, k);
      storeRow4(c + <usize>r * rowB + (<usize>j << 2), totals, scale, biasOf(bias, r));
    }
  }
  // Remaining columns: the same sums as a SIMD lane computes.
  for (; j < n; j++) {
    for (let r = i; r < m; r++) {
      const rowStart = a + <usize>r * rowA;
      let total: f64 = 0;
      for (let start = 0; start < k; start += CHUNK) {
        const end = min(k, start + CHUNK);
        let sum: f32 = 0;
        for (let p = start; p < end; p++) sum += load<f32>(rowStart + (<usize>p << 2)) * load<f32>(b + <usize>p * rowB + (<usize>j << 2));
        total += <f64>sum;
      }
      store<f32>(c + <usize>r * rowB + (<usize>j << 2), withBias(scaled(<f32>total, scale), bias, r));
    }
  }
}

/**
 * `gemm` of A (m × k) by the patch matrix of `channels` f32 image planes (`imageSize` values each, from `x`)
 * for positions [from, from + n), with k = channels·taps and k·32 ≤ PANEL_BYTES, without building the patch
 * matrix: each panel of eight columns is gathered straight from the planes (row c·taps + t, column j: the
 * plane element at offsets[t·positions + from + j], +0 where that offset is negative, as `im2col` puts it).
 * A tap whose eight positions read eight consecutive plane elements copies two vectors per channel. The
 * last panel of fewer than eight columns is padded with zeros and only its columns are stored: every
 * element's sum is the same whatever block computes it, so C is bit for bit `gemm` of A and `im2col`.
 */
export function gemmPatches(
  a: usize,
  x: usize,
  offsets: usize,
  c: usize,
  m: i32,
  n: i32,
  channels: i32,
  taps: i32,
  positions: i32,
  imageSize: i32,
  from: i32,
  scale: f32,
  bias: usize,
): void {
  const k = channels * taps;
  const rowA = <usize>k << 2;
  const rowC = <usize>n << 2;
  const tapOffsets = offsets + (<usize>from << 2);
  let j = 0;
  // Panels of sixteen columns while more than eight are left, then of eight.
  if ((<usize>k << 6) <= PANEL_BYTES)
    for (; n - j > 8; j += 16) {
      const columns = min(16, n - j);
      packPatchColumns(x, tapOffsets + (<usize>j << 2), channels, taps, positions, imageSize, columns, 16);
      rowsOfSixteen(a, rowA, c + (<usize>j << 2), rowC, m, k, scale, bias, columns);
    }
  for (; j < n; j += 8) {
    const columns = min(8, n - j);
    packPatchColumns(x, tapOffsets + (<usize>j << 2), channels, taps, positions, imageSize, columns, 8);
    const cColumn = c + (<usize>j << 2);
    let i = 0;
    for (; i + 4 <= m; i += 4) {
      block4x8(a + <usize>i * rowA, rowA, 4, panel, 32, k);
      for (let r = 0; r < 4; r++)
        storeRowColumns(cColumn + <usize>(i + r) * rowC, totals + <usize>r * 64, scale, biasOf(bias, i + r), columns);
    }
    for (; i < m; i++) {
      block1x8(a + <usize>i * rowA, 4, panel, 32, k);
      storeRowColumns(cColumn + <usize>i * rowC, totals, scale, biasOf(bias, i), columns);
    }
  }
}

/** Eight f32 lanes of a partial row. */
const rowLanes = memory.data(32, 16);

/** `storeRow8` of the first `columns` (1…8) totals. */
// @ts-ignore: decorator
@inline
function storeRowColumns(c: usize, at: usize, scale: f32, bias: f32, columns: i32): void {
  if (columns == 8) {
    storeRow8(c, at, scale, bias);
    return;
  }
  storeRow8(rowLanes, at, scale, bias);
  for (let q = 0; q < columns; q++) store<f32>(c + (<usize>q << 2), load<f32>(rowLanes + (<usize>q << 2)));
}

/**
 * C's `columns` (1…16) columns at `c` (rows `rowC` bytes apart) of all m rows of A, from a panel of sixteen
 * columns: two rows at a time (a last single row computed as a pair with itself, stored once). Two rows ×
 * sixteen columns take two splats per step where 4 × 8 takes four: fewer instructions for the same sums.
 */
// @ts-ignore: decorator
@inline
function rowsOfSixteen(a: usize, rowA: usize, c: usize, rowC: usize, m: i32, k: i32, scale: f32, bias: usize, columns: i32): void {
  for (let i = 0; i < m; i += 2) {
    const pair = i + 2 <= m;
    block2x16(a + <usize>i * rowA, pair ? rowA : 0, k);
    storeRow16(c + <usize>i * rowC, totals, scale, biasOf(bias, i), columns);
    if (pair) storeRow16(c + <usize>(i + 1) * rowC, totals + 128, scale, biasOf(bias, i + 1), columns);
  }
}

/** `storeRowColumns` of sixteen totals at `at` (1…16 columns). */
// @ts-ignore: decorator
@inline
function storeRow16(c: usize, at: usize, scale: f32, bias: f32, columns: i32): void {
  storeRowColumns(c, at, scale, bias, min(8, columns));
  if (columns > 8) storeRowColumns(c + 32, at + 64, scale, bias, columns - 8);
}

/**
 * `panel` (rows of `width` = 8 or 16 columns) = the patch matrix's `columns` columns whose offsets start at
 * `tapOffsets` (row t's at tapOffsets + t·positions·4), zeros in the lanes past them.
 */
// @ts-ignore: decorator
@inline
function packPatchColumns(
  x: usize,
  tapOffsets: usize,
  channels: i32,
  taps: i32,
  positions: i32,
  imageSize: i32,
  columns: i32,
  width: i32,
): void {
  const planeBytes = <usize>imageSize << 2;
  const panelRow = <usize>width << 2;
  for (let t = 0; t < taps; t++, tapOffsets += <usize>positions << 2)
    for (let h = 0; h < width; h += 8) {
      const dst = panel + <usize>t * panelRow + (<usize>h << 2);
      packEight(x, tapOffsets + (<usize>h << 2), channels, planeBytes, dst, <usize>taps * panelRow, columns - h);
    }
}

/**
 * Eight lanes of one tap's panel rows, one per channel (`channelRows` bytes apart from `dst`): the plane
 * elements at the `count` offsets from `offsets` (+0 for negative ones and lanes past `count`, which may be
 * ≤ 0 or more than 8) — two vectors per channel where the eight offsets are consecutive.
 */
// @ts-ignore: decorator
@inline
function packEight(x: usize, offsets: usize, channels: i32, planeBytes: usize, dst: usize, channelRows: usize, count: i32): void {
  if (count >= 8) {
    const first = load<i32>(offsets);
    if (first >= 0 && consecutive(offsets, first)) {
      let src = x + (<usize>first << 2);
      for (let ch = 0; ch < channels; ch++, src += planeBytes, dst += channelRows) {
        v128.store(dst, v128.load(src));
        v128.store(dst, v128.load(src, 16), 16);
      }
      return;
    }
  }
  let plane = x;
  for (let ch = 0; ch < channels; ch++, plane += planeBytes, dst += channelRows)
    for (let q = 0; q < 8; q++) {
      const offset = q < count ? load<i32>(offsets + (<usize>q << 2)) : -1;
      store<f32>(dst + (<usize>q << 2), offset >= 0 ? load<f32>(plane + (<usize>offset << 2)) : 0);
    }
}

/** Whether the eight offsets at `at` are first, first + 1, …, first + 7. */
// @ts-ignore: decorator
@inline
function consecutive(at: usize, first: i32): bool {
  const base = i32x4.splat(first);
  const low = i32x4.eq(v128.load(at), i32x4.add(base, i32x4(0, 1, 2, 3)));
  const high = i32x4.eq(v128.load(at, 16), i32x4.add(base, i32x4(4, 5, 6, 7)));
  return v128.all_true<i32>(v128.and(low, high));
}

/**
 * C's rows [0, 8) in `columns` (< 8) columns of B and C (rows `rowB` bytes apart): A's 8 rows packed as the
 * panel, B's columns splat — the block kernels with the operands' roles swapped (the products and their
 * order per element are the same), stored transposed.
 */
// @ts-ignore: decorator
@inline
function narrowColumns(a: usize, b: usize, c: usize, columns: i32, rowB: usize, k: i32, scale: f32, bias: usize): void {
  packRows(a, k);
  let j = 0;
  for (; j + 4 <= columns; j += 4) {
    block4x8(b + (<usize>j << 2), 4, rowB, panel, 32, k);
    for (let r = 0; r < 4; r++) storeColumn8(c + (<usize>(j + r) << 2), rowB, totals + <usize>r * 64, scale, bias);
  }
  for (; j < columns; j++) {
    block1x8(b + (<usize>j << 2), rowB, panel, 32, k);
    storeColumn8(c + (<usize>j << 2), rowB, totals, scale, bias);
  }
}

/** `panel` = the transpose of A's 8 rows of k (panel[p·8 + q] = A[q][p]), four columns at a time in SIMD. */
// @ts-ignore: decorator
@inline
function packRows(a: usize, k: i32): void {
  const rowA = <usize>k << 2;
  let p = 0;
  for (; p + 4 <= k; p += 4) {
    const at = a + (<usize>p << 2);
    const out = panel + (<usize>p << 5);
    transpose4(v128.load(at), v128.load(at + rowA), v128.load(at + 2 * rowA), v128.load(at + 3 * rowA), out);
    const lower = at + 4 * rowA;
    transpose4(v128.load(lower), v128.load(lower + rowA), v128.load(lower + 2 * rowA), v128.load(lower + 3 * rowA), out + 16);
  }
  for (; p < k; p++)
    for (let q = 0; q < 8; q++) store<f32>(panel + (<usize>p << 5) + (<usize>q << 2), load<f32>(a + <usize>q * rowA + (<usize>p << 2)));
}

/** Rows r0…r3 of four values, stored transposed: value t of every row at out + t·32 (a panel's row p + t). */
// @ts-ignore: decorator
@inline
function transpose4(r0: v128, r1: v128, r2: v128, r3: v128, out: usize): void {
  const low01 = v128.shuffle<u32>(r0, r1, 0, 4, 1, 5);
  const low23 = v128.shuffle<u32>(r2, r3, 0, 4, 1, 5);
  const high01 = v128.shuffle<u32>(r0, r1, 2, 6, 3, 7);
  const high23 = v128.shuffle<u32>(r2, r3, 2, 6, 3, 7);
  v128.store(out, v128.shuffle<u32>(low01, low23, 0, 1, 4, 5));
  v128.store(out, v128.shuffle<u32>(low01, low23, 2, 3, 6, 7), 32);
  v128.store(out, v128.shuffle<u32>(high01, high23, 0, 1, 4, 5), 64);
  v128.store(out, v128.shuffle<u32>(high01, high23, 2, 3, 6, 7), 96);
}

/** Copies columns [0, 8) of k rows (`rowBytes` apart, from `strip`) into `panel`. */
// @ts-ignore: decorator
@inline
function packColumns(strip: usize, rowBytes: usize, k: i32): void {
  for (let p = 0; p < k; p++) {
    const src = strip + <usize>p * rowBytes;
    const dst = panel + (<usize>p << 5);
    v128.store(dst, v128.load(src));
    v128.store(dst, v128.load(src, 16), 16);
  }
}

// @ts-ignore: decorator
@inline
function biasOf(bias: usize, row: i32): f32 {
  // −0 is the identity of IEEE addition (+0 would turn a −0, such as an underflowed scaled sum, into +0).
  return bias ? load<f32>(bias + (<usize>row << 2)) : -0.0;
}

/** A rounded sum times the GEMM's scale (the unscaling of fp8 operands; 1: none). */
// @ts-ignore: decorator
@inline
function scaled(value: f32, scale: f32): f32 {
  return scale == 1 ? value : value * scale;
}

/** A rounded sum plus its row's bias (none when `bias` is 0: adding +0 would turn a −0 into +0). */
// @ts-ignore: decorator
@inline
function withBias(value: f32, bias: usize, row: i32): f32 {
  return bias ? value + load<f32>(bias + (<usize>row << 2)) : value;
}

/** Eight totals rounded to f32, times `scale`, plus `bias` (−0 when there is none), stored at `c`. */
// @ts-ignore: decorator
@inline
function storeRow8(c: usize, at: usize, scale: f32, bias: f32): void {
  storeRow4(c, at, scale, bias);
  storeRow4(c + 16, at + 32, scale, bias);
}

// @ts-ignore: decorator
@inline
function storeRow4(c: usize, at: usize, scale: f32, bias: f32): void {
  let values = narrow(at);
  if (scale != 1) values = f32x4.mul(values, f32x4.splat(scale));
  v128.store(c, f32x4.add(values, f32x4.splat(bias)));
}

/** Eight totals (rows q = 0…7 of one column of C) as `storeRow4` stores them (row q's bias), `rowBytes` apart. */
// @ts-ignore: decorator
@inline
function storeColumn8(c: usize, rowBytes: usize, at: usize, scale: f32, bias: usize): void {
  for (let q = 0; q < 8; q++)
    store<f32>(c + <usize>q * rowBytes, withBias(scaled(<f32>load<f64>(at + (<usize>q << 3)), scale), bias, q));
}

/**
 * Totals of 4 rows × 8 columns: row r's operand element p at s + r·rowStep + p·sStep (splat), the 8 columns'
 * at v + p·vStep (two vectors). Row r's totals go to totals[8r, 8r + 8).
 */
// @ts-ignore: decorator
@inline
function block4x8(s: usize, rowStep: usize, sStep: usize, v: usize, vStep: usize, k: i32): void {
  memory.fill(totals, 0, 32 * 8);
  for (let start = 0; start < k; start += CHUNK) {
    const end = min(k, start + CHUNK);
    let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
    let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
    let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
    let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
    // Pointers stepped rather than recomputed from p: V8 keeps no multiplications in the loop.
    let vp = v + <usize>start * vStep;
    let sp = s + <usize>start * sStep;
    for (let p = start; p < end; p++, vp += vStep, sp += sStep) {
      const b0 = v128.load(vp);
      const b1 = v128.load(vp, 16);
      const a0 = v128.load32_splat(sp);
      const a1 = v128.load32_splat(sp + rowStep);
      const a2 = v128.load32_splat(sp + 2 * rowStep);
      const a3 = v128.load32_splat(sp + 3 * rowStep);
      c00 = f32x4.add(c00, f32x4.mul(a0, b0));
      c01 = f32x4.add(c01, f32x4.mul(a0, b1));
      c10 = f32x4.add(c10, f32x4.mul(a1, b0));
      c11 = f32x4.add(c11, f32x4.mul(a1, b1));
      c20 = f32x4.add(c20, f32x4.mul(a2, b0));
      c21 = f32x4.add(c21, f32x4.mul(a2, b1));
      c30 = f32x4.add(c30, f32x4.mul(a3, b0));
      c31 = f32x4.add(c31, f32x4.mul(a3, b1));
    }
    flush(totals, c00);
    flush(totals + 32, c01);
    flush(totals + 64, c10);
    flush(totals + 96, c11);
    flush(totals + 128, c20);
    flush(totals + 160, c21);
    flush(totals + 192, c30);
    flush(totals + 224, c31);
  }
}

/** `packColumns` of sixteen columns: panel rows of 64 bytes. */
// @ts-ignore: decorator
@inline
function packColumns16(strip: usize, rowBytes: usize, k: i32): void {
  for (let p = 0; p < k; p++) {
    const src = strip + <usize>p * rowBytes;
    const dst = panel + (<usize>p << 6);
    v128.store(dst, v128.load(src));
    v128.store(dst, v128.load(src, 16), 16);
    v128.store(dst, v128.load(src, 32), 32);
    v128.store(dst, v128.load(src, 48), 48);
  }
}

/**
 * Totals of 2 rows of A (`rowA` bytes apart; 0 repeats row 0) × the 16 columns of `panel`: row r's at
 * totals[16r, 16r + 16). Eight sums, four panel vectors and two splats fill V8's fifteen SIMD registers.
 */
// @ts-ignore: decorator
@inline
function block2x16(a: usize, rowA: usize, k: i32): void {
  memory.fill(totals, 0, 32 * 8);
  for (let start = 0; start < k; start += CHUNK) {
    const end = min(k, start + CHUNK);
    let c00 = f32x4.splat(0), c01 = f32x4.splat(0), c02 = f32x4.splat(0), c03 = f32x4.splat(0);
    let c10 = f32x4.splat(0), c11 = f32x4.splat(0), c12 = f32x4.splat(0), c13 = f32x4.splat(0);
    let vp = panel + (<usize>start << 6);
    let ap = a + (<usize>start << 2);
    for (let p = start; p < end; p++, vp += 64, ap += 4) {
      const b0 = v128.load(vp);
      const b1 = v128.load(vp, 16);
      const b2 = v128.load(vp, 32);
      const b3 = v128.load(vp, 48);
      const a0 = v128.load32_splat(ap);
      const a1 = v128.load32_splat(ap + rowA);
      c00 = f32x4.add(c00, f32x4.mul(a0, b0));
      c01 = f32x4.add(c01, f32x4.mul(a0, b1));
      c02 = f32x4.add(c02, f32x4.mul(a0, b2));
      c03 = f32x4.add(c03, f32x4.mul(a0, b3));
      c10 = f32x4.add(c10, f32x4.mul(a1, b0));
      c11 = f32x4.add(c11, f32x4.mul(a1, b1));
      c12 = f32x4.add(c12, f32x4.mul(a1, b2));
      c13 = f32x4.add(c13, f32x4.mul(a1, b3));
    }
    flush(totals, c00);
    flush(totals + 32, c01);
    flush(totals + 64, c02);
    flush(totals + 96, c03);
    flush(totals + 128, c10);
    flush(totals + 160, c11);
    flush(totals + 192, c12);
    flush(totals + 224, c13);
  }
}

/** `block4x8` for one row: totals[0, 8). */
// @ts-ignore: decorator
@inline
function block1x8(s: usize, sStep: usize, v: usize, vStep: usize, k: i32): void {
  memory.fill(totals, 0, 8 * 8);
  for (let start = 0; start < k; start += CHUNK) {
    const end = min(k, start + CHUNK);
    let c0 = f32x4.splat(0), c1 = f32x4.splat(0);
    let vp = v + <usize>start * vStep;
    let sp = s + <usize>start * sStep;
    for (let p = start; p < end; p++, vp += vStep, sp += sStep) {
      const a = v128.load32_splat(sp);
      c0 = f32x4.add(c0, f32x4.mul(a, v128.load(vp)));
      c1 = f32x4.add(c1, f32x4.mul(a, v128.load(vp, 16)));
    }
    flush(totals, c0);
    flush(totals + 32, c1);
  }
}

/** 4 rows (`rowA` apart; 0 repeats row 0, whose copies are not stored) × 4 columns: totals[4r, 4r + 4). */
// @ts-ignore: decorator
@inline
function block4x4(a: usize, rowA: usize, b: usize, rowB: usize, k: i32): void {
  memory.fill(totals, 0, 16 * 8);
  for (let start = 0; start < k; start += CHUNK) {
    const end = min(k, start + CHUNK);
    let c0 = f32x4.splat(0), c1 = f32x4.splat(0), c2 = f32x4.splat(0), c3 = f32x4.splat(0);
    let bp = b + <usize>start * rowB;
    let ap = a + (<usize>start << 2);
    for (let p = start; p < end; p++, bp += rowB, ap += 4) {
      const b0 = v128.load(bp);
      c0 = f32x4.add(c0, f32x4.mul(v128.load32_splat(ap), b0));
      c1 = f32x4.add(c1, f32x4.mul(v128.load32_splat(ap + rowA), b0));
      c2 = f32x4.add(c2, f32x4.mul(v128.load32_splat(ap + 2 * rowA), b0));
      c3 = f32x4.add(c3, f32x4.mul(v128.load32_splat(ap + 3 * rowA), b0));
    }
    flush(totals, c0);
    flush(totals + 32, c1);
    flush(totals + 64, c2);
    flush(totals + 96, c3);
  }
}

/**
 * lmul-adder GEMM on fp32 bit patterns of normal or zero operands (the caller scales subnormal tensors into
 * the normal range and checks `bias`): every product is ((A & 0x7fffffff) + (B & 0x7fffffff) − offset) | sign,
 * one integer add, with `offset` = 0x3f800000 − 2^(23−l) plus the callers' scalings (the exponent bias, less
 * the L-Mul offset 2^−l at mantissa scale). The sum is carried with `bias` added and compared with
 * `overflowAt` and `normalAt`, unsigned (see `adderProducts`). A sum past the top binade
 * is ±inf, as fp32 rounding of that product gives; a sum below the normal range is rebuilt 64 binades
 * higher and scaled down by 2^−64 in f32, which rounds it to the subnormal (or zero) that fp32 rounding of
 * the exact product gives. Row i's finished sums then add rowBias[i] in f32 (`rowBias` 0: none).
 */
export function gemmLmulAdder(
  a: usize,
  b: usize,
  c: usize,
  m: i32,
  n: i32,
  k: i32,
  offset: i32,
  bias: i32,
  overflowAt: i32,
  normalAt: i32,
  lowB: i32,
  highB: i32,
  terms: usize,
  rowBias: usize,
): void {
  const rowA = <usize>k << 2;
  const rowB = <usize>n << 2;
  // 4×8 register blocks over 8-column panels of B (the last one zero-filled past column n: zero B operands
  // make +0 products), four rows of A at a time as packed terms.
  const groups = (<usize>k << 5) <= PANEL_BYTES ? m >> 2 : 0;
  if (groups > 0) {
    const flags = terms + <usize>groups * (<usize>k << 4);
    packAdderTerms(a, groups, k, offset, lowB, highB, terms, flags);
    for (let j = 0; j < n; j += 8) {
      const columns = min(8, n - j);
      if (columns == 8) packColumns(b + (<usize>j << 2), rowB, k);
      else packPartialColumns(b + (<usize>j << 2), rowB, k, columns);
      for (let g = 0; g < groups; g++) {
        const row = <usize>(g << 2);
        const at = row * rowA;
        const groupTerms = terms + <usize>g * (<usize>k << 4);
        const cBlock = c + row * rowB + (<usize>j << 2);
        const biases = rowBias + (row << 2);
        adderBlock4x8(a + at, rowA, groupTerms, flags + <usize>g * k, k, cBlock, rowB, columns, offset, bias, overflowAt, normalAt, lowB, highB, rowBias ? biases : 0);
      }
    }
  }
  // The rows below the last group of four, row by row.
  adderRows(a, b, c, groups << 2, m, n, k, offset, bias, overflowAt, normalAt, lowB, highB);
  if (rowBias)
    for (let i = groups << 2; i < m; i++) {
      const cRow = c + <usize>i * rowB;
      const addend = load<f32>(rowBias + (<usize>i << 2));
      for (let at: usize = 0; at < rowB; at += 4) store<f32>(cRow + at, load<f32>(cRow + at) + addend);
    }
}

/** `packColumns` of `columns` < 8 columns, the panel's other columns +0. */
// @ts-ignore: decorator
@inline
function packPartialColumns(strip: usize, rowBytes: usize, k: i32, columns: i32): void {
  memory.fill(panel, 0, <usize>k << 5);
  for (let p = 0; p < k; p++) memory.copy(panel + (<usize>p << 5), strip + <usize>p * rowBytes, <usize>columns << 2);
}

/** Kinds of an adder block's step (`packAdderTerms`). */
const GENERAL_STEP = 0;
const FAST_STEP = 1;
const ZERO_STEP = 2;

/**
 * A's rows in groups of four as adder terms: for group g and step p, the four rows' |a| − offset + sign(a)
 * (i32, wrapping) at terms + (g·k + p)·16 — a normal product with B is then B's pattern plus the term (the
 * sum's carry never reaches the sign bit; adding A's sign bit flips B's). flags[g·k + p] is FAST_STEP where
 * all four A operands are nonzero and make normal products with every B magnitude in [lowB, highB],
 * ZERO_STEP where all four are zero (the step adds nothing: a zero-padded STFT frame's columns), else
 * GENERAL_STEP.
 */
// @ts-ignore: decorator
@inline
function packAdderTerms(a: usize, groups: i32, k: i32, offset: i32, lowB: i32, highB: i32, terms: usize, flags: usize): void {
  const rowA = <usize>k << 2;
  for (let g = 0; g < groups; g++) {
    for (let p = 0; p < k; p++) {
      let fast: bool = true;
      let zeros = 0;
      const at = terms + ((<usize>(g * k + p)) << 4);
      for (let r = 0; r < 4; r++) {
        const aBits = load<i32>(a + <usize>(g * 4 + r) * rowA + (<usize>p << 2));
        const x = (aBits & 0x7fffffff) - offset;
        if ((aBits & 0x7fffffff) == 0) zeros++;
        fast = fast && (aBits & 0x7fffffff) != 0 && <i64>x + lowB >= 0x00800000 && <i64>x + highB <= 0x7f7fffff;
        store<i32>(at + (<usize>r << 2), x + (aBits & 0x80000000));
      }
      store<u8>(flags + <usize>(g * k + p), fast ? FAST_STEP : zeros == 4 ? ZERO_STEP : GENERAL_STEP);
    }
  }
}

/**
 * C's 4×8 block at `c` (rows `rowC` bytes apart; its first `columns` stored) from A's four rows at `a` (their
 * terms and flags) and the packed panel of B's eight columns: each element sums its products in f32 in order p, as `adderRows` does.
 * Runs of fast and zero steps stay in registers; other steps (a zero or range-checked A operand among
 * nonzero ones) go through `adderStep` on the block in memory (a call inside the loop would make V8 spill
 * the accumulators).
 */
// @ts-ignore: decorator
@inline
function adderBlock4x8(
  a: usize,
  rowA: usize,
  terms: usize,
  flags: usize,
  k: i32,
  c: usize,
  rowC: usize,
  columns: i32,
  offset: i32,
  bias: i32,
  overflowAt: i32,
  normalAt: i32,
  lowB: i32,
  highB: i32,
  rowBias: usize,
): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  let p = 0;
  while (p < k) {
    for (; p < k; p++) {
      const kind = load<u8>(flags + <usize>p);
      if (kind == ZERO_STEP) continue;
      if (kind == GENERAL_STEP) break;
      const bp = panel + (<usize>p << 5);
      const b0 = v128.load(bp);
      const b1 = v128.load(bp, 16);
      // Zero B operands (±0) give +0 products.
      const nonzero0 = f32x4.ne(b0, f32x4.splat(0));
      const nonzero1 = f32x4.ne(b1, f32x4.splat(0));
      const tp = terms + (<usize>p << 4);
      let t = v128.load32_splat(tp);
      c00 = f32x4.add(c00, v128.and(i32x4.add(b0, t), nonzero0));
      c01 = f32x4.add(c01, v128.and(i32x4.add(b1, t), nonzero1));
      t = v128.load32_splat(tp + 4);
      c10 = f32x4.add(c10, v128.and(i32x4.add(b0, t), nonzero0));
      c11 = f32x4.add(c11, v128.and(i32x4.add(b1, t), nonzero1));
      t = v128.load32_splat(tp + 8);
      c20 = f32x4.add(c20, v128.and(i32x4.add(b0, t), nonzero0));
      c21 = f32x4.add(c21, v128.and(i32x4.add(b1, t), nonzero1));
      t = v128.load32_splat(tp + 12);
      c30 = f32x4.add(c30, v128.and(i32x4.add(b0, t), nonzero0));
      c31 = f32x4.add(c31, v128.and(i32x4.add(b1, t), nonzero1));
    }
    if (p == k) break;
    v128.store(block, c00); v128.store(block, c01, 16); v128.store(block, c10, 32); v128.store(block, c11, 48);
    v128.store(block, c20, 64); v128.store(block, c21, 80); v128.store(block, c30, 96); v128.store(block, c31, 112);
    adderStep(a + (<usize>p << 2), rowA, panel + (<usize>p << 5), offset, bias, overflowAt, normalAt, lowB, highB);
    c00 = v128.load(block); c01 = v128.load(block, 16); c10 = v128.load(block, 32); c11 = v128.load(block, 48);
    c20 = v128.load(block, 64); c21 = v128.load(block, 80); c30 = v128.load(block, 96); c31 = v128.load(block, 112);
    p++;
  }
  if (rowBias) {
    // A Conv bias per row, added in f32 to each finished sum.
    const b0 = v128.load32_splat(rowBias), b1 = v128.load32_splat(rowBias + 4);
    const b2 = v128.load32_splat(rowBias + 8), b3 = v128.load32_splat(rowBias + 12);
    c00 = f32x4.add(c00, b0); c01 = f32x4.add(c01, b0); c10 = f32x4.add(c10, b1); c11 = f32x4.add(c11, b1);
    c20 = f32x4.add(c20, b2); c21 = f32x4.add(c21, b2); c30 = f32x4.add(c30, b3); c31 = f32x4.add(c31, b3);
  }
  storeColumns(c, c00, c01, columns);
  storeColumns(c + rowC, c10, c11, columns);
  storeColumns(c + 2 * rowC, c20, c21, columns);
  storeColumns(c + 3 * rowC, c30, c31, columns);
}

/** The first `columns` of eight f32 lanes (`low`, `high`) stored at `c`. */
// @ts-ignore: decorator
@inline
function storeColumns(c: usize, low: v128, high: v128, columns: i32): void {
  if (columns == 8) {
    v128.store(c, low);
    v128.store(c, high, 16);
  } else {
    v128.store(block, low);
    v128.store(block, high, 16);
    memory.copy(c, block, <usize>columns << 2);
  }
}

/** A 4×8 block's sums while `adderStep` adds to them. */
const block = memory.data(128, 16);

/**
 * One step p of a 4×8 adder block in `block`: four A operands (at `a`, `rowA` apart) times eight B operands
 * (at `b`). A zero A operand adds nothing (not even +0, which would turn a −0 sum into +0); others add
 * `normalProducts` where B's whole range allows, else `adderProducts`.
 */
function adderStep(
  a: usize,
  rowA: usize,
  b: usize,
  offset: i32,
  bias: i32,
  overflowAt: i32,
  normalAt: i32,
  lowB: i32,
  highB: i32,
): void {
  for (let r = 0; r < 4; r++) {
    const aBits = load<i32>(a + <usize>r * rowA);
    const aMag = aBits & 0x7fffffff;
    if (aMag == 0) continue;
    const x = aMag - offset;
    const normal = <i64>x + lowB >= 0x00800000 && <i64>x + highB <= 0x7f7fffff;
    for (let h: usize = 0; h < 32; h += 16) {
      const bv = v128.load(b + h);
      const products = normal ? normalProducts(aBits, x, bv) : adderProducts(aBits, x, bv, bias, overflowAt, normalAt);
      const at = block + (<usize>r << 5) + h;
      v128.store(at, f32x4.add(v128.load(at), products));
    }
  }
}

/**
 * Rows [rowFrom, rowTo) of the adder GEMM (B and C rows n wide), row by row: C's row accumulates
 * A[i,p]·B[p,:] over p, so each element sums its products in f32 in order p.
 */
function adderRows(
  a: usize,
  b: usize,
  c: usize,
  rowFrom: i32,
  rowTo: i32,
  n: i32,
  k: i32,
  offset: i32,
  bias: i32,
  overflowAt: i32,
  normalAt: i32,
  lowB: i32,
  highB: i32,
): void {
  const rowA = <usize>k << 2;
  const rowB = <usize>n << 2;
  const vectors = <usize>(n >> 2) << 4; // bytes of a row covered by whole vectors
  for (let i = rowFrom; i < rowTo; i++) {
    const cRow = c + <usize>i * rowB;
    memory.fill(cRow, 0, rowB);
    for (let p = 0; p < k; p++) {
      const aBits = load<i32>(a + <usize>i * rowA + (<usize>p << 2));
      const aMag = aBits & 0x7fffffff;
      if (aMag == 0) continue;
      const bRow = b + <usize>p * rowB;
      const x = aMag - offset;
      // Every product of this A operand with B's magnitude range [lowB, highB] stays normal: one add each.
      if (<i64>x + lowB >= 0x00800000 && <i64>x + highB <= 0x7f7fffff) {
        for (let at: usize = 0; at < vectors; at += 16)
          v128.store(cRow + at, f32x4.add(v128.load(cRow + at), normalProducts(aBits, x, v128.load(bRow + at))));
      } else {
        for (let at: usize = 0; at < vectors; at += 16)
          v128.store(
            cRow + at,
            f32x4.add(v128.load(cRow + at), adderProducts(aBits, x, v128.load(bRow + at), bias, overflowAt, normalAt)),
          );
      }
      for (let at = vectors; at < rowB; at += 4) {
        const bv = i32x4.splat(load<i32>(bRow + at));
        const product = f32x4.extract_lane(adderProducts(aBits, x, bv, bias, overflowAt, normalAt), 0);
        store<f32>(cRow + at, load<f32>(cRow + at) + product);
      }
    }
  }
}

/** The patch matrix of f32 image planes (`gatherPatches`), elements copied as bit patterns. */
export function im2col(
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
  gatherPatches<u32>(x, offsets, col, channels, taps, positions, imageSize, from, width);
}

/** `im2col` by runs of consecutive elements (`gatherPatchRuns`): the same patch matrix. */
export function im2colRuns(
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
  gatherPatchRuns<u32>(x, runs, count, col, channels, taps, imageSize, from, width);
}

/** dst = srcᵀ: src is rows × cols (row-major f32), dst cols × rows. */
export function transposeMatrix(src: usize, dst: usize, rows: i32, cols: i32): void {
  for (let r = 0; r < rows; r++) {
    const row = src + ((<usize>(r * cols)) << 2);
    for (let c = 0; c < cols; c++) store<f32>(dst + ((<usize>(c * rows + r)) << 2), load<f32>(row + ((<usize>c) << 2)));
  }
}

/**
 * The inverse of `im2col`, adding: for `channels` image planes (`imageSize` f32 each, from `image`), row
 * c·taps + t of the patch matrix `col` (`positions` per row) is added at image offsets[t·positions + o]
 * (skipped where negative), in the order c, t, o — each an f32 addition.
 */
export function col2imAdd(col: usize, offsets: usize, image: usize, channels: i32, taps: i32, positions: i32, imageSize: i32): void {
  let from = col;
  for (let c = 0; c < channels; c++) {
    const plane = image + ((<usize>(c * imageSize)) << 2);
    for (let t = 0; t < taps; t++) {
      const tapOffsets = offsets + ((<usize>(t * positions)) << 2);
      for (let o = 0; o < positions; o++, from += 4) {
        const s = load<i32>(tapOffsets + ((<usize>o) << 2));
        if (s >= 0) {
          const at = plane + ((<usize>s) << 2);
          store<f32>(at, load<f32>(at) + load<f32>(from));
        }
      }
    }
  }
}
