/** The input folder on the local file system, for the CLI and the desktop extension's worker. */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import type { SampleFiles } from './samples';

export const nodeSampleFiles: SampleFiles = {
  isDirectory: (path) => existsSync(path) && statSync(path).isDirectory(),
  list: (dir) => readdirSync(dir),
  read: (path) => (existsSync(path) && statSync(path).isFile() ? readFileSync(path) : undefined),
};
