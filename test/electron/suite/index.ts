/** Mocha entry that VS Code's extension host calls with the integration suite. */
import Mocha from 'mocha';
import { registerExtensionSuite } from './extension.suite';

export function run(): Promise<void> {
  const mocha = new Mocha({ ui: 'tdd', color: true, timeout: 180_000 });
  mocha.suite.emit('pre-require', globalThis, 'extension.suite', mocha);
  registerExtensionSuite();
  return new Promise((resolve, reject) =>
    mocha.run((failures) => (failures > 0 ? reject(new Error(`${failures} integration tests failed`)) : resolve())),
  );
}
