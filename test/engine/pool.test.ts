/**
 * Max pooling of float32 planes runs in WebAssembly over a −inf-padded copy of each plane; float64 inputs
 * take the JS window walk. Both must give the same maxima bit for bit (NaN never wins, the first of equal
 * values wins, so −0 before +0 stays −0, windows of padding only are −inf).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Attribute, Tensor } from '../../src/onnx';
import { runKernel } from './kernel-harness';

const ints = (name: string, value: number[]): Attribute => ({ name, type: 'ints', value });
const int = (name: string, value: number): Attribute => ({ name, type: 'int', value });

/** Values with ties, signed zeros, NaN and infinities among ordinary numbers. */
function awkwardValues(length: number, seed: number): Float32Array {
  const special = [0, -0, NaN, Infinity, -Infinity, 1, -1];
  let s = seed;
  return Float32Array.from({ length }, () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    const r = s / 2147483648;
    return r < 0.4 ? special[Math.floor(r * 17.5) % special.length]! : Math.fround((r - 0.7) * 8);
  });
}

const CASES: { name: string; dims: number[]; attributes: Attribute[] }[] = [
  {
    name: '3×3 stride 1 pads 1',
    dims: [1, 3, 7, 9],
    attributes: [ints('kernel_shape', [3, 3]), ints('pads', [1, 1, 1, 1])],
  },
  {
    name: '3×3 stride 2 pads 1',
    dims: [2, 2, 9, 11],
    attributes: [ints('kernel_shape', [3, 3]), ints('strides', [2, 2]), ints('pads', [1, 1, 1, 1])],
  },
  {
    name: '2×2 stride 2 (openWakeWord)',
    dims: [1, 4, 6, 13],
    attributes: [ints('kernel_shape', [2, 2]), ints('strides', [2, 2])],
  },
  {
    name: 'stride 3, dilations 2, asymmetric pads, ceil mode',
    dims: [1, 2, 10, 17],
    attributes: [
      ints('kernel_shape', [2, 3]),
      ints('strides', [3, 3]),
      ints('dilations', [2, 2]),
      ints('pads', [0, 2, 1, 0]),
      int('ceil_mode', 1),
    ],
  },
  {
    name: 'window larger than the padded image edge',
    dims: [1, 1, 3, 5],
    attributes: [ints('kernel_shape', [3, 5]), ints('pads', [2, 4, 2, 4])],
  },
  { name: '1-D kernel 5', dims: [1, 3, 21], attributes: [ints('kernel_shape', [5]), ints('pads', [2, 2])] },
];

CASES.forEach(({ name, dims, attributes }, index) => {
  test(`MaxPool float32 (WebAssembly) equals the float64 JS walk bit for bit: ${name}`, () => {
    const data = awkwardValues(
      dims.reduce((a, b) => a * b, 1),
      index + 1,
    );
    const single: Tensor = { name: 'x', dtype: 'float32', dims, data };
    const double: Tensor = { name: 'x', dtype: 'float64', dims, data: Float64Array.from(data) };
    const [fast] = runKernel('MaxPool', [single], { attributes }) as Tensor[];
    const [walked] = runKernel('MaxPool', [double], { attributes }) as Tensor[];
    assert.deepEqual(fast!.dims, walked!.dims);
    assert.ok(fast!.data instanceof Float32Array);
    const expected = Float32Array.from(walked!.data as Float64Array);
    assert.deepEqual(
      new Uint32Array(fast!.data.buffer, fast!.data.byteOffset, expected.length),
      new Uint32Array(expected.buffer),
    );
  });
});

test('GlobalMaxPool float32 equals the float64 walk', () => {
  const dims = [2, 3, 5, 7];
  const data = awkwardValues(2 * 3 * 5 * 7, 3);
  const [fast] = runKernel('GlobalMaxPool', [{ name: 'x', dtype: 'float32', dims, data }]) as Tensor[];
  const [walked] = runKernel('GlobalMaxPool', [
    { name: 'x', dtype: 'float64', dims, data: Float64Array.from(data) },
  ]) as Tensor[];
  assert.deepEqual(Array.from(fast!.data as Float32Array), Array.from(Float32Array.from(walked!.data as Float64Array)));
});

test('GlobalAveragePool equals AveragePool over the whole image bit for bit', () => {
  const dims = [2, 3, 5, 7];
  // Finite values over several magnitudes, so that a different summation order would show.
  const data = awkwardValues(2 * 3 * 5 * 7, 9).map((v, i) => (Number.isFinite(v) ? v * 10 ** (i % 7) : i));
  const x: Tensor = { name: 'x', dtype: 'float32', dims, data };
  const [global] = runKernel('GlobalAveragePool', [x]) as Tensor[];
  const [windowed] = runKernel('AveragePool', [x], { attributes: [ints('kernel_shape', [5, 7])] }) as Tensor[];
  assert.deepEqual(global!.dims, windowed!.dims);
  assert.deepEqual(Array.from(global!.data as Float32Array), Array.from(windowed!.data as Float32Array));
});
