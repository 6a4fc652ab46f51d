/** Sequence operators: a sequence value is a Tensor[], never mutated (every change makes a new array). */
import type { Tensor } from '../../onnx';
import { expectTensor, normalizeAxis, toNumbers } from '../tensors';
import { EngineError, tensor, type Kernel, type Value } from '../types';
import { concatTensors, splitTensor } from './shape-slice';
import { squeezedDims, unsqueezedDims } from './shape-layout';
import { withDims } from './shape-copy';

function expectSequence(value: Value | undefined, what: string): Tensor[] {
  if (!Array.isArray(value)) throw new EngineError(`${what} must be a sequence`);
  return value;
}

/** A position input's value, or `fallback` when it is absent. */
function positionOr(value: Value | undefined, fallback: number): number {
  return value === undefined ? fallback : toNumbers(expectTensor(value, 'position'))[0]!;
}

/** A position in a sequence of `length` (negative: from the end); `allowEnd` admits `length` (insert). */
function normalizePosition(p: number, length: number, allowEnd = false): number {
  const at = p < 0 ? p + length : p;
  if (!(Number.isInteger(at) && at >= 0 && at < length + (allowEnd ? 1 : 0))) {
    throw new EngineError(`position ${p} is out of range for a sequence of ${length}`);
  }
  return at;
}

const SequenceEmpty: Kernel = () => [[]];

const SequenceConstruct: Kernel = (inputs) => [inputs.map((value, i) => expectTensor(value, `input ${i}`))];

const SequenceLength: Kernel = (inputs) => [
  tensor('int64', [], BigInt64Array.of(BigInt(expectSequence(inputs[0], 'input_sequence').length))),
];

const SequenceAt: Kernel = (inputs) => {
  const sequence = expectSequence(inputs[0], 'input_sequence');
  return [sequence[normalizePosition(toNumbers(expectTensor(inputs[1], 'position'))[0]!, sequence.length)]];
};

const SequenceInsert: Kernel = (inputs) => {
  const sequence = expectSequence(inputs[0], 'input_sequence');
  const inserted = expectTensor(inputs[1], 'tensor');
  const at = normalizePosition(positionOr(inputs[2], sequence.length), sequence.length, true);
  return [[...sequence.slice(0, at), inserted, ...sequence.slice(at)]];
};

const SequenceErase: Kernel = (inputs) => {
  const sequence = expectSequence(inputs[0], 'input_sequence');
  const at = normalizePosition(positionOr(inputs[1], -1), sequence.length);
  return [sequence.filter((_, i) => i !== at)];
};

const ConcatFromSequence: Kernel = (inputs, ctx) => {
  const sequence = expectSequence(inputs[0], 'input_sequence');
  const axis = ctx.attributes.int('axis');
  if (ctx.attributes.int('new_axis', 0) === 0) return [concatTensors(sequence, axis)];
  // Stacking: every tensor gains a size-1 axis at `axis`, which may be one past the last.
  const rank = (sequence[0]?.dims.length ?? 0) + 1;
  const stackAxis = normalizeAxis(axis, rank);
  return [
    concatTensors(
      sequence.map((t) => withDims(t, unsqueezedDims(t.dims, [stackAxis]))),
      stackAxis,
    ),
  ];
};

const SplitToSequence: Kernel = (inputs, ctx) => {
  const input = expectTensor(inputs[0], 'input');
  const axis = normalizeAxis(ctx.attributes.int('axis', 0), input.dims.length);
  const dim = input.dims[axis]!;
  if (inputs[1] === undefined) {
    // Without split: pieces of size 1, with the axis dropped unless keepdims.
    const pieces = splitTensor(input, axis, new Array<number>(dim).fill(1));
    if (ctx.attributes.int('keepdims', 1) !== 0) return [pieces];
    return [pieces.map((t) => withDims(t, squeezedDims(t.dims, [axis])))];
  }
  const split = expectTensor(inputs[1], 'split');
  if (split.dims.length === 0) {
    // A scalar split is a chunk size; the last chunk takes the remainder.
    const chunk = toNumbers(split)[0]!;
    if (!(chunk > 0)) throw new EngineError(`split size must be positive, got ${chunk}`);
    const sizes: number[] = [];
    for (let rest = dim; rest > 0; rest -= chunk) sizes.push(Math.min(chunk, rest));
    return [splitTensor(input, axis, sizes)];
  }
  return [splitTensor(input, axis, toNumbers(split))];
};

export const kernels: Record<string, Kernel> = {
  SequenceEmpty,
  SequenceConstruct,
  SequenceLength,
  SequenceAt,
  SequenceInsert,
  SequenceErase,
  ConcatFromSequence,
  SplitToSequence,
};
