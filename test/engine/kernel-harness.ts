/** Runs one kernel outside a graph, as the executor would call it: for kernel unit tests. */
import { Attributes } from '../../src/engine/attributes';
import { MultiplyContext } from '../../src/engine/multiply';
import { KERNELS } from '../../src/engine/registry';
import type { KernelContext, Value } from '../../src/engine/types';
import type { Attribute, Node } from '../../src/onnx';

export interface KernelCall {
  readonly attributes?: Attribute[];
  readonly multiply?: MultiplyContext;
  readonly opset?: number;
  /** How many outputs the node declares (kernels such as Split read it). */
  readonly outputs?: number;
}

export function runKernel(
  opType: string,
  inputs: readonly (Value | undefined)[],
  call: KernelCall = {},
): (Value | undefined)[] {
  const node: Node = {
    name: 'n',
    nameGenerated: false,
    opType,
    domain: '',
    inputs: inputs.map((_, i) => `in${i}`),
    outputs: Array.from({ length: call.outputs ?? 1 }, (_, i) => `out${i}`),
    attributes: call.attributes ?? [],
    docString: '',
  };
  const ctx: KernelContext = {
    node,
    attributes: new Attributes(node),
    opset: call.opset ?? 22,
    multiply: call.multiply ?? MultiplyContext.exact(),
    runSubgraph: () => [],
  };
  const kernel = KERNELS.get(opType);
  if (!kernel) throw new Error(`no kernel for ${opType}`);
  return kernel(inputs, ctx);
}
