/**
 * Resize and the deprecated Upsample, following the ONNX reference implementation. Interpolation is
 * separable: every resized axis gets 1-D taps (for each output position, source indices and weights),
 * applied one axis after the other in double precision and rounded to the element type at the end;
 * nearest mode is a pure index gather and works for every element type.
 */
import type { Tensor } from '../../onnx';
import { expectTensor, isBigIntDType, sizeOf, toNumbers } from '../tensors';
import { EngineError, tensor, type Kernel, type KernelContext, type Value } from '../types';
import { wasmUpsampleNearest } from '../wasm/kernels';
import { WASM_MIN_ELEMENTS } from './elementwise-core';
import { castTensor } from './shape-cast';
import { gatherAxes, normalizeAxes, repeatOf, spanSize } from './shape-copy';

type Mode = 'nearest' | 'linear' | 'cubic';

interface Settings {
  readonly mode: Mode;
  readonly transform: string;
  /** nearest_mode, or 'legacy' for Resize-10/Upsample (no nearest_mode attribute yet). */
  readonly nearest: string;
  readonly cubicA: number;
  readonly excludeOutside: boolean;
  readonly extrapolation: number;
  readonly antialias: boolean;
}

/** How one axis is resized. */
interface AxisResize {
  readonly inLen: number;
  readonly outLen: number;
  readonly scale: number;
  readonly roiStart: number;
  readonly roiEnd: number;
}

/** Per output position of one axis: `count` source indices and weights; `outside` marks extrapolation. */
interface Taps {
  readonly count: number;
  readonly index: Int32Array;
  readonly weight: Float64Array;
  readonly outside: Uint8Array;
}

const TRANSFORMS = new Set([
  'half_pixel',
  'half_pixel_symmetric',
  'pytorch_half_pixel',
  'align_corners',
  'asymmetric',
  'tf_half_pixel_for_nn',
  'tf_crop_and_resize',
]);
const NEAREST_MODES = new Set(['round_prefer_floor', 'round_prefer_ceil', 'floor', 'ceil']);

/** The input coordinate output position x maps to (the reference's formulas, float output width included). */
function sourceCoordinate(x: number, axis: AxisResize, transform: string): number {
  const { inLen, outLen, scale } = axis;
  const outWidth = scale * inLen;
  switch (transform) {
    case 'align_corners':
      return outWidth === 1 ? 0 : (x * (inLen - 1)) / (outWidth - 1);
    case 'asymmetric':
      return x / scale;
    case 'tf_half_pixel_for_nn':
      return (x + 0.5) / scale;
    case 'tf_crop_and_resize': {
      const { roiStart, roiEnd } = axis;
      const offset = roiStart * (inLen - 1);
      if (outWidth === 1) return ((roiEnd - roiStart) * (inLen - 1)) / 2 + offset;
      return (x * (roiEnd - roiStart) * (inLen - 1)) / (outWidth - 1) + offset;
    }
    case 'pytorch_half_pixel':
      return outWidth === 1 ? -0.5 : (x + 0.5) / scale - 0.5;
    case 'half_pixel_symmetric': {
      // Centres the (possibly non-integer) scaled input on the integer-sized output.
      const offset = (inLen / 2) * (1 - outLen / outWidth);
      return offset + (x + 0.5) / scale - 0.5;
    }
    default:
      return (x + 0.5) / scale - 0.5;
  }
}

function nearestIndex(coordinate: number, mode: string, scale: number): number {
  const floor = Math.floor(coordinate);
  const ratio = coordinate - floor;
  if (ratio === 0) return floor;
  switch (mode) {
    case 'round_prefer_floor':
      return ratio <= 0.5 ? floor : floor + 1;
    case 'round_prefer_ceil':
      return ratio < 0.5 ? floor : floor + 1;
    case 'floor':
      return floor;
    case 'ceil':
      return floor + 1;
    default:
      // Resize-10/Upsample, as onnxruntime runs them: floor when upsampling, ceil when downsampling.
      return scale < 1 ? floor + 1 : floor;
  }
}

function cubicKernel(a: number): (t: number) => number {
  return (t) => {
    const x = Math.abs(t);
    if (x <= 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
    if (x < 2) return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a;
    return 0;
  };
}

const linearKernel = (t: number) => Math.max(0, 1 - Math.abs(t));

function axisTaps(axis: AxisResize, settings: Settings): Taps {
  const { inLen, outLen, scale } = axis;
  const { mode, transform, antialias, excludeOutside } = settings;
  // Antialiasing widens the kernel by 1/scale when downsampling.
  const stretch = antialias ? Math.min(scale, 1) : 1;
  const support = mode === 'cubic' ? 2 : 1;
  const first = mode === 'nearest' ? 0 : Math.floor(-support / stretch) + 1;
  const count = mode === 'nearest' ? 1 : 2 - 2 * first;
  const kernel = mode === 'cubic' ? cubicKernel(settings.cubicA) : linearKernel;
  const taps: Taps = {
    count,
    index: new Int32Array(outLen * count),
    weight: new Float64Array(outLen * count),
    outside: new Uint8Array(outLen),
  };
  const clamp = (i: number) => Math.min(Math.max(i, 0), inLen - 1);
  for (let x = 0; x < outLen; x++) {
    const coordinate = sourceCoordinate(x, axis, transform);
    if (transform === 'tf_crop_and_resize' && (coordinate < 0 || coordinate > inLen - 1)) {
      taps.outside[x] = 1;
      continue;
    }
    if (mode === 'nearest') {
      taps.index[x] = clamp(nearestIndex(coordinate, settings.nearest, scale));
      taps.weight[x] = 1;
      continue;
    }
    // The left neighbour: ratio in (0, 1], so an integer coordinate counts as 1 past its left neighbour.
    let base = Math.floor(coordinate);
    let ratio = coordinate - base;
    if (ratio === 0) [base, ratio] = [base - 1, 1];
    const weights = Array.from({ length: count }, (_, t) => kernel((first + t - ratio) * stretch));
    const inside = (t: number) => base + first + t >= 0 && base + first + t < inLen;
    if (excludeOutside) weights.forEach((_, t) => (weights[t] = inside(t) ? weights[t]! : 0));
    if (antialias || excludeOutside) {
      const sum = weights.reduce((a, b) => a + b, 0);
      weights.forEach((w, t) => (weights[t] = w / sum));
    }
    for (let t = 0; t < count; t++) {
      taps.index[x * count + t] = clamp(base + first + t);
      taps.weight[x * count + t] = weights[t]!;
    }
  }
  return taps;
}

/** Applies one axis's taps to double data of shape `dims`. */
function resampleAxis(data: Float64Array, dims: readonly number[], axis: number, taps: Taps, fill: number) {
  const inLen = dims[axis]!;
  const outLen = taps.outside.length;
  const outer = spanSize(dims, 0, axis);
  const inner = spanSize(dims, axis + 1);
  const out = new Float64Array(outer * outLen * inner);
  for (let o = 0; o < outer; o++) {
    for (let x = 0; x < outLen; x++) {
      const to = (o * outLen + x) * inner;
      if (taps.outside[x]) {
        out.fill(fill, to, to + inner);
        continue;
      }
      for (let t = 0; t < taps.count; t++) {
        const w = taps.weight[x * taps.count + t]!;
        const from = (o * inLen + taps.index[x * taps.count + t]!) * inner;
        for (let j = 0; j < inner; j++) out[to + j]! += w * data[from + j]!;
      }
    }
  }
  return out;
}

/** Whether the taps reproduce the axis unchanged (e.g. an axis Resize does not touch). */
function isIdentity(taps: Taps, inLen: number): boolean {
  if (taps.outside.length !== inLen || taps.outside.some((o) => o)) return false;
  for (let x = 0; x < inLen; x++) {
    for (let t = 0; t < taps.count; t++) {
      const w = taps.weight[x * taps.count + t]!;
      if (w !== 0 && (w !== 1 || taps.index[x * taps.count + t] !== x)) return false;
    }
  }
  return true;
}

function interpolate(input: Tensor, axes: readonly AxisResize[], settings: Settings): Tensor {
  const outDims = axes.map((a) => a.outLen);
  const taps = axes.map((axis) => axisTaps(axis, settings));
  if (settings.mode === 'nearest') {
    const maps = taps.map((t) => t.index.map((index, x) => (t.outside[x] ? -1 : index)));
    const upsampled = input.data instanceof Float32Array ? integerUpsampling(input.dims, maps) : null;
    if (upsampled) return tensor('float32', outDims, wasmUpsampleNearest(input.data as Float32Array, ...upsampled));
    const fill = isBigIntDType(input.dtype) ? BigInt(Math.trunc(settings.extrapolation)) : settings.extrapolation;
    return tensor(input.dtype, outDims, gatherAxes(input.data, input.dims, maps, fill) as never);
  }
  if (input.dtype === 'string' || input.dtype === 'bool') throw new EngineError(`cannot interpolate ${input.dtype}`);
  let dims = [...input.dims];
  let data = Float64Array.from(toNumbers(input));
  taps.forEach((axisTaps, axis) => {
    if (isIdentity(axisTaps, dims[axis]!)) return;
    data = resampleAxis(data, dims, axis, axisTaps, settings.extrapolation);
    dims[axis] = axisTaps.outside.length;
  });
  // Back to the element type as the reference does (astype: floats round, integers truncate).
  return castTensor(tensor('float64', dims, data), input.dtype);
}

/**
 * Nearest upsampling by integer factors of the two last axes, the others kept (as PaddleOCR's feature
 * pyramids resize): the planes, their [h, w] and the factors [rh, rw] for `wasmUpsampleNearest`; else null.
 */
function integerUpsampling(dims: readonly number[], maps: readonly Int32Array[]) {
  const rank = dims.length;
  if (rank < 2 || sizeOf(dims) < WASM_MIN_ELEMENTS) return null;
  for (let axis = 0; axis < rank - 2; axis++)
    if (maps[axis]!.length !== dims[axis] || maps[axis]!.some((index, i) => index !== i)) return null;
  // Each of the two last axes reads 0, 1, …, its length − 1, each r times.
  const factors = [rank - 2, rank - 1].map((axis) => {
    const r = maps[axis]![0] === 0 ? repeatOf(maps[axis]!) : 0;
    return maps[axis]!.length === r * dims[axis]! ? r : 0;
  });
  if (factors.some((r) => r === 0)) return null;
  return [sizeOf(dims.slice(0, rank - 2)), dims.slice(rank - 2), factors] as const;
}

/** A float input that counts as absent when missing or empty (Resize writes '' or [] for unused ones). */
function optionalFloats(value: Value | undefined, what: string): number[] | undefined {
  if (value === undefined) return undefined;
  const values = toNumbers(expectTensor(value, what));
  return values.length === 0 ? undefined : values;
}

/** Output length, scale and roi of every axis, from scales or sizes over `axes`, as the reference derives them. */
function axisResizes(
  dims: readonly number[],
  axes: readonly number[],
  scales: readonly number[] | undefined,
  sizes: readonly number[] | undefined,
  roi: readonly number[] | undefined,
  policy: string,
): AxisResize[] {
  const given = scales ?? sizes;
  if (!given || (scales && sizes)) throw new EngineError('exactly one of scales and sizes must be given');
  if (given.length !== axes.length) throw new EngineError(`${given.length} scales/sizes for ${axes.length} axes`);
  if (roi && roi.length !== 2 * axes.length) throw new EngineError(`roi needs ${2 * axes.length} values`);
  const scale = dims.map(() => 1);
  const outLen = [...dims];
  if (scales) {
    axes.forEach((axis, i) => (scale[axis] = scales[i]!));
    axes.forEach((axis) => (outLen[axis] = Math.floor(scale[axis]! * dims[axis]!)));
  } else {
    axes.forEach((axis, i) => (scale[axis] = sizes![i]! / dims[axis]!));
    axes.forEach((axis, i) => (outLen[axis] = sizes![i]!));
    if (policy !== 'stretch') {
      if (policy !== 'not_larger' && policy !== 'not_smaller') {
        throw new EngineError(`keep_aspect_ratio_policy "${policy}" is not stretch, not_larger or not_smaller`);
      }
      const chosen = axes.map((axis) => scale[axis]!);
      const common = policy === 'not_larger' ? Math.min(...chosen) : Math.max(...chosen);
      axes.forEach((axis) => {
        scale[axis] = common;
        outLen[axis] = Math.floor(common * dims[axis]! + 0.5);
      });
    }
  }
  if (scale.some((s) => !(s > 0))) throw new EngineError(`scales must be positive, got [${scale.join(', ')}]`);
  const roiStart = dims.map(() => 0);
  const roiEnd = dims.map(() => 1);
  axes.forEach((axis, i) => {
    roiStart[axis] = roi?.[i] ?? 0;
    roiEnd[axis] = roi?.[axes.length + i] ?? 1;
  });
  return dims.map((inLen, a) => ({
    inLen,
    outLen: outLen[a]!,
    scale: scale[a]!,
    roiStart: roiStart[a]!,
    roiEnd: roiEnd[a]!,
  }));
}

function modeOf(ctx: KernelContext): Mode {
  const mode = ctx.attributes.string('mode', 'nearest');
  if (mode === 'nearest' || mode === 'linear' || mode === 'cubic') return mode;
  if (mode === 'bilinear' && ctx.node.opType === 'Upsample') return 'linear';
  throw new EngineError(`mode "${mode}" is not nearest, linear or cubic`);
}

/** Resize-10 and Upsample: scales only, asymmetric coordinates, no tuning attributes. */
function legacyResize(input: Tensor, scales: number[], ctx: KernelContext): Tensor {
  const mode = modeOf(ctx);
  if (mode === 'cubic') throw new EngineError('cubic mode needs Resize from opset 11');
  const settings: Settings = {
    mode,
    transform: 'asymmetric',
    nearest: 'legacy',
    cubicA: -0.75,
    excludeOutside: false,
    extrapolation: 0,
    antialias: false,
  };
  const all = input.dims.map((_, axis) => axis);
  return interpolate(input, axisResizes(input.dims, all, scales, undefined, undefined, 'stretch'), settings);
}

const Resize: Kernel = (inputs, ctx) => {
  const input = expectTensor(inputs[0], 'X');
  if (ctx.opset < 11) return [legacyResize(input, toNumbers(expectTensor(inputs[1], 'scales')), ctx)];
  const { attributes } = ctx;
  const settings: Settings = {
    mode: modeOf(ctx),
    transform: attributes.string('coordinate_transformation_mode', 'half_pixel'),
    nearest: attributes.string('nearest_mode', 'round_prefer_floor'),
    cubicA: attributes.float('cubic_coeff_a', -0.75),
    excludeOutside: attributes.int('exclude_outside', 0) !== 0,
    extrapolation: attributes.float('extrapolation_value', 0),
    antialias: attributes.int('antialias', 0) !== 0,
  };
  if (!TRANSFORMS.has(settings.transform)) {
    throw new EngineError(`coordinate_transformation_mode "${settings.transform}" is not supported`);
  }
  if (!NEAREST_MODES.has(settings.nearest))
    throw new EngineError(`nearest_mode "${settings.nearest}" is not supported`);
  if (settings.antialias && settings.mode === 'nearest') throw new EngineError('antialias needs linear or cubic mode');
  const rank = input.dims.length;
  const axes = attributes.has('axes') ? normalizeAxes(attributes.ints('axes'), rank) : input.dims.map((_, a) => a);
  const resizes = axisResizes(
    input.dims,
    axes,
    optionalFloats(inputs[2], 'scales'),
    optionalFloats(inputs[3], 'sizes'),
    optionalFloats(inputs[1], 'roi'),
    attributes.string('keep_aspect_ratio_policy', 'stretch'),
  );
  if (sizeOf(resizes.map((r) => r.outLen)) > 2 ** 31) throw new EngineError('the resized tensor would be too large');
  return [interpolate(input, resizes, settings)];
};

const Upsample: Kernel = (inputs, ctx) => {
  const input = expectTensor(inputs[0], 'X');
  const scales = ctx.opset < 9 ? ctx.attributes.floats('scales') : toNumbers(expectTensor(inputs[1], 'scales'));
  return [legacyResize(input, scales, ctx)];
};

export const resizeKernels: Record<string, Kernel> = { Resize, Upsample };
