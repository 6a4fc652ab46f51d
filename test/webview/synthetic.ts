/**
 * A synthetic transformer-like GraphView for scale tests and the graph benchmark: 50 nodes per encoder layer
 * (attention with query/key/value projections, the exporters' shape arithmetic, feed-forward, norms), named
 * either in namespaces ("/encoder/layer.3/attention/query/MatMul") or flat ("MatMul_1234").
 */
import type { GraphNodeView, GraphView, ValueView } from '../../src/protocol/graph';

export function syntheticGraph(layers: number, namespaced: boolean): GraphView {
  const nodes: GraphNodeView[] = [];
  const values: ValueView[] = [];
  const value = (name: string, kind: ValueView['kind'], shape: number[]): number => {
    const id = values.length;
    const stats =
      kind === 'weight'
        ? { count: shape.reduce((a, b) => a * b, 1), min: -0.2, max: 0.2, mean: 0, std: 0.05, zeros: 0 }
        : undefined;
    values.push({ id, name, scope: 0, kind, dtype: 'float32', shape, ...(stats ? { stats } : {}) });
    return id;
  };
  const add = (path: string, opType: string, inputs: number[], weight?: number[]): number => {
    const id = nodes.length;
    const name = namespaced ? `${path}/${opType}` : `${opType}_${id}`;
    const weights = weight ? [value(`${name}.weight`, 'weight', weight)] : [];
    const output = value(`${name}_output_0`, 'intermediate', [1, 128, 768]);
    const multiplies = ['MatMul', 'Mul'].includes(opType)
      ? ('multiply' as const)
      : opType === 'LayerNormalization'
        ? ('normalization' as const)
        : opType === 'Softmax'
          ? ('activation' as const)
          : undefined;
    nodes.push({
      id,
      name,
      opType,
      domain: '',
      scope: 0,
      inputs: [...inputs, ...weights],
      outputs: [output],
      attributes: opType === 'Transpose' ? [{ name: 'perm', value: '[0, 2, 1, 3]' }] : [],
      subgraphs: [],
      ...(multiplies ? { multiplies } : {}),
    });
    return output;
  };
  let x = value('input_ids', 'input', [1, 128, 768]);
  for (let l = 0; l < layers; l++) {
    const layer = `/encoder/layer.${l}`;
    const shape = (from: number, part: string) => {
      let s = add(`${layer}/attention/${part}/shape`, 'Shape', [from]);
      s = add(`${layer}/attention/${part}/shape`, 'Gather', [s]);
      s = add(`${layer}/attention/${part}/shape`, 'Unsqueeze', [s]);
      s = add(`${layer}/attention/${part}/shape`, 'Concat', [s]);
      return s;
    };
    const projection = (part: string) => {
      let h = add(`${layer}/attention/${part}`, 'MatMul', [x], [768, 768]);
      h = add(`${layer}/attention/${part}`, 'Add', [h], [768]);
      h = add(`${layer}/attention/${part}`, 'Reshape', [h, shape(h, part)]);
      return add(`${layer}/attention/${part}`, 'Transpose', [h]);
    };
    const q = projection('query');
    const k = projection('key');
    const v = projection('value');
    let s = add(`${layer}/attention/scores`, 'MatMul', [q, k]);
    s = add(`${layer}/attention/scores`, 'Div', [s]);
    s = add(`${layer}/attention/scores`, 'Add', [s]);
    s = add(`${layer}/attention/scores`, 'Softmax', [s]);
    let c = add(`${layer}/attention/context`, 'MatMul', [s, v]);
    c = add(`${layer}/attention/context`, 'Transpose', [c]);
    c = add(`${layer}/attention/context`, 'Reshape', [c, shape(c, 'context')]);
    let o = add(`${layer}/attention/output`, 'MatMul', [c], [768, 768]);
    o = add(`${layer}/attention/output`, 'Add', [o], [768]);
    o = add(`${layer}/attention/output`, 'Add', [o, x]);
    o = add(`${layer}/attention/output`, 'LayerNormalization', [o], [768]);
    let f = add(`${layer}/ffn`, 'MatMul', [o], [768, 3072]);
    f = add(`${layer}/ffn`, 'Add', [f], [3072]);
    const g = add(`${layer}/ffn/gelu`, 'Mul', [f]);
    f = add(`${layer}/ffn/gelu`, 'Erf', [g]);
    f = add(`${layer}/ffn/gelu`, 'Add', [f]);
    f = add(`${layer}/ffn/gelu`, 'Mul', [f, g]);
    f = add(`${layer}/ffn`, 'MatMul', [f], [3072, 768]);
    f = add(`${layer}/ffn`, 'Add', [f], [768]);
    f = add(`${layer}/output`, 'Add', [f, o]);
    for (let extra = 0; extra < 1; extra++) f = add(`${layer}/output`, 'Identity', [f]);
    x = add(`${layer}/output`, 'LayerNormalization', [f], [768]);
  }
  return { scopes: [{ id: 0, label: 'main' }], nodes, values };
}
