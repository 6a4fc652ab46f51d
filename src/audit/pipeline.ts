/**
 * The whole audit as one pure step, shared by the CLI and the extension's worker: per-node audit under every
 * scheme, energy, plan search under the budget, and a verification run of the chosen plan.
 */
import type { OnnxModel, Tensor } from '../onnx';
import type { AccumulationName, Fp8Scaling } from '../engine/multiply';
import { Session } from '../engine/session';
import { runAudit, type AuditResult } from './audit';
import { meetsBudget, parseBudget, worstValue } from './budget';
import { planDocument, type ModelIdentity, type PlanDocument } from './documents';
import type { EnergySettings, EnergyTable, MemoryLevel, NodeEnergy } from './energy';
import type { SampleSpec } from './inputs';
import { energyByNode, PlanEvaluator, searchPlan, type SearchResult } from './plan';

export interface AuditPipelineOptions {
  readonly schemes: readonly string[];
  readonly accumulation: AccumulationName;
  readonly fp8Scaling: Fp8Scaling;
  readonly replaceNormalization: boolean;
  readonly replaceActivation: boolean;
  readonly budget: string;
  readonly energyTable: EnergyTable;
  readonly memoryLevel: MemoryLevel;
  readonly maxEvaluations: number;
  readonly signal?: AbortSignal;
  /** Phases: "audit", then "plan search". */
  readonly onProgress?: (phase: 'audit' | 'plan search', done: number, total: number) => void;
}

export interface AuditPipelineResult {
  readonly audit: AuditResult;
  readonly energy: Map<string, Record<string, NodeEnergy>>;
  readonly energySettings: EnergySettings;
  readonly search: SearchResult;
  readonly plan: PlanDocument;
  readonly seconds: number;
}

export function auditPipeline(
  model: OnnxModel,
  identity: ModelIdentity,
  samples: readonly ReadonlyMap<string, Tensor>[],
  inputs: SampleSpec,
  options: AuditPipelineOptions,
): AuditPipelineResult {
  const budget = parseBudget(options.budget);
  const started = performance.now();
  const session = new Session(model);
  const audit = runAudit(session, samples, {
    schemes: options.schemes,
    accumulation: options.accumulation,
    fp8Scaling: options.fp8Scaling,
    replaceNormalization: options.replaceNormalization,
    replaceActivation: options.replaceActivation,
    ...(options.signal ? { signal: options.signal } : {}),
    onProgress: (done, total) => options.onProgress?.('audit', done, total),
  });
  const energySettings: EnergySettings = {
    table: options.energyTable,
    accumulation: options.accumulation,
    memoryLevel: options.memoryLevel,
    enabledGroups: {
      multiply: true,
      normalization: options.replaceNormalization,
      activation: options.replaceActivation,
    },
  };
  const energy = energyByNode(audit, energySettings);
  const evaluator = new PlanEvaluator(session, samples, audit.settings, options.signal);
  const search = searchPlan(audit, evaluator, budget, energySettings, {
    maxEvaluations: options.maxEvaluations,
    ...(options.signal ? { signal: options.signal } : {}),
    onProgress: (done, total) => options.onProgress?.('plan search', done, total),
  });
  // The chosen plan is verified by a run of its own, and that run's measurements are what the plan records.
  const verifiedOutputs = evaluator.outputs(search.best.assignment);
  const chosen = {
    ...search.best,
    outputs: verifiedOutputs,
    value: worstValue(budget, verifiedOutputs),
    meetsBudget: meetsBudget(budget, verifiedOutputs),
  };
  const plan = planDocument({ audit, energy, energySettings, model: identity, inputs, budget, chosen });
  return { audit, energy, energySettings, search, plan, seconds: (performance.now() - started) / 1000 };
}
