/**
 * The `mul` I/O contract end to end: for every preset of the SPEC, with and without `:trunc`, the CLI's output
 * agrees bit for bit with the independent BigInt oracle on corner-aimed random pairs.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { oracleMulBits, ORACLE_PRESETS } from '../oracle/oracle';
import { randomPairs } from '../arith/random-pairs';

const CLI = join(__dirname, '..', '..', 'dist', 'cli.js');
const hex = (bits: number) => (bits >>> 0).toString(16).padStart(8, '0');

for (const base of ORACLE_PRESETS) {
  for (const preset of [base, `${base}:trunc`]) {
    test(`lmul-audit mul --scheme ${preset} agrees with the oracle`, () => {
      const pairs = randomPairs(preset, 400);
      const input = pairs.map(([a, b]) => `${hex(a)} ${hex(b)}`).join('\n') + '\n';
      const result = spawnSync(process.execPath, [CLI, 'mul', '--scheme', preset], { input, encoding: 'utf8' });
      assert.equal(result.status, 0, result.stderr);
      const lines = result.stdout.trim().split('\n');
      assert.equal(lines.length, pairs.length);
      const mismatches = pairs
        .map(([a, b], i) => ({ a, b, got: lines[i]!, want: hex(oracleMulBits(preset, a, b)) }))
        .filter((m) => m.got !== m.want);
      assert.deepEqual(mismatches.slice(0, 5), [], `${mismatches.length} mismatches`);
    });
  }
}
