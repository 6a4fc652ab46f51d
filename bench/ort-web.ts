// Our exact mode vs onnxruntime-web's WebAssembly SIMD backend (the fair peer of a WebAssembly engine) and
// onnxruntime-node (native, AVX-512 here), one thread each, same inputs, medians of runs in turn after warm-ups
// (bench/timing.ts), all in one process. Prints a Markdown table and, with --write, puts it into bench/RESULTS.md as its own section.
import { readFileSync, writeFileSync } from 'node:fs';
import * as ortNode from 'onnxruntime-node';
import * as ortWeb from 'onnxruntime-web';
import { parseArgs } from 'node:util';
import { compileKernelsOptimized } from '../src/engine/parallel/wasm-tiering';
import { Session } from '../src/engine/session';
import { loadModelFile } from '../src/onnx/node-fs';
import type { Tensor } from '../src/onnx';
import { REAL_MODELS } from '../test/fixtures/real-models';
import { medians } from './timing';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '5' }, write: { type: 'boolean' } } });
const runs = Number(values.runs);

function feeds<T>(names: string[], inputs: Tensor[], make: (type: 'int64' | 'float32', t: Tensor) => T) {
  return Object.fromEntries(
    inputs.map((t, i) => {
      if (t.dtype !== 'int64' && t.dtype !== 'float32') throw new Error(`no onnxruntime tensor for ${t.dtype}`);
      return [names[i]!, make(t.dtype, t)];
    }),
  );
}

async function main(): Promise<void> {
  compileKernelsOptimized(); // both WebAssembly engines compiled optimized from the start
  ortWeb.env.wasm.numThreads = 1;
  ortWeb.env.wasm.simd = true;
  const rows: string[] = [];
  for (const c of REAL_MODELS) {
    const model = await loadModelFile(c.path);
    const inputs = c.inputs();
    const names = model.graph.inputs.filter((i) => !i.isInitializer).map((i) => i.name);
    const session = new Session(model);
    const node = await ortNode.InferenceSession.create(c.path, { intraOpNumThreads: 1, interOpNumThreads: 1 });
    const web = await ortWeb.InferenceSession.create(readFileSync(c.path), { executionProviders: ['wasm'] });
    const [ours, nodeMs, webMs] = (await medians(runs, [
      () => session.run(new Map(inputs.map((t, i) => [names[i]!, t]))),
      () => node.run(feeds(names, inputs, (type, t) => new ortNode.Tensor(type, t.data as Float32Array, t.dims))),
      () => web.run(feeds(names, inputs, (type, t) => new ortWeb.Tensor(type, t.data as Float32Array, t.dims))),
    ])) as [number, number, number];
    rows.push(
      `| ${c.name} | ${nodeMs.toFixed(2)} | ${webMs.toFixed(2)} | ${ours.toFixed(1)} | ${(webMs / ours).toFixed(3)}× | ${(nodeMs / ours).toFixed(3)}× | ${(nodeMs / webMs).toFixed(2)}× |`,
    );
    process.stderr.write(`${c.name} done\n`);
  }

  const section = `## onnxruntime-web (WebAssembly SIMD) as a peer

Command: \`npx tsx bench/ort-web.ts --runs ${runs} --write\` — ${new Date().toISOString().slice(0, 10)}, Node ${process.version}, one thread each.

Our exact mode against onnxruntime-web ${ortWeb.env.versions.web}'s \`wasm\` backend (SIMD, one thread: what a WebAssembly engine
can reach in the same runtime) and onnxruntime-node (native kernels with AVX-512 on this CPU). Speeds are that
engine's time / our time (1 = as fast); the last column shows how much of the gap to onnxruntime-node
native code alone accounts for.

| model | onnxruntime-node ms | onnxruntime-web ms | ours exact ms | ours vs ORT-web | ours vs ORT-node | ORT-web vs ORT-node |
| --- | --- | --- | --- | --- | --- | --- |
${rows.join('\n')}
`;
  process.stdout.write(section);
  if (values.write) {
    const results = readFileSync('bench/RESULTS.md', 'utf8');
    const start = results.indexOf('## onnxruntime-web');
    const kept = start < 0 ? results.trimEnd() : results.slice(0, start).trimEnd();
    writeFileSync('bench/RESULTS.md', `${kept}\n\n${section}`);
  }
}

void main();
