/**
 * The official ONNX backend test data (../shared/onnx-conformance, see its PROVENANCE.md): every
 * model must load and sort, except those listed with a reason; every tensor file must decode.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import type { DType } from '../../src/onnx/dtype';
import { OnnxLoadError, type OnnxLoadErrorKind } from '../../src/onnx/errors';
import type { OnnxModel, ValueInfo } from '../../src/onnx/model';
import { loadModelFile } from '../../src/onnx/node-fs';
import { decodeTensorProto, elementCount, type Tensor } from '../../src/onnx/tensor';
import { orderModel } from '../../src/onnx/topo';
import { conformanceRoot } from './helpers';

const GROUPS = ['node', 'pytorch-converted', 'pytorch-operator', 'simple'];

/**
 * Models expected to fail, as 'group/case' → the OnnxLoadError kind, each with its reason.
 * Currently none: every conformance model is a valid ONNX model and loads. Anything added here
 * must keep failing, and any model not listed must keep loading.
 */
const EXPECTED_FAILURES = new Map<string, OnnxLoadErrorKind>([]);

/**
 * Values of sequence, optional or map type are stored as SequenceProto/OptionalProto/MapProto
 * (onnx-data.proto), which this loader does not decode; read as TensorProto they must be refused.
 * The snapshot holds exactly this many such files.
 */
const NON_TENSOR_VALUE_FILES = 57;

interface Case {
  readonly id: string;
  readonly dir: string;
}

/** All cases; fails (never skips) when the data is not where PROVENANCE.md says it belongs. */
function listCases(): Case[] {
  assert.ok(
    existsSync(conformanceRoot),
    `the ONNX conformance data is missing: expected it at ${conformanceRoot} (a sibling "shared/onnx-conformance" of the repository)`,
  );
  return GROUPS.flatMap((group) =>
    readdirSync(path.join(conformanceRoot, group))
      .sort()
      .map((name) => ({ id: `${group}/${name}`, dir: path.join(conformanceRoot, group, name) })),
  );
}

let listed: Case[] | undefined;
function conformanceCases(): Case[] {
  listed ??= listCases();
  return listed;
}

const models = new Map<string, OnnxModel>();

test('every conformance model loads and sorts, or fails exactly as listed', async () => {
  const cases = conformanceCases();
  assert.ok(cases.length > 1900, `only ${cases.length} conformance cases found under ${conformanceRoot}`);
  const problems: string[] = [];
  for (const { id, dir } of cases) {
    const expected = EXPECTED_FAILURES.get(id);
    try {
      const model = await loadModelFile(path.join(dir, 'model.onnx'));
      orderModel(model);
      models.set(id, model);
      if (expected) problems.push(`${id}: loads now, but is listed as failing with '${expected}'`);
    } catch (e) {
      if (!(e instanceof OnnxLoadError)) problems.push(`${id}: threw a non-OnnxLoadError: ${(e as Error).stack}`);
      else if (e.kind !== expected)
        problems.push(`${id}: ${e.kind}: ${e.message}${expected ? ` (listed as '${expected}')` : ''}`);
    }
  }
  assert.deepEqual(problems, []);
});

function isNaNValue(v: unknown): boolean {
  return typeof v === 'number' && Number.isNaN(v);
}

/** Declared type of the value a test data file binds to: inputs in order (initializers excluded), then outputs. */
function boundValue(model: OnnxModel | undefined, file: string): ValueInfo | undefined {
  const [, kind, index] = /^(input|output)_(\d+)\.pb$/.exec(file) ?? [];
  if (!model || !kind) return undefined;
  const values = kind === 'input' ? model.graph.inputs.filter((v) => !v.isInitializer) : model.graph.outputs;
  return values[Number(index)];
}

test('every input_K.pb / output_K.pb decodes with as many elements as its dims say', () => {
  const cases = conformanceCases();
  assert.ok(models.size > 0, 'the model test must run first');
  const problems: string[] = [];
  const dtypes = new Set<DType>();
  let tensors = 0;
  let refused = 0;
  for (const { id, dir } of cases) {
    for (const set of readdirSync(dir).filter((d) => d.startsWith('test_data_set_'))) {
      for (const file of readdirSync(path.join(dir, set)).filter((f) => f.endsWith('.pb'))) {
        const where = `${id}/${set}/${file}`;
        const bytes = readFileSync(path.join(dir, set, file));
        const declared = boundValue(models.get(id), file)?.type;
        if (declared && declared.kind !== 'tensor') {
          try {
            decodeTensorProto(bytes);
            problems.push(`${where}: a ${declared.kind} value decoded as a tensor`);
          } catch (e) {
            if (e instanceof OnnxLoadError) refused++;
            else problems.push(`${where}: threw a non-OnnxLoadError: ${(e as Error).stack}`);
          }
          continue;
        }
        try {
          const tensor = decodeTensorProto(bytes);
          const perElement = tensor.dtype === 'complex64' || tensor.dtype === 'complex128' ? 2 : 1;
          if (tensor.data.length !== elementCount(tensor.dims) * perElement) {
            problems.push(`${where}: ${tensor.data.length} values for dims [${tensor.dims}]`);
          }
          if (declared?.elemType && declared.elemType !== tensor.dtype) {
            problems.push(`${where}: dtype ${tensor.dtype}, but the model declares ${declared.elemType}`);
          }
          dtypes.add(tensor.dtype);
          tensors++;
        } catch (e) {
          problems.push(`${where}: ${e instanceof OnnxLoadError ? `${e.kind}: ${e.message}` : (e as Error).stack}`);
        }
      }
    }
  }
  assert.deepEqual(problems, []);
  assert.equal(refused, NON_TENSOR_VALUE_FILES);
  assert.ok(tensors > 6000, `only ${tensors} tensor files`);
  // The data has no complex tensors; every other element type occurs.
  const absent = (
    [
      'float32',
      'float64',
      'float16',
      'bfloat16',
      'float8e4m3fn',
      'float8e4m3fnuz',
      'float8e5m2',
      'float8e5m2fnuz',
      'float8e8m0',
      'float4e2m1',
      'int2',
      'uint2',
      'int4',
      'uint4',
      'int8',
      'uint8',
      'int16',
      'uint16',
      'int32',
      'uint32',
      'int64',
      'uint64',
      'bool',
      'string',
    ] as DType[]
  ).filter((d) => !dtypes.has(d));
  assert.deepEqual(absent, []);
});

test('narrow types decode to exactly the float32 values the reference Cast produced', () => {
  conformanceCases();
  const casts = [
    ...['FLOAT16', 'BFLOAT16', 'FLOAT8E4M3FN', 'FLOAT8E4M3FNUZ', 'FLOAT8E5M2', 'FLOAT8E5M2FNUZ', 'FLOAT4E2M1'],
    ...['INT4', 'UINT4', 'INT2', 'UINT2'],
  ].map((from) => `test_cast_${from}_to_FLOAT`);
  for (const name of [...casts, 'test_cast_e8m0_FLOAT8E8M0_to_FLOAT']) {
    const set = path.join(conformanceRoot, 'node', name, 'test_data_set_0');
    const input: Tensor = decodeTensorProto(readFileSync(path.join(set, 'input_0.pb')));
    const output: Tensor = decodeTensorProto(readFileSync(path.join(set, 'output_0.pb')));
    assert.equal(output.dtype, 'float32', name);
    assert.deepEqual(input.dims, output.dims, name);
    const got = [...input.data].map(Number);
    const want = [...output.data].map(Number);
    // Compare exactly, with NaN equal to NaN and -0 distinct from 0.
    got.forEach((v, i) => {
      assert.ok(Object.is(v, want[i]) || (isNaNValue(v) && isNaNValue(want[i])), `${name}[${i}]: ${v} vs ${want[i]}`);
    });
  }
});
