// Direct convolution kernels (same conventions as gemm.ts: f32 arrays in linear memory, byte offsets).
import { adderProducts, normalProducts } from './shared/adder';
import { copyIntoPadded } from './shared/patches';
import { flush, narrow } from './shared/totals';
import { gather2, gather4, storeScaled, storeSums } from './shared/table';

/**
 * Depthwise 2-D convolution (one input channel per group, `multiplier` output channels per input channel)
 * of `batch` images [channels, h, w] with finite weights [channels·multiplier, kh, kw] (up to 7×7), into
 * [.., oh, ow]: bit for bit one f32 `gemm` per channel of its weights by the patch matrix. Each output sums
 * the f32 products w·x in f32 in tap order (row-major kernel index; at most 49 taps, one GEMM chunk), then
 * is multiplied by `unscale` (a power of two: exact in f64, rounded to f32 once, as the GEMM's scaling) and
 * adds bias[m] in f32 (`bias` 0: none). Each plane is copied into a zeroed `padded` plane (`paddedHeight`
 * rows of `paddedWidth` values, the image at row padTop and column padLeft), so a tap on padding reads +0:
 * its product with a finite weight is ±0, which leaves the sum (started at +0, so never −0) as the patch
 * matrix's zero does. The padded plane must cover row (oh − 1)·strideH + (kh − 1)·dilationH and column
 * (⌈ow/8⌉·8 − 1)·strideW + (kw − 1)·dilationW (+1 at stride 2).
 */
export function depthwise2dPadded(
  x: usize,
  w: usize,
  out: usize,
  padded: usize,
  paddedWidth: i32,
  paddedHeight: i32,
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
  bias: usize,
): void {
  const taps = kh * kw;
  const outChannels = channels * multiplier;
  const paddedRow = <usize>paddedWidth << 2;
  memory.fill(padded, 0, <usize>paddedHeight * paddedRow);
  const image = padded + <usize>padTop * paddedRow;
  const rowStep = <usize>strideH * paddedRow;
  const kernelRows = <usize>dilationH * paddedRow;
  for (let n = 0; n < batch; n++) {
    for (let m = 0; m < outChannels; m++) {
      if (m % multiplier == 0) {
        const plane = x + ((<usize>(n * channels + m / multiplier) * <usize>(h * wd)) << 2);
        copyIntoPadded(plane, image, h, wd, paddedRow, padLeft);
      }
      const weights = w + ((<usize>(m * taps)) << 2);
      // No bias adds −0, the identity of IEEE addition (a sum that underflows when unscaled may be −0).
      const channelBias: f32 = bias ? load<f32>(bias + (<usize>m << 2)) : -0.0;
      const outPlane = out + ((<usize>(n * outChannels + m) * <usize>(oh * ow)) << 2);
      const outRow = <usize>ow << 2;
      // Three output rows at a time (the last three overlapping the ones before: the same sums, stored
      // again), so that six independent sums hide the latency of each f32 add; fewer rows one by one.
      const rowsAtOnce = oh >= 3 ? 3 : 1;
      for (let oy = 0; oy < oh; oy += rowsAtOnce) {
        const top = min(oy, oh - rowsAtOnce);
        const at = padded + <usize>top * rowStep;
        const dst = outPlane + <usize>top * outRow;
        for (let ox = 0; ox < ow; ox += 8) {
          const from = at + ((<usize>(ox * strideW)) << 2);
          const to = dst + ((<usize>ox) << 2);
          const count = min(8, ow - ox);
          if (rowsAtOnce == 3 && strideW == 1)
            threeRowsOfEight(from, rowStep, kernelRows, weights, kh, kw, dilationW, unscale, channelBias, to, outRow, count);
          else
            rowsOfEight(from, rowStep, kernelRows, weights, kh, kw, dilationW, strideW, unscale, channelBias, to, outRow, count, rowsAtOnce);
        }
      }
    }
  }
}

/** Eight f32 lanes of a partial output group. */
const lanes = memory.data(32, 16);

/**
 * Eight outputs of `rows` (1 or 3) output rows (padded rows `rowStep` bytes apart from `at`; output rows
 * `dstStep` apart from `dst`): Σ over the kh kernel rows (`kernelRows` bytes apart) and kw taps (`dilation`
 * values apart) of weight·x in f32 (the weights from `weights`), the eight inputs of a tap `stride` values
 * apart; then × unscale (1: skipped), plus `bias` in f32, the first `count` of each row stored. Kept out of
 * line: its loops then hold their pointers and the sums in registers.
 */
function rowsOfEight(
  at: usize,
  rowStep: usize,
  kernelRows: usize,
  weights: usize,
  kh: i32,
  kw: i32,
  dilation: i32,
  stride: i32,
  unscale: f64,
  bias: f32,
  dst: usize,
  dstStep: usize,
  count: i32,
  rows: i32,
): void {
  sumRows(at, rowStep, kernelRows, weights, kh, kw, dilation, stride, unscale, bias, dst, dstStep, count, rows);
}

/** `rowsOfEight` of three rows at stride 1 (constants here, so that no lane load branches). */
function threeRowsOfEight(
  at: usize,
  rowStep: usize,
  kernelRows: usize,
  weights: usize,
  kh: i32,
  kw: i32,
  dilation: i32,
  unscale: f64,
  bias: f32,
  dst: usize,
  dstStep: usize,
  count: i32,
): void {
  sumRows(at, rowStep, kernelRows, weights, kh, kw, dilation, 1, unscale, bias, dst, dstStep, count, 3);
}

// @ts-ignore: decorator
@inline
function sumRows(
  at: usize,
  rowStep: usize,
  kernelRows: usize,
  weights: usize,
  kh: i32,
  kw: i32,
  dilation: i32,
  stride: i32,
  unscale: f64,
  bias: f32,
  dst: usize,
  dstStep: usize,
  count: i32,
  rows: i32,
): void {
  // Six sums, not eight: V8 loads every operand of a step before multiplying, and eight would spill.
  let a0 = f32x4.splat(0), a1 = f32x4.splat(0), b0 = f32x4.splat(0), b1 = f32x4.splat(0);
  let c0 = f32x4.splat(0), c1 = f32x4.splat(0);
  const tapStep = <usize>dilation << 2;
  let weight = weights;
  for (let r = 0; r < kh; r++, at += kernelRows) {
    let tap = at;
    for (let kx = 0; kx < kw; kx++, tap += tapStep, weight += 4) {
      const wv = v128.load32_splat(weight);
      a0 = f32x4.add(a0, f32x4.mul(wv, stridedLow(tap, stride)));
      a1 = f32x4.add(a1, f32x4.mul(wv, stridedHigh(tap, stride)));
      if (rows == 3) {
        b0 = f32x4.add(b0, f32x4.mul(wv, stridedLow(tap + rowStep, stride)));
        b1 = f32x4.add(b1, f32x4.mul(wv, stridedHigh(tap + rowStep, stride)));
        c0 = f32x4.add(c0, f32x4.mul(wv, stridedLow(tap + 2 * rowStep, stride)));
        c1 = f32x4.add(c1, f32x4.mul(wv, stridedHigh(tap + 2 * rowStep, stride)));
      }
    }
  }
  storeFinished(dst, a0, a1, unscale, bias, count);
  if (rows == 3) {
    storeFinished(dst + dstStep, b0, b1, unscale, bias, count);
    storeFinished(dst + 2 * dstStep, c0, c1, unscale, bias, count);
  }
}

/** Eight sums × unscale (1: none) plus `bias`, the first `count` stored at `dst`. */
// @ts-ignore: decorator
@inline
function storeFinished(dst: usize, s0: v128, s1: v128, unscale: f64, bias: f32, count: i32): void {
  if (unscale != 1) {
    s0 = scaledFour(s0, unscale);
    s1 = scaledFour(s1, unscale);
  }
  const biases = f32x4.splat(bias);
  storeEight(dst, f32x4.add(s0, biases), f32x4.add(s1, biases), count);
}

/** Four f32 values times a power of two, exactly in f64 and rounded to f32 once. */
// @ts-ignore: decorator
@inline
function scaledFour(v: v128, scale: f64): v128 {
  const factor = f64x2.splat(scale);
  const low = f32x4.demote_f64x2_zero(f64x2.mul(f64x2.promote_low_f32x4(v), factor));
  const high = f32x4.demote_f64x2_zero(f64x2.mul(f64x2.promote_low_f32x4(v128.shuffle<u32>(v, v, 2, 3, 0, 1)), factor));
  return v128.shuffle<u32>(low, high, 0, 1, 4, 5);
}

/**
 * First index i with i·step + shift ≥ 0 (`step` > 0): the first output column whose tap reads inside its row
 * (step the stride), the first kernel row reading inside the image (step the dilation).
 */
// @ts-ignore: decorator
@inline
function firstInside(shift: i32, step: i32): i32 {
  return shift >= 0 ? 0 : (-shift + step - 1) / step;
}

/** End of the indices i < count with i·step + shift < size (see `firstInside`). */
// @ts-ignore: decorator
@inline
function endInside(shift: i32, step: i32, size: i32, count: i32): i32 {
  return min(count, shift >= size ? 0 : (size - 1 - shift) / step + 1);
}

/**
 * Depthwise 2-D convolution under the lmul adder (geometry as `depthwise2dPadded`; x and w fp32 patterns of
 * normal or zero operands; `offset`, `bias`, its thresholds and x's magnitude range [lowX, highX] as
 * `gemmLmulAdder` takes them): each output sums its products in f32 in tap order from +0 — bit for bit the
 * one-channel GEMM of weights by patch matrix — then adds its channel's `channelBias` entry in f32 (0: none).
 * Eight outputs of three rows at a time in registers over a copy of each plane framed by zeros (`padded`,
 * as `depthwise2dPadded` lays it out): a tap on padding reads +0, whose masked product +0 leaves the sum
 * (started at +0, so never −0) as skipping it does; zero weights are skipped. `taps` holds scratch for one
 * channel's weights as (term, pattern, kind) triples.
 */
export function depthwiseAdder(
  x: usize,
  w: usize,
  out: usize,
  padded: usize,
  paddedWidth: i32,
  paddedHeight: i32,
  taps: usize,
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
  offset: i32,
  bias: i32,
  overflowAt: i32,
  normalAt: i32,
  lowX: i32,
  highX: i32,
  channelBias: usize,
): void {
  const tapCount = kh * kw;
  const outChannels = channels * multiplier;
  const paddedRow = <usize>paddedWidth << 2;
  memory.fill(padded, 0, <usize>paddedHeight * paddedRow);
  const image = padded + <usize>padTop * paddedRow;
  const rowStep = <usize>strideH * paddedRow;
  const kernelRows = <usize>dilationH * paddedRow;
  for (let n = 0; n < batch; n++) {
    for (let m = 0; m < outChannels; m++) {
      if (m % multiplier == 0) {
        const plane = x + ((<usize>(n * channels + m / multiplier) * <usize>(h * wd)) << 2);
        copyIntoPadded(plane, image, h, wd, paddedRow, padLeft);
      }
      adderTaps(w + ((<usize>(m * tapCount)) << 2), tapCount, taps, offset, lowX, highX);
      const cBias: f32 = channelBias ? load<f32>(channelBias + (<usize>m << 2)) : -0.0;
      const outPlane = out + ((<usize>(n * outChannels + m) * <usize>(oh * ow)) << 2);
      const outRow = <usize>ow << 2;
      // Three output rows at a time, as `depthwise2dPadded`.
      const rowsAtOnce = oh >= 3 ? 3 : 1;
      for (let oy = 0; oy < oh; oy += rowsAtOnce) {
        const top = min(oy, oh - rowsAtOnce);
        const at = padded + <usize>top * rowStep;
        const dst = outPlane + <usize>top * outRow;
        for (let ox = 0; ox < ow; ox += 8) {
          const from = at + ((<usize>(ox * strideW)) << 2);
          const to = dst + ((<usize>ox) << 2);
          const count = min(8, ow - ox);
          if (rowsAtOnce == 1)
            adderRowsOfEight(from, 0, kernelRows, taps, kh, kw, dilationW, strideW, bias, overflowAt, normalAt, cBias, to, 0, count, 1);
          else if (strideW == 1)
            adderThreeRowsOfEight(from, rowStep, kernelRows, taps, kh, kw, dilationW, bias, overflowAt, normalAt, cBias, to, outRow, count);
          else
            adderRowsOfEight(from, rowStep, kernelRows, taps, kh, kw, dilationW, strideW, bias, overflowAt, normalAt, cBias, to, outRow, count, 3);
        }
      }
    }
  }
}

/** Tap kinds of `adderTaps`. */
const ZERO_TAP = 0;
const NORMAL_TAP = 1;
const GENERAL_TAP = 2;

/**
 * One channel's weights as (term, pattern, kind) triples at `taps`: the term |w| − offset + sign(w) (an
 * `adderBlock4x8` term: B's pattern plus it is the product where all products stay normal), and the kind —
 * a zero weight, one whose products with every x in [lowX, highX] stay normal, or any other.
 */
// @ts-ignore: decorator
@inline
function adderTaps(w: usize, count: i32, taps: usize, offset: i32, lowX: i32, highX: i32): void {
  for (let t = 0; t < count; t++) {
    const wBits = load<i32>(w + ((<usize>t) << 2));
    const magnitude = wBits & 0x7fffffff;
    const x = magnitude - offset;
    const normal = <i64>x + lowX >= 0x00800000 && <i64>x + highX <= 0x7f7fffff;
    const at = taps + <usize>t * 12;
    store<i32>(at, x + (wBits & 0x80000000));
    store<i32>(at, wBits, 4);
    store<i32>(at, magnitude == 0 ? ZERO_TAP : normal ? NORMAL_TAP : GENERAL_TAP, 8);
  }
}

/**
 * Eight outputs of `rows` (1 or 3) output rows under the lmul adder (input rows `rowStep` bytes apart in the
 * padded plane from `at`; output rows `dstStep` apart from `dst`): Σ over the kh kernel rows (`kernelRows`
 * bytes apart) and kw taps (`dilation` values apart; their weights from `taps`) of the products with the
 * eight inputs of a tap, `stride` values apart, in f32 in tap order; plus `channelBias`; the first `count`
 * of each row stored. Out of line, as `rowsOfEight`.
 */
function adderRowsOfEight(
  at: usize,
  rowStep: usize,
  kernelRows: usize,
  taps: usize,
  kh: i32,
  kw: i32,
  dilation: i32,
  stride: i32,
  bias: i32,
  overflowAt: i32,
  normalAt: i32,
  channelBias: f32,
  dst: usize,
  dstStep: usize,
  count: i32,
  rows: i32,
): void {
  adderRows(at, rowStep, kernelRows, taps, kh, kw, dilation, stride, bias, overflowAt, normalAt, channelBias, dst, dstStep, count, rows);
}

/** `adderRowsOfEight` of three rows at stride 1 (constants here, so that no lane load branches). */
function adderThreeRowsOfEight(
  at: usize,
  rowStep: usize,
  kernelRows: usize,
  taps: usize,
  kh: i32,
  kw: i32,
  dilation: i32,
  bias: i32,
  overflowAt: i32,
  normalAt: i32,
  channelBias: f32,
  dst: usize,
  dstStep: usize,
  count: i32,
): void {
  adderRows(at, rowStep, kernelRows, taps, kh, kw, dilation, 1, bias, overflowAt, normalAt, channelBias, dst, dstStep, count, 3);
}

// @ts-ignore: decorator
@inline
function adderRows(
  at: usize,
  rowStep: usize,
  kernelRows: usize,
  taps: usize,
  kh: i32,
  kw: i32,
  dilation: i32,
  stride: i32,
  bias: i32,
  overflowAt: i32,
  normalAt: i32,
  channelBias: f32,
  dst: usize,
  dstStep: usize,
  count: i32,
  rows: i32,
): void {
  let a0 = f32x4.splat(0), a1 = f32x4.splat(0), b0 = f32x4.splat(0), b1 = f32x4.splat(0);
  let c0 = f32x4.splat(0), c1 = f32x4.splat(0);
  const tapStep = <usize>dilation << 2;
  let tap = taps;
  for (let r = 0; r < kh; r++, at += kernelRows) {
    let input = at;
    for (let kx = 0; kx < kw; kx++, input += tapStep, tap += 12) {
      const kind = load<i32>(tap, 8);
      if (kind == ZERO_TAP) continue;
      if (kind == NORMAL_TAP) {
        const term = v128.load32_splat(tap);
        a0 = f32x4.add(a0, normalTerm(stridedLow(input, stride), term));
        a1 = f32x4.add(a1, normalTerm(stridedHigh(input, stride), term));
        if (rows == 3) {
          b0 = f32x4.add(b0, normalTerm(stridedLow(input + rowStep, stride), term));
          b1 = f32x4.add(b1, normalTerm(stridedHigh(input + rowStep, stride), term));
          c0 = f32x4.add(c0, normalTerm(stridedLow(input + 2 * rowStep, stride), term));
          c1 = f32x4.add(c1, normalTerm(stridedHigh(input + 2 * rowStep, stride), term));
        }
      } else {
        const wBits = load<i32>(tap, 4);
        const x = load<i32>(tap) - (wBits & 0x80000000); // |w| − offset
        a0 = f32x4.add(a0, adderProducts(wBits, x, stridedLow(input, stride), bias, overflowAt, normalAt));
        a1 = f32x4.add(a1, adderProducts(wBits, x, stridedHigh(input, stride), bias, overflowAt, normalAt));
        if (rows == 3) {
          const below = input + rowStep;
          b0 = f32x4.add(b0, adderProducts(wBits, x, stridedLow(below, stride), bias, overflowAt, normalAt));
          b1 = f32x4.add(b1, adderProducts(wBits, x, stridedHigh(below, stride), bias, overflowAt, normalAt));
          const third = input + 2 * rowStep;
          c0 = f32x4.add(c0, adderProducts(wBits, x, stridedLow(third, stride), bias, overflowAt, normalAt));
          c1 = f32x4.add(c1, adderProducts(wBits, x, stridedHigh(third, stride), bias, overflowAt, normalAt));
        }
      }
    }
  }
  const biases = f32x4.splat(channelBias);
  storeEight(dst, f32x4.add(a0, biases), f32x4.add(a1, biases), count);
  if (rows == 3) {
    storeEight(dst + dstStep, f32x4.add(b0, biases), f32x4.add(b1, biases), count);
    storeEight(dst + 2 * dstStep, f32x4.add(c0, biases), f32x4.add(c1, biases), count);
  }
}

/** A normal tap's products with four inputs: the pattern sums, +0 where an input is ±0. */
// @ts-ignore: decorator
@inline
function normalTerm(x: v128, term: v128): v128 {
  return v128.and(i32x4.add(x, term), f32x4.ne(x, f32x4.splat(0)));
}

/** Four f32 values `stride` values apart from `at`. */
// @ts-ignore: decorator
@inline
function stridedFour(at: usize, stride: i32): v128 {
  const step = <usize>stride << 2;
  let v = v128.load32_zero(at);
  v = v128.load32_lane(at + step, v, 1);
  v = v128.load32_lane(at + 2 * step, v, 2);
  return v128.load32_lane(at + 3 * step, v, 3);
}

/** Eight f32 lanes (`first`, `second`) stored at `dst`, or only the first `count` of them. */
// @ts-ignore: decorator
@inline
function storeEight(dst: usize, first: v128, second: v128, count: i32): void {
  if (count == 8) {
    v128.store(dst, first);
    v128.store(dst, second, 16);
  } else {
    // The last, partial group: lanes past the row's end read padding and are not stored.
    v128.store(lanes, first);
    v128.store(lanes, second, 16);
    memory.copy(dst, lanes, <usize>count << 2);
  }
}
/** Length of the k-chunks of the f32 GEMM (gemm.ts), whose summation the formula kernel reproduces. */
const CHUNK = 64;

/**
 * Depthwise 2-D convolution under the lmul formula, as the f32 GEMM of inner size 2·taps runs it on the
 * transformed operands: x as planes E(x) (`xE`) and x − E(x) (`xRest`), each weight as a + c·E(a)
 * (`wLeft`) and E(a) (`wE`); term p < taps is wLeft[p]·xE[tap p], term taps + p is wE[p]·xRest[tap p].
 * Each output sums its terms in f32 over chunks of 64 and the chunk sums in f64, rounded to f32 once. Eight
 * outputs of three rows at a time in registers over copies of each channel's two planes framed by zeros
 * (`paddedE`, `paddedRest`, as `depthwise2dPadded` lays them out): a tap on padding reads +0 and adds ±0,
 * which leaves an f32 sum that is never −0 unchanged, and keeps its place in the chunks. Operands must be
 * finite.
 */
export function depthwiseFormula(
  xE: usize,
  xRest: usize,
  wLeft: usize,
  wE: usize,
  out: usize,
  paddedE: usize,
  paddedRest: usize,
  paddedWidth: i32,
  paddedHeight: i32,
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
): void {
  const taps = kh * kw;
  const outChannels = channels * multiplier;
  const paddedRow = <usize>paddedWidth << 2;
  memory.fill(paddedE, 0, <usize>paddedHeight * paddedRow);
  memory.fill(paddedRest, 0, <usize>paddedHeight * paddedRow);
  const image = <usize>padTop * paddedRow;
  const rowStep = <usize>strideH * paddedRow;
  const kernelRows = <usize>dilationH * paddedRow;
  for (let n = 0; n < batch; n++) {
    for (let m = 0; m < outChannels; m++) {
      if (m % multiplier == 0) {
        const planeOffset = (<usize>(n * channels + m / multiplier) * <usize>(h * wd)) << 2;
        copyIntoPadded(xE + planeOffset, paddedE + image, h, wd, paddedRow, padLeft);
        copyIntoPadded(xRest + planeOffset, paddedRest + image, h, wd, paddedRow, padLeft);
      }
      const weightOffset = (<usize>(m * taps)) << 2;
      const left = wLeft + weightOffset;
      const right = wE + weightOffset;
      const outPlane = out + ((<usize>(n * outChannels + m) * <usize>(oh * ow)) << 2);
      const outRow = <usize>ow << 2;
      // Three output rows at a time, as `depthwise2dPadded`.
      const rowsAtOnce = oh >= 3 ? 3 : 1;
      for (let oy = 0; oy < oh; oy += rowsAtOnce) {
        const top = min(oy, oh - rowsAtOnce);
        const at = <usize>top * rowStep;
        const dst = outPlane + <usize>top * outRow;
        for (let ox = 0; ox < ow; ox += 8) {
          const column = at + ((<usize>(ox * strideW)) << 2);
          const fromE = paddedE + column;
          const fromRest = paddedRest + column;
          const to = dst + ((<usize>ox) << 2);
          const count = min(8, ow - ox);
          if (rowsAtOnce == 3 && strideW == 1)
            formulaThreeRowsOfEight(fromE, fromRest, rowStep, kernelRows, kh, kw, dilationW, left, right, to, outRow, count);
          else
            formulaRowsOfEight(fromE, fromRest, rowStep, kernelRows, kh, kw, dilationW, strideW, left, right, to, outRow, count, rowsAtOnce);
        }
      }
    }
  }
}

/** f64 totals of three rows of eight formula sums. */
const formulaTotals = memory.data(3 * 8 * 8, 16);

/**
 * Eight outputs of `rows` (1 or 3) output rows under the lmul formula (padded rows `rowStep` bytes apart
 * from `atE` and `atRest`; output rows `dstStep` apart from `dst`): the terms wLeft[t]·E(x), then
 * wE[t]·(x − E(x)), t over the taps row-major (kernel rows `kernelRows` bytes apart, taps `dilation` values
 * apart, the eight inputs of a tap `stride` values apart), summed in f32 over chunks of 64 terms and the
 * chunk sums in f64, rounded to f32; the first `count` of each row stored. Out of line, as `rowsOfEight`.
 */
function formulaRowsOfEight(
  atE: usize,
  atRest: usize,
  rowStep: usize,
  kernelRows: usize,
  kh: i32,
  kw: i32,
  dilation: i32,
  stride: i32,
  wLeft: usize,
  wE: usize,
  dst: usize,
  dstStep: usize,
  count: i32,
  rows: i32,
): void {
  formulaRows(atE, atRest, rowStep, kernelRows, kh, kw, dilation, stride, wLeft, wE, dst, dstStep, count, rows);
}

/** `formulaRowsOfEight` of three rows at stride 1 (constants here, so that no lane load branches). */
function formulaThreeRowsOfEight(
  atE: usize,
  atRest: usize,
  rowStep: usize,
  kernelRows: usize,
  kh: i32,
  kw: i32,
  dilation: i32,
  wLeft: usize,
  wE: usize,
  dst: usize,
  dstStep: usize,
  count: i32,
): void {
  formulaRows(atE, atRest, rowStep, kernelRows, kh, kw, dilation, 1, wLeft, wE, dst, dstStep, count, 3);
}

// @ts-ignore: decorator
@inline
function formulaRows(
  atE: usize,
  atRest: usize,
  rowStep: usize,
  kernelRows: usize,
  kh: i32,
  kw: i32,
  dilation: i32,
  stride: i32,
  wLeft: usize,
  wE: usize,
  dst: usize,
  dstStep: usize,
  count: i32,
  rows: i32,
): void {
  memory.fill(formulaTotals, 0, 3 * 8 * 8);
  let a0 = f32x4.splat(0), a1 = f32x4.splat(0), b0 = f32x4.splat(0), b1 = f32x4.splat(0);
  let c0 = f32x4.splat(0), c1 = f32x4.splat(0);
  const tapStep = <usize>dilation << 2;
  let p = 0;
  for (let half = 0; half < 2; half++) {
    let row = half ? atRest : atE;
    let weight = half ? wE : wLeft;
    for (let ky = 0; ky < kh; ky++, row += kernelRows) {
      let input = row;
      for (let kx = 0; kx < kw; kx++, input += tapStep, weight += 4) {
        const wv = v128.load32_splat(weight);
        a0 = f32x4.add(a0, f32x4.mul(wv, stridedLow(input, stride)));
        a1 = f32x4.add(a1, f32x4.mul(wv, stridedHigh(input, stride)));
        if (rows == 3) {
          b0 = f32x4.add(b0, f32x4.mul(wv, stridedLow(input + rowStep, stride)));
          b1 = f32x4.add(b1, f32x4.mul(wv, stridedHigh(input + rowStep, stride)));
          c0 = f32x4.add(c0, f32x4.mul(wv, stridedLow(input + 2 * rowStep, stride)));
          c1 = f32x4.add(c1, f32x4.mul(wv, stridedHigh(input + 2 * rowStep, stride)));
        }
        if ((++p & (CHUNK - 1)) == 0) {
          // End of a chunk: its f32 sums go into the f64 totals.
          addChunk(a0, a1, b0, b1, c0, c1);
          a0 = f32x4.splat(0);
          a1 = f32x4.splat(0);
          b0 = f32x4.splat(0);
          b1 = f32x4.splat(0);
          c0 = f32x4.splat(0);
          c1 = f32x4.splat(0);
        }
      }
    }
  }
  if ((p & (CHUNK - 1)) != 0) addChunk(a0, a1, b0, b1, c0, c1);
  for (let r = 0; r < rows; r++) {
    const at = formulaTotals + <usize>r * 64;
    storeEight(dst + <usize>r * dstStep, narrow(at), narrow(at + 32), count);
  }
}

/** Adds three rows of eight f32 chunk sums into `formulaTotals`. */
// @ts-ignore: decorator
@inline
function addChunk(a0: v128, a1: v128, b0: v128, b1: v128, c0: v128, c1: v128): void {
  flush(formulaTotals, a0);
  flush(formulaTotals + 32, a1);
  flush(formulaTotals + 64, b0);
  flush(formulaTotals + 96, b1);
  flush(formulaTotals + 128, c0);
  flush(formulaTotals + 160, c1);
}

/** The first four of eight f32 inputs `stride` values apart from `at`. */
// @ts-ignore: decorator
@inline
function stridedLow(at: usize, stride: i32): v128 {
  if (stride == 1) return v128.load(at);
  if (stride == 2) return v128.shuffle<u32>(v128.load(at), v128.load(at, 16), 0, 2, 4, 6);
  return stridedFour(at, stride);
}

/** The last four of eight f32 inputs `stride` values apart from `at`. */
// @ts-ignore: decorator
@inline
function stridedHigh(at: usize, stride: i32): v128 {
  if (stride == 1) return v128.load(at, 16);
  if (stride == 2) return v128.shuffle<u32>(v128.load(at, 32), v128.load(at, 48), 0, 2, 4, 6);
  return stridedFour(at + ((<usize>(4 * stride)) << 2), stride);
}

/**
 * Depthwise 2-D convolution under a product-format scheme on fp8 codes (geometry as `depthwise2dPadded`): each
 * output sums table[codeW·256 + codeX] over its taps in f64 in tap order and is rounded to f32 once, as
 * the table GEMM does; taps on padding are skipped (the caller takes this kernel only for weights without
 * NaN or inf, whose products with the padding's +0 are ±0), as are zero weights when `skipZeros` (x holds
 * no NaN or inf). `acc` holds ow doubles.
 */
export function depthwiseTable(
  x: usize,
  w: usize,
  table: usize,
  out: usize,
  acc: usize,
  skipZeros: bool,
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
): void {
  const taps = kh * kw;
  const outChannels = channels * multiplier;
  for (let n = 0; n < batch; n++) {
    for (let m = 0; m < outChannels; m++) {
      const plane = x + <usize>(n * channels + m / multiplier) * <usize>(h * wd);
      const weights = w + <usize>(m * taps);
      let outRow = out + ((<usize>(n * outChannels + m) * <usize>(oh * ow)) << 2);
      for (let oy = 0; oy < oh; oy++, outRow += <usize>ow << 2) {
        memory.fill(acc, 0, <usize>ow << 3);
        for (let ky = 0; ky < kh; ky++) {
          const iy = oy * strideH - padTop + ky * dilationH;
          if (iy < 0 || iy >= h) continue;
          const row = plane + <usize>(iy * wd);
          for (let kx = 0; kx < kw; kx++) {
            const code = <u32>load<u8>(weights + <usize>(ky * kw + kx));
            if (skipZeros && (code & 0x7f) == 0) continue;
            const products = table + ((<usize>code) << 10);
            const shift = kx * dilationW - padLeft;
            const end = endInside(shift, strideW, wd, ow);
            for (let ox = firstInside(shift, strideW); ox < end; ox++) {
              const at = acc + ((<usize>ox) << 3);
              const entry = (<usize>load<u8>(row + <usize>(ox * strideW + shift))) << 2;
              store<f64>(at, load<f64>(at) + <f64>load<f32>(products + entry));
            }
          }
        }
        for (let ox = 0; ox < ow; ox++)
          store<f32>(outRow + ((<usize>ox) << 2), <f32>load<f64>(acc + ((<usize>ox) << 3)));
      }
    }
  }
}

/**
 * `depthwiseTable` with integer sums: `table` holds counts of `unit` — i32, or f64 when `wide` — and neither
 * x nor w holds NaN or inf (see `gemmTableExact`: sums of counts are exact in any order, equal to the
 * ordered f64 sums, and sum·unit rounds once). Each input plane is copied into `padded` (`rows` ×
 * `columns`, the window's whole reach) as table byte offsets framed by code 0, whose products are 0 — what
 * skipping a padding tap does — so four outputs of a row sum their taps at once without edge cases; `taps`
 * holds the table row address of each weight.
 */
export function depthwiseTableExact(
  x: usize,
  w: usize,
  table: usize,
  wide: bool,
  unit: f64,
  out: usize,
  padded: usize,
  rows: i32,
  columns: i32,
  taps: usize,
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
): void {
  const tapCount = kh * kw;
  const outChannels = channels * multiplier;
  const entryShift: u32 = wide ? 3 : 2; // bytes per count: 8 or 4
  for (let n = 0; n < batch; n++) {
    for (let m = 0; m < outChannels; m++) {
      if (m % multiplier == 0) {
        const plane = x + <usize>(n * channels + m / multiplier) * <usize>(h * wd);
        padPlane(plane, padded, h, wd, rows, columns, padTop, padLeft, entryShift);
      }
      const weights = w + <usize>(m * tapCount);
      for (let t = 0; t < tapCount; t++)
        store<u32>(taps + ((<usize>t) << 2), <u32>table + ((<u32>load<u8>(weights + t)) << (entryShift + 8)));
      const plane = out + ((<usize>(n * outChannels + m) * <usize>(oh * ow)) << 2);
      if (wide) {
        planeCounts<f64>(padded, columns, taps, plane, unit, oh, ow, kh, kw, strideH, strideW, dilationH, dilationW);
      } else {
        planeCounts<i32>(padded, columns, taps, plane, unit, oh, ow, kh, kw, strideH, strideW, dilationH, dilationW);
      }
    }
  }
}

/** One output plane of `depthwiseTableExact`: four outputs of a row at once, sums of counts of type T. */
// @ts-ignore: decorator
@inline
function planeCounts<T>(
  padded: usize,
  columns: i32,
  taps: usize,
  out: usize,
  unit: f64,
  oh: i32,
  ow: i32,
  kh: i32,
  kw: i32,
  strideH: i32,
  strideW: i32,
  dilationH: i32,
  dilationW: i32,
): void {
  const scale = f64x2.splat(unit);
  const rowBytes = (<usize>columns) << 1;
  const step = (<usize>strideW) << 1;
  let outRow = out;
  for (let oy = 0; oy < oh; oy++, outRow += (<usize>ow) << 2) {
    const top = padded + <usize>(oy * strideH) * rowBytes;
    for (let ox = 0; ox < ow; ox += 4) {
      // i32: the four sums in `low`; f64: two in each.
      let low = i32x4.splat(0), high = i32x4.splat(0);
      let tap = taps;
      for (let ky = 0; ky < kh; ky++) {
        let at = top + <usize>(ky * dilationH) * rowBytes + <usize>(ox * strideW) * 2;
        for (let kx = 0; kx < kw; kx++, tap += 4, at += (<usize>dilationW) << 1) {
          const row = <usize>load<u32>(tap);
          const o0 = <usize>load<u16>(at), o1 = <usize>load<u16>(at + step);
          const o2 = <usize>load<u16>(at + 2 * step), o3 = <usize>load<u16>(at + 3 * step);
          if (isInteger<T>()) {
            low = i32x4.add(low, gather4(row, o0, o1, o2, o3));
          } else {
            low = f64x2.add(low, gather2(row, o0, o1));
            high = f64x2.add(high, gather2(row, o2, o3));
          }
        }
      }
      const at = outRow + ((<usize>ox) << 2);
      if (isInteger<T>()) storeSums(at, low, scale, min(4, ow - ox));
      else storeScaled(at, low, high, scale, min(4, ow - ox));
    }
  }
}

/**
 * An h×wd plane of codes at (padTop, padLeft) of a zeroed rows×columns plane of table byte offsets (u16):
 * code << entryShift.
 */
// @ts-ignore: decorator
@inline
function padPlane(
  src: usize,
  dst: usize,
  h: i32,
  wd: i32,
  rows: i32,
  columns: i32,
  padTop: i32,
  padLeft: i32,
  entryShift: u32,
): void {
  memory.fill(dst, 0, (<usize>(rows * columns)) << 1);
  const height = min(h, rows - padTop);
  const width = min(wd, columns - padLeft);
  for (let y = 0; y < height; y++) {
    const from = src + <usize>(y * wd);
    const to = dst + ((<usize>((y + padTop) * columns + padLeft)) << 1);
    for (let i = 0; i < width; i++) store<u16>(to + ((<usize>i) << 1), (<u32>load<u8>(from + i)) << entryShift);
  }
}
