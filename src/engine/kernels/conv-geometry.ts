/**
 * Sliding-window geometry shared by Conv, ConvTranspose and the pools, and its patch table: for every
 * kernel tap and window position, where in the image plane the tap reads. The table drives im2col (Conv),
 * col2im (ConvTranspose) and every pooling reduction.
 */
import { roundToFormat, type FloatFormat } from '../../arith';
import { sizeOf, stridesOf } from '../tensors';
import { EngineError, type KernelContext } from '../types';
import type { DepthwiseShape } from '../wasm/kernels';
import type { Numeric } from './scheme-arithmetic';

export interface WindowGeometry {
  /** Spatial dims of the image the windows cover (Conv/pool input, ConvTranspose output). */
  readonly imageDims: readonly number[];
  /** Spatial dims of the grid of window positions (Conv/pool output, ConvTranspose input). */
  readonly positions: readonly number[];
  readonly kernel: readonly number[];
  readonly strides: readonly number[];
  readonly dilations: readonly number[];
  readonly padsBegin: readonly number[];
  readonly padsEnd: readonly number[];
}

/** A tap on the explicit (or automatic) zero padding around the image. */
export const PADDING = -1;
/** A tap beyond the padding: only ceil_mode windows overhang that far; no pool counts it. */
export const OUTSIDE = -2;

export interface PatchTable {
  readonly taps: number;
  readonly positions: number;
  readonly imageSize: number;
  /** offsets[t·positions + o]: offset in the image plane read by tap t at position o, or PADDING/OUTSIDE. */
  readonly offsets: Int32Array;
}

/** strides/dilations/pads/auto_pad of a Conv or pool node over an image, with ONNX defaults. */
export function slidingWindow(
  ctx: KernelContext,
  imageDims: readonly number[],
  kernel: readonly number[],
  ceilMode = false,
): WindowGeometry {
  const rank = imageDims.length;
  const strides = spatialInts(ctx, 'strides', rank, 1);
  const dilations = spatialInts(ctx, 'dilations', rank, 1);
  const autoPad = ctx.attributes.string('auto_pad', 'NOTSET');
  const span = (axis: number) => (kernel[axis]! - 1) * dilations[axis]! + 1;
  if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
    const positions = imageDims.map((d, axis) => Math.ceil(d / strides[axis]!));
    const total = positions.map((p, axis) => Math.max(0, (p - 1) * strides[axis]! + span(axis) - imageDims[axis]!));
    const padsBegin = total.map((t) => (autoPad === 'SAME_UPPER' ? Math.floor(t / 2) : Math.ceil(t / 2)));
    const padsEnd = total.map((t, axis) => t - padsBegin[axis]!);
    return { imageDims, positions, kernel, strides, dilations, padsBegin, padsEnd };
  }
  if (autoPad !== 'NOTSET' && autoPad !== 'VALID') throw new EngineError(`auto_pad "${autoPad}" is not supported`);
  const pads = autoPad === 'VALID' ? new Array<number>(2 * rank).fill(0) : spatialInts(ctx, 'pads', 2 * rank, 0);
  const padsBegin = pads.slice(0, rank);
  const padsEnd = pads.slice(rank);
  const positions = imageDims.map((d, axis) => {
    const room = d + padsBegin[axis]! + padsEnd[axis]! - span(axis);
    if (room < 0)
      throw new EngineError(`the window (${span(axis)} wide) does not fit the padded input on axis ${axis}`);
    const stride = strides[axis]!;
    let count = (ceilMode ? Math.ceil(room / stride) : Math.floor(room / stride)) + 1;
    // A ceil_mode window must still start inside the image or its leading padding.
    if (ceilMode && (count - 1) * stride >= d + padsBegin[axis]!) count--;
    return count;
  });
  return { imageDims, positions, kernel, strides, dilations, padsBegin, padsEnd };
}

/** An ints attribute with one entry per spatial axis (pads: two), default `fallback` everywhere. */
export function spatialInts(ctx: KernelContext, name: string, length: number, fallback: number): number[] {
  const values = ctx.attributes.ints(name, new Array<number>(length).fill(fallback));
  if (values.length !== length)
    throw new EngineError(`attribute ${name} should have ${length} entries, got ${values.length}`);
  const positive = name !== 'pads' && name !== 'output_padding';
  if (values.some((v) => !Number.isInteger(v) || (positive ? v < 1 : v < 0))) {
    throw new EngineError(`attribute ${name} has invalid entries [${values.join(', ')}]`);
  }
  return values;
}

/**
 * Patch tables by geometry: a model's layers share geometries and run every inference. A detector has a
 * hundred of them, so the cache is bounded by the offsets it holds (oldest tables out first), not by count.
 */
const patchTables = new Map<string, PatchTable>();
const MAX_CACHED_OFFSETS = 1 << 23; // 32 MiB
let cachedOffsets = 0;

/** A geometry's counts of taps, output positions and image elements, without its patch table. */
export function windowSizes(g: WindowGeometry): Omit<PatchTable, 'offsets'> {
  return { taps: sizeOf(g.kernel), positions: sizeOf(g.positions), imageSize: sizeOf(g.imageDims) };
}

/** The patch table of a geometry (cached; callers only read it). */
export function patchTable(g: WindowGeometry): PatchTable {
  const key = [g.imageDims, g.positions, g.kernel, g.strides, g.dilations, g.padsBegin, g.padsEnd].join(';');
  let table = patchTables.get(key);
  if (!table) {
    table = buildPatchTable(g);
    for (const [oldest, old] of patchTables) {
      if (cachedOffsets + table.offsets.length <= MAX_CACHED_OFFSETS) break;
      patchTables.delete(oldest);
      cachedOffsets -= old.offsets.length;
    }
    patchTables.set(key, table);
    cachedOffsets += table.offsets.length;
  }
  return table;
}

function buildPatchTable(g: WindowGeometry): PatchTable {
  const rank = g.imageDims.length;
  const taps = sizeOf(g.kernel);
  const positions = sizeOf(g.positions);
  const imageStrides = stridesOf(g.imageDims);
  // Per axis: the image coordinate of kernel index k at position p (or PADDING/OUTSIDE).
  const coordinates = g.imageDims.map((size, axis) => {
    const count = g.positions[axis]!;
    const table = new Int32Array(g.kernel[axis]! * count);
    for (let k = 0; k < g.kernel[axis]!; k++) {
      for (let p = 0; p < count; p++) {
        const c = p * g.strides[axis]! - g.padsBegin[axis]! + k * g.dilations[axis]!;
        const padded = c >= -g.padsBegin[axis]! && c < size + g.padsEnd[axis]!;
        table[k * count + p] = c >= 0 && c < size ? c : padded ? PADDING : OUTSIDE;
      }
    }
    return table;
  });
  const offsets = new Int32Array(taps * positions);
  const kernelIndex = new Int32Array(rank);
  const positionIndex = new Int32Array(rank);
  for (let t = 0; t < taps; t++) {
    positionIndex.fill(0);
    for (let o = 0; o < positions; o++) {
      let offset = 0;
      let status = 0;
      for (let axis = 0; axis < rank; axis++) {
        const c = coordinates[axis]![kernelIndex[axis]! * g.positions[axis]! + positionIndex[axis]!]!;
        if (c < 0) status = Math.min(status, c);
        else offset += c * imageStrides[axis]!;
      }
      offsets[t * positions + o] = status < 0 ? status : offset;
      advance(positionIndex, g.positions);
    }
    advance(kernelIndex, g.kernel);
  }
  return { taps, positions, imageSize: sizeOf(g.imageDims), offsets };
}

/** Row-major odometer step of a multi-index. */
function advance(index: Int32Array, dims: readonly number[]): void {
  for (let axis = dims.length - 1; axis >= 0; axis--) {
    if (++index[axis]! < dims[axis]!) return;
    index[axis] = 0;
  }
}

/**
 * im2col of the window positions [from, to): the patch matrix [channels·taps, to − from] of `channels`
 * image planes starting at `imageStart`; padding reads zero.
 */
export function im2col(
  table: PatchTable,
  image: Numeric,
  imageStart: number,
  channels: number,
  col: Numeric,
  from = 0,
  to = table.positions,
): void {
  const { taps, positions, imageSize, offsets } = table;
  const width = to - from;
  for (let c = 0; c < channels; c++) {
    const plane = imageStart + c * imageSize;
    for (let t = 0; t < taps; t++) {
      const row = (c * taps + t) * width - from;
      const tapRow = t * positions;
      for (let o = from; o < to; o++) {
        const s = offsets[tapRow + o]!;
        col[row + o] = s >= 0 ? image[plane + s]! : 0;
      }
    }
  }
}

/**
 * Direct depthwise convolution of one plane (exact products only): out[o] = Σ_t w[t]·image[tap t of o],
 * summed in doubles and rounded once into `out`. Skips the patch matrix a one-channel GEMM would need.
 */
export function depthwisePlane(
  table: PatchTable,
  image: Numeric,
  imageStart: number,
  weights: Numeric,
  weightStart: number,
  acc: Float64Array,
): void {
  const { taps, positions, offsets } = table;
  acc.fill(0);
  for (let t = 0; t < taps; t++) {
    const w = weights[weightStart + t]!;
    const tapRow = t * positions;
    for (let o = 0; o < positions; o++) {
      const s = offsets[tapRow + o]!;
      if (s >= 0) acc[o]! += w * image[imageStart + s]!;
    }
  }
}

/**
 * col2im: adds every entry of the patch matrix into the image position it was read from (taps on padding
 * fall away). Each image element sums its taps in tap order, rounded into `accumulator` when given.
 */
export function col2imAdd(
  table: PatchTable,
  col: Numeric,
  image: Numeric,
  imageStart: number,
  channels: number,
  accumulator: FloatFormat | null,
): void {
  const { taps, positions, imageSize, offsets } = table;
  for (let c = 0; c < channels; c++) {
    const plane = imageStart + c * imageSize;
    for (let t = 0; t < taps; t++) {
      const row = (c * taps + t) * positions;
      const tapRow = t * positions;
      if (accumulator) {
        for (let o = 0; o < positions; o++) {
          const s = offsets[tapRow + o]!;
          if (s >= 0) image[plane + s] = roundToFormat(image[plane + s]! + col[row + o]!, accumulator);
        }
      } else {
        for (let o = 0; o < positions; o++) {
          const s = offsets[tapRow + o]!;
          if (s >= 0) image[plane + s]! += col[row + o]!;
        }
      }
    }
  }
}

/**
 * A 1-D or 2-D window geometry over planes as the WebAssembly plane kernels take it (depthwise convolution,
 * max pooling): 1-D as one row of 2-D.
 */
export function planeWindows(
  g: WindowGeometry,
  planes: { batch: number; channels: number; multiplier: number },
): DepthwiseShape {
  const pair = (values: readonly number[], pad: number) =>
    (values.length === 1 ? [pad, values[0]!] : [values[0]!, values[1]!]) as [number, number];
  return {
    ...planes,
    image: pair(g.imageDims, 1),
    output: pair(g.positions, 1),
    kernel: pair(g.kernel, 1),
    strides: pair(g.strides, 1),
    dilations: pair(g.dilations, 1),
    padsBegin: pair(g.padsBegin, 0),
  };
}
