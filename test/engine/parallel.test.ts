/**
 * The worker_threads GEMM pool: results bit for bit those of one thread, on GEMMs whose row count does or
 * does not divide into the bands and on real models under the exact-rule schemes it serves.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { seededNormal } from '../../src/audit/random';
import { MultiplyContext } from '../../src/engine/multiply';
import { startGemmPool } from '../../src/engine/parallel/node-pool';
import { Session } from '../../src/engine/session';
import { setGemmPool, wasmGemm } from '../../src/engine/wasm/kernels';
import { loadModelFile } from '../../src/onnx/node-fs';
import { REAL_MODELS } from '../fixtures/real-models';

const pool = startGemmPool(3)!;
setGemmPool(null); // each test switches the pool on where it wants it
after(() => pool.close());

function withPool<T>(f: () => T): T {
  setGemmPool(pool);
  try {
    return f();
  } finally {
    setGemmPool(null);
  }
}

const sameBits = (a: Float32Array, b: Float32Array, what: string) => {
  assert.equal(a.length, b.length, `${what}: length`);
  const [x, y] = [new Uint32Array(a.buffer, a.byteOffset, a.length), new Uint32Array(b.buffer, b.byteOffset, b.length)];
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) assert.fail(`${what}[${i}]: ${a[i]} vs ${b[i]}`);
};

test('a GEMM split over three threads equals the one-thread GEMM bit for bit', () => {
  const normal = seededNormal(5);
  for (const [m, n, k] of [
    [96, 200, 300],
    [101, 77, 513], // bands of unequal length, column tail
    [250, 64, 200],
  ] as const) {
    const A = Float32Array.from({ length: m * k }, () => normal());
    const B = Float32Array.from({ length: k * n }, () => normal() * 2 ** Math.round(normal() * 4));
    const before = pool.splitGemms;
    const split = withPool(() => wasmGemm(A, B, m, n, k));
    assert.equal(pool.splitGemms, before + 1, 'the pool split this GEMM');
    sameBits(split, wasmGemm(A, B, m, n, k), `${m}×${n}×${k}`);
  }
});

test('a GEMM too small to pay for the threads stays on the caller', () => {
  const before = pool.splitGemms;
  withPool(() => wasmGemm(new Float32Array(16 * 16), new Float32Array(16 * 16), 16, 16, 16));
  assert.equal(pool.splitGemms, before);
});

for (const index of [0, 1]) {
  const c = REAL_MODELS[index]!;
  test(`${c.name}: exact and e4m3 runs with the pool equal one-thread runs bit for bit`, async () => {
    const model = await loadModelFile(c.path);
    const session = new Session(model);
    const feeds = new Map(session.inputNames.map((name, i) => [name, c.inputs()[i]!]));
    for (const scheme of ['exact', 'e4m3']) {
      const multiply = new MultiplyContext({ scheme });
      const single = session.run(feeds, { multiply });
      const before = pool.splitGemms;
      const parallel = withPool(() => session.run(feeds, { multiply }));
      assert.ok(pool.splitGemms > before, `${scheme}: the pool split some GEMMs`);
      for (const [name, value] of single) {
        const other = parallel.get(name);
        assert.ok(value && other && !Array.isArray(value) && !Array.isArray(other), `${name} is a tensor`);
        sameBits(other.data as Float32Array, value.data as Float32Array, `${scheme} ${name}`);
      }
    }
  });
}
