// The oracle pinned to the SPEC itself (reference examples, the fp32 bit formula, independent IEEE
// references), so that agreement with the implementation means agreement with the SPEC.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  E4M3_AS_FP32,
  E5M2_AS_FP32,
  f32Bits,
  f32FromBits,
  f64FromBits,
  hex,
  normal32,
  prng,
  randInt,
  randU32,
  same32,
  valOfDouble,
  doubleOfVal,
} from './harness';
import {
  O_BF16,
  O_E4M3,
  O_E5M2,
  O_FP16,
  O_FP32,
  decode,
  dyadic,
  encode,
  lmulL,
  oracleAccumulate,
  oracleFp8Scale,
  oracleMulBits,
  oracleMulValue,
  oracleMulScaledBits,
  oracleRound,
  round,
  type Val,
} from '../oracle/oracle';

const num = (v: Val) => doubleOfVal(v);
const d = (x: number) => valOfDouble(x);

test('oracle: SPEC §3 reference examples (1.75 × 2.5, rne)', () => {
  const expected: [string, number][] = [
    ['exact', 4.375],
    ['lmul7-formula', 4.125],
    ['lmul7', 4.25],
    ['lmul23', 4.25],
    ['lmul4', 4.5],
    ['lmul4-formula', 4.25],
    ['e4m3-mul', 4.5],
    ['e4m3', 4.375],
  ];
  for (const [preset, want] of expected) {
    assert.equal(num(oracleMulValue(preset, d(1.75), d(2.5))), want, preset);
    assert.equal(oracleMulBits(preset, f32Bits(1.75), f32Bits(2.5)), f32Bits(want), preset);
  }
});

test('oracle: l(M) and lmul-adder carries (floor(t) = 2 for M = 4)', () => {
  assert.deepEqual([1, 2, 3, 4, 5, 7, 23].map(lmulL), [1, 2, 3, 3, 4, 4, 4]);
  // M = 4: 1.9375 = 1.1111b; t = 0.9375 + 0.9375 + 2^-3 = 2 → adder (1 + 0)·2^(0+0+2) = 4; formula 1 + 2 = 3
  assert.equal(num(oracleMulValue('lmul4', d(1.9375), d(1.9375))), 4);
  assert.equal(num(oracleMulValue('lmul4-formula', d(1.9375), d(1.9375))), 3);
  // carry once: 1.5 × 1.75 with M = 3: t = 0.5 + 0.75 + 0.125 = 1.375 → adder 1.375·2 = 2.75, formula 2.375
  assert.equal(num(oracleMulValue('lmul3', d(1.5), d(1.75))), 2.75);
  assert.equal(num(oracleMulValue('lmul3-formula', d(1.5), d(1.75))), 2.375);
  // lmul1: l = 1, 1.5 × 1.5: t = 1.5 → adder 1.5·2 = 3, formula 2.5
  assert.equal(num(oracleMulValue('lmul1', d(1.5), d(1.5))), 3);
  assert.equal(num(oracleMulValue('lmul1-formula', d(1.5), d(1.5))), 2.5);
  // signs xor, powers of two: (−2)·4 → (1 + 2^-4)·(−8) for M > 4
  assert.equal(num(oracleMulValue('lmul10', d(-2), d(4))), -8.5);
});

test('oracle: lmul with subnormal operands normalises them (ea below emin)', () => {
  // e8m3 subnormal 3·2^-129 = 1.5·2^-128 (ma = 0.5, ea = −128), times 2^100: t = 0.5 + 0 + 0.125
  const a = dyadic(3n, -129);
  const b = dyadic(1n, 100);
  assert.deepEqual(oracleMulValue('lmul3-formula', a, b), dyadic(13n, -31)); // 1.625·2^-28
  assert.deepEqual(oracleMulValue('lmul3', a, b), dyadic(13n, -31));
  // 2^-130 is a tie between 0 and the e8m3 min subnormal 2^-129 → rne gives +0, so the product is 0
  assert.deepEqual(oracleMulValue('lmul3', dyadic(1n, -130), b), { k: 'fin', neg: false, m: 0n, e: 0 });
});

test('oracle: lmul23 equals the SPEC fp32 bit formula on normal in-range inputs', () => {
  const rand = prng(23);
  let n = 0;
  for (let i = 0; i < 200000; i++) {
    const A = normal32(rand() < 0.5, randInt(rand, -126, 127), randU32(rand));
    const B = normal32(rand() < 0.5, randInt(rand, -126, 127), randU32(rand));
    const sum = (A & 0x7fffffff) + (B & 0x7fffffff) - 0x3f780000;
    if (sum < 0x00800000 || sum > 0x7f7fffff) continue; // result exponent out of range
    const want = (sum | ((A ^ B) & 0x80000000)) >>> 0;
    const got = oracleMulBits('lmul23', A, B);
    assert.equal(hex(got), hex(want), `lmul23 ${hex(A)} × ${hex(B)}`);
    n++;
  }
  assert.ok(n > 50000, `only ${n} in-range samples`);
});

test('oracle: exact fp32 products agree with IEEE (Math.fround of the exact double product)', () => {
  const rand = prng(7);
  for (let i = 0; i < 100000; i++) {
    const A = i % 3 === 0 ? randU32(rand) : normal32(rand() < 0.5, randInt(rand, -140, 140), randU32(rand));
    const B = i % 5 === 0 ? randU32(rand) : normal32(rand() < 0.5, randInt(rand, -140, 140), randU32(rand));
    // fp32 × fp32 is exact in binary64 (48 significant bits, exponents ≥ −298), so fround rounds it once
    const want = f32Bits(Math.fround(f32FromBits(A) * f32FromBits(B)));
    const got = oracleMulBits('exact', A >>> 0, B >>> 0);
    assert.ok(same32(got, want), `exact ${hex(A)} × ${hex(B)}: oracle ${hex(got)} IEEE ${hex(want)}`);
  }
});

test('oracle: q_fp32 (rne) agrees with Math.fround on random doubles, ties and overflow', () => {
  const rand = prng(32);
  for (let i = 0; i < 100000; i++) {
    const hi = randU32(rand);
    const lo = randU32(rand);
    // random doubles across fp32's range; every 4th an exact fp32 tie (bit 28 of the double set, below zero)
    let bits =
      (BigInt((hi & 0x800fffff) | ((randInt(rand, 1023 - 155, 1023 + 130) & 0x7ff) << 20)) << 32n) | BigInt(lo);
    if (i % 4 === 0) bits = (bits & ~0x1fffffffn) | 0x10000000n;
    const x = f64FromBits(bits);
    const got = Number(encode(O_FP32, round(O_FP32, valOfDouble(x), 'rne')));
    assert.equal(hex(got), hex(f32Bits(Math.fround(x))), `q_fp32(${x})`);
  }
});

test('oracle: q_bf16 agrees with the usual bit tricks (rne: add 0x7fff + lsb; trunc: mask)', () => {
  const rand = prng(16);
  for (let i = 0; i < 100000; i++) {
    const A = randU32(rand);
    if ((A & 0x7f800000) === 0x7f800000) continue; // finite only (the tricks do not keep NaN)
    const rne = ((A + 0x7fff + ((A >>> 16) & 1)) & 0xffff0000) >>> 0;
    const trunc = (A & 0xffff0000) >>> 0;
    const v = decode(O_FP32, A);
    assert.equal(hex(Number(encode(O_FP32, round(O_BF16, v, 'rne')))), hex(rne), `rne ${hex(A)}`);
    assert.equal(hex(Number(encode(O_FP32, round(O_BF16, v, 'trunc')))), hex(trunc), `trunc ${hex(A)}`);
  }
});

test('oracle: format tables (§1) and overflow rules (§2)', () => {
  assert.equal(f32FromBits(E4M3_AS_FP32[0x7e]!), 448);
  assert.ok(Number.isNaN(f32FromBits(E4M3_AS_FP32[0x7f]!)) && Number.isNaN(f32FromBits(E4M3_AS_FP32[0xff]!)));
  assert.equal(f32FromBits(E4M3_AS_FP32[0x78]!), 256); // S.1111.000 is finite in e4m3fn
  assert.equal(f32FromBits(E4M3_AS_FP32[0x01]!), 2 ** -9);
  assert.equal(f32FromBits(E4M3_AS_FP32[0x08]!), 2 ** -6);
  assert.equal(f32FromBits(E4M3_AS_FP32[0x80]!), -0);
  assert.ok(Object.is(f32FromBits(E4M3_AS_FP32[0x80]!), -0));
  assert.equal(f32FromBits(E5M2_AS_FP32[0x7b]!), 57344);
  assert.equal(f32FromBits(E5M2_AS_FP32[0x7c]!), Infinity);
  assert.ok(Number.isNaN(f32FromBits(E5M2_AS_FP32[0x7d]!)));
  assert.equal(f32FromBits(E5M2_AS_FP32[0x01]!), 2 ** -16);
  assert.equal(num(decode(O_FP16, 0x7bff)), 65504);
  assert.equal(num(decode(O_BF16, 0x7f7f)), 3.3895313892515355e38);
  assert.equal(num(oracleRound('e8m1', d(Number.MAX_VALUE), 'trunc')), 1.5 * 2 ** 127);
  const q = (f: string, x: number, m: 'rne' | 'trunc' = 'rne') => num(oracleRound(f, d(x), m));
  // fp8 saturate (finite overflow and ±inf); IEEE formats overflow to inf under rne, to max under trunc
  assert.equal(q('e4m3', 464), 448);
  assert.equal(q('e4m3', 1e9), 448);
  assert.equal(q('e4m3', -Infinity), -448);
  assert.equal(q('e5m2', Infinity), 57344);
  assert.equal(q('e5m2', 61440), 57344);
  assert.equal(q('fp16', 65519.99), 65504);
  assert.equal(q('fp16', 65520), Infinity);
  assert.equal(q('fp16', 65520, 'trunc'), 65504);
  assert.equal(q('fp16', -1e6, 'trunc'), -65504);
  assert.equal(q('bf16', 3.4e38), Infinity);
  assert.equal(q('fp32', 3.4028235677973366e38), Infinity); // max + half ulp: tie, rounds to even = inf
  assert.equal(q('fp32', 3.4028235677973362e38), 3.4028234663852886e38);
  // subnormals and signed zeros
  assert.equal(q('fp16', 2 ** -25), 0); // tie between 0 and 2^-24 → even
  assert.equal(q('fp16', 1.5 * 2 ** -25), 2 ** -24);
  assert.ok(Object.is(q('fp16', -(2 ** -26)), -0));
  assert.ok(Object.is(q('e4m3', -(2 ** -11), 'trunc'), -0));
  assert.equal(q('e4m3', 3 * 2 ** -10), 2 ** -8); // 1.5·2^-9 tie → 2·2^-9 (even)
  assert.equal(q('e4m3', 2.5 * 2 ** -9), 2 ** -8);
  assert.equal(q('e4m3', 17), 16); // tie 16|18 → 16 (mantissa even)
  assert.equal(q('e4m3', 19), 20);
  assert.equal(q('e4m3', 19.9, 'trunc'), 18);
  assert.ok(Number.isNaN(q('e4m3', NaN)) && Number.isNaN(q('fp32', NaN)));
  assert.equal(Number(encode(O_E4M3, oracleRound('e4m3', d(NaN), 'rne'))), 0x7f);
  assert.equal(Number(encode(O_E5M2, oracleRound('e5m2', d(-448), 'rne'))), 0xdf);
});

test('oracle: specials in products (after operand rounding)', () => {
  const inf = 0x7f800000,
    ninf = 0xff800000,
    nan = 0x7fc00000;
  const one = f32Bits(1),
    big = f32Bits(1e4),
    tiny = f32Bits(1e-30);
  for (const p of ['exact', 'lmul3', 'lmul3-formula', 'lmul23', 'bf16', 'fp16', 'e4m3', 'e5m2-mul']) {
    assert.equal(oracleMulBits(p, inf, 0), p.startsWith('e') && p !== 'exact' ? 0 : nan, p); // fp8: inf → ±max
    assert.equal(oracleMulBits(p, nan, one), nan, p);
    assert.equal(oracleMulBits(p, 0x80000000, one), 0x80000000, p);
    assert.equal(oracleMulBits(p, 0x80000000, 0xbf800000), 0, p);
    // an operand that rounds to zero in the operand format is a zero operand (sign kept)
    if (p !== 'exact' && p !== 'lmul23') assert.equal(oracleMulBits(p, f32Bits(-1e-45), big), 0x80000000, p);
  }
  // fp16: 1e-30 rounds to +0 → 0 × inf is NaN (but exact fp32: inf)
  assert.equal(oracleMulBits('fp16', tiny, inf), nan);
  assert.equal(oracleMulBits('exact', tiny, inf), inf);
  // fp8: inf operands become ±max, so inf × 0 is 0 and inf × −1 is −max
  assert.equal(oracleMulBits('e4m3', inf, 0), 0);
  assert.equal(f32FromBits(oracleMulBits('e4m3', inf, 0xbf800000)), -448);
  assert.equal(f32FromBits(oracleMulBits('e5m2-mul', ninf, ninf)), 57344); // 57344² saturates in the product format
  assert.equal(f32FromBits(oracleMulBits('e5m2', ninf, ninf)), 57344 * 57344);
  // fp16 overflow: 1e5 → inf under rne (inf × 1 = inf), 65504 under trunc
  assert.equal(oracleMulBits('fp16', f32Bits(1e5), one), inf);
  assert.equal(f32FromBits(oracleMulBits('fp16:trunc', f32Bits(1e5), one)), 65504);
});

test('oracle: fp8 scaling (§4) and accumulation (§5) examples', () => {
  assert.equal(oracleFp8Scale('e4m3', f32Bits(1)), 8); // 256 ≤ 448 < 512
  assert.equal(oracleFp8Scale('e4m3', f32Bits(448)), 0);
  assert.equal(oracleFp8Scale('e4m3', f32Bits(449)), -1);
  assert.equal(oracleFp8Scale('e4m3', f32Bits(224)), 1);
  assert.equal(oracleFp8Scale('e4m3', 0), 0);
  assert.equal(oracleFp8Scale('e5m2', f32Bits(1)), 15);
  assert.equal(oracleFp8Scale('e5m2', 1), 149 + 15); // amax = 2^-149
  assert.equal(oracleFp8Scale('e4m3', 0x7f7fffff), -120); // (2 − 2^-23)·2^127·2^-120 ≈ 256 ≤ 448; ·2^-119 ≈ 512
  // scaled multiply: 1000 × 1000 in e4m3 with scales −2, −2: 250 → 256 (quantum 16), (256 × 256)·2^4
  assert.equal(f32FromBits(oracleMulScaledBits('e4m3', f32Bits(1000), f32Bits(1000), -2, -2)), 1048576);
  assert.equal(f32FromBits(oracleMulScaledBits('e4m3', f32Bits(1000), f32Bits(1000), 0, 0)), 448 * 448);
  // 0.375·2^3 = 3, 0.4375·2^3 = 3.5, 3 × 3.5 = 10.5: e4m3-mul rounds the product (quantum 1, tie → 10)
  assert.equal(f32FromBits(oracleMulScaledBits('e4m3-mul', f32Bits(0.375), f32Bits(0.4375), 3, 3)), 10 / 64);
  assert.equal(f32FromBits(oracleMulScaledBits('e4m3', f32Bits(0.375), f32Bits(0.4375), 3, 3)), 10.5 / 64);
  const acc = (f: string, xs: number[]) => f32FromBits(oracleAccumulate(f, xs.map(f32Bits)));
  assert.equal(acc('fp16', [65504, 16]), Infinity); // 65520 is the rne overflow tie
  assert.equal(acc('fp16', [65504, 15]), 65504);
  assert.equal(acc('e4m3', [448, 448, -448]), 0); // saturates to 448, then 448 − 448
  assert.equal(acc('e4m3', [Infinity, -1]), 448); // inf saturates to 448; 447 rounds to 448 (quantum 32)
  assert.equal(acc('e4m3', [Infinity, -20]), 416);
  assert.equal(acc('e5m2', [1, 0.125]), 1); // 1.125 is a tie 1|1.25 → 1
  assert.equal(acc('e5m2', [1, 0.126]), 1.25);
  assert.ok(Number.isNaN(acc('bf16', [Infinity, -Infinity, 1])));
  assert.ok(Object.is(acc('bf16', [-0]), 0)); // +0 + −0 = +0
  assert.ok(Object.is(acc('bf16', [1, -1]), 0));
  assert.ok(Object.is(acc('fp16', [-1e-10]), -0)); // −1e-10 rounds to −0 in fp16
  assert.equal(acc('fp32', [1, 2 ** -24, 2 ** -24]), 1); // sequential: each addition ties back to 1
  assert.equal(acc('fp32', [2 ** -24, 2 ** -24, 1]), 1 + 2 ** -23);
});
