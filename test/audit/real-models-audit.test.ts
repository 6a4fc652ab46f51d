/**
 * The audit on every real model: the exact scheme is error-free at every node, the reported output error
 * equals that of a separate converted run, energy adds up per node, and the chosen plan re-verifies.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runAudit } from '../../src/audit/audit';
import { parseBudget, worstValue } from '../../src/audit/budget';
import { DEFAULT_ENERGY_TABLE, type EnergySettings } from '../../src/audit/energy';
import { ErrorAccumulator } from '../../src/audit/metrics';
import { energyByNode, PlanEvaluator, searchPlan } from '../../src/audit/plan';
import { MultiplyContext } from '../../src/engine/multiply';
import { Session } from '../../src/engine/session';
import type { Tensor } from '../../src/onnx';
import { loadModelFile } from '../../src/onnx/node-fs';
import { REAL_MODELS } from '../fixtures/real-models';

const energySettings: EnergySettings = {
  table: DEFAULT_ENERGY_TABLE,
  accumulation: 'fp32',
  memoryLevel: 'sram1MB',
  enabledGroups: { multiply: true, normalization: true, activation: false },
};

for (const c of REAL_MODELS) {
  test(`audit of ${c.name}`, async () => {
    const model = await loadModelFile(c.path);
    const session = new Session(model);
    const names = model.graph.inputs.filter((i) => !i.isInitializer).map((i) => i.name);
    const samples = [new Map(c.inputs().map((t, i) => [names[i]!, t]))];
    const audit = runAudit(session, samples, { schemes: ['exact', 'lmul4'] });
    assert.ok(audit.nodes.length > 0);
    for (const node of audit.nodes) {
      assert.equal(node.schemes.exact!.isolated.relL2, 0, node.name);
      assert.equal(node.schemes.exact!.propagated.relL2, 0, node.name);
    }
    for (const [name, perScheme] of Object.entries(audit.outputs)) {
      assert.equal(perScheme.exact!.relL2, 0, name);
      const reference = session.run(samples[0]!).get(name) as Tensor;
      const converted = session.run(samples[0]!, { multiply: new MultiplyContext({ scheme: 'lmul4' }) }).get(name) as Tensor;
      const expected = new ErrorAccumulator();
      expected.add(converted.data as Float32Array, reference.data as Float32Array);
      assert.equal(perScheme.lmul4!.relL2, expected.metrics().relL2, name);
    }
    const energy = energyByNode(audit, energySettings);
    for (const node of audit.nodes) {
      const e = energy.get(node.name)!;
      assert.equal(e.exact!.schemePj, e.exact!.exactPj, node.name);
      assert.ok(e.lmul4!.schemePj <= e.lmul4!.exactPj, node.name);
    }
    const budget = parseBudget('relL2<=0.05');
    const evaluator = new PlanEvaluator(session, samples, audit.settings);
    const search = searchPlan(audit, evaluator, budget, energySettings, { maxEvaluations: 8 });
    assert.ok(search.best.meetsBudget);
    const again = evaluator.outputs(search.best.assignment);
    assert.equal(worstValue(budget, again), search.best.value, 'the plan re-verifies to the same value');
  });
}
