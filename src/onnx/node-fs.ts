/**
 * The Node-only part of the loader: reading a model and its external data from the file system.
 * Everything else in src/onnx runs in a browser too.
 */
import { open, readFile, realpath } from 'node:fs/promises';
import path from 'node:path';
import type { ExternalDataReader } from './external-data';
import { loadModel, type LoadOptions } from './load';
import type { OnnxModel } from './model';

function isInside(root: string, target: string): boolean {
  const relative = path.relative(root, target);
  return relative !== '' && relative !== '..' && !relative.startsWith(`..${path.sep}`) && !path.isAbsolute(relative);
}

async function resolveInside(root: string, location: string): Promise<string> {
  let target: string;
  try {
    target = await realpath(path.join(root, location));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new Error(`does not exist (looked for ${path.join(root, location)})`);
    }
    throw e;
  }
  // The location itself is vetted already; this catches symbolic links pointing out of the folder.
  if (!isInside(root, target)) {
    throw new Error(`leads outside the model's folder (to ${target}) through a symbolic link`);
  }
  return target;
}

/** Serves external data from files inside `modelDir` (and, after resolving links, still inside it). */
export function fileSystemReader(modelDir: string): ExternalDataReader {
  let root: Promise<string> | undefined;
  return {
    async read(location, offset, length) {
      root ??= realpath(modelDir);
      const file = await open(await resolveInside(await root, location), 'r');
      try {
        const stats = await file.stat();
        if (!stats.isFile()) throw new Error('is not a regular file');
        const bytes = new Uint8Array(Math.max(0, Math.min(length, stats.size - offset)));
        for (let filled = 0; filled < bytes.length;) {
          const { bytesRead } = await file.read(bytes, filled, bytes.length - filled, offset + filled);
          if (bytesRead === 0) return bytes.subarray(0, filled);
          filled += bytesRead;
        }
        return bytes;
      } finally {
        await file.close();
      }
    },
  };
}

/** Loads a .onnx file; external data is looked up next to it. */
export async function loadModelFile(file: string, options: Omit<LoadOptions, 'externalData'> = {}): Promise<OnnxModel> {
  const bytes = await readFile(file);
  return loadModel(bytes, { ...options, externalData: fileSystemReader(path.dirname(file)) });
}
