/** Worker thread: parses a model off the extension host's thread and reports its summary. */
import { stat } from 'node:fs/promises';
import { parentPort, workerData } from 'node:worker_threads';
import { loadModel, OnnxLoadError, summarizeModel, type ModelSummary } from '../onnx';
import { loadModelFile } from '../onnx/node-fs';
import type { LoaderResult } from '../protocol/messages';

type Request = { path: string } | { bytes: Uint8Array; name: string };

async function summarize(request: Request): Promise<ModelSummary> {
  if ('path' in request) {
    const model = await loadModelFile(request.path);
    return summarizeModel(model, { path: request.path, sizeBytes: (await stat(request.path)).size });
  }
  const model = await loadModel(request.bytes);
  return summarizeModel(model, { path: request.name, sizeBytes: request.bytes.byteLength });
}

function failure(error: unknown): LoaderResult {
  const title =
    error instanceof OnnxLoadError ? `This is not a usable ONNX model (${error.kind})` : 'The model could not be read';
  return { ok: false, title, message: error instanceof Error ? error.message : String(error) };
}

summarize(workerData as Request).then(
  (summary): void => parentPort!.postMessage({ ok: true, summary } satisfies LoaderResult),
  (error: unknown): void => parentPort!.postMessage(failure(error)),
);
