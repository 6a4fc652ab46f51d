/** Seeded random fp32 operand pairs aimed at the corners of a preset (§2–§3). */
import { SPECIAL32, nudge, normal32, normalIn, pick, prng, randInt, randU32, subnormal32, tieFor } from './harness';
import {
  O_BF16,
  O_E4M3,
  O_FP16,
  O_FP32,
  encode,
  maxFinite,
  oScheme,
  representable,
  type OFormat,
  type Val,
} from '../oracle/oracle';

export function seedOf(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
}

/** Max finite + half a quantum (the rne overflow threshold), as fp32 bits when fp32 holds it. */
function bitsOfMaxTie(f: OFormat): number[] {
  const max = maxFinite(f);
  const tie: Val = { k: 'fin', neg: false, m: 2n * max.m + 1n, e: max.e - 1 };
  return representable(O_FP32, tie) ? [Number(encode(O_FP32, tie))] : [];
}

/** `count` pairs of fp32 patterns for a preset (operand format F). */
export function randomPairs(preset: string, count: number): [number, number][] {
  const s = oScheme(preset);
  const F = s.operand;
  const rand = prng(seedOf(preset));
  const sign = () => (rand() < 0.5 ? 0x80000000 : 0);
  const tieFormat = F.M < 23 ? F : pick(rand, [O_BF16, O_FP16, O_E4M3]);
  const edge: number[] = [];
  if (F.M < 23) {
    edge.push(Number(encode(O_FP32, maxFinite(F))));
    edge.push(...bitsOfMaxTie(F));
    // min subnormal of F, half of it (tie with 0), three quarters, a quarter (when fp32 can hold them)
    for (const [m, de] of [
      [1n, 0],
      [1n, -1],
      [3n, -2],
      [1n, -2],
    ] as const) {
      const e = F.emin - F.M + de;
      if (e >= -149) edge.push(Number(encode(O_FP32, { k: 'fin', neg: false, m, e })));
    }
  }
  edge.push(0x7f7fffff, 0x00800000, 0x00000001);
  const pairs: [number, number][] = [];
  while (pairs.length < count) {
    let a: number;
    let b: number;
    switch (randInt(rand, 0, 9)) {
      case 0: // uniform bit patterns (every class, NaN payloads included)
        a = randU32(rand);
        b = randU32(rand);
        break;
      case 1: // moderate normals
        a = normalIn(rand, -12, 12);
        b = normalIn(rand, -12, 12);
        break;
      case 2: // a special against anything
        a = pick(rand, SPECIAL32);
        b = rand() < 0.5 ? pick(rand, SPECIAL32) : normalIn(rand, -30, 30);
        break;
      case 3: // fp32 subnormal times a normal of any size
        a = subnormal32(rand() < 0.5, randU32(rand) & 0x7fffff || 1);
        b = normalIn(rand, -20, 127);
        break;
      case 4: // exact ties of the operand format (and their fp32 neighbours)
        a = tieFor(rand, tieFormat);
        b = rand() < 0.5 ? tieFor(rand, tieFormat) : normalIn(rand, -8, 8);
        if (rand() < 0.3) a = nudge(rand, a);
        break;
      case 5: {
        // products near the fp32 overflow threshold (ea + eb ∈ [125, 129])
        const ea = randInt(rand, -2, 129);
        const eb = Math.max(-126, Math.min(127, randInt(rand, 125, 129) - ea));
        a = normal32(rand() < 0.5, ea, randU32(rand));
        b = normal32(rand() < 0.5, eb, rand() < 0.3 ? 0x7fffff : randU32(rand));
        break;
      }
      case 6: {
        // products near and below the fp32 subnormal range (ea + eb ∈ [−155, −120])
        const ea = randInt(rand, -126, 0);
        const eb = Math.max(-126, Math.min(127, randInt(rand, -155, -120) - ea));
        a = normal32(rand() < 0.5, ea, rand() < 0.2 ? 0 : randU32(rand));
        b = normal32(rand() < 0.5, eb, rand() < 0.2 ? 0 : randU32(rand));
        break;
      }
      case 7: // near sqrt(fp32 max) = 2^64 squared, and near max × ~1
        if (rand() < 0.5) {
          a = normal32(rand() < 0.5, randInt(rand, 63, 64), randU32(rand));
          b = normal32(rand() < 0.5, randInt(rand, 63, 64), randU32(rand));
        } else {
          a = nudge(rand, (0x7f7fffff - randInt(rand, 0, 1 << 16)) | sign());
          b = nudge(rand, pick(rand, [0x3f800000, 0x3f7fffff, 0x3f800001, 0x40000000, 0x3f000000]));
        }
        break;
      case 8: // the operand format's edges: max, the overflow tie, min subnormal, ties with zero
        a = (nudge(rand, pick(rand, edge)) | sign()) >>> 0;
        b = rand() < 0.5 ? (pick(rand, edge) | sign()) >>> 0 : normalIn(rand, -4, 4);
        break;
      default: {
        // scaled copies of ties into other binades (ties of the fp8 product format when operands are fp8)
        const t = tieFor(rand, tieFormat);
        a = t;
        b = normal32(rand() < 0.5, randInt(rand, -6, 6), rand() < 0.5 ? 0 : 0x400000); // ±2^k or ±1.5·2^k
        break;
      }
    }
    if (rand() < 0.5) pairs.push([a >>> 0, b >>> 0]);
    else pairs.push([b >>> 0, a >>> 0]);
  }
  return pairs;
}
