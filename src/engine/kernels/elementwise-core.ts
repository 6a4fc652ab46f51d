/**
 * Shared machinery of the element-wise kernels (elementwise.ts, activation.ts, reduce.ts): how each dtype
 * is computed in, numpy broadcasting loops, and rounding of results into float16/bfloat16 storage.
 */
import { BF16, FP16, roundToFormat, type FloatFormat } from '../../arith';
import type { DType, Tensor } from '../../onnx';
import { allocate, broadcastIndex, broadcastShapes, sizeOf } from '../tensors';
import { EngineError, tensor } from '../types';
import { copyFloat32 } from '../buffers';
import { wasmBinaryRuns } from '../wasm/kernels';

/** Indexed element storage of one dtype: numbers, bigints (int64/uint64) or strings. */
export interface Elements<T> {
  [index: number]: T;
  readonly length: number;
}

/**
 * How kernels compute on a dtype:
 * - `float`: in doubles, the result rounded into the dtype (by the Float32Array store, or `roundNarrow`);
 * - `integer`: integers of at most 32 bits held in doubles, wrapped into their width by the typed-array
 *   store like C's conversions (operations whose double result could exceed 2^53 wrap explicitly);
 * - `bigint`: int64/uint64, wrapped into 64 bits by the BigInt64Array/BigUint64Array store;
 * - `bool`: 0 or 1; `string`.
 */
export type ElementKind = 'float' | 'integer' | 'bigint' | 'bool' | 'string';

const KIND_OF: Partial<Record<DType, ElementKind>> = {
  float32: 'float',
  float64: 'float',
  float16: 'float',
  bfloat16: 'float',
  int8: 'integer',
  uint8: 'integer',
  int16: 'integer',
  uint16: 'integer',
  int32: 'integer',
  uint32: 'integer',
  int64: 'bigint',
  uint64: 'bigint',
  bool: 'bool',
  string: 'string',
};

/** The element kind of a tensor; float8/float4/int4/complex tensors take part in no element-wise arithmetic. */
export function kindOf(t: Tensor): ElementKind {
  const kind = KIND_OF[t.dtype];
  if (!kind) throw new EngineError(`${t.dtype} tensors are not supported by this operator`);
  return kind;
}

/** The element function for a tensor of a number kind, or an EngineError naming the rejected dtype. */
export function numberFn<F>(fns: { readonly float?: F; readonly integer?: F; readonly bool?: F }, t: Tensor): F {
  const kind = kindOf(t);
  const fn = kind === 'float' || kind === 'integer' || kind === 'bool' ? fns[kind] : undefined;
  if (!fn) throw rejected(t);
  return fn;
}

/** The element function for an int64/uint64 tensor, or an EngineError when the operator has none. */
export function bigintFn<F>(fns: { readonly bigint?: F }, t: Tensor): F {
  if (!fns.bigint) throw rejected(t);
  return fns.bigint;
}

function rejected(t: Tensor): EngineError {
  return new EngineError(`this operator does not accept ${t.dtype} inputs`);
}

/** Inputs that must share one dtype (ONNX type constraint T). */
export function expectSameDType(tensors: readonly Tensor[]): void {
  const dtype = tensors[0]!.dtype;
  const other = tensors.find((t) => t.dtype !== dtype);
  if (other) throw new EngineError(`inputs mix dtypes ${dtype} and ${other.dtype}`);
}

const NARROW_FORMATS: Partial<Record<DType, FloatFormat>> = { float16: FP16, bfloat16: BF16 };

/** Rounds a float16/bfloat16 tensor's freshly computed values into its format, in place; other dtypes pass. */
export function roundNarrow(t: Tensor): Tensor {
  const format = NARROW_FORMATS[t.dtype];
  if (format) {
    const data = t.data as Float32Array;
    for (let i = 0; i < data.length; i++) data[i] = roundToFormat(data[i]!, format);
  }
  return t;
}

/**
 * A numpy broadcast walked as `rows` runs of `run` consecutive output elements: within a run each operand
 * advances by its `step` (1, or 0 where it is broadcast), and `rowStart[k][r]` is operand k's index at the
 * start of row r. Adjacent axes that every operand broadcasts alike are merged first, so a same-shape op
 * is a single run and a bias add is one run per repetition of the bias.
 */
export interface Broadcast {
  readonly dims: number[];
  readonly count: number;
  readonly rows: number;
  readonly run: number;
  readonly step: readonly number[];
  readonly rowStart: readonly Int32Array[];
}

export function planBroadcast(...shapes: readonly (readonly number[])[]): Broadcast {
  const dims = broadcastShapes(...shapes);
  const aligned = shapes.map((s) => [...new Array<number>(dims.length - s.length).fill(1), ...s]);
  const merged: { size: number; present: boolean[] }[] = [];
  dims.forEach((size, axis) => {
    if (size === 1) return; // contributes nothing to any index
    const present = aligned.map((s) => s[axis] !== 1);
    const last = merged[merged.length - 1];
    if (last && last.present.every((p, k) => p === present[k])) last.size *= size;
    else merged.push({ size, present });
  });
  const inner = merged.pop() ?? { size: 1, present: shapes.map(() => false) };
  const outerDims = merged.map((m) => m.size);
  const rowStart = shapes.map((_, k) => {
    const ownOuterDims = merged.map((m) => (m.present[k] ? m.size : 1));
    const starts = broadcastIndex(ownOuterDims, outerDims);
    const rowLength = inner.present[k] ? inner.size : 1;
    for (let r = 0; r < starts.length; r++) starts[r] = starts[r]! * rowLength;
    return starts;
  });
  return {
    dims,
    count: sizeOf(dims),
    rows: sizeOf(outerDims),
    run: inner.size,
    step: inner.present.map((p) => (p ? 1 : 0)),
    rowStart,
  };
}

/** out[i] = f(a[·], b[·]) over a broadcast of two operands. */
export function broadcastMap<A, B, R>(
  plan: Broadcast,
  out: Elements<R>,
  a: Elements<A>,
  b: Elements<B>,
  f: (x: A, y: B) => R,
): void {
  const { rows, run } = plan;
  const [stepA, stepB] = plan.step as [number, number];
  const [startA, startB] = plan.rowStart as [Int32Array, Int32Array];
  let o = 0;
  for (let r = 0; r < rows; r++) {
    let ia = startA[r]!;
    let ib = startB[r]!;
    for (let i = 0; i < run; i++, ia += stepA, ib += stepB) out[o++] = f(a[ia]!, b[ib]!);
  }
}

/**
 * Below this many elements a float32 operator runs in JS: copying into WebAssembly memory and the call
 * cost more than the loop.
 */
export const WASM_MIN_ELEMENTS = 512;

/** Arithmetic operators with a dedicated float32 loop (in WebAssembly SIMD for large tensors). */
export type Float32Arithmetic = 'add' | 'sub' | 'mul' | 'div' | 'min' | 'max';

/**
 * The arithmetic operators (and Min/Max) on float32 tensors, one loop each: a shared loop calling an operator
 * function is megamorphic in V8 (it sees every operator and array type) and several times slower, and
 * these four carry most element-wise work of real models.
 */
export function float32Arithmetic(
  op: Float32Arithmetic,
  plan: Broadcast,
  out: Float32Array,
  a: Float32Array,
  b: Float32Array,
): void {
  const { rows, run } = plan;
  const [stepA, stepB] = plan.step as [number, number];
  const [startA, startB] = plan.rowStart as [Int32Array, Int32Array];
  let o = 0;
  for (let r = 0; r < rows; r++, o += run) {
    const ia = startA[r]!;
    const ib = startB[r]!;
    switch (op) {
      case 'add':
        for (let i = 0; i < run; i++) out[o + i] = a[ia + i * stepA]! + b[ib + i * stepB]!;
        break;
      case 'sub':
        for (let i = 0; i < run; i++) out[o + i] = a[ia + i * stepA]! - b[ib + i * stepB]!;
        break;
      case 'mul':
        for (let i = 0; i < run; i++) out[o + i] = a[ia + i * stepA]! * b[ib + i * stepB]!;
        break;
      case 'div':
        for (let i = 0; i < run; i++) out[o + i] = a[ia + i * stepA]! / b[ib + i * stepB]!;
        break;
      case 'min':
        for (let i = 0; i < run; i++) out[o + i] = Math.min(a[ia + i * stepA]!, b[ib + i * stepB]!);
        break;
      case 'max':
        for (let i = 0; i < run; i++) out[o + i] = Math.max(a[ia + i * stepA]!, b[ib + i * stepB]!);
        break;
    }
  }
}

/** Element functions of a binary operator per element kind (a kind it lacks is a dtype it rejects). */
export interface BinaryFns {
  /** The operator's dedicated float32 loop, if it has one. */
  readonly float32?: Float32Arithmetic;
  readonly float?: (a: number, b: number) => number;
  readonly integer?: (a: number, b: number) => number;
  readonly bigint?: (a: bigint, b: bigint) => bigint;
  readonly bool?: (a: number, b: number) => number;
}

/** A binary operator on two tensors of one dtype, broadcast, with a result of that dtype. */
export function binaryOp(a: Tensor, b: Tensor, fns: BinaryFns): Tensor {
  expectSameDType([a, b]);
  const plan = planBroadcast(a.dims, b.dims);
  if (fns.float32 && a.dtype === 'float32' && plan.count >= WASM_MIN_ELEMENTS) {
    return tensor(
      'float32',
      plan.dims,
      wasmBinaryRuns(fns.float32, plan, a.data as Float32Array, b.data as Float32Array),
    );
  }
  const out = allocate(a.dtype, plan.dims);
  if (fns.float32 && a.dtype === 'float32' && out.dtype === 'float32') {
    float32Arithmetic(fns.float32, plan, out.data, a.data as Float32Array, b.data as Float32Array);
    return out;
  }
  if (kindOf(a) === 'bigint') {
    broadcastMap(plan, elementsOf<bigint>(out), elementsOf<bigint>(a), elementsOf<bigint>(b), bigintFn(fns, a));
  } else {
    broadcastMap(plan, elementsOf<number>(out), elementsOf<number>(a), elementsOf<number>(b), numberFn(fns, a));
  }
  return roundNarrow(out);
}

/** Element functions of a unary operator per element kind. */
export interface UnaryFns {
  readonly float?: (x: number) => number;
  readonly integer?: (x: number) => number;
  readonly bigint?: (x: bigint) => bigint;
  readonly bool?: (x: number) => number;
}

/** A unary operator with a result of the input's dtype and shape. */
export function unaryOp(x: Tensor, fns: UnaryFns): Tensor {
  const out = allocate(x.dtype, x.dims);
  if (kindOf(x) === 'bigint') mapInto(elementsOf<bigint>(x), elementsOf<bigint>(out), bigintFn(fns, x));
  else mapInto(elementsOf<number>(x), elementsOf<number>(out), numberFn(fns, x));
  return roundNarrow(out);
}

function mapInto<T>(src: Elements<T>, dst: Elements<T>, f: (v: T) => T): void {
  for (let i = 0; i < src.length; i++) dst[i] = f(src[i]!);
}

/** A float-only unary operator (the math functions). */
export function mapFloat(x: Tensor, f: (v: number) => number): Tensor {
  return unaryOp(x, { float: f });
}

/** A copy of a tensor (kernels never hand out their inputs' storage as an output). */
export function copyOf(t: Tensor): Tensor {
  if (t.data instanceof Float32Array) return tensor(t.dtype, t.dims, copyFloat32(t.data) as never);
  return tensor(t.dtype, t.dims, t.data.slice() as never);
}

/** A tensor's elements read as T (the caller knows the dtype's element type). */
export function elementsOf<T>(t: Tensor): Elements<T> {
  return t.data as unknown as Elements<T>;
}

/** A tensor seen as [outer, n, inner] around one axis. */
export interface AxisLayout {
  readonly outer: number;
  readonly n: number;
  readonly inner: number;
}

export function axisLayout(dims: readonly number[], axis: number): AxisLayout {
  return { outer: sizeOf(dims.slice(0, axis)), n: dims[axis] ?? 1, inner: sizeOf(dims.slice(axis + 1)) };
}

/** A float tensor's values: Float32Array for float32/float16/bfloat16, Float64Array for float64. */
export function floatData(t: Tensor): Float32Array | Float64Array {
  if (kindOf(t) !== 'float') throw new EngineError(`expected a float tensor, got ${t.dtype}`);
  return t.data as Float32Array | Float64Array;
}
