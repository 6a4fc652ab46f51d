/**
 * Conv and ConvTranspose as one scheme GEMM per (image, group): Conv multiplies the group's weights
 * [M/g, C/g·taps] by the im2col patch matrix of the prepared input; ConvTranspose multiplies the
 * transposed weights by the prepared input and scatters the patch matrix back with col2im. Inputs and
 * weights are prepared as whole tensors (padding zeros stay zero), the bias is added in fp32 afterwards (by the
 * f32 GEMM as it stores its sums, where it can).
 */
import { FP32 } from '../../arith';
import type { Tensor } from '../../onnx';
import { expectTensor } from '../tensors';
import { addBlocks, wasmCol2imAdd, type DepthwiseShape } from '../wasm/kernels';
import { EngineError, type Kernel, type KernelContext, type Value } from '../types';
import {
  col2imAdd,
  depthwisePlane,
  im2col,
  patchTable,
  windowSizes,
  planeWindows,
  slidingWindow,
  spatialInts,
  type PatchTable,
  type WindowGeometry,
} from './conv-geometry';
import { arithmeticFor, withoutZeroPoint, type Arithmetic, type Numeric, type Operand } from './scheme-arithmetic';

interface ConvInputs {
  readonly x: Tensor;
  readonly w: Tensor;
  readonly bias: Tensor | undefined;
  readonly group: number;
}

function convInputs(op: string, inputs: readonly (Value | undefined)[], ctx: KernelContext): ConvInputs {
  const x = expectTensor(inputs[0], `${op} input X`);
  const w = expectTensor(inputs[1], `${op} input W`);
  const bias = inputs[2] === undefined ? undefined : expectTensor(inputs[2], `${op} input B`);
  if (x.dims.length < 3 || w.dims.length !== x.dims.length) {
    throw new EngineError(`${op} needs X and W of equal rank >= 3, got [${x.dims}] and [${w.dims}]`);
  }
  const kernel = ctx.attributes.ints('kernel_shape', w.dims.slice(2));
  if (kernel.join() !== w.dims.slice(2).join()) {
    throw new EngineError(`${op} kernel_shape [${kernel}] differs from the weight's spatial dims [${w.dims.slice(2)}]`);
  }
  return { x, w, bias, group: ctx.attributes.int('group', 1) };
}

/** The arithmetic of a float convolution, whose inputs must share one dtype. */
function floatArithmetic(op: string, ctx: KernelContext, { x, w, bias }: ConvInputs): Arithmetic {
  const other = [w, bias].find((t) => t && t.dtype !== x.dtype);
  if (other) throw new EngineError(`${op} inputs must share one dtype, got ${x.dtype} and ${other.dtype}`);
  return arithmeticFor(ctx.multiply, x.dtype);
}

/** Prepared operands of a Conv: the input [N, C, ...] and the weights [M, C/group, ...kernel]. */
interface ConvOperands {
  readonly x: Operand;
  readonly xDims: readonly number[];
  readonly w: Operand;
  readonly wDims: readonly number[];
  readonly group: number;
}

/** Largest patch matrix built at once (elements): large feature maps are convolved in column tiles. */
const MAX_PATCH_ELEMENTS = 1 << 22;

/** The convolution: [N, M, ...output] values and dims, with `bias` (one per output channel) added if given. */
function convolve(ctx: KernelContext, arith: Arithmetic, operands: ConvOperands, bias?: Numeric) {
  const { xDims, wDims, group } = operands;
  const [batch, channels] = xDims as [number, number];
  const [outChannels, groupChannels] = wDims as [number, number];
  if (group < 1 || channels !== groupChannels * group || outChannels % group !== 0) {
    throw new EngineError(`X has ${channels} channels, W [${wDims}] and group ${group} do not fit`);
  }
  const geometry = slidingWindow(ctx, xDims.slice(2), wDims.slice(2));
  const dims = [batch, outChannels, ...geometry.positions];
  // Depthwise layers with small windows (3×3, 5×5, 7×7) are faster summed directly than through a patch
  // matrix; a single-channel convolution with a long kernel (a learned STFT) is a real GEMM.
  const depthwise = groupChannels === 1 && group > 1 && windowSizes(geometry).taps <= 49;
  const shape = depthwise && xDims.length <= 4 ? depthwiseShape(operands, geometry) : null;
  const direct = shape && arith.depthwise(operands.x, operands.w, shape, bias);
  if (direct) return { dims, values: direct };
  // float32 convolutions that no direct kernel takes are GEMMs; integer and double ones sum exactly in doubles.
  if (!(depthwise && arith.dtype !== 'float32'))
    return { dims, values: convolveByGemm(arith, operands, geometry, bias) };
  const table = patchTable(geometry);
  const values = arith.allocate(batch * outChannels * table.positions);
  convolveDepthwise(table, operands, values);
  return { dims, values: addBlocks(values, bias, table.positions) };
}

/**
 * Per (image, group): weights [M/g, C/g·taps] times the patch matrix, tile by tile of positions. When one
 * GEMM covers the whole output (one image, one group, one tile), its result is the output, not copied.
 */
function convolveByGemm(
  arith: Arithmetic,
  { x, xDims, w, wDims, group }: ConvOperands,
  geometry: WindowGeometry,
  bias: Numeric | undefined,
): Numeric {
  const [batch, channels] = xDims as [number, number];
  const [outChannels, groupChannels] = wDims as [number, number];
  const { taps, positions, imageSize } = windowSizes(geometry);
  const groupOut = outChannels / group;
  const inner = groupChannels * taps;
  // A 1×1 kernel with stride 1 and no padding reads the input planes as they are: no patch matrix.
  const pointwise = taps === 1 && positions === imageSize && geometry.padsBegin.every((p) => p === 0);
  const tile = Math.max(1, Math.min(positions, Math.floor(MAX_PATCH_ELEMENTS / inner)));
  // The patch table (not for pointwise Convs), and the patch matrix, built in JS only where `gemmPatches` declines.
  let table: PatchTable | undefined;
  let patchMatrix: Numeric | null = null;
  const col = () => (patchMatrix ??= arith.allocate(inner * tile));
  const single = batch === 1 && group === 1 && tile === positions;
  const out = single ? null : arith.allocate(batch * outChannels * positions);
  for (let n = 0; n < batch; n++) {
    for (let g = 0; g < group; g++) {
      const start = (n * channels + g * groupChannels) * imageSize;
      const outStart = (n * outChannels + g * groupOut) * positions;
      const groupWeights = arith.slice(w, g * groupOut * inner, (g + 1) * groupOut * inner);
      const rowBias = bias?.subarray(g * groupOut, (g + 1) * groupOut);
      if (pointwise) {
        const patches = arith.slice(x, start, start + groupChannels * imageSize);
        const y = arith.gemm(groupWeights, patches, { m: groupOut, n: positions, k: inner, rowBias });
        if (!out) return y;
        out.set(y, outStart);
        continue;
      }
      const planes = arith.slice(x, start, start + groupChannels * imageSize);
      table ??= patchTable(geometry);
      for (let from = 0; from < positions; from += tile) {
        const width = Math.min(tile, positions - from);
        const shape = { m: groupOut, channels: groupChannels, from, width, rowBias };
        let y = arith.gemmPatches(groupWeights, planes, table, shape);
        if (!y) {
          const patches = col().subarray(0, inner * width);
          im2col(table, x.values, start, groupChannels, patches, from, from + width);
          y = arith.gemm(
            groupWeights,
            { values: patches, scale: x.scale },
            { m: groupOut, n: width, k: inner, rowBias },
          );
        }
        if (!out) return y;
        for (let r = 0; r < groupOut; r++)
          out.set(y.subarray(r * width, (r + 1) * width), outStart + r * positions + from);
      }
    }
  }
  return out!; // null only when one GEMM covers the output, which returned above
}

/** A 1-D or 2-D depthwise convolution's shape for the WebAssembly kernel (1-D as one row). */
function depthwiseShape({ xDims, wDims }: ConvOperands, g: WindowGeometry): DepthwiseShape {
  return planeWindows(g, { batch: xDims[0]!, channels: xDims[1]!, multiplier: wDims[0]! / xDims[1]! });
}

/** One input channel per group, unscaled operands of integer or double convolutions: direct per-plane sums in doubles. */
function convolveDepthwise(table: PatchTable, { x, xDims, w, wDims, group }: ConvOperands, out: Numeric): void {
  const [batch, channels] = xDims as [number, number];
  const outChannels = wDims[0]!;
  const groupOut = outChannels / group;
  const acc = new Float64Array(table.positions);
  for (let n = 0; n < batch; n++) {
    for (let m = 0; m < outChannels; m++) {
      const plane = (n * channels + Math.floor(m / groupOut)) * table.imageSize;
      depthwisePlane(table, x.values, plane, w.values, m * table.taps, acc);
      out.set(acc, (n * outChannels + m) * table.positions);
    }
  }
}

const Conv: Kernel = (inputs, ctx) => {
  const conv = convInputs('Conv', inputs, ctx);
  const arith = floatArithmetic('Conv', ctx, conv);
  const { x, w, bias, group } = conv;
  const operands = {
    x: arith.prepare(arith.values(x)),
    xDims: x.dims,
    w: arith.prepare(arith.values(w)),
    wDims: w.dims,
  };
  const biasValues = bias && channelBias(arith.values(bias), w.dims[0]!);
  const { dims, values } = convolve(ctx, arith, { ...operands, group }, biasValues);
  return [arith.output(dims, values)];
};

/** Integer convolution of (x − x_zero_point) and (w − w_zero_point, one per output channel) into int32. */
const ConvInteger: Kernel = (inputs, ctx) => {
  const { x, w, group } = convInputs('ConvInteger', [inputs[0], inputs[1]], ctx);
  const arith = arithmeticFor(ctx.multiply, 'int32');
  const xValues = withoutZeroPoint(x, inputs[2], { perBlock: 1, blockSize: x.data.length });
  // w_zero_point is a scalar or one per output channel.
  const wValues = withoutZeroPoint(w, inputs[3], { perBlock: w.dims[0]!, blockSize: w.data.length / w.dims[0]! });
  const operands = { x: arith.prepare(xValues), xDims: x.dims, w: arith.prepare(wValues), wDims: w.dims, group };
  const { dims, values } = convolve(ctx, arith, operands);
  return [arith.output(dims, values)];
};

/** Bias per output channel, added after the dot products (in fp32 for float32 outputs: SPEC §5). */
function channelBias(bias: Numeric, channels: number): Numeric {
  if (bias.length !== channels) throw new EngineError(`bias has ${bias.length} elements, expected ${channels}`);
  return bias;
}

const ConvTranspose: Kernel = (inputs, ctx) => {
  const conv = convInputs('ConvTranspose', inputs, ctx);
  const arith = floatArithmetic('ConvTranspose', ctx, conv);
  const { x, w, bias, group } = conv;
  const [batch, channels] = x.dims as [number, number];
  const [weightChannels, groupOut] = w.dims as [number, number];
  if (group < 1 || channels !== weightChannels || channels % group !== 0) {
    throw new EngineError(`ConvTranspose: X has ${channels} channels, W [${w.dims}] and group ${group} do not fit`);
  }
  const geometry = transposedWindow(ctx, x.dims.slice(2), w.dims.slice(2));
  const table = patchTable(geometry);
  const { taps, positions, imageSize } = table;
  const groupChannels = channels / group;
  const outChannels = groupOut * group;
  const rows = groupOut * taps;
  const input = arith.prepare(arith.values(x));
  const weights = arith.prepare(arith.values(w));
  const accumulator = arith.dtype === 'float32' && ctx.multiply.accumulator !== FP32 ? ctx.multiply.accumulator : null;
  const out = arith.allocate(batch * outChannels * imageSize);
  for (let n = 0; n < batch; n++) {
    for (let g = 0; g < group; g++) {
      const start = (n * channels + g * groupChannels) * positions;
      const groupInput = arith.slice(input, start, start + groupChannels * positions);
      // The group's weights are stored [C/g, M/g·taps]: the GEMM reads them transposed.
      const groupWeights = arith.slice(weights, g * groupChannels * rows, (g + 1) * groupChannels * rows);
      const col = arith.gemm(groupWeights, groupInput, { m: rows, n: positions, k: groupChannels, transA: true });
      const imageStart = (n * outChannels + g * groupOut) * imageSize;
      if (!accumulator && out instanceof Float32Array && col instanceof Float32Array)
        wasmCol2imAdd(table, col, out, imageStart, groupOut);
      else col2imAdd(table, col, out, imageStart, groupOut, accumulator);
    }
  }
  if (bias) addBlocks(out, channelBias(arith.values(bias), outChannels), imageSize);
  return [arith.output([batch, outChannels, ...geometry.imageDims], out)];
};

/**
 * ConvTranspose's output grid: windows sit at the input positions and cover the output image. With
 * output_shape (or SAME auto_pad) the pads follow from the requested size, as the ONNX spec prescribes.
 */
function transposedWindow(ctx: KernelContext, inputDims: readonly number[], kernel: readonly number[]): WindowGeometry {
  const rank = inputDims.length;
  const strides = spatialInts(ctx, 'strides', rank, 1);
  const dilations = spatialInts(ctx, 'dilations', rank, 1);
  const outputPadding = spatialInts(ctx, 'output_padding', rank, 0);
  const autoPad = ctx.attributes.string('auto_pad', 'NOTSET');
  if (!['NOTSET', 'VALID', 'SAME_UPPER', 'SAME_LOWER'].includes(autoPad)) {
    throw new EngineError(`auto_pad "${autoPad}" is not supported`);
  }
  const full = inputDims.map(
    (d, axis) => strides[axis]! * (d - 1) + outputPadding[axis]! + (kernel[axis]! - 1) * dilations[axis]! + 1,
  );
  const window = { positions: inputDims, kernel, strides, dilations };
  let requested: number[] | undefined;
  if (ctx.attributes.has('output_shape')) requested = ctx.attributes.ints('output_shape').slice(-rank);
  else if (autoPad.startsWith('SAME')) requested = inputDims.map((d, axis) => d * strides[axis]!);
  if (requested) {
    const total = full.map((f, axis) => f - requested[axis]!);
    const padsBegin = total.map((t) => (autoPad === 'SAME_UPPER' ? Math.floor(t / 2) : t - Math.floor(t / 2)));
    const padsEnd = total.map((t, axis) => t - padsBegin[axis]!);
    return { ...window, imageDims: requested, padsBegin, padsEnd };
  }
  const pads = autoPad === 'VALID' ? new Array<number>(2 * rank).fill(0) : spatialInts(ctx, 'pads', 2 * rank, 0);
  const padsBegin = pads.slice(0, rank);
  const padsEnd = pads.slice(rank);
  const imageDims = full.map((f, axis) => f - padsBegin[axis]! - padsEnd[axis]!);
  if (imageDims.some((d) => d < 1)) throw new EngineError(`ConvTranspose output shape [${imageDims}] is empty`);
  return { ...window, imageDims, padsBegin, padsEnd };
}

export const kernels: Record<string, Kernel> = { Conv, ConvInteger, ConvTranspose };
