/**
 * Element-wise operators with numpy broadcasting: arithmetic, math functions, comparisons, logic and
 * bitwise ops, Clip, Where and the variadic Sum/Mean/Min/Max. Every Mul of float32 tensors multiplies under
 * the node's scheme (SPEC §6); additions, divisions and the math functions are never replaced.
 */
import type { Tensor, TensorOf } from '../../onnx';
import type { MultiplyContext } from '../multiply';
import { allocate, expectTensor, normalizeAxis } from '../tensors';
import { EngineError, tensor, type Kernel, type KernelContext, type Value } from '../types';
import {
  binaryOp,
  bigintFn,
  broadcastMap,
  copyOf,
  elementsOf,
  expectSameDType,
  floatData,
  kindOf,
  mapFloat,
  numberFn,
  planBroadcast,
  roundNarrow,
  unaryOp,
  WASM_MIN_ELEMENTS,
  type BinaryFns,
  type UnaryFns,
} from './elementwise-core';
import type { Attributes } from '../attributes';
import { wasmClip, wasmSigmoid } from '../wasm/kernels';
import {
  bigintPow,
  erf,
  floorMod,
  floorModBigInt,
  integerPow,
  roundHalfToEven,
  truncatedPow,
  truncMod,
  truncModBigInt,
} from './elementwise-math';

// ---- Arithmetic -------------------------------------------------------------------------------------

const add = (a: number, b: number) => a + b;
const sub = (a: number, b: number) => a - b;
const mul = (a: number, b: number) => a * b;

const ADD: BinaryFns = { float32: 'add', float: add, integer: add, bigint: (a, b) => a + b };
const SUB: BinaryFns = { float32: 'sub', float: sub, integer: sub, bigint: (a, b) => a - b };
// A 32-bit product can exceed 2^53, where doubles would lose the low bits the wrap-around keeps.
const MUL: BinaryFns = { float32: 'mul', float: mul, integer: Math.imul, bigint: (a, b) => a * b };
// Integer division truncates like C; a zero divisor gives 0 (Infinity stores as 0 into integer arrays).
const DIV: BinaryFns = {
  float32: 'div',
  float: (a, b) => a / b,
  integer: (a, b) => Math.trunc(a / b),
  bigint: (a, b) => (b === 0n ? 0n : a / b),
};
const MIN: BinaryFns = { float32: 'min', float: Math.min, integer: Math.min, bigint: (a, b) => (a < b ? a : b) };
const MAX: BinaryFns = { float32: 'max', float: Math.max, integer: Math.max, bigint: (a, b) => (a > b ? a : b) };

/**
 * The two operands of a binary op. Before opset 7, B broadcasts only with `broadcast=1`, its dims aligned
 * at `axis` of A rather than at the trailing dims.
 */
function binaryOperands(inputs: readonly (Value | undefined)[], ctx: KernelContext): [Tensor, Tensor] {
  const a = expectTensor(inputs[0], 'input A');
  const b = expectTensor(inputs[1], 'input B');
  if (ctx.opset >= 7 || ctx.attributes.int('broadcast', 0) === 0 || !ctx.attributes.has('axis')) return [a, b];
  const axis = normalizeAxis(ctx.attributes.int('axis'), a.dims.length);
  const trailing = a.dims.length - axis - b.dims.length;
  if (trailing < 0) throw new EngineError(`B of rank ${b.dims.length} does not fit A's dims from axis ${axis}`);
  return [a, { ...b, dims: [...b.dims, ...new Array<number>(trailing).fill(1)] } as Tensor];
}

function binaryKernel(fns: BinaryFns): Kernel {
  return (inputs, ctx) => {
    const [a, b] = binaryOperands(inputs, ctx);
    return [binaryOp(a, b, fns)];
  };
}

/** Mul: float32 products under the node's scheme; other dtypes multiply exactly in their own type. */
const mulKernel: Kernel = (inputs, ctx) => {
  const [a, b] = binaryOperands(inputs, ctx);
  const multiply = ctx.multiply.forGroup('multiply');
  if (a.dtype === 'float32' && b.dtype === 'float32' && !multiply.isExact) return [schemeMul(a, b, multiply)];
  return [binaryOp(a, b, MUL)];
};

/** Each product of the operands prepared as whole tensors (operand rounding, fp8 per-tensor scale). */
function schemeMul(a: TensorOf<'float32'>, b: TensorOf<'float32'>, multiply: MultiplyContext): Tensor {
  const plan = planBroadcast(a.dims, b.dims);
  const large = plan.count >= WASM_MIN_ELEMENTS;
  // Product-table schemes compute large products from the tensors themselves (no operands prepared apart).
  const computed = large ? multiply.fp8ProductRuns(a.data, b.data, plan) : null;
  if (computed) return tensor('float32', plan.dims, computed);
  const pa = multiply.prepare(a.data);
  const pb = multiply.prepare(b.data);
  const products = large ? multiply.productRuns(pa, pb, plan) : null;
  if (products) return tensor('float32', plan.dims, products);
  const out = new Float32Array(plan.count);
  const { rows, run, rowStart } = plan;
  const [stepA, stepB] = plan.step as [number, number];
  const [a0, b0] = rowStart as [Int32Array, Int32Array];
  const fill = multiply.productsOf(pa, pb);
  for (let r = 0, o = 0; r < rows; r++, o += run) fill(out, o, run, a0[r]!, stepA, b0[r]!, stepB);
  return tensor('float32', plan.dims, out);
}

/** Mod: `fmod=0` is Python's integer mod (the divisor's sign), `fmod=1` C's fmod (the dividend's sign). */
const modKernel: Kernel = (inputs, ctx) => {
  const [a, b] = binaryOperands(inputs, ctx);
  const fmod = ctx.attributes.int('fmod', 0);
  if (fmod !== 0 && fmod !== 1) throw new EngineError(`fmod must be 0 or 1, got ${fmod}`);
  if (fmod === 0 && kindOf(a) === 'float') throw new EngineError(`Mod of ${a.dtype} tensors needs fmod=1`);
  const fns: BinaryFns =
    fmod === 1
      ? { float: (p, q) => p % q, integer: truncMod, bigint: truncModBigInt }
      : { integer: floorMod, bigint: floorModBigInt };
  return [binaryOp(a, b, fns)];
};

/**
 * Pow: the result has the base's dtype; the exponent may have another numeric dtype. Integer bases raised
 * to integer exponents wrap like C; to float exponents they truncate.
 */
const powKernel: Kernel = (inputs, ctx) => {
  const [base, exponent] = binaryOperands(inputs, ctx);
  const plan = planBroadcast(base.dims, exponent.dims);
  const out = allocate(base.dtype, plan.dims);
  const baseKind = kindOf(base);
  const exponentKind = kindOf(exponent);
  if (exponentKind !== 'float' && exponentKind !== 'integer' && exponentKind !== 'bigint')
    throw new EngineError(`Pow does not accept ${exponent.dtype} exponents`);
  const e = elementsOf<number | bigint>(exponent);
  const integerExponent = exponentKind !== 'float';
  if (baseKind === 'float' && e.length === 1 && plan.count === base.data.length) {
    // One exponent (a spectrogram's power, a norm's square): a plain loop, squares as products (Math.pow(a, 2)
    // is a·a for every double).
    const n = Number(e[0]);
    const [x, y] = [elementsOf<number>(base), elementsOf<number>(out)];
    if (n === 2) for (let i = 0; i < x.length; i++) y[i] = x[i]! * x[i]!;
    else for (let i = 0; i < x.length; i++) y[i] = Math.pow(x[i]!, n);
  } else if (baseKind === 'float') {
    broadcastMap(plan, elementsOf<number>(out), elementsOf<number>(base), e, (a, n) => Math.pow(a, Number(n)));
  } else if (baseKind === 'integer') {
    const f = integerExponent
      ? (a: number, n: number | bigint) => integerPow(a, Number(n))
      : (a: number, n: number | bigint) => truncatedPow(a, Number(n));
    broadcastMap(plan, elementsOf<number>(out), elementsOf<number>(base), e, f);
  } else if (baseKind === 'bigint') {
    const f = integerExponent
      ? (a: bigint, n: number | bigint) => bigintPow(a, BigInt(n))
      : (a: bigint, n: number | bigint) => BigInt(truncatedPow(Number(a), Number(n)));
    broadcastMap(plan, elementsOf<bigint>(out), elementsOf<bigint>(base), e, f);
  } else {
    throw new EngineError(`Pow does not accept ${base.dtype} bases`);
  }
  return [roundNarrow(out)];
};

/** BitShift on unsigned integers; shifting by the width or more gives 0 (C leaves it undefined). */
const bitShiftKernel: Kernel = (inputs, ctx) => {
  const [a, b] = binaryOperands(inputs, ctx);
  const direction = ctx.attributes.string('direction');
  if (direction !== 'LEFT' && direction !== 'RIGHT')
    throw new EngineError(`direction must be "LEFT" or "RIGHT", got "${direction}"`);
  if (!a.dtype.startsWith('uint')) throw new EngineError(`BitShift does not accept ${a.dtype} inputs`);
  const left = direction === 'LEFT';
  const fns: BinaryFns = {
    integer: left ? (x, n) => (n >= 32 ? 0 : x << n) : (x, n) => (n >= 32 ? 0 : x >>> n),
    bigint: left ? (x, n) => (n >= 64n ? 0n : x << n) : (x, n) => (n >= 64n ? 0n : x >> n),
  };
  return [binaryOp(a, b, fns)];
};

// ---- Comparisons and logic ---------------------------------------------------------------------------

type Ordered = number | bigint;

/** A comparison with a bool result (NaN compares false, as in IEEE 754). Only Equal compares strings. */
function comparisonKernel<T>(test: (a: T, b: T) => boolean, acceptsStrings = false): Kernel {
  return (inputs, ctx) => {
    const [a, b] = binaryOperands(inputs, ctx);
    expectSameDType([a, b]);
    if (kindOf(a) === 'string' && !acceptsStrings) throw new EngineError('this comparison does not accept strings');
    const plan = planBroadcast(a.dims, b.dims);
    const out = new Uint8Array(plan.count);
    broadcastMap(plan, out, elementsOf<T>(a), elementsOf<T>(b), (x, y) => (test(x, y) ? 1 : 0));
    return [tensor('bool', plan.dims, out)];
  };
}

const logical = (f: (a: number, b: number) => number): BinaryFns => ({ bool: f });

// ---- Unary -------------------------------------------------------------------------------------------

const floatKernel =
  (f: (x: number) => number): Kernel =>
  (inputs) => [mapFloat(expectTensor(inputs[0], 'input'), f)];

const unaryKernel =
  (fns: UnaryFns): Kernel =>
  (inputs) => [unaryOp(expectTensor(inputs[0], 'input'), fns)];

/** 1/(1 + e^−x), from e^−|x| so that no exponential overflows. */
function sigmoid(x: number): number {
  const e = Math.exp(-Math.abs(x));
  return x >= 0 ? 1 / (1 + e) : e / (1 + e);
}

const ABS: UnaryFns = { float: Math.abs, integer: Math.abs, bigint: (x) => (x < 0n ? -x : x) };
const NEG: UnaryFns = { float: (x) => -x, integer: (x) => -x, bigint: (x) => -x };
// Sign keeps ±0 and NaN as they are.
const signOf = (x: number) => (x > 0 ? 1 : x < 0 ? -1 : x);
const SIGN: UnaryFns = { float: signOf, integer: signOf, bigint: (x) => (x > 0n ? 1n : x < 0n ? -1n : 0n) };

/** A float → bool test (IsNaN, IsInf). */
function predicateKernel(makeTest: (ctx: KernelContext) => (x: number) => boolean): Kernel {
  return (inputs, ctx) => {
    const x = expectTensor(inputs[0], 'input');
    const data = floatData(x);
    const test = makeTest(ctx);
    const out = new Uint8Array(data.length);
    for (let i = 0; i < out.length; i++) out[i] = test(data[i]!) ? 1 : 0;
    return [tensor('bool', x.dims, out)];
  };
}

const isInfTest = (ctx: KernelContext) => {
  const positive = ctx.attributes.int('detect_positive', 1) !== 0;
  const negative = ctx.attributes.int('detect_negative', 1) !== 0;
  return (x: number) => (x === Infinity && positive) || (x === -Infinity && negative);
};

// ---- Clip, Where, variadic ---------------------------------------------------------------------------

const FLT_MAX = 3.4028234663852886e38;

/** Clip's bounds before opset 11: its min and max attributes, ∓FLT_MAX by default. */
export function legacyClipBounds(attributes: Attributes): [number, number] {
  return [attributes.float('min', -FLT_MAX), attributes.float('max', FLT_MAX)];
}

/** Clip: min/max attributes before opset 11, optional scalar inputs since. min > max clips everything to max. */
/** Clip's own float32 loop (a hot op in mobile CNNs: ReLU6 and hard-swish are written with it). */
function clipFloat32(data: Float32Array, dims: number[], lo: number, hi: number): Tensor {
  if (data.length >= WASM_MIN_ELEMENTS && Math.fround(lo) === lo && Math.fround(hi) === hi)
    return tensor('float32', dims, wasmClip(data, lo, hi));
  const out = new Float32Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    const low = v < lo ? lo : v;
    out[i] = low > hi ? hi : low;
  }
  return tensor('float32', dims, out);
}

const clipKernel: Kernel = (inputs, ctx) => {
  const x = expectTensor(inputs[0], 'input');
  if (kindOf(x) === 'bigint') {
    const lo = bigintBound(inputs[1], 'min');
    const hi = bigintBound(inputs[2], 'max');
    return [
      unaryOp(x, {
        bigint: (v) => {
          const low = lo !== undefined && v < lo ? lo : v;
          return hi !== undefined && low > hi ? hi : low;
        },
      }),
    ];
  }
  const [lo, hi] =
    ctx.opset < 11
      ? legacyClipBounds(ctx.attributes)
      : [numberBound(inputs[1], 'min', -Infinity), numberBound(inputs[2], 'max', Infinity)];
  if (x.dtype === 'float32') return [clipFloat32(x.data, x.dims, lo, hi)];
  // Plain comparisons keep NaN and −0 as they are.
  const clip = (v: number) => {
    const low = v < lo ? lo : v;
    return low > hi ? hi : low;
  };
  return [unaryOp(x, { float: clip, integer: clip })];
};

function scalarBound(value: Value | undefined, what: string): Tensor | undefined {
  if (value === undefined) return undefined;
  const t = expectTensor(value, what);
  if (t.data.length !== 1) throw new EngineError(`${what} must be a single value, got shape [${t.dims.join(', ')}]`);
  return t;
}

function numberBound(value: Value | undefined, what: string, fallback: number): number {
  const t = scalarBound(value, what);
  return t ? Number(t.data[0]) : fallback;
}

function bigintBound(value: Value | undefined, what: string): bigint | undefined {
  const t = scalarBound(value, what);
  return t ? BigInt(t.data[0] as bigint | number) : undefined;
}

/** Where(condition, X, Y): X where the condition holds, else Y, all three broadcast; any dtype. */
const whereKernel: Kernel = (inputs) => {
  const condition = expectTensor(inputs[0], 'condition');
  const x = expectTensor(inputs[1], 'X');
  const y = expectTensor(inputs[2], 'Y');
  if (condition.dtype !== 'bool') throw new EngineError(`condition must be bool, got ${condition.dtype}`);
  expectSameDType([x, y]);
  const plan = planBroadcast(condition.dims, x.dims, y.dims);
  const out = allocate(x.dtype, plan.dims);
  const c = condition.data;
  const xs = elementsOf<unknown>(x);
  const ys = elementsOf<unknown>(y);
  const dst = elementsOf<unknown>(out);
  const [stepC, stepX, stepY] = plan.step as [number, number, number];
  const [startC, startX, startY] = plan.rowStart as [Int32Array, Int32Array, Int32Array];
  let o = 0;
  for (let r = 0; r < plan.rows; r++) {
    let ic = startC[r]!;
    let ix = startX[r]!;
    let iy = startY[r]!;
    for (let i = 0; i < plan.run; i++, ic += stepC, ix += stepX, iy += stepY) dst[o++] = c[ic] ? xs[ix] : ys[iy];
  }
  return [out];
};

/** Sum/Min/Max of any number of inputs: folded pairwise, broadcasting as it goes. */
function variadic(inputs: readonly (Value | undefined)[], fns: BinaryFns): Tensor {
  const tensors = inputs.map((v, i) => expectTensor(v, `input ${i}`));
  if (tensors.length === 0) throw new EngineError('needs at least one input');
  expectSameDType(tensors);
  if (tensors.length === 1) {
    expectAccepted(fns, tensors[0]!);
    return copyOf(tensors[0]!);
  }
  return tensors.slice(1).reduce((acc, t) => binaryOp(acc, t, fns), tensors[0]!);
}

/** A lone input is returned as it is, but must still have a dtype the operator accepts. */
function expectAccepted(fns: BinaryFns, t: Tensor): void {
  if (kindOf(t) === 'bigint') bigintFn(fns, t);
  else numberFn(fns, t);
}

const variadicKernel =
  (fns: BinaryFns): Kernel =>
  (inputs) => [variadic(inputs, fns)];

const meanKernel: Kernel = (inputs) => {
  const sum = variadic(inputs, { float: add });
  const n = inputs.length;
  return [mapFloat(sum, (v) => v / n)];
};

// ---- Registry ----------------------------------------------------------------------------------------

export const kernels: Record<string, Kernel> = {
  Add: binaryKernel(ADD),
  Sub: binaryKernel(SUB),
  Mul: mulKernel,
  Div: binaryKernel(DIV),
  Pow: powKernel,
  Mod: modKernel,
  BitShift: bitShiftKernel,
  BitwiseAnd: binaryKernel({ integer: (a, b) => a & b, bigint: (a, b) => a & b }),
  BitwiseOr: binaryKernel({ integer: (a, b) => a | b, bigint: (a, b) => a | b }),
  BitwiseXor: binaryKernel({ integer: (a, b) => a ^ b, bigint: (a, b) => a ^ b }),
  BitwiseNot: unaryKernel({ integer: (x) => ~x, bigint: (x) => ~x }),
  And: binaryKernel(logical((a, b) => a & b)),
  Or: binaryKernel(logical((a, b) => a | b)),
  Xor: binaryKernel(logical((a, b) => a ^ b)),
  Not: unaryKernel({ bool: (x) => x ^ 1 }),
  Equal: comparisonKernel<unknown>((a, b) => a === b, true),
  Less: comparisonKernel<Ordered>((a, b) => a < b),
  LessOrEqual: comparisonKernel<Ordered>((a, b) => a <= b),
  Greater: comparisonKernel<Ordered>((a, b) => a > b),
  GreaterOrEqual: comparisonKernel<Ordered>((a, b) => a >= b),
  Sum: variadicKernel(ADD),
  Min: variadicKernel(MIN),
  Max: variadicKernel(MAX),
  Mean: meanKernel,
  Clip: clipKernel,
  Where: whereKernel,
  Abs: unaryKernel(ABS),
  Neg: unaryKernel(NEG),
  Sign: unaryKernel(SIGN),
  Reciprocal: floatKernel((x) => 1 / x),
  Sqrt: floatKernel(Math.sqrt),
  Exp: floatKernel(Math.exp),
  Log: floatKernel(Math.log),
  Erf: floatKernel(erf),
  Tanh: floatKernel(Math.tanh),
  Sigmoid: (inputs) => {
    const x = expectTensor(inputs[0], 'input');
    if (x.data instanceof Float32Array && x.data.length >= WASM_MIN_ELEMENTS)
      return [tensor('float32', x.dims, wasmSigmoid(x.data))];
    return [mapFloat(x, sigmoid)];
  },
  Floor: floatKernel(Math.floor),
  Ceil: floatKernel(Math.ceil),
  Round: floatKernel(roundHalfToEven),
  Sin: floatKernel(Math.sin),
  Cos: floatKernel(Math.cos),
  Tan: floatKernel(Math.tan),
  Asin: floatKernel(Math.asin),
  Acos: floatKernel(Math.acos),
  Atan: floatKernel(Math.atan),
  Sinh: floatKernel(Math.sinh),
  Cosh: floatKernel(Math.cosh),
  Asinh: floatKernel(Math.asinh),
  Acosh: floatKernel(Math.acosh),
  Atanh: floatKernel(Math.atanh),
  IsNaN: predicateKernel(() => (x) => x !== x),
  IsInf: predicateKernel(isInfTest),
};
