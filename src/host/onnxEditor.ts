/**
 * The readonly custom editor for *.onnx: the model is parsed in a worker thread (the extension host never
 * parses a large protobuf itself) and the webview shows its properties, or an error page.
 */
import { Worker } from 'node:worker_threads';
import * as vscode from 'vscode';
import type { HostToWebview, LoaderResult, WebviewToHost } from '../protocol/messages';
import { webviewHtml } from './webviewHtml';

export class OnnxEditorProvider implements vscode.CustomReadonlyEditorProvider {
  static readonly viewType = 'lmulAudit.onnxModel';

  constructor(private readonly extensionUri: vscode.Uri) {}

  openCustomDocument(uri: vscode.Uri): vscode.CustomDocument {
    return { uri, dispose: () => undefined };
  }

  resolveCustomEditor(document: vscode.CustomDocument, panel: vscode.WebviewPanel): void {
    const distUri = vscode.Uri.joinPath(this.extensionUri, 'dist');
    panel.webview.options = { enableScripts: true, localResourceRoots: [distUri] };
    panel.webview.html = webviewHtml(panel.webview, vscode.Uri.joinPath(distUri, 'webview.js'));
    const fileName = document.uri.path.split('/').pop() ?? document.uri.path;
    const post = (message: HostToWebview) => void panel.webview.postMessage(message);
    let worker: Worker | undefined;
    panel.onDidDispose(() => void worker?.terminate());
    panel.webview.onDidReceiveMessage(async (message: WebviewToHost) => {
      if (message.type !== 'ready') return;
      post({ type: 'loading', fileName });
      void worker?.terminate();
      worker = await startLoader(this.extensionUri, document.uri);
      worker.once('message', (result: LoaderResult) => {
        post(
          result.ok
            ? { type: 'model', fileName, summary: result.summary, graph: result.graph }
            : { type: 'error', fileName, ...result },
        );
        void worker?.terminate();
      });
      worker.once('error', (error) =>
        post({ type: 'error', fileName, title: 'The model loader failed', message: error.message }),
      );
    });
  }
}

/** Files on disk are read by the worker itself (external data lives beside them); other schemes send bytes. */
async function startLoader(extensionUri: vscode.Uri, modelUri: vscode.Uri): Promise<Worker> {
  const script = vscode.Uri.joinPath(extensionUri, 'dist', 'modelWorker.js').fsPath;
  if (modelUri.scheme === 'file') return new Worker(script, { workerData: { path: modelUri.fsPath } });
  const bytes = await vscode.workspace.fs.readFile(modelUri);
  return new Worker(script, { workerData: { bytes, name: modelUri.path } });
}
