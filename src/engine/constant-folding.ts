/**
 * Constant folding. A node that only moves, selects or converts elements (it never multiplies, so no
 * multiply scheme can change its result) and whose inputs are all constants gives the same outputs in
 * every run: the Session computes them once, when it plans the node's graph, and the executor hands out
 * these values instead of running the kernel again (observers are still shown the node). Constants are
 * initializers, Constant nodes and folded outputs, also those of enclosing graphs read by a subgraph.
 *
 * Typical folds are shape arithmetic and weights rearranged at run time (Silero's LSTM reorders its gate
 * blocks with Slice and Concat): folded, such weights are the same arrays in every run, so the per-array
 * caches (operand preparation, transposed recurrent weights) hold across runs.
 */
import type { Graph, Node, Tensor } from '../onnx';
import { withdrawFromPool } from './buffers';
import { sizeOf } from './tensors';
import type { Value } from './types';

/**
 * ai.onnx operators whose results depend on their inputs and attributes alone, none of them a
 * multiplication: their kernels (kernels/shape-*.ts) never read the node's multiply context.
 */
const FOLDABLE: ReadonlySet<string> = new Set([
  'Cast',
  'Concat',
  'Constant',
  'ConstantOfShape',
  'Expand',
  'Flatten',
  'Gather',
  'Identity',
  'Reshape',
  'Shape',
  'Size',
  'Slice',
  'Split',
  'Squeeze',
  'Tile',
  'Transpose',
  'Unsqueeze',
]);

/** Folded values live as long as the Session: larger ones (a ConstantOfShape of a big shape) are left to runs. */
const MAX_FOLDED_ELEMENTS = 1 << 22;

/** A node's kernel on the given inputs; throws what the kernel throws. */
export type Evaluate = (node: Node, inputs: readonly (Value | undefined)[]) => (Value | undefined)[];

export interface FoldedGraph {
  /** Per node of the executed order, its outputs when they were folded. */
  readonly outputs: readonly ((Value | undefined)[] | undefined)[];
  /** Every constant of the graph by name (its subgraphs see these, less the names they define). */
  readonly constants: ReadonlyMap<string, Value>;
}

/**
 * The constants a graph starts with: `outer` (the enclosing graph's, absent for the main graph) less the
 * names the graph binds or computes itself, plus its initializers except those `bound` by the caller (the
 * main graph's inputs may override their initializer defaults; a body's formal inputs shadow its own).
 */
export function initialConstants(
  graph: Graph,
  initializers: ReadonlyMap<string, Tensor>,
  bound: ReadonlySet<string>,
  outer: ReadonlyMap<string, Value>,
): Map<string, Value> {
  const constants = new Map(outer);
  for (const name of bound) constants.delete(name);
  for (const node of graph.nodes) for (const name of node.outputs) constants.delete(name);
  for (const [name, t] of initializers) if (!bound.has(name)) constants.set(name, t);
  return constants;
}

/** Folds, in execution order, every foldable node whose inputs are constants (adding its outputs to them). */
export function foldConstants(order: readonly Node[], constants: Map<string, Value>, evaluate: Evaluate): FoldedGraph {
  const outputs = order.map((node) => {
    if (!isFoldable(node, constants)) return undefined;
    const folded = tryEvaluate(node, evaluate, constants);
    if (!folded) return undefined;
    node.outputs.forEach((name, i) => {
      const value = folded[i];
      if (name !== '' && value !== undefined) constants.set(name, value);
    });
    return folded;
  });
  return { outputs, constants };
}

function isFoldable(node: Node, constants: ReadonlyMap<string, Value>): boolean {
  return (
    (node.domain === '' || node.domain === 'ai.onnx') &&
    FOLDABLE.has(node.opType) &&
    node.inputs.every((name) => name === '' || constants.has(name))
  );
}

/**
 * The node's outputs, taken out of the buffer pool's reach (no run may recycle them), or undefined when
 * the kernel fails (the error is left to the runs that execute the node) or a result is too large to keep.
 */
function tryEvaluate(
  node: Node,
  evaluate: Evaluate,
  constants: ReadonlyMap<string, Value>,
): (Value | undefined)[] | undefined {
  let outputs: (Value | undefined)[];
  try {
    outputs = evaluate(
      node,
      node.inputs.map((name) => (name === '' ? undefined : constants.get(name))),
    );
  } catch {
    return undefined;
  }
  const tooLarge = outputs.some((v) => v !== undefined && (Array.isArray(v) || sizeOf(v.dims) > MAX_FOLDED_ELEMENTS));
  if (tooLarge) return undefined;
  for (const value of outputs) withdrawFromPool(value);
  return outputs;
}
