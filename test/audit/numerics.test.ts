import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseScheme } from '../../src/arith';
import { expectedLmulError, runNumericsExperiment, summarize } from '../../src/audit/numerics';
import { numericsMarkdown, numericsSvg } from '../../src/audit/numericsReport';

test('summarize gives mean, median (odd and even counts) and max', () => {
  assert.deepEqual(summarize(Float64Array.from([3, 1, 2])), { mean: 2, median: 2, max: 3 });
  assert.deepEqual(summarize(Float64Array.from([4, 1, 2, 3])), { mean: 2.5, median: 2.5, max: 4 });
});

test('expected error of the exact scheme is zero, of L-Mul matches the closed form at high precision', () => {
  assert.equal(expectedLmulError(parseScheme('exact'), 64), 0);
  // For lmul23-formula the operands are exact, so the error is |2^-4 - x·y| / ((1+x)(1+y)) under the
  // reciprocal law; integrate it independently with a finer plain midpoint rule on the density.
  const n = 600;
  let reference = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const x = (i + 0.5) / n;
      const y = (j + 0.5) / n;
      const density = 1 / ((1 + x) * Math.LN2) / ((1 + y) * Math.LN2) / (n * n);
      reference += (density * Math.abs(2 ** -4 - x * y)) / ((1 + x) * (1 + y));
    }
  }
  const computed = expectedLmulError(parseScheme('lmul23-formula'), 256);
  assert.ok(Math.abs(computed - reference) / reference < 2e-3, `${computed} vs ${reference}`);
});

test('numerics experiment: measured L-Mul error agrees with its expectation; verdicts follow the ratios', () => {
  const result = runNumericsExperiment({ samples: 20000, seed: 7, expectationGrid: 128 });
  assert.equal(result.rows.length, 32);
  for (const row of result.rows) {
    for (const stats of Object.values(row.measured)) {
      assert.ok(stats.mean > 0 && stats.median <= stats.max && stats.mean <= stats.max, row.preset);
    }
    if (row.expectedMean !== null) {
      const measured = row.measured.normal.mean;
      assert.ok(
        Math.abs(measured - row.expectedMean) / row.expectedMean < 0.05,
        `${row.preset}: ${measured} vs ${row.expectedMean}`,
      );
    }
  }
  const lmul4 = result.rows.find((r) => r.preset === 'lmul4')!;
  const e4m3 = result.rows.find((r) => r.preset === 'e4m3-mul')!;
  const fp16 = result.rows.find((r) => r.preset === 'fp16')!;
  // fp16 rounds operands to 11 significant bits: relative error at most about 2 · 2^-11.
  assert.ok(fp16.measured.normal.max <= 2 * 2 ** -11 * 1.01);
  assert.ok(e4m3.measured.normal.median > fp16.measured.normal.median);
  const claim = result.claims.find(
    (c) => c.lmulPreset === 'lmul4' && c.fp8Preset === 'e4m3-mul' && c.distribution === 'normal',
  )!;
  assert.equal(claim.lmulMean, lmul4.measured.normal.mean);
  assert.equal(claim.ratio, lmul4.measured.normal.mean / e4m3.measured.normal.mean);
  for (const c of result.claims) {
    assert.equal(c.verdict, c.ratio <= 1 ? 'holds' : c.ratio <= 1.1 ? 'roughly (within 10%)' : 'does not hold');
  }
  const markdown = numericsMarkdown(result);
  for (const row of result.rows) assert.ok(markdown.includes(`\`${row.preset}\``), row.preset);
  const svg = numericsSvg(result);
  assert.match(svg, /^<svg[^>]+xmlns="http:\/\/www.w3.org\/2000\/svg"/);
  assert.equal((svg.match(/<polyline /g) ?? []).length, 16);
  assert.doesNotMatch(svg, /NaN|Infinity/);
});
