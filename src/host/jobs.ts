/**
 * The jobs the extension runs off its host thread — loading a model for the editor, and the audit — and the
 * messages between the host and the worker that runs them. No vscode and no Node imports: the same code runs
 * in a Node worker thread (desktop) and in a Web Worker (VS Code for the Web).
 */
import { auditPipeline, type AuditPipelineOptions } from '../audit/pipeline';
import { planMarkdown, reportDocument, reportMarkdown, toJson } from '../audit/documents';
import type { SampleSpec } from '../audit/inputs';
import { loadSamples, memorySampleFiles, type SampleFiles } from '../audit/samples';
import { auditView } from '../audit/view';
import { loadModel, OnnxLoadError, summarizeModel, type ExternalDataReader } from '../onnx';
import { buildGraphView } from '../onnx/graphView';
import { sha256Hex } from './sha256';
import type { AuditView, LoaderResult } from '../protocol/messages';

/** A model on the local disk (read by the worker, external data beside it), or bytes the host read. */
export type ModelSource =
  | { readonly kind: 'path'; readonly path: string }
  | { readonly kind: 'bytes'; readonly bytes: Uint8Array; readonly path: string };

export type AuditSettings = Omit<AuditPipelineOptions, 'signal' | 'onProgress'> & { readonly inputs: SampleSpec };

export type JobRequest =
  | { readonly kind: 'load'; readonly source: ModelSource }
  | {
      readonly kind: 'audit';
      readonly source: ModelSource;
      readonly settings: AuditSettings;
      /** Input files the host read, keyed by '/'-joined path under `settings.inputs.dir`. */
      readonly sampleFiles: ReadonlyMap<string, Uint8Array>;
    }
  /** The host's answer to a `readExternal` request. */
  | { readonly kind: 'externalData'; readonly id: number; readonly bytes?: Uint8Array; readonly error?: string };

export interface AuditDocuments {
  readonly planJson: string;
  readonly planMarkdown: string;
  readonly reportJson: string;
  readonly reportMarkdown: string;
}

export type JobReply =
  | { readonly kind: 'loaded'; readonly result: LoaderResult }
  | { readonly kind: 'progress'; readonly phase: string; readonly done: number; readonly total: number }
  | { readonly kind: 'audited'; readonly view: AuditView; readonly documents: AuditDocuments }
  | { readonly kind: 'failed'; readonly title: string; readonly message: string }
  /** External tensor data the worker needs the host to read (models that aren't on the local disk). */
  | {
      readonly kind: 'readExternal';
      readonly id: number;
      readonly location: string;
      readonly offset: number;
      readonly length: number;
    };

/** What differs between the Node worker and the Web Worker. */
export interface JobEnvironment {
  /** Reads a local model file and gives a reader for its external data. */
  readonly readLocalModel?: (path: string) => Promise<{ bytes: Uint8Array; externalData: ExternalDataReader }>;
  /** The local file system for input folders; without it, the files come with the request. */
  readonly localSampleFiles?: SampleFiles;
  readonly post: (reply: JobReply) => void;
}

const PROGRESS_INTERVAL_MS = 100;

export class JobRunner {
  private nextExternalId = 0;
  private readonly pendingExternal = new Map<number, { resolve(b: Uint8Array): void; reject(e: Error): void }>();

  constructor(private readonly env: JobEnvironment) {}

  /** Handles one message from the host. */
  async handle(request: JobRequest): Promise<void> {
    if (request.kind === 'externalData') {
      const pending = this.pendingExternal.get(request.id);
      this.pendingExternal.delete(request.id);
      if (request.bytes) pending?.resolve(request.bytes);
      else pending?.reject(new Error(request.error ?? 'external data could not be read'));
      return;
    }
    try {
      const { model, bytes } = await this.open(request.source);
      const sha256 = await sha256Hex(bytes);
      if (request.kind === 'load') {
        const summary = summarizeModel(model, { path: request.source.path, sizeBytes: bytes.byteLength });
        this.env.post({ kind: 'loaded', result: { ok: true, summary, graph: buildGraphView(model), sha256 } });
        return;
      }
      const { settings } = request;
      const samples = loadSamples(
        model.graph.inputs.filter((i) => !i.isInitializer),
        settings.inputs,
        this.env.localSampleFiles ?? memorySampleFiles(request.sampleFiles),
      );
      const identity = { path: request.source.path, sha256 };
      const result = auditPipeline(model, identity, samples, settings.inputs, {
        ...settings,
        onProgress: throttled((phase, done, total) => this.env.post({ kind: 'progress', phase, done, total })),
      });
      const report = reportDocument(result.audit, result.energy, identity);
      this.env.post({
        kind: 'audited',
        view: auditView(result),
        documents: {
          planJson: toJson(result.plan),
          planMarkdown: planMarkdown(result.plan, result.search.front),
          reportJson: toJson(report),
          reportMarkdown: reportMarkdown(result.audit, result.energy, identity),
        },
      });
    } catch (error) {
      if (request.kind === 'load') this.env.post({ kind: 'loaded', result: loadFailure(error) });
      else this.env.post({ kind: 'failed', title: 'The audit failed', message: messageOf(error) });
    }
  }

  private async open(source: ModelSource) {
    if (source.kind === 'path') {
      if (!this.env.readLocalModel) throw new Error(`local files can't be read here: ${source.path}`);
      const { bytes, externalData } = await this.env.readLocalModel(source.path);
      return { bytes, model: await loadModel(bytes, { externalData }) };
    }
    const externalData: ExternalDataReader = {
      read: (location, offset, length) =>
        new Promise((resolve, reject) => {
          const id = this.nextExternalId++;
          this.pendingExternal.set(id, { resolve, reject });
          this.env.post({ kind: 'readExternal', id, location, offset, length });
        }),
    };
    return { bytes: source.bytes, model: await loadModel(source.bytes, { externalData }) };
  }
}

function throttled(report: (phase: string, done: number, total: number) => void) {
  let last = 0;
  return (phase: string, done: number, total: number) => {
    const now = performance.now();
    if (now - last < PROGRESS_INTERVAL_MS && done < total) return;
    last = now;
    report(phase, done, total);
  };
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function loadFailure(error: unknown): LoaderResult {
  const title =
    error instanceof OnnxLoadError ? `This is not a usable ONNX model (${error.kind})` : 'The model could not be read';
  return { ok: false, title, message: messageOf(error) };
}
