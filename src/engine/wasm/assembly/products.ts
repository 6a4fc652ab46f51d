// Element-wise scheme products over broadcast runs (scheme `Mul` nodes), same conventions as gemm.ts and
// elementwise.ts: row r reads a from element startA[r] advancing by stepA (0 or 1), likewise b.
import { adderOffset, lmulFour, lmulProduct } from './shared/lmul';

/**
 * out = lmul products of a and b over a broadcast (`rule` 0 adder, 1 formula; `c` = 2^−l), each as
 * `lmulProduct`.
 */
export function lmulRuns(
  rule: i32,
  c: f64,
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
  const byteStepA = (<usize>stepA) << 2;
  const byteStepB = (<usize>stepB) << 2;
  const offset = adderOffset(c);
  for (let r = 0; r < rows; r++) {
    let pa = a + ((<usize>load<i32>(startA + ((<usize>r) << 2))) << 2);
    let pb = b + ((<usize>load<i32>(startB + ((<usize>r) << 2))) << 2);
    const rowOut = out + ((<usize>(r * run)) << 2);
    let i = 0;
    for (; i + 4 <= run; i += 4, pa += byteStepA << 2, pb += byteStepB << 2) {
      const va = stepA != 0 ? v128.load(pa) : v128.load32_splat(pa);
      const vb = stepB != 0 ? v128.load(pb) : v128.load32_splat(pb);
      v128.store(rowOut + ((<usize>i) << 2), lmulFour(va, vb, rule, c, offset));
    }
    for (; i < run; i++, pa += byteStepA, pb += byteStepB)
      store<f32>(rowOut + ((<usize>i) << 2), lmulProduct(load<f32>(pa), load<f32>(pb), rule, c));
  }
}

/**
 * out = table[codeA·256 + codeB]·factor (f32) over a broadcast of two fp8 code arrays (a product-table
 * scheme's `Mul`; the caller makes sure that the multiplication is exact).
 */
export function tableRuns(
  table: usize,
  factor: f32,
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
    let pa = a + <usize>load<i32>(startA + ((<usize>r) << 2));
    let pb = b + <usize>load<i32>(startB + ((<usize>r) << 2));
    const rowOut = out + ((<usize>(r * run)) << 2);
    for (let i = 0; i < run; i++, pa += <usize>stepA, pb += <usize>stepB) {
      const entry = ((<usize>load<u8>(pa)) << 10) | ((<usize>load<u8>(pb)) << 2);
      store<f32>(rowOut + ((<usize>i) << 2), load<f32>(table + entry) * factor);
    }
  }
}
