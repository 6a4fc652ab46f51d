/**
 * If / Loop / Scan behaviours the ONNX conformance cases leave out. The bodies only route values (their
 * outputs name their inputs or outer values), so these tests need no other operator.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { onnx } from 'onnx-proto';
import { Session } from '../../src/engine/session';
import type { Value } from '../../src/engine/types';
import { loadModel, type Tensor } from '../../src/onnx';
import { FLOAT, INT64, modelBytes, node, tensorValue } from '../onnx/helpers';

const A = onnx.AttributeProto.AttributeType;
const BOOL = onnx.TensorProto.DataType.BOOL;

const graphAttribute = (name: string, g: onnx.IGraphProto): onnx.IAttributeProto => ({ name, type: A.GRAPH, g });
const intsAttribute = (name: string, ints: number[]): onnx.IAttributeProto => ({ name, type: A.INTS, ints });
const intAttribute = (name: string, i: number): onnx.IAttributeProto => ({ name, type: A.INT, i });

/** A graph without nodes: its outputs are some of its inputs or names of enclosing scopes. */
function routing(
  name: string,
  inputs: onnx.IValueInfoProto[],
  outputs: (string | onnx.IValueInfoProto)[],
): onnx.IGraphProto {
  return { name, input: inputs, output: outputs.map((o) => (typeof o === 'string' ? { name: o } : o)), node: [] };
}

async function run(graph: onnx.IGraphProto, feeds: Tensor[], opset = 17): Promise<Map<string, Value | undefined>> {
  const model = await loadModel(modelBytes(graph, { opsetImport: [{ domain: '', version: opset }] }));
  return new Session(model).run(new Map(feeds.map((t) => [t.name, t])));
}

const bool = (name: string, value: boolean): Tensor => ({ name, dtype: 'bool', dims: [], data: Uint8Array.of(+value) });
const floats = (name: string, dims: number[], values: number[]): Tensor => ({
  name,
  dtype: 'float32',
  dims,
  data: Float32Array.from(values),
});
const int64 = (name: string, value: number): Tensor => ({
  name,
  dtype: 'int64',
  dims: [],
  data: BigInt64Array.of(BigInt(value)),
});

function data(value: Value | undefined): number[] {
  assert.ok(value && !Array.isArray(value), 'expected a tensor');
  return Array.from(value.data as ArrayLike<number | bigint>, Number);
}

function dims(value: Value | undefined): number[] {
  assert.ok(value && !Array.isArray(value), 'expected a tensor');
  return value.dims;
}

test('If branches read values of every enclosing scope, also from a nested If', async () => {
  const inner = node('If', ['inner_cond'], ['picked'], 'inner', [
    graphAttribute('then_branch', routing('inner_then', [], ['a'])),
    graphAttribute('else_branch', routing('inner_else', [], ['b'])),
  ]);
  const graph: onnx.IGraphProto = {
    name: 'main',
    input: [
      tensorValue('outer_cond', BOOL, []),
      tensorValue('inner_cond', BOOL, []),
      tensorValue('a', FLOAT, [2]),
      tensorValue('b', FLOAT, [2]),
    ],
    output: [{ name: 'out' }],
    node: [
      node('If', ['outer_cond'], ['out'], 'outer', [
        graphAttribute('then_branch', { name: 'outer_then', node: [inner], output: [{ name: 'picked' }] }),
        graphAttribute('else_branch', routing('outer_else', [], ['b'])),
      ]),
    ],
  };
  const a = floats('a', [2], [1, 2]);
  const b = floats('b', [2], [3, 4]);
  const pick = async (outer: boolean, inner: boolean) =>
    data((await run(graph, [bool('outer_cond', outer), bool('inner_cond', inner), a, b])).get('out'));
  assert.deepEqual(await pick(true, true), [1, 2]);
  assert.deepEqual(await pick(true, false), [3, 4]);
  assert.deepEqual(await pick(false, true), [3, 4]);
});

/**
 * A Loop whose body rotates three carried booleans (q1, q2, q3) → (q2, q3, q1), emits q2 as its condition and
 * its iteration number as a scan output.
 */
function rotatingLoop(tripCount: string, cond: string): onnx.IGraphProto {
  const body = routing(
    'body',
    [
      tensorValue('i', INT64, []),
      tensorValue('cond_in', BOOL, []),
      ...['q1', 'q2', 'q3'].map((q) => tensorValue(q, BOOL, [])),
    ],
    ['q2', 'q2', 'q3', 'q1', tensorValue('i', INT64, [])],
  );
  return {
    name: 'main',
    input: [
      tensorValue('M', INT64, []),
      tensorValue('cond', BOOL, []),
      ...['q1', 'q2', 'q3'].map((q) => tensorValue(q, BOOL, [])),
    ],
    output: ['r1', 'r2', 'r3', 'iterations'].map((name) => ({ name })),
    node: [
      node('Loop', [tripCount, cond, 'q1', 'q2', 'q3'], ['r1', 'r2', 'r3', 'iterations'], 'loop', [
        graphAttribute('body', body),
      ]),
    ],
  };
}

const queue = [bool('q1', true), bool('q2', true), bool('q3', false)];

test('Loop with only a condition runs while the body says so', async () => {
  // Iteration 0 emits q2 = true; iteration 1 sees (true, false, true) and emits false: two iterations.
  const out = await run(rotatingLoop('', 'cond'), [int64('M', 99), bool('cond', true), ...queue]);
  assert.deepEqual(data(out.get('iterations')), [0, 1]);
  assert.deepEqual(dims(out.get('iterations')), [2]);
  assert.deepEqual(
    [out.get('r1'), out.get('r2'), out.get('r3')].map((v) => data(v)[0]),
    [0, 1, 1],
  );
});

test('Loop with only a trip count ignores the body condition; a false initial condition runs nothing', async () => {
  const forLoop = await run(rotatingLoop('M', ''), [int64('M', 4), bool('cond', true), ...queue]);
  assert.deepEqual(data(forLoop.get('iterations')), [0, 1, 2, 3]);
  const never = await run(rotatingLoop('M', 'cond'), [int64('M', 4), bool('cond', false), ...queue]);
  // No iteration: the scan output's shape and type come from the body's declared output.
  assert.deepEqual(dims(never.get('iterations')), [0]);
  assert.equal((never.get('iterations') as Tensor).dtype, 'int64');
  assert.deepEqual(data(never.get('r3')), [0], 'carried values come out unchanged');
});

test('Scan reads its input backwards along axis 1 and writes a reversed output along axis 1', async () => {
  // Body: the new state is the current slice, the scan output the previous state.
  const body = routing(
    'body',
    [tensorValue('state', FLOAT, [2]), tensorValue('slice', FLOAT, [2])],
    ['slice', 'state'],
  );
  const graph: onnx.IGraphProto = {
    name: 'main',
    input: [tensorValue('init', FLOAT, [2]), tensorValue('x', FLOAT, [2, 3])],
    output: [{ name: 'final' }, { name: 'history' }],
    node: [
      node('Scan', ['init', 'x'], ['final', 'history'], 'scan', [
        graphAttribute('body', body),
        intAttribute('num_scan_inputs', 1),
        intsAttribute('scan_input_axes', [-1]),
        intsAttribute('scan_input_directions', [1]),
        intsAttribute('scan_output_axes', [1]),
        intsAttribute('scan_output_directions', [1]),
      ]),
    ],
  };
  // x's columns are c0 = (1, 4), c1 = (2, 5), c2 = (3, 6), visited c2, c1, c0.
  const out = await run(graph, [floats('init', [2], [-1, -2]), floats('x', [2, 3], [1, 2, 3, 4, 5, 6])]);
  assert.deepEqual(data(out.get('final')), [1, 4]);
  // Emitted states in order: init, c2, c1; reversed along axis 1: c1, c2, init.
  assert.deepEqual(dims(out.get('history')), [2, 3]);
  assert.deepEqual(data(out.get('history')), [2, 3, -1, 5, 6, -2]);
});

test('Scan-8 runs each batch entry over its own sequence length and zero-pads the outputs', async () => {
  const body = routing(
    'body',
    [tensorValue('state', FLOAT, [1]), tensorValue('slice', FLOAT, [1])],
    ['slice', 'slice'],
  );
  const graph: onnx.IGraphProto = {
    name: 'main',
    input: [tensorValue('lens', INT64, [2]), tensorValue('init', FLOAT, [2, 1]), tensorValue('x', FLOAT, [2, 3, 1])],
    output: [{ name: 'final' }, { name: 'seen' }],
    node: [
      node('Scan', ['lens', 'init', 'x'], ['final', 'seen'], 'scan', [
        graphAttribute('body', body),
        intAttribute('num_scan_inputs', 1),
        intsAttribute('directions', [1]),
      ]),
    ],
  };
  const lens: Tensor = { name: 'lens', dtype: 'int64', dims: [2], data: BigInt64Array.of(3n, 1n) };
  const out = await run(graph, [lens, floats('init', [2, 1], [0, 0]), floats('x', [2, 3, 1], [1, 2, 3, 4, 5, 6])], 8);
  // Batch 0 visits 3, 2, 1 and ends on 1; batch 1 visits only its first step, 4.
  assert.deepEqual(data(out.get('final')), [1, 4]);
  assert.deepEqual(dims(out.get('seen')), [2, 3, 1]);
  assert.deepEqual(data(out.get('seen')), [3, 2, 1, 4, 0, 0]);
});
