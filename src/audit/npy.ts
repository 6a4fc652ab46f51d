/**
 * A small, strict reader for NumPy .npy files (format versions 1.0, 2.0 and 3.0), giving our Tensor.
 *
 * Layout: the magic "\x93NUMPY", major and minor version bytes, the header length (uint16 LE in
 * version 1, uint32 LE in 2 and 3), the header (a Python dict literal with exactly the keys 'descr',
 * 'fortran_order' and 'shape', latin-1 in versions 1 and 2, UTF-8 in 3), then the raw elements.
 * Only plain numeric and boolean descrs are read; every malformation is an Error naming the file.
 */
import { transposeData } from '../engine/kernels/shape-copy';
import { decodeBits, FP16 } from '../arith';
import type { DType, Tensor } from '../onnx';

/** numpy itself refuses headers over 10000 bytes by default; we allow more but not without bound. */
const MAX_HEADER = 1 << 20;
const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

export interface NpyOptions {
  /** Named in error messages (default "<npy>"). */
  readonly file?: string;
  /** The tensor's name (default ''). */
  readonly name?: string;
  /** What to do with fortran_order True: reorder the elements into C order (default) or refuse the file. */
  readonly fortranOrder?: 'transpose' | 'refuse';
}

/** The parsed header of a .npy file. */
export interface NpyHeader {
  readonly version: readonly [number, number];
  readonly descr: string;
  readonly fortranOrder: boolean;
  readonly shape: number[];
  /** Byte offset of the first element. */
  readonly dataOffset: number;
}

interface ElementKind {
  readonly dtype: Exclude<DType, 'string'>;
  readonly size: number;
}

/** Descr type codes (after the byte-order character) we read. */
const KINDS: Readonly<Record<string, ElementKind>> = {
  f2: { dtype: 'float16', size: 2 },
  f4: { dtype: 'float32', size: 4 },
  f8: { dtype: 'float64', size: 8 },
  i1: { dtype: 'int8', size: 1 },
  i2: { dtype: 'int16', size: 2 },
  i4: { dtype: 'int32', size: 4 },
  i8: { dtype: 'int64', size: 8 },
  u1: { dtype: 'uint8', size: 1 },
  u2: { dtype: 'uint16', size: 2 },
  u4: { dtype: 'uint32', size: 4 },
  u8: { dtype: 'uint64', size: 8 },
  b1: { dtype: 'bool', size: 1 },
};

/** The .npy type code numpy would write for each dtype we read ('<f4', '|u1', ...). */
export function npyDescrOf(dtype: DType): string | undefined {
  for (const [code, kind] of Object.entries(KINDS))
    if (kind.dtype === dtype) return (kind.size === 1 ? '|' : '<') + code;
  return undefined;
}

function fail(file: string, problem: string): never {
  throw new Error(`${file}: not a readable .npy file: ${problem}`);
}

/** Reads the magic, version and header dict; checks nothing about the data that follows. */
export function parseNpyHeader(bytes: Uint8Array, file = '<npy>'): NpyHeader {
  if (bytes.length < 10) fail(file, `only ${bytes.length} bytes, shorter than the smallest header`);
  for (let i = 0; i < MAGIC.length; i++) {
    if (bytes[i] !== MAGIC[i]) fail(file, 'bad magic (a .npy file starts with \\x93NUMPY)');
  }
  const major = bytes[6]!;
  const minor = bytes[7]!;
  if (major < 1 || major > 3 || minor !== 0) fail(file, `unsupported format version ${major}.${minor}`);
  const lengthBytes = major === 1 ? 2 : 4;
  const start = 8 + lengthBytes;
  if (bytes.length < start) fail(file, 'truncated before the end of the header length');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const dataOffset = start + headerLength;
  if (headerLength > MAX_HEADER) fail(file, `header length ${headerLength} is implausibly large (corrupt file?)`);
  if (dataOffset > bytes.length) {
    fail(file, `truncated header: it declares ${headerLength} bytes, the file has ${bytes.length - start} after it`);
  }
  const headerBytes = bytes.subarray(start, dataOffset);
  let text: string;
  if (major === 3) {
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(headerBytes);
    } catch {
      fail(file, 'the version 3 header is not valid UTF-8');
    }
  } else {
    text = '';
    for (const b of headerBytes) text += String.fromCharCode(b); // latin-1
  }
  if (!text.endsWith('\n')) fail(file, 'the header does not end with a newline (truncated or corrupt)');
  const dict = parseHeaderDict(text, file);
  return { version: [major, minor], ...dict, dataOffset };
}

/** Parses a .npy file into a tensor; see NpyOptions for fortran-ordered files. */
export function parseNpy(bytes: Uint8Array, options: NpyOptions = {}): Tensor {
  const file = options.file ?? '<npy>';
  const header = parseNpyHeader(bytes, file);
  const { descr, shape } = header;
  const order = descr[0]!;
  const kind = KINDS[descr.slice(1)];
  if (!kind || !'<>|'.includes(order)) {
    fail(
      file,
      `unsupported descr '${descr}' (readable: ${Object.keys(KINDS)
        .map((c) => `<${c}`)
        .join(', ')}, their '>' big-endian forms and '|' for one-byte types)`,
    );
  }
  if (order === '|' && kind.size > 1) fail(file, `descr '${descr}' gives no byte order for a ${kind.size}-byte type`);
  const littleEndian = order !== '>';
  const count = shape.reduce((a, b) => a * b, 1);
  const expected = count * kind.size;
  const available = bytes.length - header.dataOffset;
  if (!Number.isSafeInteger(expected) || available < expected) {
    fail(
      file,
      `truncated data: shape (${shape.join(', ')}) of '${descr}' needs ${expected} bytes, the file has ${available}`,
    );
  }
  if (available > expected) {
    fail(file, `${available - expected} bytes after the data that shape (${shape.join(', ')}) of '${descr}' needs`);
  }
  if (header.fortranOrder && options.fortranOrder === 'refuse' && shape.filter((d) => d > 1).length > 1) {
    fail(file, `it is stored in Fortran order (save it with np.ascontiguousarray first)`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset + header.dataOffset, expected);
  let data = readElements(view, kind, count, littleEndian, file);
  if (header.fortranOrder && shape.length > 1) data = fortranToC(data, shape);
  return { name: options.name ?? '', dtype: kind.dtype, dims: [...shape], data } as Tensor;
}

type Elements = Exclude<Tensor['data'], string[]>;

function readElements(view: DataView, kind: ElementKind, n: number, le: boolean, file: string): Elements {
  switch (kind.dtype) {
    case 'float16':
      return Float32Array.from({ length: n }, (_, i) => decodeBits(FP16, view.getUint16(2 * i, le)));
    case 'float32':
      return Float32Array.from({ length: n }, (_, i) => view.getFloat32(4 * i, le));
    case 'float64':
      return Float64Array.from({ length: n }, (_, i) => view.getFloat64(8 * i, le));
    case 'int8':
      return Int8Array.from({ length: n }, (_, i) => view.getInt8(i));
    case 'uint8':
      return Uint8Array.from({ length: n }, (_, i) => view.getUint8(i));
    case 'int16':
      return Int16Array.from({ length: n }, (_, i) => view.getInt16(2 * i, le));
    case 'uint16':
      return Uint16Array.from({ length: n }, (_, i) => view.getUint16(2 * i, le));
    case 'int32':
      return Int32Array.from({ length: n }, (_, i) => view.getInt32(4 * i, le));
    case 'uint32':
      return Uint32Array.from({ length: n }, (_, i) => view.getUint32(4 * i, le));
    case 'int64':
      return BigInt64Array.from({ length: n }, (_, i) => view.getBigInt64(8 * i, le));
    case 'uint64':
      return BigUint64Array.from({ length: n }, (_, i) => view.getBigUint64(8 * i, le));
    case 'bool': {
      const out = new Uint8Array(n);
      for (let i = 0; i < n; i++) {
        const b = view.getUint8(i);
        if (b > 1) fail(file, `bool element ${i} is byte ${b}, not 0 or 1`);
        out[i] = b;
      }
      return out;
    }
    default:
      return fail(file, `no reader for ${kind.dtype}`);
  }
}

/**
 * Reorders column-major elements into row-major order for the same shape: Fortran order is C order of the
 * reversed shape, so this is the transpose that reverses the axes.
 */
function fortranToC<T extends Elements>(data: T, shape: readonly number[]): T {
  const reversed = [...shape].reverse();
  return transposeData(
    data,
    reversed,
    reversed.map((_, axis) => reversed.length - 1 - axis),
  ) as T;
}

// --- The header dict: a Python literal such as {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), } ---

function parseHeaderDict(text: string, file: string): { descr: string; fortranOrder: boolean; shape: number[] } {
  let pos = 0;
  const bad = (what: string): never =>
    fail(file, `malformed header dict (${what} at character ${pos}): ${JSON.stringify(text.trimEnd())}`);
  const skip = () => {
    while (pos < text.length && ' \t\r\n'.includes(text[pos]!)) pos++;
  };
  const expect = (ch: string) => {
    skip();
    if (text[pos] !== ch) bad(`expected '${ch}'`);
    pos++;
  };
  const peek = () => {
    skip();
    return text[pos];
  };
  const string = (): string => {
    skip();
    const quote = text[pos];
    if (quote !== "'" && quote !== '"') bad('expected a string');
    const end = text.indexOf(quote!, pos + 1);
    if (end < 0) bad('unterminated string');
    const value = text.slice(pos + 1, end);
    if (value.includes('\\')) bad('escapes in strings are not supported');
    pos = end + 1;
    return value;
  };
  const integer = (): number => {
    skip();
    const m = /^\d+L?/.exec(text.slice(pos));
    if (!m) bad('expected a non-negative integer');
    pos += m![0].length;
    const value = Number(m![0].replace('L', ''));
    if (!Number.isSafeInteger(value)) bad(`dimension ${m![0]} is too large`);
    return value;
  };
  const value = (key: string): unknown => {
    const ch = peek();
    if (ch === "'" || ch === '"') return string();
    if (ch === '(') {
      pos++;
      const items: number[] = [];
      while (peek() !== ')') {
        items.push(integer());
        if (peek() === ',') pos++;
        else if (peek() !== ')') bad(`expected ',' or ')' in ${key}`);
      }
      pos++;
      // Python needs the trailing comma for one-element tuples; "(3)" is the integer 3.
      if (items.length === 1 && !/,\s*\)$/.test(text.slice(0, pos)))
        bad(`${key} is a parenthesised integer, not a tuple (a one-element tuple needs a comma)`);
      return items;
    }
    if (ch === '[') bad(`${key} is a list (structured dtypes are not supported)`);
    for (const word of ['True', 'False']) {
      if (text.startsWith(word, pos)) {
        pos += word.length;
        return word === 'True';
      }
    }
    return bad(`unsupported value for ${key}`);
  };
  const fields = new Map<string, unknown>();
  expect('{');
  while (peek() !== '}') {
    if (pos >= text.length) bad('unterminated dict');
    const key = string();
    expect(':');
    if (fields.has(key)) bad(`duplicate key '${key}'`);
    fields.set(key, value(key));
    if (peek() === ',') pos++;
    else if (peek() !== '}') bad("expected ',' or '}'");
  }
  pos++;
  skip();
  if (pos !== text.length) bad('text after the dict');
  const keys = [...fields.keys()].sort().join(', ');
  if (keys !== 'descr, fortran_order, shape') {
    fail(file, `the header dict must have exactly the keys descr, fortran_order, shape (it has ${keys || 'none'})`);
  }
  const descr = fields.get('descr');
  const fortranOrder = fields.get('fortran_order');
  const shape = fields.get('shape');
  if (typeof descr !== 'string') return fail(file, "'descr' is not a string");
  if (typeof fortranOrder !== 'boolean') return fail(file, "'fortran_order' is not True or False");
  if (!Array.isArray(shape)) return fail(file, "'shape' is not a tuple");
  return { descr, fortranOrder, shape: shape as number[] };
}
