/** The engine's contract between the executor and the operator kernels. */
import type { DType, Graph, Node, Tensor, TensorDataByDType } from '../onnx';
import type { Attributes } from './attributes';
import type { MultiplyContext } from './multiply';

/** A runtime value: a tensor or a sequence of tensors. Absent optional values are `undefined`. */
export type Value = Tensor | Tensor[];

export interface KernelContext {
  readonly node: Node;
  readonly attributes: Attributes;
  /** The ai.onnx opset version the model imports (kernels whose semantics changed between versions need it). */
  readonly opset: number;
  /** How this node's multiplications are carried out (exact fp32, or a scheme of the numerics SPEC). */
  readonly multiply: MultiplyContext;
  /** Runs a subgraph (If/Loop/Scan body) with these bindings on top of the current scope; outputs in order. */
  runSubgraph(graph: Graph, bindings: ReadonlyMap<string, Value | undefined>): (Value | undefined)[];
}

/** An operator implementation: inputs in node order ('' inputs are `undefined`), outputs in node order. */
export type Kernel = (inputs: readonly (Value | undefined)[], ctx: KernelContext) => (Value | undefined)[];

/** An error in the model or its inputs found while running (shape mismatch, bad attribute, …). */
export class EngineError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EngineError';
  }
}

/** The caller aborted the run (Ctrl-C, a Cancel button). */
export class CancelledError extends EngineError {
  constructor() {
    super('cancelled');
    this.name = 'CancelledError';
  }
}

/** A tensor made by the engine (engine values carry no name). */
export function tensor<D extends DType>(dtype: D, dims: readonly number[], data: TensorDataByDType[D]): Tensor {
  return { name: '', dtype, dims: [...dims], data } as Tensor;
}
