/** The one message protocol between the extension host and the webview; both sides import this file. */
import type { ModelSummary } from '../onnx/inspect';

export type HostToWebview =
  | { readonly type: 'loading'; readonly fileName: string }
  | { readonly type: 'model'; readonly fileName: string; readonly summary: ModelSummary }
  | { readonly type: 'error'; readonly fileName: string; readonly title: string; readonly message: string };

export type WebviewToHost = { readonly type: 'ready' };

/** What the model-loading worker thread reports to the host. */
export type LoaderResult =
  | { readonly ok: true; readonly summary: ModelSummary }
  | { readonly ok: false; readonly title: string; readonly message: string };
