import assert from 'node:assert/strict';
import { test } from 'node:test';
import { onnx } from 'onnx-proto';
import { dtypeCode, type DType } from '../../src/onnx/dtype';
import { decodeTensorProto, encodeTensorProto, type Tensor } from '../../src/onnx/tensor';
import { int64, rejectsWith } from './helpers';

function decode(proto: onnx.ITensorProto): Tensor {
  return decodeTensorProto(onnx.TensorProto.encode(proto).finish());
}

function raw(dtype: DType, dims: number[], bytes: number[]): Tensor {
  return decode({ name: 't', dataType: dtypeCode(dtype), dims, rawData: Uint8Array.from(bytes) });
}

/** Little-endian bytes of 16-bit patterns. */
function le16(patterns: number[]): number[] {
  return patterns.flatMap((p) => [p & 0xff, p >> 8]);
}

test('float16 bit patterns decode to their exact values (raw_data and int32_data)', () => {
  const patterns = [0x3c00, 0xc000, 0x7bff, 0x0001, 0x0400, 0x3555, 0x7c00, 0xfc00, 0x8000, 0x7e00];
  const expected = [1, -2, 65504, 2 ** -24, 2 ** -14, 0.333251953125, Infinity, -Infinity, -0, NaN];
  const fromRaw = raw('float16', [10], le16(patterns));
  assert.equal(fromRaw.dtype, 'float16');
  assert.ok(fromRaw.data instanceof Float32Array);
  assert.deepEqual([...fromRaw.data], expected);
  const fromField = decode({ name: 't', dataType: 10, dims: [10], int32Data: patterns });
  assert.deepEqual([...fromField.data], expected);
});

test('bfloat16 bit patterns decode to their exact values', () => {
  const t = raw('bfloat16', [6], le16([0x3f80, 0xc040, 0x7f7f, 0x0001, 0x7f80, 0x7fc0]));
  assert.deepEqual([...t.data], [1, -3, 3.3895313892515355e38, 2 ** -133, Infinity, NaN]);
});

test('the four float8 types decode with their own bias and NaN rules', () => {
  // e4m3fn: bias 7, no infinity, only S.1111.111 is NaN, max 448.
  assert.deepEqual(
    [...raw('float8e4m3fn', [6], [0x38, 0x7e, 0x7f, 0x01, 0x80, 0xc0]).data],
    [1, 448, NaN, 2 ** -9, -0, -2],
  );
  // e4m3fnuz: bias 8, 0x80 (negative zero's pattern) is the only NaN, max 240.
  assert.deepEqual([...raw('float8e4m3fnuz', [5], [0x40, 0x7f, 0x80, 0x01, 0xc0]).data], [1, 240, NaN, 2 ** -10, -1]);
  // e5m2: IEEE-like, bias 15, max 57344.
  const e5m2 = raw('float8e5m2', [6], [0x3c, 0x7b, 0x7c, 0x7d, 0x01, 0xfc]);
  assert.deepEqual([...e5m2.data], [1, 57344, Infinity, NaN, 2 ** -16, -Infinity]);
  // e5m2fnuz: bias 16, 0x80 is NaN, max 57344.
  assert.deepEqual([...raw('float8e5m2fnuz', [4], [0x40, 0x7f, 0x80, 0x01]).data], [1, 57344, NaN, 2 ** -17]);
  // int32_data carries one bit pattern per entry (as in test_dequantizelinear_e4m3fn_zero_point).
  assert.deepEqual(
    [...decode({ name: 't', dataType: 17, dims: [3], int32Data: [0x38, 0x7e, 0xc0] }).data],
    [1, 448, -2],
  );
});

test('float8e8m0 and float4e2m1 (OCP MX types) decode exactly', () => {
  assert.deepEqual([...raw('float8e8m0', [4], [127, 0, 254, 255]).data], [1, 2 ** -127, 2 ** 127, NaN]);
  // fp4: packed two per byte, low nibble first: 0x71 = [0.5, 6], 0xf8 = [-0, -6].
  assert.deepEqual([...raw('float4e2m1', [4], [0x71, 0xf8]).data], [0.5, 6, -0, -6]);
});

test('int4/uint4/int2/uint2 unpack low bits first, from raw_data and from int32_data', () => {
  const int4 = raw('int4', [3], [0x87, 0x0f]);
  assert.ok(int4.data instanceof Int8Array);
  assert.deepEqual([...int4.data], [7, -8, -1]);
  const uint4 = raw('uint4', [3], [0x87, 0x0f]);
  assert.ok(uint4.data instanceof Uint8Array);
  assert.deepEqual([...uint4.data], [7, 8, 15]);
  assert.deepEqual([...raw('int2', [4], [0xe4]).data], [0, 1, -2, -1]);
  assert.deepEqual([...raw('uint2', [5], [0xe4, 0x03]).data], [0, 1, 2, 3, 3]);
  // int32_data holds one packed byte per entry (test_dequantizelinear_int4: [16, 199, 8] → 0, 1, 7, -4, 8→-8).
  assert.deepEqual(
    [...decode({ name: 't', dataType: 22, dims: [5], int32Data: [16, 199, 8] }).data],
    [0, 1, 7, -4, -8],
  );
  assert.deepEqual([...decode({ name: 't', dataType: 25, dims: [4], int32Data: [228] }).data], [0, 1, 2, 3]);
});

test('integer, bool, string and complex tensors decode from raw_data and from the typed fields', () => {
  assert.deepEqual([...raw('int16', [2], [0xff, 0xff, 0x00, 0x80]).data], [-1, -32768]);
  assert.deepEqual([...raw('uint32', [1], [0xff, 0xff, 0xff, 0xff]).data], [4294967295]);
  assert.deepEqual([...raw('bool', [3], [0, 1, 2]).data], [0, 1, 1]);
  assert.deepEqual([...decode({ name: 't', dataType: 9, dims: [3], int32Data: [0, 1, 5] }).data], [0, 1, 1]);
  assert.deepEqual([...decode({ name: 't', dataType: 3, dims: [2], int32Data: [-128, 127] }).data], [-128, 127]);
  assert.deepEqual([...decode({ name: 't', dataType: 4, dims: [1], int32Data: [65535] }).data], [65535]);

  const signed64 = decode({
    name: 't',
    dataType: 7,
    dims: [3],
    int64Data: [int64(2n ** 63n - 1n), int64(-(2n ** 63n)), -5],
  });
  assert.deepEqual([...signed64.data], [2n ** 63n - 1n, -(2n ** 63n), -5n]);
  const uint64 = decode({ name: 't', dataType: 13, dims: [1], uint64Data: [int64(2n ** 64n - 1n)] });
  assert.deepEqual([...uint64.data], [2n ** 64n - 1n]);
  assert.deepEqual([...decode({ name: 't', dataType: 12, dims: [1], uint64Data: [4294967295] }).data], [4294967295]);
  const int64Raw = raw('int64', [1], [0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
  assert.ok(int64Raw.data instanceof BigInt64Array);
  assert.deepEqual([...int64Raw.data], [-2n]);

  const strings = decode({ name: 's', dataType: 8, dims: [2], stringData: [Buffer.from('中文'), Buffer.from('')] });
  assert.deepEqual(strings.data, ['中文', '']);

  const complex = decode({ name: 'c', dataType: 14, dims: [2], floatData: [1, 2, 3, 4] });
  assert.ok(complex.data instanceof Float32Array);
  assert.deepEqual([...complex.data], [1, 2, 3, 4]);
  const complex128 = decode({ name: 'c', dataType: 15, dims: [1], doubleData: [0.1, -0.2] });
  assert.deepEqual([...complex128.data], [0.1, -0.2]);
  assert.deepEqual([...decode({ name: 'd', dataType: 11, dims: [], doubleData: [Math.PI] }).data], [Math.PI]);
});

test('scalars have one element, zero-sized tensors none', () => {
  assert.deepEqual([...decode({ name: 't', dataType: 1, dims: [], floatData: [2.5] }).data], [2.5]);
  const empty = decode({ name: 't', dataType: 1, dims: [3, 0] });
  assert.deepEqual(empty.dims, [3, 0]);
  assert.equal(empty.data.length, 0);
});

const ROUND_TRIP: Tensor[] = [
  { name: 'f32', dtype: 'float32', dims: [2, 2], data: Float32Array.from([1.5, -0, NaN, -Infinity]) },
  { name: 'f64', dtype: 'float64', dims: [2], data: Float64Array.from([Math.PI, -1e300]) },
  { name: 'f16', dtype: 'float16', dims: [5], data: Float32Array.from([1, -65504, 2 ** -24, -0, NaN]) },
  {
    name: 'bf16',
    dtype: 'bfloat16',
    dims: [3],
    data: Float32Array.from([3.3895313892515355e38, -Infinity, 2 ** -133]),
  },
  { name: 'e4m3', dtype: 'float8e4m3fn', dims: [3], data: Float32Array.from([448, -0.001953125, NaN]) },
  { name: 'e4m3fnuz', dtype: 'float8e4m3fnuz', dims: [3], data: Float32Array.from([240, -(2 ** -10), NaN]) },
  { name: 'e5m2', dtype: 'float8e5m2', dims: [3], data: Float32Array.from([57344, -Infinity, 2 ** -16]) },
  { name: 'e5m2fnuz', dtype: 'float8e5m2fnuz', dims: [2], data: Float32Array.from([-57344, 2 ** -17]) },
  { name: 'e8m0', dtype: 'float8e8m0', dims: [3], data: Float32Array.from([1, 2 ** -127, NaN]) },
  { name: 'fp4', dtype: 'float4e2m1', dims: [3], data: Float32Array.from([6, -0.5, 1.5]) },
  { name: 'i4', dtype: 'int4', dims: [5], data: Int8Array.from([-8, 7, 0, -1, 3]) },
  { name: 'u4', dtype: 'uint4', dims: [3], data: Uint8Array.from([15, 0, 9]) },
  { name: 'i2', dtype: 'int2', dims: [5], data: Int8Array.from([-2, 1, 0, -1, 1]) },
  { name: 'u2', dtype: 'uint2', dims: [2], data: Uint8Array.from([3, 2]) },
  { name: 'i8', dtype: 'int8', dims: [2], data: Int8Array.from([-128, 127]) },
  { name: 'u8', dtype: 'uint8', dims: [2], data: Uint8Array.from([0, 255]) },
  { name: 'i16', dtype: 'int16', dims: [1], data: Int16Array.from([-300]) },
  { name: 'u16', dtype: 'uint16', dims: [1], data: Uint16Array.from([65535]) },
  { name: 'i32', dtype: 'int32', dims: [1], data: Int32Array.from([-(2 ** 31)]) },
  { name: 'u32', dtype: 'uint32', dims: [1], data: Uint32Array.from([2 ** 32 - 1]) },
  { name: 'i64', dtype: 'int64', dims: [2], data: BigInt64Array.from([-(2n ** 63n), 42n]) },
  { name: 'u64', dtype: 'uint64', dims: [1], data: BigUint64Array.from([2n ** 64n - 1n]) },
  { name: 'b', dtype: 'bool', dims: [3], data: Uint8Array.from([1, 0, 1]) },
  { name: 's', dtype: 'string', dims: [2], data: ['naïve', ''] },
  { name: 'c64', dtype: 'complex64', dims: [1], data: Float32Array.from([1, -1]) },
  { name: 'c128', dtype: 'complex128', dims: [1], data: Float64Array.from([0.1, 0.2]) },
];

test('encodeTensorProto → decodeTensorProto returns the same tensor for every dtype', () => {
  for (const tensor of ROUND_TRIP) {
    const back = decodeTensorProto(encodeTensorProto(tensor));
    assert.deepEqual(back, tensor, tensor.dtype);
  }
});

test('encodeTensorProto writes numbers as raw_data and refuses values the dtype cannot hold', () => {
  const proto = onnx.TensorProto.decode(encodeTensorProto(ROUND_TRIP[2]!));
  assert.equal(proto.dataType, 10);
  assert.deepEqual([...proto.rawData], [0x00, 0x3c, 0xff, 0xfb, 0x01, 0x00, 0x00, 0x80, 0xff, 0x7f]);
  const tenth = Float32Array.from([0.1]);
  assert.throws(() => encodeTensorProto({ name: 'h', dtype: 'float16', dims: [1], data: tenth }), /'h'.*not a float16/);
  assert.throws(
    () => encodeTensorProto({ name: 'q', dtype: 'int4', dims: [1], data: Int8Array.from([8]) }),
    /'q'.*not a int4/,
  );
  assert.throws(
    () => encodeTensorProto({ name: 'n', dtype: 'float32', dims: [3], data: Float32Array.from([1]) }),
    /'n'.*need 3/,
  );
});

test('bad dims, wrong data sizes and unknown types are OnnxLoadErrors naming the tensor', async () => {
  await rejectsWith(
    () => decode({ name: 'neg', dataType: 1, dims: [2, -3], floatData: [] }),
    'malformed',
    /'neg'/,
    /negative/,
  );
  await rejectsWith(
    () => decode({ name: 'big', dataType: 1, dims: [65536, 65536], floatData: [] }),
    'too-large',
    /'big'/,
    /4294967296 elements/,
  );
  const int64Max = int64(2n ** 63n - 1n);
  await rejectsWith(
    () => decode({ name: 'huge', dataType: 1, dims: [int64Max] }),
    'too-large',
    /'huge'/,
    /9223372036854775807/,
  );
  // Each dim is fine, their product overflows any limit.
  await rejectsWith(() => decode({ name: 'wide', dataType: 1, dims: Array(40).fill(1024) }), 'too-large', /'wide'/);
  await rejectsWith(() => raw('float32', [2, 3], [0, 0, 0, 0]), 'malformed', /'t'/, /raw_data has 4 bytes.*need 24/);
  await rejectsWith(() => raw('int4', [3], [0x87]), 'malformed', /raw_data has 1 bytes.*need 2/);
  const few = { name: 'few', dataType: 1, dims: [3], floatData: [1, 2] };
  await rejectsWith(() => decode(few), 'malformed', /'few'/, /2 float_data values/);
  await rejectsWith(() => decode({ name: 'none', dataType: 1, dims: [3] }), 'malformed', /'none'/, /no data/);
  await rejectsWith(
    () => decode({ name: 'odd', dataType: 1, dims: [1], int64Data: [1] }),
    'malformed',
    /'odd'/,
    /int64_data/,
  );
  await rejectsWith(
    () => decode({ name: 'both', dataType: 1, dims: [1], floatData: [1], rawData: new Uint8Array(4) }),
    'malformed',
    /'both'/,
    /raw_data and float_data/,
  );
  await rejectsWith(
    () => decode({ name: 'untyped', dims: [1], floatData: [1] }),
    'malformed',
    /'untyped'/,
    /data_type is missing/,
  );
  await rejectsWith(
    () => decode({ name: 'future', dataType: 99, dims: [1] }),
    'unsupported',
    /'future'/,
    /data_type 99/,
  );
  await rejectsWith(
    () => decode({ name: 'seg', dataType: 1, dims: [1], floatData: [1], segment: { begin: 0, end: 1 } }),
    'unsupported',
    /'seg'/,
    /segment/,
  );
  await rejectsWith(
    () => decode({ name: 'sraw', dataType: 8, dims: [1], rawData: new Uint8Array(1) }),
    'malformed',
    /'sraw'/,
  );
  await rejectsWith(
    () =>
      decode({
        name: 'ext',
        dataType: 1,
        dims: [1],
        dataLocation: 1,
        externalData: [{ key: 'location', value: 'w.bin' }],
      }),
    'external-data',
    /'ext'/,
  );
});

test('tensor files that are not tensors are OnnxLoadErrors, never protobufjs exceptions', async () => {
  await rejectsWith(() => decodeTensorProto(new Uint8Array(0)), 'malformed', /data_type is missing/);
  await rejectsWith(() => decodeTensorProto(Uint8Array.from([0x0a, 0x05, 1])), 'truncated', /runs past/);
  await rejectsWith(() => decodeTensorProto(Uint8Array.from([0xff, 0x01])), 'malformed', /wire type 7/);
});
