/**
 * External tensor data (TensorProto.data_location = EXTERNAL): parsing and vetting the reference.
 * Reading is delegated to an ExternalDataReader so that a browser can serve the files itself; the
 * file-system reader lives in node-fs.ts. A location may only name a file inside the model's folder.
 */
import type { onnx } from 'onnx-proto';
import { OnnxLoadError } from './errors';

export interface ExternalDataReader {
  /**
   * Up to `length` bytes of the file at `location` starting at `offset`. `location` is already
   * vetted: relative, '/'-separated, without '.' or '..' segments. Returns fewer bytes when the file
   * ends early; throws (any error) when it cannot be read at all.
   */
  read(location: string, offset: number, length: number): Promise<Uint8Array>;
}

export interface ExternalLocation {
  /** Normalised relative path ('/'-separated) from the model's folder. */
  readonly location: string;
  readonly offset: number;
  /** Byte count as declared in the file; absent means "the tensor's size". */
  readonly length: number | undefined;
}

function refuse(where: string, why: string): never {
  throw new OnnxLoadError('external-data', `${where}: external data ${why}`);
}

/**
 * The location as a clean relative path. Both separators count, since files written on Windows
 * use backslashes; absolute paths, drive letters, NUL bytes and climbing out with '..' are refused.
 */
export function normaliseLocation(location: string, where: string): string {
  const shown = JSON.stringify(location);
  if (location.includes('\0')) refuse(where, `location ${shown} contains a NUL byte`);
  if (/^[\\/]/.test(location) || /^[A-Za-z]:/.test(location)) {
    refuse(where, `location ${shown} is absolute or names a drive; it must be relative to the model's folder`);
  }
  const segments: string[] = [];
  for (const segment of location.split(/[\\/]+/)) {
    if (segment === '' || segment === '.') continue;
    if (segment !== '..') segments.push(segment);
    else if (segments.pop() === undefined) refuse(where, `location ${shown} escapes the model's folder`);
  }
  if (segments.length === 0) refuse(where, `location ${shown} names no file`);
  return segments.join('/');
}

function parseByteCount(value: string, key: string, where: string): number {
  const n = /^\d+$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n)) refuse(where, `${key} ${JSON.stringify(value)} is not a byte count`);
  return n;
}

export function parseExternalLocation(
  entries: readonly onnx.IStringStringEntryProto[],
  where: string,
): ExternalLocation {
  let location: string | undefined;
  let offset = 0;
  let length: number | undefined;
  for (const { key, value } of entries) {
    // 'checksum' (SHA-1) is optional and not verified; unknown keys are ignored like onnx does.
    if (key === 'location') location = normaliseLocation(value ?? '', where);
    else if (key === 'offset') offset = parseByteCount(value ?? '', 'offset', where);
    else if (key === 'length') length = parseByteCount(value ?? '', 'length', where);
  }
  if (location === undefined) refuse(where, 'has no location entry');
  return { location, offset, length };
}
