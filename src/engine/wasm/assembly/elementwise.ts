// Element-wise float32 kernels (same conventions as gemm.ts). Every result is the one IEEE f32 operation
// JS computes in doubles and rounds to f32 (double rounding is innocuous for +, −, ×, ÷ of f32 values).

/** The operators of `binaryRuns` (Math.min/Math.max for MIN/MAX). */
const ADD = 0;
const SUB = 1;
const MUL = 2;
const DIV = 3;
const MIN = 4;
const MAX = 5;

/**
 * out = a op b over a broadcast walked as `rows` runs of `run` outputs: row r reads a from element
 * startA[r] advancing by stepA (0 or 1), likewise b (`startA`/`startB`: i32 arrays).
 */
export function binaryRuns(
  op: i32,
  a: usize,
  b: usize,
  out: usize,
  rows: i32,
  run: i32,
  stepA: i32,
  stepB: i32,
  startA: usize,
  startB: usize,
): void {
  for (let r = 0; r < rows; r++) {
    const rowA = a + ((<usize>load<i32>(startA + ((<usize>r) << 2))) << 2);
    const rowB = b + ((<usize>load<i32>(startB + ((<usize>r) << 2))) << 2);
    const rowOut = out + ((<usize>(r * run)) << 2);
    if (op == ADD) binaryRun(ADD, rowA, rowB, rowOut, run, stepA, stepB);
    else if (op == SUB) binaryRun(SUB, rowA, rowB, rowOut, run, stepA, stepB);
    else if (op == MUL) binaryRun(MUL, rowA, rowB, rowOut, run, stepA, stepB);
    else if (op == DIV) binaryRun(DIV, rowA, rowB, rowOut, run, stepA, stepB);
    else if (op == MIN) binaryRun(MIN, rowA, rowB, rowOut, run, stepA, stepB);
    else binaryRun(MAX, rowA, rowB, rowOut, run, stepA, stepB);
  }
}

// @ts-ignore: decorator
@inline
function apply4(op: i32, x: v128, y: v128): v128 {
  if (op == ADD) return f32x4.add(x, y);
  if (op == SUB) return f32x4.sub(x, y);
  if (op == MUL) return f32x4.mul(x, y);
  if (op == DIV) return f32x4.div(x, y);
  // min/max propagate NaN and order −0 below +0, as Math.min/Math.max do.
  if (op == MIN) return f32x4.min(x, y);
  return f32x4.max(x, y);
}

// @ts-ignore: decorator
@inline
function apply1(op: i32, x: f32, y: f32): f32 {
  if (op == ADD) return x + y;
  if (op == SUB) return x - y;
  if (op == MUL) return x * y;
  if (op == DIV) return x / y;
  if (op == MIN) return min(x, y);
  return max(x, y);
}

// @ts-ignore: decorator
@inline
function binaryRun(op: i32, a: usize, b: usize, out: usize, run: i32, stepA: i32, stepB: i32): void {
  let i = 0;
  // A broadcast operand (step 0) is one value splatted over the run.
  const splatA = f32x4.splat(load<f32>(a));
  const splatB = f32x4.splat(load<f32>(b));
  const end = run & ~3;
  if (stepA == 1 && stepB == 1) {
    for (; i < end; i += 4) {
      const at = (<usize>i) << 2;
      v128.store(out + at, apply4(op, v128.load(a + at), v128.load(b + at)));
    }
  } else if (stepA == 1) {
    for (; i < end; i += 4) {
      const at = (<usize>i) << 2;
      v128.store(out + at, apply4(op, v128.load(a + at), splatB));
    }
  } else if (stepB == 1) {
    for (; i < end; i += 4) {
      const at = (<usize>i) << 2;
      v128.store(out + at, apply4(op, splatA, v128.load(b + at)));
    }
  }
  for (; i < run; i++) {
    const x = load<f32>(a + ((<usize>(i * stepA)) << 2));
    const y = load<f32>(b + ((<usize>(i * stepB)) << 2));
    store<f32>(out + ((<usize>i) << 2), apply1(op, x, y));
  }
}

/**
 * dst[i] = min(max(src[i], lo), hi) as Clip's comparisons define it: v < lo ? lo : v, then low > hi ? hi :
 * low — pmax/pmin exactly, so NaN and −0 pass as they are.
 */
export function clip(src: usize, dst: usize, len: i32, lo: f32, hi: f32): void {
  const low = f32x4.splat(lo);
  const high = f32x4.splat(hi);
  let i = 0;
  for (; i + 4 <= len; i += 4) {
    const at = (<usize>i) << 2;
    v128.store(dst + at, f32x4.pmin(f32x4.pmax(v128.load(src + at), low), high));
  }
  for (; i < len; i++) {
    const at = (<usize>i) << 2;
    const v = load<f32>(src + at);
    const clamped = v < lo ? lo : v;
    store<f32>(dst + at, clamped > hi ? hi : clamped);
  }
}

/** dst[i] = src[i] < 0 ? f32(src[i]·alpha) : src[i] (LeakyRelu with exact products; NaN passes). */
export function leakyRelu(src: usize, dst: usize, len: i32, alpha: f32): void {
  const factor = f32x4.splat(alpha);
  const zero = f32x4.splat(0);
  let i = 0;
  for (; i + 4 <= len; i += 4) {
    const at = (<usize>i) << 2;
    const v = v128.load(src + at);
    v128.store(dst + at, v128.bitselect(f32x4.mul(v, factor), v, f32x4.lt(v, zero)));
  }
  for (; i < len; i++) {
    const at = (<usize>i) << 2;
    const v = load<f32>(src + at);
    store<f32>(dst + at, v < 0 ? v * alpha : v);
  }
}

/** dst[i] = src[i] < 0 ? +0 : src[i] (Relu: −0 and NaN pass). */
export function relu(src: usize, dst: usize, len: i32): void {
  const zero = f32x4.splat(0);
  let i = 0;
  for (; i + 4 <= len; i += 4) {
    const at = (<usize>i) << 2;
    const v = v128.load(src + at);
    v128.store(dst + at, v128.bitselect(zero, v, f32x4.lt(v, zero)));
  }
  for (; i < len; i++) {
    const at = (<usize>i) << 2;
    const v = load<f32>(src + at);
    store<f32>(dst + at, v < 0 ? 0 : v);
  }
}

/**
 * Inference BatchNormalization of float32 values with plain arithmetic: in block i (`blockSize` values,
 * channel j = i mod `channels`), y = f32(f32(f32((x − mean[j]) / denominator[j]) · gamma[j]) + beta[j]) —
 * the standardization in doubles (mean and denominator are f64) rounded to f32, then one f32 product and
 * one f32 sum: the JS passes' values.
 */
export function batchNorm(
  src: usize,
  dst: usize,
  len: i32,
  blockSize: i32,
  channels: i32,
  mean: usize,
  denominator: usize,
  gamma: usize,
  beta: usize,
): void {
  for (let start = 0, j = 0; start < len; start += blockSize, j = j + 1 == channels ? 0 : j + 1) {
    const m = load<f64>(mean + ((<usize>j) << 3));
    const d = load<f64>(denominator + ((<usize>j) << 3));
    const g = load<f32>(gamma + ((<usize>j) << 2));
    const b = load<f32>(beta + ((<usize>j) << 2));
    const mv = f64x2.splat(m), dv = f64x2.splat(d), gv = f32x4.splat(g), bv = f32x4.splat(b);
    const end = min(start + blockSize, len);
    let i = start;
    for (; i + 4 <= end; i += 4) {
      const at = (<usize>i) << 2;
      const v = v128.load(src + at);
      const low = f32x4.demote_f64x2_zero(f64x2.div(f64x2.sub(f64x2.promote_low_f32x4(v), mv), dv));
      const high = f32x4.demote_f64x2_zero(
        f64x2.div(f64x2.sub(f64x2.promote_low_f32x4(v128.shuffle<u32>(v, v, 2, 3, 0, 1)), mv), dv),
      );
      const t = v128.shuffle<u32>(low, high, 0, 1, 4, 5);
      v128.store(dst + at, f32x4.add(f32x4.mul(t, gv), bv));
    }
    for (; i < end; i++) {
      const at = (<usize>i) << 2;
      const t = <f32>((<f64>load<f32>(src + at) - m) / d);
      store<f32>(dst + at, t * g + b);
    }
  }
}
