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

function step(op: i32, a: v128, b: v128, x: usize, v: usize, bytes: usize): void {
  const zero = f32x4.splat(0);
  for (let at: usize = 0; at < bytes; at += 16) {
    const value = v128.load(v + at);
    let r = value;
    switch (op) {
      case ADD: r = f32x4.add(value, a); break;
      case SUB: r = f32x4.sub(value, a); break;
      case SUB_FROM: r = f32x4.sub(a, value); break;
      case MUL: r = f32x4.mul(value, a); break;
      case DIV: r = f32x4.div(value, a); break;
      case DIV_INTO: r = f32x4.div(a, value); break;
      case ADD_X: r = f32x4.add(value, v128.load(x + at)); break;
      case SUB_X: r = f32x4.sub(value, v128.load(x + at)); break;
      case SUB_FROM_X: r = f32x4.sub(v128.load(x + at), value); break;
      case MUL_X: r = f32x4.mul(value, v128.load(x + at)); break;
      case DIV_X: r = f32x4.div(value, v128.load(x + at)); break;
      case DIV_INTO_X: r = f32x4.div(v128.load(x + at), value); break;
      case CLIP: {
        const low = v128.bitselect(a, value, f32x4.lt(value, a));
        r = v128.bitselect(b, low, f32x4.gt(low, b));
        break;
      }
      case RELU: r = v128.bitselect(zero, value, f32x4.lt(value, zero)); break;
      case LEAKY_RELU: r = v128.bitselect(f32x4.mul(value, a), value, f32x4.lt(value, zero)); break;
      case MAX: r = f32x4.max(value, a); break;
      case MIN: r = f32x4.min(value, a); break;
      default: unreachable();
    }
    v128.store(v + at, r);
  }
}
