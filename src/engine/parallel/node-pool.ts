/**
 * A worker_threads pool for the f32 GEMM (Node only: the CLI and the benchmark inject it with
 * `startGemmPool`; the engine core never imports this file, so it keeps running in a browser Web Worker).
 * Each helper thread has its own instance of the kernels module; a GEMM's operands are copied once into a
 * SharedArrayBuffer, every helper computes a band of C's rows into it, and the calling thread computes the
 * first band itself, then blocks (Atomics.wait) until the helpers are done. The engine stays synchronous.
 * A row's sums do not depend on where it is computed, so results are bit for bit those of one thread.
 */
import { Worker } from 'node:worker_threads';
import { kernelModule, setGemmPool, type GemmPool } from '../wasm/kernels';

/** Multiply-adds below which a GEMM stays on the calling thread (posting a band costs tens of µs). */
const MIN_PARALLEL_WORK = 1 << 21;

/** Band states in the shared status array. */
const BUSY = 0;
const DONE = 1;
const FAILED = 2;

// The helper: instantiates the kernels module, then computes the bands it is sent. Plain JS (eval), so it
// runs the same under tsx and from the bundled CLI.
const HELPER_SOURCE = `
const { parentPort } = require('node:worker_threads');
let wasm, heapStart, status, index;
parentPort.on('message', (message) => {
  if (message.module) {
    const abort = () => { throw new Error('WebAssembly kernel aborted'); };
    wasm = new WebAssembly.Instance(message.module, { env: { abort } }).exports;
    heapStart = wasm.memory.buffer.byteLength;
    status = new Int32Array(message.status);
    index = message.index;
    return;
  }
  const { buffer, m, n, k, from, to } = message;
  try {
    const rows = to - from;
    const align = (bytes) => (bytes + 15) & ~15;
    const a = heapStart;
    const b = a + align(rows * k * 4);
    const c = b + align(k * n * 4);
    const missing = c + rows * n * 4 - wasm.memory.buffer.byteLength;
    if (missing > 0) wasm.memory.grow(Math.ceil(missing / 65536));
    const shared = new Float32Array(buffer);
    new Float32Array(wasm.memory.buffer, a, rows * k).set(shared.subarray(from * k, to * k));
    new Float32Array(wasm.memory.buffer, b, k * n).set(shared.subarray(m * k, m * k + k * n));
    wasm.gemm(a, b, c, rows, n, k, 1, 0);
    shared.set(new Float32Array(wasm.memory.buffer, c, rows * n), m * k + k * n + from * n);
    Atomics.store(status, index, ${DONE});
  } catch (error) {
    Atomics.store(status, index, ${FAILED});
  }
  Atomics.notify(status, index);
});
`;

export class NodeGemmPool implements GemmPool {
  /** GEMMs split so far (tests check that the pool is really used). */
  splitGemms = 0;
  private readonly helpers: Worker[];
  private readonly status: Int32Array;
  private shared = new SharedArrayBuffer(0);

  /** A pool with `helpers` threads besides the caller's. */
  constructor(helpers: number) {
    const statusBuffer = new SharedArrayBuffer(4 * helpers);
    this.status = new Int32Array(statusBuffer);
    const module = kernelModule();
    this.helpers = Array.from({ length: helpers }, (_, index) => {
      const worker = new Worker(HELPER_SOURCE, { eval: true });
      worker.postMessage({ module, status: statusBuffer, index });
      worker.unref(); // an idle pool does not keep the process alive
      return worker;
    });
  }

  splits({ m, n, k }: { m: number; n: number; k: number }): boolean {
    return m * n * k >= MIN_PARALLEL_WORK && m >= 8 * (this.helpers.length + 1);
  }

  gemm(
    A: Float32Array,
    B: Float32Array,
    { m, n, k }: { m: number; n: number; k: number },
    band: (A: Float32Array, rows: number) => Float32Array,
  ): Float32Array | null {
    if (!this.splits({ m, n, k })) return null;
    const threads = this.helpers.length + 1;
    // Bands of whole 4-row register blocks.
    const rowsPerBand = Math.ceil(m / threads / 4) * 4;
    const bytes = (m * k + k * n + m * n) * 4;
    if (this.shared.byteLength < bytes) this.shared = new SharedArrayBuffer(bytes);
    const shared = new Float32Array(this.shared, 0, bytes / 4);
    shared.set(A, 0);
    shared.set(B, m * k);
    const posted: number[] = [];
    for (let h = 0; h < this.helpers.length; h++) {
      const from = Math.min(m, (h + 1) * rowsPerBand);
      const to = Math.min(m, (h + 2) * rowsPerBand);
      if (from === to) break;
      Atomics.store(this.status, h, BUSY);
      this.helpers[h]!.postMessage({ buffer: this.shared, m, n, k, from, to });
      posted.push(h);
    }
    const own = band(A.subarray(0, rowsPerBand * k), rowsPerBand);
    let failed = false;
    for (const h of posted) {
      while (Atomics.load(this.status, h) === BUSY) Atomics.wait(this.status, h, BUSY);
      failed ||= Atomics.load(this.status, h) === FAILED;
    }
    if (failed) throw new Error('a GEMM helper thread failed');
    this.splitGemms++;
    const out = new Float32Array(m * n);
    out.set(own);
    const c = m * k + k * n;
    out.set(shared.subarray(c + rowsPerBand * n, c + m * n), rowsPerBand * n);
    return out;
  }

  /** Stops the helpers and removes the pool from the engine. */
  async close(): Promise<void> {
    setGemmPool(null);
    await Promise.all(this.helpers.map((worker) => worker.terminate()));
  }
}

/**
 * Splits the engine's f32 GEMMs over `threads` threads (the caller's and threads − 1 helpers) until the
 * returned pool is closed; null (and no pool) for one thread.
 */
export function startGemmPool(threads: number): NodeGemmPool | null {
  if (!Number.isInteger(threads) || threads < 1) throw new Error(`threads must be a positive integer, got ${threads}`);
  if (threads === 1) return null;
  const pool = new NodeGemmPool(threads - 1);
  setGemmPool(pool);
  return pool;
}
