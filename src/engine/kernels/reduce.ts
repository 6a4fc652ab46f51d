/**
 * Reductions (ReduceSum … ReduceLogSumExp), ArgMax/ArgMin, CumSum and TopK. Floats accumulate in doubles
 * and are rounded into their dtype once; integers wrap like C in their width; int64 accumulates in BigInt.
 * No multiplication here belongs to a scheme group (SPEC §6).
 */
import type { DType, Tensor, TensorData } from '../../onnx';
import { allocate, broadcastIndex, expectTensor, normalizeAxis, sizeOf, toNumbers } from '../tensors';
import { EngineError, tensor, type Kernel, type KernelContext, type Value } from '../types';
import { axisLayout, elementsOf, kindOf, roundNarrow, type AxisLayout, type Elements } from './elementwise-core';

// ---- Reductions over a set of axes -------------------------------------------------------------------

/** Typed arrays of number elements. */
type NumberArray = Exclude<TensorData, string[] | BigInt64Array | BigUint64Array>;

type Identity = 'zero' | 'one' | 'lowest' | 'highest';

/** How a reduction combines elements; a missing `bigint` means int64/uint64 inputs are rejected. */
interface Reduction {
  readonly identity: Identity;
  /** On doubles: floats, and integers of at most 32 bits unless `integerStep` is given. */
  readonly step: (acc: number, x: number) => number;
  /** Integers of at most 32 bits where a double could pass 2^53 and lose the bits the wrap-around keeps. */
  readonly integerStep?: (acc: number, x: number) => number;
  readonly finish?: (acc: number, count: number) => number;
  readonly bigint?: {
    readonly step: (acc: bigint, x: bigint) => bigint;
    readonly finish?: (acc: bigint, count: bigint) => bigint;
  };
  /** Accepts bool tensors (ReduceMax/ReduceMin, opset 20). */
  readonly bool?: boolean;
}

const add = (acc: number, x: number) => acc + x;
const addSquare = (acc: number, x: number) => acc + x * x;
const addBig = (acc: bigint, x: bigint) => acc + x;
// A NaN, once met, stays the result (numpy semantics).
const max = (acc: number, x: number) => (x > acc || x !== x ? x : acc);
const min = (acc: number, x: number) => (x < acc || x !== x ? x : acc);

/** log(e^acc + e^x) without overflow: the running value of ReduceLogSumExp. */
function logAddExp(acc: number, x: number): number {
  if (x === -Infinity) return acc;
  if (acc === -Infinity) return x;
  if (acc === x) return acc + Math.LN2; // also keeps +inf, where acc − x would be NaN
  return Math.max(acc, x) + Math.log1p(Math.exp(-Math.abs(acc - x)));
}

const SUM: Reduction = { identity: 'zero', step: add, integerStep: (a, x) => (a + x) | 0, bigint: { step: addBig } };

const REDUCTIONS: Record<string, Reduction> = {
  ReduceSum: SUM,
  ReduceMean: { ...SUM, finish: (a, n) => a / n, bigint: { step: addBig, finish: (a, n) => (n === 0n ? 0n : a / n) } },
  ReduceMax: { identity: 'lowest', step: max, bigint: { step: (a, x) => (x > a ? x : a) }, bool: true },
  ReduceMin: { identity: 'highest', step: min, bigint: { step: (a, x) => (x < a ? x : a) }, bool: true },
  ReduceProd: { identity: 'one', step: (a, x) => a * x, integerStep: Math.imul, bigint: { step: (a, x) => a * x } },
  ReduceL1: {
    identity: 'zero',
    step: (a, x) => a + Math.abs(x),
    integerStep: (a, x) => (a + Math.abs(x)) | 0,
    bigint: { step: (a, x) => a + (x < 0n ? -x : x) },
  },
  ReduceL2: { identity: 'zero', step: addSquare, finish: Math.sqrt },
  ReduceSumSquare: {
    identity: 'zero',
    step: addSquare,
    integerStep: (a, x) => (a + Math.imul(x, x)) | 0,
    bigint: { step: (a, x) => a + x * x },
  },
  ReduceLogSum: { identity: 'zero', step: add, finish: Math.log },
  ReduceLogSumExp: { identity: 'lowest', step: logAddExp },
};

const INTEGER_RANGES: Partial<Record<DType, readonly [number, number]>> = {
  bool: [0, 1],
  int8: [-128, 127],
  uint8: [0, 255],
  int16: [-32768, 32767],
  uint16: [0, 65535],
  int32: [-2147483648, 2147483647],
  uint32: [0, 4294967295],
};

function numberIdentity(identity: Identity, dtype: DType): number {
  if (identity === 'zero') return 0;
  if (identity === 'one') return 1;
  const range = INTEGER_RANGES[dtype] ?? [-Infinity, Infinity];
  return identity === 'lowest' ? range[0] : range[1];
}

function bigintIdentity(identity: Identity, dtype: DType): bigint {
  if (identity === 'zero') return 0n;
  if (identity === 'one') return 1n;
  const signed = dtype === 'int64';
  if (identity === 'lowest') return signed ? -(2n ** 63n) : 0n;
  return signed ? 2n ** 63n - 1n : 2n ** 64n - 1n;
}

/**
 * The axes to reduce: from the `axes` input (ReduceSum since opset 13, the others since 18) or attribute.
 * None given means all axes, or none at all with `noop_with_empty_axes` (each element reduced on its own).
 */
function reductionAxes(inputs: readonly (Value | undefined)[], ctx: KernelContext, rank: number): number[] {
  const fromInput = ctx.opset >= (ctx.node.opType === 'ReduceSum' ? 13 : 18);
  const given = fromInput
    ? inputs[1] === undefined
      ? []
      : toNumbers(expectTensor(inputs[1], 'axes'))
    : ctx.attributes.ints('axes', []);
  if (given.length === 0) {
    return ctx.attributes.int('noop_with_empty_axes', 0) !== 0 ? [] : Array.from({ length: rank }, (_, i) => i);
  }
  const axes = given.map((a) => normalizeAxis(a, rank, 'axes entry'));
  if (new Set(axes).size !== axes.length) throw new EngineError(`axes [${given.join(', ')}] repeat an axis`);
  return axes;
}

function reductionKernel(reduction: Reduction): Kernel {
  return (inputs, ctx) => {
    const x = expectTensor(inputs[0], 'data');
    const axes = new Set(reductionAxes(inputs, ctx, x.dims.length));
    const keptDims = x.dims.map((d, axis) => (axes.has(axis) ? 1 : d));
    const keepdims = ctx.attributes.int('keepdims', 1) !== 0;
    const outDims = keepdims ? keptDims : x.dims.filter((_, axis) => !axes.has(axis));
    // Every input element's output position: the kept dims broadcast over the input's.
    const target = broadcastIndex(keptDims, x.dims);
    const out = allocate(x.dtype, outDims);
    const outCount = sizeOf(outDims);
    const count = outCount === 0 ? 0 : x.data.length / outCount; // elements per output
    const kind = kindOf(x);
    if (kind === 'bigint') reduceBigInts(reduction, x, target, out, count);
    else if (kind === 'float' || kind === 'integer' || (kind === 'bool' && reduction.bool))
      reduceNumbers(reduction, x, target, out, count);
    else throw new EngineError(`${ctx.node.opType} does not accept ${x.dtype} inputs`);
    return [roundNarrow(out)];
  };
}

/** Accumulates in doubles, then stores into the output's typed array: fp32 rounding, integer wrap-around. */
function reduceNumbers(reduction: Reduction, x: Tensor, target: Int32Array, out: Tensor, count: number): void {
  const { identity, step, integerStep, finish } = reduction;
  const combine = kindOf(x) === 'float' ? step : (integerStep ?? step);
  const acc = new Float64Array(out.data.length).fill(numberIdentity(identity, x.dtype));
  const data = elementsOf<number>(x);
  for (let i = 0; i < data.length; i++) acc[target[i]!] = combine(acc[target[i]!]!, data[i]!);
  if (finish) for (let o = 0; o < acc.length; o++) acc[o] = finish(acc[o]!, count);
  (out.data as NumberArray).set(acc);
}

function reduceBigInts(reduction: Reduction, x: Tensor, target: Int32Array, out: Tensor, count: number): void {
  if (!reduction.bigint) throw new EngineError(`this reduction does not accept ${x.dtype} inputs`);
  const { step, finish } = reduction.bigint;
  // The output array is the accumulator: every store wraps into 64 bits, as C's integer arithmetic does.
  const acc = elementsOf<bigint>(out);
  const identity = bigintIdentity(reduction.identity, x.dtype);
  for (let o = 0; o < acc.length; o++) acc[o] = identity;
  const data = elementsOf<bigint>(x);
  for (let i = 0; i < data.length; i++) acc[target[i]!] = step(acc[target[i]!]!, data[i]!);
  if (finish) for (let o = 0; o < acc.length; o++) acc[o] = finish(acc[o]!, BigInt(count));
}

// ---- Along one axis: ArgMax/ArgMin, CumSum, TopK -----------------------------------------------------

type Ordered = number | bigint;

/** The elements of a numeric tensor as comparable values (bool as 0/1). */
function orderedElements(x: Tensor): Elements<Ordered> {
  if (kindOf(x) === 'string') throw new EngineError('string tensors cannot be ordered');
  return elementsOf<Ordered>(x);
}

/** ArgMax/ArgMin: the first extreme index (the last with `select_last_index`); the first NaN wins (numpy). */
function argKernel(largest: boolean): Kernel {
  return (inputs, ctx) => {
    const x = expectTensor(inputs[0], 'data');
    const data = orderedElements(x);
    const axis = normalizeAxis(ctx.attributes.int('axis', 0), x.dims.length);
    const keepdims = ctx.attributes.int('keepdims', 1) !== 0;
    const selectLast = ctx.attributes.int('select_last_index', 0) !== 0;
    const { outer, n, inner } = axisLayout(x.dims, axis);
    if (n === 0) throw new EngineError(`cannot take ${ctx.node.opType} over an empty axis`);
    const out = new BigInt64Array(outer * inner);
    for (let o = 0; o < outer; o++) {
      for (let j = 0; j < inner; j++) {
        const start = o * n * inner + j;
        let best = 0;
        let bestValue = data[start]!;
        for (let k = 1; k < n && bestValue === bestValue; k++) {
          const v = data[start + k * inner]!;
          if (v !== v || (largest ? v > bestValue : v < bestValue) || (selectLast && v === bestValue)) {
            best = k;
            bestValue = v;
          }
        }
        out[o * inner + j] = BigInt(best);
      }
    }
    const outDims = keepdims ? x.dims.map((d, a) => (a === axis ? 1 : d)) : x.dims.filter((_, a) => a !== axis);
    return [tensor('int64', outDims, out)];
  };
}

/** CumSum along the `axis` input; `exclusive` leaves each element out of its own sum, `reverse` runs backwards. */
const cumSumKernel: Kernel = (inputs, ctx) => {
  const x = expectTensor(inputs[0], 'x');
  const axisInput = toNumbers(expectTensor(inputs[1], 'axis'));
  if (axisInput.length !== 1) throw new EngineError('axis must hold a single value');
  const layout = axisLayout(x.dims, normalizeAxis(axisInput[0]!, x.dims.length));
  const exclusive = ctx.attributes.int('exclusive', 0) !== 0;
  const reverse = ctx.attributes.int('reverse', 0) !== 0;
  const out = allocate(x.dtype, x.dims);
  const kind = kindOf(x);
  const run = <T>(zero: T, plus: (a: T, b: T) => T) =>
    cumulate(elementsOf<T>(x), elementsOf<T>(out), layout, zero, plus, exclusive, reverse);
  if (kind === 'float') run(0, add);
  else if (kind === 'integer') run(0, (a: number, b: number) => (a + b) | 0);
  else if (kind === 'bigint') run(0n, addBig);
  else throw new EngineError(`CumSum does not accept ${x.dtype} inputs`);
  return [roundNarrow(out)];
};

/** A running fold along one axis (CumSum with +, CumProd with ×), optionally exclusive and/or reversed. */
export function cumulate<T>(
  x: Elements<T>,
  out: Elements<T>,
  { outer, n, inner }: AxisLayout,
  zero: T,
  plus: (a: T, b: T) => T,
  exclusive: boolean,
  reverse: boolean,
): void {
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < inner; j++) {
      let acc = zero;
      for (let t = 0; t < n; t++) {
        const index = o * n * inner + (reverse ? n - 1 - t : t) * inner + j;
        if (exclusive) out[index] = acc;
        acc = plus(acc, x[index]!);
        if (!exclusive) out[index] = acc;
      }
    }
  }
}

/** Ascending order with NaN above everything (numpy's sort order). */
function ascending(a: Ordered, b: Ordered): number {
  if (a !== a) return b !== b ? 0 : 1;
  if (b !== b) return -1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** TopK: the k largest (or smallest) along `axis`, sorted, equal values in index order. */
const topKKernel: Kernel = (inputs, ctx) => {
  const x = expectTensor(inputs[0], 'X');
  const data = orderedElements(x);
  const k = ctx.opset < 10 ? ctx.attributes.int('k') : topKCount(inputs[1]);
  const axis = normalizeAxis(ctx.attributes.int('axis', -1), x.dims.length);
  const largest = ctx.attributes.int('largest', 1) !== 0;
  const { outer, n, inner } = axisLayout(x.dims, axis);
  if (k < 0 || k > n) throw new EngineError(`k = ${k} is outside [0, ${n}] for axis ${axis}`);
  const outDims = x.dims.map((d, a) => (a === axis ? k : d));
  const values = allocate(x.dtype, outDims);
  const valueData = elementsOf<Ordered>(values);
  const indices = new BigInt64Array(values.data.length);
  const order = new Int32Array(n);
  const line: Ordered[] = new Array<Ordered>(n);
  // `sorted=0` leaves the order open; sorted order is one valid choice.
  const compare = (p: number, q: number) =>
    (largest ? ascending(line[q]!, line[p]!) : ascending(line[p]!, line[q]!)) || p - q;
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < inner; j++) {
      for (let t = 0; t < n; t++) {
        line[t] = data[o * n * inner + t * inner + j]!;
        order[t] = t;
      }
      order.sort(compare);
      for (let t = 0; t < k; t++) {
        const index = o * k * inner + t * inner + j;
        valueData[index] = line[order[t]!]!;
        indices[index] = BigInt(order[t]!);
      }
    }
  }
  return [values, tensor('int64', outDims, indices)];
};

function topKCount(value: Value | undefined): number {
  const k = toNumbers(expectTensor(value, 'K'));
  if (k.length !== 1) throw new EngineError(`K must hold a single value, got ${k.length}`);
  return k[0]!;
}

export const kernels: Record<string, Kernel> = {
  ...Object.fromEntries(Object.entries(REDUCTIONS).map(([op, r]) => [op, reductionKernel(r)])),
  ArgMax: argKernel(true),
  ArgMin: argKernel(false),
  CumSum: cumSumKernel,
  TopK: topKKernel,
};
