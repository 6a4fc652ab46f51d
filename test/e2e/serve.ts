/**
 * Opens the e2e harness for a person: `npx tsx test/e2e/serve.ts [--port N] [--workspace DIR]`, then open the
 * printed URL in Chromium or Chrome (other browsers may not resolve *.localhost, which the webviews need).
 * Without --workspace a fresh temporary copy of the fixture workspace (settings + PaddleOCR v4 rec model) is
 * served; run `npm run build` first so that dist/ holds the extension.
 */
import { parseArgs } from 'node:util';
import { prepareWorkspace, startHarness } from './harness';

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { port: { type: 'string' }, workspace: { type: 'string' } } });
  const workspaceDir = values.workspace ?? (await prepareWorkspace());
  const harness = await startHarness({
    workspaceDir,
    port: values.port ? Number(values.port) : 8123,
    onError: (line) => console.error(line),
  });
  console.log(`VS Code for the Web with L-Mul Precision Audit: ${harness.url}`);
  console.log(`workspace folder (read/write): ${workspaceDir}`);
  console.log('Ctrl-C stops the server.');
  process.on('SIGINT', () => void harness.close().then(() => process.exit(0)));
}

void main();
