/** Error budgets on the model outputs: `sqnr>=30`, `relL2<=0.01`, `top1>=0.99`, `cosine>=0.999`. */
import type { ErrorMetrics } from './metrics';

export type BudgetMetric = 'sqnrDb' | 'relL2' | 'top1' | 'cosine';

export interface Budget {
  readonly text: string;
  readonly metric: BudgetMetric;
  /** Whether larger values of the metric are better (sqnr, top1, cosine) or smaller (relL2). */
  readonly higherIsBetter: boolean;
  readonly bound: number;
}

const NAMES: Record<string, { metric: BudgetMetric; higherIsBetter: boolean }> = {
  sqnr: { metric: 'sqnrDb', higherIsBetter: true },
  top1: { metric: 'top1', higherIsBetter: true },
  cosine: { metric: 'cosine', higherIsBetter: true },
  rell2: { metric: 'relL2', higherIsBetter: false },
};

export function parseBudget(text: string): Budget {
  const m = /^\s*([a-zA-Z0-9]+)\s*(>=|<=)\s*([-+0-9.eE]+)\s*$/.exec(text);
  const spec = m ? NAMES[m[1]!.toLowerCase()] : undefined;
  const bound = m ? Number(m[3]) : NaN;
  if (!m || !spec || !Number.isFinite(bound) || (m[2] === '>=') !== spec.higherIsBetter) {
    throw new Error(`budget "${text}" is not one of sqnr>=DB, top1>=FRACTION, cosine>=VALUE, relL2<=VALUE`);
  }
  return { text: `${m[1]}${m[2]}${m[3]}`, metric: spec.metric, higherIsBetter: spec.higherIsBetter, bound };
}

/** The worst value of the budget's metric over the model outputs (null if no output has it, e.g. top-1). */
export function worstValue(budget: Budget, outputs: Readonly<Record<string, ErrorMetrics>>): number | null {
  const values = Object.values(outputs)
    .map((m) => m[budget.metric])
    .filter((v): v is number => v !== null && !Number.isNaN(v));
  if (values.length === 0) return null;
  return budget.higherIsBetter ? Math.min(...values) : Math.max(...values);
}

export function meetsBudget(budget: Budget, outputs: Readonly<Record<string, ErrorMetrics>>): boolean {
  const value = worstValue(budget, outputs);
  if (value === null) throw new Error(`no model output has the metric of budget "${budget.text}"`);
  return budget.higherIsBetter ? value >= budget.bound : value <= budget.bound;
}
