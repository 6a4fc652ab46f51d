// Fused element-wise chains (same conventions as gemm.ts: f32 arrays in linear memory, byte offsets).
import { adderOffset, lmulFour } from './shared/lmul';
import { patternRounded, roundedBits, roundedOnPattern } from './shared/round';

// Step opcodes (src/engine/fusion.ts writes them): v is the running value, x the chain's input, a and b the
// step's constants. Each step is one IEEE f32 operation or comparison, as the node's own kernel does it.
const ADD = 0; // v + a
const SUB = 1; // v − a
const SUB_FROM = 2; // a − v
const MUL = 3; // v · a
const DIV = 4; // v / a
const DIV_INTO = 5; // a / v
const ADD_X = 6; // v + x
const SUB_X = 7; // v − x
const SUB_FROM_X = 8; // x − v
const MUL_X = 9; // v · x
const DIV_X = 10; // v / x
const DIV_INTO_X = 11; // x / v
const CLIP = 12; // (v < a ? a : v), then (t > b ? b : t)
const RELU = 13; // v < 0 ? +0 : v
const LEAKY_RELU = 14; // v < 0 ? v · a : v
const MAX = 15; // max(v, a) as Math.max (NaN wins, +0 over −0)
const MIN = 16; // min(v, a) as Math.min
const LMUL = 17; // lmul(q(v), a): a scheme Mul by a constant already rounded into the operand format
const LMUL_X = 18; // lmul(q(v), q(x))

/**
 * dst[i] = the chain's steps applied in order to src[i]; `program` holds `steps` entries of (opcode i32,
 * a f32, b f32). Thirty-two values at a time stay in eight registers while every step is applied to them
 * (one dispatch per step per 32 values; steps with x reload it from L1). Both regions are padded to a
 * multiple of 32 elements (the last group's extra lanes are computed and ignored). The lmul steps are a
 * scheme's `Mul` (SPEC §3): operands rounded into its format q (`manBits`, `emin`, `maxFinite`, `saturate`,
 * `trunc` as in `roundedBits`), then the lmul product of `rule` with c = `c` (`lmulFour`).
 */
export function elementwiseChain(
  src: usize,
  dst: usize,
  len: i32,
  program: usize,
  steps: i32,
  rule: i32,
  c: f64,
  manBits: i32,
  emin: i32,
  maxFinite: f32,
  saturate: bool,
  trunc: bool,
): void {
  const bytes = (<usize>((len + 31) & ~31)) << 2;
  const offset = adderOffset(c);
  for (let at: usize = 0; at < bytes; at += 128) {
    const x = src + at;
    let v0 = v128.load(x), v1 = v128.load(x, 16), v2 = v128.load(x, 32), v3 = v128.load(x, 48);
    let v4 = v128.load(x, 64), v5 = v128.load(x, 80), v6 = v128.load(x, 96), v7 = v128.load(x, 112);
    for (let s = 0; s < steps; s++) {
      const entry = program + <usize>s * 12;
      const a = f32x4.splat(load<f32>(entry, 4));
      const b = f32x4.splat(load<f32>(entry, 8));
      switch (load<i32>(entry)) {
        case ADD:
          v0 = f32x4.add(v0, a); v1 = f32x4.add(v1, a); v2 = f32x4.add(v2, a); v3 = f32x4.add(v3, a);
          v4 = f32x4.add(v4, a); v5 = f32x4.add(v5, a); v6 = f32x4.add(v6, a); v7 = f32x4.add(v7, a);
          break;
        case SUB:
          v0 = f32x4.sub(v0, a); v1 = f32x4.sub(v1, a); v2 = f32x4.sub(v2, a); v3 = f32x4.sub(v3, a);
          v4 = f32x4.sub(v4, a); v5 = f32x4.sub(v5, a); v6 = f32x4.sub(v6, a); v7 = f32x4.sub(v7, a);
          break;
        case SUB_FROM:
          v0 = f32x4.sub(a, v0); v1 = f32x4.sub(a, v1); v2 = f32x4.sub(a, v2); v3 = f32x4.sub(a, v3);
          v4 = f32x4.sub(a, v4); v5 = f32x4.sub(a, v5); v6 = f32x4.sub(a, v6); v7 = f32x4.sub(a, v7);
          break;
        case MUL:
          v0 = f32x4.mul(v0, a); v1 = f32x4.mul(v1, a); v2 = f32x4.mul(v2, a); v3 = f32x4.mul(v3, a);
          v4 = f32x4.mul(v4, a); v5 = f32x4.mul(v5, a); v6 = f32x4.mul(v6, a); v7 = f32x4.mul(v7, a);
          break;
        case DIV:
          v0 = f32x4.div(v0, a); v1 = f32x4.div(v1, a); v2 = f32x4.div(v2, a); v3 = f32x4.div(v3, a);
          v4 = f32x4.div(v4, a); v5 = f32x4.div(v5, a); v6 = f32x4.div(v6, a); v7 = f32x4.div(v7, a);
          break;
        case DIV_INTO:
          v0 = f32x4.div(a, v0); v1 = f32x4.div(a, v1); v2 = f32x4.div(a, v2); v3 = f32x4.div(a, v3);
          v4 = f32x4.div(a, v4); v5 = f32x4.div(a, v5); v6 = f32x4.div(a, v6); v7 = f32x4.div(a, v7);
          break;
        case ADD_X:
          v0 = f32x4.add(v0, v128.load(x)); v1 = f32x4.add(v1, v128.load(x, 16)); v2 = f32x4.add(v2, v128.load(x, 32)); v3 = f32x4.add(v3, v128.load(x, 48));
          v4 = f32x4.add(v4, v128.load(x, 64)); v5 = f32x4.add(v5, v128.load(x, 80)); v6 = f32x4.add(v6, v128.load(x, 96)); v7 = f32x4.add(v7, v128.load(x, 112));
          break;
        case SUB_X:
          v0 = f32x4.sub(v0, v128.load(x)); v1 = f32x4.sub(v1, v128.load(x, 16)); v2 = f32x4.sub(v2, v128.load(x, 32)); v3 = f32x4.sub(v3, v128.load(x, 48));
          v4 = f32x4.sub(v4, v128.load(x, 64)); v5 = f32x4.sub(v5, v128.load(x, 80)); v6 = f32x4.sub(v6, v128.load(x, 96)); v7 = f32x4.sub(v7, v128.load(x, 112));
          break;
        case SUB_FROM_X:
          v0 = f32x4.sub(v128.load(x), v0); v1 = f32x4.sub(v128.load(x, 16), v1); v2 = f32x4.sub(v128.load(x, 32), v2); v3 = f32x4.sub(v128.load(x, 48), v3);
          v4 = f32x4.sub(v128.load(x, 64), v4); v5 = f32x4.sub(v128.load(x, 80), v5); v6 = f32x4.sub(v128.load(x, 96), v6); v7 = f32x4.sub(v128.load(x, 112), v7);
          break;
        case MUL_X:
          v0 = f32x4.mul(v0, v128.load(x)); v1 = f32x4.mul(v1, v128.load(x, 16)); v2 = f32x4.mul(v2, v128.load(x, 32)); v3 = f32x4.mul(v3, v128.load(x, 48));
          v4 = f32x4.mul(v4, v128.load(x, 64)); v5 = f32x4.mul(v5, v128.load(x, 80)); v6 = f32x4.mul(v6, v128.load(x, 96)); v7 = f32x4.mul(v7, v128.load(x, 112));
          break;
        case DIV_X:
          v0 = f32x4.div(v0, v128.load(x)); v1 = f32x4.div(v1, v128.load(x, 16)); v2 = f32x4.div(v2, v128.load(x, 32)); v3 = f32x4.div(v3, v128.load(x, 48));
          v4 = f32x4.div(v4, v128.load(x, 64)); v5 = f32x4.div(v5, v128.load(x, 80)); v6 = f32x4.div(v6, v128.load(x, 96)); v7 = f32x4.div(v7, v128.load(x, 112));
          break;
        case DIV_INTO_X:
          v0 = f32x4.div(v128.load(x), v0); v1 = f32x4.div(v128.load(x, 16), v1); v2 = f32x4.div(v128.load(x, 32), v2); v3 = f32x4.div(v128.load(x, 48), v3);
          v4 = f32x4.div(v128.load(x, 64), v4); v5 = f32x4.div(v128.load(x, 80), v5); v6 = f32x4.div(v128.load(x, 96), v6); v7 = f32x4.div(v128.load(x, 112), v7);
          break;
        case CLIP:
          v0 = clip(v0, a, b); v1 = clip(v1, a, b); v2 = clip(v2, a, b); v3 = clip(v3, a, b);
          v4 = clip(v4, a, b); v5 = clip(v5, a, b); v6 = clip(v6, a, b); v7 = clip(v7, a, b);
          break;
        case RELU:
          v0 = relu(v0); v1 = relu(v1); v2 = relu(v2); v3 = relu(v3);
          v4 = relu(v4); v5 = relu(v5); v6 = relu(v6); v7 = relu(v7);
          break;
        case LEAKY_RELU:
          v0 = leakyRelu(v0, a); v1 = leakyRelu(v1, a); v2 = leakyRelu(v2, a); v3 = leakyRelu(v3, a);
          v4 = leakyRelu(v4, a); v5 = leakyRelu(v5, a); v6 = leakyRelu(v6, a); v7 = leakyRelu(v7, a);
          break;
        case MAX:
          v0 = f32x4.max(v0, a); v1 = f32x4.max(v1, a); v2 = f32x4.max(v2, a); v3 = f32x4.max(v3, a);
          v4 = f32x4.max(v4, a); v5 = f32x4.max(v5, a); v6 = f32x4.max(v6, a); v7 = f32x4.max(v7, a);
          break;
        case MIN:
          v0 = f32x4.min(v0, a); v1 = f32x4.min(v1, a); v2 = f32x4.min(v2, a); v3 = f32x4.min(v3, a);
          v4 = f32x4.min(v4, a); v5 = f32x4.min(v5, a); v6 = f32x4.min(v6, a); v7 = f32x4.min(v7, a);
          break;
        case LMUL:
          v0 = lmulFour(q(v0, manBits, emin, maxFinite, saturate, trunc), a, rule, c, offset);
          v1 = lmulFour(q(v1, manBits, emin, maxFinite, saturate, trunc), a, rule, c, offset);
          v2 = lmulFour(q(v2, manBits, emin, maxFinite, saturate, trunc), a, rule, c, offset);
          v3 = lmulFour(q(v3, manBits, emin, maxFinite, saturate, trunc), a, rule, c, offset);
          v4 = lmulFour(q(v4, manBits, emin, maxFinite, saturate, trunc), a, rule, c, offset);
          v5 = lmulFour(q(v5, manBits, emin, maxFinite, saturate, trunc), a, rule, c, offset);
          v6 = lmulFour(q(v6, manBits, emin, maxFinite, saturate, trunc), a, rule, c, offset);
          v7 = lmulFour(q(v7, manBits, emin, maxFinite, saturate, trunc), a, rule, c, offset);
          break;
        case LMUL_X:
          v0 = lmulX(v0, v128.load(x), rule, c, offset, manBits, emin, maxFinite, saturate, trunc);
          v1 = lmulX(v1, v128.load(x, 16), rule, c, offset, manBits, emin, maxFinite, saturate, trunc);
          v2 = lmulX(v2, v128.load(x, 32), rule, c, offset, manBits, emin, maxFinite, saturate, trunc);
          v3 = lmulX(v3, v128.load(x, 48), rule, c, offset, manBits, emin, maxFinite, saturate, trunc);
          v4 = lmulX(v4, v128.load(x, 64), rule, c, offset, manBits, emin, maxFinite, saturate, trunc);
          v5 = lmulX(v5, v128.load(x, 80), rule, c, offset, manBits, emin, maxFinite, saturate, trunc);
          v6 = lmulX(v6, v128.load(x, 96), rule, c, offset, manBits, emin, maxFinite, saturate, trunc);
          v7 = lmulX(v7, v128.load(x, 112), rule, c, offset, manBits, emin, maxFinite, saturate, trunc);
          break;
        default:
          unreachable();
      }
    }
    const y = dst + at;
    v128.store(y, v0);
    v128.store(y, v1, 16);
    v128.store(y, v2, 32);
    v128.store(y, v3, 48);
    v128.store(y, v4, 64);
    v128.store(y, v5, 80);
    v128.store(y, v6, 96);
    v128.store(y, v7, 112);
  }
}

/** Clip's comparisons: v < lo ? lo : v, then > hi ? hi (NaN and −0 pass). */
// @ts-ignore: decorator
@inline
function clip(v: v128, lo: v128, hi: v128): v128 {
  const low = v128.bitselect(lo, v, f32x4.lt(v, lo));
  return v128.bitselect(hi, low, f32x4.gt(low, hi));
}

/** v < 0 ? +0 : v */
// @ts-ignore: decorator
@inline
function relu(v: v128): v128 {
  const zero = f32x4.splat(0);
  return v128.bitselect(zero, v, f32x4.lt(v, zero));
}

/** v < 0 ? v · alpha : v */
// @ts-ignore: decorator
@inline
function leakyRelu(v: v128, alpha: v128): v128 {
  return v128.bitselect(f32x4.mul(v, alpha), v, f32x4.lt(v, f32x4.splat(0)));
}

/** The lmul product of the running values and the chain's input values, both rounded by `q`. */
// @ts-ignore: decorator
@inline
function lmulX(
  v: v128,
  x: v128,
  rule: i32,
  c: f64,
  offset: i32,
  manBits: i32,
  emin: i32,
  maxFinite: f32,
  saturate: bool,
  trunc: bool,
): v128 {
  const qv = q(v, manBits, emin, maxFinite, saturate, trunc);
  return lmulFour(qv, q(x, manBits, emin, maxFinite, saturate, trunc), rule, c, offset);
}

/**
 * Four values rounded into the operand format (`roundedBits`): on the pattern where every lane allows it
 * (`roundedOnPattern`), else lane by lane. Formats with 23 mantissa bits and fp32's range leave f32 values as
 * they are.
 */
// @ts-ignore: decorator
@inline
function q(v: v128, manBits: i32, emin: i32, maxFinite: f32, saturate: bool, trunc: bool): v128 {
  if (manBits >= 23 && emin <= -126) return v;
  const signBit = i32x4.splat(0x80000000);
  const magnitude = v128.andnot(v, signBit);
  const rounded = patternRounded(magnitude, manBits, trunc);
  const lowest = i32x4.splat((emin + 127) << 23);
  const highest = i32x4.splat(reinterpret<i32>(maxFinite));
  if (manBits < 23 && v128.all_true<i32>(roundedOnPattern(magnitude, rounded, lowest, highest)))
    return v128.or(rounded, v128.and(v, signBit));
  return roundedLanes(v, manBits, emin, maxFinite, saturate, trunc);
}

/** `roundedBits` of each lane. */
function roundedLanes(v: v128, manBits: i32, emin: i32, maxFinite: f32, saturate: bool, trunc: bool): v128 {
  const maxBits = reinterpret<u32>(maxFinite);
  let out = i32x4.splat(roundedBits(f32x4.extract_lane(v, 0), manBits, emin, maxFinite, maxBits, saturate, trunc));
  out = i32x4.replace_lane(out, 1, roundedBits(f32x4.extract_lane(v, 1), manBits, emin, maxFinite, maxBits, saturate, trunc));
  out = i32x4.replace_lane(out, 2, roundedBits(f32x4.extract_lane(v, 2), manBits, emin, maxFinite, maxBits, saturate, trunc));
  return i32x4.replace_lane(out, 3, roundedBits(f32x4.extract_lane(v, 3), manBits, emin, maxFinite, maxBits, saturate, trunc));
}
