/** Worker thread: parses a model off the extension host's thread and reports its summary. */
import { readFile } from 'node:fs/promises';
import { parentPort, workerData } from 'node:worker_threads';
import { createHash } from 'node:crypto';
import { loadModel, OnnxLoadError, summarizeModel } from '../onnx';
import { buildGraphView } from '../onnx/graphView';
import { dirname } from 'node:path';
import { fileSystemReader } from '../onnx/node-fs';
import type { LoaderResult } from '../protocol/messages';

type Request = { path: string } | { bytes: Uint8Array; name: string };

async function summarize(request: Request): Promise<LoaderResult> {
  const bytes = 'path' in request ? await readFile(request.path) : request.bytes;
  const model = await loadModel(
    bytes,
    'path' in request ? { externalData: fileSystemReader(dirname(request.path)) } : {},
  );
  const path = 'path' in request ? request.path : request.name;
  return {
    ok: true,
    summary: summarizeModel(model, { path, sizeBytes: bytes.byteLength }),
    graph: buildGraphView(model),
    sha256: createHash('sha256').update(bytes).digest('hex'),
  };
}

function failure(error: unknown): LoaderResult {
  const title =
    error instanceof OnnxLoadError ? `This is not a usable ONNX model (${error.kind})` : 'The model could not be read';
  return { ok: false, title, message: error instanceof Error ? error.message : String(error) };
}

summarize(workerData as Request).then(
  (result): void => parentPort!.postMessage(result),
  (error: unknown): void => parentPort!.postMessage(failure(error)),
);
