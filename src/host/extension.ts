import * as vscode from 'vscode';
import { OnnxEditorProvider } from './onnxEditor';

export function activate(context: vscode.ExtensionContext): void {
  context.subscriptions.push(
    vscode.window.registerCustomEditorProvider(
      OnnxEditorProvider.viewType,
      new OnnxEditorProvider(context.extensionUri),
      {
        webviewOptions: { retainContextWhenHidden: true },
        supportsMultipleEditorsPerDocument: true,
      },
    ),
  );
}

export function deactivate(): void {}
