/** The layout worker's entry (bundled on its own and started from a Blob URL): one layout per request. */
import { computeLayout } from './layout';
import type { LayoutRequest } from './layout-protocol';

self.onmessage = (event: MessageEvent<LayoutRequest>) => self.postMessage(computeLayout(event.data));
