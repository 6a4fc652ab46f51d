/** `lmul-audit inspect model.onnx`: what the model is and which of its nodes multiply. */
import { stat } from 'node:fs/promises';
import { formatSummaryText, summarizeModel } from '../onnx';
import { loadModelFile } from '../onnx/node-fs';

export async function runInspect(path: string, asJson: boolean): Promise<string> {
  const model = await loadModelFile(path);
  const summary = summarizeModel(model, { path, sizeBytes: (await stat(path)).size });
  return asJson ? JSON.stringify(summary, null, 2) + '\n' : formatSummaryText(summary);
}
