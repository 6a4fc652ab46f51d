/**
 * ONNX element types: the TensorProto.DataType codes, our names for them and their storage widths.
 * The generated onnx-proto enum stops at BFLOAT16 (IR 8); the codes above 16 come from later
 * onnx.proto revisions and were checked against the conformance data (test_cast_* cases).
 */

export type DType =
  | 'float32'
  | 'float64'
  | 'float16'
  | 'bfloat16'
  | 'float8e4m3fn'
  | 'float8e4m3fnuz'
  | 'float8e5m2'
  | 'float8e5m2fnuz'
  | 'float8e8m0'
  | 'float4e2m1'
  | 'int2'
  | 'uint2'
  | 'int4'
  | 'uint4'
  | 'int8'
  | 'uint8'
  | 'int16'
  | 'uint16'
  | 'int32'
  | 'uint32'
  | 'int64'
  | 'uint64'
  | 'bool'
  | 'string'
  | 'complex64'
  | 'complex128';

/** Index = TensorProto.DataType code; code 0 (UNDEFINED) has no dtype. */
const BY_CODE: readonly (DType | undefined)[] = [
  undefined,
  'float32', // 1 FLOAT
  'uint8', // 2
  'int8', // 3
  'uint16', // 4
  'int16', // 5
  'int32', // 6
  'int64', // 7
  'string', // 8
  'bool', // 9
  'float16', // 10
  'float64', // 11 DOUBLE
  'uint32', // 12
  'uint64', // 13
  'complex64', // 14
  'complex128', // 15
  'bfloat16', // 16
  'float8e4m3fn', // 17
  'float8e4m3fnuz', // 18
  'float8e5m2', // 19
  'float8e5m2fnuz', // 20
  'uint4', // 21
  'int4', // 22
  'float4e2m1', // 23 (IR 11)
  'float8e8m0', // 24 (IR 12)
  'uint2', // 25 (IR 12)
  'int2', // 26 (IR 12)
];

const CODES = new Map<DType, number>(BY_CODE.flatMap((d, code) => (d ? [[d, code] as const] : [])));

/** The dtype of a DataType code, or undefined for UNDEFINED and codes newer than this loader. */
export function dtypeFromCode(code: number): DType | undefined {
  return BY_CODE[code];
}

export function dtypeCode(dtype: DType): number {
  return CODES.get(dtype)!;
}

/** Bits one element occupies in raw_data (complex: both parts); strings have no raw encoding. */
export function bitsPerElement(dtype: Exclude<DType, 'string'>): number {
  switch (dtype) {
    case 'int2':
    case 'uint2':
      return 2;
    case 'int4':
    case 'uint4':
    case 'float4e2m1':
      return 4;
    case 'int8':
    case 'uint8':
    case 'bool':
    case 'float8e4m3fn':
    case 'float8e4m3fnuz':
    case 'float8e5m2':
    case 'float8e5m2fnuz':
    case 'float8e8m0':
      return 8;
    case 'int16':
    case 'uint16':
    case 'float16':
    case 'bfloat16':
      return 16;
    case 'int32':
    case 'uint32':
    case 'float32':
      return 32;
    case 'int64':
    case 'uint64':
    case 'float64':
    case 'complex64':
      return 64;
    case 'complex128':
      return 128;
  }
}
