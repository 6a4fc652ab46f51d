/**
 * How a kernel multiplies: exact fp32, or a multiply scheme of the numerics SPEC (§3–§6). Kernels hand
 * their operand tensors to `prepare` once (operand rounding, fp8 per-tensor scaling) and then use
 * `product` for element-wise products or `gemm` for dot products.
 */
import {
  BF16,
  E4M3,
  E5M2,
  FP16,
  FP32,
  accumulate,
  accumulateStep,
  applyProductRule,
  exponentOf,
  fp32FromBits,
  fp32ToBits,
  fp8ScaleExponent,
  parseScheme,
  pow2,
  productFunction,
  lmulOffsetBits,
  type FloatFormat,
  type ProductFunction,
  type Scheme,
} from '../arith';
import {
  hasProductTable,
  isConstant,
  markConstant,
  wasmBinaryRuns,
  wasmDepthwise2d,
  wasmDepthwiseAdder,
  wasmDepthwiseFormula,
  wasmDepthwiseTable,
  addBlocks,
  isNormalF32PowerOfTwo,
  unscaleAndBias,
  type GemmEpilogue,
  wasmGemm,
  wasmGemmPatches,
  wasmGemmLmulAdder,
  wasmGemmLmulFormula,
  wasmGemmProductTable,
  wasmLmulRuns,
  wasmEncodeFp8,
  wasmFp8ProductRuns,
  wasmPrepareFp8,
  wasmProductTableRuns,
  wasmRoundOperands,
  wasmScaledProductTable,
  fp8Values,
  wasmMagnitudeRange,
  type MagnitudeRange,
  type BroadcastRuns,
  type DepthwiseShape,
  type Fp8Codes,
  type PatchGather,
} from './wasm/kernels';

export type AccumulationName = 'fp32' | 'bf16' | 'fp16' | 'e4m3' | 'e5m2';
export type Fp8Scaling = 'per-tensor' | 'none';
/** SPEC §6 groups of multiplications: `multiply` is always replaced, the others by setting. */
export type MultiplyGroup = 'multiply' | 'normalization' | 'activation';

export interface MultiplyOptions {
  readonly scheme: string;
  readonly accumulation?: AccumulationName;
  readonly fp8Scaling?: Fp8Scaling;
  /** Replace the scale multiplications of normalisation ops and Gemm alpha/beta (default on). */
  readonly replaceNormalization?: boolean;
  /** Replace multiplications inside activations (default off). */
  readonly replaceActivation?: boolean;
}

const ACCUMULATORS: Record<AccumulationName, FloatFormat> = {
  fp32: FP32,
  bf16: BF16,
  fp16: FP16,
  e4m3: E4M3,
  e5m2: E5M2,
};

/** Operand values rounded into the scheme's operand format, times 2^scale (fp8 per-tensor scaling). */
export interface PreparedOperand {
  readonly values: Float32Array;
  readonly scale: number;
  /** The values' fp8 codes, for the product-table schemes (`hasProductTable`). */
  readonly codes?: Fp8Codes;
}

/**
 * A prepared operand of a product-table scheme as its fp8 codes, which is what the table kernels read: the
 * values are decoded from them when first asked for (exactly the rounded values: the codes of a tensor
 * holding NaN or inf come with its values, NaN payloads kept).
 */
class Fp8Operand implements PreparedOperand {
  constructor(
    readonly codes: Fp8Codes,
    readonly scale: number,
    private readonly format: FloatFormat,
    private decoded?: Float32Array,
  ) {}

  get values(): Float32Array {
    return (this.decoded ??= fp8Values(this.format, this.codes.bytes));
  }

  /** Elements [start, end), codes and (once decoded) values. */
  slice(start: number, end: number): Fp8Operand {
    const { bytes, specials } = this.codes;
    const codes = { bytes: bytes.subarray(start, end), specials };
    return new Fp8Operand(codes, this.scale, this.format, this.decoded?.subarray(start, end));
  }

  /** The operand as a rows × cols matrix, transposed. */
  transposed(rows: number, cols: number): Fp8Operand {
    const codes = { bytes: transpose(this.codes.bytes, rows, cols), specials: this.codes.specials };
    return new Fp8Operand(codes, this.scale, this.format, this.decoded && transpose(this.decoded, rows, cols));
  }
}

/** Elements [start, end) of a prepared operand (a batch, group or block of its tensor: the tensor's scale). */
export function sliceOperand(operand: PreparedOperand, start: number, end: number): PreparedOperand {
  if (operand instanceof Fp8Operand) return operand.slice(start, end);
  // The whole tensor stays the same array: caches keyed by it (resident weights) still see it.
  if (start === 0 && end === operand.values.length) return operand;
  return { values: operand.values.subarray(start, end), scale: operand.scale };
}

/** A prepared rows × cols matrix, transposed. */
export function transposeOperand(operand: PreparedOperand, rows: number, cols: number): PreparedOperand {
  if (operand instanceof Fp8Operand) return operand.transposed(rows, cols);
  return { values: transpose(operand.values, rows, cols), scale: operand.scale };
}

export interface GemmShape {
  readonly m: number;
  readonly n: number;
  readonly k: number;
  /** A is stored k×m instead of m×k. */
  readonly transA?: boolean;
  /** B is stored n×k instead of k×n. */
  readonly transB?: boolean;
  /** Added to every element of row i after its dot product (and unscaling), in the result's type: a Conv bias. */
  readonly rowBias?: Float32Array | Float64Array;
}

/** A GEMM of m weight rows by a convolution's patch matrix: positions [from, from + width) of `channels` planes. */
export interface PatchesShape {
  readonly m: number;
  readonly channels: number;
  readonly from: number;
  readonly width: number;
  readonly rowBias?: Float32Array | Float64Array;
}

/** See `MultiplyContext.productsOf`. */
export type ProductRuns = (
  out: Float32Array,
  o: number,
  count: number,
  i: number,
  stepA: number,
  j: number,
  stepB: number,
) => void;

export class MultiplyContext {
  readonly scheme: Scheme;
  readonly accumulator: FloatFormat;
  readonly fp8Scaling: Fp8Scaling;
  /** Plain fp32 arithmetic: no rounding of operands or products beyond fp32's own. */
  readonly isExact: boolean;
  /**
   * Products of prepared operands are plain a·b, exact in fp32 (exact rule, no product format, operand
   * values whose products fit fp32's significand and range) and summed in fp32: kernels may multiply and
   * sum directly, then unscale by 2^−(sa+sb). Exact mode, fp16, e4m3 and e5m2; not bf16 (its products
   * can overflow fp32).
   */
  readonly plainProducts: boolean;
  private readonly groups: Record<MultiplyGroup, boolean>;
  private readonly prepared = new WeakMap<Float32Array, PreparedOperand>();
  private exactContext: MultiplyContext | undefined;

  constructor(options: MultiplyOptions) {
    this.scheme = parseScheme(options.scheme);
    this.accumulator = ACCUMULATORS[options.accumulation ?? 'fp32'];
    this.fp8Scaling = options.fp8Scaling ?? 'per-tensor';
    this.groups = {
      multiply: true,
      normalization: options.replaceNormalization ?? true,
      activation: options.replaceActivation ?? false,
    };
    this.isExact = this.scheme.preset === 'exact' && this.accumulator === FP32;
    const { rule, productFormat, operandFormat: f } = this.scheme;
    const productsFitFp32 = 2 * (f.manBits + 1) <= 24 && f.emax <= 63 && 2 * (f.emin - f.manBits) >= -149;
    this.plainProducts =
      this.isExact || (rule === 'exact' && !productFormat && this.accumulator === FP32 && productsFitFp32);
    this.product = this.isExact ? (a, b) => Math.fround(a * b) : productFunction(this.scheme);
  }

  static exact(): MultiplyContext {
    return new MultiplyContext({ scheme: 'exact' });
  }

  /** The context for one group of multiplications: exact where the scheme does not replace that group. */
  forGroup(group: MultiplyGroup): MultiplyContext {
    if (this.groups[group] || this.isExact) return this;
    return (this.exactContext ??= MultiplyContext.exact());
  }

  /** Operand rounding (and fp8 scaling) of a whole tensor; cached per array, so weights are prepared once. */
  prepare(values: Float32Array): PreparedOperand {
    if (this.isExact) return { values, scale: 0 };
    const cached = this.prepared.get(values);
    if (cached) return cached;
    const { operandFormat, operandRounding } = this.scheme;
    const scaleFor = this.fp8ScaleFor();
    if (hasProductTable(this.scheme)) {
      // The table kernels read codes: rounded and encoded in one pass, no f32 values copied out.
      const fp8 = wasmPrepareFp8(values, operandFormat, operandRounding, scaleFor);
      const operand = new Fp8Operand(fp8.codes, fp8.scale, operandFormat, fp8.values);
      this.prepared.set(values, operand);
      return operand;
    }
    // The lmul rules read an operand's magnitude range (adder plans, finiteness): found as it is rounded.
    const lmul = this.scheme.rule === 'lmul-adder' || this.scheme.rule === 'lmul-formula';
    const { range, ...operand } = wasmRoundOperands(values, operandFormat, operandRounding, scaleFor, lmul);
    if (range !== undefined) preparedRanges.set(operand.values, range);
    // Prepared weights are constants too: kernels may keep them (and what they make of them) resident.
    if (isConstant(values)) markConstant(operand.values);
    this.prepared.set(values, operand);
    return operand;
  }

  /** The scale exponent s of an operand tensor whose largest finite magnitude is `amax` (SPEC §4; 0: none). */
  operandScale(amax: number): number {
    const { fp8, operandFormat } = this.scheme;
    return fp8 && this.fp8Scaling === 'per-tensor' ? fp8ScaleExponent(amax, operandFormat) : 0;
  }

  /** `operandScale` as operand preparation takes it: null where tensors are not scaled. */
  private fp8ScaleFor(): ((amax: number) => number) | null {
    const { fp8 } = this.scheme;
    return fp8 && this.fp8Scaling === 'per-tensor' ? (amax: number) => this.operandScale(amax) : null;
  }

  /** One product of prepared operand values (scale exponents from their tensors), rounded to fp32. */
  readonly product: ProductFunction;

  /**
   * Element-wise products of two prepared operand tensors, one run at a time: `fill(out, o, count, i,
   * stepA, j, stepB)` sets out[o + t] to the scheme product of a.values[i + t·stepA] and
   * b.values[j + t·stepB]. Loops are specialised per rule; product-format schemes look products up in a table.
   */
  productsOf(a: PreparedOperand, b: PreparedOperand): ProductRuns {
    if (hasProductTable(this.scheme)) {
      const [codesA, codesB] = [this.codesOf(a).bytes, this.codesOf(b).bytes];
      const table = wasmScaledProductTable(this.scheme, a.scale + b.scale);
      return (out, o, count, i, stepA, j, stepB) => {
        for (let t = 0; t < count; t++, i += stepA, j += stepB) out[o + t] = table[(codesA[i]! << 8) | codesB[j]!]!;
      };
    }
    const [valuesA, valuesB] = [a.values, b.values];
    if (this.scheme.rule === 'exact') {
      // Prepared operands have at most 24 significant bits: a·b and the power-of-two unscale are exact in
      // a double, and the Float32Array store is the one rounding.
      const unscale = pow2(-(a.scale + b.scale));
      return (out, o, count, i, stepA, j, stepB) => {
        for (let t = 0; t < count; t++, i += stepA, j += stepB) out[o + t] = valuesA[i]! * valuesB[j]! * unscale;
      };
    }
    const { product } = this;
    const [sa, sb] = [a.scale, b.scale];
    return (out, o, count, i, stepA, j, stepB) => {
      for (let t = 0; t < count; t++, i += stepA, j += stepB) out[o + t] = product(valuesA[i]!, valuesB[j]!, sa, sb);
    };
  }

  /**
   * Element-wise products of two prepared operand tensors over a broadcast in WebAssembly, bit for bit
   * `productsOf`; null for the schemes no kernel covers (bf16, fp16/fp8 with a non-plain rule…).
   */
  productRuns(a: PreparedOperand, b: PreparedOperand, plan: BroadcastRuns): Float32Array | null {
    const scales = a.scale + b.scale;
    const { rule, operandFormat } = this.scheme;
    if (this.plainProducts) {
      // Each product is exact in fp32, so the f32 product then the power-of-two unscale round once.
      const out = wasmBinaryRuns('mul', plan, a.values, b.values);
      return unscaleAndBias(out, { scale: pow2(-scales) }, out.length);
    }
    if (hasProductTable(this.scheme))
      return wasmProductTableRuns(this.scheme, plan, this.codesOf(a), this.codesOf(b), scales);
    if ((rule === 'lmul-adder' || rule === 'lmul-formula') && scales === 0)
      return wasmLmulRuns(rule, pow2(-lmulOffsetBits(operandFormat.manBits)), plan, a.values, b.values);
    return null;
  }

  /**
   * Element-wise products of two tensors' values under a product-table scheme over a broadcast, the
   * operands prepared inside the product kernel (or taken from `prepare`'s cache), each product computed
   * rather than looked up: bit for bit `productRuns(prepare(a), prepare(b), plan)`. Null for the other
   * schemes and where that kernel declines (see `wasmFp8ProductRuns`).
   */
  fp8ProductRuns(a: Float32Array, b: Float32Array, plan: BroadcastRuns): Float32Array | null {
    if (!hasProductTable(this.scheme)) return null;
    // An operand each of whose elements serves a whole run (a scalar, a per-channel factor: mostly
    // constants) is prepared once and cached, so that the kernel does not round it again for every output.
    const prepared = (values: Float32Array, step: number) =>
      step === 0 ? this.prepare(values) : this.prepared.get(values);
    const [preparedA, preparedB] = [prepared(a, plan.step[0]!), prepared(b, plan.step[1]!)];
    if (preparedA?.codes?.specials || preparedB?.codes?.specials) return null;
    const scaleFor = this.fp8ScaleFor();
    const [operandA, operandB] = [preparedA ?? { values: a, scaleFor }, preparedB ?? { values: b, scaleFor }];
    return wasmFp8ProductRuns(this.scheme, this.scheme.operandRounding, plan, operandA, operandB);
  }

  /** Sum of already fp32-rounded products in the accumulation format (SPEC §5). */
  accumulate(products: ArrayLike<number>): number {
    return accumulate(products, this.accumulator);
  }

  /** C = A·B (m×n, row-major) under the scheme, from prepared operands, plus `shape.rowBias` if given. */
  gemm(a: PreparedOperand, b: PreparedOperand, shape: GemmShape): Float32Array {
    const { m, n, k, rowBias } = shape;
    if (this.accumulator === FP32 && hasProductTable(this.scheme)) {
      const codesA = this.codesOf(shape.transA ? transposeOperand(a, k, m) : a);
      const codesB = this.codesOf(shape.transB ? transposeOperand(b, n, k) : b);
      return wasmGemmProductTable(this.scheme, codesA, codesB, m, n, k, a.scale + b.scale, rowBias);
    }
    const A = shape.transA ? transpose(a.values, k, m) : a.values;
    const B = shape.transB ? transpose(b.values, n, k) : b.values;
    const { rule, productFormat, operandFormat } = this.scheme;
    if (this.accumulator !== FP32 || productFormat)
      return addBlocks(this.gemmScalar(A, B, m, n, k, a.scale, b.scale), rowBias, n);
    const unscale = pow2(-(a.scale + b.scale));
    const plan = rule === 'lmul-adder' ? adderPlan(A, B, lmulOffsetBits(operandFormat.manBits)) : null;
    // The f32 GEMM, the formula's and the adder kernel add the bias (and the f32 GEMM the unscaling) as they
    // store (lmul operands are never scaled).
    const storing = rule === 'exact' || ((rule === 'lmul-formula' || plan !== null) && unscale === 1);
    const stored = storing ? storedEpilogue(unscale, rowBias) : null;
    let out: Float32Array;
    if (rule === 'exact') out = wasmGemm(A, B, m, n, k, stored ?? {});
    else if (rule === 'lmul-formula') out = gemmLmulFormula(A, B, { m, n, k }, operandFormat.manBits, stored?.rowBias);
    else if (plan) out = wasmGemmLmulAdder(plan.A, plan.B, { m, n, k }, plan, stored?.rowBias);
    else out = gemmLmulAdderScalar(A, B, m, n, k, operandFormat.manBits);
    return finished(out, unscale, rowBias, n, stored);
  }

  /**
   * C = A·P for a convolution's patch matrix P of prepared image planes `x` (positions [from, from + width)
   * of `channels` planes), P built in WebAssembly next to the GEMM: exactly `gemm(a, im2col(x))`. For fp32
   * accumulation under the exact rule (one f32 GEMM; not where an injected GEMM pool splits it), a product table, the
   * lmul adder (its plan from the planes' range; not for inf/NaN planes or too wide a range) or the lmul
   * formula (finite operands); null
   * otherwise — the caller then builds P and calls `gemm`.
   */
  gemmPatches(a: PreparedOperand, x: PreparedOperand, table: PatchGather, shape: PatchesShape): Float32Array | null {
    const { rule, productFormat } = this.scheme;
    const { m, channels, from, width, rowBias } = shape;
    if (this.accumulator !== FP32) return null;
    if (hasProductTable(this.scheme)) {
      const patches = { planes: this.codesOf(x), table, channels, from };
      const k = channels * table.taps;
      return wasmGemmProductTable(this.scheme, this.codesOf(a), patches, m, width, k, a.scale + x.scale, rowBias);
    }
    if (productFormat) return null;
    const unscale = pow2(-(a.scale + x.scale));
    // The lmul formula's GEMM of inner size 2k is an f32 GEMM too, and the adder kernel adds a bias as it
    // stores (lmul operands are never scaled).
    const storing = rule === 'exact' || unscale === 1;
    const stored = storing ? storedEpilogue(unscale, rowBias) : null;
    let out: Float32Array | null = null;
    if (rule === 'exact') out = wasmGemmPatches(a.values, x.values, table, { m, channels, from, width }, stored ?? {});
    else if (rule === 'lmul-adder') {
      // The planes' magnitude range bounds every patch entry's, so a plan for the planes holds for the patch
      // matrix (and where it exists, so does the patch matrix's own: every product is the same either way).
      const plan = adderPlan(a.values, x.values, lmulOffsetBits(this.scheme.operandFormat.manBits));
      if (!plan) return null;
      const k = channels * table.taps;
      const patches = { planes: plan.B, table, channels, from };
      out = wasmGemmLmulAdder(plan.A, patches, { m, n: width, k }, plan, stored?.rowBias);
    } else if (rule === 'lmul-formula') {
      // Finite weights and planes make a finite patch matrix: no product for fixSpecialProducts to redo.
      if (!magnitudeRange(a.values) || !magnitudeRange(x.values)) return null;
      const c = pow2(-lmulOffsetBits(this.scheme.operandFormat.manBits));
      const k = channels * table.taps;
      const patches = { planes: x.values, table, channels, from };
      out = wasmGemmLmulFormula(a.values, patches, { m, n: width, k }, c, stored?.rowBias);
    }
    return out && finished(out, unscale, rowBias, width, stored);
  }

  /**
   * A depthwise convolution of prepared operands (x [N, C, H, W], w [C·multiplier, 1, kh, kw]) by a direct
   * WebAssembly kernel, bit for bit what one `gemm` per channel (weights × patch matrix) gives, plus
   * `channelBias` per output channel in f32 if given; null where no kernel covers the scheme or operands
   * (narrow accumulators, bf16, inf/NaN for the lmul rules…).
   */
  depthwise(
    x: PreparedOperand,
    w: PreparedOperand,
    shape: DepthwiseShape,
    channelBias?: Float32Array,
  ): Float32Array | null {
    if (this.plainProducts) return wasmDepthwise2d(x.values, w.values, shape, pow2(-(x.scale + w.scale)), channelBias);
    if (this.scheme.rule === 'lmul-adder' && this.accumulator === FP32) {
      // The adder kernel adds the bias as it stores its sums.
      const plan = adderPlan(w.values, x.values, lmulOffsetBits(this.scheme.operandFormat.manBits));
      return plan && wasmDepthwiseAdder(plan.B, plan.A, shape, plan, channelBias);
    }
    const out = this.depthwiseProducts(x, w, shape);
    return out && addBlocks(out, channelBias, shape.output[0] * shape.output[1]);
  }

  /** `depthwise` without a bias, for the rules whose kernels do not add one (product tables, the formula). */
  private depthwiseProducts(x: PreparedOperand, w: PreparedOperand, shape: DepthwiseShape): Float32Array | null {
    const scales = x.scale + w.scale;
    if (this.accumulator !== FP32) return null;
    if (hasProductTable(this.scheme))
      return wasmDepthwiseTable(this.scheme, this.codesOf(x), this.codesOf(w), shape, scales);
    const { rule, operandFormat } = this.scheme;
    if (scales !== 0) return null;
    const offsetBits = lmulOffsetBits(operandFormat.manBits);
    if (rule === 'lmul-formula' && magnitudeRange(x.values) && magnitudeRange(w.values))
      return wasmDepthwiseFormula(x.values, w.values, shape, pow2(-offsetBits));
    return null;
  }

  /**
   * The fp8 codes of a prepared operand of a product-table scheme: those `prepare` made, or encoded from the
   * values of one assembled from prepared values (a transposed or gathered block).
   */
  private codesOf(operand: PreparedOperand): Fp8Codes {
    return operand.codes ?? wasmEncodeFp8(this.scheme.operandFormat, operand.values);
  }

  /**
   * Products one by one (product formats, narrow accumulators). A narrow accumulator is bit-exact SPEC §5:
   * each element sums k = 0, 1, … rounding after every addition; fp32 accumulation sums in double.
   */
  private gemmScalar(A: Float32Array, B: Float32Array, m: number, n: number, k: number, sa: number, sb: number) {
    const out = new Float32Array(m * n);
    const acc = new Float64Array(n);
    const narrow = this.accumulator === FP32 ? null : this.accumulator;
    for (let i = 0; i < m; i++) {
      acc.fill(0);
      for (let p = 0; p < k; p++) {
        const a = A[i * k + p]!;
        const row = p * n;
        if (narrow)
          for (let j = 0; j < n; j++) acc[j] = accumulateStep(acc[j]!, this.product(a, B[row + j]!, sa, sb), narrow);
        else for (let j = 0; j < n; j++) acc[j]! += this.product(a, B[row + j]!, sa, sb);
      }
      out.set(acc, i * n);
    }
    return out;
  }
}

export function transpose<T extends Float32Array | Uint8Array>(values: T, rows: number, cols: number): T {
  const out = new (values.constructor as new (length: number) => T)(values.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = values[r * cols + c]!;
  return out;
}

/** Sign·2^floor(log2|x|) (E(x) of the engine design), and x itself for zeros and non-finite x. */
function powerOfTwoPart(x: number): number {
  if (x === 0 || !Number.isFinite(x) || x !== x) return x;
  const e = pow2(exponentOf(Math.abs(x)));
  return x < 0 ? -e : e;
}

/**
 * lmul-formula as an ordinary GEMM of inner size 2K: with E(x) = sign·2^⌊log2|x|⌋ and c = 2^-l(M),
 * formula(a, b) = (a + c·E(a))·E(b) + E(a)·(b − E(b)), and every one of these products is exact (operand
 * transforms and GEMM in WebAssembly). `rowBias` is added per row in the kernel, or after the sums with
 * non-finite operands are redone.
 */
function gemmLmulFormula(A: Float32Array, B: Float32Array, shape: GemmShape, manBits: number, rowBias?: Float32Array) {
  const { m, n, k } = shape;
  const c = pow2(-lmulOffsetBits(manBits));
  if (magnitudeRange(A) && magnitudeRange(B)) return wasmGemmLmulFormula(A, B, shape, c, rowBias);
  const out = wasmGemmLmulFormula(A, B, shape, c);
  fixSpecialProducts(out, A, B, m, n, k, (a, b) => applyProductRule('lmul-formula', manBits, a, b));
  return addBlocks(out, rowBias, n);
}

/** The magnitude ranges of prepared operands, computed as they are rounded. */
const preparedRanges = new WeakMap<Float32Array, MagnitudeRange>();

/**
 * What an f32 GEMM can apply as it stores its sums — the unscaling by 2^−(sa+sb) (a normal f32) and a
 * float32 bias — or null when the caller applies them after it.
 */
function storedEpilogue(unscale: number, rowBias: Float32Array | Float64Array | undefined): GemmEpilogue | null {
  if (!isNormalF32PowerOfTwo(unscale) || (rowBias && !(rowBias instanceof Float32Array))) return null;
  return { scale: unscale, rowBias };
}

/** A GEMM result unscaled and biased, as far as the GEMM did not do it as it stored (`stored`). */
function finished(
  out: Float32Array,
  unscale: number,
  rowBias: Float32Array | Float64Array | undefined,
  n: number,
  stored: GemmEpilogue | null,
): Float32Array {
  return stored ? out : unscaleAndBias(out, { scale: unscale, rowBias }, n);
}

/** Bit-pattern range of an operand tensor's nonzero magnitudes, or null if it holds inf or NaN. */
function magnitudeRange(values: Float32Array): MagnitudeRange {
  const known = preparedRanges.get(values);
  return known !== undefined ? known : wasmMagnitudeRange(values);
}

/** values·2^binades (exact: no value leaves fp32's range) and its magnitude range, the extremes' images. */
function scaledUp(values: Float32Array, range: { low: number; high: number }, binades: number) {
  const factor = 2 ** binades;
  const out = new Float32Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = values[i]! * factor;
  const image = (bits: number) => fp32ToBits(fp32FromBits(bits) * factor);
  return { values: out, range: { low: image(range.low), high: image(range.high) } };
}

/**
 * How the integer-add kernel runs on A and B: a tensor holding subnormals is scaled by the power of two
 * 2^d that makes them normal (exact; the kernel's offset grows by d binades to compensate), and `bias`
 * shifts the range of every possible pattern sum into [0, 2^32); `rangeB` lets the kernel see which A
 * operands' products all stay normal. Null (the scalar path) for inf/NaN
 * operands, a tensor spanning too many binades to be scaled, or a sum range wider than 2^32.
 */
function adderPlan(A: Float32Array, B: Float32Array, offsetBits: number) {
  let offset = 0x3f800000 - 2 ** (23 - offsetBits);
  let lowest = 0;
  let highest = 0;
  const operands: Float32Array[] = [];
  const ranges: { low: number; high: number }[] = [];
  for (let values of [A, B]) {
    let range = magnitudeRange(values);
    if (!range) return null;
    if (range.low < 0x00800000) {
      const binades = -126 - exponentOf(range.low * 2 ** -149); // a subnormal's value is its pattern·2^-149
      if (range.high + binades * 0x00800000 >= 0x7f800000) return null;
      ({ values, range } = scaledUp(values, range, binades));
      offset += binades * 0x00800000;
    }
    operands.push(values);
    ranges.push(range);
    lowest += range.low;
    highest += range.high;
  }
  // (An all-zero operand leaves lowest > highest: its products are all masked, any bias will do.)
  if (highest - lowest >= 2 ** 32 - 1) return null;
  // Carried sums lie in [0, 2^32 − 1); the thresholds are clamped so that unsigned comparisons never wrap.
  const bias = offset - lowest;
  const clamp = (v: number) => Math.min(Math.max(v, 0), 2 ** 32 - 1) | 0;
  return {
    A: operands[0]!,
    B: operands[1]!,
    offset,
    bias: bias | 0,
    overflowAt: clamp(bias + 0x7f800000),
    normalAt: clamp(bias + 0x00800000),
    rangeA: ranges[0]!,
    rangeB: ranges[1]!,
  };
}

/**
 * lmul-adder, scalar: with a = E(a)(1+ma), the adder's product is E(a)E(b)·g(ma + mb + c), where the carry
 * of the mantissa sum t spills into the exponent: g(t) = 1+t (t < 1), 2t (1 ≤ t < 2), 4t−4 (t ≥ 2).
 */
function gemmLmulAdderScalar(A: Float32Array, B: Float32Array, m: number, n: number, k: number, manBits: number) {
  const c = pow2(-lmulOffsetBits(manBits));
  const [expA, manA] = decompose(A);
  const [expB, manB] = decompose(B);
  const sums = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let p = 0; p < k; p++) {
      const ea = expA[i * k + p]!;
      if (ea === 0) continue;
      const ma = manA[i * k + p]! + c;
      const bRow = p * n;
      for (let j = 0; j < n; j++) {
        const t = ma + manB[bRow + j]!;
        const g = t < 1 ? 1 + t : t < 2 ? 2 * t : 4 * t - 4;
        sums[i * n + j] += Math.fround(ea * expB[bRow + j]! * g);
      }
    }
  }
  const out = Float32Array.from(sums);
  fixSpecialProducts(out, A, B, m, n, k, (a, b) => applyProductRule('lmul-adder', manBits, a, b));
  return out;
}

/** E(x) and the mantissa fraction of every element (E = x and fraction 0 for zeros and specials). */
function decompose(values: Float32Array): [Float64Array, Float64Array] {
  const exps = new Float64Array(values.length);
  const mans = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const x = values[i]!;
    const e = powerOfTwoPart(x);
    exps[i] = e;
    mans[i] = x === 0 || !Number.isFinite(x) ? 0 : x / e - 1;
  }
  return [exps, mans];
}

/**
 * Rows or columns holding a non-finite operand get their sums recomputed product by product, so that
 * inf·0 = NaN and inf·x = ±inf follow SPEC §3 even where the fast loops skip zero operands.
 */
function fixSpecialProducts(
  out: Float32Array,
  A: Float32Array,
  B: Float32Array,
  m: number,
  n: number,
  k: number,
  rule: (a: number, b: number) => number,
): void {
  // Finite operands (their magnitude ranges exist, known for prepared ones) leave nothing to recompute.
  if (magnitudeRange(A) && magnitudeRange(B)) return;
  const specialRows = new Set<number>();
  const specialCols = new Set<number>();
  for (let i = 0; i < m * k; i++) if (!Number.isFinite(A[i]!)) specialRows.add(Math.floor(i / k));
  for (let i = 0; i < k * n; i++) if (!Number.isFinite(B[i]!)) specialCols.add(i % n);
  if (specialRows.size === 0 && specialCols.size === 0) return;
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      if (!specialRows.has(i) && !specialCols.has(j)) continue;
      let sum = 0;
      for (let p = 0; p < k; p++) sum += Math.fround(rule(A[i * k + p]!, B[p * n + j]!));
      out[i * n + j] = sum;
    }
  }
}
