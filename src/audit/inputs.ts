/** Model inputs for a run: the user's TensorProto files, or seeded synthetic tensors from the input specs. */
import type { Dim, DType, GraphInput, Tensor } from '../onnx';
import { allocate } from '../engine/tensors';
import { EngineError } from '../engine/types';
import { seededNormal } from './random';

/** Concrete sizes for symbolic dimensions, by name ("batch" → 1); unnamed unknown dims need `defaultDim`. */
export interface DimBindings {
  readonly named: ReadonlyMap<string, number>;
  readonly defaultDim?: number;
}

export function concreteShape(input: GraphInput, bindings: DimBindings): number[] {
  if (!input.type || input.type.kind !== 'tensor' || !input.type.shape) {
    throw new EngineError(`input "${input.name}" has no declared tensor shape: give its tensor in a file`);
  }
  return input.type.shape.map((dim: Dim) => {
    if (typeof dim === 'number' && dim >= 0) return dim;
    const bound = typeof dim === 'string' ? bindings.named.get(dim) : undefined;
    const size = bound ?? bindings.defaultDim;
    if (size === undefined) {
      throw new EngineError(
        `input "${input.name}" has a symbolic dimension ${dim === null ? '(unnamed)' : `"${dim}"`}: set it with --dim ${dim ?? 'NAME'}=SIZE`,
      );
    }
    return size;
  });
}

/**
 * Seeded synthetic tensor for an input: standard normal values for floats, zeros for integers and
 * booleans (indices and flags rarely tolerate random values).
 */
export function syntheticInput(input: GraphInput, bindings: DimBindings, seed: number): Tensor {
  const dims = concreteShape(input, bindings);
  const dtype = input.type?.kind === 'tensor' ? input.type.elemType : null;
  if (!dtype) throw new EngineError(`input "${input.name}" has no element type`);
  const t = { ...allocate(dtype as DType, dims), name: input.name } as Tensor;
  if (t.data instanceof Float32Array || t.data instanceof Float64Array) {
    const normal = seededNormal(seed);
    for (let i = 0; i < t.data.length; i++) t.data[i] = normal();
    if (t.data instanceof Float32Array) for (let i = 0; i < t.data.length; i++) t.data[i] = Math.fround(t.data[i]!);
  }
  return t;
}

/** How the audit's input samples were made, recorded in plans so `verify` can rebuild them. */
export type SampleSpec =
  | {
      readonly kind: 'synthetic';
      readonly seed: number;
      readonly samples: number;
      readonly dims: Record<string, number>;
      readonly defaultDim?: number;
    }
  | { readonly kind: 'files'; readonly dir: string };

/** Synthetic samples: sample s of input k uses seed + 1000·s + k. */
export function syntheticSamples(
  inputs: readonly GraphInput[],
  spec: Extract<SampleSpec, { kind: 'synthetic' }>,
): Map<string, Tensor>[] {
  const bindings: DimBindings = { named: new Map(Object.entries(spec.dims)), defaultDim: spec.defaultDim };
  return Array.from(
    { length: spec.samples },
    (_, s) =>
      new Map(inputs.map((input, k) => [input.name, syntheticInput(input, bindings, spec.seed + 1000 * s + k)])),
  );
}
