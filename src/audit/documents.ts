/**
 * The audit's exported documents: report.json (per node × scheme: isolated and propagated error, counts,
 * energy), plan.json (versioned schema, model hash, verified output metrics), pareto.json, and their
 * Markdown views. JSON has no ±Infinity/NaN, so those are written as the strings "Infinity", "-Infinity", "NaN".
 */
import type { AuditResult } from './audit';
import type { Budget } from './budget';
import type { EnergySettings, NodeEnergy } from './energy';
import type { SampleSpec } from './inputs';
import type { ErrorMetrics } from './metrics';
import type { OrtDebugNodeInfo } from './ortDebug';
import type { FrontPoint, SearchResult } from './plan';

export const PLAN_SCHEMA = 'lmul-audit/plan';
export const PLAN_SCHEMA_VERSION = 1;

export interface ModelIdentity {
  readonly path: string;
  readonly sha256: string;
}

export interface EnergyTotals {
  readonly exactPj: number;
  readonly planPj: number;
  readonly savedPj: number;
  readonly savedFraction: number;
}

export interface PlanDocument {
  readonly schema: typeof PLAN_SCHEMA;
  readonly schemaVersion: typeof PLAN_SCHEMA_VERSION;
  readonly model: ModelIdentity;
  readonly settings: AuditResult['settings'] & {
    readonly memoryLevel: string;
    readonly energyTable: EnergySettings['table'];
  };
  readonly inputs: SampleSpec;
  readonly budget: string;
  /** Node name → preset; every other node stays exact. */
  readonly assignment: Readonly<Record<string, string>>;
  readonly nodes: readonly { name: string; opType: string; scheme: string; exactPj: number; planPj: number }[];
  readonly energy: EnergyTotals & { readonly withMemory: EnergyTotals };
  readonly verified: {
    readonly outputs: Readonly<Record<string, ErrorMetrics>>;
    readonly value: number | null;
    readonly meetsBudget: boolean;
  };
}

export function toJson(value: unknown): string {
  return JSON.stringify(value, (_, v) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v), 2) + '\n';
}

export function fromJson<T>(text: string): T {
  return JSON.parse(text, (_, v) =>
    v === 'Infinity' ? Infinity : v === '-Infinity' ? -Infinity : v === 'NaN' ? NaN : v,
  ) as T;
}

function totals(exactPj: number, planPj: number): EnergyTotals {
  return { exactPj, planPj, savedPj: exactPj - planPj, savedFraction: exactPj > 0 ? (exactPj - planPj) / exactPj : 0 };
}

export function planDocument(args: {
  audit: AuditResult;
  energy: Map<string, Record<string, NodeEnergy>>;
  energySettings: EnergySettings;
  model: ModelIdentity;
  inputs: SampleSpec;
  budget: Budget;
  chosen: FrontPoint;
}): PlanDocument {
  const { audit, energy, energySettings, model, inputs, budget, chosen } = args;
  const nodes = audit.nodes.map((node) => {
    const scheme = chosen.assignment[node.name] ?? 'exact';
    const e = Object.values(energy.get(node.name)!)[0]!;
    const planPj = scheme === 'exact' ? e.exactPj : energy.get(node.name)![scheme]!.schemePj;
    return { name: node.name, opType: node.opType, scheme, exactPj: e.exactPj, planPj };
  });
  let exactMem = 0;
  let planMem = 0;
  for (const node of audit.nodes) {
    const scheme = chosen.assignment[node.name];
    const e = scheme ? energy.get(node.name)![scheme]! : Object.values(energy.get(node.name)!)[0]!;
    exactMem += e.exactWithMemoryPj;
    planMem += scheme ? e.schemeWithMemoryPj : e.exactWithMemoryPj;
  }
  const exactPj = nodes.reduce((s, n) => s + n.exactPj, 0);
  const planPj = nodes.reduce((s, n) => s + n.planPj, 0);
  return {
    schema: PLAN_SCHEMA,
    schemaVersion: PLAN_SCHEMA_VERSION,
    model,
    settings: { ...audit.settings, memoryLevel: energySettings.memoryLevel, energyTable: energySettings.table },
    inputs,
    budget: budget.text,
    assignment: chosen.assignment,
    nodes,
    energy: { ...totals(exactPj, planPj), withMemory: totals(exactMem, planMem) },
    verified: { outputs: chosen.outputs, value: chosen.value, meetsBudget: chosen.meetsBudget },
  };
}

export function reportDocument(
  audit: AuditResult,
  energy: Map<string, Record<string, NodeEnergy>>,
  model: ModelIdentity,
  onnxruntime: ReadonlyMap<string, OrtDebugNodeInfo> = new Map(),
) {
  return {
    schema: 'lmul-audit/report',
    schemaVersion: 1,
    model,
    samples: audit.samples,
    schemes: audit.schemes,
    settings: audit.settings,
    outputs: audit.outputs,
    nodes: audit.nodes.map((node) => ({
      ...node,
      energy: energy.get(node.name),
      ...(onnxruntime.has(node.name) ? { onnxruntimeQdqDebug: onnxruntime.get(node.name) } : {}),
    })),
    propagated: audit.propagated,
  };
}

export function paretoDocument(search: SearchResult, model: ModelIdentity, budget: Budget) {
  return {
    schema: 'lmul-audit/pareto',
    schemaVersion: 1,
    model,
    budget: budget.text,
    evaluations: search.evaluations,
    points: search.front.map((p) => ({
      savedPj: p.savedPj,
      savedFraction: p.savedFraction,
      budgetValue: p.value,
      meetsBudget: p.meetsBudget,
      convertedNodes: Object.keys(p.assignment).length,
      outputs: p.outputs,
      assignment: p.assignment,
    })),
  };
}

const db = (x: number) => (x === Infinity ? '∞' : x === -Infinity ? '−∞' : x.toFixed(1));
const sci = (x: number) => (Number.isFinite(x) ? x.toExponential(2) : String(x));
const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

/** Our isolated SQNR next to onnxruntime's QDQ-debug SQNR for the nodes a user's debug results cover. */
function onnxruntimeSection(audit: AuditResult, onnxruntime: ReadonlyMap<string, OrtDebugNodeInfo>): string[] {
  if (onnxruntime.size === 0) return [];
  const opt = (x: number | undefined) => (x === undefined ? '–' : db(x));
  const rows = audit.nodes
    .filter((node) => onnxruntime.has(node.name))
    .map((node) => {
      const ort = onnxruntime.get(node.name)!;
      const ours = audit.schemes.map((s) => db(node.schemes[s]!.isolated.sqnrDb));
      return [node.name, node.opType, opt(ort.qdqErrDb), opt(ort.xmodelErrDb), opt(ort.weightErrDb), ...ours];
    });
  const header = ['node', 'op', 'ORT qdq_err', 'ORT xmodel_err', 'ORT weight err'];
  return [
    '## onnxruntime QDQ debug results next to ours',
    '',
    "SQNR in dB. onnxruntime's qdq_err compares a tensor of the float model with its quantized model's; " +
      "xmodel_err compares the two models' values of that tensor.",
    '',
    table([...header, ...audit.schemes.map((s) => `${s} isolated`)], rows),
    '',
  ];
}

export function reportMarkdown(
  audit: AuditResult,
  energy: Map<string, Record<string, NodeEnergy>>,
  model: ModelIdentity,
  onnxruntime: ReadonlyMap<string, OrtDebugNodeInfo> = new Map(),
): string {
  const schemeCols = audit.schemes.flatMap((s) => [`${s} isolated SQNR dB`, `${s} propagated SQNR dB`]);
  const rows = audit.nodes.map((node) => [
    node.name,
    node.opType,
    node.counts.multiplies.multiply.toLocaleString('en-US'),
    ...audit.schemes.flatMap((s) => [db(node.schemes[s]!.isolated.sqnrDb), db(node.schemes[s]!.propagated.sqnrDb)]),
  ]);
  const outputRows = Object.entries(audit.outputs).flatMap(([name, perScheme]) =>
    audit.schemes.map((s) => {
      const m = perScheme[s]!;
      return [
        name,
        s,
        db(m.sqnrDb),
        sci(m.relL2),
        m.cosine.toFixed(6),
        sci(m.maxAbs),
        m.top1 === null ? '–' : pct(m.top1),
      ];
    }),
  );
  const energyRows = audit.schemes.map((s) => {
    let exact = 0;
    let scheme = 0;
    let exactMem = 0;
    let schemeMem = 0;
    for (const e of energy.values()) {
      exact += e[s]!.exactPj;
      scheme += e[s]!.schemePj;
      exactMem += e[s]!.exactWithMemoryPj;
      schemeMem += e[s]!.schemeWithMemoryPj;
    }
    return [
      s,
      `${(exact / 1e6).toFixed(3)} µJ`,
      `${(scheme / 1e6).toFixed(3)} µJ`,
      pct((exact - scheme) / exact),
      pct((exactMem - schemeMem) / exactMem),
    ];
  });
  return [
    `# Precision audit of ${model.path}`,
    '',
    `${audit.samples} sample(s); accumulation ${audit.settings.accumulation}; fp8 scaling ${audit.settings.fp8Scaling}; ` +
      `normalisation scales ${audit.settings.replaceNormalization ? 'converted' : 'exact'}; activations ${audit.settings.replaceActivation ? 'converted' : 'exact'}. Model sha256 ${model.sha256}.`,
    '',
    '## Model outputs (whole model converted)',
    '',
    table(['output', 'scheme', 'SQNR dB', 'rel. L2', 'cosine', 'max |err|', 'top-1'], outputRows),
    '',
    '## Energy if every audited node is converted',
    '',
    table(['scheme', 'exact', 'scheme', 'saved (arithmetic)', 'saved (with memory traffic)'], energyRows),
    '',
    '## Per node',
    '',
    'Isolated: the node alone under the scheme, on exact inputs. Propagated: the whole model under the scheme.',
    '',
    table(['node', 'op', 'multiplies', ...schemeCols], rows),
    '',
    ...onnxruntimeSection(audit, onnxruntime),
  ].join('\n');
}

export function planMarkdown(plan: PlanDocument, front: readonly FrontPoint[]): string {
  const converted = plan.nodes.filter((n) => n.scheme !== 'exact');
  const bySchemeCount = new Map<string, number>();
  for (const n of converted) bySchemeCount.set(n.scheme, (bySchemeCount.get(n.scheme) ?? 0) + 1);
  return [
    `# Conversion plan for ${plan.model.path}`,
    '',
    `Budget \`${plan.budget}\` — verified by a propagated run: worst value ${plan.verified.value === null ? '–' : plan.verified.value.toFixed(4)} ` +
      `(${plan.verified.meetsBudget ? 'within budget' : 'VIOLATES the budget'}).`,
    '',
    `Converted ${converted.length} of ${plan.nodes.length} multiply-bearing nodes (${[...bySchemeCount].map(([s, c]) => `${c} × ${s}`).join(', ') || 'none'}). ` +
      `Arithmetic energy saved: ${pct(plan.energy.savedFraction)} (${(plan.energy.savedPj / 1e6).toFixed(3)} µJ per inference); ` +
      `with memory traffic at ${plan.settings.memoryLevel}: ${pct(plan.energy.withMemory.savedFraction)}.`,
    '',
    '## Pareto front (energy saved vs worst output relative L2)',
    '',
    table(
      ['saved', 'converted nodes', 'budget metric', 'within budget'],
      front.map((p) => [
        pct(p.savedFraction),
        String(Object.keys(p.assignment).length),
        p.value === null ? '–' : p.value.toFixed(4),
        p.meetsBudget ? 'yes' : 'no',
      ]),
    ),
    '',
    '## Nodes',
    '',
    table(
      ['node', 'op', 'scheme', 'exact pJ', 'plan pJ'],
      plan.nodes.map((n) => [n.name, n.opType, n.scheme, n.exactPj.toExponential(3), n.planPj.toExponential(3)]),
    ),
    '',
  ].join('\n');
}

function table(header: string[], rows: string[][]): string {
  const esc = (c: string) => c.replace(/\|/g, '\\|');
  return [header, header.map(() => '---'), ...rows].map((r) => `| ${r.map(esc).join(' | ')} |`).join('\n');
}
