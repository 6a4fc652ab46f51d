/** Shared test helpers: locations, small hand-built ONNX models, error assertions. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { onnx } from 'onnx-proto';
import { OnnxLoadError, type OnnxLoadErrorKind } from '../../src/onnx/errors';

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
export const conformanceRoot = path.resolve(repoRoot, '..', 'shared', 'onnx-conformance');

export const FLOAT = onnx.TensorProto.DataType.FLOAT;
export const INT64 = onnx.TensorProto.DataType.INT64;

/** A fresh folder, removed when the test process exits. */
export function tempDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'lmul-onnx-test-'));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A float32 initializer with raw_data. */
export function floatTensor(name: string, dims: number[], values: number[]): onnx.ITensorProto {
  return { name, dims, dataType: FLOAT, rawData: new Uint8Array(Float32Array.from(values).buffer) };
}

export function tensorValue(name: string, elemType: number, dims: (number | string | null)[]): onnx.IValueInfoProto {
  const dim = dims.map((d) => (typeof d === 'number' ? { dimValue: d } : d === null ? {} : { dimParam: d }));
  return { name, type: { tensorType: { elemType, shape: { dim } } } };
}

export function node(
  opType: string,
  input: string[],
  output: string[],
  name = '',
  attribute: onnx.IAttributeProto[] = [],
): onnx.INodeProto {
  return { opType, input, output, name, attribute };
}

export function modelBytes(graph: onnx.IGraphProto, extra: onnx.IModelProto = {}): Uint8Array {
  return onnx.ModelProto.encode({ irVersion: 8, opsetImport: [{ domain: '', version: 17 }], graph, ...extra }).finish();
}

/** x → Relu → y, then y * W → z: a valid model of a few hundred bytes. */
export function smallGraph(): onnx.IGraphProto {
  return {
    name: 'small',
    input: [tensorValue('x', FLOAT, ['batch', 3])],
    output: [tensorValue('z', FLOAT, ['batch', 3])],
    initializer: [floatTensor('W', [3], [1, 2, 3])],
    node: [node('Relu', ['x'], ['y'], 'relu'), node('Mul', ['y', 'W'], ['z'], 'mul')],
  };
}

/** Asserts that `run` fails with an OnnxLoadError of `kind` whose message matches every pattern. */
export async function rejectsWith(
  run: () => unknown,
  kind: OnnxLoadErrorKind,
  ...patterns: RegExp[]
): Promise<OnnxLoadError> {
  let error: unknown;
  try {
    await run();
  } catch (e) {
    error = e;
  }
  assert.ok(
    error instanceof OnnxLoadError,
    `expected an OnnxLoadError, got ${error instanceof Error ? error.stack : String(error)}`,
  );
  assert.equal(error.kind, kind, `kind of: ${error.message}`);
  for (const pattern of patterns) assert.match(error.message, pattern);
  return error;
}

/** A seeded PRNG (the product's mulberry32), so fuzz cases are reproducible. */
export { seededUniform as seededRandom } from '../../src/audit/random';

/** protobufjs's 64-bit integer type (from the `long` package). */
type Long = Exclude<NonNullable<onnx.ITensorProto['dims']>[number], number>;

/** A 64-bit integer as protobufjs's writer accepts it beyond 2^53: 32-bit halves. */
export function int64(value: bigint): Long {
  const bits = BigInt.asUintN(64, value);
  return { low: Number(bits & 0xffffffffn) | 0, high: Number(bits >> 32n) | 0, unsigned: false } as unknown as Long;
}
