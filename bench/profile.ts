// Per-operator profile of one real model under some schemes: where the engine's time goes.
// `npx tsx bench/profile.ts <model index> [scheme,scheme…] [runs]` prints, per scheme, the total time and
// the op types (and slowest nodes) by time. A node's time is the wall time since the previous node
// finished, so it includes the executor's own overhead; subgraph bodies are charged to their own nodes.
import { MultiplyContext } from '../src/engine/multiply';
import { compileKernelsOptimized } from '../src/engine/parallel/wasm-tiering';
import { Session } from '../src/engine/session';
import { loadModelFile } from '../src/onnx/node-fs';
import { REAL_MODELS } from '../test/fixtures/real-models';

async function main(): Promise<void> {
  compileKernelsOptimized();
  const [index = '0', schemeList = 'exact', runsText = '3'] = process.argv.slice(2);
  const c = REAL_MODELS[Number(index)]!;
  const model = await loadModelFile(c.path);
  const session = new Session(model);
  const feeds = new Map(session.inputNames.map((name, i) => [name, c.inputs()[i]!]));
  const runs = Number(runsText);
  for (const scheme of schemeList.split(',')) {
    const multiply = new MultiplyContext({ scheme });
    session.run(feeds, { multiply }); // warm-up: JIT and weight preparation
    const byOp = new Map<string, { ms: number; count: number }>();
    const byNode = new Map<string, number>();
    let last = 0;
    const start = performance.now();
    for (let r = 0; r < runs; r++) {
      last = performance.now();
      session.run(feeds, {
        multiply,
        observerKeepsNothing: true,
        observeNode: (node) => {
          const now = performance.now();
          const entry = byOp.get(node.opType) ?? { ms: 0, count: 0 };
          entry.ms += (now - last) / runs;
          entry.count += 1 / runs;
          byOp.set(node.opType, entry);
          const key = `${node.opType} ${node.name}`;
          byNode.set(key, (byNode.get(key) ?? 0) + (now - last) / runs);
          last = now;
        },
      });
    }
    const total = (performance.now() - start) / runs;
    console.log(`\n${c.name} — ${scheme}: ${total.toFixed(1)} ms per run`);
    for (const [op, { ms, count }] of [...byOp].sort((a, b) => b[1].ms - a[1].ms).slice(0, 8))
      console.log(`  ${op.padEnd(22)} ${ms.toFixed(2).padStart(9)} ms  ×${Math.round(count)}`);
    console.log('  slowest nodes:');
    for (const [name, ms] of [...byNode].sort((a, b) => b[1] - a[1]).slice(0, 5))
      console.log(`    ${name.padEnd(60)} ${ms.toFixed(2).padStart(9)} ms`);
  }
}

void main();
