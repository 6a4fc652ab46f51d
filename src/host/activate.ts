/** Wires the extension together; the desktop and web entries differ only in their HostPlatform. */
import * as vscode from 'vscode';
import { AuditService } from './audits';
import { exportPlan } from './exportPlan';
import { LayersViewProvider } from './layersView';
import { OnnxEditorProvider } from './onnxEditor';
import type { HostPlatform } from './platform';
import { auditStatusBar } from './statusBar';

export function activateWith(context: vscode.ExtensionContext, platform: HostPlatform): void {
  const audits = new AuditService(platform, context.globalStorageUri);
  const editors = new OnnxEditorProvider(context.extensionUri, platform, audits);
  /** A command's model: its argument (editor title button, tests), else the focused L-Mul editor. */
  const modelOf = (uri: unknown): vscode.Uri | undefined => {
    const model = uri instanceof vscode.Uri ? uri : editors.activeModel;
    if (!model) void vscode.window.showInformationMessage('Open an .onnx model in the L-Mul editor first.');
    return model;
  };
  context.subscriptions.push(
    audits,
    vscode.window.registerCustomEditorProvider(OnnxEditorProvider.viewType, editors, {
      webviewOptions: { retainContextWhenHidden: true },
      supportsMultipleEditorsPerDocument: true,
    }),
    vscode.window.registerWebviewViewProvider(
      LayersViewProvider.viewId,
      new LayersViewProvider(context.extensionUri, audits, editors),
    ),
    auditStatusBar(audits, editors),
    vscode.commands.registerCommand('lmulAudit.runAudit', async (uri?: unknown) => {
      const model = modelOf(uri);
      return model && audits.run(model);
    }),
    vscode.commands.registerCommand('lmulAudit.cancelAudit', (uri?: unknown) => {
      const model = modelOf(uri);
      if (model) audits.cancel(model);
    }),
    vscode.commands.registerCommand('lmulAudit.exportPlan', async (uri?: unknown, target?: unknown) => {
      const model = modelOf(uri);
      return model && exportPlan(audits, model, target instanceof vscode.Uri ? target : undefined);
    }),
    vscode.commands.registerCommand('lmulAudit.showLayers', () =>
      vscode.commands.executeCommand(`${LayersViewProvider.viewId}.focus`),
    ),
  );
}
