/**
 * Reductions, ArgMax/ArgMin, CumSum and TopK: axes by opset, keepdims, noop_with_empty_axes, empty
 * reductions, integer wrap-around and int64 precision, NaN handling and tie order.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EngineError, tensor, type Value } from '../../src/engine/types';
import type { Attribute, Tensor } from '../../src/onnx';
import { runKernel } from './kernel-harness';

function runAll(opType: string, inputs: (Value | undefined)[], attributes: Attribute[] = [], opset = 18): Tensor[] {
  return runKernel(opType, inputs, { attributes, opset }) as Tensor[];
}

const run = (opType: string, inputs: (Value | undefined)[], attributes: Attribute[] = [], opset = 18) =>
  runAll(opType, inputs, attributes, opset)[0]!;

const f32 = (dims: number[], values: number[]) => tensor('float32', dims, Float32Array.from(values));
const axes = (...values: number[]) => tensor('int64', [values.length], BigInt64Array.from(values.map(BigInt)));
const attr = (name: string, type: Attribute['type'], value: unknown) => ({ name, type, value }) as Attribute;
const keepdims = (v: number) => attr('keepdims', 'int', v);
const values = (t: Tensor) => Array.from(t.data as ArrayLike<unknown>);

const X = f32([2, 3], [1, 2, 3, 4, 5, 6]);

test('axes come from the attribute before opset 13 (ReduceSum) / 18 (the others), from the input since', () => {
  assert.deepEqual(values(run('ReduceSum', [X], [attr('axes', 'ints', [1])], 11)), [6, 15]);
  assert.deepEqual(values(run('ReduceSum', [X, axes(1)], [], 13)), [6, 15]);
  assert.deepEqual(values(run('ReduceMean', [X], [attr('axes', 'ints', [0])], 13)), [2.5, 3.5, 4.5]);
  assert.deepEqual(values(run('ReduceMean', [X, axes(-2)], [], 18)), [2.5, 3.5, 4.5]);
});

test('keepdims, all axes by default, and noop_with_empty_axes', () => {
  assert.deepEqual(run('ReduceMax', [X, axes(1)]).dims, [2, 1]);
  assert.deepEqual(run('ReduceMax', [X, axes(1)], [keepdims(0)]).dims, [2]);
  const all = run('ReduceSum', [X], [keepdims(0)]);
  assert.deepEqual([all.dims, values(all)], [[], [21]]);
  assert.deepEqual(run('ReduceSum', [X, axes()]).dims, [1, 1]);
  const noop = [attr('noop_with_empty_axes', 'int', 1)];
  assert.deepEqual(values(run('ReduceSum', [X, axes()], noop)), [1, 2, 3, 4, 5, 6]);
  // Reducing over no axes still applies the element transform (as the ONNX reference does).
  assert.deepEqual(values(run('ReduceSumSquare', [X], noop)), [1, 4, 9, 16, 25, 36]);
  assert.throws(() => run('ReduceSum', [X, axes(1, -1)]), /repeat/);
  assert.throws(() => run('ReduceSum', [X, axes(2)]), EngineError);
});

test('every reduction on one example', () => {
  const x = f32([2, 2], [1, -2, 3, 4]);
  const expected: Record<string, number[]> = {
    ReduceSum: [-1, 7],
    ReduceMean: [-0.5, 3.5],
    ReduceMax: [1, 4],
    ReduceMin: [-2, 3],
    ReduceProd: [-2, 12],
    ReduceL1: [3, 7],
    ReduceL2: [Math.fround(Math.sqrt(5)), 5],
    ReduceSumSquare: [5, 25],
    ReduceLogSum: [NaN, Math.fround(Math.log(7))],
    ReduceLogSumExp: [Math.fround(Math.log(Math.E + Math.exp(-2))), Math.fround(Math.log(Math.exp(3) + Math.exp(4)))],
  };
  for (const [op, want] of Object.entries(expected))
    assert.deepEqual(values(run(op, [x, axes(1)], [keepdims(0)])), want, op);
});

test('empty reductions give the identity; ReduceLogSumExp is stable for large values', () => {
  const empty = f32([2, 0], []);
  const identities: Record<string, number> = {
    ReduceSum: 0,
    ReduceProd: 1,
    ReduceMax: -Infinity,
    ReduceMin: Infinity,
    ReduceL2: 0,
    ReduceLogSum: -Infinity,
    ReduceLogSumExp: -Infinity,
  };
  for (const [op, identity] of Object.entries(identities))
    assert.deepEqual(values(run(op, [empty, axes(1)])), [identity, identity], op);
  assert.deepEqual(values(run('ReduceMax', [tensor('int8', [0], new Int8Array(0)), axes(0)])), [-128]);
  assert.deepEqual(values(run('ReduceLogSumExp', [f32([2], [1000, 1000]), axes(0)])), [Math.fround(1000 + Math.LN2)]);
  assert.deepEqual(values(run('ReduceMax', [f32([3], [1, NaN, 3]), axes(0)])), [NaN]);
});

test('integer reductions wrap in their width; int64 stays exact; bool Max/Min', () => {
  const i32 = tensor('int32', [2], Int32Array.of(2147483647, 1));
  assert.deepEqual(values(run('ReduceSum', [i32, axes(0)])), [-2147483648]);
  assert.deepEqual(values(run('ReduceProd', [tensor('int32', [2], Int32Array.of(65536, 65537)), axes(0)])), [65536]);
  assert.deepEqual(values(run('ReduceMean', [tensor('int32', [2], Int32Array.of(-3, 0)), axes(0)])), [-1]);
  const i64 = tensor('int64', [2], BigInt64Array.of(2n ** 60n + 1n, 2n ** 60n));
  assert.deepEqual(values(run('ReduceSum', [i64, axes(0)])), [2n ** 61n + 1n]);
  assert.deepEqual(values(run('ReduceMin', [tensor('uint64', [2], BigUint64Array.of(2n ** 64n - 1n, 5n)), axes(0)])), [
    5n,
  ]);
  assert.throws(() => run('ReduceL2', [i64, axes(0)]), EngineError);
  const bool = tensor('bool', [2, 2], Uint8Array.of(0, 1, 0, 0));
  assert.deepEqual(values(run('ReduceMax', [bool, axes(1)], [keepdims(0)], 20)), [1, 0]);
  assert.throws(() => run('ReduceSum', [bool, axes(1)]), EngineError);
  const half = run('ReduceSum', [tensor('float16', [2], Float32Array.of(2048, 1)), axes(0)]);
  assert.deepEqual(values(half), [2048]); // 2049 is a tie in float16: to even
});

test('ArgMax/ArgMin: first index of ties, last with select_last_index, first NaN, keepdims', () => {
  const x = f32([2, 3], [1, 5, 5, 7, 0, 0]);
  const axis1 = attr('axis', 'int', 1);
  assert.deepEqual(values(run('ArgMax', [x], [axis1])), [1n, 0n]);
  assert.deepEqual(run('ArgMax', [x], [axis1]).dims, [2, 1]);
  assert.deepEqual(values(run('ArgMax', [x], [axis1, attr('select_last_index', 'int', 1)])), [2n, 0n]);
  assert.deepEqual(values(run('ArgMin', [x], [axis1, keepdims(0), attr('select_last_index', 'int', 1)])), [0n, 2n]);
  assert.deepEqual(values(run('ArgMin', [x], [keepdims(0)])), [0n, 1n, 1n]);
  assert.deepEqual(values(run('ArgMax', [f32([4], [1, NaN, 9, NaN])])), [1n]);
  assert.deepEqual(values(run('ArgMax', [tensor('int64', [2], BigInt64Array.of(2n ** 62n + 1n, 2n ** 62n))])), [0n]);
});

test('CumSum: inclusive/exclusive, forward/reverse, along an axis, integer dtypes', () => {
  const x = f32([2, 3], [1, 2, 3, 4, 5, 6]);
  const axis = (a: number) => tensor('int32', [], Int32Array.of(a));
  assert.deepEqual(values(run('CumSum', [x, axis(1)])), [1, 3, 6, 4, 9, 15]);
  assert.deepEqual(values(run('CumSum', [x, axis(0)])), [1, 2, 3, 5, 7, 9]);
  const exclusive = attr('exclusive', 'int', 1);
  const reverse = attr('reverse', 'int', 1);
  assert.deepEqual(values(run('CumSum', [x, axis(-1)], [exclusive])), [0, 1, 3, 0, 4, 9]);
  assert.deepEqual(values(run('CumSum', [x, axis(-1)], [reverse])), [6, 5, 3, 15, 11, 6]);
  assert.deepEqual(values(run('CumSum', [x, axis(-1)], [exclusive, reverse])), [5, 3, 0, 11, 6, 0]);
  const i8 = tensor('int8', [2], Int8Array.of(100, 100));
  assert.deepEqual(values(run('CumSum', [i8, axis(0)])), [100, -56]);
  const i64 = tensor('int64', [2], BigInt64Array.of(2n ** 62n, 1n));
  assert.deepEqual(values(run('CumSum', [i64, axes(0)])), [2n ** 62n, 2n ** 62n + 1n]);
});

test('TopK: sorted, ties in index order, smallest, along an axis, NaN as largest', () => {
  const x = f32([2, 4], [3, 1, 3, 2, 0, 9, 9, 9]);
  const k = (n: number) => tensor('int64', [1], BigInt64Array.of(BigInt(n)));
  const [v, i] = runAll('TopK', [x, k(2)]);
  assert.deepEqual(
    [v!.dims, values(v!), values(i!)],
    [
      [2, 2],
      [3, 3, 9, 9],
      [0n, 2n, 1n, 2n],
    ],
  );
  const [small, smallIndex] = runAll('TopK', [x, k(3)], [attr('largest', 'int', 0)]);
  assert.deepEqual(
    [values(small!), values(smallIndex!)],
    [
      [1, 2, 3, 0, 9, 9],
      [1n, 3n, 0n, 0n, 1n, 2n],
    ],
  );
  const [col, colIndex] = runAll('TopK', [x, k(1)], [attr('axis', 'int', 0)]);
  assert.deepEqual(
    [col!.dims, values(col!), values(colIndex!)],
    [
      [1, 4],
      [3, 9, 9, 9],
      [0n, 1n, 1n, 1n],
    ],
  );
  const [nan] = runAll('TopK', [f32([3], [1, NaN, 2]), k(2)]);
  assert.deepEqual(values(nan!), [NaN, 2]);
  const [legacy] = runAll('TopK', [x], [attr('k', 'int', 1)], 1);
  assert.deepEqual(values(legacy!), [3, 9]);
  assert.deepEqual(runAll('TopK', [x, k(0)])[0]!.dims, [2, 0]);
  assert.throws(() => runAll('TopK', [x, k(5)]), EngineError);
});
