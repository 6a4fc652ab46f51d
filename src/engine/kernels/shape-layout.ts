/**
 * Kernels that change how a tensor's elements are arranged without choosing among them: views that
 * share the data (Reshape, Flatten, Squeeze, Unsqueeze, Identity, Dropout at inference) and
 * permutations (Transpose, DepthToSpace, SpaceToDepth), plus the shape queries Shape and Size.
 */
import { allocate, expectTensor, int64Data, sizeOf, toNumbers } from '../tensors';
import { EngineError, tensor, type Kernel, type KernelContext, type Value } from '../types';
import { intsOf, normalizeAxes, optionalInts, spanSize, transposeData, withDims } from './shape-copy';

/** Axes given as an attribute before `inputSince` and as the input at `index` from then on. */
function axesArgument(
  inputs: readonly (Value | undefined)[],
  ctx: KernelContext,
  index: number,
  inputSince: number,
): number[] | undefined {
  if (ctx.opset >= inputSince) return optionalInts(inputs[index], 'axes');
  return ctx.attributes.has('axes') ? ctx.attributes.ints('axes') : undefined;
}

/** Reshape's target dims: 0 copies the input dim (unless `allowZero`), one -1 is inferred. */
function reshapeDims(dims: readonly number[], requested: readonly number[], allowZero: boolean): number[] {
  const out = requested.map((d, i) => {
    if (d === 0 && !allowZero) {
      if (i >= dims.length) throw new EngineError(`shape entry ${i} is 0 but the input has only ${dims.length} dims`);
      return dims[i]!;
    }
    if (d < -1 || !Number.isInteger(d)) throw new EngineError(`shape entry ${i} is ${d}`);
    return d;
  });
  const inferred = out.indexOf(-1);
  if (inferred >= 0) {
    if (out.lastIndexOf(-1) !== inferred) throw new EngineError('shape has more than one -1');
    const known = sizeOf(out.filter((_, i) => i !== inferred));
    const total = sizeOf(dims);
    if (known === 0 || total % known !== 0) {
      throw new EngineError(`cannot infer the -1 of shape [${requested.join(', ')}] for input [${dims.join(', ')}]`);
    }
    out[inferred] = total / known;
  }
  return out;
}

const Reshape: Kernel = (inputs, ctx) => {
  const data = expectTensor(inputs[0], 'data');
  const requested = ctx.opset < 5 ? ctx.attributes.ints('shape') : intsOf(inputs[1], 'shape');
  return [withDims(data, reshapeDims(data.dims, requested, ctx.attributes.int('allowzero', 0) === 1))];
};

const Flatten: Kernel = (inputs, ctx) => {
  const input = expectTensor(inputs[0], 'input');
  const rank = input.dims.length;
  // Unlike most axes, axis == rank is valid here (everything goes to the outer dim).
  const attribute = ctx.attributes.int('axis', 1);
  const axis = attribute < 0 ? attribute + rank : attribute;
  if (axis < 0 || axis > rank) throw new EngineError(`axis ${attribute} is out of range for rank ${rank}`);
  return [withDims(input, [spanSize(input.dims, 0, axis), spanSize(input.dims, axis)])];
};

/** Squeezes `axes`, or every size-1 dim when absent. */
export function squeezedDims(dims: readonly number[], axes: readonly number[] | undefined): number[] {
  if (axes === undefined) return dims.filter((d) => d !== 1);
  const drop = new Set(normalizeAxes(axes, dims.length));
  for (const axis of drop) {
    if (dims[axis] !== 1) throw new EngineError(`cannot squeeze axis ${axis} of size ${dims[axis]}`);
  }
  return dims.filter((_, axis) => !drop.has(axis));
}

/** Inserts size-1 dims so that they sit at `axes` of the result. */
export function unsqueezedDims(dims: readonly number[], axes: readonly number[]): number[] {
  const rank = dims.length + axes.length;
  const inserted = new Set(normalizeAxes(axes, rank));
  const out: number[] = [];
  let next = 0;
  for (let axis = 0; axis < rank; axis++) out.push(inserted.has(axis) ? 1 : dims[next++]!);
  return out;
}

const Squeeze: Kernel = (inputs, ctx) => {
  const data = expectTensor(inputs[0], 'data');
  return [withDims(data, squeezedDims(data.dims, axesArgument(inputs, ctx, 1, 13)))];
};

const Unsqueeze: Kernel = (inputs, ctx) => {
  const data = expectTensor(inputs[0], 'data');
  const axes = axesArgument(inputs, ctx, 1, 13);
  if (axes === undefined) throw new EngineError('axes are required');
  return [withDims(data, unsqueezedDims(data.dims, axes))];
};

const Transpose: Kernel = (inputs, ctx) => {
  const data = expectTensor(inputs[0], 'data');
  const rank = data.dims.length;
  const reversed = data.dims.map((_, i) => rank - 1 - i);
  const perm = ctx.attributes.ints('perm', reversed);
  const isPermutation = perm.length === rank && new Set(perm).size === rank && perm.every((a) => a >= 0 && a < rank);
  if (!isPermutation) {
    throw new EngineError(`perm [${perm.join(', ')}] is not a permutation of ${rank} axes`);
  }
  const dims = perm.map((axis) => data.dims[axis]!);
  // An order that only moves size-1 axes keeps the element order: a view suffices.
  const moving = perm.filter((axis) => data.dims[axis] !== 1);
  if (moving.every((axis, i) => i === 0 || axis > moving[i - 1]!)) return [withDims(data, dims)];
  return [tensor(data.dtype, dims, transposeData(data.data, data.dims, perm) as never)];
};

const Identity: Kernel = (inputs) => [inputs[0]];

const Dropout: Kernel = (inputs, ctx) => {
  const data = expectTensor(inputs[0], 'data');
  const ratio = inputs[1] ? toNumbers(expectTensor(inputs[1], 'ratio'))[0]! : ctx.attributes.float('ratio', 0.5);
  const training = inputs[2] !== undefined && toNumbers(expectTensor(inputs[2], 'training_mode'))[0] !== 0;
  if (training && ratio !== 0) {
    throw new EngineError('Dropout in training mode drops random elements; only inference (or ratio 0) is supported');
  }
  if (ctx.node.outputs.length < 2) return [data];
  // The mask is bool from opset 10 on; before, it had the data's type.
  const mask = allocate(ctx.opset >= 10 ? 'bool' : data.dtype, data.dims);
  (mask.data as Uint8Array).fill(1);
  return [data, mask];
};

const Shape: Kernel = (inputs, ctx) => {
  const dims = expectTensor(inputs[0], 'data').dims;
  const clamp = (attribute: number) =>
    Math.min(Math.max(attribute < 0 ? attribute + dims.length : attribute, 0), dims.length);
  const start = clamp(ctx.attributes.int('start', 0));
  const end = clamp(ctx.attributes.int('end', dims.length));
  const kept = dims.slice(start, Math.max(start, end));
  return [tensor('int64', [kept.length], int64Data(kept))];
};

const Size: Kernel = (inputs) => [
  tensor('int64', [], BigInt64Array.of(BigInt(sizeOf(expectTensor(inputs[0], 'data').dims)))),
];

/** The [N, C, H, W] dims of a DepthToSpace/SpaceToDepth input and its block size. */
function blockArguments(inputs: readonly (Value | undefined)[], ctx: KernelContext) {
  const input = expectTensor(inputs[0], 'input');
  if (input.dims.length !== 4) throw new EngineError(`input must be 4-D [N, C, H, W], got [${input.dims.join(', ')}]`);
  const block = ctx.attributes.int('blocksize');
  if (block < 1) throw new EngineError(`blocksize must be positive, got ${block}`);
  const [n, c, h, w] = input.dims as [number, number, number, number];
  return { input, block, n, c, h, w };
}

const DepthToSpace: Kernel = (inputs, ctx) => {
  const { input, block: b, n, c, h, w } = blockArguments(inputs, ctx);
  if (c % (b * b) !== 0) throw new EngineError(`channels ${c} are not divisible by blocksize² ${b * b}`);
  const depth = c / (b * b);
  const mode = ctx.attributes.string('mode', 'DCR');
  // The channel dim splits as (b, b, depth) in DCR and (depth, b, b) in CRD; both end as [n, depth, h, b, w, b].
  let split: number[];
  let perm: number[];
  if (mode === 'DCR')
    [split, perm] = [
      [n, b, b, depth, h, w],
      [0, 3, 4, 1, 5, 2],
    ];
  else if (mode === 'CRD')
    [split, perm] = [
      [n, depth, b, b, h, w],
      [0, 1, 4, 2, 5, 3],
    ];
  else throw new EngineError(`mode "${mode}" is not DCR or CRD`);
  return [tensor(input.dtype, [n, depth, h * b, w * b], transposeData(input.data, split, perm) as never)];
};

const SpaceToDepth: Kernel = (inputs, ctx) => {
  const { input, block: b, n, c, h, w } = blockArguments(inputs, ctx);
  if (h % b !== 0 || w % b !== 0) throw new EngineError(`spatial dims ${h}×${w} are not divisible by blocksize ${b}`);
  const split = [n, c, h / b, b, w / b, b];
  const data = transposeData(input.data, split, [0, 3, 5, 1, 2, 4]);
  return [tensor(input.dtype, [n, c * b * b, h / b, w / b], data as never)];
};

export const layoutKernels: Record<string, Kernel> = {
  Reshape,
  Flatten,
  Squeeze,
  Unsqueeze,
  Transpose,
  Identity,
  Dropout,
  Shape,
  Size,
  DepthToSpace,
  SpaceToDepth,
};
