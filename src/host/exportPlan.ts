/** Export Conversion Plan: plan.json and plan.md, the same documents `lmul-audit audit` writes. */
import * as vscode from 'vscode';
import type { AuditService } from './audits';

/**
 * Writes the model's plan to `target` (asked for with a save dialog when absent) and the Markdown view beside
 * it; returns the JSON file, or undefined when there was nothing to export or the user cancelled.
 */
export async function exportPlan(
  audits: AuditService,
  modelUri: vscode.Uri,
  target?: vscode.Uri,
): Promise<vscode.Uri | undefined> {
  const outcome = audits.entry(modelUri)?.outcome;
  if (!outcome) {
    const choice = await vscode.window.showWarningMessage('There is no audit of this model yet.', 'Run Audit');
    if (choice) await vscode.commands.executeCommand('lmulAudit.runAudit', modelUri);
    return undefined;
  }
  const baseName = (modelUri.path.split('/').pop() ?? 'model').replace(/\.onnx$/i, '');
  const jsonUri =
    target ??
    (await vscode.window.showSaveDialog({
      title: 'Export Conversion Plan',
      defaultUri: vscode.Uri.joinPath(modelUri, '..', `${baseName}.plan.json`),
      filters: { 'Conversion plan': ['json'] },
    }));
  if (!jsonUri) return undefined;
  const markdownUri = jsonUri.with({ path: jsonUri.path.replace(/(\.json)?$/i, '.md') });
  const encoder = new TextEncoder();
  await vscode.workspace.fs.writeFile(jsonUri, encoder.encode(outcome.documents.planJson));
  await vscode.workspace.fs.writeFile(markdownUri, encoder.encode(outcome.documents.planMarkdown));
  return jsonUri;
}
