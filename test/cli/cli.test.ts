/** The built CLI (dist/cli.js) as users and outside tools call it. `npm test` builds it first. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { decodeTensorProto } from '../../src/onnx';

const CLI = join(__dirname, '..', '..', 'dist', 'cli.js');

function cli(args: string[], input = '') {
  const result = spawnSync(process.execPath, [CLI, ...args], { input, encoding: 'utf8', maxBuffer: 64 << 20 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

test('mul: the SPEC reference examples, one 8-digit hex result per line', () => {
  const examples: [string, string][] = [
    ['exact', '408c0000'],
    ['lmul7-formula', '40840000'],
    ['lmul7', '40880000'],
    ['lmul23', '40880000'],
    ['lmul4', '40900000'],
    ['lmul4-formula', '40880000'],
    ['e4m3-mul', '40900000'],
    ['e4m3', '408c0000'],
  ];
  for (const [scheme, expected] of examples) {
    const { status, stdout } = cli(['mul', '--scheme', scheme], '3fe00000 40200000\n');
    assert.equal(status, 0, scheme);
    assert.equal(stdout, `${expected}\n`, scheme);
  }
});

test('mul: NaN is always 7fc00000, zeros keep their sign, inf·0 is NaN', () => {
  const input = ['7f800001 3f800000', 'ff800000 00000000', '80000000 3f800000', '7f800000 bf800000'].join('\n');
  const { stdout } = cli(['mul', '--scheme', 'lmul4:trunc'], input);
  assert.equal(stdout, ['7fc00000', '7fc00000', '80000000', 'ff800000', ''].join('\n'));
});

test('mul: many lines stream through in order', () => {
  const lines = Array.from({ length: 20000 }, (_, i) => `${(0x3f800000 + i * 997).toString(16)} 40000000`);
  const { status, stdout } = cli(['mul', '--scheme', 'exact'], lines.join('\n') + '\n');
  assert.equal(status, 0);
  const out = stdout.trim().split('\n');
  assert.equal(out.length, lines.length);
  assert.equal(out[12345], (0x3f800000 + 12345 * 997 + 0x00800000).toString(16)); // ×2 adds one to the exponent
});

test('usage errors exit with 2 and say what is wrong', () => {
  const unknown = cli(['mul', '--scheme', 'lmul99'], '');
  assert.equal(unknown.status, 2);
  assert.match(unknown.stderr, /unknown scheme "lmul99"/);
  const badLine = cli(['mul', '--scheme', 'exact'], '3f800000\n');
  assert.equal(badLine.status, 2);
  assert.match(badLine.stderr, /line 1: expected two fp32 bit patterns/);
  assert.equal(cli(['frobnicate']).status, 2);
});

test('inspect: a real model prints its facts; a broken file fails with exit 1 and a reason', () => {
  const ok = cli(['inspect', 'node_modules/@ricky0123/vad-web/dist/silero_vad_v5.onnx']);
  assert.equal(ok.status, 0);
  assert.match(ok.stdout, /Inputs[\s\S]*input[\s\S]*state[\s\S]*sr/);
  assert.match(ok.stdout, /If/);
  const dir = mkdtempSync(join(tmpdir(), 'lmul-cli-'));
  writeFileSync(join(dir, 'broken.onnx'), Buffer.from('definitely not protobuf \x00\xff\xfe'));
  const bad = cli(['inspect', join(dir, 'broken.onnx')]);
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /lmul-audit: /);
  assert.doesNotMatch(bad.stderr, /at .*\.js:\d+/); // a message, not a stack trace
});

test('run: writes output_K.pb files that decode, from --inputs or --seed', () => {
  const out = mkdtempSync(join(tmpdir(), 'lmul-run-'));
  const caseDir = join(__dirname, '..', '..', '..', 'shared', 'onnx-conformance', 'node', 'test_matmul_2d');
  const result = cli([
    'run',
    join(caseDir, 'model.onnx'),
    '--scheme',
    'lmul4',
    '--inputs',
    join(caseDir, 'test_data_set_0'),
    '--out',
    out,
  ]);
  assert.equal(result.status, 0, result.stderr);
  const output = decodeTensorProto(readFileSync(join(out, 'output_0.pb')));
  const expected = decodeTensorProto(readFileSync(join(caseDir, 'test_data_set_0', 'output_0.pb')));
  assert.deepEqual(output.dims, expected.dims);
  const seeded = cli(['run', join(caseDir, 'model.onnx'), '--seed', '3', '--out', out]);
  assert.equal(seeded.status, 0, seeded.stderr);
});
