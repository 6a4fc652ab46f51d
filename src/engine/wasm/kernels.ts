/**
 * The WebAssembly SIMD kernels (source: ./assembly, built by scripts/build-wasm.mjs). One instance per
 * thread; operands are copied into its linear memory per call, which costs O(mk + kn) against O(mnk) work.
 */
import { KERNELS_WASM_BASE64 } from './generated/kernels-wasm';

interface KernelExports {
  readonly memory: WebAssembly.Memory;
  gemm(a: number, b: number, c: number, m: number, n: number, k: number): void;
  gemmLmulAdder(a: number, b: number, c: number, m: number, n: number, k: number, offset: number): void;
}

let instance: KernelExports | undefined;
let heapStart = 0;

function kernels(): KernelExports {
  if (!instance) {
    const bytes = Uint8Array.from(atob(KERNELS_WASM_BASE64), (c) => c.charCodeAt(0));
    const module = new WebAssembly.Module(bytes);
    const abort = () => {
      throw new Error('WebAssembly kernel aborted');
    };
    instance = new WebAssembly.Instance(module, { env: { abort } }).exports as unknown as KernelExports;
    heapStart = instance.memory.buffer.byteLength; // everything below belongs to the module itself
  }
  return instance;
}

/** Three f32 regions of the given lengths in linear memory, growing it when needed. */
function regions(lengths: readonly number[]): Float32Array[] {
  const { memory } = kernels();
  const bytes = lengths.reduce((sum, n) => sum + ((n * 4 + 15) & ~15), 0);
  const missing = heapStart + bytes - memory.buffer.byteLength;
  if (missing > 0) memory.grow(Math.ceil(missing / 65536));
  let offset = heapStart;
  return lengths.map((n) => {
    const view = new Float32Array(memory.buffer, offset, n);
    offset += (n * 4 + 15) & ~15;
    return view;
  });
}

/** C = A·B for row-major A (m×k) and B (k×n), f32 accumulation. */
export function wasmGemm(A: Float32Array, B: Float32Array, m: number, n: number, k: number): Float32Array {
  const [a, b, c] = regions([m * k, k * n, m * n]);
  a!.set(A);
  b!.set(B);
  kernels().gemm(a!.byteOffset, b!.byteOffset, c!.byteOffset, m, n, k);
  return c!.slice();
}

/**
 * lmul-adder GEMM by integer addition of fp32 bit patterns. Only valid when every operand is zero or
 * normal and no product leaves fp32's normal range (see `adderIsSafe`).
 */
export function wasmGemmLmulAdder(
  A: Float32Array,
  B: Float32Array,
  m: number,
  n: number,
  k: number,
  offsetBits: number,
): Float32Array {
  const [a, b, c] = regions([m * k, k * n, m * n]);
  a!.set(A);
  b!.set(B);
  const offset = 0x3f800000 - 2 ** (23 - offsetBits);
  kernels().gemmLmulAdder(a!.byteOffset, b!.byteOffset, c!.byteOffset, m, n, k, offset);
  return c!.slice();
}
