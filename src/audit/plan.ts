/**
 * Conversion-plan search: which nodes to run under which scheme so that the most energy is saved while the
 * model outputs stay within an error budget. Like AIMET's mixed-precision search, it ranks (node, scheme)
 * candidates by isolated sensitivity per joule saved, walks that ranking with propagated checks to build the
 * Pareto front of energy saved vs output error, and then grows the best plan under the budget greedily,
 * backing off on a violation. Every point on the front was measured by a propagated run.
 */
import { MultiplyContext } from '../engine/multiply';
import type { Session } from '../engine/session';
import { CancelledError } from '../engine/types';
import type { Tensor } from '../onnx';
import type { AuditResult } from './audit';
import { meetsBudget, worstValue, type Budget } from './budget';
import { nodeEnergy, type EnergySettings, type NodeEnergy } from './energy';
import { ErrorAccumulator, type ErrorMetrics } from './metrics';

/** Node name → preset; nodes not listed stay exact. */
export type Assignment = Readonly<Record<string, string>>;

export interface FrontPoint {
  readonly assignment: Assignment;
  readonly savedPj: number;
  readonly savedFraction: number;
  readonly outputs: Readonly<Record<string, ErrorMetrics>>;
  /** The budget metric's worst value over the outputs. */
  readonly value: number | null;
  readonly meetsBudget: boolean;
}

export interface SearchOptions {
  /** Upper bound on propagated evaluations, so the search's cost is known in advance. */
  readonly maxEvaluations?: number;
  readonly onProgress?: (evaluations: number, maxEvaluations: number) => void;
  readonly signal?: AbortSignal;
}

export interface SearchResult {
  readonly best: FrontPoint;
  /** Non-dominated points (more saving, less error), sorted by saving. */
  readonly front: readonly FrontPoint[];
  readonly evaluations: number;
}

interface Candidate {
  readonly node: string;
  readonly scheme: string;
  readonly savedPj: number;
  readonly score: number;
}

export class PlanEvaluator {
  private readonly contexts = new Map<string, MultiplyContext>();
  private readonly exact = MultiplyContext.exact();
  private readonly references: Map<string, Tensor>[];
  evaluations = 0;

  constructor(
    private readonly session: Session,
    private readonly samples: readonly ReadonlyMap<string, Tensor>[],
    private readonly settings: AuditResult['settings'],
    private readonly signal?: AbortSignal,
  ) {
    this.references = samples.map((feeds) => floatOutputs(session.run(feeds, { signal })));
  }

  /** Output error of the model with `assignment`, aggregated over all samples. */
  outputs(assignment: Assignment): Record<string, ErrorMetrics> {
    this.evaluations++;
    const totals = new Map<string, ErrorAccumulator>();
    this.samples.forEach((feeds, i) => {
      const outputs = floatOutputs(
        this.session.run(feeds, {
          signal: this.signal,
          multiplyFor: (node) => {
            const preset = assignment[node.name];
            return preset ? this.contextFor(preset) : this.exact;
          },
        }),
      );
      for (const [name, reference] of this.references[i]!) {
        const acc = totals.get(name) ?? new ErrorAccumulator();
        totals.set(name, acc);
        const classes = reference.dims.length >= 2 ? reference.dims[reference.dims.length - 1]! : null;
        acc.add(outputs.get(name)!.data as Float32Array, reference.data as Float32Array, classes);
      }
    });
    return Object.fromEntries([...totals].map(([name, acc]) => [name, acc.metrics()]));
  }

  private contextFor(preset: string): MultiplyContext {
    let ctx = this.contexts.get(preset);
    if (!ctx) {
      ctx = new MultiplyContext({ scheme: preset, ...this.settings });
      this.contexts.set(preset, ctx);
    }
    return ctx;
  }
}

function floatOutputs(outputs: Map<string, unknown>): Map<string, Tensor> {
  const floats = new Map<string, Tensor>();
  for (const [name, v] of outputs) {
    const t = v as Tensor | undefined;
    if (t && !Array.isArray(t) && (t.data instanceof Float32Array || t.data instanceof Float64Array))
      floats.set(name, t);
  }
  return floats;
}

/** Energy of every audited node under every scheme. */
export function energyByNode(audit: AuditResult, settings: EnergySettings): Map<string, Record<string, NodeEnergy>> {
  return new Map(
    audit.nodes.map((node) => [
      node.name,
      Object.fromEntries(audit.schemes.map((scheme) => [scheme, nodeEnergy(node.counts, scheme, settings)])),
    ]),
  );
}

/** Ranked candidates: isolated noise-to-signal ratio per picojoule saved, most harmless saving first. */
function rankCandidates(audit: AuditResult, energy: Map<string, Record<string, NodeEnergy>>): Candidate[] {
  const candidates: Candidate[] = [];
  for (const node of audit.nodes) {
    for (const scheme of audit.schemes) {
      const e = energy.get(node.name)![scheme]!;
      const savedPj = e.exactPj - e.schemePj;
      if (!(savedPj > 0)) continue;
      const noise = node.schemes[scheme]!.isolated.relL2 ** 2;
      candidates.push({
        node: node.name,
        scheme,
        savedPj,
        score: (Number.isFinite(noise) ? noise : Infinity) / savedPj,
      });
    }
  }
  return candidates.sort((a, b) => a.score - b.score || b.savedPj - a.savedPj);
}

/** Adds candidates to an assignment; a node keeps the scheme that saves more. */
function extend(
  assignment: Assignment,
  candidates: readonly Candidate[],
  saving: (node: string, scheme: string) => number,
): Assignment {
  const next: Record<string, string> = { ...assignment };
  for (const c of candidates) {
    const current = next[c.node];
    if (current === undefined || saving(c.node, c.scheme) > saving(c.node, current)) next[c.node] = c.scheme;
  }
  return next;
}

export function searchPlan(
  audit: AuditResult,
  evaluator: PlanEvaluator,
  budget: Budget,
  energySettings: EnergySettings,
  options: SearchOptions = {},
): SearchResult {
  const maxEvaluations = options.maxEvaluations ?? 30;
  const energy = energyByNode(audit, energySettings);
  const totalExactPj = [...energy.values()].reduce((sum, e) => sum + Object.values(e)[0]!.exactPj, 0);
  const saving = (node: string, scheme: string) => {
    const e = energy.get(node)![scheme]!;
    return e.exactPj - e.schemePj;
  };
  const points: FrontPoint[] = [];
  const evaluate = (assignment: Assignment): FrontPoint => {
    if (options.signal?.aborted) throw new CancelledError();
    const outputs = evaluator.outputs(assignment);
    const savedPj = Object.entries(assignment).reduce((sum, [node, scheme]) => sum + saving(node, scheme), 0);
    const point: FrontPoint = {
      assignment,
      savedPj,
      savedFraction: totalExactPj > 0 ? savedPj / totalExactPj : 0,
      outputs,
      value: worstValue(budget, outputs),
      meetsBudget: meetsBudget(budget, outputs),
    };
    points.push(point);
    options.onProgress?.(points.length, maxEvaluations);
    return point;
  };

  const ranked = rankCandidates(audit, energy);
  let best = evaluate({});
  // The front: the ranking's prefixes at geometric sizes (1, 2, 4, …, all).
  let bestPrefix = 0;
  for (let size = 1; ranked.length > 0; size = Math.min(size * 2, ranked.length)) {
    const point = evaluate(extend({}, ranked.slice(0, size), saving));
    if (point.meetsBudget && point.savedPj > best.savedPj) {
      best = point;
      bestPrefix = size;
    }
    if (size === ranked.length || points.length >= maxEvaluations / 2) break;
  }
  // Grow the best plan under the budget: batches that double on success and halve on a violation.
  let next = bestPrefix;
  let batch = 1;
  while (next < ranked.length && points.length < maxEvaluations) {
    const candidates = ranked.slice(next, next + batch);
    const trial = extend(best.assignment, candidates, saving);
    if (sameAssignment(trial, best.assignment)) {
      next += candidates.length;
      continue;
    }
    const point = evaluate(trial);
    if (point.meetsBudget) {
      if (point.savedPj >= best.savedPj) best = point;
      next += candidates.length;
      batch *= 2;
    } else if (batch > 1) {
      batch = Math.max(1, batch >> 1);
    } else {
      next += 1; // this candidate alone breaks the budget: skip it
    }
  }
  return { best, front: paretoFront(points), evaluations: points.length };
}

function sameAssignment(a: Assignment, b: Assignment): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => a[k] === b[k]);
}

/** Points not dominated by another with at least as much saving and strictly less error (or vice versa). */
export function paretoFront(points: readonly FrontPoint[]): FrontPoint[] {
  const error = (p: FrontPoint) => worstRelL2(p.outputs);
  const sorted = [...points].sort((a, b) => b.savedPj - a.savedPj || error(a) - error(b));
  const front: FrontPoint[] = [];
  let lowestError = Infinity;
  for (const p of sorted) {
    if (error(p) < lowestError) {
      front.push(p);
      lowestError = error(p);
    }
  }
  return front.reverse();
}

function worstRelL2(outputs: Readonly<Record<string, ErrorMetrics>>): number {
  return Math.max(0, ...Object.values(outputs).map((m) => (Number.isNaN(m.relL2) ? Infinity : m.relL2)));
}
