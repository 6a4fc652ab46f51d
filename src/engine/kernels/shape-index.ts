/**
 * Kernels that pick or place elements by index tensors: Gather, GatherElements, GatherND, the Scatter
 * family, OneHot, NonZero and Trilu.
 */
import type { DType, Tensor } from '../../onnx';
import { arrayToFill, expectTensor, normalizeAxis, sameKindArray, sizeOf, stridesOf, toNumbers } from '../tensors';
import { EngineError, tensor, type Kernel } from '../types';
import { narrowRounding } from './shape-cast';
import { copyRun, spanSize, zeroOf, type Elements } from './shape-copy';

/** An index into an axis of size `dim`, negative counting from the end; out of range is an error. */
function checkIndex(index: number, dim: number): number {
  const i = index < 0 ? index + dim : index;
  if (!(i >= 0 && i < dim)) throw new EngineError(`index ${index} is out of range for an axis of size ${dim}`);
  return i;
}

const Gather: Kernel = (inputs, ctx) => {
  const data = expectTensor(inputs[0], 'data');
  const indices = expectTensor(inputs[1], 'indices');
  const axis = normalizeAxis(ctx.attributes.int('axis', 0), data.dims.length);
  const dim = data.dims[axis]!;
  const picks = toNumbers(indices).map((i) => checkIndex(i, dim));
  const dims = [...data.dims.slice(0, axis), ...indices.dims, ...data.dims.slice(axis + 1)];
  // Every pick copies one contiguous block of `inner` elements per outer index.
  const outer = spanSize(data.dims, 0, axis);
  const inner = spanSize(data.dims, axis + 1);
  const out = arrayToFill(data.data, sizeOf(dims));
  let to = 0;
  for (let o = 0; o < outer; o++) {
    for (const pick of picks) {
      copyRun(data.data, (o * dim + pick) * inner, out, to, inner);
      to += inner;
    }
  }
  return [tensor(data.dtype, dims, out as never)];
};

/**
 * For GatherElements/ScatterElements: the position in `data` of each element of `indices`, i.e. the
 * index's own coordinates with the one along `axis` replaced by its value.
 */
function elementPositions(data: Tensor, indices: Tensor, axis: number): Int32Array {
  const rank = data.dims.length;
  if (indices.dims.length !== rank) throw new EngineError(`indices must have rank ${rank} like data`);
  const values = toNumbers(indices);
  const strides = stridesOf(data.dims);
  const dim = data.dims[axis]!;
  const positions = new Int32Array(values.length);
  const counter = new Array<number>(rank).fill(0);
  let base = 0; // data offset of the current coordinates, axis `axis` excluded
  for (let i = 0; i < values.length; i++) {
    positions[i] = base + checkIndex(values[i]!, dim) * strides[axis]!;
    for (let a = rank - 1; a >= 0; a--) {
      counter[a]!++;
      if (a !== axis) base += strides[a]!;
      if (counter[a]! < indices.dims[a]!) break;
      if (a !== axis) base -= strides[a]! * indices.dims[a]!;
      counter[a] = 0;
    }
  }
  return positions;
}

const GatherElements: Kernel = (inputs, ctx) => {
  const data = expectTensor(inputs[0], 'data');
  const indices = expectTensor(inputs[1], 'indices');
  const axis = normalizeAxis(ctx.attributes.int('axis', 0), data.dims.length);
  const positions = elementPositions(data, indices, axis);
  const source = data.data as Elements;
  const out = sameKindArray(data.data, positions.length) as Elements;
  for (let i = 0; i < positions.length; i++) out[i] = source[positions[i]!]!;
  return [tensor(data.dtype, indices.dims, out as never)];
};

interface SliceLookup {
  /** Data offset of the slice each index tuple selects. */
  readonly offsets: Int32Array;
  /** Elements per slice. */
  readonly sliceSize: number;
  /** Output dims: the indices' batch and tuple dims followed by the slice dims. */
  readonly dims: number[];
}

/** GatherND/ScatterND addressing: index tuples over data axes [batchDims, batchDims + k). */
function sliceLookup(data: Tensor, indices: Tensor, batchDims: number): SliceLookup {
  const q = indices.dims.length;
  const k = indices.dims[q - 1];
  if (k === undefined || k > data.dims.length - batchDims) {
    throw new EngineError(`indices [${indices.dims.join(', ')}] do not address data [${data.dims.join(', ')}]`);
  }
  if (indices.dims.slice(0, batchDims).some((d, a) => d !== data.dims[a])) {
    throw new EngineError(`the first ${batchDims} dims of indices and data must agree`);
  }
  const values = toNumbers(indices);
  const strides = stridesOf(data.dims);
  const sliceSize = spanSize(data.dims, batchDims + k);
  const batchSize = spanSize(data.dims, batchDims);
  const tuplesPerBatch = spanSize(indices.dims, batchDims, q - 1);
  const offsets = new Int32Array(spanSize(indices.dims, 0, q - 1));
  for (let t = 0; t < offsets.length; t++) {
    let offset = Math.floor(t / tuplesPerBatch) * batchSize;
    for (let j = 0; j < k; j++) {
      offset += checkIndex(values[t * k + j]!, data.dims[batchDims + j]!) * strides[batchDims + j]!;
    }
    offsets[t] = offset;
  }
  return { offsets, sliceSize, dims: [...indices.dims.slice(0, q - 1), ...data.dims.slice(batchDims + k)] };
}

const GatherND: Kernel = (inputs, ctx) => {
  const data = expectTensor(inputs[0], 'data');
  const indices = expectTensor(inputs[1], 'indices');
  const { offsets, sliceSize, dims } = sliceLookup(data, indices, ctx.attributes.int('batch_dims', 0));
  const out = sameKindArray(data.data, offsets.length * sliceSize);
  offsets.forEach((offset, t) => copyRun(data.data, offset, out, t * sliceSize, sliceSize));
  return [tensor(data.dtype, dims, out as never)];
};

type Combine = (current: number, update: number) => number;

/** How a scatter combines an existing element with an update (the operators also work on bigints). */
const REDUCTIONS: Record<string, Combine> = {
  none: (_, update) => update,
  add: (a, b) => a + b,
  mul: (a, b) => a * b,
  max: (a, b) => (a > b || a !== a ? a : b),
  min: (a, b) => (a < b || a !== a ? a : b),
};

/** The reduction, rounded back into the element type where its storage is wider (narrow floats, bool). */
function combiner(reduction: string, dtype: DType): Combine {
  const combine = REDUCTIONS[reduction];
  if (!combine) throw new EngineError(`reduction "${reduction}" is not none, add, mul, max or min`);
  const round = dtype === 'bool' ? (v: number) => (v ? 1 : 0) : narrowRounding(dtype);
  return round && reduction !== 'none' ? (a, b) => round(combine(a, b)) : combine;
}

/** A copy of `data` with each update combined into the element(s) at its position(s). */
function scatter(data: Tensor, updates: Tensor, offsets: Int32Array, runLength: number, reduction: string): Tensor {
  if (updates.dtype !== data.dtype || updates.data.length !== offsets.length * runLength) {
    throw new EngineError(`updates ${updates.dtype}[${updates.dims.join(', ')}] do not fit the indices`);
  }
  const out = sameKindArray(data.data, data.data.length);
  copyRun(data.data, 0, out, 0, data.data.length);
  const target = out as Elements;
  const source = updates.data as Elements;
  const combine = combiner(reduction, data.dtype);
  for (let t = 0; t < offsets.length; t++) {
    const at = offsets[t]!;
    for (let j = 0; j < runLength; j++) target[at + j] = combine(target[at + j]!, source[t * runLength + j]!);
  }
  return tensor(data.dtype, data.dims, out as never);
}

const ScatterElements: Kernel = (inputs, ctx) => {
  const data = expectTensor(inputs[0], 'data');
  const indices = expectTensor(inputs[1], 'indices');
  const axis = normalizeAxis(ctx.attributes.int('axis', 0), data.dims.length);
  const positions = elementPositions(data, indices, axis);
  const updates = expectTensor(inputs[2], 'updates');
  return [scatter(data, updates, positions, 1, ctx.attributes.string('reduction', 'none'))];
};

const ScatterND: Kernel = (inputs, ctx) => {
  const data = expectTensor(inputs[0], 'data');
  const { offsets, sliceSize } = sliceLookup(data, expectTensor(inputs[1], 'indices'), 0);
  const updates = expectTensor(inputs[2], 'updates');
  return [scatter(data, updates, offsets, sliceSize, ctx.attributes.string('reduction', 'none'))];
};

const OneHot: Kernel = (inputs, ctx) => {
  const indices = expectTensor(inputs[0], 'indices');
  const depth = Math.trunc(toNumbers(expectTensor(inputs[1], 'depth'))[0]!);
  const values = expectTensor(inputs[2], 'values');
  if (values.data.length !== 2) throw new EngineError('values must hold [off_value, on_value]');
  if (!(depth >= 1)) throw new EngineError(`depth must be positive, got ${depth}`);
  const rank = indices.dims.length + 1;
  const axis = normalizeAxis(ctx.attributes.int('axis', -1), rank);
  const dims = [...indices.dims.slice(0, axis), depth, ...indices.dims.slice(axis)];
  const choices = values.data as Elements;
  const out = sameKindArray(values.data, sizeOf(dims)) as Elements;
  out.fill(choices[0]!);
  // Index (o, i) of `indices` (o over the dims before axis, i after) sets output (o, class, i).
  const inner = spanSize(indices.dims, axis);
  const classes = toNumbers(indices);
  classes.forEach((value, position) => {
    const c = Math.trunc(value) < 0 ? Math.trunc(value) + depth : Math.trunc(value);
    if (c < 0 || c >= depth) return; // out-of-range indices leave the row all off
    const o = Math.floor(position / inner);
    out[(o * depth + c) * inner + (position % inner)] = choices[1]!;
  });
  return [tensor(values.dtype, dims, out as never)];
};

const NonZero: Kernel = (inputs) => {
  const input = expectTensor(inputs[0], 'X');
  const zero = zeroOf(input.data);
  const data = input.data as ArrayLike<unknown>;
  const hits: number[] = [];
  for (let i = 0; i < data.length; i++) if (data[i] !== zero) hits.push(i);
  // Row r of the output lists the r-th coordinate of every hit.
  const rank = input.dims.length;
  const strides = stridesOf(input.dims);
  const out = new BigInt64Array(rank * hits.length);
  hits.forEach((linear, h) => {
    for (let r = 0; r < rank; r++) out[r * hits.length + h] = BigInt(Math.floor(linear / strides[r]!) % input.dims[r]!);
  });
  return [tensor('int64', [rank, hits.length], out)];
};

const Trilu: Kernel = (inputs, ctx) => {
  const input = expectTensor(inputs[0], 'input');
  const k = inputs[1] ? toNumbers(expectTensor(inputs[1], 'k'))[0]! : 0;
  const upper = ctx.attributes.int('upper', 1) !== 0;
  const rank = input.dims.length;
  if (rank < 2) throw new EngineError('input must have at least 2 dims');
  const rows = input.dims[rank - 2]!;
  const cols = input.dims[rank - 1]!;
  const out = sameKindArray(input.data, input.data.length);
  // Row i keeps columns j with j - i >= k (upper) or j - i <= k (lower): one contiguous run per row.
  const matrixRows = cols === 0 ? 0 : input.data.length / cols;
  for (let row = 0; row < matrixRows; row++) {
    const i = row % rows;
    const first = upper ? Math.min(Math.max(i + k, 0), cols) : 0;
    const end = upper ? cols : Math.min(Math.max(i + k + 1, 0), cols);
    copyRun(input.data, row * cols + first, out, row * cols + first, end - first);
  }
  return [tensor(input.dtype, input.dims, out as never)];
};

export const indexKernels: Record<string, Kernel> = {
  Gather,
  GatherElements,
  GatherND,
  // Scatter (opsets 9-10) is ScatterElements without a reduction.
  Scatter: ScatterElements,
  ScatterElements,
  ScatterND,
  OneHot,
  NonZero,
  Trilu,
};
