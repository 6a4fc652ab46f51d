// Presets, format decoding and roundToFormat (§1–§3) against the oracle.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ALL_PRESETS, decodeBits, formatByName, parseScheme, roundToFormat } from '../../src/arith';
import {
  Mismatches,
  doubleOfVal,
  f32FromBits,
  f64Bits,
  f64FromBits,
  pick,
  prng,
  randInt,
  randU32,
  sameDouble,
  tieVal,
  valOfDouble,
} from './harness';
import {
  O_FP64,
  ORACLE_PRESETS,
  decode,
  maxFinite,
  minSubnormal,
  oFormat,
  oScheme,
  oracleRound,
  representable,
  type Mode,
  type OFormat,
  type Val,
} from '../oracle/oracle';
import { seedOf } from './random-pairs';

const ROUND_FORMATS = ['fp32', 'fp16', 'bf16', ...Array.from({ length: 22 }, (_, i) => `e8m${i + 1}`), 'e4m3', 'e5m2'];
const MODES: Mode[] = ['rne', 'trunc'];

test('ALL_PRESETS is exactly the SPEC preset list', () => {
  assert.deepEqual([...ALL_PRESETS].sort(), [...ORACLE_PRESETS].sort());
  assert.equal(new Set(ALL_PRESETS).size, ALL_PRESETS.length);
});

test('parseScheme: every preset (and :trunc) has the SPEC operand format, rule, product format and rounding', () => {
  for (const preset of ORACLE_PRESETS) {
    for (const name of [preset, `${preset}:trunc`]) {
      const s = parseScheme(name);
      const o = oScheme(name);
      const ctx = `preset ${name}`;
      assert.equal(s.operandFormat.name === 'e8m23' ? 'fp32' : s.operandFormat.name, o.operand.name, ctx);
      assert.equal(s.operandFormat.manBits, o.operand.M, ctx);
      assert.equal(s.operandFormat.expBits, o.operand.E, ctx);
      assert.equal(s.rule, o.rule, ctx);
      assert.equal(s.productFormat?.name ?? null, o.product?.name ?? null, ctx);
      assert.equal(s.operandRounding, o.mode, ctx);
      assert.equal(s.fp8, o.fp8, ctx);
    }
  }
  for (const bad of ['lmul0', 'lmul24', 'lmul', 'lmul3-formula:trunc:trunc', 'e4m3-formula', 'bf16-mul', 'foo', '']) {
    assert.throws(() => parseScheme(bad), Error, `parseScheme(${JSON.stringify(bad)}) should throw`);
    assert.throws(() => oScheme(bad), Error, `oracle accepts ${bad}`);
  }
});

test('formatByName: E, M and max finite of every format', () => {
  for (const name of ROUND_FORMATS) {
    const f = formatByName(name);
    const o = oFormat(name);
    assert.equal(f.expBits, o.E, name);
    assert.equal(f.manBits, o.M, name);
    assert.equal(f.bias, o.bias, name);
    assert.ok(Object.is(f.maxFinite, doubleOfVal(maxFinite(o))), `${name} maxFinite ${f.maxFinite}`);
  }
});

test('decodeBits: every pattern of e4m3, e5m2, fp16, bf16, e8m1..e8m7; random patterns of e8m8..e8m22 and fp32', () => {
  const rand = prng(99);
  for (const name of ROUND_FORMATS) {
    const f = formatByName(name);
    const o = oFormat(name);
    const width = 1 + o.E + o.M;
    const mm = new Mismatches(`decodeBits ${name}`);
    const patterns =
      width <= 16
        ? Array.from({ length: 2 ** width }, (_, i) => i)
        : [0, 1, 2 ** (width - 1), 2 ** (width - 1) + 1, 2 ** (width - 1) - 1, 2 ** width - 1].concat(
            Array.from({ length: 20000 }, () => randU32(rand) % 2 ** width),
          );
    for (const bits of patterns) {
      const got = decodeBits(f, bits);
      const want = doubleOfVal(decode(o, bits));
      mm.check(sameDouble(got, want), () => `${name} bits 0x${bits.toString(16)}: impl ${got} oracle ${want}`);
    }
    mm.assertNone(patterns.length);
  }
});

/** Doubles that probe q_F: random, fp32 patterns, exact ties and their neighbours, edges beyond max. */
function probeValues(o: OFormat, rand: () => number): number[] {
  const xs: number[] = [];
  const nextUp = (x: number) => f64FromBits(f64Bits(x) + 1n); // for x > 0
  const nextDown = (x: number) => f64FromBits(f64Bits(x) - 1n);
  const sgn = () => (rand() < 0.5 ? -1 : 1);
  for (let i = 0; i < 2000; i++) {
    // random doubles from below F's smallest subnormal to above its max
    const e = randInt(rand, o.emin - o.M - 4, Math.min(o.emax + 3, 1023));
    const mant = 1 + rand();
    xs.push(sgn() * mant * 2 ** e);
  }
  for (let i = 0; i < 1000; i++) xs.push(f32FromBits(randU32(rand)));
  for (let i = 0; i < 1500; i++) {
    const t = doubleOfVal(tieVal(rand, o, O_FP64));
    const a = Math.abs(t);
    xs.push(t, Math.sign(t) * nextUp(a), Math.sign(t) * nextDown(a));
  }
  const max = doubleOfVal(maxFinite(o));
  const minSub = doubleOfVal(minSubnormal(o));
  const maxTie: Val = { k: 'fin', neg: false, m: 2n * maxFinite(o).m + 1n, e: maxFinite(o).e - 1 };
  const edges = [
    0,
    max,
    nextUp(max),
    nextDown(max),
    2 * max,
    1e300,
    Number.MAX_VALUE,
    Infinity,
    NaN,
    minSub,
    minSub / 2,
    nextUp(minSub / 2),
    nextDown(minSub / 2),
    0.75 * minSub,
    0.25 * minSub,
    1.5 * minSub,
    Number.MIN_VALUE,
    1,
    2 ** o.emin,
    nextDown(2 ** o.emin),
  ];
  if (representable(O_FP64, maxTie)) {
    const mt = doubleOfVal(maxTie);
    edges.push(mt, nextUp(mt), nextDown(mt));
  }
  for (const x of edges) xs.push(x, -x);
  for (let i = 0; i < 200; i++) xs.push(pick(rand, edges) * (rand() < 0.5 ? -1 : 1));
  return xs;
}

for (const name of ROUND_FORMATS) {
  test(`roundToFormat ${name}: rne and trunc on random values, exact ties, subnormals and overflow`, () => {
    const f = formatByName(name);
    const o = oFormat(name);
    const xs = probeValues(o, prng(seedOf(name)));
    for (const mode of MODES) {
      const mm = new Mismatches(`roundToFormat ${name} ${mode}`);
      for (const x of xs) {
        const got = roundToFormat(x, f, mode);
        const want = doubleOfVal(oracleRound(name, valOfDouble(x), mode));
        mm.check(
          sameDouble(got, want),
          () => `q_${name}(${x} [0x${f64Bits(x).toString(16)}], ${mode}): impl ${got} oracle ${want}`,
        );
      }
      mm.assertNone(xs.length);
    }
  });
}
