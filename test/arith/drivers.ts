/** Drivers shared by the exhaustive/sweep test files (each file runs a slice, so files can run in parallel). */
import { test } from 'node:test';
import { mulBits, parseScheme } from '../../src/arith';
import assert from 'node:assert/strict';
import { Mismatches, describe32, isNaN32, isTieOf, same32, type Coverage } from './harness';
import { O_FP32, encode, maxFinite, oScheme, oracleMulBits } from '../oracle/oracle';
import { randomPairs } from './random-pairs';

export const MODES = ['', ':trunc'] as const;

/** Compares mulBits with oracleMulBits on every (a, b) of the two operand lists, for one preset name. */
export function comparePairs(name: string, as: readonly number[], bs: readonly number[]): Mismatches {
  const scheme = parseScheme(name);
  const mm = new Mismatches(`mulBits ${name}`);
  for (const a of as) {
    for (const b of bs) {
      const got = mulBits(scheme, a, b) >>> 0;
      const want = oracleMulBits(name, a, b);
      if (got === want) {
        mm.checked++;
        continue;
      }
      mm.check(
        same32(got, want),
        () => `${name}: a=${describe32(a)} b=${describe32(b)} impl=${describe32(got)} oracle=${describe32(want)}`,
      );
    }
  }
  return mm;
}

/** One test per preset and rounding mode: every pair of `operands` (e.g. all 256 fp8 patterns as fp32). */
export function exhaustivePairs(label: string, presets: readonly string[], operands: readonly number[]): void {
  for (const preset of presets) {
    for (const mode of MODES) {
      const name = preset + mode;
      test(`${label}: ${name} on all ${operands.length}×${operands.length} pairs`, () => {
        comparePairs(name, operands, operands).assertNone(operands.length * operands.length);
      });
    }
  }
}

/** All 65,536 bf16 patterns as fp32 bits (bf16 is the top half of an fp32 pattern). */
export const ALL_BF16_AS_FP32: readonly number[] = Array.from({ length: 65536 }, (_, i) => (i << 16) >>> 0);

/**
 * b samples for the bf16 sweep, in four groups; each preset/mode takes one of each group (rotating),
 * so every sample meets several presets and every preset meets a special, a tiny, a huge and an ordinary b.
 */
const B_GROUPS: readonly (readonly number[])[] = [
  // specials and zeros
  [0x00000000, 0x80000000, 0x7f800000, 0xff800000, 0x7fc00000],
  // subnormals and tiny values (fp32 subnormals, 2^-64, 2^-100·1.x)
  [0x00000001, 0x80400000, 0x00012345, 0x1f800000, 0x0d9a3c71, 0x80000003],
  // huge values (fp32 max, 2^127, 2^64, 2^64·1.x)
  [0x7f7fffff, 0x7f000000, 0x5f800000, 0xdf9e3779, 0x7e7fff80],
  // ordinary values, ties of narrow formats, values needing operand rounding
  [0x3f800000, 0xbfe00000, 0x3fc90fdb, 0x3f7fffff, 0x40490fdb, 0x3e2aaaab, 0x3f808000, 0xc1180000, 0x3fb80000],
].map((g) => g.map((b) => b >>> 0));

export function bf16SweepSample(index: number): number[] {
  return B_GROUPS.map((g, k) => g[(index * (k + 1) + k) % g.length]!);
}

/** One test per preset and mode: every bf16 pattern as a, against four b values. */
export function bf16Sweep(presets: readonly string[], offset: number): void {
  presets.forEach((preset, i) => {
    MODES.forEach((mode, j) => {
      const name = preset + mode;
      const bs = bf16SweepSample(2 * (offset + i) + j);
      test(`bf16 sweep: ${name}, all 65536 bf16 a × b ∈ {${bs.map((b) => '0x' + b.toString(16)).join(', ')}}`, () => {
        comparePairs(name, ALL_BF16_AS_FP32, bs).assertNone(65536 * bs.length);
      });
    });
  });
}

/** One test per preset and mode: `count` seeded random fp32 pairs aimed at the preset's corners. */
export function randomFp32(presets: readonly string[], count: number): void {
  for (const preset of presets) {
    for (const mode of MODES) {
      const name = preset + mode;
      test(`random fp32 pairs: ${name} (${count} seeded pairs)`, () => {
        const scheme = parseScheme(name);
        const os = oScheme(name);
        const mm = new Mismatches(`mulBits ${name}`);
        const cov: Coverage = { opTies: 0, opOverflow: 0, infFromFinite: 0, subnormal: 0, zeroFromNonzero: 0, nan: 0 };
        const finiteNonzero = (x: number) => (x & 0x7f800000) !== 0x7f800000 && (x & 0x7fffffff) !== 0;
        const maxBits = os.operand.M < 23 ? Number(encode(O_FP32, maxFinite(os.operand))) : 0x7f7fffff;
        for (const [a, b] of randomPairs(name, count)) {
          const got = mulBits(scheme, a, b) >>> 0;
          const want = oracleMulBits(name, a, b);
          mm.check(
            same32(got, want),
            () => `${name}: a=${describe32(a)} b=${describe32(b)} impl=${describe32(got)} oracle=${describe32(want)}`,
          );
          for (const x of [a, b]) {
            if (os.operand.M < 23 && isTieOf(os.operand, x)) cov.opTies++;
            if (finiteNonzero(x) && (x & 0x7fffffff) > maxBits) cov.opOverflow++;
          }
          const fa = finiteNonzero(a) && finiteNonzero(b);
          if (isNaN32(want)) cov.nan++;
          else if ((want & 0x7fffffff) === 0x7f800000 && fa) cov.infFromFinite++;
          else if ((want & 0x7fffffff) === 0 && fa) cov.zeroFromNonzero++;
          else if ((want & 0x7f800000) === 0 && (want & 0x7fffff) !== 0) cov.subnormal++;
        }
        mm.assertNone(count);
        // the generator must reach the corners it aims at (so this test cannot silently go blunt)
        const need: (keyof Coverage)[] = ['nan'];
        if (os.operand.M < 23) need.push('opTies', 'opOverflow');
        if (os.operand.E === 8) need.push('infFromFinite', 'subnormal', 'zeroFromNonzero');
        else if (!os.fp8) need.push('zeroFromNonzero', ...(os.mode === 'rne' ? (['infFromFinite'] as const) : [])); // fp16
        for (const k of need)
          assert.ok(cov[k] >= count / 200, `${name}: coverage ${k} = ${cov[k]} (${JSON.stringify(cov)})`);
      });
    }
  }
}
