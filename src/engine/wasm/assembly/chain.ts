// Fused element-wise chains (same conventions as gemm.ts: f32 arrays in linear memory, byte offsets).
import { adderOffset, lmulFour, lmulLanes, patternProducts } from './shared/lmul';
import {
  halfMinusOneOf,
  keepOf,
  oddBitOf,
  patternRounded,
  roundedBits,
  roundedNearest,
  subnormalMagic,
} from './shared/round';

// Step opcodes (src/engine/fusion.ts writes them): v is the running value, x the chain's input, a, b and d
// the step's constants. Each step is one IEEE f32 operation or comparison, as the node's own kernel does it,
// or a scheme's product of operands rounded by q, as its Mul kernel takes it.
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
const FP8_MUL = 19; // (q(v·b)·a)·d: a plain-products fp8 Mul by a constant a already scaled and rounded
const FP8_MUL_X = 20; // (q(v·b)·q(x·a))·d

/** Bytes of a program entry: opcode i32, then the step's f32 constants a, b and d. */
const ENTRY = 16;

/**
 * dst[i] = the chain's steps applied in order to from[i] (the running values: the chain's input `src`, or
 * values that earlier steps made), x being src[i]; `program` holds `steps` entries (`ENTRY`) of an opcode
 * and constants a, b, d. Thirty-two values at a time stay in eight registers while every step is applied to
 * them (one dispatch per step per 32 values; steps with x reload it from L1). The regions are padded to a
 * multiple of 32 elements (the last group's extra lanes are computed and ignored); `dst` may be `from`.
 * With `dst` 0 nothing is stored. With `measure`, the largest finite magnitude of the values after the
 * steps is returned (0 if none; an fp8 Mul step's scale comes from it). The product steps are a scheme's `Mul` (SPEC §3) of operands
 * rounded into its format q: lmul steps into e8mK (`manBits`, `maxFinite`, truncation or RNE, as in
 * `roundedBits`), then the lmul product of `rule` with c = `c` (`lmulFour`); fp8 steps into a saturating fp8
 * format (`manBits`, smallest normal exponent `emin`, `maxFinite`; RNE), then the f32 product, exact, rounded
 * into the same format where `roundProducts` (e4m3-mul, e5m2-mul), and its unscaling d, one rounding.
 */
export function elementwiseChain(
  src: usize,
  from: usize,
  dst: usize,
  len: i32,
  program: usize,
  steps: i32,
  measure: bool,
  rule: i32,
  c: f64,
  manBits: i32,
  emin: i32,
  maxFinite: f32,
  trunc: bool,
  roundProducts: bool,
): f32 {
  const bytes = (<usize>((len + 31) & ~31)) << 2;
  const offset = adderOffset(c);
  let amax = f32x4.splat(0);
  for (let at: usize = 0; at < bytes; at += 128) {
    const x = src + at;
    const start = from + at;
    let v0 = v128.load(start), v1 = v128.load(start, 16), v2 = v128.load(start, 32), v3 = v128.load(start, 48);
    let v4 = v128.load(start, 64), v5 = v128.load(start, 80), v6 = v128.load(start, 96), v7 = v128.load(start, 112);
    for (let s = 0; s < steps; s++) {
      const entry = program + <usize>s * ENTRY;
      const a = f32x4.splat(load<f32>(entry, 4));
      const b = f32x4.splat(load<f32>(entry, 8));
      const op = load<i32>(entry);
      switch (op) {
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
        case LMUL_X:
        case FP8_MUL:
        case FP8_MUL_X:
          // Out of line (a loop over the group in memory): inlined sixteen times, the products' code made the
          // whole kernel spill.
          storeEight(group, v0, v1, v2, v3, v4, v5, v6, v7);
          if (op == LMUL || op == LMUL_X) lmulGroup(op == LMUL_X ? x : 0, a, rule, c, offset, manBits, maxFinite, trunc);
          else {
            const input = op == FP8_MUL_X ? x : 0;
            const d = f32x4.splat(load<f32>(entry, 12));
            // e4m3 and e5m2 (every fp8 preset) with their format constants folded into the code.
            if (manBits == 3 && emin == -6) fp8E4m3Group(input, a, b, d, maxFinite, roundProducts);
            else if (manBits == 2 && emin == -14) fp8E5m2Group(input, a, b, d, maxFinite, roundProducts);
            else fp8AnyGroup(input, a, b, d, manBits, emin, maxFinite, roundProducts);
          }
          v0 = v128.load(group); v1 = v128.load(group, 16); v2 = v128.load(group, 32); v3 = v128.load(group, 48);
          v4 = v128.load(group, 64); v5 = v128.load(group, 80); v6 = v128.load(group, 96); v7 = v128.load(group, 112);
          break;
        default:
          unreachable();
      }
    }
    if (measure) {
      // Lanes past the end hold whatever the steps made of the padding: the last group is reduced in memory.
      if (at + 128 <= (<usize>len << 2)) {
        amax = f32x4.max(amax, f32x4.max(f32x4.max(finite(v0), finite(v1)), f32x4.max(finite(v2), finite(v3))));
        amax = f32x4.max(amax, f32x4.max(f32x4.max(finite(v4), finite(v5)), f32x4.max(finite(v6), finite(v7))));
      } else {
        storeEight(group, v0, v1, v2, v3, v4, v5, v6, v7);
        const valid = len - <i32>(at >> 2);
        for (let i = 0; i < valid; i++) amax = f32x4.max(amax, finite(v128.load32_splat(group + ((<usize>i) << 2))));
      }
    }
    if (dst) storeEight(dst + at, v0, v1, v2, v3, v4, v5, v6, v7);
  }
  const pairs = f32x4.max(amax, v128.shuffle<u32>(amax, amax, 2, 3, 0, 1));
  return max(f32x4.extract_lane(pairs, 0), f32x4.extract_lane(pairs, 1));
}

/** Thirty-two running values stored at `at`. */
// @ts-ignore: decorator
@inline
function storeEight(at: usize, v0: v128, v1: v128, v2: v128, v3: v128, v4: v128, v5: v128, v6: v128, v7: v128): void {
  v128.store(at, v0); v128.store(at, v1, 16); v128.store(at, v2, 32); v128.store(at, v3, 48);
  v128.store(at, v4, 64); v128.store(at, v5, 80); v128.store(at, v6, 96); v128.store(at, v7, 112);
}

/** |v| where finite, else +0 (inf and NaN ignored, as `finiteAmax` does). */
// @ts-ignore: decorator
@inline
function finite(v: v128): v128 {
  const magnitude = f32x4.abs(v);
  return v128.and(magnitude, f32x4.lt(magnitude, f32x4.splat(Infinity)));
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

/** The running values of a group of 32 while an lmul step computes their products. */
const group = memory.data(128, 16);

/**
 * The lmul products of the 32 running values in `group` with the chain's input values at `x`, or with the
 * constant `a` (already an operand value) where `x` is 0, both operands rounded into the e8mK format
 * (`roundedProducts`).
 */
function lmulGroup(x: usize, a: v128, rule: i32, c: f64, offset: i32, manBits: i32, maxFinite: f32, trunc: bool): void {
  if (manBits >= 23) {
    // e8m23 is fp32: no rounding.
    for (let at: usize = 0; at < 128; at += 16)
      v128.store(group + at, lmulFour(v128.load(group + at), x ? v128.load(x + at) : a, rule, c, offset));
    return;
  }
  const drop = 23 - manBits;
  const halfMinusOne = halfMinusOneOf(drop, trunc);
  const oddBit = oddBitOf(trunc);
  const keep = keepOf(drop);
  const high = i32x4.splat(reinterpret<i32>(maxFinite) + 1);
  const signBit = i32x4.splat(0x80000000);
  // A constant operand is already rounded into the format: its magnitude pattern once.
  const constantMagnitude = v128.andnot(a, signBit);
  for (let at: usize = 0; at < 128; at += 16) {
    const v = v128.load(group + at);
    const w = x ? v128.load(x + at) : a;
    const magV = patternRounded(v128.andnot(v, signBit), drop, halfMinusOne, oddBit, keep);
    const magW = x ? patternRounded(v128.andnot(w, signBit), drop, halfMinusOne, oddBit, keep) : constantMagnitude;
    let product = roundedProducts(v, w, magV, magW, high, rule, offset);
    if (v128.any_true(i32x4.eq(product, i32x4.splat(-1)))) {
      // Some lane needs the general path (its products are never all-ones: that pattern is a NaN's sign).
      const qv = roundedLanes(v, manBits, maxFinite, trunc);
      product = lmulLanes(qv, roundedLanes(w, manBits, maxFinite, trunc), rule, c);
    }
    v128.store(group + at, product);
  }
}

/**
 * lmul(q(v), q(w)) of four lanes from the rounded magnitude patterns `magV`, `magW` (`patternRounded`), q
 * the rounding into an e8mK format: fp32's exponent range, so rounding the pattern is q for every finite
 * value (F's subnormal quantum is a whole number of fp32's). `patternProducts` where every rounded operand
 * is zero or normal and below `high` (F's largest finite pattern + 1): all-ones lanes elsewhere.
 */
// @ts-ignore: decorator
@inline
function roundedProducts(v: v128, w: v128, magV: v128, magW: v128, high: v128, rule: i32, offset: i32): v128 {
  // A NaN's rounded pattern may carry into bit 31: negative, so not above the smallest normal's.
  const low = i32x4.splat(0x007fffff);
  const zero = i32x4.splat(0);
  const usableV = v128.or(i32x4.eq(magV, zero), v128.and(i32x4.gt_s(magV, low), i32x4.lt_s(magV, high)));
  const usableW = v128.or(i32x4.eq(magW, zero), v128.and(i32x4.gt_s(magW, low), i32x4.lt_s(magW, high)));
  return patternProducts(magV, magW, v128.and(usableV, usableW), v128.xor(v, w), rule, offset);
}

/** `roundedBits` of each lane. */
function roundedLanes(v: v128, manBits: i32, maxFinite: f32, trunc: bool): v128 {
  const maxBits = reinterpret<u32>(maxFinite);
  let out = i32x4.splat(roundedBits(f32x4.extract_lane(v, 0), manBits, -126, maxFinite, maxBits, false, trunc));
  out = i32x4.replace_lane(out, 1, roundedBits(f32x4.extract_lane(v, 1), manBits, -126, maxFinite, maxBits, false, trunc));
  out = i32x4.replace_lane(out, 2, roundedBits(f32x4.extract_lane(v, 2), manBits, -126, maxFinite, maxBits, false, trunc));
  return i32x4.replace_lane(out, 3, roundedBits(f32x4.extract_lane(v, 3), manBits, -126, maxFinite, maxBits, false, trunc));
}

/**
 * The fp8 products of the 32 running values in `group`: (q(v·b)·w)·d with w = q(x·a) for the chain's input
 * values at `x`, or w = a (already scaled and rounded) where `x` is 0; with `roundProducts`, (q(q(v·b)·w))·d.
 * q rounds into a saturating fp8 format (RNE, `roundedNearest`); scaled fp8 values multiply exactly in
 * f32, so the unscaling d (a normal f32 power of two) is the one rounding after them, as the Mul kernel's
 * products (or product table) and unscaling give.
 */
function fp8E4m3Group(x: usize, a: v128, b: v128, d: v128, maxFinite: f32, roundProducts: bool): void {
  fp8Group(x, a, b, d, 3, -6, maxFinite, roundProducts);
}

function fp8E5m2Group(x: usize, a: v128, b: v128, d: v128, maxFinite: f32, roundProducts: bool): void {
  fp8Group(x, a, b, d, 2, -14, maxFinite, roundProducts);
}

function fp8AnyGroup(x: usize, a: v128, b: v128, d: v128, manBits: i32, emin: i32, maxFinite: f32, roundProducts: bool): void {
  fp8Group(x, a, b, d, manBits, emin, maxFinite, roundProducts);
}

// @ts-ignore: decorator
@inline
function fp8Group(x: usize, a: v128, b: v128, d: v128, manBits: i32, emin: i32, maxFinite: f32, roundProducts: bool): void {
  const drop = 23 - manBits;
  const halfMinusOne = halfMinusOneOf(drop, false);
  const oddBit = oddBitOf(false);
  const keep = keepOf(drop);
  const lowest = i32x4.splat((emin + 127) << 23);
  // The fp8 formats saturate: overflow (and inf) round to ±maxFinite.
  const maxBits = i32x4.splat(reinterpret<i32>(maxFinite));
  const magic = subnormalMagic(emin, manBits);
  for (let at: usize = 0; at < 128; at += 16) {
    const scaledV = f32x4.mul(v128.load(group + at), b);
    const v = roundedNearest(scaledV, drop, halfMinusOne, oddBit, keep, lowest, maxBits, maxBits, magic);
    let w = a;
    if (x) {
      const scaledX = f32x4.mul(v128.load(x + at), a);
      w = roundedNearest(scaledX, drop, halfMinusOne, oddBit, keep, lowest, maxBits, maxBits, magic);
    }
    let product = f32x4.mul(v, w);
    if (roundProducts) product = roundedNearest(product, drop, halfMinusOne, oddBit, keep, lowest, maxBits, maxBits, magic);
    v128.store(group + at, f32x4.mul(product, d));
  }
}
