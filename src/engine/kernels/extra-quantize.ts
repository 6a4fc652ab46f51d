/**
 * Quantisation: QuantizeLinear, DequantizeLinear, DynamicQuantizeLinear, QLinearMatMul and QLinearConv.
 * These are integer or scaling arithmetic outside SPEC §6's replaced products, so they compute exactly:
 * integer dot products through MatMulInteger/ConvInteger, scalings in doubles rounded into the scale's own
 * float type where the ONNX reference computes in it (so that ties round as the reference's do).
 */
import type { DType, Tensor } from '../../onnx';
import { dtypeFromCode } from '../../onnx/dtype';
import { allocate, expectTensor, normalizeAxis, sizeOf, stridesOf, toNumbers } from '../tensors';
import { EngineError, tensor, type Kernel, type KernelContext, type Value } from '../types';
import { kernels as conv } from './conv';
import { roundHalfToEven } from './elementwise-math';
import { kernels as linear } from './linear';
import { tensorOf } from './scheme-arithmetic';
import { castTensor, narrowRounding } from './shape-cast';

const INTEGER_RANGES: Partial<Record<DType, readonly [number, number]>> = {
  int2: [-2, 1],
  uint2: [0, 3],
  int4: [-8, 7],
  uint4: [0, 15],
  int8: [-128, 127],
  uint8: [0, 255],
  int16: [-32768, 32767],
  uint16: [0, 65535],
  int32: [-2147483648, 2147483647],
};

const FLOAT_TARGETS: ReadonlySet<DType> = new Set([
  'float8e4m3fn',
  'float8e4m3fnuz',
  'float8e5m2',
  'float8e5m2fnuz',
  'float4e2m1',
]);

/** Rounding of a double into a float dtype (float32, float16, bfloat16, float64). */
function roundingInto(dtype: DType): (v: number) => number {
  if (dtype === 'float32') return Math.fround;
  if (dtype === 'float64') return (v) => v;
  const rounding = narrowRounding(dtype);
  if (!rounding) throw new EngineError(`${dtype} is not a float type for scales`);
  return rounding;
}

/**
 * For each element of a tensor of shape `dims`, the index of its scale and zero point: one per index along
 * `axis` (a 1-D parameter), or one per block of `blockSize` indices along `axis` (a parameter of the
 * tensor's rank).
 */
function parameterIndex(dims: readonly number[], paramDims: readonly number[], axis: number, blockSize: number) {
  const index = new Int32Array(sizeOf(dims));
  const rank = dims.length;
  const divisors = new Array<number>(rank).fill(1);
  let paramStrides: number[];
  if (blockSize > 0) {
    const expected = dims.map((d, a) => (a === axis ? Math.ceil(d / blockSize) : d));
    if (paramDims.join() !== expected.join()) {
      throw new EngineError(`blocked scale has shape [${paramDims}], expected [${expected}]`);
    }
    divisors[axis] = blockSize;
    paramStrides = stridesOf(paramDims);
  } else {
    if (paramDims.length !== 1 || paramDims[0] !== dims[axis]) {
      throw new EngineError(`per-axis scale has shape [${paramDims}], expected [${dims[axis]}]`);
    }
    paramStrides = dims.map((_, a) => (a === axis ? 1 : 0));
  }
  const strides = stridesOf(dims);
  for (let i = 0; i < index.length; i++) {
    let at = 0;
    for (let a = 0; a < rank; a++) {
      const coordinate = Math.floor(i / strides[a]!) % dims[a]!;
      at += Math.floor(coordinate / divisors[a]!) * paramStrides[a]!;
    }
    index[i] = at;
  }
  return index;
}

/** The scale/zero-point layout of a (De)QuantizeLinear node. */
function parameterLayout(x: Tensor, scale: Tensor, ctx: KernelContext): Int32Array {
  const blockSize = ctx.attributes.int('block_size', 0);
  if (blockSize < 0) throw new EngineError(`block_size ${blockSize} is negative`);
  // A per-tensor scale ignores `axis`, which may then not even exist (the default 1 on a 1-D input).
  if (sizeOf(scale.dims) === 1 && blockSize === 0) return new Int32Array(x.data.length);
  const axis = normalizeAxis(ctx.attributes.int('axis', 1), x.dims.length);
  return parameterIndex(x.dims, scale.dims, axis, blockSize);
}

function optionalTensor(value: Value | undefined, what: string): Tensor | undefined {
  return value === undefined ? undefined : expectTensor(value, what);
}

/**
 * Values already divided by their scales stored as `to`: integers round half to even, add the zero point
 * and saturate to the type's range; float8/float4 add the zero point and round into the format.
 */
function quantized(
  to: DType,
  dims: readonly number[],
  scaled: Float64Array,
  zeroAt: (i: number) => number,
  saturate: boolean,
) {
  if (FLOAT_TARGETS.has(to)) {
    const shifted = scaled.map((v, i) => v + zeroAt(i));
    return castTensor(tensor('float64', dims, shifted), to, { saturate, roundMode: 'up' });
  }
  const range = INTEGER_RANGES[to];
  if (!range) throw new EngineError(`cannot quantize into ${to}`);
  const out = allocate(to, dims);
  const data = out.data as Int32Array;
  for (let i = 0; i < data.length; i++) {
    const q = roundHalfToEven(scaled[i]!) + zeroAt(i);
    data[i] = Math.min(range[1], Math.max(range[0], q));
  }
  return out;
}

const zeroPointReader = (zeroPoint: Tensor | undefined, index: Int32Array) => {
  if (!zeroPoint) return () => 0;
  const zeros = toNumbers(zeroPoint);
  return (i: number) => zeros[index[i]!]!;
};

/** The type named by an attribute such as `output_dtype` or `precision`, else the fallback (0 means unset). */
function typeAttribute(ctx: KernelContext, name: string, fallback: DType): DType {
  const code = ctx.attributes.int(name, 0);
  if (code === 0) return fallback;
  const dtype = dtypeFromCode(code);
  if (!dtype) throw new EngineError(`${name} ${code} is not a known element type`);
  return dtype;
}

/** y = saturate(round(x / y_scale) + y_zero_point); the division in `precision` (default: the scale's type). */
const QuantizeLinear: Kernel = (inputs, ctx) => {
  const x = expectTensor(inputs[0], 'x');
  const scale = expectTensor(inputs[1], 'y_scale');
  const zeroPoint = optionalTensor(inputs[2], 'y_zero_point');
  const to = zeroPoint?.dtype ?? typeAttribute(ctx, 'output_dtype', 'uint8');
  const round = roundingInto(typeAttribute(ctx, 'precision', scale.dtype));
  const index = parameterLayout(x, scale, ctx);
  const xs = toNumbers(x);
  const scales = toNumbers(scale);
  const scaled = Float64Array.from(xs, (v, i) => round(v / scales[index[i]!]!));
  const saturate = ctx.attributes.int('saturate', 1) !== 0;
  return [quantized(to, x.dims, scaled, zeroPointReader(zeroPoint, index), saturate)];
};

/** y = (x − x_zero_point) · x_scale, in the scale's type (or output_dtype). */
const DequantizeLinear: Kernel = (inputs, ctx) => {
  const x = expectTensor(inputs[0], 'x');
  const scale = expectTensor(inputs[1], 'x_scale');
  const index = parameterLayout(x, scale, ctx);
  const zeroAt = zeroPointReader(optionalTensor(inputs[2], 'x_zero_point'), index);
  const xs = toNumbers(x);
  const scales = toNumbers(scale);
  const y = Float64Array.from(xs, (v, i) => (v - zeroAt(i)) * scales[index[i]!]!);
  return [tensorOf(typeAttribute(ctx, 'output_dtype', scale.dtype), x.dims, y)];
};

/**
 * DynamicQuantizeLinear: uint8 quantisation with the scale and zero point that map [min(x, 0), max(x, 0)]
 * onto [0, 255], computed in float32 as the reference does.
 */
const DynamicQuantizeLinear: Kernel = (inputs) => {
  const x = expectTensor(inputs[0], 'x');
  const xs = toNumbers(x);
  // A loop rather than Math.min(...xs): spreading a large tensor overflows the call stack.
  let [low, high] = [0, 0];
  for (const v of xs) [low, high] = [Math.min(low, v), Math.max(high, v)];
  const scale = Math.fround((high - low) / 255);
  const zeroPoint = Math.min(255, Math.max(0, roundHalfToEven(Math.fround(-low / scale))));
  const scaled = Float64Array.from(xs, (v) => Math.fround(v / scale));
  return [
    quantized('uint8', x.dims, scaled, () => zeroPoint, true),
    tensor('float32', [], Float32Array.of(scale)),
    tensor('uint8', [], Uint8Array.of(zeroPoint)),
  ];
};

/** The requantisation factor a_scale·b_scale / y_scale, rounded into the scales' type at each step. */
function requantizationFactors(aScale: Tensor, bScales: Tensor, yScale: Tensor): number[] {
  const round = roundingInto(yScale.dtype);
  const a = toNumbers(aScale);
  const y = toNumbers(yScale);
  if (a.length !== 1 || y.length !== 1) throw new EngineError('only per-tensor input and output scales are supported');
  return toNumbers(bScales).map((b) => round(round(a[0]! * b) / y[0]!));
}

/** An int32 accumulator requantised per element with factors[factorAt(i)] into the zero point's type. */
function requantize(acc: Tensor, factors: readonly number[], factorAt: (i: number) => number, zeroPoint: Tensor) {
  const sums = toNumbers(acc);
  const zero = toNumbers(zeroPoint);
  if (zero.length !== 1) throw new EngineError('only a per-tensor output zero point is supported');
  const scaled = Float64Array.from(sums, (v, i) => v * factors[factorAt(i)]!);
  return quantized(zeroPoint.dtype, acc.dims, scaled, () => zero[0]!, true);
}

/** QLinearMatMul: the integer MatMulInteger product requantised; b_scale may hold one value per column. */
const QLinearMatMul: Kernel = (inputs, ctx) => {
  const [a, aScale, aZero, b, bScale, bZero, yScale, yZero] = inputs;
  const acc = linear.MatMulInteger!([a, b, aZero, bZero], ctx)[0] as Tensor;
  const factors = requantizationFactors(
    expectTensor(aScale, 'a_scale'),
    expectTensor(bScale, 'b_scale'),
    expectTensor(yScale, 'y_scale'),
  );
  const columns = acc.dims[acc.dims.length - 1] ?? 1;
  const factorAt = factors.length === 1 ? () => 0 : (i: number) => i % columns;
  return [requantize(acc, factors, factorAt, expectTensor(yZero, 'y_zero_point'))];
};

/** QLinearConv: ConvInteger plus the int32 bias, requantised with one w_scale per output channel or one in all. */
const QLinearConv: Kernel = (inputs, ctx) => {
  const [x, xScale, xZero, w, wScale, wZero, yScale, yZero, bias] = inputs;
  const acc = conv.ConvInteger!([x, w, xZero, wZero], ctx)[0] as Tensor;
  const [, channels = 1] = acc.dims;
  const positions = sizeOf(acc.dims.slice(2));
  const channelAt = (i: number) => Math.floor(i / positions) % channels;
  if (bias !== undefined) {
    const biases = toNumbers(expectTensor(bias, 'B'));
    const sums = acc.data as Int32Array;
    for (let i = 0; i < sums.length; i++) sums[i] = sums[i]! + biases[channelAt(i)]!;
  }
  const factors = requantizationFactors(
    expectTensor(xScale, 'x_scale'),
    expectTensor(wScale, 'w_scale'),
    expectTensor(yScale, 'y_scale'),
  );
  const factorAt = factors.length === 1 ? () => 0 : channelAt;
  return [requantize(acc, factors, factorAt, expectTensor(yZero, 'y_zero_point'))];
};

export const quantizeKernels: Record<string, Kernel> = {
  QuantizeLinear,
  DequantizeLinear,
  DynamicQuantizeLinear,
  QLinearMatMul,
  QLinearConv,
};
