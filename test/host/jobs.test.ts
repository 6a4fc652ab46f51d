/** The extension's job worker logic, run in plain Node exactly as both worker entries run it. */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { onnx } from 'onnx-proto';
import { fromJson, type PlanDocument } from '../../src/audit/documents';
import { DEFAULT_ENERGY_TABLE } from '../../src/audit/energy';
import { nodeSampleFiles } from '../../src/audit/samples-node';
import { JobRunner, type AuditSettings, type JobReply, type JobRequest } from '../../src/host/jobs';
import { encodeTensorProto } from '../../src/onnx';
import { fileSystemReader } from '../../src/onnx/node-fs';
import { REAL_MODELS } from '../fixtures/real-models';
import { FLOAT, modelBytes, node, tempDir, tensorValue } from '../onnx/helpers';

/** Runs one request; answers the worker's external-data requests from `externalFiles`. */
async function runJob(
  request: JobRequest,
  env: { local?: boolean; externalFiles?: Record<string, Uint8Array> } = {},
): Promise<JobReply[]> {
  const replies: JobReply[] = [];
  const runner: JobRunner = new JobRunner({
    ...(env.local
      ? {
          readLocalModel: async (path: string) => ({
            bytes: readFileSync(path),
            externalData: fileSystemReader(dirname(path)),
          }),
          localSampleFiles: nodeSampleFiles,
        }
      : {}),
    post: (reply) => {
      replies.push(reply);
      if (reply.kind === 'readExternal') {
        const file = env.externalFiles?.[reply.location];
        void runner.handle({
          kind: 'externalData',
          id: reply.id,
          ...(file
            ? { bytes: file.slice(reply.offset, reply.offset + reply.length) }
            : { error: `no file ${reply.location}` }),
        });
      }
    },
  });
  await runner.handle(request);
  return replies;
}

const melspectrogram = REAL_MODELS.find((m) => m.name === 'openWakeWord melspectrogram')!;

test('a load job reports the summary, the graph and the SHA-256 of the file', async () => {
  const bytes = readFileSync(melspectrogram.path);
  const [reply] = await runJob({ kind: 'load', source: { kind: 'bytes', bytes, path: 'mel.onnx' } });
  assert.equal(reply?.kind, 'loaded');
  if (reply?.kind !== 'loaded' || !reply.result.ok) throw new Error('expected a loaded model');
  assert.equal(reply.result.sha256, createHash('sha256').update(bytes).digest('hex'));
  assert.equal(reply.result.graph.nodes.length, reply.result.summary.nodes.main + reply.result.summary.nodes.subgraph);
  assert.equal(reply.result.summary.file?.path, 'mel.onnx');
});

test('a load job turns a broken file into an error result', async () => {
  const [reply] = await runJob({
    kind: 'load',
    source: { kind: 'bytes', bytes: new Uint8Array([8, 7, 0xff, 0xff, 0x12]), path: 'bad.onnx' },
  });
  assert.ok(reply?.kind === 'loaded' && !reply.result.ok);
  if (reply.result.ok) return;
  assert.match(reply.result.title, /not a usable ONNX model/);
});

function externalModel(): Uint8Array {
  const weight: onnx.ITensorProto = {
    name: 'w',
    dims: [2],
    dataType: FLOAT,
    dataLocation: onnx.TensorProto.DataLocation.EXTERNAL,
    externalData: [
      { key: 'location', value: 'weights.bin' },
      { key: 'offset', value: '4' },
    ],
  };
  return modelBytes({
    input: [{ name: 'x' }],
    output: [{ name: 'y' }],
    initializer: [weight],
    node: [node('Mul', ['x', 'w'], ['y'], 'mul')],
  });
}

test('a model sent as bytes gets its external data from the host', async () => {
  const weights = new Uint8Array(Float32Array.of(9, 1.5, -2).buffer);
  const replies = await runJob(
    { kind: 'load', source: { kind: 'bytes', bytes: externalModel(), path: 'm.onnx' } },
    { externalFiles: { 'weights.bin': weights } },
  );
  assert.deepEqual(
    replies.filter((r) => r.kind === 'readExternal').map((r) => r.kind === 'readExternal' && r.location),
    ['weights.bin'],
  );
  const loaded = replies.at(-1);
  assert.ok(loaded?.kind === 'loaded' && loaded.result.ok);
  if (!loaded.result.ok) return;
  const w = loaded.result.graph.values.find((v) => v.name === 'w');
  assert.deepEqual(w?.stats && [w.stats.min, w.stats.max], [-2, 1.5]);
});

test('a missing external file is a clear load error', async () => {
  const replies = await runJob({ kind: 'load', source: { kind: 'bytes', bytes: externalModel(), path: 'm.onnx' } });
  const loaded = replies.at(-1);
  assert.ok(loaded?.kind === 'loaded' && !loaded.result.ok);
  if (loaded.result.ok) return;
  assert.match(loaded.result.message, /no file weights\.bin/);
});

const settings = (inputs: AuditSettings['inputs']): AuditSettings => ({
  schemes: ['lmul4', 'e4m3'],
  accumulation: 'fp32',
  fp8Scaling: 'per-tensor',
  replaceNormalization: true,
  replaceActivation: false,
  budget: 'sqnr>=20',
  energyTable: DEFAULT_ENERGY_TABLE,
  memoryLevel: 'sram1MB',
  maxEvaluations: 5,
  inputs,
});

test('an audit job reports progress, the view and the plan documents; in-memory inputs equal local files', async () => {
  const dir = tempDir();
  const [input] = melspectrogram.inputs();
  writeFileSync(join(dir, 'input_0.pb'), encodeTensorProto(input!));
  const request = (sampleFiles: Map<string, Uint8Array>): Extract<JobRequest, { kind: 'audit' }> => ({
    kind: 'audit',
    source: { kind: 'path', path: melspectrogram.path },
    settings: settings({ kind: 'files', dir }),
    sampleFiles,
  });
  const local = await runJob(request(new Map()), { local: true });
  const done = local.at(-1);
  assert.equal(done?.kind, 'audited', JSON.stringify(done));
  if (done?.kind !== 'audited') return;
  assert.ok(local.some((r) => r.kind === 'progress' && r.phase === 'audit'));
  assert.ok(local.some((r) => r.kind === 'progress' && r.phase === 'plan search'));
  const plan = fromJson<PlanDocument>(done.documents.planJson);
  assert.equal(plan.schema, 'lmul-audit/plan');
  assert.deepEqual(done.view.plan.assignment, plan.assignment);
  assert.equal(done.view.modelSha256, plan.model.sha256);
  assert.deepEqual(done.view.schemes, ['lmul4', 'e4m3']);
  assert.ok(done.view.nodes.length > 0 && done.view.nodes.every((n) => n.multiplies > 0));
  assert.match(done.documents.planMarkdown, /lmul4|e4m3|exact/);

  // The web worker gets the same folder as bytes from the host and must reach the same result.
  const bytes = readFileSync(melspectrogram.path);
  const web = await runJob({
    ...request(new Map([[join(dir, 'input_0.pb').replace(/\\/g, '/'), readFileSync(join(dir, 'input_0.pb'))]])),
    source: { kind: 'bytes', bytes, path: melspectrogram.path },
  });
  const webDone = web.at(-1);
  assert.equal(webDone?.kind, 'audited');
  if (webDone?.kind !== 'audited') return;
  assert.deepEqual({ ...webDone.view, seconds: 0 }, { ...done.view, seconds: 0 });
});

test('an audit job reports a bad input as a failure, not a crash', async () => {
  const bytes = modelBytes({
    input: [tensorValue('x', FLOAT, ['n'])],
    output: [{ name: 'y' }],
    node: [node('Mul', ['x', 'x'], ['y'], 'square')],
  });
  const [reply] = await runJob({
    kind: 'audit',
    source: { kind: 'bytes', bytes, path: 'square.onnx' },
    settings: settings({ kind: 'synthetic', seed: 1, samples: 1, dims: {} }),
    sampleFiles: new Map(),
  });
  assert.equal(reply?.kind, 'failed');
  if (reply?.kind !== 'failed') return;
  assert.match(reply.message, /symbolic dimension "n"/);
});
