// Benchmarks one real model (index into REAL_MODELS) in its own process, so peak memory is its own.
// Prints one JSON line: medians in ms for onnxruntime-node and for our engine under each scheme.
import { MultiplyContext } from '../src/engine/multiply';
import { startGemmPool } from '../src/engine/parallel/node-pool';
import { Session } from '../src/engine/session';
import { loadModelFile } from '../src/onnx/node-fs';
import { ortFeeds, ortSession } from '../test/fixtures/ort';
import { REAL_MODELS } from '../test/fixtures/real-models';
import { BENCH_SCHEMES } from './schemes';

async function median(runs: number, f: () => unknown): Promise<number> {
  await f(); // warm-up: JIT, weight preparation, allocator
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    await f();
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}

async function main(): Promise<void> {
  const [index, runsText, threadsText] = process.argv.slice(2);
  const c = REAL_MODELS[Number(index)]!;
  const runs = Number(runsText ?? 5);
  const threads = Number(threadsText ?? 1);
  const model = await loadModelFile(c.path);
  const inputs = c.inputs();
  const names = model.graph.inputs.filter((i) => !i.isInitializer).map((i) => i.name);
  const feeds = new Map(inputs.map((t, i) => [names[i]!, t]));
  const ort = await ortSession(c.path, threads, true);
  const ortFeed = ortFeeds(names, inputs);
  const ortMs = await median(runs, () => ort.run(ortFeed));
  const session = new Session(model);
  // Our engine gets the same thread count: its f32 GEMMs split over a worker_threads pool.
  const pool = startGemmPool(threads);
  const schemes: Record<string, number> = {};
  for (const scheme of BENCH_SCHEMES) {
    const multiply = new MultiplyContext({ scheme });
    schemes[scheme] = await median(runs, () => session.run(feeds, { multiply }));
  }
  await pool?.close();
  const peakRssMiB = process.resourceUsage().maxRSS / 1024;
  process.stdout.write(JSON.stringify({ name: c.name, runs, threads, ortMs, schemes, peakRssMiB }) + '\n');
}

void main();
