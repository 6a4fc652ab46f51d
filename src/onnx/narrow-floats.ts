/**
 * Bit-pattern codecs for the sub-32-bit float element types. Decoding goes through a table per type
 * (at most 2^16 entries), built once from the arithmetic core's exact decoder, so a tensor of
 * millions of float16 values costs one lookup each. Every value of these types is exact in float32.
 */
import { BF16, E4M3, E4M3FNUZ, E5M2, E5M2FNUZ, FP16, decodeBits, type FloatFormat } from '../arith/formats';

export type NarrowFloatDType =
  | 'float16'
  | 'bfloat16'
  | 'float8e4m3fn'
  | 'float8e4m3fnuz'
  | 'float8e5m2'
  | 'float8e5m2fnuz'
  | 'float8e8m0'
  | 'float4e2m1';

/** The arithmetic core's format of each narrow float dtype it models (not e8m0 or fp4). */
export const ARITH_FORMATS: Readonly<Partial<Record<string, FloatFormat>>> = {
  float16: FP16,
  bfloat16: BF16,
  float8e4m3fn: E4M3,
  float8e4m3fnuz: E4M3FNUZ,
  float8e5m2: E5M2,
  float8e5m2fnuz: E5M2FNUZ,
};

export function isNarrowFloat(dtype: string): dtype is NarrowFloatDType {
  return dtype in ARITH_FORMATS || dtype === 'float8e8m0' || dtype === 'float4e2m1';
}

function buildTable(dtype: NarrowFloatDType): Float32Array {
  const format = ARITH_FORMATS[dtype];
  if (format) {
    const table = new Float32Array(2 ** (1 + format.expBits + format.manBits));
    for (let bits = 0; bits < table.length; bits++) table[bits] = decodeBits(format, bits);
    return table;
  }
  if (dtype === 'float8e8m0') {
    // OCP MX scale type: no sign, no mantissa, value 2^(bits-127); 0xFF is NaN. Not an arith format.
    const table = new Float32Array(256);
    for (let bits = 0; bits < 255; bits++) table[bits] = 2 ** (bits - 127);
    table[255] = NaN;
    return table;
  }
  // float4e2m1 (OCP MX): 1 sign, 2 exponent (bias 1), 1 mantissa bit; no inf or NaN.
  const magnitudes = [0, 0.5, 1, 1.5, 2, 3, 4, 6];
  return Float32Array.from({ length: 16 }, (_, bits) => (bits & 8 ? -magnitudes[bits & 7]! : magnitudes[bits]!));
}

const tables = new Map<NarrowFloatDType, Float32Array>();

/** Value of every bit pattern of the type, indexed by the pattern. */
export function decodeTable(dtype: NarrowFloatDType): Float32Array {
  let table = tables.get(dtype);
  if (!table) {
    table = buildTable(dtype);
    tables.set(dtype, table);
  }
  return table;
}

interface Encoder {
  readonly byValue: Map<number, number>;
  readonly negativeZero: number | undefined;
  readonly nan: number | undefined;
}

const encoders = new Map<NarrowFloatDType, Encoder>();

function buildEncoder(dtype: NarrowFloatDType): Encoder {
  const table = decodeTable(dtype);
  const byValue = new Map<number, number>();
  let negativeZero: number | undefined;
  let nan: number | undefined;
  for (let bits = 0; bits < table.length; bits++) {
    const v = table[bits]!;
    if (Object.is(v, -0)) negativeZero = bits;
    // Prefer the quiet, all-mantissa-ones NaN of the positive half (e.g. 0x7FFF for float16).
    else if (v !== v) nan = nan === undefined || bits < table.length / 2 ? bits : nan;
    else if (!byValue.has(v)) byValue.set(v, bits);
  }
  return { byValue, negativeZero, nan };
}

/** The bit pattern holding exactly `value`, or undefined when the type cannot represent it. */
export function encodeNarrowFloat(dtype: NarrowFloatDType, value: number): number | undefined {
  let encoder = encoders.get(dtype);
  if (!encoder) {
    encoder = buildEncoder(dtype);
    encoders.set(dtype, encoder);
  }
  if (value !== value) return encoder.nan;
  // Types without a negative zero (fnuz, e8m0's absent sign) store -0 as +0, as a cast would.
  if (Object.is(value, -0)) return encoder.negativeZero ?? encoder.byValue.get(0);
  return encoder.byValue.get(value);
}
