/** Webview entry: receives host messages (src/protocol/messages.ts) and renders the model page. */
import type { HostToWebview, WebviewToHost } from '../src/protocol/messages';
import { escapeHtml, renderError, renderModel } from './render';
import { STYLES } from './styles';

declare function acquireVsCodeApi(): { postMessage(message: WebviewToHost): void };

const vscode = acquireVsCodeApi();
const root = document.getElementById('root')!;
const style = document.createElement('style');
style.textContent = STYLES;
document.head.appendChild(style);

window.addEventListener('message', (event: MessageEvent<HostToWebview>) => {
  const message = event.data;
  switch (message.type) {
    case 'loading':
      root.innerHTML = `<p>Loading ${escapeHtml(message.fileName)}…</p>`;
      break;
    case 'model':
      root.innerHTML = renderModel(message.fileName, message.summary);
      break;
    case 'error':
      root.innerHTML = renderError(message.fileName, message.title, message.message);
      break;
  }
});

vscode.postMessage({ type: 'ready' });
