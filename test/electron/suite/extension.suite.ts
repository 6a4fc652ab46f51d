/** In VS Code desktop: activation, the custom editor, an audit of a small model and the plan export. */
import assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { AuditOutcome } from '../../../src/host/audits';

const EXTENSION_ID = 'lmul-audit.lmul-audit';

function workspaceFile(name: string): vscode.Uri {
  return vscode.Uri.joinPath(vscode.workspace.workspaceFolders![0]!.uri, name);
}

async function waitFor<T>(what: string, probe: () => T | undefined, timeoutMs = 60_000): Promise<T> {
  const start = Date.now();
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

export function registerExtensionSuite(): void {
  suite('L-Mul Precision Audit in VS Code', () => {
    const model = () => workspaceFile('mel.onnx');

    test('the extension activates and contributes its commands', async () => {
      const extension = vscode.extensions.getExtension(EXTENSION_ID);
      assert.ok(extension, `${EXTENSION_ID} is installed`);
      await extension.activate();
      const commands = await vscode.commands.getCommands(true);
      for (const id of ['lmulAudit.runAudit', 'lmulAudit.cancelAudit', 'lmulAudit.exportPlan', 'lmulAudit.showLayers'])
        assert.ok(commands.includes(id), id);
    });

    test('an .onnx file opens in the L-Mul custom editor', async () => {
      await vscode.commands.executeCommand('vscode.openWith', model(), 'lmulAudit.onnxModel');
      const tab = await waitFor('the editor tab', () => {
        const active = vscode.window.tabGroups.activeTabGroup.activeTab;
        return active?.input instanceof vscode.TabInputCustom ? active.input : undefined;
      });
      assert.equal(tab.viewType, 'lmulAudit.onnxModel');
      assert.equal(tab.uri.toString(), model().toString());
    });

    test('Run Audit audits the model in a worker and returns its plan', async () => {
      // The editor registers the model (with its hash) once its worker has parsed it.
      const outcome = await waitForAudit(() =>
        vscode.commands.executeCommand<AuditOutcome | undefined>('lmulAudit.runAudit', model()),
      );
      assert.deepEqual(outcome.view.schemes, ['lmul4', 'e4m3']);
      assert.ok(outcome.view.nodes.length > 0);
      const plan = JSON.parse(outcome.documents.planJson);
      assert.equal(plan.schema, 'lmul-audit/plan');
      assert.equal(plan.budget, 'sqnr>=20');
    });

    test('Export Conversion Plan writes plan JSON and Markdown', async () => {
      const target = workspaceFile('mel.plan.json');
      const written = await vscode.commands.executeCommand<vscode.Uri | undefined>(
        'lmulAudit.exportPlan',
        model(),
        target,
      );
      assert.equal(written?.toString(), target.toString());
      const plan = JSON.parse(new TextDecoder().decode(await vscode.workspace.fs.readFile(target)));
      assert.equal(plan.schema, 'lmul-audit/plan');
      assert.equal(plan.model.sha256.length, 64);
      const markdown = new TextDecoder().decode(await vscode.workspace.fs.readFile(workspaceFile('mel.plan.md')));
      assert.match(markdown, /sqnr>=20/);
    });
  });
}

/** Retries while the editor is still loading the model ("open the model … first"). */
async function waitForAudit(run: () => Thenable<AuditOutcome | undefined>): Promise<AuditOutcome> {
  const start = Date.now();
  for (;;) {
    try {
      const outcome = await run();
      if (outcome) return outcome;
      throw new Error('the audit returned nothing');
    } catch (error) {
      if (!/open the model/.test(String(error)) || Date.now() - start > 60_000) throw error;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}
