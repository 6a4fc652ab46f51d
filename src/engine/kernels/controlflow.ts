/**
 * Control flow: If, Loop and Scan run their bodies through `ctx.runSubgraph`, which binds the body's formal
 * inputs on top of the enclosing scope (so bodies may read outer values by name).
 */
import type { Graph, Tensor, ValueInfo } from '../../onnx';
import { allocate, expectTensor, normalizeAxis, sizeOf, toNumbers } from '../tensors';
import { EngineError, tensor, type Kernel, type KernelContext, type Value } from '../types';
import { copyRun } from './shape-copy';

/** The truth value of a one-element condition tensor (bool, or any number: non-zero is true). */
function isTrue(value: Value | undefined, what: string): boolean {
  const t = expectTensor(value, what);
  if (sizeOf(t.dims) !== 1) throw new EngineError(`${what} must have one element, got shape [${t.dims.join(', ')}]`);
  return toNumbers(t)[0] !== 0;
}

/** The body's formal inputs (older IR versions also list initializers among them; those are not bound). */
function formalInputs(body: Graph): string[] {
  return body.inputs.filter((input) => !input.isInitializer).map((input) => input.name);
}

function bind(body: Graph, values: readonly (Value | undefined)[]): Map<string, Value | undefined> {
  const names = formalInputs(body);
  if (names.length !== values.length) {
    throw new EngineError(
      `the body graph "${body.name}" declares ${names.length} inputs, the node supplies ${values.length}`,
    );
  }
  return new Map(names.map((name, i) => [name, values[i]]));
}

const If: Kernel = (inputs, ctx) => {
  const branch = isTrue(inputs[0], 'the If condition') ? 'then_branch' : 'else_branch';
  return ctx.runSubgraph(ctx.attributes.graph(branch), new Map());
};

// ---- Tensor slicing and stacking along an axis (any dtype) ----

/** The sub-tensor at `index` along `axis`, with that axis removed. */
function sliceAt(t: Tensor, axis: number, index: number): Tensor {
  const outer = sizeOf(t.dims.slice(0, axis));
  const inner = sizeOf(t.dims.slice(axis + 1));
  const length = t.dims[axis]!;
  const out = allocate(t.dtype, [...t.dims.slice(0, axis), ...t.dims.slice(axis + 1)]);
  for (let o = 0; o < outer; o++) copyRun(t.data, (o * length + index) * inner, out.data, o * inner, inner);
  return out;
}

/**
 * The slices stacked along a new axis of `length` entries (zeros past the given slices: Scan-8 padding).
 * With no slices the shape comes from the body's declared output type, unknown dimensions taken as 0.
 */
function stack(slices: readonly Tensor[], axis: number, declared: ValueInfo, length = slices.length): Tensor {
  const first = slices[0] ?? declaredEmpty(declared);
  for (const s of slices) {
    if (s.dims.join() !== first.dims.join() || s.dtype !== first.dtype) {
      throw new EngineError(
        `scan output "${declared.name}" changes from ${first.dtype}[${first.dims.join(', ')}] to ${s.dtype}[${s.dims.join(', ')}] between iterations`,
      );
    }
  }
  const at = normalizeAxis(axis, first.dims.length + 1, 'scan output axis');
  const outer = sizeOf(first.dims.slice(0, at));
  const inner = sizeOf(first.dims.slice(at));
  const out = allocate(first.dtype, [...first.dims.slice(0, at), length, ...first.dims.slice(at)]);
  slices.forEach((s, k) => {
    for (let o = 0; o < outer; o++) copyRun(s.data, o * inner, out.data, (o * length + k) * inner, inner);
  });
  return out;
}

function declaredEmpty(declared: ValueInfo): Tensor {
  const type = declared.type?.kind === 'tensor' ? declared.type : null;
  const dims = (type?.shape ?? []).map((d) => (typeof d === 'number' ? d : 0));
  return allocate(type?.elemType ?? 'float32', dims);
}

function scanSlices(outputs: readonly (Value | undefined)[], from: number, body: Graph): Tensor[] {
  return outputs.slice(from).map((v, k) => expectTensor(v, `scan output "${body.outputs[from + k]!.name}"`));
}

// ---- Loop ----

/**
 * Loop: a for loop when M is given, a while loop on the body's condition when cond is given, both when
 * both are. Body inputs are (iteration_num, cond, carried…), outputs (cond, carried…, scan slices…).
 */
const Loop: Kernel = (inputs, ctx) => {
  const body = ctx.attributes.graph('body');
  const [tripCount, condition, ...initial] = inputs;
  if (tripCount === undefined && condition === undefined) {
    throw new EngineError('Loop has neither a trip count nor a condition: it would never end');
  }
  const maxTrips = tripCount === undefined ? Infinity : toNumbers(expectTensor(tripCount, 'Loop trip count M'))[0]!;
  const scanCount = body.outputs.length - 1 - initial.length;
  if (scanCount < 0) {
    throw new EngineError(
      `the Loop body has ${body.outputs.length} outputs, fewer than cond + ${initial.length} carried`,
    );
  }
  let running = condition === undefined || isTrue(condition, 'the Loop condition');
  let carried = initial;
  const scans: Tensor[][] = Array.from({ length: scanCount }, () => []);
  for (let i = 0; i < maxTrips && running; i++) {
    const iteration = tensor('int64', [], BigInt64Array.of(BigInt(i)));
    const cond = tensor('bool', [], Uint8Array.of(1));
    const outputs = ctx.runSubgraph(body, bind(body, [iteration, cond, ...carried]));
    // Without a cond input the loop is a plain for loop: the body's cond output is ignored.
    if (condition !== undefined) running = isTrue(outputs[0], 'the Loop body condition output');
    carried = outputs.slice(1, 1 + initial.length);
    scanSlices(outputs, 1 + initial.length, body).forEach((slice, k) => scans[k]!.push(slice));
  }
  return [...carried, ...scans.map((slices, k) => stack(slices, 0, body.outputs[1 + initial.length + k]!))];
};

// ---- Scan ----

interface ScanRun {
  readonly states: (Value | undefined)[];
  /** Per scan output, its slices in iteration order. */
  readonly slices: Tensor[][];
}

/** Runs the body `length` times over slices of the scan inputs along `axes` (reversed where asked). */
function runScan(
  ctx: KernelContext,
  body: Graph,
  initialStates: readonly (Value | undefined)[],
  scanInputs: readonly Tensor[],
  axes: readonly number[],
  reverse: readonly boolean[],
  length: number,
): ScanRun {
  let states = [...initialStates];
  const slices: Tensor[][] = Array.from({ length: body.outputs.length - states.length }, () => []);
  for (let t = 0; t < length; t++) {
    const inputSlices = scanInputs.map((x, j) => sliceAt(x, axes[j]!, reverse[j] ? length - 1 - t : t));
    const outputs = ctx.runSubgraph(body, bind(body, [...states, ...inputSlices]));
    states = outputs.slice(0, states.length);
    scanSlices(outputs, states.length, body).forEach((slice, k) => slices[k]!.push(slice));
  }
  return { states, slices };
}

function directionFlags(values: number[], count: number, what: string): boolean[] {
  if (values.length !== count) throw new EngineError(`${what} has ${values.length} entries for ${count} tensors`);
  return values.map((d) => {
    if (d !== 0 && d !== 1) throw new EngineError(`${what} must hold 0 (forward) or 1 (reverse), got ${d}`);
    return d === 1;
  });
}

/** The body and the split of the node's `given` inputs into state variables and scan inputs. */
function scanLayout(ctx: KernelContext, given: number) {
  const body = ctx.attributes.graph('body');
  const inputCount = ctx.attributes.int('num_scan_inputs');
  const stateCount = given - inputCount;
  const outputCount = body.outputs.length - stateCount;
  if (stateCount < 0 || outputCount < 0) {
    throw new EngineError(
      `Scan with ${given} inputs, num_scan_inputs = ${inputCount} and a body of ${body.outputs.length} outputs does not add up`,
    );
  }
  return { body, inputCount, stateCount, outputCount };
}

/** Scan (opset 9+): states, then scan inputs sliced along scan_input_axes; no batch axis. */
function scan9(inputs: readonly (Value | undefined)[], ctx: KernelContext): (Value | undefined)[] {
  const { body, inputCount, stateCount, outputCount } = scanLayout(ctx, inputs.length);
  const scanInputs = inputs.slice(stateCount).map((v, j) => expectTensor(v, `scan input ${j}`));
  const axes = ctx.attributes
    .ints('scan_input_axes', new Array<number>(inputCount).fill(0))
    .map((a, j) => normalizeAxis(a, scanInputs[j]!.dims.length, 'scan_input_axes entry'));
  const reverse = directionFlags(
    ctx.attributes.ints('scan_input_directions', new Array<number>(inputCount).fill(0)),
    inputCount,
    'scan_input_directions',
  );
  const lengths = scanInputs.map((x, j) => x.dims[axes[j]!]!);
  const length = lengths[0] ?? 0;
  if (lengths.some((l) => l !== length)) {
    throw new EngineError(`the scan inputs have different sequence lengths: ${lengths.join(', ')}`);
  }
  const run = runScan(ctx, body, inputs.slice(0, stateCount), scanInputs, axes, reverse, length);
  const outputAxes = ctx.attributes.ints('scan_output_axes', new Array<number>(outputCount).fill(0));
  const outputReverse = directionFlags(
    ctx.attributes.ints('scan_output_directions', new Array<number>(outputCount).fill(0)),
    outputCount,
    'scan_output_directions',
  );
  if (outputAxes.length !== outputCount) {
    throw new EngineError(`scan_output_axes has ${outputAxes.length} entries for ${outputCount} outputs`);
  }
  const scanOutputs = run.slices.map((slices, k) =>
    stack(outputReverse[k] ? [...slices].reverse() : slices, outputAxes[k]!, body.outputs[stateCount + k]!),
  );
  return [...run.states, ...scanOutputs];
}

/**
 * Scan-8: a batch axis 0 on every state and scan input, the sequence on axis 1, optional sequence_lens;
 * scan outputs are zero past each batch entry's length.
 */
function scan8(inputs: readonly (Value | undefined)[], ctx: KernelContext): (Value | undefined)[] {
  const { body, inputCount, stateCount, outputCount } = scanLayout(ctx, inputs.length - 1);
  const states = inputs.slice(1, 1 + stateCount).map((v, i) => expectTensor(v, `Scan state ${i}`));
  const scanInputs = inputs.slice(1 + stateCount).map((v, j) => expectTensor(v, `scan input ${j}`));
  const batch = scanInputs[0]?.dims[0] ?? states[0]?.dims[0] ?? 0;
  const maxLength = scanInputs[0]?.dims[1] ?? 0;
  const lengths =
    inputs[0] === undefined
      ? new Array<number>(batch).fill(maxLength)
      : toNumbers(expectTensor(inputs[0], 'Scan sequence_lens'));
  const reverse = directionFlags(
    ctx.attributes.ints('directions', new Array<number>(inputCount).fill(0)),
    inputCount,
    'directions',
  );
  const finalStates: Tensor[][] = states.map(() => []);
  const outputs: Tensor[][] = Array.from({ length: outputCount }, () => []);
  for (let b = 0; b < batch; b++) {
    const length = lengths[b]!;
    if (length < 0 || length > maxLength) {
      throw new EngineError(`sequence_lens[${b}] = ${length} is outside 0…${maxLength}`);
    }
    const batchInputs = scanInputs.map((x) => sliceAt(x, 0, b));
    const run = runScan(
      ctx,
      body,
      states.map((s) => sliceAt(s, 0, b)),
      batchInputs,
      batchInputs.map(() => 0),
      reverse,
      length,
    );
    run.states.forEach((s, i) => finalStates[i]!.push(expectTensor(s, `Scan state output ${i}`)));
    run.slices.forEach((slices, k) => outputs[k]!.push(stack(slices, 0, body.outputs[stateCount + k]!, maxLength)));
  }
  return [
    ...finalStates.map((perBatch, i) => stack(perBatch, 0, body.outputs[i]!)),
    ...outputs.map((perBatch, k) => stack(perBatch, 0, body.outputs[stateCount + k]!)),
  ];
}

const Scan: Kernel = (inputs, ctx) => (ctx.opset < 9 ? scan8(inputs, ctx) : scan9(inputs, ctx));

export const kernels: Record<string, Kernel> = { If, Loop, Scan };
