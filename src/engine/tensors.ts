/** Shared tensor helpers for kernels: allocation by dtype, shapes, broadcasting, axis handling. */
import type { DType, SparseTensor, Tensor, TensorDataByDType } from '../onnx';
import { takeFloat32, zeroFloat32 } from './buffers';
import { EngineError, tensor, type Value } from './types';

type NumericDType = Exclude<DType, 'string'>;

const ARRAY_OF: Record<NumericDType, new (n: number) => TensorDataByDType[NumericDType]> = {
  float32: Float32Array,
  float64: Float64Array,
  float16: Float32Array,
  bfloat16: Float32Array,
  float8e4m3fn: Float32Array,
  float8e4m3fnuz: Float32Array,
  float8e5m2: Float32Array,
  float8e5m2fnuz: Float32Array,
  float8e8m0: Float32Array,
  float4e2m1: Float32Array,
  int2: Int8Array,
  uint2: Uint8Array,
  int4: Int8Array,
  uint4: Uint8Array,
  int8: Int8Array,
  uint8: Uint8Array,
  int16: Int16Array,
  uint16: Uint16Array,
  int32: Int32Array,
  uint32: Uint32Array,
  int64: BigInt64Array,
  uint64: BigUint64Array,
  bool: Uint8Array,
  complex64: Float32Array,
  complex128: Float64Array,
};

/** A zero-filled tensor of `dtype` (strings: empty strings). */
export function allocate(dtype: DType, dims: readonly number[]): Tensor {
  const count = sizeOf(dims);
  if (dtype === 'string') return tensor('string', dims, new Array<string>(count).fill(''));
  if (dtype === 'float32') return tensor(dtype, dims, zeroFloat32(count));
  return tensor(dtype, dims, new ARRAY_OF[dtype](count) as never);
}

/** An empty typed array of the same kind as `data` (for kernels that copy elements of any dtype). */
export function sameKindArray<T extends Tensor['data']>(data: T, length: number): T {
  if (Array.isArray(data)) return new Array<string>(length).fill('') as T;
  return new (data.constructor as new (n: number) => T)(length);
}

/**
 * An array of the same kind as `data` whose every element the caller writes (copies, gathers): float32
 * arrays are drawn from the buffer pool, other kinds are new.
 */
export function arrayToFill<T extends Tensor['data']>(data: T, length: number): T {
  return (data instanceof Float32Array ? takeFloat32(length) : sameKindArray(data, length)) as T;
}

export function sizeOf(dims: readonly number[]): number {
  let n = 1;
  for (const d of dims) n *= d;
  return n;
}

export function stridesOf(dims: readonly number[]): number[] {
  const strides = new Array<number>(dims.length);
  let s = 1;
  for (let i = dims.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= dims[i]!;
  }
  return strides;
}

export const isBigIntDType = (dtype: DType): dtype is 'int64' | 'uint64' => dtype === 'int64' || dtype === 'uint64';

export const isFloatDType = (dtype: DType): boolean =>
  dtype === 'float32' ||
  dtype === 'float64' ||
  dtype === 'float16' ||
  dtype === 'bfloat16' ||
  dtype.startsWith('float8');

/** Numpy-style broadcast of two shapes; throws EngineError when incompatible. */
export function broadcastShapes(...shapes: readonly (readonly number[])[]): number[] {
  const rank = Math.max(0, ...shapes.map((s) => s.length));
  const out = new Array<number>(rank).fill(1);
  for (const shape of shapes) {
    for (let i = 0; i < shape.length; i++) {
      const axis = rank - shape.length + i;
      const d = shape[i]!;
      if (out[axis] === 1) out[axis] = d;
      else if (d !== 1 && d !== out[axis]) {
        throw new EngineError(`shapes ${shapes.map((s) => `[${s.join(', ')}]`).join(' and ')} do not broadcast`);
      }
    }
  }
  return out;
}

/**
 * For each element of a tensor of shape `outDims`, the linear index into a tensor of shape `dims` that
 * broadcasts to it.
 */
export function broadcastIndex(dims: readonly number[], outDims: readonly number[]): Int32Array {
  const count = sizeOf(outDims);
  const index = new Int32Array(count);
  const rank = outDims.length;
  const offset = rank - dims.length;
  const strides = stridesOf(dims);
  const step = outDims.map((_, axis) => {
    const own = axis - offset;
    return own < 0 || dims[own] === 1 ? 0 : strides[own]!;
  });
  const outStrides = stridesOf(outDims);
  if (step.every((s, axis) => s === outStrides[axis])) {
    for (let i = 0; i < count; i++) index[i] = i;
    return index;
  }
  const counter = new Array<number>(rank).fill(0);
  let linear = 0;
  for (let i = 0; i < count; i++) {
    index[i] = linear;
    for (let axis = rank - 1; axis >= 0; axis--) {
      counter[axis]!++;
      linear += step[axis]!;
      if (counter[axis]! < outDims[axis]!) break;
      linear -= step[axis]! * outDims[axis]!;
      counter[axis] = 0;
    }
  }
  return index;
}

/** Normalises a possibly negative axis against a rank. */
export function normalizeAxis(axis: number, rank: number, what = 'axis'): number {
  const a = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(a) || a < 0 || a >= Math.max(rank, 1))
    throw new EngineError(`${what} ${axis} is out of range for rank ${rank}`);
  return a;
}

/** The values of an integer (or float) tensor as JS numbers, e.g. a shape or axes input. */
export function toNumbers(t: Tensor): number[] {
  if (t.dtype === 'string') throw new EngineError('expected a numeric tensor, got strings');
  // A plain loop: Array.from with a mapping callback costs more than the conversion on small inputs.
  const data = t.data as ArrayLike<number | bigint>;
  const numbers = new Array<number>(data.length);
  for (let i = 0; i < data.length; i++) numbers[i] = Number(data[i]);
  return numbers;
}

/** Integers as int64 data (shapes, indices). */
export function int64Data(values: readonly number[]): BigInt64Array {
  // A plain loop: BigInt64Array.from with a mapping callback costs ten times more on a few values.
  const data = new BigInt64Array(values.length);
  for (let i = 0; i < values.length; i++) data[i] = BigInt(values[i]!);
  return data;
}

/** A required tensor input; sequences and absent values are errors. */
export function expectTensor(value: Value | undefined, what: string): Tensor {
  if (value === undefined) throw new EngineError(`${what} is missing`);
  if (Array.isArray(value)) throw new EngineError(`${what} is a sequence, expected a tensor`);
  return value;
}

/** The float32 data of a tensor, or an EngineError naming the dtype. */
export function float32Data(t: Tensor, what: string): Float32Array {
  if (t.dtype !== 'float32') throw new EngineError(`${what} must be float32 here, got ${t.dtype}`);
  return t.data;
}

/** The dense tensor of a sparse one: values at linear or [NNZ, rank] coordinate indices, zeros elsewhere. */
export function densify({ dims, values, indices }: SparseTensor): Tensor {
  const out = sameKindArray(values.data, sizeOf(dims)) as Float32Array;
  const source = values.data as Float32Array;
  const positions = toNumbers(indices);
  const coordinates = indices.dims.length === 2 ? indices.dims[1]! : 0;
  const strides = stridesOf(dims);
  for (let v = 0; v < source.length; v++) {
    let linear = coordinates === 0 ? positions[v]! : 0;
    for (let d = 0; d < coordinates; d++) linear += positions[v * coordinates + d]! * strides[d]!;
    out[linear] = source[v]!;
  }
  return tensor(values.dtype, dims, out as never);
}
