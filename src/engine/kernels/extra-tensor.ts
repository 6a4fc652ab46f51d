/**
 * Data-movement and bookkeeping operators: CumProd, Compress, ReverseSequence, Unique, CenterCropPad,
 * BitCast and the Optional family. None of them multiplies anything but CumProd, whose running products
 * are plain arithmetic (SPEC §6 replaces only the listed ops' products).
 */
import type { DType, Tensor } from '../../onnx';
import { bitsPerElement, dtypeFromCode } from '../../onnx/dtype';
import { allocate, expectTensor, normalizeAxis, stridesOf, toNumbers } from '../tensors';
import { EngineError, tensor, type Kernel } from '../types';
import { axisLayout, elementsOf, kindOf, roundNarrow } from './elementwise-core';
import { cumulate } from './reduce';
import { gatherAxes, intsOf, normalizeAxes, transposeData } from './shape-copy';

// ---- CumProd ----------------------------------------------------------------------------------------

const CumProd: Kernel = (inputs, ctx) => {
  const x = expectTensor(inputs[0], 'x');
  const axis = intsOf(inputs[1], 'axis');
  if (axis.length !== 1) throw new EngineError('axis must hold a single value');
  const layout = axisLayout(x.dims, normalizeAxis(axis[0]!, x.dims.length));
  const options = {
    exclusive: ctx.attributes.int('exclusive', 0) !== 0,
    reverse: ctx.attributes.int('reverse', 0) !== 0,
  };
  const out = allocate(x.dtype, x.dims);
  const kind = kindOf(x);
  if (kind === 'float' || kind === 'integer') {
    // Math.imul wraps 32-bit integer products like C instead of losing bits beyond 2^53.
    const times = kind === 'float' ? (a: number, b: number) => a * b : Math.imul;
    cumulate(elementsOf<number>(x), elementsOf<number>(out), layout, 1, times, options.exclusive, options.reverse);
  } else if (kind === 'bigint') {
    cumulate(
      elementsOf<bigint>(x),
      elementsOf<bigint>(out),
      layout,
      1n,
      (a, b) => a * b,
      options.exclusive,
      options.reverse,
    );
  } else {
    throw new EngineError(`CumProd does not accept ${x.dtype} inputs`);
  }
  return [roundNarrow(out)];
};

// ---- Selections -------------------------------------------------------------------------------------

const identityMap = (n: number) => Int32Array.from({ length: n }, (_, i) => i);

/** Compress: the slices along `axis` whose condition is true (no axis: the flattened elements). */
const Compress: Kernel = (inputs, ctx) => {
  const input = expectTensor(inputs[0], 'input');
  const condition = toNumbers(expectTensor(inputs[1], 'condition'));
  const dims = ctx.attributes.has('axis') ? input.dims : [input.data.length];
  const axis = ctx.attributes.has('axis') ? normalizeAxis(ctx.attributes.int('axis'), dims.length) : 0;
  if (condition.length > dims[axis]!) {
    throw new EngineError(`condition has ${condition.length} entries for an axis of ${dims[axis]}`);
  }
  const kept = condition.flatMap((c, i) => (c ? [i] : []));
  const maps = dims.map((d, a) => (a === axis ? Int32Array.from(kept) : identityMap(d)));
  const outDims = maps.map((m) => m.length);
  return [tensor(input.dtype, outDims, gatherAxes(input.data, dims, maps) as never)];
};

/** ReverseSequence: batch entry b has its first sequence_lens[b] steps along time_axis reversed. */
const ReverseSequence: Kernel = (inputs, ctx) => {
  const input = expectTensor(inputs[0], 'input');
  const lengths = intsOf(inputs[1], 'sequence_lens');
  const rank = input.dims.length;
  const batchAxis = normalizeAxis(ctx.attributes.int('batch_axis', 1), rank, 'batch_axis');
  const timeAxis = normalizeAxis(ctx.attributes.int('time_axis', 0), rank, 'time_axis');
  if (batchAxis === timeAxis) throw new EngineError('batch_axis and time_axis must differ');
  const [batchSize, steps] = [input.dims[batchAxis]!, input.dims[timeAxis]!];
  if (lengths.length !== batchSize || lengths.some((l) => l < 0 || l > steps)) {
    throw new EngineError(`sequence_lens [${lengths}] does not fit ${batchSize} sequences of ${steps} steps`);
  }
  const strides = stridesOf(input.dims);
  const [batchStride, timeStride] = [strides[batchAxis]!, strides[timeAxis]!];
  const source = input.data as Float32Array;
  const out = source.slice();
  for (let i = 0; i < source.length; i++) {
    const b = Math.floor(i / batchStride) % batchSize;
    const t = Math.floor(i / timeStride) % steps;
    const length = lengths[b]!;
    if (t < length) out[i] = source[i + (length - 1 - 2 * t) * timeStride]!;
  }
  return [tensor(input.dtype, input.dims, out as never)];
};

/**
 * CenterCropPad: each listed axis is cropped or zero-padded to the requested size around its centre (the
 * extra element of an odd difference goes to the end).
 */
const CenterCropPad: Kernel = (inputs, ctx) => {
  const input = expectTensor(inputs[0], 'input_data');
  const shape = intsOf(inputs[1], 'shape');
  const rank = input.dims.length;
  const axes = normalizeAxes(ctx.attributes.ints('axes', [...Array(rank).keys()]), rank);
  if (shape.length !== axes.length) throw new EngineError(`shape has ${shape.length} entries for ${axes.length} axes`);
  const maps = input.dims.map((d) => identityMap(d));
  axes.forEach((axis, i) => {
    const [size, target] = [input.dims[axis]!, shape[i]!];
    const shift = size >= target ? Math.floor((size - target) / 2) : -Math.floor((target - size) / 2);
    maps[axis] = Int32Array.from({ length: target }, (_, j) => (j + shift < size ? j + shift : -1));
  });
  const outDims = maps.map((m) => m.length);
  return [tensor(input.dtype, outDims, gatherAxes(input.data, input.dims, maps) as never)];
};

// ---- Unique -----------------------------------------------------------------------------------------

type Scalar = number | bigint;

/** Lexicographic order of two slices, numbers ascending. */
function compareSlices(a: readonly Scalar[], b: readonly Scalar[]): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! < b[i]! ? -1 : 1;
  return 0;
}

/**
 * Unique: the distinct elements (or slices along `axis`), sorted or in order of first occurrence, with the
 * index of each one's first occurrence, each input's position in the output, and the counts.
 */
const Unique: Kernel = (inputs, ctx) => {
  const x = expectTensor(inputs[0], 'X');
  if (kindOf(x) === 'string') throw new EngineError('Unique of string tensors is not supported');
  const hasAxis = ctx.attributes.has('axis');
  const dims = hasAxis ? x.dims : [x.data.length];
  const axis = hasAxis ? normalizeAxis(ctx.attributes.int('axis'), dims.length) : 0;
  const slices = slicesAlong(x.data as ArrayLike<Scalar>, dims, axis);
  const firstOf = new Map<string, number>();
  slices.forEach((s, i) => {
    const key = s.map(String).join();
    if (!firstOf.has(key)) firstOf.set(key, i);
  });
  const order = [...firstOf.values()];
  if (ctx.attributes.int('sorted', 1) !== 0) order.sort((p, q) => compareSlices(slices[p]!, slices[q]!));
  const rankOf = new Map(order.map((first, r) => [slices[first]!.map(String).join(), r]));
  const inverse = slices.map((s) => rankOf.get(s.map(String).join())!);
  const counts = new Array<number>(order.length).fill(0);
  for (const r of inverse) counts[r]!++;
  const maps = dims.map((d, a) => (a === axis ? Int32Array.from(order) : identityMap(d)));
  const y = tensor(
    x.dtype,
    [...dims.slice(0, axis), order.length, ...dims.slice(axis + 1)],
    gatherAxes(x.data, dims, maps) as never,
  );
  const int64 = (values: number[]) => tensor('int64', [values.length], BigInt64Array.from(values, BigInt));
  return [y, int64(order), int64(inverse), int64(counts)];
};

/** The elements of each index along `axis`, as lists (axis moved to the front, then flattened). */
function slicesAlong(data: ArrayLike<Scalar>, dims: readonly number[], axis: number): Scalar[][] {
  const perm = [axis, ...dims.keys()].filter((a, i) => i === 0 || a !== axis);
  const moved = Array.from(transposeData(data as Float32Array, dims, perm) as ArrayLike<Scalar>);
  const n = dims[axis]!;
  const width = n === 0 ? 0 : moved.length / n;
  return Array.from({ length: n }, (_, i) => moved.slice(i * width, (i + 1) * width));
}

// ---- BitCast ----------------------------------------------------------------------------------------

/** Dtypes whose storage holds their own bit patterns (narrow floats and sub-byte ints are stored decoded). */
const NATIVE_STORAGE: ReadonlySet<DType> = new Set([
  'float32',
  'float64',
  'int8',
  'uint8',
  'int16',
  'uint16',
  'int32',
  'uint32',
  'int64',
  'uint64',
  'bool',
]);

/** BitCast between dtypes of one element width: the same bytes read as the `to` type. */
const BitCast: Kernel = (inputs, ctx) => {
  const input = expectTensor(inputs[0], 'input');
  const to = dtypeFromCode(ctx.attributes.int('to'));
  if (!to || !NATIVE_STORAGE.has(to) || !NATIVE_STORAGE.has(input.dtype)) {
    throw new EngineError(`BitCast from ${input.dtype} to ${to ?? 'an unknown type'} is not supported`);
  }
  if (bitsPerElement(to as Exclude<DType, 'string'>) !== bitsPerElement(input.dtype as Exclude<DType, 'string'>)) {
    throw new EngineError(`BitCast between ${input.dtype} and ${to} changes the element width: not supported`);
  }
  const source = input.data as Uint8Array;
  const bytes = source.buffer.slice(source.byteOffset, source.byteOffset + source.byteLength);
  const TargetArray = allocate(to, []).data.constructor as new (buffer: ArrayBufferLike) => Tensor['data'];
  return [tensor(to, input.dims, new TargetArray(bytes) as never)];
};

// ---- Optional ---------------------------------------------------------------------------------------

/** Optional: wraps its input, or makes an empty optional (undefined) when there is none. */
const Optional: Kernel = (inputs) => [inputs[0]];

const OptionalHasElement: Kernel = (inputs) => [tensor('bool', [], Uint8Array.of(inputs[0] === undefined ? 0 : 1))];

const OptionalGetElement: Kernel = (inputs) => {
  if (inputs[0] === undefined) throw new EngineError('the optional input is empty');
  return [inputs[0]];
};

export const tensorKernels: Record<string, Kernel> = {
  CumProd,
  Compress,
  ReverseSequence,
  CenterCropPad,
  Unique,
  BitCast,
  Optional,
  OptionalHasElement,
  OptionalGetElement,
};
