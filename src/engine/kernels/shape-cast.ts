/**
 * Cast and CastLike between every pair of element types, following the ONNX reference (numpy and
 * ml_dtypes):
 * - into floats: round to nearest even; narrow formats through src/arith. float8 saturates to ±max
 *   (NaN stays NaN) unless saturate=0, when overflow gives inf (e5m2) or NaN (formats without inf);
 *   the fnuz formats have no -0, so it becomes +0. float4e2m1 always saturates and maps NaN to 0;
 *   float8e8m0 follows the reference's bit-level rounding of the fp32 value (round_mode up/down/nearest).
 * - into integers: truncation toward zero, then wrap modulo 2^bits (int4/int2 included); NaN and ±inf
 *   (undefined in ONNX) become 0, as JavaScript's integer conversions do.
 * - into bool: any non-zero value (NaN included) is true.
 * - strings: parsed as decimal or scientific numbers, with INF/+INF/-INF/NaN in any case; numbers are
 *   written in the shortest form that reads back to the same value.
 */
import { fp32ToBits, pow2, roundToFormat, type FloatFormat } from '../../arith';
import type { DType, Tensor } from '../../onnx';
import { dtypeFromCode } from '../../onnx/dtype';
import { ARITH_FORMATS } from '../../onnx/narrow-floats';
import { allocate, expectTensor, isBigIntDType } from '../tensors';
import { EngineError, tensor, type Kernel, type KernelContext } from '../types';

export interface CastOptions {
  /** float8 targets: clamp out-of-range values to ±max instead of inf/NaN. */
  readonly saturate: boolean;
  /** float8e8m0 target: 'up', 'down' or 'nearest'. */
  readonly roundMode: string;
}

const DEFAULT_OPTIONS: CastOptions = { saturate: true, roundMode: 'up' };

/** float4e2m1 (OCP MX) on the arith grid: bias 1, one mantissa bit, largest value 6, no inf or NaN. */
const E2M1: FloatFormat = {
  name: 'e2m1',
  expBits: 2,
  manBits: 1,
  bias: 1,
  emin: 0,
  emax: 2,
  maxFinite: 6,
  specials: 'fn',
  overflow: 'saturate',
};

const withoutNegativeZero = (v: number) => (v === 0 ? 0 : v);

/**
 * How a double becomes a value of a narrow float type (stored exactly in a Float32Array); undefined for
 * the other types.
 */
export function narrowRounding(dtype: DType, options = DEFAULT_OPTIONS): ((v: number) => number) | undefined {
  if (dtype === 'float8e8m0') return (v) => toE8M0(v, options);
  if (dtype === 'float4e2m1') return (v) => (v !== v ? 0 : roundToFormat(v, E2M1));
  const format = ARITH_FORMATS[dtype];
  if (!format) return undefined;
  const fnuz = format.specials === 'fnuz';
  // float16/bfloat16 overflow to inf by their own rule; saturate only concerns float8.
  if (options.saturate || format.expBits + format.manBits > 7) {
    return fnuz ? (v) => withoutNegativeZero(roundToFormat(v, format)) : (v) => roundToFormat(v, format);
  }
  const unsaturated: FloatFormat = { ...format, overflow: 'ieee' };
  return (v) => {
    const r = roundToFormat(v, unsaturated);
    if (r === Infinity || r === -Infinity) return format.specials === 'ieee' ? r : NaN;
    return fnuz ? withoutNegativeZero(r) : r;
  };
}

/** float8e8m0 (a bare power of two, no sign) from the fp32 bit pattern, as the ONNX reference rounds it. */
function toE8M0(v: number, { saturate, roundMode }: CastOptions): number {
  const bits = fp32ToBits(v);
  let exponent = (bits >>> 23) & 0xff;
  if (exponent === 0xff) return NaN;
  let roundUp: boolean;
  if (roundMode === 'up') roundUp = (bits & 0x7fffff) !== 0;
  else if (roundMode === 'down') roundUp = false;
  // 'nearest': above half rounds up; exactly half rounds up except from the zero exponent.
  else if (roundMode === 'nearest') roundUp = (bits & 0x400000) !== 0 && ((bits & 0x3fffff) !== 0 || exponent > 0);
  else throw new EngineError(`round_mode "${roundMode}" is not up, down or nearest`);
  if (roundUp && !(saturate && exponent === 0xfe)) exponent++;
  return exponent === 0xff ? NaN : pow2(exponent - 127);
}

type Scalar = number | bigint;

/** Integer wrap to a sub-byte width after truncation (ToInt32 truncates, maps NaN/inf to 0, wraps). */
const signedBits = (bits: number) => (v: number) => ((v | 0) << (32 - bits)) >> (32 - bits);
const unsignedBits = (bits: number) => (v: number) => (v | 0) & ((1 << bits) - 1);
const asIs = (v: number) => v;

/**
 * The conversion of a double into a number-stored target type. Typed-array stores already truncate and
 * wrap for int8..uint32 and round to nearest even for float32, so those convert as is.
 */
function numberConversion(to: DType, options: CastOptions): (v: number) => number {
  switch (to) {
    case 'int4':
      return signedBits(4);
    case 'int2':
      return signedBits(2);
    case 'uint4':
      return unsignedBits(4);
    case 'uint2':
      return unsignedBits(2);
    case 'bool':
      return (v) => (v !== 0 ? 1 : 0);
    case 'complex64':
    case 'complex128':
      throw new EngineError(`casting to ${to} is not supported`);
    default:
      return narrowRounding(to, options) ?? asIs;
  }
}

const INFINITY_LITERAL = /^[+-]?inf(inity)?$/i;
const INTEGER_LITERAL = /^[+-]?\d+$/;

/** A numeric string as a number, or as a bigint when it is an integer literal and `exactIntegers` is set. */
function parseNumber(text: string, exactIntegers: boolean): Scalar {
  const s = text.trim();
  if (exactIntegers && INTEGER_LITERAL.test(s)) return BigInt(s);
  if (INFINITY_LITERAL.test(s)) return s.startsWith('-') ? -Infinity : Infinity;
  if (/^[+-]?nan$/i.test(s)) return NaN;
  const v = s === '' ? NaN : Number(s);
  if (v !== v) throw new EngineError(`cannot cast "${text}" to a number`);
  return v;
}

/** The shortest decimal that reads back to `v` at the precision `round` stores. */
function shortestDecimal(v: number, round: (x: number) => number): string {
  if (v !== v) return 'NaN';
  if (v === Infinity || v === -Infinity) return v > 0 ? 'INF' : '-INF';
  for (let digits = 1; digits < 17; digits++) {
    const candidate = Number(v.toPrecision(digits));
    if (round(candidate) === v) return String(candidate);
  }
  return String(v);
}

function toText(input: Tensor): string[] {
  const data = input.data;
  if (Array.isArray(data)) return [...data];
  if (input.dtype === 'bool') return Array.from(data as Uint8Array, (b) => (b ? 'True' : 'False'));
  if (data instanceof Float32Array) return Array.from(data, (v) => shortestDecimal(v, Math.fround));
  return Array.from(data as ArrayLike<Scalar>, (v) => (typeof v === 'number' ? shortestDecimal(v, asIs) : String(v)));
}

/** The source's element i as a number or bigint (strings parsed; bigints kept for 64-bit targets). */
function sourceReader(input: Tensor, to: DType): (i: number) => Scalar {
  const data = input.data;
  if (Array.isArray(data)) return (i) => parseNumber(data[i]!, isBigIntDType(to));
  const values = data as ArrayLike<Scalar>;
  return (i) => values[i]!;
}

/** A bigint (64-bit integer source) as the double a number-stored target needs. */
function bigIntToNumber(v: bigint, to: DType): number {
  if (to === 'bool') return v !== 0n ? 1 : 0;
  // Integer targets keep the low 32 bits exactly (they wrap anyway); float targets want the value.
  return Number(to.includes('float') ? v : BigInt.asIntN(32, v));
}

function toBigInt(v: Scalar, to: 'int64' | 'uint64'): bigint {
  const integer = typeof v === 'bigint' ? v : Number.isFinite(v) ? BigInt(Math.trunc(v)) : 0n;
  return to === 'int64' ? BigInt.asIntN(64, integer) : BigInt.asUintN(64, integer);
}

export function castTensor(input: Tensor, to: DType, options: CastOptions = DEFAULT_OPTIONS): Tensor {
  if (to === input.dtype) return input;
  if (input.dtype === 'complex64' || input.dtype === 'complex128') {
    throw new EngineError(`casting from ${input.dtype} is not supported`);
  }
  if (to === 'string') return tensor('string', input.dims, toText(input));
  const out = allocate(to, input.dims);
  const read = sourceReader(input, to);
  const n = out.data.length;
  if (to === 'int64' || to === 'uint64') {
    const target = out.data as BigInt64Array | BigUint64Array;
    for (let i = 0; i < n; i++) target[i] = toBigInt(read(i), to);
    return out;
  }
  const convert = numberConversion(to, options);
  const target = out.data as Float32Array;
  for (let i = 0; i < n; i++) {
    const v = read(i);
    target[i] = convert(typeof v === 'bigint' ? bigIntToNumber(v, to) : v);
  }
  return out;
}

/** Cast-1..5 name the target type as a string, e.g. "FLOAT"; the index is the DataType code. */
const LEGACY_TYPE_NAMES = [
  'UNDEFINED',
  'FLOAT',
  'UINT8',
  'INT8',
  'UINT16',
  'INT16',
  'INT32',
  'INT64',
  'STRING',
  'BOOL',
  'FLOAT16',
  'DOUBLE',
  'UINT32',
  'UINT64',
];

function targetType(ctx: KernelContext): DType {
  const legacy = ctx.node.attributes.find((a) => a.name === 'to')?.type === 'string';
  const code = legacy ? LEGACY_TYPE_NAMES.indexOf(ctx.attributes.string('to')) : ctx.attributes.int('to');
  const dtype = code > 0 ? dtypeFromCode(code) : undefined;
  if (!dtype) throw new EngineError(`"to" does not name a known element type`);
  return dtype;
}

const castOptions = (ctx: KernelContext): CastOptions => ({
  saturate: ctx.attributes.int('saturate', 1) !== 0,
  roundMode: ctx.attributes.string('round_mode', 'up'),
});

const Cast: Kernel = (inputs, ctx) => [castTensor(expectTensor(inputs[0], 'input'), targetType(ctx), castOptions(ctx))];

const CastLike: Kernel = (inputs, ctx) => {
  const target = expectTensor(inputs[1], 'target_type');
  return [castTensor(expectTensor(inputs[0], 'input'), target.dtype, castOptions(ctx))];
};

export const castKernels: Record<string, Kernel> = { Cast, CastLike };
