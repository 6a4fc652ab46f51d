import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ALL_PRESETS, fp32FromBits, multiplyPrepared, parseScheme, roundToFormat } from '../../src/arith';
import { productFunction } from '../../src/arith/productFunction';
import { seededUniform } from '../../src/audit/random';

/** Random fp32 patterns across every exponent field (so subnormals, huge values and specials occur). */
function operands(seed: number, count: number): number[] {
  const u = seededUniform(seed);
  const out = [0, -0, Infinity, -Infinity, NaN, 1, -1, 3e38, 1e-38, 1e-45];
  while (out.length < count) out.push(fp32FromBits(Math.floor(u() * 2 ** 32)));
  return out;
}

for (const base of ALL_PRESETS) {
  for (const preset of [base, `${base}:trunc`]) {
    test(`productFunction(${preset}) equals multiplyPrepared`, () => {
      const scheme = parseScheme(preset);
      const fast = productFunction(scheme);
      const prepare = (v: number) => Math.fround(roundToFormat(v, scheme.operandFormat, scheme.operandRounding));
      const as = operands(1, 300).map(prepare);
      const bs = operands(2, 300).map(prepare);
      const scales = scheme.fp8 ? [0, 3, -5] : [0];
      for (const sa of scales) {
        const sb = sa === 0 ? 0 : 2;
        for (const a of as) {
          for (const b of bs) {
            const expected = multiplyPrepared(scheme, a, b, sa, sb);
            const got = fast(a, b, sa, sb);
            if (!(Object.is(got, expected) || (Number.isNaN(got) && Number.isNaN(expected)))) {
              assert.fail(`${preset}: ${a} × ${b} (scales ${sa}) gave ${got}, expected ${expected}`);
            }
          }
        }
      }
    });
  }
}
