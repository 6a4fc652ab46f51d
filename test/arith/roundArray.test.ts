import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BF16, E4M3, E5M2, FP16, FP32, e8m, fp32FromBits, roundToFormat } from '../../src/arith';
import { roundArray } from '../../src/arith/roundArray';
import { seededUniform } from '../../src/audit/random';

/** fp32 values: every exponent field with random mantissas, ties of every format, and specials. */
function sampleValues(): Float32Array {
  const u = seededUniform(11);
  const values: number[] = [0, -0, Infinity, -Infinity, NaN, 448, 464, 480, 57344, 61440, 65504, 65520, 1e-45, -3e-39];
  for (let field = 0; field < 256; field++) {
    for (let j = 0; j < 200; j++) {
      const mantissa = j < 24 ? (1 << j) >>> 0 : Math.floor(u() * 0x800000);
      values.push(fp32FromBits(((u() < 0.5 ? 0x80000000 : 0) | (field << 23) | (mantissa & 0x7fffff)) >>> 0));
    }
  }
  return Float32Array.from(values);
}

for (const format of [FP32, e8m(1), e8m(3), e8m(4), e8m(7), e8m(13), e8m(22), BF16, FP16, E4M3, E5M2]) {
  for (const mode of ['rne', 'trunc'] as const) {
    test(`roundArray into ${format.name} (${mode}) equals roundToFormat element by element`, () => {
      const values = sampleValues();
      for (const factor of [1, 2 ** 7, 2 ** -9]) {
        const fast = roundArray(values, format, mode, factor);
        values.forEach((v, i) => {
          const expected = roundToFormat(Math.fround(v * factor), format, mode);
          assert.ok(
            Object.is(fast[i], Math.fround(expected)) || (Number.isNaN(fast[i]) && Number.isNaN(expected)),
            `${v}·${factor} → ${fast[i]}, expected ${expected}`,
          );
        });
      }
    });
  }
}
