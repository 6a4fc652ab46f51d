/**
 * Vision operators: NonMaxSuppression, GridSample, MaxUnpool and Col2Im. Their interpolation weights and
 * box areas are geometry, not Mul-like products of SPEC §6, so they compute exactly in doubles.
 */
import { expectTensor, sizeOf, stridesOf, toNumbers } from '../tensors';
import { EngineError, tensor, type Kernel, type KernelContext, type Value } from '../types';
import { col2imAdd, patchTable, slidingWindow, spatialInts } from './conv-geometry';
import { floatData } from './elementwise-core';
import { roundHalfToEven } from './elementwise-math';
import { tensorOf } from './scheme-arithmetic';
import { intsOf, optionalInts } from './shape-copy';

// ---- NonMaxSuppression ------------------------------------------------------------------------------

interface Box {
  readonly y1: number;
  readonly x1: number;
  readonly y2: number;
  readonly x2: number;
}

/** Box i of a [.., 4] array as corners: [y1, x1, y2, x2] in either diagonal, or [xc, yc, w, h]. */
function boxAt(data: ArrayLike<number>, i: number, centerPoint: boolean): Box {
  const [a, b, c, d] = [data[4 * i]!, data[4 * i + 1]!, data[4 * i + 2]!, data[4 * i + 3]!];
  if (centerPoint) return { x1: a - c / 2, x2: a + c / 2, y1: b - d / 2, y2: b + d / 2 };
  return { y1: Math.min(a, c), y2: Math.max(a, c), x1: Math.min(b, d), x2: Math.max(b, d) };
}

function intersectionOverUnion(p: Box, q: Box): number {
  const area = (r: Box) => (r.x2 - r.x1) * (r.y2 - r.y1);
  const width = Math.min(p.x2, q.x2) - Math.max(p.x1, q.x1);
  const height = Math.min(p.y2, q.y2) - Math.max(p.y1, q.y1);
  if (width <= 0 || height <= 0) return 0;
  const intersection = width * height;
  const union = area(p) + area(q) - intersection;
  return union > 0 ? intersection / union : 0;
}

/** Greedy selection per batch and class: highest scores first, dropping boxes that overlap a kept one. */
const NonMaxSuppression: Kernel = (inputs, ctx) => {
  const boxes = expectTensor(inputs[0], 'boxes');
  const scores = expectTensor(inputs[1], 'scores');
  const scalarInput = (i: number, fallback: number) => (inputs[i] === undefined ? fallback : scalarOf(inputs[i]));
  const maxPerClass = scalarInput(2, 0);
  const iouThreshold = scalarInput(3, 0);
  const scoreThreshold = scalarInput(4, -Infinity);
  const centerPoint = ctx.attributes.int('center_point_box', 0) !== 0;
  const [batches, classes, count] = scores.dims as [number, number, number];
  if (boxes.dims.join() !== `${batches},${count},4`) {
    throw new EngineError(`boxes [${boxes.dims}] do not match scores [${scores.dims}]`);
  }
  const boxData = boxes.data as Float32Array;
  const scoreData = scores.data as Float32Array;
  const selected: number[] = [];
  for (let b = 0; b < batches; b++) {
    const boxOf = (i: number) => boxAt(boxData, b * count + i, centerPoint);
    for (let c = 0; c < classes; c++) {
      const scoreOf = (i: number) => scoreData[(b * classes + c) * count + i]!;
      const candidates = [...Array(count).keys()].filter((i) => scoreOf(i) > scoreThreshold);
      candidates.sort((i, j) => scoreOf(j) - scoreOf(i) || i - j);
      const kept: number[] = [];
      for (const i of candidates) {
        if (kept.length >= maxPerClass) break;
        if (kept.every((k) => intersectionOverUnion(boxOf(k), boxOf(i)) <= iouThreshold)) kept.push(i);
      }
      for (const i of kept) selected.push(b, c, i);
    }
  }
  return [tensor('int64', [selected.length / 3, 3], BigInt64Array.from(selected, BigInt))];
};

function scalarOf(value: Value | undefined): number {
  const values = toNumbers(expectTensor(value, 'scalar input'));
  if (values.length !== 1) throw new EngineError(`expected a single value, got ${values.length}`);
  return values[0]!;
}

// ---- GridSample -------------------------------------------------------------------------------------

type Padding = 'zeros' | 'border' | 'reflection';

/** Mirrors x into [low, high] (the reference's reflection of out-of-range coordinates). */
function reflect(x: number, low: number, high: number): number {
  const range = high - low;
  if (range <= 0) return low;
  if (x >= low && x <= high) return x;
  const distance = x < low ? low - x : x - high;
  const folds = Math.floor(distance / range);
  const rest = distance - folds * range;
  const evenFolds = folds % 2 === 0;
  if (x < low) return evenFolds ? low + rest : high - rest;
  return evenFolds ? high - rest : low + rest;
}

/** Keys cubic convolution weights (A = −0.75) of the four taps around a fraction t. */
function cubicWeights(t: number): number[] {
  const A = -0.75;
  const far = (d: number) => ((A * d - 5 * A) * d + 8 * A) * d - 4 * A;
  const near = (d: number) => ((A + 2) * d - (A + 3)) * d * d + 1;
  return [far(t + 1), near(t), near(1 - t), far(2 - t)];
}

interface Tap {
  readonly index: number;
  readonly weight: number;
}

interface SampleAxis {
  readonly size: number;
  /** The valid coordinate range: pixel centres with align_corners, pixel edges without. */
  readonly low: number;
  readonly high: number;
  readonly alignCorners: boolean;
}

/** The taps of one axis at normalized coordinate n ∈ [−1, 1]; indices may lie outside the image. */
function axisTaps(n: number, axis: SampleAxis, mode: string, padding: Padding): Tap[] {
  const { size, low, high, alignCorners } = axis;
  let x = alignCorners ? ((n + 1) / 2) * (size - 1) : ((n + 1) * size - 1) / 2;
  if (mode === 'nearest') x = roundHalfToEven(x);
  if (x < low || x > high) {
    if (padding === 'border') x = Math.min(Math.max(x, 0), size - 1);
    else if (padding === 'reflection') x = reflect(x, low, high);
  }
  if (mode === 'nearest') return [{ index: Math.round(x), weight: 1 }];
  const base = Math.floor(x);
  const t = x - base;
  if (mode === 'linear')
    return [
      { index: base, weight: 1 - t },
      { index: base + 1, weight: t },
    ];
  return cubicWeights(t).map((weight, k) => ({ index: base - 1 + k, weight }));
}

/** An index outside the image read under the padding mode, or −1 for a zero. */
function paddedIndex(index: number, axis: SampleAxis, padding: Padding): number {
  if (index >= 0 && index < axis.size) return index;
  if (padding === 'zeros') return -1;
  if (padding === 'border') return Math.min(Math.max(index, 0), axis.size - 1);
  return Math.trunc(reflect(index, axis.low, axis.high));
}

function gridSampleMode(ctx: KernelContext): string {
  const mode = ctx.attributes.string('mode', ctx.opset < 20 ? 'bilinear' : 'linear');
  const canonical = ({ bilinear: 'linear', bicubic: 'cubic' } as Record<string, string>)[mode] ?? mode;
  if (!['linear', 'nearest', 'cubic'].includes(canonical)) throw new EngineError(`mode "${mode}" is not supported`);
  return canonical;
}

/**
 * GridSample: each output point samples X at the grid's normalized coordinates (last grid axis ordered
 * x, y, z: innermost spatial axis first), interpolating separably over the spatial axes.
 */
const GridSample: Kernel = (inputs, ctx) => {
  const x = expectTensor(inputs[0], 'X');
  const grid = expectTensor(inputs[1], 'grid');
  const mode = gridSampleMode(ctx);
  const padding = ctx.attributes.string('padding_mode', 'zeros') as Padding;
  if (!['zeros', 'border', 'reflection'].includes(padding))
    throw new EngineError(`padding_mode "${padding}" is not supported`);
  const alignCorners = ctx.attributes.int('align_corners', 0) !== 0;
  const [batch, channels, ...spatial] = x.dims as [number, number, ...number[]];
  const rank = spatial.length;
  const outSpatial = grid.dims.slice(1, -1);
  if (grid.dims[0] !== batch || grid.dims[grid.dims.length - 1] !== rank || outSpatial.length !== rank) {
    throw new EngineError(`grid [${grid.dims}] does not fit X [${x.dims}]`);
  }
  const axes: SampleAxis[] = spatial.map((size) => ({
    size,
    low: alignCorners ? 0 : -0.5,
    high: alignCorners ? size - 1 : size - 0.5,
    alignCorners,
  }));
  const values = floatData(x);
  const coordinates = floatData(grid);
  const imageStrides = stridesOf(spatial);
  const imageSize = sizeOf(spatial);
  const points = sizeOf(outSpatial);
  const out = new Float64Array(batch * channels * points);
  for (let n = 0; n < batch; n++) {
    for (let p = 0; p < points; p++) {
      const at = (n * points + p) * rank;
      // Grid entry k is the coordinate of spatial axis rank−1−k.
      const taps = axes.map((axis, a) => axisTaps(coordinates[at + rank - 1 - a]!, axis, mode, padding));
      const stencil = combineTaps(taps, axes, imageStrides, padding);
      for (let c = 0; c < channels; c++) {
        const plane = (n * channels + c) * imageSize;
        let sum = 0;
        for (const { index, weight } of stencil) if (index >= 0) sum += weight * values[plane + index]!;
        out[(n * channels + c) * points + p] = sum;
      }
    }
  }
  return [tensorOf(x.dtype, [batch, channels, ...outSpatial], out)];
};

/** The tensor product of per-axis taps: flat image offsets (−1 for zero padding) with weight products. */
function combineTaps(taps: Tap[][], axes: SampleAxis[], strides: number[], padding: Padding): Tap[] {
  let stencil: Tap[] = [{ index: 0, weight: 1 }];
  taps.forEach((axisTaps, a) => {
    stencil = stencil.flatMap((s) =>
      axisTaps.map((t) => {
        const index = paddedIndex(t.index, axes[a]!, padding);
        return { index: s.index < 0 || index < 0 ? -1 : s.index + index * strides[a]!, weight: s.weight * t.weight };
      }),
    );
  });
  return stencil;
}

// ---- MaxUnpool and Col2Im ---------------------------------------------------------------------------

/**
 * MaxUnpool: X's values scattered to their `I` positions of a zero output (MaxPool's inverse). The indices
 * are flat positions in the unpooled shape the attributes give; a larger output_shape keeps their
 * coordinates (the extra rows and columns stay zero).
 */
const MaxUnpool: Kernel = (inputs, ctx) => {
  const x = expectTensor(inputs[0], 'X');
  const indices = intsOf(inputs[1], 'I');
  const [batch, channels, ...spatial] = x.dims as [number, number, ...number[]];
  const kernel = ctx.attributes.ints('kernel_shape');
  const strides = spatialInts(ctx, 'strides', kernel.length, 1);
  const pads = spatialInts(ctx, 'pads', 2 * kernel.length, 0);
  const unpooled = [
    batch,
    channels,
    ...spatial.map((d, a) => (d - 1) * strides[a]! + kernel[a]! - pads[a]! - pads[a + kernel.length]!),
  ];
  const outDims = optionalInts(inputs[2], 'output_shape') ?? unpooled;
  if (outDims.length !== unpooled.length || outDims.some((d, a) => d < unpooled[a]!)) {
    throw new EngineError(`output_shape [${outDims}] is smaller than the unpooled shape [${unpooled}]`);
  }
  const [from, to] = [stridesOf(unpooled), stridesOf(outDims)];
  const source = floatData(x);
  const out = new Float64Array(sizeOf(outDims));
  indices.forEach((at, i) => {
    if (at < 0 || at >= sizeOf(unpooled)) throw new EngineError(`index ${at} is outside the unpooled shape`);
    const target = from.reduce((sum, stride, a) => sum + (Math.floor(at / stride) % unpooled[a]!) * to[a]!, 0);
    out[target] = source[i]!;
  });
  return [tensorOf(x.dtype, outDims, out)];
};

/** Col2Im: sums the columns of a [N, C·∏block, L] patch matrix back into [N, C, ...image_shape]. */
const Col2Im: Kernel = (inputs, ctx) => {
  const input = expectTensor(inputs[0], 'input');
  const image = intsOf(inputs[1], 'image_shape');
  const block = intsOf(inputs[2], 'block_shape');
  const geometry = slidingWindow(ctx, image, block);
  const table = patchTable(geometry);
  const [batch, rows, columns] = input.dims as [number, number, number];
  if (rows % table.taps !== 0 || columns !== table.positions) {
    throw new EngineError(`input [${input.dims}] does not fit blocks [${block}] over image [${image}]`);
  }
  const channels = rows / table.taps;
  const col = Float64Array.from(floatData(input));
  const out = new Float64Array(batch * channels * table.imageSize);
  for (let n = 0; n < batch; n++) {
    const patches = col.subarray(n * rows * columns, (n + 1) * rows * columns);
    col2imAdd(table, patches, out, n * channels * table.imageSize, channels, null);
  }
  return [tensorOf(input.dtype, [batch, channels, ...image], out)];
};

export const visionKernels: Record<string, Kernel> = { NonMaxSuppression, GridSample, MaxUnpool, Col2Im };
