/** The per-layer error panel: a webview view in the panel area showing the focused model's audit. */
import * as vscode from 'vscode';
import { parsePanelMessage, type HostToPanel } from '../protocol/messages';
import type { AuditService } from './audits';
import type { OnnxEditorProvider } from './onnxEditor';
import { webviewHtml } from './webviewHtml';

export class LayersViewProvider implements vscode.WebviewViewProvider {
  static readonly viewId = 'lmulAudit.layers';
  private view: vscode.WebviewView | undefined;
  private shown: { uri: string | undefined; revision: number } = { uri: undefined, revision: -1 };

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly audits: AuditService,
    private readonly editors: OnnxEditorProvider,
  ) {
    editors.onDidChangeActiveModel(() => this.refresh());
    editors.onDidSelectNode((nodeName) => this.post({ type: 'select', nodeName }));
    audits.onDidChange(() => this.refresh());
  }

  resolveWebviewView(view: vscode.WebviewView): void {
    const distUri = vscode.Uri.joinPath(this.extensionUri, 'dist');
    view.webview.options = { enableScripts: true, localResourceRoots: [distUri] };
    view.webview.html = webviewHtml(view.webview, vscode.Uri.joinPath(distUri, 'panel.js'), 'L-Mul layers');
    this.view = view;
    view.onDidDispose(() => (this.view = undefined));
    view.webview.onDidReceiveMessage((raw: unknown) => {
      const message = parsePanelMessage(raw);
      if (message?.type === 'ready') {
        this.shown = { uri: undefined, revision: -1 };
        this.refresh();
      } else if (message?.type === 'reveal' && this.editors.activeModel) {
        this.editors.reveal(this.editors.activeModel, message.nodeName);
      }
    });
  }

  private refresh(): void {
    const uri = this.editors.activeModel;
    const entry = uri && this.audits.entry(uri);
    const revision = entry?.outcome ? entry.revision : 0;
    if (this.shown.uri === uri?.toString() && this.shown.revision === revision) return;
    this.shown = { uri: uri?.toString(), revision };
    this.post({
      type: 'audit',
      modelName: uri?.path.split('/').pop() ?? '',
      audit: entry?.outcome?.view ?? null,
    });
  }

  private post(message: HostToPanel): void {
    void this.view?.webview.postMessage(message);
  }
}
