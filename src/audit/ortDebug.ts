/**
 * onnxruntime QDQ-debugging results (onnxruntime.quantization.qdq_loss_debug), attached to our nodes.
 *
 * compute_activation_error() gives, per activation tensor of the float model, the SQNR in dB of the QDQ
 * model's tensor against the float model's ("xmodel_err") and across its own QuantizeLinear →
 * DequantizeLinear pair ("qdq_err"); compute_weight_error() gives one SQNR per weight. Users dump them
 * as JSON, either as { "activations": {...}, "weights": {...} } or the bare activation dict. Python's
 * json module writes inf and nan as the (non-JSON) tokens Infinity and NaN: parseOrtDebugText accepts
 * them, and strings such as "inf", "-inf" and "nan" are accepted anywhere a number is.
 */
import type { Graph } from '../onnx';
import { SPECIAL_FLOATS } from './tensorJson';

export interface OrtActivationError {
  /** SQNR (dB) of the QDQ model's tensor against the float model's. */
  readonly xmodelErrDb?: number;
  /** SQNR (dB) across the tensor's own QuantizeLinear → DequantizeLinear. */
  readonly qdqErrDb?: number;
}

export interface OrtDebugResults {
  /** By activation tensor name. */
  readonly activations: ReadonlyMap<string, OrtActivationError>;
  /** Weight SQNR (dB) by weight tensor name. */
  readonly weights: ReadonlyMap<string, number>;
}

/** What the results say about one node: its worst (lowest-SQNR) activation output and weight. */
export interface OrtDebugNodeInfo {
  /** The node's output the activation errors are about (its first output when only a weight matched). */
  readonly output: string;
  readonly xmodelErrDb?: number;
  readonly qdqErrDb?: number;
  /** The weight the weight error is about. */
  readonly weight?: string;
  readonly weightErrDb?: number;
}

export interface OrtDebugUnmatched {
  readonly tensor: string;
  readonly kind: 'activation' | 'weight';
  readonly reason: string;
}

export interface OrtDebugAttachment {
  /** By node name. */
  readonly byNode: Map<string, OrtDebugNodeInfo>;
  /** Results that match no node, with the reason, for the caller to warn about. */
  readonly unmatched: OrtDebugUnmatched[];
}

export class OrtDebugFormatError extends Error {
  constructor(message: string) {
    super(`onnxruntime debug results: ${message}`);
    this.name = 'OrtDebugFormatError';
  }
}

/** A dB value: a JSON number, a special string ("inf", "-inf", "nan") or a decimal string. */
function dbValue(v: unknown, where: string): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string') {
    const special = SPECIAL_FLOATS[v.trim().toLowerCase()];
    if (special !== undefined) return special;
    if (/^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$/.test(v)) return Number(v);
  }
  throw new OrtDebugFormatError(`${where}: ${JSON.stringify(v)} is not a number (nor "inf", "-inf", "nan")`);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const ACTIVATION_KEYS = ['xmodel_err', 'qdq_err'];

/** An activation entry: an object with xmodel_err and/or qdq_err and nothing else. */
function isActivationEntry(v: unknown): v is Record<string, unknown> {
  if (!isRecord(v)) return false;
  const keys = Object.keys(v);
  return keys.length > 0 && keys.every((k) => ACTIVATION_KEYS.includes(k));
}

function parseActivations(dict: unknown, where: string): Map<string, OrtActivationError> {
  if (!isRecord(dict)) throw new OrtDebugFormatError(`${where} is not an object of tensor names`);
  const out = new Map<string, OrtActivationError>();
  for (const [name, entry] of Object.entries(dict)) {
    if (!isActivationEntry(entry)) {
      throw new OrtDebugFormatError(
        `${where}["${name}"] is ${JSON.stringify(entry)}, expected {"xmodel_err": dB, "qdq_err": dB}`,
      );
    }
    const info: { xmodelErrDb?: number; qdqErrDb?: number } = {};
    if (entry.xmodel_err !== undefined && entry.xmodel_err !== null)
      info.xmodelErrDb = dbValue(entry.xmodel_err, `${where}["${name}"].xmodel_err`);
    if (entry.qdq_err !== undefined && entry.qdq_err !== null)
      info.qdqErrDb = dbValue(entry.qdq_err, `${where}["${name}"].qdq_err`);
    out.set(name, info);
  }
  return out;
}

/**
 * Validates parsed JSON: { "activations"?: { name: { xmodel_err?, qdq_err? } }, "weights"?: { name: dB } }
 * or the bare activation dict { name: { xmodel_err?, qdq_err? } }.
 */
export function parseOrtDebugResults(json: unknown): OrtDebugResults {
  if (!isRecord(json)) throw new OrtDebugFormatError('expected a JSON object');
  const entries = Object.entries(json);
  // The bare form: every value is an activation entry (a tensor may well be called "weights").
  if (entries.length > 0 && entries.every(([, v]) => isActivationEntry(v))) {
    return { activations: parseActivations(json, 'activations'), weights: new Map() };
  }
  const extra = Object.keys(json).filter((k) => k !== 'activations' && k !== 'weights');
  if (extra.length > 0) {
    throw new OrtDebugFormatError(
      `unexpected key(s) ${extra.map((k) => `"${k}"`).join(', ')}: expected "activations" and/or "weights", ` +
        'or a bare dict of {"xmodel_err", "qdq_err"} per activation',
    );
  }
  const activations = json.activations === undefined ? new Map() : parseActivations(json.activations, 'activations');
  const weights = new Map<string, number>();
  if (json.weights !== undefined) {
    if (!isRecord(json.weights)) throw new OrtDebugFormatError('weights is not an object of tensor names');
    for (const [name, v] of Object.entries(json.weights)) weights.set(name, dbValue(v, `weights["${name}"]`));
  }
  return { activations, weights };
}

/**
 * Parses JSON text as Python's json.dump writes it, where inf and nan become the bare tokens
 * Infinity, -Infinity and NaN, then validates it with parseOrtDebugResults.
 */
export function parseOrtDebugText(text: string): OrtDebugResults {
  let json: unknown;
  try {
    json = JSON.parse(pythonSpecialsToStrings(text));
  } catch (e) {
    throw new OrtDebugFormatError(`not valid JSON: ${(e as Error).message}`);
  }
  return parseOrtDebugResults(json);
}

/** Quotes the bare tokens NaN, Infinity and -Infinity outside strings. */
function pythonSpecialsToStrings(text: string): string {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const ch = text[i]!;
    if (ch === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      out += text.slice(i, j + 1);
      i = j + 1;
      continue;
    }
    const m = /^(-?Infinity|NaN)/.exec(text.slice(i, i + 9));
    if (m) {
      out += `"${m[1]}"`;
      i += m[1]!.length;
      continue;
    }
    out += ch;
    i++;
  }
  return out;
}

/** Lower SQNR is worse; NaN (an undefined ratio) counts as worst, so it is never hidden. */
function worse(a: number | undefined, b: number | undefined): boolean {
  if (a === undefined) return false;
  if (b === undefined) return true;
  if (Number.isNaN(a)) return !Number.isNaN(b);
  return !Number.isNaN(b) && a < b;
}

/** Name suffixes the QDQ model and the debugging tools add to float-model tensor names. */
const QDQ_SUFFIXES = ['_QuantizeLinear_Input', '_DequantizeLinear_Output', '_ReshapedSavedOutput'];

/**
 * Attaches results to the top-level nodes of `graph`: an activation to the node producing the tensor,
 * a weight to every node consuming it. Names with the QDQ suffixes onnxruntime adds are matched by
 * their float-model name. Per node, the lowest SQNR wins when several outputs or weights match.
 */
export function attachOrtDebug(results: OrtDebugResults, graph: Graph): OrtDebugAttachment {
  const producer = new Map<string, string>();
  const consumers = new Map<string, string[]>();
  const firstOutput = new Map<string, string>();
  for (const node of graph.nodes) {
    firstOutput.set(node.name, node.outputs.find((o) => o !== '') ?? '');
    for (const o of node.outputs) if (o !== '') producer.set(o, node.name);
    for (const i of new Set(node.inputs)) if (i !== '') consumers.set(i, [...(consumers.get(i) ?? []), node.name]);
  }
  const graphInputs = new Set(graph.inputs.map((i) => i.name));
  const known = (name: string) => producer.has(name) || consumers.has(name) || graphInputs.has(name);
  const resolve = (name: string): string => {
    if (known(name)) return name;
    for (const suffix of QDQ_SUFFIXES) {
      if (name.endsWith(suffix) && known(name.slice(0, -suffix.length))) return name.slice(0, -suffix.length);
    }
    return name;
  };

  const byNode = new Map<string, OrtDebugNodeInfo>();
  const unmatched: OrtDebugUnmatched[] = [];
  for (const [name, err] of results.activations) {
    const tensor = resolve(name);
    const node = producer.get(tensor);
    if (node === undefined) {
      const reason = graphInputs.has(tensor)
        ? 'a graph input, produced by no node'
        : consumers.has(tensor)
          ? 'an initializer or outer-scope value, produced by no node'
          : 'no tensor of that name in the graph';
      unmatched.push({ tensor: name, kind: 'activation', reason });
      continue;
    }
    const prev = byNode.get(node);
    const takes =
      !prev ||
      (prev.xmodelErrDb === undefined && prev.qdqErrDb === undefined) ||
      worse(err.qdqErrDb, prev.qdqErrDb) ||
      (err.qdqErrDb === prev.qdqErrDb && worse(err.xmodelErrDb, prev.xmodelErrDb));
    if (takes) byNode.set(node, { output: tensor, ...err }); // weights are attached after all activations
  }
  for (const [name, db] of results.weights) {
    const tensor = resolve(name);
    const nodes = consumers.get(tensor);
    if (!nodes) {
      const reason = producer.has(tensor)
        ? `an activation (output of ${producer.get(tensor)}), consumed by no node`
        : graph.initializers.some((t) => t.name === tensor) || graphInputs.has(tensor)
          ? 'consumed by no node'
          : 'no tensor of that name in the graph';
      unmatched.push({ tensor: name, kind: 'weight', reason });
      continue;
    }
    for (const node of nodes) {
      const prev = byNode.get(node) ?? { output: firstOutput.get(node)! };
      if (prev.weightErrDb === undefined || worse(db, prev.weightErrDb)) {
        byNode.set(node, { ...prev, weight: tensor, weightErrDb: db });
      }
    }
  }
  return { byNode, unmatched };
}
