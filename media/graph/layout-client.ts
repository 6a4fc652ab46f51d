/**
 * Runs layouts in a Web Worker started from a Blob URL of the bundled worker code (a webview cannot load a
 * worker script from its resource origin). The newest request wins: a pending layout is cancelled by
 * terminating its worker.
 */
import type { LayoutRequest, LayoutResult } from './layout-protocol';

/** The bundled code of layout-worker.ts, injected by scripts/build.mjs. */
declare const LAYOUT_WORKER_SOURCE: string;

export class LayoutClient {
  private readonly url = URL.createObjectURL(new Blob([LAYOUT_WORKER_SOURCE], { type: 'text/javascript' }));
  private worker: Worker | undefined;
  private pending: ((result: LayoutResult | undefined) => void) | undefined;
  private seq = 0;

  /** Resolves with the layout, or undefined if a newer request superseded it. Rejects if the worker fails. */
  layout(request: Omit<LayoutRequest, 'seq'>): Promise<LayoutResult | undefined> {
    if (this.pending) {
      this.worker?.terminate();
      this.worker = undefined;
      this.pending(undefined);
    }
    const worker = (this.worker ??= new Worker(this.url));
    const seq = ++this.seq;
    return new Promise((resolve, reject) => {
      this.pending = resolve;
      worker.onmessage = (event: MessageEvent<LayoutResult>) => {
        if (event.data.seq !== seq) return;
        this.pending = undefined;
        resolve(event.data);
      };
      worker.onerror = (event) => {
        this.pending = undefined;
        event.preventDefault();
        reject(new Error(`layout worker failed: ${event.message}`));
      };
      worker.postMessage({ ...request, seq });
    });
  }
}
