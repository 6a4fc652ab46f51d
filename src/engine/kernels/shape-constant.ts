/** Kernels that make tensors from attributes and shapes: Constant, ConstantOfShape, Range, EyeLike. */
import type { Tensor } from '../../onnx';
import { dtypeFromCode } from '../../onnx/dtype';
import { allocate, densify, expectTensor, int64Data, isBigIntDType } from '../tensors';
import { EngineError, tensor, type Kernel, type KernelContext } from '../types';
import { narrowRounding } from './shape-cast';
import { intsOf } from './shape-copy';

/** The one value attribute of a Constant node, as a tensor. */
function constantValue(ctx: KernelContext): Tensor {
  const [attribute, ...others] = ctx.node.attributes;
  if (!attribute || others.length > 0) throw new EngineError('a Constant needs exactly one value attribute');
  const { attributes } = ctx;
  switch (attribute.name) {
    case 'value': {
      const t = attributes.tensor('value');
      return tensor(t.dtype, t.dims, t.data as never);
    }
    case 'sparse_value':
      if (attribute.type !== 'sparse-tensor' || attribute.refAttrName !== undefined) break;
      return densify(attribute.value);
    case 'value_float':
      return tensor('float32', [], Float32Array.of(attributes.float('value_float')));
    case 'value_floats': {
      const values = attributes.floats('value_floats');
      return tensor('float32', [values.length], Float32Array.from(values));
    }
    case 'value_int':
      return tensor('int64', [], BigInt64Array.of(BigInt(attributes.int('value_int'))));
    case 'value_ints': {
      const values = attributes.ints('value_ints');
      return tensor('int64', [values.length], int64Data(values));
    }
    case 'value_string':
      return tensor('string', [], [attributes.string('value_string')]);
    case 'value_strings': {
      const values = attributes.strings('value_strings');
      return tensor('string', [values.length], [...values]);
    }
  }
  throw new EngineError(`attribute "${attribute.name}" (${attribute.type}) is not a Constant value`);
}

const Constant: Kernel = (_, ctx) => [constantValue(ctx)];

const ConstantOfShape: Kernel = (inputs, ctx) => {
  const dims = intsOf(inputs[0], 'input');
  if (dims.some((d) => d < 0 || !Number.isInteger(d))) throw new EngineError(`invalid shape [${dims.join(', ')}]`);
  const value = ctx.attributes.has('value') ? ctx.attributes.tensor('value') : undefined;
  if (value && value.data.length !== 1) throw new EngineError('value must hold exactly one element');
  const out = allocate(value?.dtype ?? 'float32', dims);
  if (value) (out.data as Float32Array).fill((value.data as Float32Array)[0]!);
  return [out];
};

/** start, start + delta, … below limit (above, for negative delta), accumulated in the element type. */
const Range: Kernel = (inputs) => {
  const [start, limit, delta] = (['start', 'limit', 'delta'] as const).map((name, i) => {
    const t = expectTensor(inputs[i], name);
    if (t.data.length !== 1) throw new EngineError(`${name} must be a scalar`);
    return t;
  }) as [Tensor, Tensor, Tensor];
  const first = start.data[0] as number | bigint;
  const step = delta.data[0] as number | bigint;
  const span = Number(limit.data[0]) - Number(first);
  if (Number(step) === 0) throw new EngineError('delta cannot be 0');
  const count = Math.max(0, Math.ceil(span / Number(step)));
  const out = allocate(start.dtype, [count]);
  if (isBigIntDType(start.dtype)) {
    const values = out.data as BigInt64Array;
    for (let i = 0, v = first as bigint; i < count; i++, v += step as bigint) values[i] = v;
    return [out];
  }
  // As the operator's function body does: each element is the previous plus delta, in the element type.
  const values = out.data as Float32Array;
  const round = narrowRounding(start.dtype) ?? ((v: number) => v);
  let v = first as number;
  for (let i = 0; i < count; i++) {
    values[i] = v;
    v = round(values[i]! + (step as number));
  }
  return [out];
};

const EyeLike: Kernel = (inputs, ctx) => {
  const input = expectTensor(inputs[0], 'input');
  if (input.dims.length !== 2) throw new EngineError(`input must be 2-D, got [${input.dims.join(', ')}]`);
  const code = ctx.attributes.int('dtype', 0);
  const dtype = code === 0 ? input.dtype : dtypeFromCode(code);
  if (!dtype || dtype === 'string') throw new EngineError(`dtype ${code} is not a numeric element type`);
  const k = ctx.attributes.int('k', 0);
  const [rows, cols] = input.dims as [number, number];
  const out = allocate(dtype, [rows, cols]);
  const data = out.data as Float32Array;
  const one = (isBigIntDType(dtype) ? 1n : 1) as number;
  for (let i = Math.max(0, -k); i < rows && i + k < cols; i++) data[i * cols + i + k] = one;
  return [out];
};

export const constantKernels: Record<string, Kernel> = { Constant, ConstantOfShape, Range, EyeLike };
