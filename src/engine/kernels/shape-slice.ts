/**
 * Kernels that cut tensors into boxes or assemble them from boxes: Slice, Concat, Split, Tile and
 * Expand, each a few `copyBox` calls, and Pad, a `gatherAxes` with one index map per axis.
 */
import type { Tensor } from '../../onnx';
import { arrayToFill, broadcastShapes, expectTensor, normalizeAxis, sizeOf, stridesOf } from '../tensors';
import { EngineError, tensor, type Kernel } from '../types';
import {
  copyBox,
  denseLayout,
  gatherAxes,
  intsOf,
  normalizeAxes,
  optionalInts,
  spanSize,
  type Layout,
} from './shape-copy';

interface AxisRange {
  readonly start: number;
  readonly count: number;
  readonly step: number;
}

/** ONNX Slice semantics for one axis: negative positions count from the end, then clamping per direction. */
function sliceRange(dim: number, start: number, end: number, step: number): AxisRange {
  if (step === 0) throw new EngineError('slice step cannot be 0');
  // INT64 sentinels (±2^63) arrive as huge doubles; clamping makes them exact again.
  const from = start < 0 ? start + dim : start;
  const to = end < 0 ? end + dim : end;
  const clampedStart = step > 0 ? Math.min(Math.max(from, 0), dim) : Math.min(Math.max(from, 0), dim - 1);
  const clampedEnd = step > 0 ? Math.min(Math.max(to, 0), dim) : Math.min(Math.max(to, -1), dim - 1);
  const count = Math.max(0, Math.ceil((clampedEnd - clampedStart) / step));
  return { start: clampedStart, count, step };
}

function sliceTensor(
  data: Tensor,
  starts: readonly number[],
  ends: readonly number[],
  axes: readonly number[] | undefined,
  steps: readonly number[] | undefined,
): Tensor {
  const rank = data.dims.length;
  const sliced = normalizeAxes(axes ?? starts.map((_, i) => i), rank);
  if (ends.length !== starts.length || sliced.length !== starts.length || (steps && steps.length !== starts.length)) {
    throw new EngineError('starts, ends, axes and steps must have the same length');
  }
  const ranges: AxisRange[] = data.dims.map((dim) => ({ start: 0, count: dim, step: 1 }));
  sliced.forEach((axis, i) => {
    ranges[axis] = sliceRange(data.dims[axis]!, starts[i]!, ends[i]!, steps?.[i] ?? 1);
  });
  const dims = ranges.map((r) => r.count);
  if (ranges.every((r, axis) => r.start === 0 && r.step === 1 && r.count === data.dims[axis])) return data;
  const strides = stridesOf(data.dims);
  const from: Layout = {
    offset: ranges.reduce((offset, r, axis) => offset + r.start * strides[axis]!, 0),
    strides: ranges.map((r, axis) => r.step * strides[axis]!),
  };
  const out = arrayToFill(data.data, sizeOf(dims));
  copyBox(data.data, from, out, denseLayout(dims), dims);
  return tensor(data.dtype, dims, out as never);
}

const Slice: Kernel = (inputs, ctx) => {
  const data = expectTensor(inputs[0], 'data');
  if (ctx.opset < 10) {
    const axes = ctx.attributes.has('axes') ? ctx.attributes.ints('axes') : undefined;
    return [sliceTensor(data, ctx.attributes.ints('starts'), ctx.attributes.ints('ends'), axes, undefined)];
  }
  const axes = optionalInts(inputs[3], 'axes');
  const steps = optionalInts(inputs[4], 'steps');
  return [sliceTensor(data, intsOf(inputs[1], 'starts'), intsOf(inputs[2], 'ends'), axes, steps)];
};

/** Joins tensors of equal dtype and equal dims except along `axis` (possibly negative). */
export function concatTensors(parts: readonly Tensor[], axisAttribute: number): Tensor {
  const first = parts[0];
  if (!first) throw new EngineError('nothing to concatenate');
  const rank = first.dims.length;
  const axis = normalizeAxis(axisAttribute, rank);
  for (const part of parts) {
    const mismatch = part.dims.length !== rank || part.dims.some((d, a) => a !== axis && d !== first.dims[a]);
    if (part.dtype !== first.dtype || mismatch) {
      const show = (t: Tensor) => `${t.dtype}[${t.dims.join(', ')}]`;
      throw new EngineError(`cannot concatenate ${show(part)} with ${show(first)} along axis ${axis}`);
    }
  }
  const dims = [...first.dims];
  dims[axis] = parts.reduce((sum, part) => sum + part.dims[axis]!, 0);
  const out = arrayToFill(first.data, sizeOf(dims));
  // Each part is `outer` rows of one contiguous block, placed side by side in the output's rows.
  const outer = spanSize(dims, 0, axis);
  const row = spanSize(dims, axis);
  let offset = 0;
  for (const part of parts) {
    const block = spanSize(part.dims, axis);
    copyBox(part.data, denseLayout([outer, block]), out, { offset, strides: [row, 1] }, [outer, block]);
    offset += block;
  }
  return tensor(first.dtype, dims, out as never);
}

/** Cuts `input` along `axis` into consecutive pieces of the given sizes. */
export function splitTensor(input: Tensor, axis: number, sizes: readonly number[]): Tensor[] {
  const dim = input.dims[axis]!;
  if (sizes.some((s) => s < 0) || sizes.reduce((a, b) => a + b, 0) !== dim) {
    throw new EngineError(`split sizes [${sizes.join(', ')}] do not add up to dim ${dim} of axis ${axis}`);
  }
  const outer = spanSize(input.dims, 0, axis);
  const inner = spanSize(input.dims, axis + 1);
  let start = 0;
  return sizes.map((size) => {
    const dims = [...input.dims];
    dims[axis] = size;
    const out = arrayToFill(input.data, outer * size * inner);
    const from: Layout = { offset: start * inner, strides: [dim * inner, 1] };
    copyBox(input.data, from, out, denseLayout([outer, size * inner]), [outer, size * inner]);
    start += size;
    return tensor(input.dtype, dims, out as never);
  });
}

/** `parts` pieces of ceil(dim / parts), the last ones smaller; `uneven` says whether that is allowed. */
export function equalParts(dim: number, parts: number, uneven: boolean): number[] {
  if (parts < 1) throw new EngineError(`cannot split into ${parts} parts`);
  if (!uneven && dim % parts !== 0) throw new EngineError(`dim ${dim} does not split into ${parts} equal parts`);
  const chunk = Math.ceil(dim / parts);
  return Array.from({ length: parts }, (_, i) => Math.min(chunk, Math.max(0, dim - i * chunk)));
}

const Concat: Kernel = (inputs, ctx) => {
  const parts = inputs.map((value, i) => expectTensor(value, `input ${i}`));
  return [concatTensors(parts, ctx.attributes.int('axis', ctx.opset < 4 ? 1 : undefined))];
};

const Split: Kernel = (inputs, ctx) => {
  const input = expectTensor(inputs[0], 'input');
  const axis = normalizeAxis(ctx.attributes.int('axis', 0), input.dims.length);
  const given =
    ctx.opset >= 13
      ? optionalInts(inputs[1], 'split')
      : ctx.attributes.has('split')
        ? ctx.attributes.ints('split')
        : undefined;
  const parts = ctx.attributes.int('num_outputs', ctx.node.outputs.length);
  return splitTensor(input, axis, given ?? equalParts(input.dims[axis]!, parts, ctx.opset >= 18));
};

/** Where each output element of a broadcast from `dims` to `outDims` reads: stride 0 along broadcast axes. */
function broadcastLayout(dims: readonly number[], outDims: readonly number[]): Layout {
  const strides = stridesOf(dims);
  const lead = outDims.length - dims.length;
  return {
    offset: 0,
    strides: outDims.map((_, axis) => (axis < lead || dims[axis - lead] === 1 ? 0 : strides[axis - lead]!)),
  };
}

const Expand: Kernel = (inputs) => {
  const input = expectTensor(inputs[0], 'input');
  const dims = broadcastShapes(input.dims, intsOf(inputs[1], 'shape'));
  if (dims.length === input.dims.length && dims.every((d, a) => d === input.dims[a])) return [input];
  const out = arrayToFill(input.data, sizeOf(dims));
  copyBox(input.data, broadcastLayout(input.dims, dims), out, denseLayout(dims), dims);
  return [tensor(input.dtype, dims, out as never)];
};

const Tile: Kernel = (inputs) => {
  const input = expectTensor(inputs[0], 'input');
  const repeats = intsOf(inputs[1], 'repeats');
  const rank = input.dims.length;
  if (repeats.length !== rank || repeats.some((r) => r < 0)) {
    throw new EngineError(`repeats [${repeats.join(', ')}] do not fit rank ${rank}`);
  }
  const dims = input.dims.map((d, a) => d * repeats[a]!);
  // Output axis a is the pair (repeat, position) of sizes (repeats[a], dims[a]); the repeat reads stride 0.
  const strides = stridesOf(input.dims);
  const outStrides = stridesOf(dims);
  const box = input.dims.flatMap((d, a) => [repeats[a]!, d]);
  const from = input.dims.flatMap((_, a) => [0, strides[a]!]);
  const to = input.dims.flatMap((d, a) => [d * outStrides[a]!, outStrides[a]!]);
  const out = arrayToFill(input.data, sizeOf(dims));
  copyBox(input.data, { offset: 0, strides: from }, out, { offset: 0, strides: to }, box);
  return [tensor(input.dtype, dims, out as never)];
};

type PadMode = 'constant' | 'reflect' | 'edge' | 'wrap';

/**
 * For one axis, the input index each output index reads (-1: the constant). Negative pads crop first;
 * the remaining positive pads then extend the cropped range by the mode's rule.
 */
function padMap(dim: number, before: number, after: number, mode: PadMode): Int32Array {
  const lo = Math.max(0, -before);
  const kept = dim - lo - Math.max(0, -after);
  const lead = Math.max(0, before);
  const map = new Int32Array(lead + kept + Math.max(0, after));
  for (let o = 0; o < map.length; o++) {
    const i = o - lead;
    if (i >= 0 && i < kept) map[o] = lo + i;
    else if (mode === 'constant') map[o] = -1;
    else if (kept === 0) throw new EngineError(`cannot pad an empty axis in mode "${mode}"`);
    else map[o] = lo + outsideIndex(i, kept, mode);
  }
  return map;
}

/** The index within [0, n) that position i outside it mirrors (reflect), clamps to (edge) or wraps to. */
function outsideIndex(i: number, n: number, mode: Exclude<PadMode, 'constant'>): number {
  if (mode === 'edge') return Math.min(Math.max(i, 0), n - 1);
  if (mode === 'wrap') return ((i % n) + n) % n;
  if (n === 1) return 0;
  const period = 2 * (n - 1);
  const j = ((i % period) + period) % period;
  return j < n ? j : period - j;
}

const Pad: Kernel = (inputs, ctx) => {
  const data = expectTensor(inputs[0], 'data');
  const rank = data.dims.length;
  const mode = ctx.attributes.string('mode', 'constant');
  if (mode !== 'constant' && mode !== 'reflect' && mode !== 'edge' && mode !== 'wrap') {
    throw new EngineError(`pad mode "${mode}" is not constant, reflect, edge or wrap`);
  }
  const legacy = ctx.opset < 11;
  const pads = legacy ? ctx.attributes.ints(ctx.opset < 2 ? 'paddings' : 'pads') : intsOf(inputs[1], 'pads');
  const axes = legacy ? undefined : optionalInts(inputs[3], 'axes');
  const padded = axes ? normalizeAxes(axes, rank) : data.dims.map((_, axis) => axis);
  if (pads.length !== 2 * padded.length) {
    throw new EngineError(`${pads.length} pads do not fit ${padded.length} padded axes`);
  }
  const before = new Array<number>(rank).fill(0);
  const after = new Array<number>(rank).fill(0);
  padded.forEach((axis, i) => {
    before[axis] = pads[i]!;
    after[axis] = pads[i + padded.length]!;
  });
  if (data.dims.some((d, a) => d + before[a]! + after[a]! < 0)) {
    throw new EngineError(`pads [${pads.join(', ')}] crop more than the input [${data.dims.join(', ')}] has`);
  }
  const maps = data.dims.map((d, a) => padMap(d, before[a]!, after[a]!, mode));
  const constant = legacy
    ? ctx.attributes.float('value', 0)
    : inputs[2]
      ? expectTensor(inputs[2], 'constant_value').data[0]
      : undefined;
  return [
    tensor(
      data.dtype,
      maps.map((m) => m.length),
      gatherAxes(data.data, data.dims, maps, constant) as never,
    ),
  ];
};

export const sliceKernels: Record<string, Kernel> = { Slice, Concat, Split, Expand, Tile, Pad };
