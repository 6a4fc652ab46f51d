/**
 * Activation functions and the softmax family.
 *
 * The multiplications an activation owns (SPEC §6 group `activation`, replaced only when the setting is on)
 * are those of the input or its gate with a parameter or with each other: alpha·x (LeakyRelu, Elu, Selu,
 * Celu, HardSigmoid), slope·x (PRelu), x·gate(x) (HardSwish, Gelu, Mish). They run through `times` on whole
 * tensors, like the Mul nodes of the ops' expanded forms. Evaluating a gate itself (exp, erf, tanh, the
 * polynomial inside Gelu's tanh approximation) is function evaluation and never replaced, nor are the
 * divisions of Softsign and Softmax.
 */
import type { Tensor } from '../../onnx';
import { MultiplyContext } from '../multiply';
import { broadcastIndex, broadcastShapes, expectTensor, normalizeAxis, sameKindArray, sizeOf } from '../tensors';
import { EngineError, tensor, type Kernel, type KernelContext } from '../types';
import { wasmExpShifted, wasmLeakyRelu, wasmRelu, wasmSoftmaxLines } from '../wasm/kernels';
import {
  WASM_MIN_ELEMENTS,
  axisLayout,
  expectSameDType,
  floatData,
  roundNarrow,
  unaryOp,
  type AxisLayout,
} from './elementwise-core';
import { erf } from './elementwise-math';

type FloatBuffer = Float32Array | Float64Array;

/** An activation on a float tensor's values; `m` multiplies the products the activation owns. */
type Activation = (x: FloatBuffer, ctx: KernelContext, m: MultiplyContext, inputs: readonly Tensor[]) => FloatBuffer;

/** Schemes simulate fp32 arithmetic: other float dtypes compute exactly in their own type, as Mul does. */
const EXACT = MultiplyContext.exact();

function activationKernel(f: Activation): Kernel {
  return (inputs, ctx) => {
    const tensors = inputs.map((v, i) => expectTensor(v, `input ${i}`));
    const x = tensors[0]!;
    const m = x.dtype === 'float32' ? ctx.multiply.forGroup('activation') : EXACT;
    const out = f(floatData(x), ctx, m, tensors);
    return [roundNarrow(tensor(x.dtype, x.dims, out as never))];
  };
}

function map(x: FloatBuffer, f: (v: number) => number): FloatBuffer {
  const out = sameKindArray(x, x.length);
  for (let i = 0; i < x.length; i++) out[i] = f(x[i]!);
  return out;
}

function zip(x: FloatBuffer, y: FloatBuffer, f: (v: number, w: number) => number): FloatBuffer {
  const out = sameKindArray(x, x.length);
  for (let i = 0; i < x.length; i++) out[i] = f(x[i]!, y[i]!);
  return out;
}

/**
 * Element-wise a·b (b a same-length buffer or a parameter): plain products, or the scheme's products of
 * operands prepared as whole tensors.
 */
function times(m: MultiplyContext, a: FloatBuffer, b: FloatBuffer | number): FloatBuffer {
  // Only float32 data reach a scheme (see EXACT); the instanceof test narrows the type accordingly.
  if (m.isExact || a instanceof Float64Array) {
    return typeof b === 'number' ? map(a, (v) => v * b) : zip(a, b, (v, w) => v * w);
  }
  const pa = m.prepare(a);
  const pb = m.prepare(typeof b === 'number' ? Float32Array.of(b) : (b as Float32Array));
  const { scale: sa, values: va } = pa;
  const { scale: sb, values: vb } = pb;
  const out = new Float32Array(a.length);
  if (vb.length === 1) for (let i = 0; i < out.length; i++) out[i] = m.product(va[i]!, vb[0]!, sa, sb);
  else for (let i = 0; i < out.length; i++) out[i] = m.product(va[i]!, vb[i]!, sa, sb);
  return out;
}

const clamp01 = (v: number) => (v < 0 ? 0 : v > 1 ? 1 : v);

/** Softplus without overflow: log(1 + e^x) = max(x, 0) + log1p(e^−|x|). */
const softplus = (v: number) => Math.max(v, 0) + Math.log1p(Math.exp(-Math.abs(v)));

// ---- Parameterised activations -----------------------------------------------------------------------

const leakyRelu: Activation = (x, ctx, m) => {
  const alpha = ctx.attributes.float('alpha', 0.01);
  if (m.isExact && x instanceof Float32Array && x.length >= WASM_MIN_ELEMENTS && Math.fround(alpha) === alpha)
    return wasmLeakyRelu(x, alpha);
  const scaled = times(m, x, alpha);
  return zip(x, scaled, (v, s) => (v < 0 ? s : v));
};

/** PRelu: slope broadcasts to X's shape (unidirectionally). */
const prelu: Activation = (x, ctx, m, [input, slope]) => {
  expectSameDType([input!, slope!]);
  const slopeDims = preluSlopeDims(slope!.dims, input!.dims.length, ctx.opset);
  if (broadcastShapes(input!.dims, slopeDims).join() !== input!.dims.join()) {
    throw new EngineError(`slope of shape [${slope!.dims}] does not broadcast to X's shape [${input!.dims}]`);
  }
  const spread = gather(floatData(slope!), broadcastIndex(slopeDims, input!.dims));
  return zip(x, times(m, x, spread), (v, s) => (v < 0 ? s : v));
};

/** Before opset 7 a 1-D slope of several values holds one per channel (axis 1 of X). */
function preluSlopeDims(dims: readonly number[], rank: number, opset: number): readonly number[] {
  if (opset >= 7 || dims.length !== 1 || dims[0] === 1 || rank < 2) return dims;
  return [dims[0]!, ...new Array<number>(rank - 2).fill(1)];
}

function gather(values: FloatBuffer, index: Int32Array): FloatBuffer {
  const out = sameKindArray(values, index.length);
  for (let i = 0; i < index.length; i++) out[i] = values[index[i]!]!;
  return out;
}

const elu: Activation = (x, ctx, m) => {
  const negative = times(m, map(x, Math.expm1), ctx.attributes.float('alpha', 1));
  return zip(x, negative, (v, n) => (v < 0 ? n : v));
};

/** Selu: gamma·(x > 0 ? x : alpha·(e^x − 1)). */
const selu: Activation = (x, ctx, m) => {
  const alpha = ctx.attributes.float('alpha', 1.67326319217681884765625);
  const gamma = ctx.attributes.float('gamma', 1.05070102214813232421875);
  const negative = times(m, map(x, Math.expm1), alpha);
  const unscaled = zip(x, negative, (v, n) => (v > 0 ? v : n));
  return times(m, unscaled, gamma);
};

/** Celu: max(0, x) + min(0, alpha·(e^(x/alpha) − 1)). */
const celu: Activation = (x, ctx, m) => {
  const alpha = ctx.attributes.float('alpha', 1);
  const expm1 = map(x, (v) => Math.expm1(v / alpha));
  const negative = times(m, expm1, alpha);
  return zip(x, negative, (v, n) => Math.max(0, v) + Math.min(0, n));
};

function hardSigmoidOf(x: FloatBuffer, m: MultiplyContext, alpha: number, beta: number): FloatBuffer {
  return map(times(m, x, alpha), (v) => clamp01(v + beta));
}

const hardSigmoid: Activation = (x, ctx, m) =>
  hardSigmoidOf(x, m, ctx.attributes.float('alpha', 0.2), ctx.attributes.float('beta', 0.5));

const hardSwish: Activation = (x, _ctx, m) => times(m, x, hardSigmoidOf(x, m, 1 / 6, 0.5));

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);

/** Gelu = x·Φ(x), Φ the normal CDF: (1 + erf(x/√2))/2, or the tanh approximation. */
const gelu: Activation = (x, ctx, m) => {
  const approximate = ctx.attributes.string('approximate', 'none');
  if (approximate !== 'none' && approximate !== 'tanh')
    throw new EngineError(`approximate must be "none" or "tanh", got "${approximate}"`);
  const cdf =
    approximate === 'tanh'
      ? (v: number) => (1 + Math.tanh(SQRT_2_OVER_PI * (v + 0.044715 * v * v * v))) / 2
      : (v: number) => (1 + erf(v / Math.SQRT2)) / 2;
  return times(m, x, map(x, cdf));
};

/** Mish = x·tanh(softplus(x)). */
const mish: Activation = (x, _ctx, m) => {
  const gate = map(x, (v) => Math.tanh(softplus(v)));
  return times(m, x, gate);
};

// ---- Activations without multiplications -------------------------------------------------------------

const pointwise =
  (make: (ctx: KernelContext) => (v: number) => number): Activation =>
  (x, ctx) =>
    map(x, make(ctx));

const thresholdedRelu = pointwise((ctx) => {
  const alpha = ctx.attributes.float('alpha', 1);
  return (v) => (v > alpha ? v : 0);
});

const shrink = pointwise((ctx) => {
  const lambd = ctx.attributes.float('lambd', 0.5);
  const bias = ctx.attributes.float('bias', 0);
  return (v) => (v < -lambd ? v + bias : v > lambd ? v - bias : 0);
});

/** Relu also takes integer tensors (opset 14). */
const reluKernel: Kernel = (inputs) => {
  const x = expectTensor(inputs[0], 'input');
  if (x.data instanceof Float32Array && x.data.length >= WASM_MIN_ELEMENTS)
    return [tensor(x.dtype, x.dims, wasmRelu(x.data))];
  return [
    unaryOp(x, {
      float: (v) => (v < 0 ? 0 : v),
      integer: (v) => (v < 0 ? 0 : v),
      bigint: (v) => (v < 0n ? 0n : v),
    }),
  ];
};

// ---- Softmax family ----------------------------------------------------------------------------------

/**
 * Before opset 13 Softmax, LogSoftmax and Hardmax coerce the input to 2-D at `axis` (default 1) and
 * normalise each row of all the trailing dims; since 13 they normalise along the single `axis` (default −1).
 */
function softmaxLayout(dims: readonly number[], ctx: KernelContext): AxisLayout {
  const coerced = ctx.opset < 13;
  const axis = normalizeAxis(ctx.attributes.int('axis', coerced ? 1 : -1), dims.length);
  if (!coerced) return axisLayout(dims, axis);
  return { outer: sizeOf(dims.slice(0, axis)), n: sizeOf(dims.slice(axis)), inner: 1 };
}

/** Applies `transform` in place to every line along the axis, computed in doubles. */
function mapLines(x: FloatBuffer, { outer, n, inner }: AxisLayout, transform: (line: Float64Array) => void) {
  const out = sameKindArray(x, x.length);
  const line = new Float64Array(n);
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < inner; j++) {
      const start = o * n * inner + j;
      for (let k = 0; k < n; k++) line[k] = x[start + k * inner]!;
      transform(line);
      for (let k = 0; k < n; k++) out[start + k * inner] = line[k]!;
    }
  }
  return out;
}

function maxOf(line: Float64Array): number {
  let max = -Infinity;
  for (let k = 0; k < line.length; k++) if (line[k]! > max) max = line[k]!;
  return max;
}

/**
 * Shifted by the maximum so that no exponential overflows. Long lines take their exponentials in
 * WebAssembly (the same function as Math.exp, two at a time), then sum them in order here (float32 lines
 * along the last axis run all in WebAssembly: `softmax`).
 */
function softmaxLine(line: Float64Array): void {
  const max = maxOf(line);
  let sum = 0;
  if (line.length >= SOFTMAX_WASM_LENGTH) {
    wasmExpShifted(line, max);
    for (let k = 0; k < line.length; k++) sum += line[k]!;
  } else for (let k = 0; k < line.length; k++) sum += line[k] = Math.exp(line[k]! - max);
  for (let k = 0; k < line.length; k++) line[k] = line[k]! / sum;
}

/** Softmax lines from this length on take their exponentials in WebAssembly (shorter: the call costs more). */
const SOFTMAX_WASM_LENGTH = 64;

function logSoftmaxLine(line: Float64Array): void {
  const max = maxOf(line);
  let sum = 0;
  for (let k = 0; k < line.length; k++) sum += Math.exp(line[k]! - max);
  const logSum = Math.log(sum);
  for (let k = 0; k < line.length; k++) line[k] = line[k]! - max - logSum;
}

/** One-hot of the first maximum. */
function hardmaxLine(line: Float64Array): void {
  let best = 0;
  for (let k = 1; k < line.length; k++) if (line[k]! > line[best]!) best = k;
  line.fill(0);
  if (line.length > 0) line[best] = 1;
}

/** Softmax; float32 lines along the last axis all in WebAssembly (the same operations in the same order). */
const softmax: Activation = (x, ctx, _m, [input]) => {
  const layout = softmaxLayout(input!.dims, ctx);
  if (x instanceof Float32Array && layout.inner === 1 && layout.n >= SOFTMAX_WASM_LENGTH)
    return wasmSoftmaxLines(x, layout.outer, layout.n);
  return mapLines(x, layout, softmaxLine);
};

const alongAxis =
  (transform: (line: Float64Array) => void): Activation =>
  (x, ctx, _m, [input]) =>
    mapLines(x, softmaxLayout(input!.dims, ctx), transform);

// ---- Registry ----------------------------------------------------------------------------------------

export const kernels: Record<string, Kernel> = {
  Relu: reluKernel,
  LeakyRelu: activationKernel(leakyRelu),
  PRelu: activationKernel(prelu),
  Elu: activationKernel(elu),
  Selu: activationKernel(selu),
  Celu: activationKernel(celu),
  HardSigmoid: activationKernel(hardSigmoid),
  HardSwish: activationKernel(hardSwish),
  Gelu: activationKernel(gelu),
  Mish: activationKernel(mish),
  Softplus: activationKernel(pointwise(() => softplus)),
  Softsign: activationKernel(pointwise(() => (v) => v / (1 + Math.abs(v)))),
  ThresholdedRelu: activationKernel(thresholdedRelu),
  Shrink: activationKernel(shrink),
  Softmax: activationKernel(softmax),
  LogSoftmax: activationKernel(alongAxis(logSoftmaxLine)),
  Hardmax: activationKernel(alongAxis(hardmaxLine)),
};
