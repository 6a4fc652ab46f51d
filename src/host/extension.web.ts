/** Web entry (VS Code for the Web): jobs run in a Web Worker; the host reads files through vscode.workspace.fs. */
import * as vscode from 'vscode';
import { activateWith } from './activate';
import type { JobReply } from './jobs';

export function activate(context: vscode.ExtensionContext): void {
  const script = vscode.Uri.joinPath(context.extensionUri, 'dist', 'web', 'worker.js').toString(true);
  activateWith(context, {
    readsLocalFiles: false,
    startWorker: () => {
      const worker = new Worker(script);
      return {
        post: (request) => worker.postMessage(request),
        onReply: (listener) =>
          worker.addEventListener('message', (event: MessageEvent<JobReply>) => listener(event.data)),
        onError: (listener) =>
          worker.addEventListener('error', (event) =>
            listener(new Error(event.message || 'the worker failed to start')),
          ),
        terminate: () => worker.terminate(),
      };
    },
  });
}

export function deactivate(): void {}
