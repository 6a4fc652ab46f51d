/**
 * Tensors: the decoded form of TensorProto, from raw_data (little-endian) or the typed value fields,
 * and the raw_data encoding back (for writing output_K.pb files).
 */
import { onnx } from 'onnx-proto';
import { bitsPerElement, dtypeCode, dtypeFromCode, type DType } from './dtype';
import { OnnxLoadError } from './errors';
import { parseExternalLocation, type ExternalLocation } from './external-data';
import { int64ToBigInt, int64ToNumber, int64ToSafeInteger, type Int64 } from './int64';
import { hostOrderCopy, littleEndianBytes } from './little-endian';
import { decodeTable, encodeNarrowFloat, isNarrowFloat, type NarrowFloatDType } from './narrow-floats';
import { decodeProtobuf, TENSOR_SHAPE } from './protobuf';

/** Element storage per dtype: narrow floats hold their exact values, complex numbers are interleaved. */
export interface TensorDataByDType {
  float32: Float32Array;
  float64: Float64Array;
  float16: Float32Array;
  bfloat16: Float32Array;
  float8e4m3fn: Float32Array;
  float8e4m3fnuz: Float32Array;
  float8e5m2: Float32Array;
  float8e5m2fnuz: Float32Array;
  float8e8m0: Float32Array;
  float4e2m1: Float32Array;
  int2: Int8Array;
  uint2: Uint8Array;
  int4: Int8Array;
  uint4: Uint8Array;
  int8: Int8Array;
  uint8: Uint8Array;
  int16: Int16Array;
  uint16: Uint16Array;
  int32: Int32Array;
  uint32: Uint32Array;
  int64: BigInt64Array;
  uint64: BigUint64Array;
  /** 0 or 1. */
  bool: Uint8Array;
  string: string[];
  complex64: Float32Array;
  complex128: Float64Array;
}

export type TensorData = TensorDataByDType[DType];

export interface TensorOf<D extends DType> {
  name: string;
  dtype: D;
  dims: number[];
  data: TensorDataByDType[D];
  /** Where the data came from when it was stored outside the model file. */
  external?: ExternalLocation;
}

/** A tensor; narrowing on `dtype` narrows `data`. */
export type Tensor = { [D in DType]: TensorOf<D> }[DType];

export interface TensorLimits {
  /** Largest element count accepted for one tensor. */
  readonly maxElements: number;
}

export const DEFAULT_TENSOR_LIMITS: TensorLimits = { maxElements: 2 ** 31 };

/** Number of elements: the product of the dims (1 for a scalar). */
export function elementCount(dims: readonly number[]): number {
  return dims.reduce((a, b) => a * b, 1);
}

/** Bytes the raw_data encoding of `count` elements takes (sub-byte types are packed). */
export function rawByteLength(dtype: Exclude<DType, 'string'>, count: number): number {
  return Math.ceil((count * bitsPerElement(dtype)) / 8);
}

function showDims(dims: readonly number[]): string {
  return `[${dims.join(', ')}]`;
}

/** Validated dims; refuses negative or non-integer dims and element counts beyond the limit. */
export function checkDims(raw: readonly Int64[], where: string, limits: TensorLimits): number[] {
  const dims: number[] = [];
  let count = 1;
  for (const [axis, value] of raw.entries()) {
    const dim = int64ToSafeInteger(value);
    if (dim === undefined) {
      throw new OnnxLoadError('too-large', `${where}: dim ${axis} is ${int64ToBigInt(value)}, beyond any tensor`);
    }
    if (dim < 0) throw new OnnxLoadError('malformed', `${where}: dim ${axis} is negative (${dim})`);
    dims.push(dim);
    count *= dim;
  }
  if (count > limits.maxElements) {
    throw new OnnxLoadError(
      'too-large',
      `${where}: dims ${showDims(dims)} give ${count} elements, over the limit of ${limits.maxElements}`,
    );
  }
  return dims;
}

type PackedDType = 'int2' | 'uint2' | 'int4' | 'uint4' | 'float4e2m1';

function isPacked(dtype: DType): dtype is PackedDType {
  return dtype === 'int2' || dtype === 'uint2' || dtype === 'int4' || dtype === 'uint4' || dtype === 'float4e2m1';
}

/** Sub-byte elements, least significant bits first (as the conformance data confirms). */
function unpack(dtype: PackedDType, bytes: Uint8Array, count: number): TensorData {
  const bits = bitsPerElement(dtype);
  const perByte = 8 / bits;
  const mask = (1 << bits) - 1;
  const codes = new Uint8Array(count);
  for (let i = 0; i < count; i++) codes[i] = (bytes[Math.floor(i / perByte)]! >> ((i % perByte) * bits)) & mask;
  if (dtype === 'float4e2m1') {
    const table = decodeTable(dtype);
    return Float32Array.from(codes, (code) => table[code]!);
  }
  if (dtype === 'int2' || dtype === 'int4') {
    const half = 1 << (bits - 1);
    return Int8Array.from(codes, (code) => (code >= half ? code - 2 * half : code));
  }
  return codes;
}

function lookUp(dtype: NarrowFloatDType, codes: ArrayLike<number>): Float32Array {
  const table = decodeTable(dtype);
  return Float32Array.from(codes, (code) => table[code]!);
}

/** Data from little-endian raw bytes whose length is already checked against the dims. */
function fromRaw(dtype: Exclude<DType, 'string'>, bytes: Uint8Array, count: number): TensorData {
  if (isPacked(dtype)) return unpack(dtype, bytes, count);
  if (isNarrowFloat(dtype)) {
    return lookUp(dtype, bitsPerElement(dtype) === 16 ? new Uint16Array(hostOrderCopy(bytes, 2)) : bytes);
  }
  switch (dtype) {
    case 'float32':
    case 'complex64':
      return new Float32Array(hostOrderCopy(bytes, 4));
    case 'float64':
    case 'complex128':
      return new Float64Array(hostOrderCopy(bytes, 8));
    case 'int8':
      return new Int8Array(hostOrderCopy(bytes, 1));
    case 'uint8':
      return new Uint8Array(hostOrderCopy(bytes, 1));
    case 'bool':
      return Uint8Array.from(bytes, (b) => (b === 0 ? 0 : 1));
    case 'int16':
      return new Int16Array(hostOrderCopy(bytes, 2));
    case 'uint16':
      return new Uint16Array(hostOrderCopy(bytes, 2));
    case 'int32':
      return new Int32Array(hostOrderCopy(bytes, 4));
    case 'uint32':
      return new Uint32Array(hostOrderCopy(bytes, 4));
    case 'int64':
      return new BigInt64Array(hostOrderCopy(bytes, 8));
    case 'uint64':
      return new BigUint64Array(hostOrderCopy(bytes, 8));
  }
}

type ValueField = 'floatData' | 'doubleData' | 'int32Data' | 'int64Data' | 'uint64Data' | 'stringData';

const FIELD_NAMES: Record<ValueField, string> = {
  floatData: 'float_data',
  doubleData: 'double_data',
  int32Data: 'int32_data',
  int64Data: 'int64_data',
  uint64Data: 'uint64_data',
  stringData: 'string_data',
};

/** The typed field onnx.proto assigns to each dtype. */
function valueField(dtype: DType): ValueField {
  switch (dtype) {
    case 'float32':
    case 'complex64':
      return 'floatData';
    case 'float64':
    case 'complex128':
      return 'doubleData';
    case 'int64':
      return 'int64Data';
    case 'uint32':
    case 'uint64':
      return 'uint64Data';
    case 'string':
      return 'stringData';
    default:
      // int32 and every narrower type, one element (or one byte of packed elements) per entry.
      return 'int32Data';
  }
}

/** How many entries of its typed field `count` elements take. */
function fieldLength(dtype: DType, count: number): number {
  if (dtype === 'complex64' || dtype === 'complex128') return 2 * count;
  return isPacked(dtype) ? rawByteLength(dtype, count) : count;
}

const utf8 = new TextDecoder('utf-8');

/** Data from the typed field, whose length is already checked against the dims. */
function fromField(dtype: DType, proto: onnx.ITensorProto, count: number): TensorData {
  switch (dtype) {
    case 'float32':
    case 'complex64':
      return Float32Array.from(proto.floatData!);
    case 'float64':
    case 'complex128':
      return Float64Array.from(proto.doubleData!);
    case 'int64':
      return BigInt64Array.from(proto.int64Data!, (v) => int64ToBigInt(v));
    case 'uint64':
      return BigUint64Array.from(proto.uint64Data!, (v) => int64ToBigInt(v, true));
    case 'uint32':
      return Uint32Array.from(proto.uint64Data!, (v) => int64ToNumber(v));
    case 'string':
      return proto.stringData!.map((bytes) => utf8.decode(bytes));
    case 'int8':
      return Int8Array.from(proto.int32Data!);
    case 'int16':
      return Int16Array.from(proto.int32Data!);
    case 'uint16':
      return Uint16Array.from(proto.int32Data!);
    case 'int32':
      return Int32Array.from(proto.int32Data!);
    case 'uint8':
      return Uint8Array.from(proto.int32Data!);
    case 'bool':
      return Uint8Array.from(proto.int32Data!, (v) => (v === 0 ? 0 : 1));
    default:
      if (isPacked(dtype)) return unpack(dtype, Uint8Array.from(proto.int32Data!), count);
      // Narrow floats: each entry holds one bit pattern.
      return lookUp(dtype, (bitsPerElement(dtype) === 16 ? Uint16Array : Uint8Array).from(proto.int32Data!));
  }
}

function emptyData(dtype: DType): TensorData {
  return dtype === 'string' ? [] : fromRaw(dtype, new Uint8Array(0), 0);
}

function tensorDType(code: number | null | undefined, where: string): DType {
  const dtype = dtypeFromCode(code ?? 0);
  if (dtype) return dtype;
  if (!code) throw new OnnxLoadError('malformed', `${where}: data_type is missing`);
  throw new OnnxLoadError('unsupported', `${where}: data_type ${code} is not a known ONNX element type`);
}

function presentFields(proto: onnx.ITensorProto): ValueField[] {
  return (Object.keys(FIELD_NAMES) as ValueField[]).filter((field) => (proto[field]?.length ?? 0) > 0);
}

/**
 * Decodes one TensorProto. `where` names it in errors ("initializer 'W'"). A tensor stored
 * externally comes back with `external` set and empty data, for `attachExternalData` to fill.
 */
export function decodeTensor(proto: onnx.ITensorProto, where: string, limits: TensorLimits): Tensor {
  const dtype = tensorDType(proto.dataType, where);
  const dims = checkDims(proto.dims ?? [], where, limits);
  const count = elementCount(dims);
  const name = proto.name ?? '';
  if (proto.segment) throw new OnnxLoadError('unsupported', `${where}: segmented tensors are not supported`);
  const raw = proto.rawData ?? new Uint8Array(0);
  const fields = presentFields(proto);
  const field = valueField(dtype);
  const stray = fields.find((f) => f !== field);
  if (stray) {
    throw new OnnxLoadError('malformed', `${where}: a ${dtype} tensor cannot carry ${FIELD_NAMES[stray]}`);
  }
  const tensorOf = (data: TensorData, external?: ExternalLocation): Tensor =>
    ({ name, dtype, dims, data, ...(external ? { external } : {}) }) as Tensor;

  if (proto.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL) {
    if (dtype === 'string') throw new OnnxLoadError('external-data', `${where}: string tensors cannot be external`);
    if (raw.length > 0 || fields.length > 0) {
      throw new OnnxLoadError('external-data', `${where}: is marked external but also carries data in the file`);
    }
    return tensorOf(emptyData(dtype), parseExternalLocation(proto.externalData ?? [], where));
  }

  if (raw.length > 0) {
    if (dtype === 'string') throw new OnnxLoadError('malformed', `${where}: string tensors cannot use raw_data`);
    if (fields.length > 0) {
      throw new OnnxLoadError('malformed', `${where}: carries both raw_data and ${FIELD_NAMES[field]}`);
    }
    const expected = rawByteLength(dtype, count);
    if (raw.length !== expected) {
      throw new OnnxLoadError(
        'malformed',
        `${where}: raw_data has ${raw.length} bytes but dims ${showDims(dims)} of ${dtype} need ${expected}`,
      );
    }
    return tensorOf(fromRaw(dtype, raw, count));
  }
  const actual = proto[field]?.length ?? 0;
  const expected = fieldLength(dtype, count);
  if (actual !== expected) {
    const source = actual === 0 ? 'no data' : `${actual} ${FIELD_NAMES[field]} values`;
    const need = `dims ${showDims(dims)} of ${dtype} need ${expected}`;
    throw new OnnxLoadError('malformed', `${where}: has ${source} but ${need}`);
  }
  return tensorOf(fromField(dtype, proto, count));
}

/** Fills an external tensor with the bytes read for it (already checked to be exactly its size). */
export function attachExternalData(tensor: Tensor, bytes: Uint8Array): void {
  if (tensor.dtype === 'string') throw new Error('string tensors have no external data');
  (tensor as TensorOf<DType>).data = fromRaw(tensor.dtype, bytes, elementCount(tensor.dims));
}

/** Decodes a serialized TensorProto, e.g. a test_data_set_N/input_K.pb file. */
export function decodeTensorProto(bytes: Uint8Array, limits: TensorLimits = DEFAULT_TENSOR_LIMITS): Tensor {
  const proto = decodeProtobuf((b) => onnx.TensorProto.decode(b), bytes, TENSOR_SHAPE, 'the tensor file', 'tensor');
  const tensor = decodeTensor(proto, `tensor '${proto.name}'`, limits);
  if (tensor.external) {
    const why = 'a standalone tensor file cannot refer to external data';
    throw new OnnxLoadError('external-data', `tensor '${tensor.name}': ${why}`);
  }
  return tensor;
}

const utf8Encoder = new TextEncoder();

/** The bit pattern of every value, refusing values the type cannot hold exactly. */
function checkedCodes(
  tensor: TensorOf<NarrowFloatDType | PackedDType>,
  encode: (value: number) => number | undefined,
): Uint8Array | Uint16Array {
  const values = tensor.data;
  const codes = bitsPerElement(tensor.dtype) === 16 ? new Uint16Array(values.length) : new Uint8Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const code = encode(values[i]!);
    if (code === undefined) {
      throw new RangeError(`tensor '${tensor.name}': element ${i} (${values[i]}) is not a ${tensor.dtype} value`);
    }
    codes[i] = code;
  }
  return codes;
}

function pack(tensor: TensorOf<PackedDType>): Uint8Array {
  const { dtype } = tensor;
  const bits = bitsPerElement(dtype);
  const perByte = 8 / bits;
  const low = dtype === 'int2' || dtype === 'int4' ? -(1 << (bits - 1)) : 0;
  const inRange = (v: number): number | undefined =>
    Number.isInteger(v) && v >= low && v < low + (1 << bits) ? v & ((1 << bits) - 1) : undefined;
  const codes = checkedCodes(tensor, dtype === 'float4e2m1' ? (v) => encodeNarrowFloat(dtype, v) : inRange);
  const bytes = new Uint8Array(rawByteLength(dtype, codes.length));
  for (let i = 0; i < codes.length; i++) bytes[Math.floor(i / perByte)]! |= codes[i]! << ((i % perByte) * bits);
  return bytes;
}

function rawBytes(tensor: Tensor): Uint8Array {
  if (tensor.dtype === 'string') throw new Error('string tensors have no raw encoding');
  if (isPacked(tensor.dtype)) return pack(tensor as TensorOf<PackedDType>);
  if (isNarrowFloat(tensor.dtype)) {
    const narrow = tensor as TensorOf<NarrowFloatDType>;
    const codes = checkedCodes(narrow, (v) => encodeNarrowFloat(narrow.dtype, v));
    return littleEndianBytes(codes, codes.BYTES_PER_ELEMENT);
  }
  const data = tensor.data as Exclude<TensorData, string[]>;
  return littleEndianBytes(data, data.BYTES_PER_ELEMENT);
}

/** Serializes a tensor as a TensorProto, numeric data in raw_data, strings in string_data. */
export function encodeTensorProto(tensor: Tensor): Uint8Array {
  const complex = tensor.dtype === 'complex64' || tensor.dtype === 'complex128';
  const expected = elementCount(tensor.dims) * (complex ? 2 : 1);
  if (tensor.data.length !== expected) {
    const need = `dims ${showDims(tensor.dims)} need ${expected}`;
    throw new RangeError(`tensor '${tensor.name}': ${tensor.data.length} values, but ${need}`);
  }
  const message: onnx.ITensorProto = { name: tensor.name, dims: tensor.dims, dataType: dtypeCode(tensor.dtype) };
  if (tensor.dtype === 'string') message.stringData = tensor.data.map((s) => utf8Encoder.encode(s));
  else message.rawData = rawBytes(tensor);
  return onnx.TensorProto.encode(message).finish();
}
