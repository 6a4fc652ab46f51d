/**
 * Multiplications and additions a node performs, counted from the shapes it actually ran with (SPEC §6
 * groups), plus the bytes it reads and writes — the inputs of the energy model.
 */
import { ACTIVATION_PRODUCTS_PER_ELEMENT, type Node } from '../onnx';
import { sizeOf } from '../engine/tensors';
import type { Value } from '../engine/types';
import type { MultiplyGroup } from '../engine/multiply';

export interface OpCounts {
  /** Multiplications the scheme replaces, by SPEC §6 group. */
  readonly multiplies: Readonly<Record<MultiplyGroup, number>>;
  /** Additions that accumulate products (priced in the accumulation format). */
  readonly accumulations: number;
  /** Elements of constant inputs (weights) and of variable inputs and outputs (activations). */
  readonly weightElements: number;
  readonly activationElements: number;
}

const dimsOf = (v: Value | undefined): number[] | null => (v === undefined || Array.isArray(v) ? null : v.dims);
const elementsOf = (v: Value | undefined): number => {
  const dims = dimsOf(v);
  return dims ? sizeOf(dims) : 0;
};

/** Multiply-accumulate count of the node's main products (the `multiply` group). */
function macs(node: Node, inputs: readonly (Value | undefined)[], outputs: readonly (Value | undefined)[]): number {
  const out = elementsOf(outputs[0]);
  const a = dimsOf(inputs[0]);
  const b = dimsOf(inputs[1]);
  switch (node.opType) {
    case 'MatMul':
      return a && a.length > 0 ? out * a[a.length - 1]! : 0;
    case 'Gemm': {
      const transA = node.attributes.some((x) => x.name === 'transA' && x.refAttrName === undefined && x.value === 1);
      return a && a.length === 2 ? out * (transA ? a[0]! : a[1]!) : 0;
    }
    case 'Conv':
      // Each output element is a dot product over Cin/group × kernel window = the weight's per-filter size.
      return b ? out * sizeOf(b.slice(1)) : 0;
    case 'ConvTranspose':
      // Each input element is scattered through Cout/group × kernel window.
      return b ? elementsOf(inputs[0]) * sizeOf(b.slice(1)) : 0;
    case 'Mul':
      return out;
    case 'Einsum':
    case 'Attention':
      return einsumLikeMacs(inputs, outputs);
    default:
      return 0;
  }
}

/**
 * For Einsum and Attention, a conservative count from shapes alone: output elements × the largest input
 * dimension not present in the output's shape (the contracted one).
 */
function einsumLikeMacs(inputs: readonly (Value | undefined)[], outputs: readonly (Value | undefined)[]): number {
  const outDims = new Set(dimsOf(outputs[0]) ?? []);
  const contracted = inputs.flatMap((v) => dimsOf(v) ?? []).filter((d) => !outDims.has(d));
  return elementsOf(outputs[0]) * Math.max(1, ...contracted);
}

const NORMALIZATION_MULTIPLIES_PER_ELEMENT: Record<string, number> = {
  BatchNormalization: 1,
  LayerNormalization: 2,
  InstanceNormalization: 2,
  GroupNormalization: 2,
  RMSNormalization: 2,
};

export function countNode(
  node: Node,
  inputs: readonly (Value | undefined)[],
  outputs: readonly (Value | undefined)[],
  isConstant: (name: string) => boolean,
): OpCounts {
  const mainMacs = macs(node, inputs, outputs);
  const out = elementsOf(outputs[0]);
  const gemmScale = node.opType === 'Gemm' ? out : 0;
  const multiplies: Record<MultiplyGroup, number> = {
    multiply: mainMacs,
    normalization: (NORMALIZATION_MULTIPLIES_PER_ELEMENT[node.opType] ?? 0) * out + gemmScale,
    activation: (ACTIVATION_PRODUCTS_PER_ELEMENT[node.opType] ?? 0) * out,
  };
  let weightElements = 0;
  let activationElements = outputs.reduce((sum, v) => sum + elementsOf(v), 0);
  node.inputs.forEach((name, i) => {
    if (name === '') return;
    if (isConstant(name)) weightElements += elementsOf(inputs[i]);
    else activationElements += elementsOf(inputs[i]);
  });
  const accumulations = node.opType === 'Mul' ? 0 : mainMacs;
  return { multiplies, accumulations, weightElements, activationElements };
}
