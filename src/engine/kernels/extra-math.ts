/**
 * RotaryEmbedding, Det and the signal windows (Hann, Hamming, Blackman). SPEC §6 does not list them, so
 * their products (rotations, eliminations, window terms) compute exactly in doubles.
 */
import { dtypeFromCode } from '../../onnx/dtype';
import { expectTensor, sizeOf, toNumbers } from '../tensors';
import { EngineError, type Kernel, type KernelContext } from '../types';
import { floatData } from './elementwise-core';
import { tensorOf } from './scheme-arithmetic';
import { intsOf } from './shape-copy';

// ---- RotaryEmbedding --------------------------------------------------------------------------------

/**
 * RotaryEmbedding (opset 23): the first rotary_embedding_dim features of every head are rotated in pairs by
 * the cached angle of the token's position: halves (x_i, x_{i+d/2}) or, interleaved, neighbours
 * (x_{2i}, x_{2i+1}). Input [B, H, S, D], or [B, S, H·D] with num_heads.
 */
const RotaryEmbedding: Kernel = (inputs, ctx) => {
  const x = expectTensor(inputs[0], 'input');
  const cos = floatData(expectTensor(inputs[1], 'cos_cache'));
  const sin = floatData(expectTensor(inputs[2], 'sin_cache'));
  const positions = inputs[3] === undefined ? undefined : intsOf(inputs[3], 'position_ids');
  const layout = rotaryLayout(x.dims, ctx);
  const { batch, heads, steps, headSize } = layout;
  const rotary = ctx.attributes.int('rotary_embedding_dim', 0) || headSize;
  const interleaved = ctx.attributes.int('interleaved', 0) !== 0;
  if (rotary % 2 !== 0 || rotary > headSize)
    throw new EngineError(`rotary_embedding_dim ${rotary} does not fit heads of ${headSize}`);
  const half = rotary / 2;
  const values = floatData(x);
  const out = Float64Array.from(values);
  for (let b = 0; b < batch; b++) {
    for (let s = 0; s < steps; s++) {
      // The cache row: the token's position id, or its (batch, step) entry when there are no ids.
      const row = (positions ? positions[b * steps + s]! : b * steps + s) * half;
      for (let h = 0; h < heads; h++) {
        const start = layout.offset(b, h, s);
        for (let i = 0; i < half; i++) {
          const [p, q] = interleaved ? [start + 2 * i, start + 2 * i + 1] : [start + i, start + i + half];
          const [c, n] = [cos[row + i]!, sin[row + i]!];
          out[p] = values[p]! * c - values[q]! * n;
          out[q] = values[q]! * c + values[p]! * n;
        }
      }
    }
  }
  return [tensorOf(x.dtype, x.dims, out)];
};

interface RotaryLayout {
  readonly batch: number;
  readonly heads: number;
  readonly steps: number;
  readonly headSize: number;
  /** Flat offset of the first feature of head h of token (b, s). */
  offset(b: number, h: number, s: number): number;
}

function rotaryLayout(dims: readonly number[], ctx: KernelContext): RotaryLayout {
  if (dims.length === 4) {
    const [batch, heads, steps, headSize] = dims as [number, number, number, number];
    return { batch, heads, steps, headSize, offset: (b, h, s) => ((b * heads + h) * steps + s) * headSize };
  }
  const heads = ctx.attributes.int('num_heads', 0);
  if (dims.length !== 3 || heads < 1 || dims[2]! % heads !== 0) {
    throw new EngineError(`input [${dims}] needs rank 4, or rank 3 with num_heads dividing the hidden size`);
  }
  const [batch, steps, hidden] = dims as [number, number, number];
  const headSize = hidden / heads;
  return { batch, heads, steps, headSize, offset: (b, h, s) => (b * steps + s) * hidden + h * headSize };
}

// ---- Det --------------------------------------------------------------------------------------------

/** The determinant of one n×n matrix by Gaussian elimination with partial pivoting. */
function determinant(m: Float64Array, n: number): number {
  let det = 1;
  for (let col = 0; col < n; col++) {
    let pivot = col;
    for (let r = col + 1; r < n; r++) if (Math.abs(m[r * n + col]!) > Math.abs(m[pivot * n + col]!)) pivot = r;
    if (m[pivot * n + col] === 0) return 0;
    if (pivot !== col) {
      for (let c = 0; c < n; c++) [m[col * n + c], m[pivot * n + c]] = [m[pivot * n + c]!, m[col * n + c]!];
      det = -det;
    }
    const p = m[col * n + col]!;
    det *= p;
    for (let r = col + 1; r < n; r++) {
      const factor = m[r * n + col]! / p;
      for (let c = col; c < n; c++) m[r * n + c]! -= factor * m[col * n + c]!;
    }
  }
  return det;
}

const Det: Kernel = (inputs) => {
  const x = expectTensor(inputs[0], 'X');
  const [rows, cols] = x.dims.slice(-2);
  if (x.dims.length < 2 || rows !== cols) throw new EngineError(`Det needs square matrices, got [${x.dims}]`);
  const n = rows!;
  const values = floatData(x);
  const batch = x.dims.slice(0, -2);
  const out = new Float64Array(sizeOf(batch));
  for (let i = 0; i < out.length; i++)
    out[i] = determinant(Float64Array.from(values.subarray(i * n * n, (i + 1) * n * n)), n);
  return [tensorOf(x.dtype, batch, out)];
};

// ---- Windows ----------------------------------------------------------------------------------------

/** A window of the given length: w(n) from the cosine terms, periodic (over N) or symmetric (over N − 1). */
function windowKernel(cosineTerms: readonly number[]): Kernel {
  return (inputs, ctx) => {
    const size = toNumbers(expectTensor(inputs[0], 'size'));
    if (size.length !== 1 || size[0]! < 0) throw new EngineError(`size must be one non-negative value, got [${size}]`);
    const length = size[0]!;
    const periodic = ctx.attributes.int('periodic', 1) !== 0;
    const span = periodic ? length : length - 1;
    const dtype = dtypeFromCode(ctx.attributes.int('output_datatype', 1));
    if (!dtype) throw new EngineError('output_datatype does not name a known element type');
    const out = Float64Array.from({ length }, (_, n) =>
      cosineTerms.reduce((sum, a, k) => sum + a * Math.cos((2 * Math.PI * k * n) / span), 0),
    );
    return [tensorOf(dtype, [length], out)];
  };
}

const HAMMING_ALPHA = 25 / 46;

export const mathKernels: Record<string, Kernel> = {
  RotaryEmbedding,
  Det,
  HannWindow: windowKernel([0.5, -0.5]),
  HammingWindow: windowKernel([HAMMING_ALPHA, -(1 - HAMMING_ALPHA)]),
  BlackmanWindow: windowKernel([0.42, -0.5, 0.08]),
};
