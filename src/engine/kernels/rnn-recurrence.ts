/**
 * What LSTM, GRU and RNN share: input and attribute checks, directions, sequence lengths, weight slicing,
 * the input projection X·Wᵀ for all time steps at once, the time loop and the Y / Y_h / Y_c layouts.
 * A cell (rnn.ts) supplies the per-step gate arithmetic.
 */
import type { Node } from '../../onnx';
import { sliceOperand, transposeOperand, type MultiplyContext, type PreparedOperand } from '../multiply';
import { expectTensor, float32Data, toNumbers } from '../tensors';
import { EngineError, tensor, type KernelContext, type Value } from '../types';
import { markConstant } from '../wasm/kernels';
import { activationFunctions, type Activation } from './rnn-activations';

/** One direction of one node, as a cell sees it. */
export interface Direction {
  readonly mul: MultiplyContext;
  readonly hidden: number;
  readonly batch: number;
  /** Bound on gate pre-activations (Infinity without a `clip` attribute). */
  readonly clip: number;
  /** This direction's activation functions (f, g, h for LSTM). */
  readonly activations: readonly Activation[];
  /** Rows [first, first + count) of this direction's R (gates·hidden × hidden), prepared and transposed. */
  recurrentRows(first: number, count: number): PreparedOperand;
  /** This direction's Wb and Rb (gates·hidden each); zeros when B is absent. */
  readonly inputBias: Float32Array;
  readonly recurrentBias: Float32Array;
  /** This direction's row of an optional [directions, length] input (LSTM peepholes), prepared. */
  perDirection(value: Value | undefined, what: string, length: number): PreparedOperand | undefined;
}

export interface Cell {
  /**
   * Added to every row of X·Wᵀ before the time loop: the biases that enter the gates additively
   * (Wb + Rb, except where a cell applies a recurrent bias elsewhere).
   */
  readonly projectionBias: Float32Array;
  /**
   * One time step for the whole batch: `projection` is this step's rows of X·Wᵀ + bias (batch × gates·hidden,
   * the cell may write to it), `state` the previous H (and C). Returns the new state arrays, freshly allocated:
   * `prepare` caches per array, so an array is never written after it has been prepared.
   */
  step(projection: Float32Array, state: readonly Float32Array[]): Float32Array[];
}

export interface CellKind {
  readonly gates: number;
  /** The default `activations` of one direction. */
  readonly activations: readonly string[];
  /** H, or H and C. */
  readonly stateCount: number;
  readonly makeCell: (direction: Direction, inputs: readonly (Value | undefined)[], ctx: KernelContext) => Cell;
}

type DirectionName = 'forward' | 'reverse' | 'bidirectional';

/** Sizes and index maps of one node: layout 0 is time-major ([seq, batch, …]), layout 1 batch-major. */
class Geometry {
  constructor(
    readonly seqLength: number,
    readonly batch: number,
    readonly inputSize: number,
    readonly hidden: number,
    readonly directions: number,
    readonly layout: number,
  ) {}

  get yShape(): number[] {
    const { seqLength, directions, batch, hidden } = this;
    return this.layout === 0 ? [seqLength, directions, batch, hidden] : [batch, seqLength, directions, hidden];
  }

  /** Y_h, Y_c, initial_h and initial_c. */
  get stateShape(): number[] {
    const { directions, batch, hidden } = this;
    return this.layout === 0 ? [directions, batch, hidden] : [batch, directions, hidden];
  }

  /** The row of X (and of X·Wᵀ) holding time step t of batch entry n. */
  xRow(t: number, n: number): number {
    return this.layout === 0 ? t * this.batch + n : n * this.seqLength + t;
  }

  yOffset(t: number, d: number, n: number): number {
    const { seqLength, directions, batch, hidden } = this;
    return (this.layout === 0 ? (t * directions + d) * batch + n : (n * seqLength + t) * directions + d) * hidden;
  }

  stateOffset(d: number, n: number): number {
    const { directions, batch, hidden } = this;
    return (this.layout === 0 ? d * batch + n : n * directions + d) * hidden;
  }
}

/** A node's checked inputs and attributes, with X, W and R prepared for the scheme. */
interface RecurrentNode {
  readonly geometry: Geometry;
  readonly direction: DirectionName;
  /** Per batch entry, its number of valid time steps. */
  readonly lengths: readonly number[];
  readonly clip: number;
  readonly activations: readonly Activation[][];
  readonly mul: MultiplyContext;
  readonly x: PreparedOperand;
  readonly w: PreparedOperand;
  readonly r: PreparedOperand;
  /** B, or zeros. */
  readonly bias: Float32Array;
}

/** Runs an LSTM/GRU/RNN node: outputs Y, then the final states (Y_h, and Y_c for LSTM). */
export function runRecurrence(kind: CellKind, inputs: readonly (Value | undefined)[], ctx: KernelContext): Value[] {
  const node = readNode(kind, inputs, ctx);
  const g = node.geometry;
  const y = new Float32Array(g.seqLength * g.directions * g.batch * g.hidden);
  const finalStates = Array.from(
    { length: kind.stateCount },
    () => new Float32Array(g.directions * g.batch * g.hidden),
  );
  for (let d = 0; d < g.directions; d++) {
    const cell = kind.makeCell(directionView(node, d, kind.gates), inputs, ctx);
    const initial = finalStates.map((_, i) => initialState(inputs[5 + i], i === 0 ? 'initial_h' : 'initial_c', g, d));
    const final = runDirection(node, d, cell, initial, y);
    final.forEach((values, i) => {
      for (let n = 0; n < g.batch; n++) {
        finalStates[i]!.set(values.subarray(n * g.hidden, (n + 1) * g.hidden), g.stateOffset(d, n));
      }
    });
  }
  return [tensor('float32', g.yShape, y), ...finalStates.map((values) => tensor('float32', g.stateShape, values))];
}

function readNode(kind: CellKind, inputs: readonly (Value | undefined)[], ctx: KernelContext): RecurrentNode {
  const x = expectTensor(inputs[0], 'X');
  const w = expectTensor(inputs[1], 'W');
  const r = expectTensor(inputs[2], 'R');
  const b = inputs[3] === undefined ? undefined : expectTensor(inputs[3], 'B');
  const direction = directionOf(ctx);
  const directions = direction === 'bidirectional' ? 2 : 1;
  const layout = ctx.attributes.int('layout', 0);
  if (layout !== 0 && layout !== 1) throw new EngineError(`layout must be 0 or 1, got ${layout}`);
  if (x.dims.length !== 3) throw new EngineError(`X must be 3-D, got shape [${x.dims.join(', ')}]`);
  const [seqLength, batch, inputSize] = layout === 0 ? x.dims : [x.dims[1]!, x.dims[0]!, x.dims[2]!];
  const hidden = ctx.attributes.int('hidden_size', r.dims[2]);
  const geometry = new Geometry(seqLength!, batch!, inputSize!, hidden, directions, layout);
  const width = kind.gates * hidden;
  expectShape(w, [directions, width, inputSize!], 'W');
  expectShape(r, [directions, width, hidden], 'R');
  if (b) expectShape(b, [directions, 2 * width], 'B');
  const clip = ctx.attributes.float('clip', Infinity);
  if (!(clip > 0)) throw new EngineError(`clip must be positive, got ${clip}`);
  const mul = ctx.multiply.forGroup('multiply');
  return {
    geometry,
    direction,
    lengths: sequenceLengths(inputs[4], batch!, seqLength!),
    clip,
    activations: directionActivations(ctx, kind.activations, directions),
    mul,
    // Whole tensors are prepared (weights once, cached across runs), then sliced per direction.
    x: mul.prepare(float32Data(x, 'X')),
    w: mul.prepare(float32Data(w, 'W')),
    r: mul.prepare(float32Data(r, 'R')),
    bias: b ? float32Data(b, 'B') : new Float32Array(directions * 2 * width),
  };
}

function directionView(node: RecurrentNode, d: number, gates: number): Direction {
  const { hidden, batch, directions } = node.geometry;
  const width = gates * hidden;
  return {
    mul: node.mul,
    hidden,
    batch,
    clip: node.clip,
    activations: node.activations[d]!,
    recurrentRows: (first, count) => transposedRows(node.r, d * width + first, count, hidden),
    inputBias: node.bias.subarray(2 * d * width, (2 * d + 1) * width),
    recurrentBias: node.bias.subarray((2 * d + 1) * width, (2 * d + 2) * width),
    perDirection: (value, what, length) => {
      if (value === undefined) return undefined;
      const t = expectTensor(value, what);
      expectShape(t, [directions, length], what);
      return rowBlock(node.mul.prepare(float32Data(t, what)), d * length, length);
    },
  };
}

/**
 * One direction over the time steps, writing its H rows into Y; returns the final state. Batch entry n
 * reads time step s at loop step s forwards, or length[n]−1−s backwards, and stops after its own length.
 */
function runDirection(
  node: RecurrentNode,
  d: number,
  cell: Cell,
  initial: Float32Array[],
  y: Float32Array,
): Float32Array[] {
  const { geometry: g, lengths } = node;
  const reverse = node.direction === 'reverse' || d === 1;
  const width = cell.projectionBias.length;
  // X·Wᵀ for every time step at once, biases folded in.
  const projection = node.mul.gemm(node.x, transposedRows(node.w, d * width, width, g.inputSize), {
    m: g.seqLength * g.batch,
    n: width,
    k: g.inputSize,
  });
  addRowBias(projection, cell.projectionBias);
  let state = initial;
  for (let s = 0; s < g.seqLength; s++) {
    const time = (n: number) => (reverse ? lengths[n]! - 1 - s : s);
    const active = lengths.map((length) => s < length);
    if (!active.some(Boolean)) break;
    const stepRows = new Float32Array(g.batch * width);
    for (let n = 0; n < g.batch; n++) {
      const row = g.xRow(time(n), n) * width;
      if (active[n]) stepRows.set(projection.subarray(row, row + width), n * width);
    }
    const next = cell.step(stepRows, state);
    state = next.map((values, i) => keepInactiveRows(values, state[i]!, active, g.hidden));
    for (let n = 0; n < g.batch; n++) {
      if (active[n]) y.set(state[0]!.subarray(n * g.hidden, (n + 1) * g.hidden), g.yOffset(time(n), d, n));
    }
  }
  return state;
}

function directionOf(ctx: KernelContext): DirectionName {
  const direction = ctx.attributes.string('direction', 'forward');
  if (direction !== 'forward' && direction !== 'reverse' && direction !== 'bidirectional') {
    throw new EngineError(`direction must be forward, reverse or bidirectional, got "${direction}"`);
  }
  return direction;
}

function expectShape(t: { dims: readonly number[] }, dims: readonly number[], what: string): void {
  if (t.dims.join() !== dims.join()) {
    throw new EngineError(`${what} has shape [${t.dims.join(', ')}], expected [${dims.join(', ')}]`);
  }
}

function sequenceLengths(value: Value | undefined, batch: number, seqLength: number): number[] {
  if (value === undefined) return new Array<number>(batch).fill(seqLength);
  const lengths = toNumbers(expectTensor(value, 'sequence_lens'));
  if (lengths.length !== batch) throw new EngineError(`sequence_lens has ${lengths.length} entries for batch ${batch}`);
  for (const length of lengths) {
    if (!Number.isInteger(length) || length < 0 || length > seqLength) {
      throw new EngineError(`sequence_lens entry ${length} is outside 0…${seqLength}`);
    }
  }
  return lengths;
}

/** Each node's activation functions per direction: they depend on its attributes alone. */
const nodeActivations = new WeakMap<Node, Activation[][]>();

/** Per direction, its activation functions; one direction's list serves both directions of a bidirectional node. */
function directionActivations(ctx: KernelContext, defaults: readonly string[], directions: number): Activation[][] {
  let activations = nodeActivations.get(ctx.node);
  if (!activations) nodeActivations.set(ctx.node, (activations = parseActivations(ctx, defaults, directions)));
  return activations;
}

function parseActivations(ctx: KernelContext, defaults: readonly string[], directions: number): Activation[][] {
  const count = defaults.length;
  const names = ctx.attributes.strings('activations', Array.from({ length: directions }, () => defaults).flat());
  const functions = activationFunctions(
    names,
    ctx.attributes.floats('activation_alpha', []),
    ctx.attributes.floats('activation_beta', []),
  );
  if (functions.length === count) return Array.from({ length: directions }, () => functions);
  if (functions.length === count * directions) {
    return Array.from({ length: directions }, (_, d) => functions.slice(d * count, (d + 1) * count));
  }
  throw new EngineError(`activations lists ${names.length} functions, expected ${count} per direction`);
}

/** A contiguous block of a prepared operand (its tensor's scale applies). */
export function rowBlock(operand: PreparedOperand, start: number, length: number): PreparedOperand {
  return sliceOperand(operand, start, start + length);
}

/**
 * Transposed row blocks of prepared weights, by the whole prepared array (its fp8 codes where the scheme
 * prepares codes, not decoding values for a key) and then by block. Weights are the same array in every
 * run (initializers, Constant and folded values; `prepare` caches per array), so they are transposed once;
 * an array computed by the run is a new object each run (a recycled buffer too), so an entry can never be
 * stale.
 */
const transposedBlocks = new WeakMap<Float32Array | Uint8Array, Map<string, PreparedOperand>>();

/**
 * Rows [first, first + count) of a whole prepared rows × cols matrix, transposed to cols × count (a GEMM's
 * B), computed once per matrix and block.
 */
function transposedRows(operand: PreparedOperand, first: number, count: number, cols: number): PreparedOperand {
  const whole = operand.codes?.bytes ?? operand.values;
  let blocks = transposedBlocks.get(whole);
  if (!blocks) transposedBlocks.set(whole, (blocks = new Map()));
  const key = `${first}:${count}`;
  let block = blocks.get(key);
  if (!block) {
    block = transposeOperand(sliceOperand(operand, first * cols, (first + count) * cols), count, cols);
    // Weights transposed once: a GEMM may keep them in linear memory too.
    markConstant(block.values);
    blocks.set(key, block);
  }
  return block;
}

/** Adds `bias` to every row of `matrix` (in place; returns it). */
export function addRowBias(matrix: Float32Array, bias: Float32Array): Float32Array {
  const width = bias.length;
  for (let i = 0; i < matrix.length; i++) matrix[i]! += bias[i % width]!;
  return matrix;
}

/** Direction d's rows of initial_h / initial_c (zeros when absent) as a batch × hidden array. */
function initialState(value: Value | undefined, what: string, g: Geometry, d: number): Float32Array {
  const state = new Float32Array(g.batch * g.hidden);
  if (value === undefined) return state;
  const t = expectTensor(value, what);
  expectShape(t, g.stateShape, what);
  const data = float32Data(t, what);
  for (let n = 0; n < g.batch; n++) {
    state.set(data.subarray(g.stateOffset(d, n), g.stateOffset(d, n) + g.hidden), n * g.hidden);
  }
  return state;
}

/** Batch entries past their sequence length keep their previous state (a new array when any does). */
function keepInactiveRows(
  next: Float32Array,
  previous: Float32Array,
  active: readonly boolean[],
  hidden: number,
): Float32Array {
  if (active.every(Boolean)) return next;
  const merged = next.slice();
  active.forEach((isActive, n) => {
    if (!isActive) merged.set(previous.subarray(n * hidden, (n + 1) * hidden), n * hidden);
  });
  return merged;
}

// ---- Gate arithmetic shared by the cells ----

/**
 * Element-wise a ⊙ b under the scheme (the gate products a Mul node would compute). `a` may be shorter than
 * `b`: a per-unit vector (peephole weights) repeated over b's batch rows.
 */
export function products(mul: MultiplyContext, a: PreparedOperand, b: PreparedOperand): Float32Array {
  const out = new Float32Array(b.values.length);
  const period = a.values.length;
  for (let i = 0; i < out.length; i++) out[i] = mul.product(a.values[i % period]!, b.values[i]!, a.scale, b.scale);
  return out;
}

/** H·Rᵀ for the batch, with R's rows already transposed (`transposedRows`). */
export function recurrentProduct(dir: Direction, h: PreparedOperand, rT: PreparedOperand): Float32Array {
  return dir.mul.gemm(h, rT, { m: dir.batch, n: rT.values.length / dir.hidden, k: dir.hidden });
}

/** Adds a rows × n block into columns [offset, offset + n) of a rows × width matrix. */
export function addColumns(target: Float32Array, width: number, offset: number, block: Float32Array): void {
  const rows = target.length / width;
  const n = block.length / rows;
  for (let row = 0; row < rows; row++) {
    for (let j = 0; j < n; j++) target[row * width + offset + j]! += block[row * n + j]!;
  }
}

/**
 * Gate `gate` of a batch × gates·hidden pre-activation matrix, plus `extra` (peephole terms) when given,
 * clipped and activated: a fresh batch × hidden array.
 */
export function gate(
  dir: Direction,
  preActivation: Float32Array,
  gateIndex: number,
  activation: Activation,
  extra?: Float32Array,
): Float32Array {
  const { hidden, batch, clip } = dir;
  const width = preActivation.length / batch;
  const out = new Float32Array(batch * hidden);
  for (let n = 0; n < batch; n++) {
    const row = n * width + gateIndex * hidden;
    for (let j = 0; j < hidden; j++) {
      const i = n * hidden + j;
      const v = Math.fround(preActivation[row + j]! + (extra ? extra[i]! : 0));
      out[i] = activation(Math.min(Math.max(v, -clip), clip));
    }
  }
  return out;
}

// Plain loops rather than TypedArray map, whose per-element callback costs several times more.

export function sum(a: Float32Array, b: Float32Array): Float32Array {
  const out = new Float32Array(a.length);
  for (let i = 0; i < out.length; i++) out[i] = a[i]! + b[i]!;
  return out;
}

/** f of every element, in a new array. */
export function mapped(values: Float32Array, f: (v: number) => number): Float32Array {
  const out = new Float32Array(values.length);
  for (let i = 0; i < out.length; i++) out[i] = f(values[i]!);
  return out;
}
