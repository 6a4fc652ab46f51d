/** Desktop entry: jobs run in Node worker threads that read local files themselves. */
import { Worker } from 'node:worker_threads';
import * as vscode from 'vscode';
import { activateWith } from './activate';
import type { JobReply } from './jobs';

export function activate(context: vscode.ExtensionContext): void {
  const script = vscode.Uri.joinPath(context.extensionUri, 'dist', 'worker.js').fsPath;
  activateWith(context, {
    readsLocalFiles: true,
    startWorker: () => {
      const worker = new Worker(script);
      return {
        post: (request) => worker.postMessage(request),
        onReply: (listener) => worker.on('message', (reply: JobReply) => listener(reply)),
        onError: (listener) => worker.on('error', listener),
        terminate: () => void worker.terminate(),
      };
    },
  });
}

export function deactivate(): void {}
