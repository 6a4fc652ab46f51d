/** The decoded ONNX model: plain objects, independent of protobufjs. */
import type { DType } from './dtype';
import type { Tensor } from './tensor';

/** A tensor dimension: a size, a symbolic name ("batch"), or unknown. */
export type Dim = number | string | null;

export type ValueType =
  | { readonly kind: 'tensor'; readonly elemType: DType | null; readonly shape: Dim[] | null }
  | { readonly kind: 'sparse-tensor'; readonly elemType: DType | null; readonly shape: Dim[] | null }
  | { readonly kind: 'sequence'; readonly elemType: ValueType | null }
  | { readonly kind: 'map'; readonly keyType: DType | null; readonly valueType: ValueType | null }
  | { readonly kind: 'optional'; readonly elemType: ValueType | null };

export interface ValueInfo {
  readonly name: string;
  /** Null when the file declares no (or an unknown kind of) type. */
  readonly type: ValueType | null;
  readonly docString: string;
}

export interface GraphInput extends ValueInfo {
  /** Also an initializer: older IR versions list every initializer among the inputs. */
  readonly isInitializer: boolean;
}

export interface SparseTensor {
  readonly dims: number[];
  /** The non-zero values (1-D), named as the sparse tensor. */
  readonly values: Tensor;
  /** int64 positions: [NNZ] linear or [NNZ, rank] coordinates. */
  readonly indices: Tensor;
}

export type AttributeType =
  | 'float'
  | 'int'
  | 'string'
  | 'tensor'
  | 'graph'
  | 'sparse-tensor'
  | 'type'
  | 'floats'
  | 'ints'
  | 'strings'
  | 'tensors'
  | 'graphs'
  | 'sparse-tensors'
  | 'types';

/** Attribute values; ints are numbers (exact up to 2^53, only INT64 sentinels lie beyond). */
export type AttributeValue =
  | { readonly type: 'float'; readonly value: number }
  | { readonly type: 'int'; readonly value: number }
  | { readonly type: 'string'; readonly value: string }
  | { readonly type: 'tensor'; readonly value: Tensor }
  | { readonly type: 'graph'; readonly value: Graph }
  | { readonly type: 'sparse-tensor'; readonly value: SparseTensor }
  | { readonly type: 'type'; readonly value: ValueType | null }
  | { readonly type: 'floats'; readonly value: number[] }
  | { readonly type: 'ints'; readonly value: number[] }
  | { readonly type: 'strings'; readonly value: string[] }
  | { readonly type: 'tensors'; readonly value: Tensor[] }
  | { readonly type: 'graphs'; readonly value: Graph[] }
  | { readonly type: 'sparse-tensors'; readonly value: SparseTensor[] }
  | { readonly type: 'types'; readonly value: (ValueType | null)[] };

/**
 * A node attribute: a value, or inside a function body a reference to an attribute of the calling
 * node (`refAttrName`), which then carries no value.
 */
export type Attribute =
  | ({ readonly name: string; readonly refAttrName?: undefined } & AttributeValue)
  | { readonly name: string; readonly type: AttributeType; readonly refAttrName: string };

export interface Node {
  /** The file's name, or `${opType}_${index}` when the file leaves it empty. */
  readonly name: string;
  readonly nameGenerated: boolean;
  readonly opType: string;
  /** '' is the default ONNX domain (ai.onnx). */
  readonly domain: string;
  /** '' marks an absent optional input. */
  readonly inputs: string[];
  readonly outputs: string[];
  readonly attributes: Attribute[];
  readonly docString: string;
}

export interface Graph {
  readonly name: string;
  readonly docString: string;
  readonly nodes: Node[];
  readonly inputs: GraphInput[];
  readonly outputs: ValueInfo[];
  readonly initializers: Tensor[];
  readonly sparseInitializers: SparseTensor[];
  readonly valueInfo: ValueInfo[];
}

export interface OpsetImport {
  readonly domain: string;
  readonly version: number;
}

/** A model-local function (FunctionProto), callable as a node of op type `name` in `domain`. */
export interface OnnxFunction {
  readonly name: string;
  readonly domain: string;
  readonly inputs: string[];
  readonly outputs: string[];
  readonly attributeNames: string[];
  readonly nodes: Node[];
  readonly opsetImports: OpsetImport[];
  readonly docString: string;
}

export interface OnnxModel {
  readonly irVersion: number;
  readonly producerName: string;
  readonly producerVersion: string;
  readonly domain: string;
  readonly modelVersion: number;
  readonly docString: string;
  readonly metadata: Record<string, string>;
  readonly opsetImports: OpsetImport[];
  readonly graph: Graph;
  /** Keyed by functionKey(domain, name). */
  readonly functions: ReadonlyMap<string, OnnxFunction>;
}

export function functionKey(domain: string, name: string): string {
  return `${domain}::${name}`;
}

export function getAttribute(node: Node, name: string): Attribute | undefined {
  return node.attributes.find((a) => a.name === name);
}

/** The graphs held by a node's attributes (If branches, Loop/Scan bodies). */
export function subgraphsOf(node: Node): Graph[] {
  return node.attributes.flatMap((a) => {
    if (a.refAttrName !== undefined) return [];
    if (a.type === 'graph') return [a.value];
    if (a.type === 'graphs') return a.value;
    return [];
  });
}
