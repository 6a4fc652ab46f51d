/**
 * Extra kernels: what the ONNX conformance cases cannot show. Swish's gated product belongs to the
 * `activation` multiply group (exact by default, the scheme's product with replaceActivation), empty
 * optionals, and the clear errors for inputs the kernels refuse.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mulValues, parseScheme } from '../../src/arith';
import { MultiplyContext } from '../../src/engine/multiply';
import { EngineError, tensor } from '../../src/engine/types';
import type { Attribute, Tensor } from '../../src/onnx';
import { runKernel } from './kernel-harness';

const f32 = (dims: number[], values: number[]) => tensor('float32', dims, Float32Array.from(values));
const attr = (name: string, type: Attribute['type'], value: unknown) => ({ name, type, value }) as Attribute;
const numbers = (t: Tensor) => Array.from(t.data as ArrayLike<number>);
const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));

const X = [-2.5, -0.75, 0.5, 1.75, 3];

test('Swish multiplies x by its gate exactly unless activation products are replaced', () => {
  const x = f32([5], X);
  const lmul = (replaceActivation: boolean) => new MultiplyContext({ scheme: 'lmul3', replaceActivation });
  const exact = runKernel('Swish', [x], { multiply: lmul(false), opset: 24 })[0] as Tensor;
  assert.deepEqual(
    numbers(exact),
    X.map((v) => Math.fround(v * Math.fround(sigmoid(v)))),
  );
  const replaced = runKernel('Swish', [x], { multiply: lmul(true), opset: 24 })[0] as Tensor;
  const scheme = parseScheme('lmul3');
  assert.deepEqual(
    numbers(replaced),
    X.map((v) => mulValues(scheme, v, Math.fround(sigmoid(v)))),
  );
  assert.notDeepEqual(numbers(replaced), numbers(exact));
});

test('an empty optional has no element, and getting it is an error', () => {
  const [has] = runKernel('OptionalHasElement', [undefined]) as Tensor[];
  assert.deepEqual(numbers(has!), [0]);
  assert.equal(runKernel('Optional', [undefined])[0], undefined);
  assert.throws(() => runKernel('OptionalGetElement', [undefined]), EngineError);
});

test('BitCast refuses a change of element width', () => {
  const to = attr('to', 'int', 7); // int64
  assert.throws(() => runKernel('BitCast', [f32([2], [1, 2])], { attributes: [to] }), /element width/);
});

test('QuantizeLinear rejects a per-axis scale of the wrong length', () => {
  const scale = f32([3], [1, 2, 3]);
  assert.throws(
    () => runKernel('QuantizeLinear', [f32([2, 2], [1, 2, 3, 4]), scale], { attributes: [attr('axis', 'int', 1)] }),
    /per-axis scale/,
  );
});
