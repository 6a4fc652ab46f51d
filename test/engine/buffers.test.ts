/**
 * Recycling of released result buffers: runs give bit for bit the same outputs with recycling on and off
 * on every real model under every benchmark scheme, recycle something, and never touch what the caller
 * or an observer still holds (outputs of earlier runs, inputs, observed values).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Tensor } from '../../src/onnx';
import { BufferRecycler, buffersReused, setBufferRecycling, takeFloat32, zeroFloat32 } from '../../src/engine/buffers';
import { MultiplyContext } from '../../src/engine/multiply';
import { Session } from '../../src/engine/session';
import { tensor, type Value } from '../../src/engine/types';
import { loadModelFile } from '../../src/onnx/node-fs';
import { REAL_MODELS } from '../fixtures/real-models';
import { BENCH_SCHEMES } from '../../bench/schemes';

/** The bit patterns of every output (float32 as integers, so NaNs and −0 compare too). */
function snapshot(outputs: ReadonlyMap<string, Value | undefined>): Map<string, number[]> {
  const bits = (t: Tensor) => Array.from(new Uint32Array(Float32Array.from(t.data as Float32Array).buffer));
  return new Map(
    [...outputs].map(([name, value]) => {
      assert.ok(value && !Array.isArray(value), `output ${name} missing`);
      return [name, bits(value)];
    }),
  );
}

for (const c of REAL_MODELS) {
  test(`${c.name}: recycled buffers change no output bit under any scheme`, async () => {
    const session = new Session(await loadModelFile(c.path));
    const inputs = c.inputs();
    const feeds = new Map(session.inputNames.map((name, i) => [name, inputs[i]!]));
    const inputBits = inputs.map((t) => Array.from(t.data as Float32Array));
    try {
      for (const scheme of BENCH_SCHEMES) {
        const multiply = new MultiplyContext({ scheme });
        setBufferRecycling(false);
        const expected = snapshot(session.run(feeds, { multiply }));
        setBufferRecycling(true);
        const reusedBefore = buffersReused();
        const first = session.run(feeds, { multiply });
        const firstBits = snapshot(first);
        // Later runs draw on the buffers the earlier ones released: the first run's outputs must survive.
        const second = snapshot(session.run(feeds, { multiply }));
        const third = snapshot(session.run(feeds, { multiply }));
        assert.deepEqual(firstBits, expected, `${scheme}: first run`);
        assert.deepEqual(second, expected, `${scheme}: second run`);
        assert.deepEqual(third, expected, `${scheme}: third run`);
        assert.deepEqual(snapshot(first), expected, `${scheme}: the first run's outputs were overwritten`);
        assert.ok(buffersReused() > reusedBefore, `${scheme}: no buffer was recycled`);
      }
      inputs.forEach((t, i) => assert.deepEqual(Array.from(t.data as Float32Array), inputBits[i], 'input changed'));
    } finally {
      setBufferRecycling(true);
    }
  });
}

test('an observed run recycles nothing: values an observer keeps stay as they were', async () => {
  const c = REAL_MODELS[1]!; // PaddleOCR v4 rec: hundreds of released intermediates
  const session = new Session(await loadModelFile(c.path));
  const feeds = new Map(session.inputNames.map((name, i) => [name, c.inputs()[i]!]));
  session.run(feeds); // fills the pool
  const kept: { value: Float32Array; bits: number[] }[] = [];
  const reusedBefore = buffersReused();
  session.run(feeds, {
    observeNode: (_node, _inputs, outputs) => {
      for (const o of outputs)
        if (o && !Array.isArray(o) && o.data instanceof Float32Array && o.data.length >= 256)
          kept.push({ value: o.data, bits: Array.from(new Uint32Array(Float32Array.from(o.data).buffer)) });
    },
  });
  // Drawing from the pool is fine; handing back what the observer holds is not.
  assert.ok(kept.length > 100);
  session.run(feeds); // a later unobserved run may reuse only what the pool held before
  kept.forEach(({ value, bits }, i) =>
    assert.deepEqual(Array.from(new Uint32Array(Float32Array.from(value).buffer)), bits, `observed value ${i}`),
  );
  assert.ok(buffersReused() > reusedBefore);
});

test('BufferRecycler: a buffer goes back only when its last reader is released and it is ours', () => {
  setBufferRecycling(true);
  const length = 4096; // a size no other test's runs draw, so the pool's state is this test's
  const ours = takeFloat32(length);
  const shared = tensor('float32', [length], ours);
  const view = tensor('float32', [length], ours); // e.g. a Reshape of it
  const recycler = new BufferRecycler();
  recycler.stored(shared);
  recycler.stored(view);
  recycler.released(shared);
  assert.notEqual(takeFloat32(length).buffer, ours.buffer, 'recycled while a view still read it');
  recycler.released(view);
  const again = zeroFloat32(length);
  assert.equal(again.buffer, ours.buffer, 'not recycled after its last reader');
  assert.notEqual(again, ours, 'a recycled buffer must come back as a new array object');

  // Not ours (an initializer or the caller's array) or pinned (a model input): never recycled.
  const foreign = new Float32Array(length);
  const pinned = takeFloat32(length);
  recycler.pin(tensor('float32', [length], pinned));
  for (const data of [foreign, pinned]) {
    recycler.stored(tensor('float32', [length], data));
    recycler.released(tensor('float32', [length], data));
  }
  const next = takeFloat32(length);
  assert.notEqual(next.buffer, foreign.buffer);
  assert.notEqual(next.buffer, pinned.buffer);

  // A released value that the run never stored (an input or initializer) is ignored.
  const unstored = takeFloat32(length);
  recycler.released(tensor('float32', [length], unstored));
  assert.notEqual(takeFloat32(length).buffer, unstored.buffer);

  // Recycling off: nothing goes back.
  setBufferRecycling(false);
  const off = takeFloat32(length);
  recycler.stored(tensor('float32', [length], off));
  recycler.released(tensor('float32', [length], off));
  setBufferRecycling(true);
  assert.notEqual(takeFloat32(length).buffer, off.buffer);
});

test('a recycled buffer comes back zero-filled from zeroFloat32', () => {
  const length = 8192;
  const dirty = takeFloat32(length).fill(7);
  const recycler = new BufferRecycler();
  recycler.stored(tensor('float32', [length], dirty));
  recycler.released(tensor('float32', [length], dirty));
  const zeroed = zeroFloat32(length);
  assert.equal(zeroed.buffer, dirty.buffer);
  assert.ok(zeroed.every((v) => v === 0));
});
