// §4 per-tensor fp8 scaling: fp8ScaleExponent and mulValues with scale exponents against the oracle;
// mulValues without scales against the oracle for every preset.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { E4M3, E5M2, fp8ScaleExponent, mulValues, parseScheme } from '../../src/arith';
import {
  Mismatches,
  describe32,
  f32Bits,
  f32FromBits,
  normal32,
  pick,
  prng,
  randInt,
  randU32,
  sameDouble,
  tieFor,
} from './harness';
import {
  O_FP32,
  ORACLE_PRESETS,
  encode,
  maxFinite,
  oFormat,
  oScheme,
  oracleFp8Scale,
  oracleMulBits,
  oracleMulScaledBits,
} from '../oracle/oracle';
import { randomPairs, seedOf } from './random-pairs';

const FP8 = [
  ['e4m3', E4M3],
  ['e5m2', E5M2],
] as const;

/** fp32 bits of max finite of an fp8 format times 2^k (k small enough for fp32). */
function maxTimes2k(name: string, k: number): number {
  const m = maxFinite(oFormat(name));
  return Number(encode(O_FP32, { k: 'fin', neg: false, m: m.m, e: m.e + k }));
}

test('fp8ScaleExponent: random and edge amax values (maximal s with amax·2^s ≤ max finite)', () => {
  const rand = prng(4);
  for (const [name, f] of FP8) {
    const mm = new Mismatches(`fp8ScaleExponent ${name}`);
    const amaxes: number[] = [0, 1, 0x00000001, 0x007fffff, 0x00800000, 0x7f7fffff, 0x3f800000, 0x3f7fffff];
    for (let k = -120; k <= 110; k++) {
      const b = maxTimes2k(name, k);
      amaxes.push(b, b + 1, b - 1);
    }
    for (let i = 0; i < 20000; i++) amaxes.push(randU32(rand) % 0x7f800000); // every positive finite class
    for (const bits of amaxes) {
      const got = fp8ScaleExponent(f32FromBits(bits), f);
      const want = oracleFp8Scale(name, bits);
      mm.check(got === want, () => `${name} amax=${describe32(bits)}: impl ${got} oracle ${want}`);
    }
    mm.assertNone(amaxes.length);
  }
});

/** A random tensor as fp32 bits: magnitudes around 2^k (wide spread), with ties, zeros, subnormals, specials. */
function randomTensor(rand: () => number, fp8Name: string, n: number): number[] {
  const kind = randInt(rand, 0, 4);
  const k = randInt(rand, -100, 100);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    let bits: number;
    switch (kind) {
      case 0: // spread of about 2^±12 around 2^k
        bits = normal32(rand() < 0.5, Math.max(-126, Math.min(127, k + randInt(rand, -12, 4))), randU32(rand));
        break;
      case 1: {
        // exact fp8 ties times 2^k, with max·2^k present so that the scale is exactly −k (ties survive scaling)
        const t = f32FromBits(tieFor(rand, oFormat(fp8Name))) * 2 ** k;
        bits = i === 0 ? maxTimes2k(fp8Name, k) : f32Bits(t);
        break;
      }
      case 2: // tiny tensors: fp32 subnormals and small normals
        bits =
          rand() < 0.5
            ? (randU32(rand) & 0x807fffff) >>> 0
            : normal32(rand() < 0.5, randInt(rand, -126, -110), randU32(rand));
        break;
      case 3: // huge tensors near fp32 max
        bits = normal32(rand() < 0.5, randInt(rand, 110, 127), randU32(rand));
        break;
      default: // everything, specials included
        bits =
          rand() < 0.15
            ? pick(rand, [0, 0x80000000, 0x7f800000, 0xff800000, 0x7fc00000])
            : normal32(rand() < 0.5, k + randInt(rand, -30, 10), randU32(rand));
    }
    out.push(bits >>> 0);
  }
  if (kind === 2 && rand() < 0.2) out.fill(0); // all-zero tensor: no scaling
  return out;
}

function amaxOf(bits: readonly number[]): number {
  return bits.reduce((m, b) => {
    const v = Math.abs(f32FromBits(b));
    return Number.isFinite(v) ? Math.max(m, v) : m;
  }, 0);
}

for (const preset of ['e4m3', 'e5m2', 'e4m3-mul', 'e5m2-mul']) {
  for (const name of [preset, `${preset}:trunc`]) {
    test(`mulValues ${name} with per-tensor scales on random tensors (all pairs of 24 tensor pairs × 48 × 48)`, () => {
      const scheme = parseScheme(name);
      const fmtName = oScheme(name).operand.name;
      const rand = prng(seedOf(`scaled ${name}`));
      const mm = new Mismatches(`mulValues ${name}`);
      const scales = new Set<number>();
      for (let t = 0; t < 24; t++) {
        const A = randomTensor(rand, fmtName, 48);
        const B = randomTensor(rand, fmtName, 48);
        const [amaxA, amaxB] = [amaxOf(A), amaxOf(B)];
        const sa = fp8ScaleExponent(amaxA, scheme.operandFormat);
        const sb = fp8ScaleExponent(amaxB, scheme.operandFormat);
        assert.equal(sa, oracleFp8Scale(fmtName, f32Bits(amaxA)), `${name} scale of amax ${amaxA}`);
        assert.equal(sb, oracleFp8Scale(fmtName, f32Bits(amaxB)), `${name} scale of amax ${amaxB}`);
        scales.add(sa).add(sb);
        for (const a of A) {
          for (const b of B) {
            const got = mulValues(scheme, f32FromBits(a), f32FromBits(b), sa, sb);
            const want = f32FromBits(oracleMulScaledBits(name, a, b, sa, sb));
            mm.check(
              sameDouble(got, want),
              () => `${name}: a=${describe32(a)} b=${describe32(b)} sa=${sa} sb=${sb} impl=${got} oracle=${want}`,
            );
          }
        }
      }
      mm.assertNone(24 * 48 * 48);
      assert.ok(scales.size >= 10, `too few distinct scales: ${[...scales]}`);
    });
  }
}

test('mulValues without scales equals the oracle for every preset (2,000 random pairs each, rne and :trunc)', () => {
  for (const preset of ORACLE_PRESETS) {
    for (const name of [preset, `${preset}:trunc`]) {
      const scheme = parseScheme(name);
      const mm = new Mismatches(`mulValues ${name}`);
      for (const [a, b] of randomPairs(name, 2000)) {
        const got = mulValues(scheme, f32FromBits(a), f32FromBits(b));
        const want = f32FromBits(oracleMulBits(name, a, b));
        mm.check(
          sameDouble(got, want),
          () => `${name}: a=${describe32(a)} b=${describe32(b)} impl=${got} oracle=${want}`,
        );
      }
      mm.assertNone(2000);
    }
  }
});
