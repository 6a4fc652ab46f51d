/**
 * The fast paths of the data-movement helpers against their generic forms: the float32 gather (copied
 * repeated rows, fill rows, rows without fill) against the element-by-element gather of other dtypes,
 * `toNumbers` and `int64Data` on every kind of value, and copy kernels whose float32 results come from the
 * buffer pool (uninitialised) writing every element.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BufferRecycler, setBufferRecycling, takeFloat32 } from '../../src/engine/buffers';
import { gatherAxes } from '../../src/engine/kernels/shape-copy';
import { int64Data, toNumbers } from '../../src/engine/tensors';
import { tensor } from '../../src/engine/types';
import type { Attribute, Tensor } from '../../src/onnx';
import { seededRandom } from '../onnx/helpers';
import { runKernel } from './kernel-harness';

/** A random index map over [0, length) of `size` entries: runs of repeats, and fills (-1) when allowed. */
function randomMap(random: () => number, length: number, size: number, fills: boolean): Int32Array {
  const map = new Int32Array(size);
  for (let i = 0; i < size; i++) {
    const repeat = i > 0 && random() < 0.4;
    map[i] = repeat ? map[i - 1]! : fills && random() < 0.2 ? -1 : Math.floor(random() * length);
  }
  return map;
}

test('the float32 gather gives what the generic gather gives, on repeated rows, fills and odd shapes', () => {
  const random = seededRandom(41);
  const shapes = [[7], [1, 5], [3, 1, 4], [2, 3, 5], [4, 2, 1, 3]];
  for (const dims of shapes) {
    for (let trial = 0; trial < 30; trial++) {
      const count = dims.reduce((a, b) => a * b, 1);
      const values = Float32Array.from({ length: count }, () => random() * 8 - 4);
      const fills = trial % 3 !== 0;
      const maps = dims.map((d, axis) => randomMap(random, d, 1 + Math.floor(random() * 6), fills && axis % 2 === 0));
      const fast = gatherAxes(values, dims, maps, 2.5);
      const generic = gatherAxes(Float64Array.from(values), dims, maps, 2.5);
      assert.ok(fast instanceof Float32Array);
      assert.deepEqual(
        Array.from(fast),
        Array.from(generic as Float64Array),
        `dims [${dims}], maps ${maps.map((m) => `[${m}]`)}`,
      );
    }
  }
});

test('the float32 gather of nearest upsampling (each element repeated r times) and near misses of it', () => {
  const dims = [2, 3, 4];
  const values = Float32Array.from({ length: 24 }, (_, i) => i * 1.5 - 7);
  const rows = Int32Array.of(0, 0, 1, 1, 2, 2);
  const inners = [
    [0, 0, 1, 1, 2, 2, 3, 3],
    [1, 1, 1, 2, 2, 2, 3, 3, 3],
    [2, 2, 2, 2],
    [0, 0, 1, 1, 2],
    [0, 0, 1, 1, 3, 3],
    [0, 0, 0, 1, 1, 2],
    [3, 3, 2, 2],
  ];
  for (const inner of inners) {
    const maps = [Int32Array.of(1, 0), rows, Int32Array.from(inner)];
    const fast = gatherAxes(values, dims, maps);
    const generic = gatherAxes(Float64Array.from(values), dims, maps);
    assert.deepEqual(Array.from(fast as Float32Array), Array.from(generic as Float64Array), `inner [${inner}]`);
  }
});

test('toNumbers converts every numeric kind, 64-bit integers and negatives included', () => {
  assert.deepEqual(toNumbers(tensor('int64', [3], BigInt64Array.of(-3n, 0n, 2n ** 40n))), [-3, 0, 2 ** 40]);
  assert.deepEqual(toNumbers(tensor('uint64', [1], BigUint64Array.of(2n ** 63n))), [2 ** 63]);
  assert.deepEqual(toNumbers(tensor('int32', [2], Int32Array.of(-1, 7))), [-1, 7]);
  assert.deepEqual(toNumbers(tensor('bool', [2], Uint8Array.of(1, 0))), [1, 0]);
  assert.deepEqual(toNumbers(tensor('float32', [2], Float32Array.of(0.5, -0))), [0.5, -0]);
  assert.deepEqual(toNumbers(tensor('int64', [0], new BigInt64Array(0))), []);
  assert.throws(() => toNumbers(tensor('string', [1], ['a'])), /expected a numeric tensor/);
});

/** Puts `count` NaN-filled float32 buffers of `length` elements in the pool: the next draws of that size. */
function poisonPool(length: number, count: number): void {
  const recycler = new BufferRecycler();
  const arrays = Array.from({ length: count }, () => takeFloat32(length).fill(NaN));
  for (const data of arrays) recycler.stored(tensor('float32', [length], data));
  for (const data of arrays) recycler.released(tensor('float32', [length], data));
}

const int64s = (...values: number[]) => tensor('int64', [values.length], BigInt64Array.from(values.map(BigInt)));

test('copy kernels write every element of a float32 result drawn from the pool', () => {
  const random = seededRandom(5);
  const x = tensor(
    'float32',
    [4, 8, 16],
    Float32Array.from({ length: 512 }, () => random()),
  );
  const cases: [string, (Tensor | undefined)[], Attribute[], number][] = [
    ['Slice', [x, int64s(1, 0), int64s(4, 16), int64s(0, 2)], [], 1],
    ['Concat', [x, x], [{ name: 'axis', type: 'int', value: 1 }], 1],
    ['Split', [x, int64s(4, 4)], [{ name: 'axis', type: 'int', value: 1 }], 2],
    ['Transpose', [x], [{ name: 'perm', type: 'ints', value: [2, 0, 1] }], 1],
    ['Expand', [x, int64s(2, 4, 8, 16)], [], 1],
    ['Tile', [x, int64s(1, 2, 1)], [], 1],
    ['Gather', [x, int64s(3, 0, 2)], [{ name: 'axis', type: 'int', value: 0 }], 1],
  ];
  const previous = setBufferRecycling(false);
  try {
    for (const [op, inputs, attributes, outputs] of cases) {
      setBufferRecycling(false);
      const expected = runKernel(op, inputs, { attributes, outputs }) as Tensor[];
      setBufferRecycling(true);
      for (const t of expected) poisonPool(t.data.length, 2);
      const got = runKernel(op, inputs, { attributes, outputs }) as Tensor[];
      got.forEach((t, i) => {
        assert.ok(t.data.length * 4 >= 1024, `${op}: the result is large enough to come from the pool`);
        assert.deepEqual(Array.from(t.data as Float32Array), Array.from(expected[i]!.data as Float32Array), op);
      });
    }
  } finally {
    setBufferRecycling(previous);
  }
});

test('empty float32 results: slices, concatenations and gathers with nothing to copy', () => {
  const x = tensor('float32', [2, 3], Float32Array.of(1, 2, 3, 4, 5, 6));
  const [sliced] = runKernel('Slice', [x, int64s(1), int64s(1), int64s(1)]) as Tensor[];
  assert.deepEqual([sliced!.dims, sliced!.data.length], [[2, 0], 0]);
  const [joined] = runKernel('Concat', [sliced!, sliced!], {
    attributes: [{ name: 'axis', type: 'int', value: 0 }],
  }) as Tensor[];
  assert.deepEqual([joined!.dims, joined!.data.length], [[4, 0], 0]);
  const gathered = gatherAxes(x.data, x.dims, [Int32Array.of(0, 1), new Int32Array(0)]);
  assert.ok(gathered instanceof Float32Array);
  assert.equal(gathered.length, 0);
});

test('int64Data converts integers, negatives and values past 2^32 included', () => {
  assert.deepEqual(Array.from(int64Data([0, -7, 2 ** 40, 3])), [0n, -7n, 2n ** 40n, 3n]);
  assert.equal(int64Data([]).length, 0);
});
