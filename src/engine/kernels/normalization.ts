/**
 * The normalisations. Statistics (means, variances, norms) are computed exactly in doubles; the scale
 * multiplications are the 'normalization' group of SPEC §6 and run through the scheme on whole prepared
 * tensors: x̂·γ everywhere, and the multiply by 1/σ where the ONNX definition writes one (LayerNormalization
 * and RMSNormalization; the others divide). Additions and divisions stay exact (rounded once to fp32).
 */
import type { Tensor } from '../../onnx';
import { broadcastIndex, broadcastShapes, expectTensor, normalizeAxis, sizeOf } from '../tensors';
import { EngineError, tensor, type Kernel, type KernelContext, type Value } from '../types';
import { addBlocks, wasmBatchNorm } from '../wasm/kernels';
import { WASM_MIN_ELEMENTS } from './elementwise-core';
import { arithmeticFor, tensorOf, type Arithmetic, type Numeric } from './scheme-arithmetic';

/** Which statistics group each element belongs to, for a set of reduced axes. */
interface Grouping {
  /** index[i] = the group of element i. */
  readonly index: Int32Array;
  readonly groups: number;
  /** The input dims with every reduced axis set to 1 (the shape of a statistic). */
  readonly dims: number[];
}

function grouping(dims: readonly number[], reducedAxes: readonly number[]): Grouping {
  const groupDims = dims.map((d, axis) => (reducedAxes.includes(axis) ? 1 : d));
  return { index: broadcastIndex(groupDims, dims), groups: sizeOf(groupDims), dims: groupDims };
}

/** Per group, the mean of the values, or with `center` the mean of (value − center)². */
function groupMeans(values: Numeric, g: Grouping, center?: Float64Array): Float64Array {
  const sums = new Float64Array(g.groups);
  const counts = new Float64Array(g.groups);
  for (let i = 0; i < values.length; i++) {
    const group = g.index[i]!;
    const v = center ? values[i]! - center[group]! : values[i]!;
    sums[group]! += center ? v * v : v;
    counts[group]!++;
  }
  for (let group = 0; group < g.groups; group++) sums[group]! /= counts[group]!;
  return sums;
}

/** (x − mean)/denominator per group (either part may be absent), rounded once into the working type. */
function standardize(
  arith: Arithmetic,
  x: Numeric,
  g: Grouping,
  mean: Float64Array | null,
  denominator: Float64Array | null,
) {
  const out = arith.allocate(x.length);
  for (let i = 0; i < x.length; i++) {
    const group = g.index[i]!;
    const centered = mean ? x[i]! - mean[group]! : x[i]!;
    out[i] = denominator ? centered / denominator[group]! : centered;
  }
  return out;
}

/** `standardize` where group j of the statistics covers every blocks of `blockSize` elements, cycling. */
function standardizeBlocks(
  arith: Arithmetic,
  x: Numeric,
  mean: Float64Array,
  denominator: Float64Array,
  blockSize: number,
) {
  const out = arith.allocate(x.length);
  const count = mean.length;
  for (let start = 0, j = 0; start < x.length; start += blockSize, j = j + 1 === count ? 0 : j + 1) {
    const m = mean[j]!;
    const d = denominator[j]!;
    const end = Math.min(start + blockSize, x.length);
    for (let i = start; i < end; i++) out[i] = (x[i]! - m) / d;
  }
  return out;
}

/** y = x̂·γ + β: the products under the scheme, β added afterwards; γ/β cycle every `blockSize` elements. */
function affine(arith: Arithmetic, normalized: Numeric, gamma: Numeric, beta: Numeric | undefined, blockSize: number) {
  const y = arith.scaleBlocks(normalized, gamma, blockSize);
  if (beta) addBlocks(y, beta, blockSize);
  return y;
}

function sqrtPlus(values: Float64Array, epsilon: number): Float64Array {
  return values.map((v) => Math.sqrt(v + epsilon));
}

/** A per-channel (or per-group) parameter: its values, checked to have `count` elements. */
function parameter(arith: Arithmetic, value: Value | undefined, what: string, count: number): Numeric {
  const t = expectTensor(value, what);
  if (t.data.length !== count) throw new EngineError(`${what} has ${t.data.length} elements, expected ${count}`);
  return arith.values(t);
}

/** A parameter broadcast to the normalised trailing dims (LayerNormalization/RMSNormalization γ, β). */
function trailingParameter(arith: Arithmetic, t: Tensor, trailing: readonly number[], what: string): Numeric {
  if (broadcastShapes(trailing, t.dims).join() !== trailing.join()) {
    throw new EngineError(`${what} of shape [${t.dims}] does not broadcast to [${trailing}]`);
  }
  const values = arith.values(t);
  if (t.dims.join() === trailing.join()) return values;
  const index = broadcastIndex(t.dims, trailing);
  const out = arith.allocate(index.length);
  for (let i = 0; i < index.length; i++) out[i] = values[index[i]!]!;
  return out;
}

function normalizationArithmetic(ctx: KernelContext, x: Tensor): Arithmetic {
  return arithmeticFor(ctx.multiply.forGroup('normalization'), x.dtype);
}

function channelInput(op: string, value: Value | undefined): Tensor {
  const x = expectTensor(value, `${op} input X`);
  if (x.dims.length < 2) throw new EngineError(`${op} needs an input [N, C, ...], got [${x.dims}]`);
  return x;
}

const BatchNormalization: Kernel = (inputs, ctx) => {
  const x = channelInput('BatchNormalization', inputs[0]);
  const arith = normalizationArithmetic(ctx, x);
  const channels = x.dims[1]!;
  const spatial = sizeOf(x.dims.slice(2));
  const epsilon = ctx.attributes.float('epsilon', 1e-5);
  const training = ctx.attributes.int('training_mode', 0) !== 0;
  if (ctx.attributes.int('spatial', 1) !== 1) throw new EngineError('BatchNormalization spatial=0 is not supported');
  if (!training && ctx.node.outputs.slice(1).some((name) => name !== '')) {
    throw new EngineError('BatchNormalization training outputs are supported only with training_mode=1 (opset 14+)');
  }
  const values = arith.values(x);
  const scale = parameter(arith, inputs[1], 'BatchNormalization scale', channels);
  const bias = parameter(arith, inputs[2], 'BatchNormalization B', channels);
  const inputMean = parameter(arith, inputs[3], 'BatchNormalization input_mean', channels);
  const inputVar = parameter(arith, inputs[4], 'BatchNormalization input_var', channels);
  if (!training) {
    // Channel c's elements are the blocks of `spatial` values cycling through the channels: no group index.
    const denominator = sqrtPlus(Float64Array.from(inputVar), epsilon);
    // Exact scale products of float32 values: the three passes as one WebAssembly pass.
    const exact = ctx.multiply.forGroup('normalization').isExact && values.length >= WASM_MIN_ELEMENTS;
    if (exact && values instanceof Float32Array && scale instanceof Float32Array && bias instanceof Float32Array) {
      const mean = Float64Array.from(inputMean);
      return [tensor('float32', x.dims, wasmBatchNorm(values, spatial, mean, denominator, scale, bias))];
    }
    const normalized = standardizeBlocks(arith, values, Float64Array.from(inputMean), denominator, spatial);
    return [arith.output(x.dims, affine(arith, normalized, scale, bias, spatial))];
  }
  const perChannel = grouping(
    x.dims,
    x.dims.map((_, axis) => axis).filter((axis) => axis !== 1),
  );
  const mean = training ? groupMeans(values, perChannel) : Float64Array.from(inputMean);
  const variance = training ? groupMeans(values, perChannel, mean) : Float64Array.from(inputVar);
  const normalized = standardize(arith, values, perChannel, mean, sqrtPlus(variance, epsilon));
  const y = arith.output(x.dims, affine(arith, normalized, scale, bias, spatial));
  if (!training) return [y];
  const momentum = ctx.attributes.float('momentum', 0.9);
  const statsType = expectTensor(inputs[3], 'BatchNormalization input_mean').dtype;
  const running = (current: Float64Array, input: Numeric) =>
    tensorOf(
      statsType,
      [channels],
      current.map((v, c) => input[c]! * momentum + v * (1 - momentum)),
    );
  return [y, running(mean, inputMean), running(variance, inputVar)];
};

const InstanceNormalization: Kernel = (inputs, ctx) => {
  const x = channelInput('InstanceNormalization', inputs[0]);
  const arith = normalizationArithmetic(ctx, x);
  const channels = x.dims[1]!;
  const epsilon = ctx.attributes.float('epsilon', 1e-5);
  const values = arith.values(x);
  const perImageChannel = grouping(x.dims, x.dims.map((_, axis) => axis).slice(2));
  const mean = groupMeans(values, perImageChannel);
  const variance = groupMeans(values, perImageChannel, mean);
  const normalized = standardize(arith, values, perImageChannel, mean, sqrtPlus(variance, epsilon));
  const scale = parameter(arith, inputs[1], 'InstanceNormalization scale', channels);
  const bias = parameter(arith, inputs[2], 'InstanceNormalization B', channels);
  return [arith.output(x.dims, affine(arith, normalized, scale, bias, sizeOf(x.dims.slice(2))))];
};

/** Opset 18 gives scale/bias per group; opset 21 per channel. */
const GroupNormalization: Kernel = (inputs, ctx) => {
  const x = channelInput('GroupNormalization', inputs[0]);
  const arith = normalizationArithmetic(ctx, x);
  const [batch, channels] = x.dims as [number, number];
  const groups = ctx.attributes.int('num_groups');
  const epsilon = ctx.attributes.float('epsilon', 1e-5);
  if (groups < 1 || channels % groups !== 0) {
    throw new EngineError(`GroupNormalization: ${channels} channels do not split into ${groups} groups`);
  }
  const spatial = sizeOf(x.dims.slice(2));
  const groupSize = (channels / groups) * spatial;
  const values = arith.values(x);
  const perGroup = grouping([batch, groups, groupSize], [2]);
  const mean = groupMeans(values, perGroup);
  const variance = groupMeans(values, perGroup, mean);
  const normalized = standardize(arith, values, perGroup, mean, sqrtPlus(variance, epsilon));
  const [count, blockSize] = ctx.opset >= 21 ? [channels, spatial] : [groups, groupSize];
  const scale = parameter(arith, inputs[1], 'GroupNormalization scale', count);
  const bias = parameter(arith, inputs[2], 'GroupNormalization bias', count);
  return [arith.output(x.dims, affine(arith, normalized, scale, bias, blockSize))];
};

/** The trailing axes from `axis` on, which LayerNormalization and RMSNormalization normalise over. */
function trailingAxes(ctx: KernelContext, x: Tensor) {
  const axis = normalizeAxis(ctx.attributes.int('axis', -1), x.dims.length);
  const axes = x.dims.map((_, a) => a).slice(axis);
  return { trailing: x.dims.slice(axis), rows: grouping(x.dims, axes) };
}

/** LayerNormalization's definition: D = X − mean, Normalized = D · InvStdDev, Y = Normalized · Scale + B. */
const LayerNormalization: Kernel = (inputs, ctx) => {
  const x = expectTensor(inputs[0], 'LayerNormalization input X');
  const stashType = ctx.attributes.int('stash_type', 1);
  if (stashType !== 1)
    throw new EngineError(`LayerNormalization stash_type ${stashType} is not supported (only 1, float)`);
  const arith = normalizationArithmetic(ctx, x);
  const { trailing, rows } = trailingAxes(ctx, x);
  const values = arith.values(x);
  const mean = groupMeans(values, rows);
  const variance = groupMeans(values, rows, mean);
  const epsilon = ctx.attributes.float('epsilon', 1e-5);
  const invStdDev = arith.allocate(rows.groups);
  for (let r = 0; r < rows.groups; r++) invStdDev[r] = 1 / Math.sqrt(variance[r]! + epsilon);
  const deviation = standardize(arith, values, rows, mean, null);
  const normalized = arith.scaleBlocks(deviation, invStdDev, sizeOf(trailing));
  const scale = trailingParameter(arith, expectTensor(inputs[1], 'LayerNormalization Scale'), trailing, 'Scale');
  const bias = inputs[2] && trailingParameter(arith, expectTensor(inputs[2], 'LayerNormalization B'), trailing, 'B');
  const y = arith.output(x.dims, affine(arith, normalized, scale, bias, 1));
  return [y, tensorOf('float32', rows.dims, mean), tensorOf('float32', rows.dims, invStdDev)];
};

/** RMSNormalization (opset 23): Y = X · 1/sqrt(mean(X²) + ε) · Scale. */
const RMSNormalization: Kernel = (inputs, ctx) => {
  const x = expectTensor(inputs[0], 'RMSNormalization input X');
  const arith = normalizationArithmetic(ctx, x);
  const { trailing, rows } = trailingAxes(ctx, x);
  const values = arith.values(x);
  const meanSquare = groupMeans(values, rows, new Float64Array(rows.groups));
  const epsilon = ctx.attributes.float('epsilon', 1e-5);
  const invRms = arith.allocate(rows.groups);
  for (let r = 0; r < rows.groups; r++) invRms[r] = 1 / Math.sqrt(meanSquare[r]! + epsilon);
  const normalized = arith.scaleBlocks(values, invRms, sizeOf(trailing));
  const scale = trailingParameter(arith, expectTensor(inputs[1], 'RMSNormalization scale'), trailing, 'scale');
  return [arith.output(x.dims, affine(arith, normalized, scale, undefined, 1))];
};

/** x / ‖x‖_p along one axis (p = 1 or 2): a division, no scheme multiplication. */
const LpNormalization: Kernel = (inputs, ctx) => {
  const x = expectTensor(inputs[0], 'LpNormalization input');
  const arith = normalizationArithmetic(ctx, x);
  const p = ctx.attributes.int('p', 2);
  if (p !== 1 && p !== 2) throw new EngineError(`LpNormalization p must be 1 or 2, got ${p}`);
  const axis = normalizeAxis(ctx.attributes.int('axis', -1), x.dims.length);
  const lines = grouping(x.dims, [axis]);
  const values = arith.values(x);
  const norms = new Float64Array(lines.groups);
  for (let i = 0; i < values.length; i++) norms[lines.index[i]!]! += p === 1 ? Math.abs(values[i]!) : values[i]! ** 2;
  // A zero vector stays zero (ONNX reference) instead of becoming 0/0.
  for (let g = 0; g < norms.length; g++) norms[g] = norms[g] === 0 ? 1 : p === 2 ? Math.sqrt(norms[g]!) : norms[g]!;
  return [arith.output(x.dims, standardize(arith, values, lines, null, norms))];
};

/** (x − mean)/(sqrt(variance) + 1e-9) over `axes` (default [0, 2, 3]), as the ONNX function body defines. */
const MeanVarianceNormalization: Kernel = (inputs, ctx) => {
  const x = expectTensor(inputs[0], 'MeanVarianceNormalization input');
  const arith = normalizationArithmetic(ctx, x);
  const axes = ctx.attributes.ints('axes', [0, 2, 3]).map((a) => normalizeAxis(a, x.dims.length));
  const g = grouping(x.dims, axes);
  const values = arith.values(x);
  const mean = groupMeans(values, g);
  const deviation = groupMeans(values, g, mean).map((v) => Math.sqrt(v) + 1e-9);
  return [arith.output(x.dims, standardize(arith, values, g, mean, deviation))];
};

/** Local response normalisation across channels: x / (bias + α/size · Σ x²)^β, a division throughout. */
const LRN: Kernel = (inputs, ctx) => {
  const x = channelInput('LRN', inputs[0]);
  const arith = normalizationArithmetic(ctx, x);
  const size = ctx.attributes.int('size');
  const alpha = ctx.attributes.float('alpha', 1e-4);
  const beta = ctx.attributes.float('beta', 0.75);
  const bias = ctx.attributes.float('bias', 1);
  const [batch, channels] = x.dims as [number, number];
  const spatial = sizeOf(x.dims.slice(2));
  const values = arith.values(x);
  const out = arith.allocate(values.length);
  const below = Math.floor((size - 1) / 2);
  const above = Math.ceil((size - 1) / 2);
  for (let n = 0; n < batch; n++) {
    for (let c = 0; c < channels; c++) {
      const first = Math.max(0, c - below);
      const last = Math.min(channels - 1, c + above);
      for (let s = 0; s < spatial; s++) {
        let squares = 0;
        for (let k = first; k <= last; k++) squares += values[(n * channels + k) * spatial + s]! ** 2;
        const i = (n * channels + c) * spatial + s;
        out[i] = values[i]! / (bias + (alpha / size) * squares) ** beta;
      }
    }
  }
  return [arith.output(x.dims, out)];
};

export const kernels: Record<string, Kernel> = {
  BatchNormalization,
  InstanceNormalization,
  GroupNormalization,
  LayerNormalization,
  RMSNormalization,
  LpNormalization,
  MeanVarianceNormalization,
  LRN,
};
