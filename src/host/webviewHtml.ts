import type * as vscode from 'vscode';

/**
 * A webview page: a strict CSP that admits only our bundled script (by nonce) and the Blob URL workers it starts,
 * no remote content; styled by VS Code's theme variables.
 */
export function webviewHtml(webview: vscode.Webview, scriptUri: vscode.Uri, title: string): string {
  const nonce = Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join('');
  const csp = [
    "default-src 'none'",
    `style-src ${webview.cspSource} 'unsafe-inline'`,
    `img-src ${webview.cspSource} data:`,
    `script-src 'nonce-${nonce}'`,
    'worker-src blob:',
  ].join('; ');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp};">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>${title}</title>
</head>
<body>
<main id="root"><p>Loading…</p></main>
<script nonce="${nonce}" src="${webview.asWebviewUri(scriptUri)}"></script>
</body>
</html>`;
}
