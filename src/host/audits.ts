/**
 * Runs audits for open models and keeps their results: one audit per model at a time, in a worker, with a
 * cancellable progress notification; results are cached by model hash and settings (in memory and in the
 * extension's global storage), so reopening a model or re-running with the same settings costs nothing.
 */
import * as vscode from 'vscode';
import { fromJson, toJson } from '../audit/documents';
import type { AuditState, AuditView } from '../protocol/messages';
import { modelSource, startJob, type RunningJob } from './jobClient';
import type { AuditDocuments, AuditSettings } from './jobs';
import { sha256Hex } from './sha256';
import type { HostPlatform } from './platform';
import { readInputFiles, readSettings, SettingsError } from './settings';

export interface AuditOutcome {
  readonly view: AuditView;
  readonly documents: AuditDocuments;
}

export interface ModelEntry {
  readonly uri: vscode.Uri;
  readonly sha256: string;
  state: AuditState;
  outcome: AuditOutcome | undefined;
  /** Counts outcome changes, so views resend an audit only when it is new. */
  revision: number;
}

const CACHE_FORMAT = 1;

export class AuditService implements vscode.Disposable {
  private readonly models = new Map<string, ModelEntry>();
  private readonly running = new Map<string, RunningJob>();
  /** Models with a run under way, from reading the settings to the worker's answer. */
  private readonly busy = new Set<string>();
  private readonly changed = new vscode.EventEmitter<ModelEntry>();
  readonly onDidChange = this.changed.event;

  constructor(
    private readonly platform: HostPlatform,
    private readonly storage: vscode.Uri,
  ) {}

  dispose(): void {
    for (const job of this.running.values()) job.cancel();
    this.changed.dispose();
  }

  /** Registers a model the editor loaded, with any cached audit for the current settings. */
  async opened(uri: vscode.Uri, sha256: string): Promise<ModelEntry> {
    const key = uri.toString();
    let entry = this.models.get(key);
    if (!entry || entry.sha256 !== sha256) {
      entry = { uri, sha256, state: { state: 'idle' }, outcome: undefined, revision: 0 };
      this.models.set(key, entry);
    }
    if (!entry.outcome && !this.busy.has(key)) {
      const cached = await this.readCache(uri, sha256).catch(() => undefined);
      if (cached) this.update(entry, { state: 'idle' }, cached);
    }
    return entry;
  }

  entry(uri: vscode.Uri): ModelEntry | undefined {
    return this.models.get(uri.toString());
  }

  async run(uri: vscode.Uri): Promise<AuditOutcome | undefined> {
    const entry = this.models.get(uri.toString());
    if (!entry) throw new Error('open the model in the L-Mul editor first');
    if (this.busy.has(uri.toString())) return undefined;
    this.busy.add(uri.toString());
    try {
      return await this.settingsAndRun(entry);
    } finally {
      this.busy.delete(uri.toString());
    }
  }

  private async settingsAndRun(entry: ModelEntry): Promise<AuditOutcome | undefined> {
    const { uri } = entry;
    let resolved;
    try {
      resolved = await readSettings(uri);
    } catch (error) {
      if (!(error instanceof SettingsError)) throw error;
      this.update(entry, { state: 'failed', message: error.message });
      void vscode.window.showErrorMessage(error.message, 'Open Settings').then((choice) => {
        if (choice) void vscode.commands.executeCommand('workbench.action.openSettings', 'lmulAudit');
      });
      return undefined;
    }
    const cached = await this.readCache(uri, entry.sha256, resolved.settings).catch(() => undefined);
    if (cached) {
      this.update(entry, { state: 'idle' }, cached);
      return cached;
    }
    return this.runJob(entry, resolved.settings, resolved.inputsUri);
  }

  cancel(uri: vscode.Uri): void {
    this.running.get(uri.toString())?.cancel();
  }

  private async runJob(entry: ModelEntry, settings: AuditSettings, inputsUri: vscode.Uri | undefined) {
    const key = entry.uri.toString();
    const name = entry.uri.path.split('/').pop();
    return vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `L-Mul audit of ${name}`, cancellable: true },
      async (progress, token) => {
        this.update(entry, { state: 'running', phase: 'starting', done: 0, total: 1 });
        try {
          const sampleFiles =
            inputsUri &&
            settings.inputs.kind === 'files' &&
            !(this.platform.readsLocalFiles && inputsUri.scheme === 'file')
              ? await readInputFiles(inputsUri, settings.inputs.dir)
              : new Map<string, Uint8Array>();
          let shown = 0;
          const job = startJob(
            this.platform,
            entry.uri,
            { kind: 'audit', source: await modelSource(this.platform, entry.uri), settings, sampleFiles },
            ({ phase, done, total }) => {
              // The bar gives the audit 70% and the plan search 30%.
              const fraction = done / Math.max(total, 1);
              const overall = 100 * (phase === 'audit' ? 0.7 * fraction : 0.7 + 0.3 * fraction);
              progress.report({ message: `${phase} ${Math.floor(100 * fraction)}%`, increment: overall - shown });
              shown = overall;
              this.update(entry, { state: 'running', phase, done, total });
            },
          );
          this.running.set(key, job);
          if (token.isCancellationRequested) job.cancel();
          token.onCancellationRequested(() => job.cancel());
          const result = await job.result;
          if (result === 'cancelled') {
            this.update(entry, { state: 'cancelled' });
            return undefined;
          }
          if (result.kind !== 'audited') {
            const message = result.kind === 'failed' ? `${result.title}: ${result.message}` : 'unexpected reply';
            this.update(entry, { state: 'failed', message });
            void vscode.window.showErrorMessage(`L-Mul audit of ${name} failed. ${message}`);
            return undefined;
          }
          const outcome = { view: result.view, documents: result.documents };
          this.update(entry, { state: 'idle' }, outcome);
          await this.writeCache(entry.uri, entry.sha256, settings, outcome).catch(() => undefined);
          return outcome;
        } catch (error) {
          this.update(entry, { state: 'failed', message: (error as Error).message });
          void vscode.window.showErrorMessage(`L-Mul audit of ${name} failed: ${(error as Error).message}`);
          return undefined;
        } finally {
          this.running.delete(key);
        }
      },
    );
  }

  private update(entry: ModelEntry, state: AuditState, outcome?: AuditOutcome): void {
    entry.state = state;
    if (outcome) {
      entry.outcome = outcome;
      entry.revision++;
    }
    this.changed.fire(entry);
  }

  /** The cache file for a model and settings; without settings, the current ones. */
  private async cacheUri(uri: vscode.Uri, sha256: string, settings?: AuditSettings): Promise<vscode.Uri> {
    const current = settings ?? (await readSettings(uri)).settings;
    const key = await sha256Hex(new TextEncoder().encode(JSON.stringify({ CACHE_FORMAT, sha256, settings: current })));
    return vscode.Uri.joinPath(this.storage, 'audits', `${key}.json`);
  }

  private async readCache(uri: vscode.Uri, sha256: string, settings?: AuditSettings) {
    const file = await this.cacheUri(uri, sha256, settings);
    return fromJson<AuditOutcome>(new TextDecoder().decode(await vscode.workspace.fs.readFile(file)));
  }

  private async writeCache(uri: vscode.Uri, sha256: string, settings: AuditSettings, outcome: AuditOutcome) {
    const file = await this.cacheUri(uri, sha256, settings);
    await vscode.workspace.fs.writeFile(file, new TextEncoder().encode(toJson(outcome)));
  }
}
