/**
 * The arithmetic of the kernels with replaceable multiplications (MatMul, Gemm, Einsum, Conv,
 * ConvTranspose, the normalisations): float32 tensors multiply under the node's MultiplyContext, every
 * other dtype computes exactly in doubles and is rounded into its own type at the end.
 */
import { BF16, FP16, roundToFormat, type FloatFormat } from '../../arith';
import type { DType, Tensor } from '../../onnx';
import { sliceOperand, type GemmShape, type MultiplyContext, type PatchesShape } from '../multiply';
import { addBlocks, type DepthwiseShape, type PatchGather } from '../wasm/kernels';
import { zeroFloat32 } from '../buffers';
import { broadcastIndex, broadcastShapes, expectTensor, sizeOf } from '../tensors';
import { WASM_MIN_ELEMENTS, planBroadcast } from './elementwise-core';
import { EngineError, tensor, type Value } from '../types';

/** Values in an engine's working type: Float32Array under a scheme, Float64Array when exact. */
export type Numeric = Float32Array | Float64Array;

/** Operand values ready for `gemm`/`product` (rounded and fp8-scaled by 2^scale under a scheme). */
export interface Operand {
  readonly values: Numeric;
  readonly scale: number;
}

export interface Arithmetic {
  readonly dtype: DType;
  /**
   * Products of prepared operands are plain a·b, summed in fp32 or exactly (`MultiplyContext.plainProducts`,
   * or a non-float32 dtype): kernels may multiply and sum directly, then unscale by 2^−(sa+sb).
   */
  readonly plainProducts: boolean;
  /** A tensor's values in the working type (float32 data itself, a double copy otherwise). */
  values(t: Tensor): Numeric;
  /** A zero-filled array of the working type. */
  allocate(length: number): Numeric;
  /** Operand preparation of a whole tensor's values (per-tensor fp8 scale; cached per array). */
  prepare(values: Numeric): Operand;
  /** The same operand restricted to [start, end) (a batch or group of a prepared tensor). */
  slice(operand: Operand, start: number, end: number): Operand;
  /** C = A·B (m×n) of prepared operands. */
  gemm(a: Operand, b: Operand, shape: GemmShape): Numeric;
  /**
   * C = A·P (m × width) for the patch matrix P of `channels` planes of x at positions [from, from + width),
   * built next to the GEMM: bit for bit `gemm(a, im2col(x))`; null where there is no such kernel (the
   * caller then builds P and calls `gemm`).
   */
  gemmPatches(a: Operand, x: Operand, table: PatchGather, shape: PatchesShape): Numeric | null;
  /**
   * A 1-D/2-D depthwise convolution by a direct kernel, bit for bit one `gemm` per channel, plus
   * `channelBias` per output channel if given; null where there is none (the caller then runs the GEMMs).
   */
  depthwise(x: Operand, w: Operand, shape: DepthwiseShape, channelBias?: Numeric): Numeric | null;
  /** out[i] = values[i]·factors[j], j = ⌊i / blockSize⌋ mod factors.length: per-channel or per-row scales. */
  scaleBlocks(values: Numeric, factors: Numeric, blockSize: number): Numeric;
  /** The result tensor of the node's dtype (float16/bfloat16 rounded, integers cast). */
  output(dims: readonly number[], values: Numeric): Tensor;
}

/** The arithmetic of a node computing in `dtype` whose multiplications follow `multiply`. */
export function arithmeticFor(multiply: MultiplyContext, dtype: DType): Arithmetic {
  if (dtype === 'float32') return new SchemeArithmetic(multiply);
  if (dtype === 'string' || dtype === 'complex64' || dtype === 'complex128' || NARROW_FLOATS.has(dtype)) {
    throw new EngineError(`dtype ${dtype} is not supported by this operator`);
  }
  return new ExactArithmetic(dtype);
}

/** Float dtypes stored as exact values in Float32Array that the engine computes in but does not round into. */
const NARROW_FLOATS: ReadonlySet<DType> = new Set([
  'float8e4m3fn',
  'float8e4m3fnuz',
  'float8e5m2',
  'float8e5m2fnuz',
  'float8e8m0',
  'float4e2m1',
]);

class SchemeArithmetic implements Arithmetic {
  readonly dtype = 'float32';
  readonly plainProducts: boolean;

  constructor(private readonly multiply: MultiplyContext) {
    this.plainProducts = multiply.plainProducts;
  }

  values(t: Tensor): Numeric {
    return t.data instanceof Float32Array ? t.data : Float32Array.from(numbersOf(t));
  }

  allocate(length: number): Numeric {
    return zeroFloat32(length);
  }

  prepare(values: Numeric): Operand {
    return this.multiply.prepare(values as Float32Array);
  }

  slice(operand: Operand, start: number, end: number): Operand {
    return sliceOperand(operand as PreparedFloat32, start, end);
  }

  gemm(a: Operand, b: Operand, shape: GemmShape): Numeric {
    return this.multiply.gemm(a as PreparedFloat32, b as PreparedFloat32, shape);
  }

  gemmPatches(a: Operand, x: Operand, table: PatchGather, shape: PatchesShape): Numeric | null {
    return this.multiply.gemmPatches(a as PreparedFloat32, x as PreparedFloat32, table, shape);
  }

  depthwise(x: Operand, w: Operand, shape: DepthwiseShape, channelBias?: Numeric): Numeric | null {
    const bias = channelBias as Float32Array | undefined;
    return this.multiply.depthwise(x as PreparedFloat32, w as PreparedFloat32, shape, bias);
  }

  scaleBlocks(values: Numeric, factors: Numeric, blockSize: number): Numeric {
    const a = this.prepare(values);
    const f = this.prepare(factors);
    const cycle = factors.length * blockSize;
    if (values.length >= WASM_MIN_ELEMENTS && values.length % cycle === 0) {
      // The blocks as a broadcast of [cycles, factors, blockSize] by [factors, 1].
      const plan = planBroadcast([values.length / cycle, factors.length, blockSize], [factors.length, 1]);
      const out = this.multiply.productRuns(a as PreparedFloat32, f as PreparedFloat32, plan);
      if (out) return out;
    }
    const out = new Float32Array(values.length);
    multiplyBlocks(out, a, f, blockSize, this.multiply);
    return out;
  }

  output(dims: readonly number[], values: Numeric): Tensor {
    return tensorOf('float32', dims, values);
  }
}

type PreparedFloat32 = { readonly values: Float32Array; readonly scale: number };

class ExactArithmetic implements Arithmetic {
  readonly plainProducts = true;

  constructor(readonly dtype: DType) {}

  values(t: Tensor): Numeric {
    return t.data instanceof Float64Array ? t.data : numbersOf(t);
  }

  allocate(length: number): Numeric {
    return new Float64Array(length);
  }

  prepare(values: Numeric): Operand {
    return { values, scale: 0 };
  }

  slice(operand: Operand, start: number, end: number): Operand {
    return { values: operand.values.subarray(start, end), scale: 0 };
  }

  gemm(a: Operand, b: Operand, shape: GemmShape): Numeric {
    return addBlocks(gemmDouble(a.values, b.values, shape), shape.rowBias, shape.n);
  }

  gemmPatches(): Numeric | null {
    return null; // doubles: the JS patch matrix and GEMM
  }

  depthwise(): Numeric | null {
    return null; // doubles: the JS depthwise sums (conv.ts)
  }

  scaleBlocks(values: Numeric, factors: Numeric, blockSize: number): Numeric {
    const out = new Float64Array(values.length);
    multiplyBlocks(out, this.prepare(values), this.prepare(factors), blockSize, null);
    return out;
  }

  output(dims: readonly number[], values: Numeric): Tensor {
    return tensorOf(this.dtype, dims, values);
  }
}

/** A numeric tensor's elements as doubles. */
function numbersOf(t: Tensor): Float64Array {
  if (t.dtype === 'string') throw new EngineError('expected a numeric tensor, got strings');
  if (t.data instanceof BigInt64Array || t.data instanceof BigUint64Array) return Float64Array.from(t.data, Number);
  return Float64Array.from(t.data as ArrayLike<number>);
}

/**
 * out[i] = a[i]·f[j] with j = ⌊i / blockSize⌋ mod f.length: products under `multiply` (prepared operands),
 * or plain double products without one.
 */
function multiplyBlocks(out: Numeric, a: Operand, f: Operand, blockSize: number, multiply: MultiplyContext | null) {
  const count = f.values.length;
  for (let start = 0, j = 0; start < out.length; start += blockSize, j = j + 1 === count ? 0 : j + 1) {
    const factor = f.values[j]!;
    const end = Math.min(start + blockSize, out.length);
    if (multiply) for (let i = start; i < end; i++) out[i] = multiply.product(a.values[i]!, factor, a.scale, f.scale);
    else for (let i = start; i < end; i++) out[i] = a.values[i]! * factor;
  }
}

/**
 * An integer operand minus its quantisation zero point, as doubles: the zero point is a scalar or one
 * value per block of `blockSize` elements (`perBlock` of them, cycling over any leading batch dims).
 */
export function withoutZeroPoint(
  t: Tensor,
  zeroPoint: Value | undefined,
  layout: { readonly perBlock: number; readonly blockSize: number },
): Float64Array {
  const values = numbersOf(t);
  if (zeroPoint === undefined) return values;
  const zero = numbersOf(expectTensor(zeroPoint, 'zero point'));
  if (zero.length !== 1 && zero.length !== layout.perBlock) {
    throw new EngineError(`zero point has ${zero.length} elements, expected 1 or ${layout.perBlock}`);
  }
  addBlocks(
    values,
    zero.map((z) => -z),
    zero.length === 1 ? values.length : layout.blockSize,
  );
  return values;
}

/** Plain double-precision C = A·B, the exact arithmetic of non-float32 dtypes. */
function gemmDouble(a: Numeric, b: Numeric, shape: GemmShape): Float64Array {
  const { m, n, k } = shape;
  const A = shape.transA ? transposed(a, k, m) : a;
  const B = shape.transB ? transposed(b, n, k) : b;
  const out = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    const row = i * n;
    for (let p = 0; p < k; p++) {
      const x = A[i * k + p]!;
      const bRow = p * n;
      for (let j = 0; j < n; j++) out[row + j] += x * B[bRow + j]!;
    }
  }
  return out;
}

function transposed(values: Numeric, rows: number, cols: number): Float64Array {
  const out = new Float64Array(values.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = values[r * cols + c]!;
  return out;
}

const ROUNDED_FLOATS: Partial<Record<DType, FloatFormat>> = { float16: FP16, bfloat16: BF16 };

/** Results stored in `dtype`: rounded into float32 and narrower floats, truncated-and-wrapped into integers. */
export function tensorOf(dtype: DType, dims: readonly number[], values: Numeric): Tensor {
  const format = ROUNDED_FLOATS[dtype];
  if (format) {
    const out = new Float32Array(values.length);
    for (let i = 0; i < values.length; i++) out[i] = roundToFormat(values[i]!, format);
    return tensor(dtype as 'float16', dims, out);
  }
  switch (dtype) {
    case 'float32':
      return tensor('float32', dims, values instanceof Float32Array ? values : Float32Array.from(values));
    case 'float64':
      return tensor('float64', dims, values instanceof Float64Array ? values : Float64Array.from(values));
    case 'int64':
      return tensor(
        'int64',
        dims,
        BigInt64Array.from(values, (v) => BigInt(Math.trunc(v))),
      );
    case 'uint64':
      return tensor(
        'uint64',
        dims,
        BigUint64Array.from(values, (v) => BigInt(Math.trunc(v))),
      );
    case 'int32':
      return tensor('int32', dims, Int32Array.from(values));
    case 'uint32':
      return tensor('uint32', dims, Uint32Array.from(values));
    case 'int16':
      return tensor('int16', dims, Int16Array.from(values));
    case 'uint16':
      return tensor('uint16', dims, Uint16Array.from(values));
    case 'int8':
      return tensor('int8', dims, Int8Array.from(values));
    case 'uint8':
      return tensor('uint8', dims, Uint8Array.from(values));
    default:
      throw new EngineError(`cannot store results as ${dtype}`);
  }
}

/**
 * Batched C = A·B over numpy-broadcast batch dims: A is [...batchA, m, k], B is [...batchB, k, n], both
 * prepared as whole tensors. Returns the broadcast batch dims and the [...batch, m, n] values.
 */
export function batchedGemm(
  arith: Arithmetic,
  a: Operand,
  b: Operand,
  batchA: readonly number[],
  batchB: readonly number[],
  shape: { readonly m: number; readonly n: number; readonly k: number },
): { batch: number[]; values: Numeric } {
  const { m, n, k } = shape;
  const batch = broadcastShapes(batchA, batchB);
  const count = sizeOf(batch);
  // One shared right operand (weights): the batches are just more rows of one GEMM.
  if (sizeOf(batchB) === 1 && sizeOf(batchA) === count)
    return { batch, values: arith.gemm(a, b, { m: count * m, n, k }) };
  const out = arith.allocate(count * m * n);
  const aIndex = broadcastIndex(batchA, batch);
  const bIndex = broadcastIndex(batchB, batch);
  for (let i = 0; i < count; i++) {
    const aStart = aIndex[i]! * m * k;
    const bStart = bIndex[i]! * k * n;
    const c = arith.gemm(arith.slice(a, aStart, aStart + m * k), arith.slice(b, bStart, bStart + k * n), { m, n, k });
    out.set(c, i * m * n);
  }
  return { batch, values: out };
}
