/**
 * Builds the webview's GraphView from a loaded model: nodes of the main graph and of every If/Loop/Scan body
 * (each body a scope), the values on their edges with dtypes and shapes, and statistics of the weights.
 */
import type { GraphNodeView, GraphScopeView, GraphView, ValueView } from '../protocol/graph';
import { multiplyCategory } from './inspect';
import { getAttribute, type Attribute, type Graph, type Node, type OnnxModel, type ValueInfo } from './model';
import type { Tensor } from './tensor';

const MAX_ATTRIBUTE_TEXT = 120;

export function buildGraphView(model: OnnxModel): GraphView {
  const builder = new GraphViewBuilder();
  builder.addGraph(model.graph, { id: 0, label: 'main' }, new Map());
  return { scopes: builder.scopes, nodes: builder.nodes, values: builder.values };
}

class GraphViewBuilder {
  readonly scopes: GraphScopeView[] = [];
  readonly nodes: GraphNodeView[] = [];
  readonly values: ValueView[] = [];

  /** `outer`: the values of the enclosing scopes a body may read, by name (empty for the main graph). */
  addGraph(graph: Graph, scope: GraphScopeView, outer: ReadonlyMap<string, ValueView>): void {
    this.scopes.push(scope);
    const isMain = scope.id === 0;
    const ids = new Map<string, number>();
    const declared = new Map<string, ValueInfo>();
    for (const info of [...graph.inputs, ...graph.outputs, ...graph.valueInfo]) declared.set(info.name, info);
    const add = (name: string, kind: ValueView['kind'], tensor?: Tensor): number => {
      const known = ids.get(name);
      if (known !== undefined) return known;
      const id = this.values.length;
      const enclosing = declared.has(name) || tensor ? undefined : outer.get(name);
      // A value read from an enclosing scope keeps what is known there (a weight stays a weight, with stats).
      this.values.push(
        enclosing
          ? { ...enclosing, id, scope: scope.id, kind: enclosing.kind === 'weight' ? 'weight' : 'intermediate' }
          : { id, name, scope: scope.id, kind, ...describe(declared.get(name), tensor) },
      );
      ids.set(name, id);
      return id;
    };
    for (const tensor of graph.initializers) add(tensor.name, 'weight', tensor);
    for (const input of graph.inputs) if (!input.isInitializer) add(input.name, isMain ? 'input' : 'intermediate');
    const outputs = new Set(graph.outputs.map((o) => o.name));
    const visible = () => {
      const names = new Map(outer);
      for (const [name, id] of ids) names.set(name, this.values[id]!);
      return names;
    };
    for (const node of graph.nodes) {
      const constant = node.opType === 'Constant' && node.domain === '' ? constantTensor(node) : undefined;
      const id = this.nodes.length;
      const subgraphs: number[] = [];
      const view: GraphNodeView = {
        id,
        name: node.name,
        opType: node.opType,
        domain: node.domain,
        scope: scope.id,
        // Values from an enclosing scope appear as inputs of this scope, as the body reads them.
        inputs: node.inputs.map((name) => (name === '' ? -1 : add(name, 'intermediate'))),
        outputs: node.outputs.map((name) =>
          add(name, outputs.has(name) && isMain ? 'output' : constant ? 'weight' : 'intermediate', constant),
        ),
        attributes: node.attributes.filter((a) => a.type !== 'graph' && a.type !== 'graphs').map(attributeText),
        subgraphs,
        ...(multiplyCategory(node) ? { multiplies: multiplyCategory(node) } : {}),
      };
      this.nodes.push(view);
      for (const attribute of node.attributes) {
        if (attribute.refAttrName !== undefined) continue;
        const bodies =
          attribute.type === 'graph' ? [attribute.value] : attribute.type === 'graphs' ? attribute.value : [];
        bodies.forEach((body, k) => {
          const bodyScope = {
            id: this.scopes.length,
            label: bodyLabel(node, attribute, k, bodies.length),
            ownerNode: id,
          };
          subgraphs.push(bodyScope.id);
          this.addGraph(body, bodyScope, visible());
        });
      }
    }
    for (const name of outputs) add(name, isMain ? 'output' : 'intermediate');
  }
}

function bodyLabel(node: Node, attribute: Attribute, index: number, count: number): string {
  return `${node.name}/${attribute.name}${count > 1 ? `[${index}]` : ''}`;
}

function constantTensor(node: Node): Tensor | undefined {
  const value = getAttribute(node, 'value');
  return value && value.refAttrName === undefined && value.type === 'tensor' ? value.value : undefined;
}

function describe(
  info: ValueInfo | undefined,
  tensor: Tensor | undefined,
): Pick<ValueView, 'dtype' | 'shape' | 'stats'> {
  if (tensor) {
    const stats = weightStats(tensor);
    return { dtype: tensor.dtype, shape: tensor.dims, ...(stats ? { stats } : {}) };
  }
  const type = info?.type;
  if (type?.kind !== 'tensor') return type ? { dtype: type.kind } : {};
  return { ...(type.elemType ? { dtype: type.elemType } : {}), ...(type.shape ? { shape: type.shape } : {}) };
}

function weightStats(tensor: Tensor): ValueView['stats'] | undefined {
  const data = tensor.data;
  if (!(data instanceof Float32Array || data instanceof Float64Array) || data.length === 0) return undefined;
  if (tensor.dtype === 'complex64' || tensor.dtype === 'complex128') return undefined;
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  let zeros = 0;
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (v < min) min = v;
    if (v > max) max = v;
    if (v === 0) zeros++;
    sum += v;
  }
  const mean = sum / data.length;
  let squares = 0;
  for (let i = 0; i < data.length; i++) squares += (data[i]! - mean) ** 2;
  return { count: data.length, min, max, mean, std: Math.sqrt(squares / data.length), zeros };
}

function attributeText(attribute: Attribute): { name: string; value: string } {
  if (attribute.refAttrName !== undefined) return { name: attribute.name, value: `@${attribute.refAttrName}` };
  const text = (() => {
    switch (attribute.type) {
      case 'float':
      case 'int':
        return String(attribute.value);
      case 'string':
        return JSON.stringify(attribute.value);
      case 'floats':
      case 'ints':
        return `[${attribute.value.join(', ')}]`;
      case 'strings':
        return `[${attribute.value.map((s) => JSON.stringify(s)).join(', ')}]`;
      case 'tensor':
        return `tensor ${attribute.value.dtype} [${attribute.value.dims.join('×')}]`;
      case 'tensors':
        return `${attribute.value.length} tensors`;
      default:
        return attribute.type;
    }
  })();
  return {
    name: attribute.name,
    value: text.length > MAX_ATTRIBUTE_TEXT ? `${text.slice(0, MAX_ATTRIBUTE_TEXT)}…` : text,
  };
}
