// Fused element-wise chains (same conventions as gemm.ts: f32 arrays in linear memory, byte offsets).

/** Elements per block: a block's current values stay in L1 while every step of the chain passes over it. */
const BLOCK = 1024;

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

/**
 * dst[i] = the chain's steps applied in order to src[i]; `program` holds `steps` entries of (opcode i32,
 * a f32, b f32). Both regions are padded to a multiple of four elements (the last vector's extra lanes are
 * computed and ignored).
 */
export function elementwiseChain(src: usize, dst: usize, len: i32, program: usize, steps: i32): void {
  for (let start = 0; start < len; start += BLOCK) {
    const bytes = <usize>((min(BLOCK, len - start) + 3) & ~3) << 2;
    const x = src + ((<usize>start) << 2);
    const v = dst + ((<usize>start) << 2);
    memory.copy(v, x, bytes);
    for (let s = 0; s < steps; s++) {
      const entry = program + <usize>s * 12;
      step(load<i32>(entry), f32x4.splat(load<f32>(entry, 4)), f32x4.splat(load<f32>(entry, 8)), x, v, bytes);
    }
  }
}

/** One step over a block: a loop per opcode, so that the dispatch happens once per block, not per vector. */
function step(op: i32, a: v128, b: v128, x: usize, values: usize, bytes: usize): void {
  const zero = f32x4.splat(0);
  switch (op) {
    case ADD:
      for (let at: usize = 0; at < bytes; at += 16) {
        const v = v128.load(values + at);
        v128.store(values + at, f32x4.add(v, a));
      }
      break;
    case SUB:
      for (let at: usize = 0; at < bytes; at += 16) {
        const v = v128.load(values + at);
        v128.store(values + at, f32x4.sub(v, a));
      }
      break;
    case SUB_FROM:
      for (let at: usize = 0; at < bytes; at += 16) {
        const v = v128.load(values + at);
        v128.store(values + at, f32x4.sub(a, v));
      }
      break;
    case MUL:
      for (let at: usize = 0; at < bytes; at += 16) {
        const v = v128.load(values + at);
        v128.store(values + at, f32x4.mul(v, a));
      }
      break;
    case DIV:
      for (let at: usize = 0; at < bytes; at += 16) {
        const v = v128.load(values + at);
        v128.store(values + at, f32x4.div(v, a));
      }
      break;
    case DIV_INTO:
      for (let at: usize = 0; at < bytes; at += 16) {
        const v = v128.load(values + at);
        v128.store(values + at, f32x4.div(a, v));
      }
      break;
    case ADD_X:
      for (let at: usize = 0; at < bytes; at += 16) {
        const v = v128.load(values + at);
        v128.store(values + at, f32x4.add(v, v128.load(x + at)));
      }
      break;
    case SUB_X:
      for (let at: usize = 0; at < bytes; at += 16) {
        const v = v128.load(values + at);
        v128.store(values + at, f32x4.sub(v, v128.load(x + at)));
      }
      break;
    case SUB_FROM_X:
      for (let at: usize = 0; at < bytes; at += 16) {
        const v = v128.load(values + at);
        v128.store(values + at, f32x4.sub(v128.load(x + at), v));
      }
      break;
    case MUL_X:
      for (let at: usize = 0; at < bytes; at += 16) {
        const v = v128.load(values + at);
        v128.store(values + at, f32x4.mul(v, v128.load(x + at)));
      }
      break;
    case DIV_X:
      for (let at: usize = 0; at < bytes; at += 16) {
        const v = v128.load(values + at);
        v128.store(values + at, f32x4.div(v, v128.load(x + at)));
      }
      break;
    case DIV_INTO_X:
      for (let at: usize = 0; at < bytes; at += 16) {
        const v = v128.load(values + at);
        v128.store(values + at, f32x4.div(v128.load(x + at), v));
      }
      break;
    case CLIP:
      for (let at: usize = 0; at < bytes; at += 16) {
        const v = v128.load(values + at);
        v128.store(values + at, clip(v, a, b));
      }
      break;
    case RELU:
      for (let at: usize = 0; at < bytes; at += 16) {
        const v = v128.load(values + at);
        v128.store(values + at, v128.bitselect(zero, v, f32x4.lt(v, zero)));
      }
      break;
    case LEAKY_RELU:
      for (let at: usize = 0; at < bytes; at += 16) {
        const v = v128.load(values + at);
        v128.store(values + at, v128.bitselect(f32x4.mul(v, a), v, f32x4.lt(v, zero)));
      }
      break;
    case MAX:
      for (let at: usize = 0; at < bytes; at += 16) {
        const v = v128.load(values + at);
        v128.store(values + at, f32x4.max(v, a));
      }
      break;
    case MIN:
      for (let at: usize = 0; at < bytes; at += 16) {
        const v = v128.load(values + at);
        v128.store(values + at, f32x4.min(v, a));
      }
      break;
    default:
      unreachable();
  }
}

/** Clip's comparisons: v < lo ? lo : v, then > hi ? hi (NaN and −0 pass). */
// @ts-ignore: decorator
@inline
function clip(v: v128, lo: v128, hi: v128): v128 {
  const low = v128.bitselect(lo, v, f32x4.lt(v, lo));
  return v128.bitselect(hi, low, f32x4.gt(low, hi));
}
