/**
 * Recycling of float32 result buffers within a run. Kernels draw the arrays of their float32 results from
 * `takeFloat32`/`zeroFloat32`; the executor of an unobserved run hands back the buffers of values it
 * releases (`BufferRecycler`), so the next result of that size reuses one instead of a fresh allocation
 * (page faults on first touch, garbage collection).
 *
 * Only buffers this module allocated are ever recycled, and only when no value of the run still refers
 * to them (results are counted per ArrayBuffer: views and pass-through kernels such as Reshape share
 * one; kernels never return a view shorter than the buffer, so arrays below the pool's minimum size are
 * not looked at). Model inputs, initializers, Constant values and folded constants are never this
 * module's; outputs of the run are never released. A recycled buffer is handed out as a new Float32Array
 * object, so caches keyed by the old array (operand preparation) can never return stale values for it.
 */
import type { Value } from './types';

/** Free buffers by byte length. */
const free = new Map<number, ArrayBuffer[]>();
/** Buffers allocated here: the only ones that may be recycled. */
const owned = new WeakSet<ArrayBuffer>();
/** Bytes held in `free`, and the most it holds (beyond that, released buffers go to the garbage collector). */
let heldBytes = 0;
const MAX_HELD_BYTES = 256 << 20;
/** Below this many bytes a fresh allocation is as cheap as a pool lookup. */
const MIN_BYTES = 1024;

let enabled = true;
/** Arrays handed out on a recycled buffer, since the start (tests check that recycling happens). */
let reusedCount = 0;

export function buffersReused(): number {
  return reusedCount;
}

/** Turns recycling on or off (tests compare results both ways); returns the previous setting. */
export function setBufferRecycling(on: boolean): boolean {
  const previous = enabled;
  enabled = on;
  if (!on) clearBufferPool();
  return previous;
}

export function bufferRecyclingEnabled(): boolean {
  return enabled;
}

/** Drops every free buffer. */
export function clearBufferPool(): void {
  free.clear();
  heldBytes = 0;
}

/** A free buffer of `length` float32 elements from the pool, with its old contents. */
function reusedFloat32(length: number): Float32Array | undefined {
  const bytes = length * 4;
  if (bytes < MIN_BYTES) return undefined;
  const buffer = free.get(bytes)?.pop();
  if (!buffer) return undefined;
  heldBytes -= bytes;
  reusedCount++;
  return new Float32Array(buffer);
}

/** A new zero-filled array, owned by the pool when it is large enough to come back to it. */
function freshFloat32(length: number): Float32Array {
  const array = new Float32Array(length);
  if (length * 4 >= MIN_BYTES) owned.add(array.buffer);
  return array;
}

/** A float32 array of `length` elements whose contents are undefined: the caller writes every element. */
export function takeFloat32(length: number): Float32Array {
  return reusedFloat32(length) ?? freshFloat32(length);
}

/** A zero-filled float32 array of `length` elements. */
export function zeroFloat32(length: number): Float32Array {
  return reusedFloat32(length)?.fill(0) ?? freshFloat32(length);
}

/** A copy of `source` in a drawn array. */
export function copyFloat32(source: Float32Array): Float32Array {
  const out = takeFloat32(source.length);
  out.set(source);
  return out;
}

function giveBack(buffer: ArrayBuffer): void {
  const bytes = buffer.byteLength;
  if (heldBytes + bytes > MAX_HELD_BYTES) return;
  let list = free.get(bytes);
  if (!list) free.set(bytes, (list = []));
  list.push(buffer);
  heldBytes += bytes;
}

/** Takes a value's buffers out of the pool's ownership: a value kept beyond any run (a folded constant). */
export function withdrawFromPool(value: Value | undefined): void {
  forEachBuffer(value, (buffer) => owned.delete(buffer));
}

/**
 * One run's accounting: every value the run stores is counted per buffer of this module (no other buffer
 * can go back to the pool); when the run releases a value and its buffer's count falls to zero, a buffer
 * that is not pinned goes back to the pool.
 */
export class BufferRecycler {
  private readonly counts = new Map<ArrayBuffer, number>();
  private readonly pinned = new Set<ArrayBuffer>();

  /** Buffers that must outlive the run whatever reads them (the caller's inputs). */
  pin(value: Value | undefined): void {
    forEachBuffer(value, (buffer) => this.pinned.add(buffer));
  }

  /** A value stored in the run's scope. */
  stored(value: Value | undefined): void {
    forEachBuffer(value, this.count);
  }

  /** A value the run dropped from its scope. */
  released(value: Value | undefined): void {
    forEachBuffer(value, this.uncount);
  }

  // Made once per run: the executor counts every value it stores and releases.
  private readonly count = (buffer: ArrayBuffer): void => {
    if (owned.has(buffer)) this.counts.set(buffer, (this.counts.get(buffer) ?? 0) + 1);
  };

  private readonly uncount = (buffer: ArrayBuffer): void => {
    const count = this.counts.get(buffer);
    if (count === undefined) return; // not stored by this run (an input, initializer or buffer not ours)
    if (count > 1) {
      this.counts.set(buffer, count - 1);
      return;
    }
    this.counts.delete(buffer);
    if (enabled && owned.has(buffer) && !this.pinned.has(buffer)) giveBack(buffer);
  };
}

function forEachBuffer(value: Value | undefined, visit: (buffer: ArrayBuffer) => void): void {
  if (value === undefined) return;
  if (Array.isArray(value)) {
    for (const t of value) forEachBuffer(t, visit);
    return;
  }
  const data = value.data;
  // Arrays shorter than MIN_BYTES are never the pool's (it hands out whole buffers of at least that size,
  // and kernels return no shorter views of them). Not reading their `buffer` also spares V8 moving small
  // arrays off its heap, which costs more than the rest of a small node's bookkeeping.
  if (!Array.isArray(data) && data.byteLength >= MIN_BYTES && data.buffer instanceof ArrayBuffer) visit(data.buffer);
}
