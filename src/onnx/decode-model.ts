/**
 * ModelProto (as decoded by protobufjs) → OnnxModel. Synchronous; tensors stored externally are
 * collected for the loader to fill in afterwards.
 */
import { onnx } from 'onnx-proto';
import { dtypeFromCode, type DType } from './dtype';
import { OnnxLoadError } from './errors';
import { int64ToNumber, int64ToSafeInteger, type Int64 } from './int64';
import {
  functionKey,
  type Attribute,
  type AttributeType,
  type Dim,
  type Graph,
  type Node,
  type OnnxFunction,
  type OnnxModel,
  type OpsetImport,
  type SparseTensor,
  type ValueInfo,
  type ValueType,
} from './model';
import { checkDims, decodeTensor, type Tensor, type TensorLimits } from './tensor';

export interface ExternalTensor {
  readonly tensor: Tensor;
  /** How errors name it, e.g. "initializer 'W'". */
  readonly where: string;
}

/** Subgraphs nest through node attributes; real models stay within a handful of levels. */
const MAX_GRAPH_DEPTH = 64;

const AttrType = onnx.AttributeProto.AttributeType;

class Decoder {
  readonly externalTensors: ExternalTensor[] = [];

  constructor(private readonly limits: TensorLimits) {}

  tensor(proto: onnx.ITensorProto, where: string): Tensor {
    const tensor = decodeTensor(proto, where, this.limits);
    if (tensor.external) this.externalTensors.push({ tensor, where });
    return tensor;
  }

  sparseTensor(proto: onnx.ISparseTensorProto, where: string): SparseTensor {
    if (!proto.values || !proto.indices) {
      throw new OnnxLoadError('malformed', `${where}: a sparse tensor needs both values and indices`);
    }
    return {
      dims: checkDims(proto.dims ?? [], where, this.limits),
      values: this.tensor(proto.values, `values of ${where}`),
      indices: this.tensor(proto.indices, `indices of ${where}`),
    };
  }

  graph(proto: onnx.IGraphProto, scope: string, depth: number): Graph {
    if (depth > MAX_GRAPH_DEPTH) {
      throw new OnnxLoadError('too-large', `subgraphs nest more than ${MAX_GRAPH_DEPTH} levels deep${scope}`);
    }
    const initializers = (proto.initializer ?? []).map((t) => {
      const name = requireName(t.name, 'an initializer', scope);
      return this.tensor(t, `initializer '${name}'${scope}`);
    });
    const sparseInitializers = (proto.sparseInitializer ?? []).map((s) => {
      const name = requireName(s.values?.name, 'a sparse initializer', scope);
      return this.sparseTensor(s, `sparse initializer '${name}'${scope}`);
    });
    const initialized = new Set([...initializers.map((t) => t.name), ...sparseInitializers.map((s) => s.values.name)]);
    const inputs = (proto.input ?? []).map((v) => {
      const info = valueInfo(v, 'a graph input', scope);
      return { ...info, isInitializer: initialized.has(info.name) };
    });
    return {
      name: proto.name ?? '',
      docString: proto.docString ?? '',
      nodes: this.nodes(proto.node ?? [], scope, depth),
      inputs,
      outputs: (proto.output ?? []).map((v) => valueInfo(v, 'a graph output', scope)),
      initializers,
      sparseInitializers,
      valueInfo: (proto.valueInfo ?? []).map((v) => valueInfo(v, 'a value_info entry', scope)),
    };
  }

  nodes(protos: readonly onnx.INodeProto[], scope: string, depth: number): Node[] {
    const taken = new Set(protos.map((n) => n.name ?? '').filter((name) => name !== ''));
    return protos.map((proto, index) => {
      const opType = proto.opType ?? '';
      if (opType === '') {
        throw new OnnxLoadError('invalid-graph', `node #${index}${nodeLabel(proto.name)}${scope} has no op_type`);
      }
      let name = proto.name ?? '';
      const nameGenerated = name === '';
      if (nameGenerated) {
        // Stable across loads: position-based, made unique against the names the file does use.
        name = `${opType}_${index}`;
        for (let k = 2; taken.has(name); k++) name = `${opType}_${index}_${k}`;
        taken.add(name);
      }
      const where = `node '${name}'${scope}`;
      return {
        name,
        nameGenerated,
        opType,
        domain: normaliseDomain(proto.domain),
        inputs: [...(proto.input ?? [])],
        outputs: [...(proto.output ?? [])],
        attributes: (proto.attribute ?? []).map((a) => this.attribute(a, where, depth)),
        docString: proto.docString ?? '',
      };
    });
  }

  attribute(proto: onnx.IAttributeProto, nodeWhere: string, depth: number): Attribute {
    const name = proto.name ?? '';
    const where = `attribute '${name}' of ${nodeWhere}`;
    if (name === '') throw new OnnxLoadError('invalid-graph', `${nodeWhere} has an attribute without a name`);
    const code = proto.type || inferAttributeType(proto, where);
    const type = ATTRIBUTE_TYPES.get(code);
    if (!type) throw new OnnxLoadError('unsupported', `${where}: attribute type ${code} is unknown`);
    if (proto.refAttrName) return { name, type, refAttrName: proto.refAttrName };
    const subgraph = (g: onnx.IGraphProto, i?: number): Graph =>
      this.graph(g, ` in subgraph '${g.name ?? ''}' (${where}${i === undefined ? '' : ` #${i}`})`, depth + 1);
    switch (type) {
      case 'float':
        return { name, type, value: proto.f ?? 0 };
      case 'int':
        return { name, type, value: int64ToNumber(proto.i ?? 0) };
      case 'string':
        return { name, type, value: utf8.decode(proto.s ?? new Uint8Array(0)) };
      case 'tensor':
        return { name, type, value: this.tensor(present(proto.t, where), `tensor of ${where}`) };
      case 'graph':
        return { name, type, value: subgraph(present(proto.g, where)) };
      case 'sparse-tensor':
        return {
          name,
          type,
          value: this.sparseTensor(present(proto.sparseTensor, where), `sparse tensor of ${where}`),
        };
      case 'type':
        return { name, type, value: valueType(present(proto.tp, where), where) };
      case 'floats':
        return { name, type, value: [...(proto.floats ?? [])] };
      case 'ints':
        return { name, type, value: (proto.ints ?? []).map(int64ToNumber) };
      case 'strings':
        return { name, type, value: (proto.strings ?? []).map((s) => utf8.decode(s)) };
      case 'tensors':
        return { name, type, value: (proto.tensors ?? []).map((t, i) => this.tensor(t, `tensor #${i} of ${where}`)) };
      case 'graphs':
        return { name, type, value: (proto.graphs ?? []).map(subgraph) };
      case 'sparse-tensors':
        return {
          name,
          type,
          value: (proto.sparseTensors ?? []).map((s, i) => this.sparseTensor(s, `sparse tensor #${i} of ${where}`)),
        };
      case 'types':
        return { name, type, value: (proto.typeProtos ?? []).map((t) => valueType(t, where)) };
    }
  }

  function(proto: onnx.IFunctionProto): OnnxFunction {
    const name = proto.name ?? '';
    const domain = normaliseDomain(proto.domain);
    if (name === '') {
      throw new OnnxLoadError('invalid-graph', `a model-local function in domain '${domain}' has no name`);
    }
    return {
      name,
      domain,
      inputs: [...(proto.input ?? [])],
      outputs: [...(proto.output ?? [])],
      attributeNames: [...(proto.attribute ?? [])],
      nodes: this.nodes(proto.node ?? [], ` in function '${functionKey(domain, name)}'`, 0),
      opsetImports: opsetImports(proto.opsetImport ?? []),
      docString: proto.docString ?? '',
    };
  }
}

const ATTRIBUTE_TYPES = new Map<number, AttributeType>([
  [AttrType.FLOAT, 'float'],
  [AttrType.INT, 'int'],
  [AttrType.STRING, 'string'],
  [AttrType.TENSOR, 'tensor'],
  [AttrType.GRAPH, 'graph'],
  [AttrType.SPARSE_TENSOR, 'sparse-tensor'],
  [AttrType.TYPE_PROTO, 'type'],
  [AttrType.FLOATS, 'floats'],
  [AttrType.INTS, 'ints'],
  [AttrType.STRINGS, 'strings'],
  [AttrType.TENSORS, 'tensors'],
  [AttrType.GRAPHS, 'graphs'],
  [AttrType.SPARSE_TENSORS, 'sparse-tensors'],
  [AttrType.TYPE_PROTOS, 'types'],
]);

/**
 * Attributes written before the `type` field existed (IR 1) are typed by the one value field
 * present. protobufjs sets own properties only for fields found in the bytes.
 */
function inferAttributeType(proto: onnx.IAttributeProto, where: string): number {
  const scalar: [keyof onnx.IAttributeProto, number][] = [
    ['f', AttrType.FLOAT],
    ['i', AttrType.INT],
    ['s', AttrType.STRING],
    ['t', AttrType.TENSOR],
    ['g', AttrType.GRAPH],
    ['sparseTensor', AttrType.SPARSE_TENSOR],
    ['tp', AttrType.TYPE_PROTO],
  ];
  const repeated: [keyof onnx.IAttributeProto, number][] = [
    ['floats', AttrType.FLOATS],
    ['ints', AttrType.INTS],
    ['strings', AttrType.STRINGS],
    ['tensors', AttrType.TENSORS],
    ['graphs', AttrType.GRAPHS],
    ['sparseTensors', AttrType.SPARSE_TENSORS],
    ['typeProtos', AttrType.TYPE_PROTOS],
  ];
  const found = [
    ...scalar.filter(([field]) => Object.hasOwn(proto, field)),
    ...repeated.filter(([field]) => ((proto[field] as unknown[] | null | undefined)?.length ?? 0) > 0),
  ];
  if (found.length !== 1) {
    const values = found.length === 0 ? 'no value' : 'several values';
    throw new OnnxLoadError('malformed', `${where}: has no type and ${values}`);
  }
  return found[0]![1];
}

const utf8 = new TextDecoder('utf-8');

function present<T>(value: T | null | undefined, where: string): T {
  if (value == null) throw new OnnxLoadError('malformed', `${where}: its value is missing`);
  return value;
}

function nodeLabel(name: string | null | undefined): string {
  return name ? ` '${name}'` : '';
}

function requireName(name: string | null | undefined, what: string, scope: string): string {
  if (!name) throw new OnnxLoadError('invalid-graph', `${what}${scope} has no name`);
  return name;
}

/** 'ai.onnx' and '' both name the default domain; callers compare against ''. */
function normaliseDomain(domain: string | null | undefined): string {
  return domain === 'ai.onnx' ? '' : (domain ?? '');
}

function elemType(code: number | null | undefined, where: string): DType | null {
  if (!code) return null;
  const dtype = dtypeFromCode(code);
  if (!dtype) throw new OnnxLoadError('unsupported', `${where}: element type ${code} is not a known ONNX element type`);
  return dtype;
}

function shape(proto: onnx.ITensorShapeProto | null | undefined): Dim[] | null {
  if (!proto) return null;
  return (proto.dim ?? []).map((d) => {
    if (Object.hasOwn(d, 'dimValue')) {
      // Some exporters write -1 for "unknown"; it is only an annotation, so read it as unknown.
      const value = int64ToSafeInteger(d.dimValue as Int64);
      return value !== undefined && value >= 0 ? value : null;
    }
    return d.dimParam ? d.dimParam : null;
  });
}

function valueType(proto: onnx.ITypeProto, where: string): ValueType | null {
  if (proto.tensorType) {
    const t = proto.tensorType;
    return { kind: 'tensor', elemType: elemType(t.elemType, where), shape: shape(t.shape) };
  }
  if (proto.sparseTensorType) {
    const t = proto.sparseTensorType;
    return { kind: 'sparse-tensor', elemType: elemType(t.elemType, where), shape: shape(t.shape) };
  }
  const inner = (t: onnx.ITypeProto | null | undefined): ValueType | null => (t ? valueType(t, where) : null);
  if (proto.sequenceType) return { kind: 'sequence', elemType: inner(proto.sequenceType.elemType) };
  if (proto.mapType) {
    return { kind: 'map', keyType: elemType(proto.mapType.keyType, where), valueType: inner(proto.mapType.valueType) };
  }
  if (proto.optionalType) return { kind: 'optional', elemType: inner(proto.optionalType.elemType) };
  return null;
}

function valueInfo(proto: onnx.IValueInfoProto, what: string, scope: string): ValueInfo {
  const name = requireName(proto.name, what, scope);
  const type = proto.type ? valueType(proto.type, `'${name}'${scope}`) : null;
  return { name, type, docString: proto.docString ?? '' };
}

function opsetImports(protos: readonly onnx.IOperatorSetIdProto[]): OpsetImport[] {
  return protos.map((o) => ({ domain: normaliseDomain(o.domain), version: int64ToNumber(o.version ?? 0) }));
}

/** Model fields outside the graph. */
function modelHeader(proto: onnx.IModelProto): Omit<OnnxModel, 'graph' | 'functions'> {
  return {
    irVersion: int64ToNumber(proto.irVersion ?? 0),
    producerName: proto.producerName ?? '',
    producerVersion: proto.producerVersion ?? '',
    domain: proto.domain ?? '',
    modelVersion: int64ToNumber(proto.modelVersion ?? 0),
    docString: proto.docString ?? '',
    metadata: Object.fromEntries((proto.metadataProps ?? []).map((e) => [e.key ?? '', e.value ?? ''])),
    opsetImports: opsetImports(proto.opsetImport ?? []),
  };
}

/** Decodes a model whose ir_version and graph presence the caller has checked. */
export function decodeModel(
  proto: onnx.IModelProto,
  limits: TensorLimits,
): { model: OnnxModel; externalTensors: ExternalTensor[] } {
  const decoder = new Decoder(limits);
  const functions = new Map<string, OnnxFunction>();
  for (const f of proto.functions ?? []) {
    const fn = decoder.function(f);
    const key = functionKey(fn.domain, fn.name);
    if (functions.has(key)) throw new OnnxLoadError('invalid-graph', `function '${key}' is defined twice`);
    functions.set(key, fn);
  }
  const model: OnnxModel = { ...modelHeader(proto), graph: decoder.graph(proto.graph!, '', 0), functions };
  return { model, externalTensors: decoder.externalTensors };
}
