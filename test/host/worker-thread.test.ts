/** The desktop job worker as the extension starts it: the built dist/worker.js in a Node worker thread. */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { test } from 'node:test';
import { Worker } from 'node:worker_threads';
import { DEFAULT_ENERGY_TABLE } from '../../src/audit/energy';
import type { JobReply, JobRequest } from '../../src/host/jobs';
import { REAL_MODELS } from '../fixtures/real-models';

const SCRIPT = resolve('dist/worker.js');
const rec = REAL_MODELS.find((m) => m.name === 'PaddleOCR v4 rec')!;

function startWorker(): Worker {
  assert.ok(existsSync(SCRIPT), `${SCRIPT} is missing: run node scripts/build.mjs first`);
  return new Worker(SCRIPT);
}

function nextReply(worker: Worker, accept: (reply: JobReply) => boolean): Promise<JobReply> {
  return new Promise((resolve, reject) => {
    const onMessage = (reply: JobReply) => {
      if (!accept(reply)) return;
      worker.off('message', onMessage);
      resolve(reply);
    };
    worker.on('message', onMessage);
    worker.once('error', reject);
  });
}

test('the worker bundle loads a model from disk and reports its graph', async () => {
  const worker = startWorker();
  try {
    worker.postMessage({ kind: 'load', source: { kind: 'path', path: rec.path } } satisfies JobRequest);
    const reply = await nextReply(worker, (r) => r.kind === 'loaded');
    assert.ok(reply.kind === 'loaded' && reply.result.ok, JSON.stringify(reply).slice(0, 300));
    if (!reply.result.ok) return;
    assert.ok(reply.result.graph.nodes.some((n) => n.opType === 'Conv'));
  } finally {
    await worker.terminate();
  }
});

test('a busy audit stops when the host terminates its worker (how Cancel works)', async () => {
  const worker = startWorker();
  const request: JobRequest = {
    kind: 'audit',
    source: { kind: 'path', path: rec.path },
    settings: {
      schemes: ['lmul3', 'lmul4', 'e4m3', 'e5m2'],
      accumulation: 'fp32',
      fp8Scaling: 'per-tensor',
      replaceNormalization: true,
      replaceActivation: false,
      budget: 'sqnr>=30',
      energyTable: DEFAULT_ENERGY_TABLE,
      memoryLevel: 'sram1MB',
      maxEvaluations: 30,
      inputs: { kind: 'synthetic', seed: 1, samples: 1, dims: {}, defaultDim: 320 },
    },
    sampleFiles: new Map(),
  };
  worker.postMessage(request);
  const progress = await nextReply(worker, (r) => r.kind === 'progress' || r.kind === 'failed' || r.kind === 'audited');
  assert.equal(progress.kind, 'progress', 'the audit is under way, not finished or failed');
  const finished = new Promise<'audited'>((resolve) =>
    worker.on('message', (r: JobReply) => r.kind === 'audited' && resolve('audited')),
  );
  const exited = new Promise<'exited'>((resolve) => worker.once('exit', () => resolve('exited')));
  await worker.terminate();
  assert.equal(await Promise.race([exited, finished]), 'exited');
});
