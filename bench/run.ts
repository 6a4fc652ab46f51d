// `npm run bench`: every real model, our exact engine vs onnxruntime-node on the same inputs and thread
// count, and every scheme vs our exact mode. Writes bench/RESULTS.md with the command and the table, keeping
// the sections it does not produce (from `## Graph webview` on).
import { execFileSync } from 'node:child_process';
import { cpus } from 'node:os';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { REAL_MODELS } from '../test/fixtures/real-models';
import { BENCH_SCHEMES } from './schemes';

interface ModelResult {
  name: string;
  runs: number;
  threads: number;
  ortMs: number;
  schemes: Record<string, number>;
  peakRssMiB: number;
}

const { values } = parseArgs({
  options: { runs: { type: 'string', default: '5' }, threads: { type: 'string', default: '1' } },
});
const results: ModelResult[] = REAL_MODELS.map((c, index) => {
  process.stderr.write(`benchmarking ${c.name}…\n`);
  const out = execFileSync(
    process.execPath,
    ['--import', 'tsx', 'bench/model-bench.ts', String(index), values.runs!, values.threads!],
    {
      encoding: 'utf8',
      maxBuffer: 1 << 20,
    },
  );
  return JSON.parse(out.trim().split('\n').pop()!) as ModelResult;
});

process.stderr.write('timing the full audit of PaddleOCR v4 rec…\n');
const auditRun = JSON.parse(
  execFileSync(process.execPath, ['--import', 'tsx', 'bench/audit-bench.ts'], { encoding: 'utf8' })
    .trim()
    .split('\n')
    .pop()!,
) as { name: string; seconds: number };

const fmt = (ms: number) => (ms < 10 ? ms.toFixed(2) : ms.toFixed(1));
const header = [
  'model',
  'onnxruntime ms',
  'ours exact ms',
  'speed vs ORT',
  ...BENCH_SCHEMES.slice(1).map((s) => `${s} / exact`),
  'peak RSS MiB',
];
const rows = results.map((r) => [
  r.name,
  fmt(r.ortMs),
  fmt(r.schemes.exact!),
  `${(r.ortMs / r.schemes.exact!).toFixed(3)}×`,
  ...BENCH_SCHEMES.slice(1).map((s) => `${(r.schemes[s]! / r.schemes.exact!).toFixed(2)}×`),
  r.peakRssMiB.toFixed(0),
]);
const table = [header, header.map(() => '---'), ...rows].map((r) => `| ${r.join(' | ')} |`).join('\n');
const command = `npm run bench -- --runs ${values.runs} --threads ${values.threads}`;
const report = `# Benchmark results

Command: \`${command}\` — ${new Date().toISOString().slice(0, 10)}, ${cpus().length} × ${cpus()[0]?.model ?? 'CPU'}, Node ${process.version}.

Medians of at least ${values.runs} runs (more for fast models: rounds go on for a second) after a warm-up (half a second,
at least one run), same inputs and ${values.threads} thread(s) for both engines, the contenders run in turn (one run
of each per round) so that load from elsewhere falls on both alike. "speed vs ORT" is
onnxruntime-node time / our exact time (1 = as fast), from rounds of onnxruntime and our exact mode. Scheme columns:
that scheme's median / our exact mode's median over rounds of the two. Peak RSS is the whole benchmark process of
that model (both engines loaded).

${table}

## Audit

\`lmul-audit audit\` of PaddleOCR v4 rec as \`npm run demo\` runs it (lmul3, lmul4, e4m3, e5m2; one sample; isolated and
propagated errors, plan search with up to 30 propagated runs, verification run): **${auditRun.seconds.toFixed(1)} s**
(goal < 60 s, stretch 30 s).
`;
process.stdout.write(`${table}\n\naudit: ${auditRun.seconds.toFixed(1)} s\n`);
writeFileSync('bench/RESULTS.md', report + sectionsKeptFrom('bench/RESULTS.md'));

/** Sections of the existing results that this script does not produce (from `## Graph webview` on). */
function sectionsKeptFrom(path: string): string {
  if (!existsSync(path)) return '';
  const lines = readFileSync(path, 'utf8').split('\n');
  const start = lines.findIndex((line) => line.startsWith('## Graph webview'));
  return start < 0 ? '' : `\n${lines.slice(start).join('\n')}`;
}
