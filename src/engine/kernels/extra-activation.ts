/**
 * Swish (opset 24) and SwiGLU (opset 28). Their gated products x·sigmoid(alpha·x) and Swish(a)·b are the
 * activation multiplications of SPEC §6 (group `activation`, replaced only when that setting is on) and run
 * like the final Mul node of the ops' expanded forms; alpha·x inside the sigmoid is computed exactly.
 */
import type { Tensor } from '../../onnx';
import { expectTensor } from '../tensors';
import type { Kernel, KernelContext } from '../types';
import { mapFloat } from './elementwise-core';
import { kernels as elementwise } from './elementwise';

/** a·b with numpy broadcasting, multiplied as the activation group of the node's scheme. */
function activationProduct(a: Tensor, b: Tensor, ctx: KernelContext): Tensor {
  const multiply = ctx.multiply.forGroup('activation');
  return elementwise.Mul!([a, b], { ...ctx, multiply })[0] as Tensor;
}

function swish(x: Tensor, ctx: KernelContext): Tensor {
  const alpha = ctx.attributes.float('alpha', 1);
  const gate = mapFloat(x, (v) => 1 / (1 + Math.exp(-alpha * v)));
  return activationProduct(x, gate, ctx);
}

const Swish: Kernel = (inputs, ctx) => [swish(expectTensor(inputs[0], 'X'), ctx)];

/** SwiGLU(a, b) = Swish(a)·b. */
const SwiGLU: Kernel = (inputs, ctx) => {
  const gated = swish(expectTensor(inputs[0], 'A'), ctx);
  return [activationProduct(gated, expectTensor(inputs[1], 'B'), ctx)];
};

export const activationKernels: Record<string, Kernel> = { Swish, SwiGLU };
