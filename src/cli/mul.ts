/**
 * `lmul-audit mul`: one multiplication per stdin line of two fp32 bit patterns in hex, one 8-digit hex fp32
 * result per stdout line (any NaN as 7fc00000). Tools outside the repo check this contract: keep it exact.
 */
import { createInterface } from 'node:readline';
import { mulBits, type Scheme } from '../arith';
import { UsageError } from './errors';

const LINE = /^\s*(?:0x)?([0-9a-f]{1,8})[\s,]+(?:0x)?([0-9a-f]{1,8})\s*$/i;

export function mulLine(scheme: Scheme, line: string, lineNumber: number): string {
  const m = LINE.exec(line);
  if (!m) throw new UsageError(`line ${lineNumber}: expected two fp32 bit patterns in hex, got "${line.slice(0, 80)}"`);
  return mulBits(scheme, parseInt(m[1]!, 16), parseInt(m[2]!, 16)).toString(16).padStart(8, '0');
}

export async function runMul(
  scheme: Scheme,
  input: NodeJS.ReadableStream,
  output: NodeJS.WritableStream,
): Promise<void> {
  const lines = createInterface({ input, crlfDelay: Infinity });
  let batch: string[] = [];
  let lineNumber = 0;
  for await (const line of lines) {
    lineNumber++;
    if (line.trim() === '') continue;
    batch.push(mulLine(scheme, line, lineNumber));
    if (batch.length >= 4096) {
      await write(output, batch.join('\n') + '\n');
      batch = [];
    }
  }
  if (batch.length > 0) await write(output, batch.join('\n') + '\n');
}

function write(output: NodeJS.WritableStream, text: string): Promise<void> {
  return new Promise((resolve, reject) => output.write(text, (err) => (err ? reject(err) : resolve())));
}
