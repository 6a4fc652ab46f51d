import { randomBytes } from 'node:crypto';
import type * as vscode from 'vscode';

/** The webview page: a strict CSP that admits only our bundled script, styled by VS Code's theme variables. */
export function webviewHtml(webview: vscode.Webview, scriptUri: vscode.Uri): string {
  const nonce = randomBytes(16).toString('base64');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src ${webview.cspSource} 'unsafe-inline'; script-src 'nonce-${nonce}';">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>ONNX model</title>
</head>
<body>
<main id="root"><p>Loading…</p></main>
<script nonce="${nonce}" src="${webview.asWebviewUri(scriptUri)}"></script>
</body>
</html>`;
}
