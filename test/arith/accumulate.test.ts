// §5 accumulation: the implementation's scalar accumulate (sequential) against the oracle, bit for bit,
// for accumulators fp32, bf16, fp16, e4m3 and e5m2.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { accumulate, formatByName } from '../../src/arith';
import {
  Mismatches,
  f32Bits,
  f32FromBits,
  hex,
  normal32,
  pick,
  prng,
  randInt,
  randU32,
  sameDouble,
  tieFor,
} from './harness';
import { O_FP32, encode, maxFinite, oFormat, oracleAccumulate } from '../oracle/oracle';
import { seedOf } from './random-pairs';

/** A random product sequence (fp32 bits) aimed at format A's rounding, overflow, cancellation and specials. */
function randomSequence(rand: () => number, accName: string): number[] {
  const o = oFormat(accName);
  const max = f32FromBits(Number(encode(O_FP32, maxFinite(o))));
  const n = randInt(rand, 1, 48);
  const kind = randInt(rand, 0, 7);
  const unitExp = randInt(rand, Math.max(o.emin, -120), Math.min(o.emax, 120) - 2);
  const seq: number[] = [];
  for (let i = 0; i < n; i++) {
    let x: number;
    switch (kind) {
      case 0: // values of mixed sign around 2^unitExp
        x = f32FromBits(normal32(rand() < 0.5, unitExp + randInt(rand, -8, 3), randU32(rand)));
        break;
      case 1: // overflowing: same-sign values near max/4 .. max, then maybe the other sign
        x = (rand() < 0.25 * (i / n) ? -1 : 1) * max * (0.25 + 0.75 * rand());
        break;
      case 2: {
        // cancelling: x then −x (exact zeros, sign of zero), with −0 entries
        const prev = seq[i - 1];
        x =
          prev !== undefined && i % 2 === 1
            ? -f32FromBits(prev)
            : rand() < 0.2
              ? -0
              : f32FromBits(normal32(rand() < 0.5, unitExp + randInt(rand, -4, 2), randU32(rand)));
        break;
      }
      case 3: // tiny values: around and below A's smallest subnormal
        x =
          (rand() < 0.5 ? -1 : 1) *
          2 ** Math.max(-149, randInt(rand, o.emin - o.M - 3, o.emin)) *
          (1 + Math.floor(rand() * 8) / 8);
        break;
      case 4: // exact ties of A, and A-representable values plus half quanta
        x =
          f32FromBits(tieFor(rand, accName === 'fp32' ? oFormat('bf16') : o)) *
          (rand() < 0.5 ? 1 : 2 ** randInt(rand, -3, 3));
        break;
      case 5: // specials sprinkled in ordinary values
        x =
          rand() < 0.15
            ? pick(rand, [Infinity, -Infinity, NaN, -0, 0, max, -max])
            : (rand() < 0.5 ? -1 : 1) * max * rand() * 2 ** -randInt(rand, 0, 10);
        break;
      case 6: // negative values below half of A's smallest subnormal, and zeros (sums round to ±0)
        x = rand() < 0.2 ? pick(rand, [0, -0]) : -(2 ** Math.max(-149, o.emin - o.M - randInt(rand, 2, 6)));
        break;
      default: // arbitrary fp32 values of any magnitude (each sum is rounded once)
        x = f32FromBits(normal32(rand() < 0.5, randInt(rand, -130, 127), randU32(rand)));
    }
    seq.push(f32Bits(Math.fround(x)));
  }
  return seq;
}

for (const accName of ['fp32', 'bf16', 'fp16', 'e4m3', 'e5m2']) {
  test(`accumulate into ${accName}: 4,000 random product sequences bit-exact (sequential, rne after each add)`, () => {
    const f = formatByName(accName);
    const rand = prng(seedOf(`acc ${accName}`));
    const mm = new Mismatches(`accumulate ${accName}`);
    const seen = { inf: 0, nan: 0, negZero: 0, posZero: 0, max: 0 };
    const maxBits = Number(encode(O_FP32, maxFinite(oFormat(accName))));
    for (let t = 0; t < 4000; t++) {
      const seq = randomSequence(rand, accName);
      const values = new Float32Array(new Uint32Array(seq).buffer);
      const got = accumulate(values, f);
      const wantBits = oracleAccumulate(accName, seq);
      const want = f32FromBits(wantBits);
      mm.check(sameDouble(got, want), () => `${accName} [${seq.map(hex).join(', ')}]: impl ${got} oracle ${want}`);
      if (Number.isNaN(want)) seen.nan++;
      else if (!Number.isFinite(want)) seen.inf++;
      else if (Object.is(want, -0)) seen.negZero++;
      else if (Object.is(want, 0)) seen.posZero++;
      else if ((wantBits & 0x7fffffff) === maxBits) seen.max++;
    }
    mm.assertNone(4000);
    // the sequences must reach the classes they aim at: NaN, +0, and −0 (impossible in fp32: an fp32 sum of
    // fp32 values is exact when tiny), inf for IEEE accumulators, max finite for saturating fp8 ones
    const fp8 = accName === 'e4m3' || accName === 'e5m2';
    const need: (keyof typeof seen)[] = ['nan', 'posZero', fp8 ? 'max' : 'inf'];
    if (accName !== 'fp32') need.push('negZero');
    for (const k of need)
      assert.ok(seen[k] >= 10, `accumulate ${accName}: too few results of class ${k} (${JSON.stringify(seen)})`);
  });
}
