// AssemblyScript source of the engine's WebAssembly kernels (compiled by scripts/build-wasm.mjs with SIMD).
// Matrices are row-major f32 in linear memory; pointers are byte offsets.

/** C[m×n] = A[m×k] · B[k×n], accumulated in f32, 4×8 register blocks of f32x4. */
export function gemm(a: usize, b: usize, c: usize, m: i32, n: i32, k: i32): void {
  const rowA = <usize>k << 2;
  const rowB = <usize>n << 2;
  let j = 0;
  for (; j + 8 <= n; j += 8) {
    let i = 0;
    for (; i + 4 <= m; i += 4) block4x8(a + <usize>i * rowA, b + (<usize>j << 2), c + <usize>i * rowB + (<usize>j << 2), rowA, rowB, k);
    for (; i < m; i++) block1x8(a + <usize>i * rowA, b + (<usize>j << 2), c + <usize>i * rowB + (<usize>j << 2), rowB, k);
  }
  for (; j < n; j++) {
    for (let i = 0; i < m; i++) {
      let sum: f32 = 0;
      const rowStart = a + <usize>i * rowA;
      for (let p = 0; p < k; p++) sum += load<f32>(rowStart + (<usize>p << 2)) * load<f32>(b + <usize>p * rowB + (<usize>j << 2));
      store<f32>(c + <usize>i * rowB + (<usize>j << 2), sum);
    }
  }
}

// @ts-ignore: decorator
@inline
function block4x8(a: usize, b: usize, c: usize, rowA: usize, rowB: usize, k: i32): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  for (let p = 0; p < k; p++) {
    const bp = b + <usize>p * rowB;
    const b0 = v128.load(bp);
    const b1 = v128.load(bp, 16);
    const ap = a + (<usize>p << 2);
    const a0 = f32x4.splat(load<f32>(ap));
    const a1 = f32x4.splat(load<f32>(ap + rowA));
    const a2 = f32x4.splat(load<f32>(ap + 2 * rowA));
    const a3 = f32x4.splat(load<f32>(ap + 3 * rowA));
    c00 = f32x4.add(c00, f32x4.mul(a0, b0));
    c01 = f32x4.add(c01, f32x4.mul(a0, b1));
    c10 = f32x4.add(c10, f32x4.mul(a1, b0));
    c11 = f32x4.add(c11, f32x4.mul(a1, b1));
    c20 = f32x4.add(c20, f32x4.mul(a2, b0));
    c21 = f32x4.add(c21, f32x4.mul(a2, b1));
    c30 = f32x4.add(c30, f32x4.mul(a3, b0));
    c31 = f32x4.add(c31, f32x4.mul(a3, b1));
  }
  v128.store(c, c00);
  v128.store(c, c01, 16);
  v128.store(c + rowB, c10);
  v128.store(c + rowB, c11, 16);
  v128.store(c + 2 * rowB, c20);
  v128.store(c + 2 * rowB, c21, 16);
  v128.store(c + 3 * rowB, c30);
  v128.store(c + 3 * rowB, c31, 16);
}

// @ts-ignore: decorator
@inline
function block1x8(a: usize, b: usize, c: usize, rowB: usize, k: i32): void {
  let c0 = f32x4.splat(0), c1 = f32x4.splat(0);
  for (let p = 0; p < k; p++) {
    const bp = b + <usize>p * rowB;
    const a0 = f32x4.splat(load<f32>(a + (<usize>p << 2)));
    c0 = f32x4.add(c0, f32x4.mul(a0, v128.load(bp)));
    c1 = f32x4.add(c1, f32x4.mul(a0, v128.load(bp, 16)));
  }
  v128.store(c, c0);
  v128.store(c, c1, 16);
}

/**
 * lmul-adder GEMM on fp32 bit patterns of prepared operands (normal or zero, exponent sums in range; the
 * caller checks): every product is ((A & 0x7fffffff) + (B & 0x7fffffff) − offset) | sign, one integer add.
 * `offset` = 0x3f800000 − 2^(23−l): the exponent bias, less the L-Mul offset term 2^−l at mantissa scale.
 */
export function gemmLmulAdder(a: usize, b: usize, c: usize, m: i32, n: i32, k: i32, offset: i32): void {
  const rowA = <usize>k << 2;
  const rowB = <usize>n << 2;
  const magnitude = i32x4.splat(0x7fffffff);
  const signBit = i32x4.splat(0x80000000);
  const zero = i32x4.splat(0);
  let j = 0;
  for (; j + 4 <= n; j += 4) {
    for (let i = 0; i < m; i++) {
      let acc = f32x4.splat(0);
      const ap = a + <usize>i * rowA;
      for (let p = 0; p < k; p++) {
        const aBits = load<i32>(ap + (<usize>p << 2));
        const aMag = aBits & 0x7fffffff;
        if (aMag == 0) continue;
        const bv = v128.load(b + <usize>p * rowB + (<usize>j << 2));
        const bMag = v128.and(bv, magnitude);
        let r = i32x4.add(bMag, i32x4.splat(aMag - offset));
        r = v128.or(r, v128.and(v128.xor(bv, i32x4.splat(aBits)), signBit));
        r = v128.and(r, i32x4.ne(bMag, zero));
        acc = f32x4.add(acc, r);
      }
      v128.store(c + <usize>i * rowB + (<usize>j << 2), acc);
    }
  }
  for (; j < n; j++) {
    for (let i = 0; i < m; i++) {
      let sum: f32 = 0;
      for (let p = 0; p < k; p++) {
        const aBits = load<i32>(a + <usize>i * rowA + (<usize>p << 2));
        const bBits = load<i32>(b + <usize>p * rowB + (<usize>j << 2));
        const aMag = aBits & 0x7fffffff;
        const bMag = bBits & 0x7fffffff;
        if (aMag == 0 || bMag == 0) continue;
        sum += reinterpret<f32>(((aMag + bMag - offset) | ((aBits ^ bBits) & 0x80000000)));
      }
      store<f32>(c + <usize>i * rowB + (<usize>j << 2), sum);
    }
  }
}
