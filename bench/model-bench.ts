// Benchmarks one real model (index into REAL_MODELS) in its own process, so peak memory is its own.
// Prints one JSON line: medians in ms for onnxruntime-node and for our engine under each scheme.
import { MultiplyContext } from '../src/engine/multiply';
import { startGemmPool } from '../src/engine/parallel/node-pool';
import { compileKernelsOptimized } from '../src/engine/parallel/wasm-tiering';
import { Session } from '../src/engine/session';
import { loadModelFile } from '../src/onnx/node-fs';
import { ortFeeds, ortSession } from '../test/fixtures/ort';
import { REAL_MODELS } from '../test/fixtures/real-models';
import { BENCH_SCHEMES } from './schemes';
import { medians } from './timing';

async function main(): Promise<void> {
  compileKernelsOptimized();
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
  const session = new Session(model);
  // Our engine gets the same thread count: its f32 GEMMs split over a worker_threads pool.
  const pool = startGemmPool(threads);
  const runScheme = (scheme: string) => {
    const multiply = new MultiplyContext({ scheme });
    return () => session.run(feeds, { multiply });
  };
  // onnxruntime and our exact mode in turn, then each scheme in turn with our exact mode.
  const [ortMs, exactMs] = (await medians(runs, [() => ort.run(ortFeed), runScheme('exact')])) as [number, number];
  const schemes: Record<string, number> = { exact: exactMs };
  for (const scheme of BENCH_SCHEMES) {
    if (scheme === 'exact') continue;
    const [exact, ms] = (await medians(runs, [runScheme('exact'), runScheme(scheme)])) as [number, number];
    // Scheme times are reported against this round's exact median, so each ratio comes from one stretch.
    schemes[scheme] = (ms / exact) * exactMs;
  }
  await pool?.close();
  const peakRssMiB = process.resourceUsage().maxRSS / 1024;
  process.stdout.write(JSON.stringify({ name: c.name, runs, threads, ortMs, schemes, peakRssMiB }) + '\n');
}

void main();
