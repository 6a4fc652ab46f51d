/**
 * Per-node results in Google Model Explorer's node-data format, to overlay them on a graph there: one file
 * per scheme and error kind, `{ "results": { <node id>: { "value": … } }, "gradient": … }`, with our node
 * names as ids (Model Explorer's ONNX adapter uses node names).
 */
import type { AuditResult } from './audit';

const GRADIENT = [
  { stop: 0, bgColor: '#d7191c' },
  { stop: 0.5, bgColor: '#ffffbf' },
  { stop: 1, bgColor: '#1a9641' },
];

/** File name → node-data document (isolated and propagated SQNR in dB; ±999 stands for ±∞). */
export function modelExplorerDocuments(audit: AuditResult): Record<string, unknown> {
  const documents: Record<string, unknown> = {};
  for (const scheme of audit.schemes) {
    for (const kind of ['isolated', 'propagated'] as const) {
      const results = Object.fromEntries(
        audit.nodes.map((node) => {
          const sqnr = node.schemes[scheme]![kind].sqnrDb;
          return [node.name, { value: Number.isFinite(sqnr) ? sqnr : sqnr > 0 ? 999 : -999 }];
        }),
      );
      documents[`${scheme.replace(/[^a-z0-9-]/gi, '_')}-${kind}-sqnr.json`] = { results, gradient: GRADIENT };
    }
  }
  return documents;
}
