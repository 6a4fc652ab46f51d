/** Runs one job in a fresh worker; cancelling terminates the worker, which stops even a busy audit at once. */
import * as vscode from 'vscode';
import { normaliseLocation } from '../onnx/external-data';
import type { JobReply, JobRequest, ModelSource } from './jobs';
import type { HostPlatform } from './platform';

export type JobResult = Extract<JobReply, { kind: 'loaded' | 'audited' | 'failed' }>;
type Progress = Extract<JobReply, { kind: 'progress' }>;

export interface RunningJob {
  readonly result: Promise<JobResult | 'cancelled'>;
  cancel(): void;
}

export function startJob(
  platform: HostPlatform,
  modelUri: vscode.Uri,
  request: JobRequest,
  onProgress?: (progress: Progress) => void,
): RunningJob {
  const worker = platform.startWorker();
  let settle: (result: JobResult | 'cancelled') => void = () => undefined;
  const result = new Promise<JobResult | 'cancelled'>((resolve) => (settle = resolve));
  const finish = (outcome: JobResult | 'cancelled') => {
    worker.terminate();
    settle(outcome);
  };
  const externalFiles = new Map<string, Thenable<Uint8Array>>();
  worker.onReply((reply) => {
    switch (reply.kind) {
      case 'progress':
        onProgress?.(reply);
        return;
      case 'readExternal': {
        // The loader vetted the location already; vetting it again here keeps the host safe on its own.
        let location: string;
        try {
          location = normaliseLocation(reply.location, 'external data');
        } catch (error) {
          worker.post({ kind: 'externalData', id: reply.id, error: (error as Error).message });
          return;
        }
        if (!externalFiles.has(location))
          externalFiles.set(location, vscode.workspace.fs.readFile(vscode.Uri.joinPath(modelUri, '..', location)));
        externalFiles.get(location)!.then(
          (bytes) =>
            worker.post({
              kind: 'externalData',
              id: reply.id,
              bytes: bytes.slice(reply.offset, reply.offset + reply.length),
            }),
          (error: unknown) => worker.post({ kind: 'externalData', id: reply.id, error: String(error) }),
        );
        return;
      }
      default:
        finish(reply);
    }
  });
  worker.onError((error) => finish({ kind: 'failed', title: 'The worker stopped', message: error.message }));
  worker.post(request);
  return { result, cancel: () => finish('cancelled') };
}

/** Local files go to the desktop worker by path (it reads external data beside them); others as bytes. */
export async function modelSource(platform: HostPlatform, uri: vscode.Uri): Promise<ModelSource> {
  if (platform.readsLocalFiles && uri.scheme === 'file') return { kind: 'path', path: uri.fsPath };
  const path = uri.scheme === 'file' ? uri.fsPath : uri.toString();
  return { kind: 'bytes', bytes: await vscode.workspace.fs.readFile(uri), path };
}
