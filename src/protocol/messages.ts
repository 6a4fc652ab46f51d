/**
 * The one message protocol between the extension host and its webviews (the model editor and the per-layer
 * panel); both sides import this file. Messages from a webview are untrusted: the host accepts them only
 * through `parseWebviewMessage`.
 */
import type { ErrorMetrics } from '../audit/metrics';
import type { ModelSummary } from '../onnx/inspect';
import type { GraphView } from './graph';

export type { GraphView } from './graph';

/** Error metrics as the UI shows them (the per-sample breakdown stays in report.json). */
export type MetricView = Pick<ErrorMetrics, 'relL2' | 'sqnrDb' | 'cosine' | 'maxAbs' | 'top1'>;

export interface NodeAuditView {
  readonly name: string;
  readonly opType: string;
  readonly group: 'multiply' | 'normalization' | 'activation';
  /** Multiplications the scheme replaces, counted on the first sample's shapes. */
  readonly multiplies: number;
  readonly schemes: Readonly<
    Record<
      string,
      {
        readonly isolated: MetricView;
        readonly propagated: MetricView;
        /** Arithmetic energy saved by converting this node alone (pJ, and as a share of its exact energy). */
        readonly savedPj: number;
        readonly savedFraction: number;
      }
    >
  >;
}

export interface PlanView {
  readonly budget: string;
  /** Node name → preset; other nodes stay exact. */
  readonly assignment: Readonly<Record<string, string>>;
  readonly savedFraction: number;
  readonly savedFractionWithMemory: number;
  readonly meetsBudget: boolean;
  /** The budget metric's worst value over the outputs in the plan's verification run. */
  readonly value: number | null;
}

/** What one audit run found, as both webviews show it. */
export interface AuditView {
  readonly modelSha256: string;
  readonly schemes: readonly string[];
  /** Human-readable settings line ("accumulation fp32 · fp8 scaling per-tensor · 1 synthetic sample"). */
  readonly settings: string;
  readonly seconds: number;
  /** Audited (multiply-bearing) nodes in execution order. */
  readonly nodes: readonly NodeAuditView[];
  /** Propagated error at every node with float outputs: node name → scheme → metrics. */
  readonly propagated: Readonly<Record<string, Readonly<Record<string, MetricView>>>>;
  /** Model outputs: output name → scheme → metrics with everything converted. */
  readonly outputs: Readonly<Record<string, Readonly<Record<string, MetricView>>>>;
  readonly plan: PlanView;
}

export type AuditState =
  | { readonly state: 'idle' }
  | { readonly state: 'running'; readonly phase: string; readonly done: number; readonly total: number }
  | { readonly state: 'failed'; readonly message: string }
  | { readonly state: 'cancelled' };

/** Host → model editor webview. */
export type HostToWebview =
  | { readonly type: 'loading'; readonly fileName: string }
  | { readonly type: 'model'; readonly fileName: string; readonly summary: ModelSummary; readonly graph: GraphView }
  | { readonly type: 'error'; readonly fileName: string; readonly title: string; readonly message: string }
  | { readonly type: 'auditState'; readonly audit: AuditState }
  /** A finished (or cached) audit of this model. */
  | { readonly type: 'audit'; readonly audit: AuditView }
  /** Select the node with this name and bring it into view (from the per-layer panel). */
  | { readonly type: 'reveal'; readonly nodeName: string };

/** Model editor webview → host. */
export type WebviewToHost =
  | { readonly type: 'ready' }
  | { readonly type: 'runAudit' }
  | { readonly type: 'cancelAudit' }
  | { readonly type: 'exportPlan' }
  | { readonly type: 'selectNode'; readonly nodeName: string };

/** Host → per-layer error panel. */
export type HostToPanel =
  | { readonly type: 'audit'; readonly modelName: string; readonly audit: AuditView | null }
  | { readonly type: 'select'; readonly nodeName: string };

/** Per-layer error panel → host. */
export type PanelToHost = { readonly type: 'ready' } | { readonly type: 'reveal'; readonly nodeName: string };

const MAX_NAME_LENGTH = 4096;

function isNodeName(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= MAX_NAME_LENGTH;
}

/** Validates a message from the editor webview; anything malformed is undefined and gets dropped. */
export function parseWebviewMessage(message: unknown): WebviewToHost | undefined {
  if (typeof message !== 'object' || message === null) return undefined;
  const m = message as Record<string, unknown>;
  switch (m.type) {
    case 'ready':
    case 'runAudit':
    case 'cancelAudit':
    case 'exportPlan':
      return { type: m.type };
    case 'selectNode':
      return isNodeName(m.nodeName) ? { type: 'selectNode', nodeName: m.nodeName } : undefined;
    default:
      return undefined;
  }
}

/** Validates a message from the panel webview. */
export function parsePanelMessage(message: unknown): PanelToHost | undefined {
  if (typeof message !== 'object' || message === null) return undefined;
  const m = message as Record<string, unknown>;
  if (m.type === 'ready') return { type: 'ready' };
  if (m.type === 'reveal' && isNodeName(m.nodeName)) return { type: 'reveal', nodeName: m.nodeName };
  return undefined;
}

/** What the host's worker (model loading and audits) reports. */
export type LoaderResult =
  | { readonly ok: true; readonly summary: ModelSummary; readonly graph: GraphView; readonly sha256: string }
  | { readonly ok: false; readonly title: string; readonly message: string };
