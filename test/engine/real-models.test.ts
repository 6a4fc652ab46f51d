/**
 * Exact mode against onnxruntime-node (the oracle) on real third-party models: relative L2 error below
 * 1e-5 on every output.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Session } from '../../src/engine/session';
import { loadModelFile } from '../../src/onnx/node-fs';
import { ortFeeds, ortSession, relativeL2 } from '../fixtures/ort';
import { REAL_MODELS } from '../fixtures/real-models';

for (const c of REAL_MODELS) {
  test(`${c.name}: exact mode matches onnxruntime-node`, async () => {
    const model = await loadModelFile(c.path);
    const inputs = c.inputs();
    const names = model.graph.inputs.filter((i) => !i.isInitializer).map((i) => i.name);
    const ours = new Session(model).run(new Map(inputs.map((t, i) => [names[i]!, t])));
    const session = await ortSession(c.path, 1, false);
    const reference = await session.run(ortFeeds(names, inputs));
    for (const name of session.outputNames) {
      const mine = ours.get(name);
      assert.ok(mine && !Array.isArray(mine), `output ${name} missing`);
      const expected = reference[name]!;
      assert.deepEqual(mine.dims, [...expected.dims], `${name} shape`);
      const error = relativeL2(mine.data as Float32Array, expected.data as Float32Array);
      assert.ok(error < 1e-5, `${name}: relative L2 error ${error.toExponential(2)}`);
    }
  });
}
