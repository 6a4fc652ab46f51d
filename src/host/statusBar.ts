/** The status-bar summary of the focused model's audit: progress while running, then the plan's saving. */
import * as vscode from 'vscode';
import type { AuditService } from './audits';
import type { OnnxEditorProvider } from './onnxEditor';

export function auditStatusBar(audits: AuditService, editors: OnnxEditorProvider): vscode.Disposable {
  const item = vscode.window.createStatusBarItem('lmulAudit.status', vscode.StatusBarAlignment.Left, 10);
  item.name = 'L-Mul audit';
  item.command = 'lmulAudit.showLayers';
  const refresh = () => {
    const uri = editors.activeModel;
    const entry = uri && audits.entry(uri);
    if (!entry) {
      item.hide();
      return;
    }
    const { state, outcome } = entry;
    if (state.state === 'running') {
      item.text = `$(sync~spin) L-Mul ${state.phase} ${Math.floor((100 * state.done) / Math.max(state.total, 1))}%`;
      item.tooltip = 'Audit running — cancel from its notification';
    } else if (outcome) {
      const { plan, nodes } = outcome.view;
      const converted = Object.keys(plan.assignment).length;
      item.text = `$(pulse) L-Mul: ${converted}/${nodes.length} layers convert, ${(100 * plan.savedFraction).toFixed(1)}% energy saved`;
      item.tooltip = `Plan under ${plan.budget}: ${plan.meetsBudget ? 'verified within budget' : 'NOT within budget'}. Click for the per-layer panel.`;
    } else {
      item.text = '$(pulse) L-Mul: not audited';
      item.tooltip = 'Run L-Mul: Run Audit';
    }
    item.show();
  };
  const subscriptions = [audits.onDidChange(refresh), editors.onDidChangeActiveModel(refresh)];
  return vscode.Disposable.from(item, ...subscriptions);
}
