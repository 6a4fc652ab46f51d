/**
 * Runs the official ONNX backend test cases (../shared/onnx-conformance) through the engine in exact mode
 * and compares with the reference outputs: floats within rtol 1e-3 / atol 1e-7 (ONNX's own tolerances),
 * everything else exactly.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { decodeTensorProto, type Tensor } from '../../src/onnx';
import { loadModelFile } from '../../src/onnx/node-fs';
import { Session, UnsupportedOperatorError } from '../../src/engine/session';
import type { Value } from '../../src/engine/types';

export const CONFORMANCE_ROOT = resolve(__dirname, '..', '..', '..', 'shared', 'onnx-conformance');
export const SUITES = ['node', 'pytorch-converted', 'pytorch-operator', 'simple'] as const;

export type Outcome = 'pass' | 'fail' | 'unsupported';

export interface CaseResult {
  readonly suite: string;
  readonly name: string;
  /** The operator the case tests: its single node's op type, or the expanded op it spells out. */
  readonly op: string;
  readonly outcome: Outcome;
  readonly detail: string;
}

export interface ConformanceCase {
  readonly suite: string;
  readonly name: string;
  readonly dir: string;
}

export function listCases(): ConformanceCase[] {
  if (!existsSync(CONFORMANCE_ROOT)) {
    throw new Error(`ONNX conformance data not found at ${CONFORMANCE_ROOT}: clone this repository beside ../shared`);
  }
  return SUITES.flatMap((suite) =>
    readdirSync(join(CONFORMANCE_ROOT, suite))
      .filter((name) => existsSync(join(CONFORMANCE_ROOT, suite, name, 'model.onnx')))
      .sort()
      .map((name) => ({ suite, name, dir: join(CONFORMANCE_ROOT, suite, name) })),
  );
}

const RTOL = 1e-3;
const ATOL = 1e-7;

export async function runCase(c: ConformanceCase): Promise<CaseResult> {
  const result = (op: string, outcome: Outcome, detail = '') => ({ suite: c.suite, name: c.name, op, outcome, detail });
  let op = c.name;
  try {
    const model = await loadModelFile(join(c.dir, 'model.onnx'));
    op = caseOperator(
      c.name,
      model.graph.nodes.map((n) => n.opType),
    );
    let session: Session;
    try {
      session = new Session(model);
    } catch (error) {
      if (error instanceof UnsupportedOperatorError)
        return result(op, 'unsupported', error.message.split('\n')[1]!.trim());
      throw error;
    }
    const dataSets = readdirSync(c.dir)
      .filter((d) => d.startsWith('test_data_set_'))
      .sort();
    for (const dataSet of dataSets) {
      const dir = join(c.dir, dataSet);
      const inputs = readTensors(dir, 'input');
      const expected = readTensors(dir, 'output');
      if (inputs === null || expected === null) return result(op, 'unsupported', 'sequence/map/optional test data');
      const feedNames = model.graph.inputs.filter((i) => !i.isInitializer).map((i) => i.name);
      const feeds = new Map(inputs.map((t, i) => [feedNames[i] ?? t.name, t] as const));
      const outputs = [...session.run(feeds).values()];
      for (let i = 0; i < expected.length; i++) {
        const problem = compare(outputs[i], expected[i]!);
        if (problem) return result(op, 'fail', `${dataSet} output ${i}: ${problem}`);
      }
    }
    return result(op, 'pass');
  } catch (error) {
    return result(op, 'fail', error instanceof Error ? error.message.split('\n')[0]! : String(error));
  }
}

/** Tensors input_0.pb, input_1.pb, … of a data set; null if one of them is not a TensorProto. */
function readTensors(dir: string, prefix: 'input' | 'output'): Tensor[] | null {
  const files = readdirSync(dir)
    .filter((f) => f.startsWith(`${prefix}_`) && f.endsWith('.pb'))
    .sort((a, b) => Number(a.slice(prefix.length + 1, -3)) - Number(b.slice(prefix.length + 1, -3)));
  const tensors: Tensor[] = [];
  for (const f of files) {
    try {
      tensors.push(decodeTensorProto(readFileSync(join(dir, f))));
    } catch {
      return null;
    }
  }
  return tensors;
}

function caseOperator(caseName: string, opTypes: string[]): string {
  const ops = opTypes.filter((op) => op !== 'Constant');
  if (/_expanded(_ver\d+)?$/.test(caseName))
    return `${caseName.replace(/^test_/, '').replace(/_expanded.*$/, '')} (expanded)`;
  if (ops.length === 1) return ops[0]!;
  if (opTypes.length === 1) return opTypes[0]!;
  return `multi-node: ${caseName.replace(/^test_/, '')}`;
}

export function compare(actual: Value | undefined, expected: Tensor): string | null {
  if (actual === undefined) return 'no value';
  if (Array.isArray(actual)) return 'got a sequence, expected a tensor';
  if (actual.dtype !== expected.dtype) return `dtype ${actual.dtype}, expected ${expected.dtype}`;
  if (actual.dims.join(',') !== expected.dims.join(',')) return `shape [${actual.dims}], expected [${expected.dims}]`;
  const a = actual.data as ArrayLike<unknown>;
  const e = expected.data as ArrayLike<unknown>;
  if (a.length !== e.length) return `${a.length} elements, expected ${e.length}`;
  const isFloat = a instanceof Float32Array || a instanceof Float64Array;
  for (let i = 0; i < e.length; i++) {
    const x = a[i];
    const y = e[i];
    if (isFloat) {
      const xv = x as number;
      const yv = y as number;
      if (Number.isNaN(yv) ? Number.isNaN(xv) : xv === yv || Math.abs(xv - yv) <= ATOL + RTOL * Math.abs(yv)) continue;
    } else if (x === y) {
      continue;
    }
    return `element ${i} is ${String(x)}, expected ${String(y)}`;
  }
  return null;
}
