/**
 * The heatmap overlay: per-node values of the selected metric (isolated or propagated SQNR in dB under one
 * scheme), aggregation over a group (its worst member), energy saved, the plan's choice, and the colours.
 */
import type { AuditView } from '../../src/protocol/messages';
import type { GraphModel } from './model';

export type MetricKind = 'isolated' | 'propagated';

export interface Overlay {
  readonly metric: MetricKind;
  readonly scheme: string;
  /** Plan view: colour by the chosen scheme instead of the metric. */
  readonly plan: boolean;
}

/** SQNR stops (dB) of the colour ramp, from bad (red) to good (green). */
export const RAMP: readonly (readonly [number, string])[] = [
  [0, '#b2182b'],
  [10, '#e34a33'],
  [20, '#fc8d59'],
  [30, '#fee08b'],
  [40, '#d9ef8b'],
  [50, '#91cf60'],
  [60, '#1a9850'],
];

const PLAN_COLOURS = ['#4e79a7', '#f28e2b', '#b07aa1', '#76b7b2', '#edc948', '#ff9da7', '#9c755f', '#59a14f'];

/** Per-node numbers of one audit, indexed by node id; NaN where a node has no value. */
export interface AuditIndex {
  readonly audit: AuditView;
  values(overlay: Overlay): Float64Array;
  /** Energy saved (pJ) by converting each node under the scheme, or under its plan choice in plan view. */
  saved(overlay: Overlay): Float64Array;
  /** The plan's scheme per node ('' for exact). */
  readonly plan: readonly string[];
}

export function indexAudit(model: GraphModel, audit: AuditView): AuditIndex {
  const count = model.view.nodes.length;
  const byNode = audit.nodes.map((n) => ({ id: model.nodeByName.get(n.name), view: n }));
  const plan = model.view.nodes.map((n) => audit.plan.assignment[n.name] ?? '');
  const cache = new Map<string, Float64Array>();
  const memo = (key: string, fill: (into: Float64Array) => void): Float64Array => {
    let result = cache.get(key);
    if (!result) {
      result = new Float64Array(count).fill(NaN);
      fill(result);
      cache.set(key, result);
    }
    return result;
  };
  return {
    audit,
    plan,
    values: (overlay) =>
      memo(`v ${overlay.metric} ${overlay.scheme}`, (into) => {
        if (overlay.metric === 'isolated') {
          for (const { id, view } of byNode) {
            const metrics = view.schemes[overlay.scheme];
            if (id !== undefined && metrics) into[id] = metrics.isolated.sqnrDb;
          }
          return;
        }
        for (const node of model.view.nodes) {
          const metrics = audit.propagated[node.name]?.[overlay.scheme];
          if (metrics) into[node.id] = metrics.sqnrDb;
        }
      }),
    saved: (overlay) =>
      memo(`s ${overlay.plan} ${overlay.scheme}`, (into) => {
        for (const { id, view } of byNode) {
          if (id === undefined) continue;
          const scheme = overlay.plan ? plan[id] : overlay.scheme;
          const metrics = scheme ? view.schemes[scheme] : undefined;
          into[id] = metrics ? metrics.savedPj : 0;
        }
      }),
  };
}

/** The worst (lowest) SQNR among members that have one; NaN if none has. */
export function worstOf(values: Float64Array, members: readonly number[]): number {
  let worst = NaN;
  for (const id of members) {
    const v = values[id]!;
    if (!Number.isNaN(v) && !(v >= worst)) worst = v;
  }
  return worst;
}

export function sumOf(values: Float64Array, members: readonly number[]): number {
  let sum = 0;
  for (const id of members) {
    const v = values[id]!;
    if (!Number.isNaN(v)) sum += v;
  }
  return sum;
}

export function sqnrColour(db: number): string {
  if (db <= RAMP[0]![0]) return RAMP[0]![1];
  for (let i = 1; i < RAMP.length; i++) {
    const [hi, colour] = RAMP[i]!;
    if (db <= hi) {
      const [lo, from] = RAMP[i - 1]!;
      return mix(from, colour, (db - lo) / (hi - lo));
    }
  }
  return RAMP[RAMP.length - 1]![1];
}

function mix(a: string, b: string, t: number): string {
  const channel = (hex: string, k: number) => parseInt(hex.slice(1 + 2 * k, 3 + 2 * k), 16);
  const parts = [0, 1, 2].map((k) => Math.round(channel(a, k) + (channel(b, k) - channel(a, k)) * t));
  return `#${parts.map((p) => p.toString(16).padStart(2, '0')).join('')}`;
}

export function planColour(schemes: readonly string[], scheme: string): string | undefined {
  const index = schemes.indexOf(scheme);
  return index < 0 ? undefined : PLAN_COLOURS[index % PLAN_COLOURS.length];
}

export function formatDb(db: number): string {
  if (Number.isNaN(db)) return '–';
  if (!Number.isFinite(db)) return db > 0 ? '∞ dB' : '−∞ dB';
  return `${db.toFixed(1)} dB`;
}

export function formatEnergy(pj: number): string {
  const units = ['pJ', 'nJ', 'µJ', 'mJ', 'J'];
  let value = pj;
  let unit = 0;
  while (Math.abs(value) >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${value.toPrecision(3)} ${units[unit]}`;
}
