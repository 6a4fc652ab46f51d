/**
 * Activation kernels: values against their defining formulas, the opset-dependent axis semantics of the
 * softmax family, and the `activation` multiply group (exact unless replaceActivation is set; then each
 * owned product is the scheme's product of operands prepared as whole tensors).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fp8ScaleExponent, mulValues, parseScheme } from '../../src/arith';
import { erf } from '../../src/engine/kernels/elementwise-math';
import { MultiplyContext } from '../../src/engine/multiply';
import { EngineError, tensor } from '../../src/engine/types';
import type { Attribute, Tensor } from '../../src/onnx';
import { runKernel } from './kernel-harness';

interface RunOptions {
  readonly attributes?: Attribute[];
  readonly multiply?: MultiplyContext;
  readonly opset?: number;
}

function run(opType: string, inputs: Tensor[], options: RunOptions = {}): Tensor {
  return runKernel(opType, inputs, { ...options, opset: options.opset ?? 22 })[0] as Tensor;
}

const f32 = (dims: number[], values: number[]) => tensor('float32', dims, Float32Array.from(values));
const attr = (name: string, type: Attribute['type'], value: unknown) => ({ name, type, value }) as Attribute;
const values = (t: Tensor) => Array.from(t.data as ArrayLike<number | bigint>);
const numbers = (t: Tensor) => Array.from(t.data as ArrayLike<number>);
const X = [-3, -0.5, 0, 0.25, 2, 40];

function assertClose(actual: ArrayLike<number>, expected: number[], tolerance = 1e-6): void {
  assert.equal(actual.length, expected.length);
  expected.forEach((e, i) => {
    const a = actual[i]!;
    assert.ok(Math.abs(a - e) <= tolerance * Math.max(1, Math.abs(e)), `element ${i}: ${a}, expected ${e}`);
  });
}

/** Reference values by another method than the engine's: Simpson integration of 2/√π·e^(−t²). */
const integratedErf = (x: number) => {
  const n = 2000;
  const h = x / n;
  let sum = 0;
  for (let i = 0; i <= n; i++) sum += (i === 0 || i === n ? 1 : i % 2 ? 4 : 2) * Math.exp(-((i * h) ** 2));
  return ((sum * h) / 3) * (2 / Math.sqrt(Math.PI));
};

const FORMULAS: [string, Attribute[], (x: number) => number][] = [
  ['LeakyRelu', [], (x) => (x < 0 ? 0.01 * x : x)],
  ['Elu', [attr('alpha', 'float', 2)], (x) => (x < 0 ? 2 * (Math.exp(x) - 1) : x)],
  ['Selu', [], (x) => 1.05070102214813232421875 * (x > 0 ? x : 1.67326319217681884765625 * (Math.exp(x) - 1))],
  ['Celu', [attr('alpha', 'float', 2)], (x) => Math.max(0, x) + Math.min(0, 2 * (Math.exp(x / 2) - 1))],
  ['HardSigmoid', [], (x) => Math.max(0, Math.min(1, 0.2 * x + 0.5))],
  ['HardSwish', [], (x) => x * Math.max(0, Math.min(1, x / 6 + 0.5))],
  ['Gelu', [], (x) => (x * (1 + integratedErf(x / Math.SQRT2))) / 2],
  [
    'Gelu',
    [attr('approximate', 'string', 'tanh')],
    (x) => (x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)))) / 2,
  ],
  ['Mish', [], (x) => x * Math.tanh(Math.log(1 + Math.exp(x)))],
  ['Softplus', [], (x) => Math.log(1 + Math.exp(x))],
  ['Softsign', [], (x) => x / (1 + Math.abs(x))],
  ['ThresholdedRelu', [attr('alpha', 'float', 0.2)], (x) => (x > 0.2 ? x : 0)],
  ['Shrink', [attr('lambd', 'float', 1), attr('bias', 'float', 0.5)], (x) => (x < -1 ? x + 0.5 : x > 1 ? x - 0.5 : 0)],
];

for (const [op, attributes, formula] of FORMULAS) {
  test(`${op} ${attributes.map((a) => a.name).join(', ')} follows its formula`, () => {
    assertClose(numbers(run(op, [f32([6], X)], { attributes })), X.map(formula));
    const wide = run(op, [tensor('float64', [6], Float64Array.from(X))], { attributes });
    assert.equal(wide.dtype, 'float64');
    assertClose(numbers(wide), X.map(formula), 1e-12);
  });
}

test('Softplus does not overflow for large inputs', () => {
  assert.deepEqual(values(run('Softplus', [f32([2], [1000, -1000])])), [1000, 0]);
});

test('Relu takes integer tensors', () => {
  assert.deepEqual(values(run('Relu', [tensor('int8', [2], Int8Array.of(-5, 5))])), [0, 5]);
  assert.deepEqual(values(run('Relu', [tensor('int64', [2], BigInt64Array.of(-5n, 5n))])), [0n, 5n]);
});

test('PRelu broadcasts the slope to X; before opset 7 a 1-D slope is per channel', () => {
  const x = f32([2, 2, 2], [-1, -1, -1, -1, -1, -1, 1, 1]);
  assert.deepEqual(values(run('PRelu', [x, f32([2], [0.5, 2])])), [-0.5, -2, -0.5, -2, -0.5, -2, 1, 1]);
  const legacy = run('PRelu', [x, f32([2], [0.5, 2])], { opset: 6 });
  assert.deepEqual(values(legacy), [-0.5, -0.5, -2, -2, -0.5, -0.5, 1, 1]);
  assert.throws(() => run('PRelu', [f32([2], [1, 1]), f32([3], [1, 1, 1])]), EngineError);
});

test('softmax family: single axis since opset 13, coerced to 2-D at the axis before', () => {
  const x = f32([2, 2, 2], [0, 1, 2, 3, 4, 5, 6, 7]);
  const axis1 = [attr('axis', 'int', 1)];
  const single = numbers(run('Softmax', [x], { attributes: axis1 }));
  const e = 1 / (1 + Math.exp(2));
  assertClose(single, [e, e, 1 - e, 1 - e, e, e, 1 - e, 1 - e]);
  const coerced = numbers(run('Softmax', [x], { attributes: axis1, opset: 11 }));
  const row = [0, 1, 2, 3].map((v) => Math.exp(v));
  const total = row.reduce((a, b) => a + b);
  assertClose(
    coerced,
    [...row, ...row].map((v) => v / total),
  );
  const logSoftmax = numbers(run('LogSoftmax', [x], { attributes: axis1, opset: 11 }));
  assertClose(
    logSoftmax,
    [...row, ...row].map((v) => Math.log(v / total)),
  );
  assertClose(numbers(run('Softmax', [f32([2], [1000, 1000])])), [0.5, 0.5]);
  const hardmax = numbers(run('Hardmax', [f32([2, 3], [1, 3, 3, 2, 0, 2])]));
  assert.deepEqual(hardmax, [0, 1, 0, 1, 0, 0]);
  assert.deepEqual(values(run('Hardmax', [x], { attributes: axis1, opset: 11 })), [0, 0, 0, 1, 0, 0, 0, 1]);
});

test('float16 results are rounded into float16', () => {
  const y = run('Softmax', [tensor('float16', [3], Float32Array.of(0, 1, 2))]);
  assert.equal(y.dtype, 'float16');
  assert.deepEqual(numbers(y), [0.09002685546875, 0.2447509765625, 0.6650390625]);
});

test('unsupported attribute values and dtypes raise EngineError', () => {
  assert.throws(
    () => run('Gelu', [f32([1], [1])], { attributes: [attr('approximate', 'string', 'erf')] }),
    EngineError,
  );
  assert.throws(() => run('Elu', [tensor('int32', [1], Int32Array.of(1))]), EngineError);
});

test('activation multiplications stay exact unless replaceActivation is set', () => {
  const x = f32([4], [-3, -0.7, 0.3, 5]);
  for (const op of ['LeakyRelu', 'HardSwish', 'Gelu', 'Selu']) {
    const exact = numbers(run(op, [x]));
    assert.deepEqual(numbers(run(op, [x], { multiply: new MultiplyContext({ scheme: 'lmul3' }) })), exact, op);
  }
});

test('with replaceActivation, an owned product is the scheme product of whole-tensor operands', () => {
  const x = f32([5], [-300, -0.7, -0.01, 0.3, 5]);
  const alpha = 0.1;
  for (const preset of ['lmul3', 'e4m3', 'e5m2-mul']) {
    const scheme = parseScheme(preset);
    const multiply = new MultiplyContext({ scheme: preset, replaceActivation: true });
    const scale = (amax: number) => (scheme.fp8 ? fp8ScaleExponent(amax, scheme.operandFormat) : 0);
    const leaky = numbers(run('LeakyRelu', [x], { multiply, attributes: [attr('alpha', 'float', alpha)] }));
    const a = Math.fround(alpha);
    const expected = Array.from(x.data as Float32Array, (v) =>
      v < 0 ? mulValues(scheme, v, a, scale(300), scale(a)) : v,
    );
    assert.deepEqual(leaky, expected, preset);

    const gelu = numbers(run('Gelu', [x], { multiply }));
    const gate = Array.from(x.data as Float32Array, (v) => Math.fround((1 + erf(v / Math.SQRT2)) / 2));
    const gateScale = scale(Math.max(...gate.map(Math.abs)));
    const geluExpected = Array.from(x.data as Float32Array, (v, i) =>
      mulValues(scheme, v, gate[i]!, scale(300), gateScale),
    );
    assert.deepEqual(gelu, geluExpected, `${preset} Gelu`);
  }
});
