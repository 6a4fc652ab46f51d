/**
 * Input tensors written as JSON (an inputs.json file in a sample folder):
 *
 *   { "<inputName>": { "dtype": "float32", "dims": [1, 3], "data": [ ... ] } | <nested arrays of numbers> }
 *
 * Nested arrays take the graph input's declared element type (float32 when it declares none). In the
 * explicit form `data` is flat (dims' product elements) or nested to exactly `dims`; `dims` may be left
 * out for nested data. Floats may be given as "nan", "inf" or "-inf"; int64/uint64 values as numbers
 * (safe integers) or decimal strings; bools as true/false or 0/1.
 */
import { BF16, FP16, roundToFormat } from '../arith';
import type { DType, GraphInput, Tensor } from '../onnx';
import { EngineError } from '../engine/types';

/** The element types a JSON tensor may have. */
export const JSON_DTYPES = [
  'float32',
  'float64',
  'float16',
  'bfloat16',
  'int8',
  'uint8',
  'int16',
  'uint16',
  'int32',
  'uint32',
  'int64',
  'uint64',
  'bool',
] as const satisfies readonly DType[];

export type JsonDType = (typeof JSON_DTYPES)[number];

function isJsonDType(d: unknown): d is JsonDType {
  return typeof d === 'string' && (JSON_DTYPES as readonly string[]).includes(d);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The shape of a rectangular nest of arrays, and its leaves in row-major order. */
export function flattenNested(value: unknown, where: string): { dims: number[]; leaves: unknown[] } {
  const dims: number[] = [];
  for (let level: unknown = value; Array.isArray(level); level = level[0]) dims.push(level.length);
  const leaves: unknown[] = [];
  const walk = (v: unknown, depth: number, path: string) => {
    if (depth === dims.length) {
      if (Array.isArray(v)) throw new EngineError(`${where}${path}: nested deeper than the first element (ragged)`);
      leaves.push(v);
      return;
    }
    if (!Array.isArray(v)) throw new EngineError(`${where}${path}: expected an array of ${dims[depth]} (ragged)`);
    if (v.length !== dims[depth]) {
      throw new EngineError(`${where}${path}: has ${v.length} elements, its siblings ${dims[depth]} (ragged)`);
    }
    v.forEach((item, i) => walk(item, depth + 1, `${path}[${i}]`));
  };
  walk(value, 0, '');
  return { dims, leaves };
}

/** The special float spellings JSON cannot hold as numbers ("nan", "inf", "-Infinity", …), lower-cased. */
export const SPECIAL_FLOATS: Readonly<Record<string, number>> = {
  nan: NaN,
  inf: Infinity,
  '+inf': Infinity,
  '-inf': -Infinity,
  infinity: Infinity,
  '+infinity': Infinity,
  '-infinity': -Infinity,
};

function floatOf(v: unknown, where: string): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string') {
    const special = SPECIAL_FLOATS[v.toLowerCase()];
    if (special !== undefined) return special;
  }
  throw new EngineError(`${where}: ${JSON.stringify(v)} is not a number (use "nan", "inf" or "-inf" for specials)`);
}

function bigintOf(v: unknown, where: string, lo: bigint, hi: bigint): bigint {
  let b: bigint;
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v)) {
      throw new EngineError(`${where}: ${v} is not an exact integer (give large 64-bit values as decimal strings)`);
    }
    b = BigInt(v);
  } else if (typeof v === 'string' && /^[-+]?\d+$/.test(v)) {
    b = BigInt(v);
  } else {
    throw new EngineError(`${where}: ${JSON.stringify(v)} is not an integer`);
  }
  if (b < lo || b > hi) throw new EngineError(`${where}: ${b} is out of range [${lo}, ${hi}]`);
  return b;
}

function intOf(v: unknown, where: string, lo: number, hi: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v)) {
    throw new EngineError(`${where}: ${JSON.stringify(v)} is not an integer`);
  }
  if (v < lo || v > hi) throw new EngineError(`${where}: ${v} is out of range [${lo}, ${hi}]`);
  return v;
}

const INT_RANGES: Readonly<Record<string, [number, number]>> = {
  int8: [-128, 127],
  uint8: [0, 255],
  int16: [-32768, 32767],
  uint16: [0, 65535],
  int32: [-(2 ** 31), 2 ** 31 - 1],
  uint32: [0, 2 ** 32 - 1],
};

const TYPED: Readonly<Record<string, new (values: number[]) => ArrayLike<number>>> = {
  int8: Int8Array,
  uint8: Uint8Array,
  int16: Int16Array,
  uint16: Uint16Array,
  int32: Int32Array,
  uint32: Uint32Array,
};

function elements(dtype: JsonDType, leaves: readonly unknown[], where: string): Tensor['data'] {
  const at = (i: number) => `${where} element ${i}`;
  switch (dtype) {
    case 'float32':
      return Float32Array.from(leaves, (v, i) => floatOf(v, at(i)));
    case 'float64':
      return Float64Array.from(leaves, (v, i) => floatOf(v, at(i)));
    case 'float16':
      return Float32Array.from(leaves, (v, i) => roundToFormat(floatOf(v, at(i)), FP16));
    case 'bfloat16':
      return Float32Array.from(leaves, (v, i) => roundToFormat(floatOf(v, at(i)), BF16));
    case 'int64':
      return BigInt64Array.from(leaves, (v, i) => bigintOf(v, at(i), -(2n ** 63n), 2n ** 63n - 1n));
    case 'uint64':
      return BigUint64Array.from(leaves, (v, i) => bigintOf(v, at(i), 0n, 2n ** 64n - 1n));
    case 'bool':
      return Uint8Array.from(leaves, (v, i) => {
        if (v === true || v === 1) return 1;
        if (v === false || v === 0) return 0;
        throw new EngineError(`${at(i)}: ${JSON.stringify(v)} is not a bool (true, false, 1 or 0)`);
      });
    default: {
      const [lo, hi] = INT_RANGES[dtype]!;
      return new TYPED[dtype]!(leaves.map((v, i) => intOf(v, at(i), lo, hi))) as Tensor['data'];
    }
  }
}

/**
 * One tensor from its JSON form. `declared` is the graph input's element type: it types nested-array
 * data and must equal an explicit "dtype".
 */
export function tensorFromJson(value: unknown, name: string, declared: DType | null, where: string): Tensor {
  let dtype: DType;
  let dims: number[];
  let leaves: unknown[];
  if (Array.isArray(value) || typeof value === 'number' || typeof value === 'string') {
    dtype = declared ?? 'float32';
    ({ dims, leaves } = flattenNested(value, where));
  } else if (isRecord(value)) {
    const extra = Object.keys(value).filter((k) => k !== 'dtype' && k !== 'dims' && k !== 'data');
    if (extra.length > 0) {
      throw new EngineError(
        `${where}: unknown key(s) ${extra.map((k) => `"${k}"`).join(', ')} (use dtype, dims, data)`,
      );
    }
    if (!('data' in value)) throw new EngineError(`${where}: has no "data"`);
    const given = value.dtype ?? declared ?? 'float32';
    if (!isJsonDType(given)) {
      throw new EngineError(`${where}: dtype ${JSON.stringify(given)} is not one of ${JSON_DTYPES.join(', ')}`);
    }
    dtype = given;
    const nested = flattenNested(value.data, `${where}.data`);
    leaves = nested.leaves;
    if (value.dims === undefined) {
      dims = nested.dims;
    } else {
      if (!Array.isArray(value.dims) || !value.dims.every((d) => Number.isSafeInteger(d) && d >= 0)) {
        throw new EngineError(`${where}: dims ${JSON.stringify(value.dims)} is not a list of non-negative integers`);
      }
      dims = value.dims as number[];
      const count = dims.reduce((a, b) => a * b, 1);
      const flat = nested.dims.length === 1 && leaves.length === count;
      const sameShape = nested.dims.length === dims.length && nested.dims.every((d, i) => d === dims[i]);
      if (!flat && !sameShape) {
        throw new EngineError(
          `${where}: data has shape [${nested.dims.join(', ')}], dims [${dims.join(', ')}] need ${count} elements ` +
            `(flat, or nested to that shape)`,
        );
      }
    }
  } else {
    throw new EngineError(`${where}: expected nested arrays of numbers or {"dtype", "dims", "data"}`);
  }
  if (declared !== null && dtype !== declared) {
    throw new EngineError(`${where}: dtype ${dtype} does not match the input's declared element type ${declared}`);
  }
  if (!isJsonDType(dtype)) {
    throw new EngineError(`${where}: the input is ${dtype}, which inputs.json cannot give (use a .pb or .npy file)`);
  }
  return { name, dtype, dims, data: elements(dtype, leaves, where) } as Tensor;
}

/** The declared element type of a graph input, or null. */
export function declaredDType(input: GraphInput): DType | null {
  return input.type?.kind === 'tensor' ? input.type.elemType : null;
}

/**
 * The tensors of a parsed inputs.json, by input name. Only the inputs present are returned; names that
 * are not graph inputs are an error (a misspelt name would otherwise go unnoticed).
 */
export function tensorsFromInputsJson(json: unknown, inputs: readonly GraphInput[], file: string): Map<string, Tensor> {
  if (!isRecord(json)) throw new EngineError(`${file}: expected an object mapping input names to tensors`);
  const byName = new Map(inputs.map((i) => [i.name, i]));
  const out = new Map<string, Tensor>();
  for (const [name, value] of Object.entries(json)) {
    const input = byName.get(name);
    if (!input) {
      throw new EngineError(
        `${file}: "${name}" is not an input of the model (inputs: ${inputs.map((i) => `"${i.name}"`).join(', ')})`,
      );
    }
    out.set(name, tensorFromJson(value, name, declaredDType(input), `${file}: "${name}"`));
  }
  return out;
}
