/**
 * Attention (opset 23/24): softmax(softcap(scale·Q·Kᵀ) + bias)·V with multi-, grouped- and multi-query heads,
 * a KV cache (past_key/past_value → present_key/present_value), boolean or additive masks, causal masking
 * and per-batch KV lengths (nonpad_kv_seqlen). Q·Kᵀ, the scale and P·V run under the multiply scheme; every
 * operand (Q, K, V, the scores, P) is prepared as one whole tensor, as the expanded ONNX function's
 * Mul/MatMul nodes would see it. The com.microsoft contrib Attention is a different operator and not here.
 */
import { BF16, FP16, roundToFormat, type FloatFormat } from '../../arith';
import type { DType, Tensor } from '../../onnx';
import { sliceOperand, type GemmShape, type MultiplyContext, type PreparedOperand } from '../multiply';
import { broadcastIndex, expectTensor, toNumbers } from '../tensors';
import { EngineError, tensor, type Kernel, type KernelContext, type Value } from '../types';
import { transposeData } from './shape-copy';

/** The input types (data held exactly in Float32Array) and the format their outputs are rounded into. */
const OUTPUT_FORMAT: Partial<Record<DType, FloatFormat | null>> = { float32: null, float16: FP16, bfloat16: BF16 };

/** The attention geometry: every tensor below is in [batch, heads, sequence, head size] order. */
interface Shape {
  readonly batch: number;
  readonly qHeads: number;
  readonly kvHeads: number;
  readonly qLength: number;
  /** Past plus new key/value positions. */
  readonly total: number;
  readonly headSize: number;
  readonly valueHeadSize: number;
}

const Attention: Kernel = (inputs, ctx) => {
  const { dtype, threeD, q, presentKey, presentValue, pastKey, shape } = readInputs(inputs, ctx);
  // qk_matmul_output: 0 scale·Q·Kᵀ, 1 after softcap, 2 after adding the mask, 3 after softmax.
  const mode = ctx.attributes.int('qk_matmul_output_mode', 0);
  if (![0, 1, 2, 3].includes(mode)) throw new EngineError(`qk_matmul_output_mode must be 0, 1, 2 or 3, got ${mode}`);
  checkSoftmaxPrecision(ctx);

  const mul = ctx.multiply.forGroup('multiply');
  const scale = ctx.attributes.float('scale', 1 / Math.sqrt(shape.headSize));
  const scores = scaledScores(mul, shape, q.data, presentKey.data, scale);
  let qkOutput = mode === 0 ? scores.slice() : undefined;
  const softcap = ctx.attributes.float('softcap', 0);
  if (softcap > 0) for (let i = 0; i < scores.length; i++) scores[i] = softcap * Math.tanh(scores[i]! / softcap);
  if (mode === 1) qkOutput = scores.slice();
  const bias = attentionBias(shape, inputs[3], inputs[6], ctx.attributes.int('is_causal', 0) !== 0, pastKey);
  if (bias) addBias(scores, bias);
  if (mode === 2) qkOutput = scores.slice();
  const probabilities = softmaxRows(scores, shape.total, bias);
  const y = weightedValues(mul, shape, probabilities, presentValue.data);

  const { batch, qHeads, qLength, total, valueHeadSize } = shape;
  const yDims = [batch, qHeads, qLength, valueHeadSize];
  const asOutput = outputType(dtype);
  return [
    asOutput(threeD ? mergeHeads(y, yDims) : tensor('float32', yDims, y)),
    asOutput(tensor('float32', presentKey.dims, presentKey.data)),
    asOutput(tensor('float32', presentValue.dims, presentValue.data)),
    asOutput(tensor('float32', [batch, qHeads, qLength, total], qkOutput ?? probabilities)),
  ];
};

/** Q in heads layout, the KV cache with the new keys and values appended, and the geometry. */
function readInputs(inputs: readonly (Value | undefined)[], ctx: KernelContext) {
  const [qIn, kIn, vIn] = ['Q', 'K', 'V'].map((name, i) => expectTensor(inputs[i], name)) as [Tensor, Tensor, Tensor];
  const dtype = qIn.dtype;
  if (!(dtype in OUTPUT_FORMAT))
    throw new EngineError(`Attention supports float32, float16 and bfloat16, got ${dtype}`);
  for (const t of [kIn, vIn]) if (t.dtype !== dtype) throw new EngineError(`Q is ${dtype} but K or V is ${t.dtype}`);
  const threeD = qIn.dims.length === 3;
  const { q, k, v, qHeads, kvHeads } = threeD ? splitHeads(qIn, kIn, vIn, ctx) : fourD(qIn, kIn, vIn);
  const pastKey = optionalTensor(inputs[4], 'past_key');
  const presentKey = appendToCache(pastKey, k, 'key');
  const presentValue = appendToCache(optionalTensor(inputs[5], 'past_value'), v, 'value');
  const shape: Shape = {
    batch: q.dims[0]!,
    qHeads,
    kvHeads,
    qLength: q.dims[2]!,
    total: presentKey.dims[2]!,
    headSize: q.dims[3]!,
    valueHeadSize: presentValue.dims[3]!,
  };
  checkShapes(shape, presentKey, presentValue);
  return { dtype, threeD, q, presentKey, presentValue, pastKey, shape };
}

function optionalTensor(value: Value | undefined, what: string): Tensor | undefined {
  return value === undefined ? undefined : expectTensor(value, what);
}

/** A float tensor's dims and float32 data, in [batch, heads, sequence, head size] order. */
interface Heads {
  readonly dims: number[];
  readonly data: Float32Array;
}

interface HeadTensors {
  readonly q: Heads;
  readonly k: Heads;
  readonly v: Heads;
  readonly qHeads: number;
  readonly kvHeads: number;
}

function fourD(q: Tensor, k: Tensor, v: Tensor): HeadTensors {
  if (q.dims.length !== 4 || k.dims.length !== 4 || v.dims.length !== 4) {
    throw new EngineError(
      `Q, K and V must all be 3-D or all 4-D, got [${q.dims.join(', ')}], [${k.dims.join(', ')}] and [${v.dims.join(', ')}]`,
    );
  }
  const heads = (t: Tensor): Heads => ({ dims: t.dims, data: t.data as Float32Array });
  return { q: heads(q), k: heads(k), v: heads(v), qHeads: q.dims[1]!, kvHeads: k.dims[1]! };
}

/** 3-D inputs [batch, sequence, heads·head size], split into heads by q_num_heads / kv_num_heads. */
function splitHeads(q: Tensor, k: Tensor, v: Tensor, ctx: KernelContext): HeadTensors {
  const qHeads = ctx.attributes.int('q_num_heads');
  const kvHeads = ctx.attributes.int('kv_num_heads');
  const split = (t: Tensor, heads: number, name: string) => {
    if (t.dims.length !== 3 || t.dims[2]! % heads !== 0) {
      throw new EngineError(`${name} of shape [${t.dims.join(', ')}] does not split into ${heads} heads`);
    }
    const [batch, length, hidden] = t.dims as [number, number, number];
    const dims = [batch, length, heads, hidden / heads];
    return { dims: [batch, heads, length, hidden / heads], data: swapMiddleAxes(t.data as Float32Array, dims) };
  };
  return { q: split(q, qHeads, 'Q'), k: split(k, kvHeads, 'K'), v: split(v, kvHeads, 'V'), qHeads, kvHeads };
}

/** [a, b, c, d] → [a, c, b, d]: between [batch, sequence, heads, size] and [batch, heads, sequence, size]. */
function swapMiddleAxes(data: Float32Array, dims: readonly number[]): Float32Array {
  return transposeData(data, dims, [0, 2, 1, 3]) as Float32Array;
}

/** Y [batch, heads, sequence, head size] back to the 3-D layout [batch, sequence, heads·head size]. */
function mergeHeads(y: Float32Array, [batch, heads, length, size]: readonly number[]): Tensor {
  return tensor('float32', [batch!, length!, heads! * size!], swapMiddleAxes(y, [batch!, heads!, length!, size!]));
}

/** present = concat(past, new) along the sequence axis. */
function appendToCache(past: Tensor | undefined, fresh: Heads, what: string): Heads {
  if (!past) return fresh;
  const [batch, heads, pastLength, size] = past.dims as [number, number, number, number];
  if (past.dims.length !== 4 || batch !== fresh.dims[0] || heads !== fresh.dims[1] || size !== fresh.dims[3]) {
    throw new EngineError(
      `past_${what} of shape [${past.dims.join(', ')}] does not fit the new ${what}s [${fresh.dims.join(', ')}]`,
    );
  }
  const newLength = fresh.dims[2]!;
  const out = new Float32Array(batch * heads * (pastLength + newLength) * size);
  const pastData = past.data as Float32Array;
  for (let bh = 0; bh < batch * heads; bh++) {
    const at = bh * (pastLength + newLength) * size;
    out.set(pastData.subarray(bh * pastLength * size, (bh + 1) * pastLength * size), at);
    out.set(fresh.data.subarray(bh * newLength * size, (bh + 1) * newLength * size), at + pastLength * size);
  }
  return { dims: [batch, heads, pastLength + newLength, size], data: out };
}

function checkShapes(shape: Shape, key: Heads, value: Heads): void {
  const { qHeads, kvHeads, headSize } = shape;
  if (kvHeads <= 0 || qHeads % kvHeads !== 0) {
    throw new EngineError(`q_num_heads ${qHeads} is not a multiple of kv_num_heads ${kvHeads}`);
  }
  if (key.dims[3] !== headSize) throw new EngineError(`K's head size ${key.dims[3]} differs from Q's ${headSize}`);
  if (value.dims[2] !== key.dims[2] || value.dims[0] !== key.dims[0] || value.dims[1] !== key.dims[1]) {
    throw new EngineError(`K [${key.dims.join(', ')}] and V [${value.dims.join(', ')}] do not match`);
  }
}

/** softmax_precision names the type softmax runs in; ours runs in double, as precise as any float type. */
function checkSoftmaxPrecision(ctx: KernelContext): void {
  const precision = ctx.attributes.int('softmax_precision', 1);
  const FLOAT_TYPES = [1, 10, 11, 16]; // float, float16, double, bfloat16
  if (!FLOAT_TYPES.includes(precision)) throw new EngineError(`softmax_precision ${precision} is not a float type`);
}

/** A head's block of a prepared [batch, heads, length, size] tensor. */
function headBlock(operand: PreparedOperand, index: number, blockSize: number): PreparedOperand {
  return sliceOperand(operand, index * blockSize, (index + 1) * blockSize);
}

/**
 * For every batch entry and query head h, A's head h times B's KV head h / (qHeads / kvHeads) (Bᵀ with
 * transB): a [batch, qHeads, m, n] result.
 */
function perHeadGemm(mul: MultiplyContext, s: Shape, a: PreparedOperand, b: PreparedOperand, shape: GemmShape) {
  const group = s.qHeads / s.kvHeads;
  const { m, n, k } = shape;
  const out = new Float32Array(s.batch * s.qHeads * m * n);
  for (let batch = 0; batch < s.batch; batch++) {
    for (let h = 0; h < s.qHeads; h++) {
      const head = batch * s.qHeads + h;
      const kvHead = batch * s.kvHeads + Math.floor(h / group);
      out.set(mul.gemm(headBlock(a, head, m * k), headBlock(b, kvHead, n * k), shape), head * m * n);
    }
  }
  return out;
}

/** scale·Q·Kᵀ as [batch, qHeads, qLength, total]. */
function scaledScores(mul: MultiplyContext, s: Shape, q: Float32Array, k: Float32Array, scale: number) {
  const shape = { m: s.qLength, n: s.total, k: s.headSize, transB: true };
  const scores = mul.prepare(perHeadGemm(mul, s, mul.prepare(q), mul.prepare(k), shape));
  const factor = mul.prepare(Float32Array.of(scale));
  return scores.values.map((score) => mul.product(score, factor.values[0]!, scores.scale, factor.scale));
}

/** P·V as [batch, qHeads, qLength, valueHeadSize]. */
function weightedValues(mul: MultiplyContext, s: Shape, p: Float32Array, v: Float32Array): Float32Array {
  const shape = { m: s.qLength, n: s.valueHeadSize, k: s.total };
  return perHeadGemm(mul, s, mul.prepare(p), mul.prepare(v), shape);
}

/**
 * The additive bias [batch, qHeads, qLength, total] from attn_mask (bool: false → −∞; float: added; a mask
 * shorter than `total` is padded with −∞), causal masking and nonpad_kv_seqlen; undefined when there is none.
 * Causal masking is bottom-right aligned: query i sees key j iff j ≤ i + offset, where offset is the past
 * length, else nonpad_kv_seqlen[b] − qLength, else 0.
 */
function attentionBias(
  s: Shape,
  maskValue: Value | undefined,
  nonpadValue: Value | undefined,
  causal: boolean,
  pastKey: Tensor | undefined,
): Float32Array | undefined {
  const mask = optionalTensor(maskValue, 'attn_mask');
  const nonpad = nonpadValue === undefined ? undefined : toNumbers(expectTensor(nonpadValue, 'nonpad_kv_seqlen'));
  if (!mask && !nonpad && !causal) return undefined;
  if (nonpad && nonpad.length !== s.batch) {
    throw new EngineError(`nonpad_kv_seqlen has ${nonpad.length} entries for batch ${s.batch}`);
  }
  const { batch, qHeads, qLength, total } = s;
  const bias = new Float32Array(batch * qHeads * qLength * total);
  if (mask) addMask(bias, mask, s);
  for (let b = 0; b < batch; b++) {
    const offset = pastKey ? pastKey.dims[2]! : nonpad ? nonpad[b]! - qLength : 0;
    const visible = nonpad ? nonpad[b]! : total;
    for (let h = 0; h < qHeads; h++) {
      for (let i = 0; i < qLength; i++) {
        const row = ((b * qHeads + h) * qLength + i) * total;
        for (let j = 0; j < total; j++) {
          if (j >= visible || (causal && j > i + offset)) bias[row + j] = -Infinity;
        }
      }
    }
  }
  return bias;
}

function addMask(bias: Float32Array, mask: Tensor, s: Shape): void {
  const maskLength = mask.dims[mask.dims.length - 1] ?? 1;
  if (mask.dims.length > 4 || maskLength > s.total) {
    throw new EngineError(`attn_mask of shape [${mask.dims.join(', ')}] does not fit scores of ${s.total} keys`);
  }
  const isBool = mask.dtype === 'bool';
  const values = isBool ? undefined : (mask.data as Float32Array);
  const rowCount = s.batch * s.qHeads * s.qLength;
  const index = broadcastIndex(mask.dims, [s.batch, s.qHeads, s.qLength, maskLength]);
  for (let r = 0; r < rowCount; r++) {
    for (let j = 0; j < s.total; j++) {
      if (j >= maskLength) {
        bias[r * s.total + j] = -Infinity;
        continue;
      }
      const at = index[r * maskLength + j]!;
      bias[r * s.total + j] = isBool ? (mask.data[at] ? 0 : -Infinity) : values![at]!;
    }
  }
}

function addBias(scores: Float32Array, bias: Float32Array): void {
  for (let i = 0; i < scores.length; i++) scores[i]! += bias[i]!;
}

/** Softmax over each row of `total` keys; rows whose bias masks every key give zeros rather than NaN. */
function softmaxRows(scores: Float32Array, total: number, bias: Float32Array | undefined): Float32Array {
  const out = new Float32Array(scores.length);
  for (let row = 0; row < scores.length; row += total) {
    if (bias && bias.subarray(row, row + total).every((b) => b === -Infinity)) continue;
    let max = -Infinity;
    for (let j = 0; j < total; j++) max = Math.max(max, scores[row + j]!);
    let sum = 0;
    for (let j = 0; j < total; j++) sum += Math.exp(scores[row + j]! - max);
    for (let j = 0; j < total; j++) out[row + j] = Math.exp(scores[row + j]! - max) / sum;
  }
  return out;
}

/** The engine computes in float32; outputs of a float16/bfloat16 node are rounded into that format. */
function outputType(dtype: DType): (t: Tensor) => Tensor {
  const format = OUTPUT_FORMAT[dtype];
  if (!format) return (t) => t;
  return (t) =>
    tensor(
      dtype,
      t.dims,
      (t.data as Float32Array).map((x) => roundToFormat(x, format)),
    );
}

export const kernels: Record<string, Kernel> = { Attention };
