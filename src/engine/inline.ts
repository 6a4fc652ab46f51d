/**
 * Model-local functions are inlined before execution: each call node is replaced by the function body
 * with its values renamed into the caller's scope and attribute references resolved from the call.
 */
import {
  functionKey,
  subgraphsOf,
  type Attribute,
  type Graph,
  type Node,
  type OnnxFunction,
  type OnnxModel,
} from '../onnx';
import { EngineError } from './types';

const MAX_DEPTH = 64;

export function inlineFunctions(model: OnnxModel): Graph {
  if (model.functions.size === 0) return model.graph;
  return inlineGraph(model.graph, model.functions, 0);
}

function inlineGraph(graph: Graph, functions: OnnxModel['functions'], depth: number): Graph {
  const nodes = graph.nodes.flatMap((node) => inlineNode(node, functions, depth));
  return { ...graph, nodes };
}

function inlineNode(node: Node, functions: OnnxModel['functions'], depth: number): Node[] {
  const withSubgraphs = mapSubgraphs(node, (g) => inlineGraph(g, functions, depth));
  const fn = functions.get(functionKey(node.domain, node.opType));
  if (!fn) return [withSubgraphs];
  if (depth >= MAX_DEPTH)
    throw new EngineError(`function "${fn.name}" calls itself more than ${MAX_DEPTH} levels deep`);
  return expandCall(withSubgraphs, fn).flatMap((inner) => inlineNode(inner, functions, depth + 1));
}

function expandCall(call: Node, fn: OnnxFunction): Node[] {
  const rename = new Map<string, string>();
  fn.inputs.forEach((formal, i) => rename.set(formal, call.inputs[i] ?? ''));
  fn.outputs.forEach((formal, i) => rename.set(formal, call.outputs[i] || `${call.name}/${formal}`));
  const local = (name: string) => {
    if (name === '') return '';
    let renamed = rename.get(name);
    if (renamed === undefined) {
      renamed = `${call.name}/${name}`;
      rename.set(name, renamed);
    }
    return renamed;
  };
  const callAttributes = new Map(call.attributes.map((a) => [a.name, a]));
  return fn.nodes.map((node, index) => {
    const attributes = node.attributes.flatMap((a): Attribute[] => {
      if (a.refAttrName === undefined) return [a];
      const bound = callAttributes.get(a.refAttrName);
      return bound ? [{ ...bound, name: a.name } as Attribute] : [];
    });
    const renamed: Node = {
      ...node,
      name: `${call.name}/${node.nameGenerated ? `${node.opType}_${index}` : node.name}`,
      inputs: node.inputs.map(local),
      outputs: node.outputs.map(local),
      attributes,
    };
    return mapSubgraphs(renamed, (g) => renameOuterReads(g, rename));
  });
}

/** Renames, inside a subgraph of a function body, the names it reads from the function's scope. */
function renameOuterReads(graph: Graph, rename: ReadonlyMap<string, string>): Graph {
  const map = (name: string) => rename.get(name) ?? name;
  return {
    ...graph,
    nodes: graph.nodes.map((node) =>
      mapSubgraphs({ ...node, inputs: node.inputs.map(map) }, (g) => renameOuterReads(g, rename)),
    ),
    outputs: graph.outputs.map((o) => ({ ...o, name: map(o.name) })),
  };
}

function mapSubgraphs(node: Node, f: (graph: Graph) => Graph): Node {
  if (subgraphsOf(node).length === 0) return node;
  const attributes = node.attributes.map((a): Attribute => {
    if (a.refAttrName !== undefined) return a;
    if (a.type === 'graph') return { ...a, value: f(a.value) };
    if (a.type === 'graphs') return { ...a, value: a.value.map(f) };
    return a;
  });
  return { ...node, attributes };
}
