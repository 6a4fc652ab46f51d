/**
 * The data-movement primitives of the shape kernels. `copyBox` copies an N-d box of elements between two
 * flat arrays laid out with arbitrary strides: Transpose, Slice, Concat, Split, Tile, Expand and
 * DepthToSpace are each one call of it with the right layouts. `gatherAxes` reads each output axis
 * through an index map (Pad, nearest Resize). Plus small helpers the shape kernels share.
 */
import type { Tensor } from '../../onnx';
import { arrayToFill, expectTensor, sameKindArray, sizeOf, stridesOf, toNumbers } from '../tensors';
import { takeFloat32 } from '../buffers';
import { EngineError, tensor, type Value } from '../types';

export type Data = Tensor['data'];

/**
 * Element storage seen through one representative typed-array type. The copy loops move elements without
 * looking at them, so the element kind is irrelevant as long as source and destination share it (which
 * every caller guarantees); string[] data only takes the element-by-element paths.
 */
export type Elements = Float32Array;

/** Where an N-d box of elements sits in a flat array: its first element and the step of each axis. */
export interface Layout {
  readonly offset: number;
  readonly strides: readonly number[];
}

export const denseLayout = (dims: readonly number[]): Layout => ({ offset: 0, strides: stridesOf(dims) });

/** Runs shorter than this are copied element by element: a subarray view costs more than it saves. */
const SHORT_RUN = 16;

/** Copies `n` consecutive elements (long runs of typed arrays: one memcpy). */
export function copyRun(src: Data, from: number, dst: Data, to: number, n: number): void {
  const source = src as Elements;
  const target = dst as Elements;
  if (n < SHORT_RUN || Array.isArray(src)) {
    for (let i = 0; i < n; i++) target[to + i] = source[from + i]!;
  } else {
    target.set(source.subarray(from, from + n), to);
  }
}

/** Fills `n` consecutive elements of `dst` with `src[from]`. */
function fillRun(src: Data, from: number, dst: Data, to: number, n: number): void {
  if (Array.isArray(dst)) {
    for (let i = 0; i < n; i++) dst[to + i] = (src as string[])[from]!;
  } else {
    (dst as Elements).fill((src as Elements)[from]!, to, to + n);
  }
}

interface Box {
  readonly dims: number[];
  readonly from: number[];
  readonly to: number[];
}

/**
 * The same box with size-1 axes dropped and neighbouring axes merged wherever both layouts are
 * contiguous across them, so that e.g. a Concat becomes a few long runs instead of many short ones.
 */
function coalesce(dims: readonly number[], from: readonly number[], to: readonly number[]): Box {
  const box: Box = { dims: [], from: [], to: [] };
  for (let axis = 0; axis < dims.length; axis++) {
    const d = dims[axis]!;
    if (d === 1) continue;
    const last = box.dims.length - 1;
    if (last >= 0 && box.from[last] === from[axis]! * d && box.to[last] === to[axis]! * d) {
      box.dims[last]! *= d;
      box.from[last] = from[axis]!;
      box.to[last] = to[axis]!;
    } else {
      box.dims.push(d);
      box.from.push(from[axis]!);
      box.to.push(to[axis]!);
    }
  }
  return box;
}

/** Copies the box of shape `dims` read from `src` through `from` into `dst` through `to`. */
export function copyBox(src: Data, from: Layout, dst: Data, to: Layout, dims: readonly number[]): void {
  if (dims.some((d) => d === 0)) return;
  const { dims: box, from: fs, to: ts } = coalesce(dims, from.strides, to.strides);
  const rank = box.length;
  if (rank === 0) {
    copyRun(src, from.offset, dst, to.offset, 1);
    return;
  }
  const n = box[rank - 1]!;
  const fStep = fs[rank - 1]!;
  const tStep = ts[rank - 1]!;
  const copyInner =
    fStep === 1 && tStep === 1
      ? copyRun
      : fStep === 0 && tStep === 1
        ? fillRun
        : (s: Data, f: number, d: Data, t: number, count: number) => {
            const source = s as Elements;
            const target = d as Elements;
            for (let i = 0; i < count; i++) target[t + i * tStep] = source[f + i * fStep]!;
          };
  const counter = new Array<number>(rank - 1).fill(0);
  let f = from.offset;
  let t = to.offset;
  const rows = sizeOf(box) / n;
  for (let row = 0; row < rows; row++) {
    copyInner(src, f, dst, t, n);
    for (let axis = rank - 2; axis >= 0; axis--) {
      f += fs[axis]!;
      t += ts[axis]!;
      if (++counter[axis]! < box[axis]!) break;
      f -= fs[axis]! * box[axis]!;
      t -= ts[axis]! * box[axis]!;
      counter[axis] = 0;
    }
  }
}

/** `data` (of shape `dims`) with its axes permuted: output axis i is input axis perm[i]. */
export function transposeData(data: Data, dims: readonly number[], perm: readonly number[]): Data {
  const strides = stridesOf(dims);
  const outDims = perm.map((axis) => dims[axis]!);
  const out = arrayToFill(data, data.length);
  copyBox(data, { offset: 0, strides: perm.map((axis) => strides[axis]!) }, out, denseLayout(outDims), outDims);
  return out;
}

/** The zero element of an array's kind (typed arrays of 64-bit integers hold bigints). */
export function zeroOf(data: Data): Data[number] {
  if (Array.isArray(data)) return '';
  return data instanceof BigInt64Array || data instanceof BigUint64Array ? 0n : 0;
}

/** Steps a row-major multi-index over `dims` to the next position. */
function advance(counter: number[], dims: readonly number[]): void {
  for (let axis = counter.length - 1; axis >= 0; axis--) {
    if (++counter[axis]! < dims[axis]!) return;
    counter[axis] = 0;
  }
}

/**
 * A separable gather: output element (i0, …, iN) is the element (maps[0][i0], …, maps[N][iN]) of `src`
 * (of shape `dims`); a negative map entry stands for `fill` (constant padding, extrapolation).
 */
export function gatherAxes(
  src: Data,
  dims: readonly number[],
  maps: readonly Int32Array[],
  fill: Data[number] = zeroOf(src),
): Data {
  const outDims = maps.map((m) => m.length);
  if (src instanceof Float32Array && dims.length > 0 && sizeOf(outDims) > 0)
    return gatherFloat32(src, dims, maps, fill as number);
  const out = sameKindArray(src, sizeOf(outDims));
  if (out.length === 0) return out;
  if (dims.length === 0) {
    copyRun(src, 0, out, 0, 1);
    return out;
  }
  const source = src as Elements;
  const target = out as Elements;
  const strides = stridesOf(dims);
  const rank = dims.length;
  const inner = maps[rank - 1]!;
  const counter = new Array<number>(rank - 1).fill(0);
  for (let o = 0; o < out.length;) {
    let base = 0;
    let outside = false;
    for (let axis = 0; axis < rank - 1; axis++) {
      const at = maps[axis]![counter[axis]!]!;
      outside ||= at < 0;
      base += at * strides[axis]!;
    }
    for (let j = 0; j < inner.length; j++) {
      const at = inner[j]!;
      target[o++] = outside || at < 0 ? (fill as number) : source[base + at]!;
    }
    advance(counter, outDims);
  }
  return out;
}

/**
 * `gatherAxes` of float32 data (rank ≥ 1, a nonempty result): the same loop, monomorphic for V8, with
 * shortcuts. An output row whose outer axes read the same source row as the row before (upsampling,
 * edge padding) is a copy of that row; a row with no fill entries is a plain gather, or each element
 * stored r times where the inner map repeats consecutive elements (nearest upsampling).
 */
function gatherFloat32(source: Float32Array, dims: readonly number[], maps: readonly Int32Array[], fill: number) {
  const outDims = maps.map((m) => m.length);
  const target = takeFloat32(sizeOf(outDims));
  const strides = stridesOf(dims);
  const rank = dims.length;
  const inner = maps[rank - 1]!;
  const n = inner.length;
  const innerFills = hasNegative(inner);
  const repeat = innerFills ? 0 : repeatOf(inner);
  const counter = new Array<number>(rank - 1).fill(0);
  let previous = -1; // the source row the row before read (-1: fill)
  for (let o = 0; o < target.length; o += n) {
    let base = 0;
    let outside = false;
    for (let axis = 0; axis < rank - 1; axis++) {
      const at = maps[axis]![counter[axis]!]!;
      outside ||= at < 0;
      base += at * strides[axis]!;
    }
    const row = outside ? -1 : base;
    if (o > 0 && row === previous) target.copyWithin(o, o - n, o);
    else if (outside) target.fill(fill, o, o + n);
    else if (innerFills) {
      for (let j = 0; j < n; j++) {
        const at = inner[j]!;
        target[o + j] = at < 0 ? fill : source[base + at]!;
      }
    } else if (repeat === 2) {
      for (let i = base + inner[0]!, j = o; j < o + n; i++, j += 2) target[j] = target[j + 1] = source[i]!;
    } else if (repeat > 2) {
      for (let i = base + inner[0]!, j = o; j < o + n; i++) for (let r = 0; r < repeat; r++) target[j++] = source[i]!;
    } else for (let j = 0; j < n; j++) target[o + j] = source[base + inner[j]!]!;
    previous = row;
    advance(counter, outDims);
  }
  return target;
}

/**
 * r where the index map reads consecutive elements from map[0] on r times each (nearest upsampling by an
 * integer factor: 0, 0, 1, 1, …; r = 1: consecutive elements), else 0.
 */
export function repeatOf(map: Int32Array): number {
  let r = 1;
  while (r < map.length && map[r] === map[0]) r++;
  if (map.length % r !== 0) return 0;
  for (let j = 0; j < map.length; j++) if (map[j] !== map[0]! + Math.floor(j / r)) return 0;
  return r;
}

/** Whether an index map has a fill entry (a plain loop: TypedArray `some` costs more than the gather). */
function hasNegative(map: Int32Array): boolean {
  for (let i = 0; i < map.length; i++) if (map[i]! < 0) return true;
  return false;
}

/** A tensor sharing `t`'s data under new dims (Reshape, Squeeze, …: no copy). */
export function withDims(t: Tensor, dims: readonly number[]): Tensor {
  if (sizeOf(dims) !== t.data.length) {
    throw new EngineError(`cannot view ${t.data.length} elements as shape [${dims.join(', ')}]`);
  }
  return tensor(t.dtype, dims, t.data as never);
}

/** The values of an integer input such as a shape, axes or pads. */
export function intsOf(value: Value | undefined, what: string): number[] {
  return toNumbers(expectTensor(value, what));
}

/** An optional integer input (absent: undefined). */
export function optionalInts(value: Value | undefined, what: string): number[] | undefined {
  return value === undefined ? undefined : intsOf(value, what);
}

/** Normalises axes against a rank, refusing duplicates. */
export function normalizeAxes(axes: readonly number[], rank: number): number[] {
  const normalized = axes.map((axis) => {
    const a = axis < 0 ? axis + rank : axis;
    if (!Number.isInteger(a) || a < 0 || a >= rank)
      throw new EngineError(`axis ${axis} is out of range for rank ${rank}`);
    return a;
  });
  if (new Set(normalized).size !== normalized.length) throw new EngineError(`axes [${axes.join(', ')}] repeat an axis`);
  return normalized;
}

/** The product of dims[from..to). */
export function spanSize(dims: readonly number[], from: number, to = dims.length): number {
  return sizeOf(dims.slice(from, to));
}
