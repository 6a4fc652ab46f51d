/**
 * The readonly custom editor for *.onnx: the model is parsed in a worker (the extension host never parses a
 * large protobuf itself); the webview draws its graph and, once an audit exists, the error heatmap.
 */
import * as vscode from 'vscode';
import { parseWebviewMessage, type HostToWebview } from '../protocol/messages';
import type { AuditService, ModelEntry } from './audits';
import { modelSource, startJob } from './jobClient';
import type { HostPlatform } from './platform';
import { webviewHtml } from './webviewHtml';

interface OpenEditor {
  readonly uri: vscode.Uri;
  readonly panel: vscode.WebviewPanel;
  loaded: boolean;
  /** The audit revision this webview shows. */
  shownRevision: number;
}

export class OnnxEditorProvider implements vscode.CustomReadonlyEditorProvider {
  static readonly viewType = 'lmulAudit.onnxModel';
  private readonly editors = new Set<OpenEditor>();
  private active: OpenEditor | undefined;
  private readonly activeChanged = new vscode.EventEmitter<vscode.Uri | undefined>();
  /** The model of the focused (or last focused) L-Mul editor. */
  readonly onDidChangeActiveModel = this.activeChanged.event;
  private readonly selected = new vscode.EventEmitter<string>();
  /** A node the user selected in a graph. */
  readonly onDidSelectNode = this.selected.event;

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly platform: HostPlatform,
    private readonly audits: AuditService,
  ) {
    audits.onDidChange((entry) => this.showAudit(entry));
  }

  get activeModel(): vscode.Uri | undefined {
    return this.active?.uri;
  }

  openCustomDocument(uri: vscode.Uri): vscode.CustomDocument {
    return { uri, dispose: () => undefined };
  }

  resolveCustomEditor(document: vscode.CustomDocument, panel: vscode.WebviewPanel): void {
    const distUri = vscode.Uri.joinPath(this.extensionUri, 'dist');
    panel.webview.options = { enableScripts: true, localResourceRoots: [distUri] };
    panel.webview.html = webviewHtml(panel.webview, vscode.Uri.joinPath(distUri, 'webview.js'), 'ONNX model');
    const editor: OpenEditor = { uri: document.uri, panel, loaded: false, shownRevision: 0 };
    this.editors.add(editor);
    this.setActive(editor);
    panel.onDidChangeViewState(() => {
      if (panel.active) this.setActive(editor);
    });
    panel.onDidDispose(() => {
      this.editors.delete(editor);
      if (this.active === editor) this.setActive(undefined);
    });
    panel.webview.onDidReceiveMessage((raw: unknown) => {
      const message = parseWebviewMessage(raw);
      switch (message?.type) {
        case 'ready':
          void this.load(editor);
          return;
        case 'runAudit':
          void vscode.commands.executeCommand('lmulAudit.runAudit', editor.uri);
          return;
        case 'cancelAudit':
          this.audits.cancel(editor.uri);
          return;
        case 'exportPlan':
          void vscode.commands.executeCommand('lmulAudit.exportPlan', editor.uri);
          return;
        case 'selectNode':
          this.selected.fire(message.nodeName);
          return;
      }
    });
  }

  /** Selects a node in the model's editors and brings it into view. */
  reveal(uri: vscode.Uri, nodeName: string): void {
    for (const editor of this.editorsOf(uri)) {
      if (editor === this.active) editor.panel.reveal(undefined, true);
      post(editor, { type: 'reveal', nodeName });
    }
  }

  private setActive(editor: OpenEditor | undefined): void {
    if (this.active === editor) return;
    this.active = editor;
    this.activeChanged.fire(editor?.uri);
  }

  private editorsOf(uri: vscode.Uri): OpenEditor[] {
    return [...this.editors].filter((e) => e.uri.toString() === uri.toString());
  }

  private async load(editor: OpenEditor): Promise<void> {
    const fileName = editor.uri.path.split('/').pop() ?? editor.uri.path;
    post(editor, { type: 'loading', fileName });
    try {
      const job = startJob(this.platform, editor.uri, {
        kind: 'load',
        source: await modelSource(this.platform, editor.uri),
      });
      editor.panel.onDidDispose(() => job.cancel());
      const reply = await job.result;
      if (reply === 'cancelled') return;
      if (reply.kind !== 'loaded' || !reply.result.ok) {
        const failure = reply.kind === 'loaded' && !reply.result.ok ? reply.result : undefined;
        post(editor, {
          type: 'error',
          fileName,
          title: failure?.title ?? 'The model loader failed',
          message: failure?.message ?? (reply.kind === 'failed' ? reply.message : 'unexpected reply'),
        });
        return;
      }
      post(editor, { type: 'model', fileName, summary: reply.result.summary, graph: reply.result.graph });
      editor.loaded = true;
      const entry = await this.audits.opened(editor.uri, reply.result.sha256);
      this.showAudit(entry);
    } catch (error) {
      post(editor, {
        type: 'error',
        fileName,
        title: 'The model could not be read',
        message: (error as Error).message,
      });
    }
  }

  private showAudit(entry: ModelEntry): void {
    for (const editor of this.editorsOf(entry.uri)) {
      if (!editor.loaded) continue;
      post(editor, { type: 'auditState', audit: entry.state });
      if (entry.outcome && editor.shownRevision !== entry.revision) {
        post(editor, { type: 'audit', audit: entry.outcome.view });
        editor.shownRevision = entry.revision;
      }
    }
  }
}

function post(editor: OpenEditor, message: HostToWebview): void {
  void editor.panel.webview.postMessage(message);
}
