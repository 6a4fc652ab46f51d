/** `lmul-audit audit` and `lmul-audit verify`: the per-layer audit, its conversion plan, and re-checking a plan. */
import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { AuditResult } from '../audit/audit';
import { meetsBudget, parseBudget, worstValue } from '../audit/budget';
import {
  PLAN_SCHEMA,
  fromJson,
  paretoDocument,
  planMarkdown,
  reportDocument,
  reportMarkdown,
  toJson,
  type ModelIdentity,
  type PlanDocument,
} from '../audit/documents';
import { DEFAULT_ENERGY_TABLE, parseEnergyTable, type MemoryLevel } from '../audit/energy';
import type { SampleSpec } from '../audit/inputs';
import { modelExplorerDocuments } from '../audit/modelExplorer';
import { attachOrtDebug, parseOrtDebugText } from '../audit/ortDebug';
import { auditPipeline } from '../audit/pipeline';
import { PlanEvaluator } from '../audit/plan';
import { loadSamples } from '../audit/samples';
import { nodeSampleFiles } from '../audit/samples-node';
import type { AccumulationName, Fp8Scaling } from '../engine/multiply';
import { Session } from '../engine/session';
import { loadModel } from '../onnx';
import { fileSystemReader } from '../onnx/node-fs';
import { ProgressBar } from './progress';

export interface AuditCommandOptions {
  readonly model: string;
  readonly schemes: string[];
  readonly accumulation: AccumulationName;
  readonly fp8Scaling: Fp8Scaling;
  readonly replaceNormalization: boolean;
  readonly replaceActivation: boolean;
  readonly inputs: SampleSpec;
  readonly budget: string;
  readonly energyFile: string | undefined;
  readonly memoryLevel: MemoryLevel;
  readonly maxEvaluations: number;
  /** onnxruntime QDQ-debug results (JSON) to show next to ours. */
  readonly ortDebugFile: string | undefined;
  readonly outDir: string;
  readonly signal: AbortSignal;
}

async function openModel(path: string) {
  const bytes = await readFile(path);
  const model = await loadModel(bytes, { externalData: fileSystemReader(dirname(path)) });
  const identity: ModelIdentity = { path, sha256: createHash('sha256').update(bytes).digest('hex') };
  return { model, identity, session: new Session(model) };
}

export async function runAuditCommand(options: AuditCommandOptions): Promise<string> {
  const budget = parseBudget(options.budget);
  const table = options.energyFile
    ? parseEnergyTable(JSON.parse(await readFile(options.energyFile, 'utf8')))
    : DEFAULT_ENERGY_TABLE;
  const { model, identity } = await openModel(options.model);
  const onnxruntime = options.ortDebugFile
    ? attachOrtDebug(parseOrtDebugText(await readFile(options.ortDebugFile, 'utf8')), model.graph)
    : { byNode: new Map(), unmatched: [] };
  for (const u of onnxruntime.unmatched)
    process.stderr.write(`warning: onnxruntime ${u.kind} ${u.tensor}: ${u.reason}\n`);
  const samples = loadSamples(
    model.graph.inputs.filter((i) => !i.isInitializer),
    options.inputs,
    nodeSampleFiles,
  );
  const bars = { audit: new ProgressBar('audit'), 'plan search': new ProgressBar('plan search') };
  let phase: keyof typeof bars | undefined;
  const { audit, energy, search, plan, seconds } = auditPipeline(model, identity, samples, options.inputs, {
    ...options,
    energyTable: table,
    onProgress: (next, done, total) => {
      if (phase !== next) bars[phase!]?.done();
      phase = next;
      bars[next].update(done, total);
    },
  });
  if (phase) bars[phase].done();
  await mkdir(options.outDir, { recursive: true });
  const write = (name: string, text: string) => writeFile(join(options.outDir, name), text);
  await write('report.json', toJson(reportDocument(audit, energy, identity, onnxruntime.byNode)));
  await write('report.md', reportMarkdown(audit, energy, identity, onnxruntime.byNode));
  await write('plan.json', toJson(plan));
  await write('plan.md', planMarkdown(plan, search.front));
  await write('pareto.json', toJson(paretoDocument(search, identity, budget)));
  await mkdir(join(options.outDir, 'model-explorer'), { recursive: true });
  for (const [name, doc] of Object.entries(modelExplorerDocuments(audit)))
    await write(join('model-explorer', name), toJson(doc));
  return summary(audit, plan, seconds, options.outDir);
}

/** The per-layer table: isolated / propagated SQNR per scheme and the plan's choice for every audited node. */
function layerTable(audit: AuditResult, plan: PlanDocument): string[] {
  const db = (x: number) => (x === Infinity ? 'inf' : x.toFixed(1));
  const header = ['node', 'op', 'MACs', ...audit.schemes.map((s) => `${s} iso/prop dB`), 'plan'];
  const rows = audit.nodes.map((node) => [
    node.name,
    node.opType,
    node.counts.multiplies.multiply.toLocaleString('en-US'),
    ...audit.schemes.map((s) => `${db(node.schemes[s]!.isolated.sqnrDb)} / ${db(node.schemes[s]!.propagated.sqnrDb)}`),
    plan.assignment[node.name] ?? 'exact',
  ]);
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
  const line = (cells: string[]) =>
    cells.map((cell, c) => (c < 2 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ');
  return [line(header), ...rows.map(line)];
}

function summary(audit: AuditResult, plan: PlanDocument, seconds: number, outDir: string): string {
  const lines = [
    `Audited ${audit.nodes.length} multiply-bearing nodes under ${audit.schemes.join(', ')} in ${seconds.toFixed(1)} s.`,
    '',
    ...layerTable(audit, plan),
    '',
  ];
  for (const scheme of audit.schemes) {
    const worst = [...audit.nodes]
      .sort((a, b) => a.schemes[scheme]!.isolated.sqnrDb - b.schemes[scheme]!.isolated.sqnrDb)
      .slice(0, 5);
    lines.push(`Worst nodes under ${scheme} (isolated SQNR dB):`);
    for (const node of worst)
      lines.push(
        `  ${node.schemes[scheme]!.isolated.sqnrDb.toFixed(1).padStart(7)}  ${node.opType.padEnd(14)} ${node.name}`,
      );
    const outputs = Object.entries(audit.outputs)
      .map(([name, m]) => `${name}: ${m[scheme]!.sqnrDb.toFixed(1)} dB`)
      .join(', ');
    lines.push(`  whole model converted → ${outputs}`, '');
  }
  const converted = plan.nodes.filter((n) => n.scheme !== 'exact').length;
  lines.push(
    `Plan under ${plan.budget}: ${converted} of ${plan.nodes.length} nodes converted, ` +
      `${(100 * plan.energy.savedFraction).toFixed(1)}% of multiply-accumulate energy saved ` +
      `(${(100 * plan.energy.withMemory.savedFraction).toFixed(1)}% with memory traffic); verified: ` +
      `${plan.verified.meetsBudget ? 'within budget' : 'NOT within budget'} (worst ${plan.verified.value?.toFixed(3)}).`,
    `Wrote report.json, report.md, plan.json, plan.md, pareto.json and model-explorer/*.json (node data) to ${outDir}`,
  );
  return lines.join('\n') + '\n';
}

/** Re-runs a plan on its recorded inputs; true when the model is the same and the budget still holds. */
export async function runVerifyCommand(
  planPath: string,
  modelPath: string,
  signal: AbortSignal,
): Promise<{ ok: boolean; text: string }> {
  const plan = fromJson<PlanDocument>(await readFile(planPath, 'utf8'));
  if (plan.schema !== PLAN_SCHEMA || plan.schemaVersion !== 1)
    throw new Error(`${planPath} is not a version 1 lmul-audit plan`);
  const { model, identity, session } = await openModel(modelPath);
  if (identity.sha256 !== plan.model.sha256) {
    return {
      ok: false,
      text: `model mismatch: ${modelPath} has sha256 ${identity.sha256}, the plan was made for ${plan.model.sha256}\n`,
    };
  }
  const samples = loadSamples(
    model.graph.inputs.filter((i) => !i.isInitializer),
    plan.inputs,
    nodeSampleFiles,
  );
  const evaluator = new PlanEvaluator(session, samples, plan.settings, signal);
  const outputs = evaluator.outputs(plan.assignment);
  const budget = parseBudget(plan.budget);
  const value = worstValue(budget, outputs);
  const ok = meetsBudget(budget, outputs);
  const recorded = plan.verified.value;
  const reproduced =
    value === recorded ||
    (value !== null && recorded !== null && Math.abs(value - recorded) <= 1e-9 * Math.max(1, Math.abs(recorded)));
  return {
    ok: ok && reproduced,
    text:
      `plan ${planPath}: ${Object.keys(plan.assignment).length} converted nodes, budget ${plan.budget}: measured ${value} ` +
      `(recorded ${recorded}) — ${ok ? 'within budget' : 'VIOLATES the budget'}${reproduced ? '' : ', and differs from the recorded value'}\n`,
  };
}
