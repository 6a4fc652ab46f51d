// Test-only web extension (runs in VS Code for the Web's worker extension host): a FileSystemProvider for the
// scheme `lmul-e2e` backed by the harness server's /fs/ endpoints (test/e2e/harness.ts), which read and write a
// folder on disk. Also a FileSearchProvider (proposed API, enabled by the harness's productConfiguration) so that
// Quick Open finds workspace files.
const vscode = require('vscode');

const SCHEME = 'lmul-e2e';

function fsError(code, uri) {
  switch (code) {
    case 'ENOENT':
      return vscode.FileSystemError.FileNotFound(uri);
    case 'EEXIST':
      return vscode.FileSystemError.FileExists(uri);
    case 'ENOTDIR':
      return vscode.FileSystemError.FileNotADirectory(uri);
    case 'EISDIR':
      return vscode.FileSystemError.FileIsADirectory(uri);
    case 'EACCES':
    case 'EPERM':
      return vscode.FileSystemError.NoPermissions(uri);
    default:
      return vscode.FileSystemError.Unavailable(`${uri.toString()}: ${code}`);
  }
}

function activate(context) {
  const origin = new URL(context.extensionUri.toString(true)).origin;
  const endpoint = (uri, op, extra = {}) => {
    const url = new URL(`${origin}/fs${uri.path}`);
    url.searchParams.set('op', op);
    for (const [key, value] of Object.entries(extra)) url.searchParams.set(key, String(value));
    return url;
  };
  async function call(uri, op, init = {}, extra = {}) {
    const response = await fetch(endpoint(uri, op, extra), init);
    if (response.status === 200) return response;
    let code = `HTTP ${response.status}`;
    try {
      code = (await response.json()).code ?? code;
    } catch {
      // not a JSON error body
    }
    throw fsError(code, uri);
  }

  const changes = new vscode.EventEmitter();
  const provider = {
    onDidChangeFile: changes.event,
    watch: () => new vscode.Disposable(() => undefined),
    async stat(uri) {
      return (await call(uri, 'stat')).json();
    },
    async readDirectory(uri) {
      return (await call(uri, 'readdir')).json();
    },
    async readFile(uri) {
      return new Uint8Array(await (await call(uri, 'read')).arrayBuffer());
    },
    async writeFile(uri, content, options) {
      await call(
        uri,
        'write',
        { method: 'PUT', body: content },
        { create: options.create, overwrite: options.overwrite },
      );
      changes.fire([{ type: vscode.FileChangeType.Changed, uri }]);
    },
    async createDirectory(uri) {
      await call(uri, 'mkdir', { method: 'POST' });
      changes.fire([{ type: vscode.FileChangeType.Created, uri }]);
    },
    async delete(uri, options) {
      await call(uri, 'delete', { method: 'POST' }, { recursive: options.recursive });
      changes.fire([{ type: vscode.FileChangeType.Deleted, uri }]);
    },
    async rename(oldUri, newUri, options) {
      await call(oldUri, 'rename', { method: 'POST' }, { to: newUri.path, overwrite: options.overwrite });
      changes.fire([
        { type: vscode.FileChangeType.Deleted, uri: oldUri },
        { type: vscode.FileChangeType.Created, uri: newUri },
      ]);
    },
  };
  context.subscriptions.push(
    changes,
    vscode.workspace.registerFileSystemProvider(SCHEME, provider, { isCaseSensitive: true }),
  );

  // Quick Open: every file of the workspace; VS Code ranks them against the typed pattern itself.
  if (typeof vscode.workspace.registerFileSearchProvider === 'function') {
    context.subscriptions.push(
      vscode.workspace.registerFileSearchProvider(SCHEME, {
        async provideFileSearchResults(_query, options) {
          const files = await (await call(options.folder, 'list')).json();
          return files.map((path) => vscode.Uri.joinPath(options.folder, path));
        },
      }),
    );
  } else {
    console.error('lmul-e2e-fs: the fileSearchProvider proposal is not enabled; Quick Open will not find files');
  }
}

module.exports = { activate, deactivate() {} };
