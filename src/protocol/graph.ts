/**
 * The graph as the webview draws it: a flat, serialisable view of a loaded model built in the host's worker
 * (src/onnx/graphView.ts) and sent once. Subgraphs (If/Loop/Scan bodies) are scopes of their own.
 */

export interface GraphView {
  /** Scope 0 is the main graph; the others are subgraph bodies, each owned by a node. */
  readonly scopes: readonly GraphScopeView[];
  readonly nodes: readonly GraphNodeView[];
  /** Values (tensors flowing along edges, graph inputs/outputs, weights), by scope. */
  readonly values: readonly ValueView[];
}

export interface GraphScopeView {
  readonly id: number;
  /** "main", or "<owner node name>/<attribute>" such as "loop_1/body". */
  readonly label: string;
  /** Node id that owns this body; absent for the main graph. */
  readonly ownerNode?: number;
}

export interface GraphNodeView {
  readonly id: number;
  /** The node name as the loader gives it (unnamed nodes are named "<opType>_<index>"); audit results use it. */
  readonly name: string;
  readonly opType: string;
  readonly domain: string;
  readonly scope: number;
  /** Value ids (indices into GraphView.values); -1 for an omitted optional input. */
  readonly inputs: readonly number[];
  readonly outputs: readonly number[];
  readonly attributes: readonly { readonly name: string; readonly value: string }[];
  /** Scope ids of this node's subgraph bodies. */
  readonly subgraphs: readonly number[];
  /** Which multiplications of this node a scheme replaces, if any. */
  readonly multiplies?: 'multiply' | 'normalization' | 'activation';
}

export interface ValueView {
  readonly id: number;
  readonly name: string;
  readonly scope: number;
  readonly kind: 'input' | 'output' | 'weight' | 'intermediate';
  readonly dtype?: string;
  /** Numbers, symbolic names, or null for unknown dimensions. */
  readonly shape?: readonly (number | string | null)[];
  /** Statistics of a weight's values (float weights only). */
  readonly stats?: {
    readonly count: number;
    readonly min: number;
    readonly max: number;
    readonly mean: number;
    readonly std: number;
    readonly zeros: number;
  };
}
