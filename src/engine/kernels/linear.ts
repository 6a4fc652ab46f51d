/**
 * MatMul, Gemm, Einsum and MatMulInteger. Every product of the float32 ops goes through the node's
 * scheme GEMM on whole-tensor prepared operands; Gemm's alpha/beta scalings are normalisation-group
 * multiplications (SPEC §6) and its C term is added in fp32 after the dot products (SPEC §5).
 */
import { broadcastIndex, broadcastShapes, expectTensor } from '../tensors';
import type { Tensor } from '../../onnx';
import { EngineError, type Kernel } from '../types';
import { einsum } from './linear-einsum';
import { arithmeticFor, batchedGemm, withoutZeroPoint, type Arithmetic, type Numeric } from './scheme-arithmetic';

/** A matrix operand: numpy MatMul semantics, values already in the arithmetic's working type. */
interface MatrixOperand {
  readonly dims: readonly number[];
  readonly values: Numeric;
}

function sameDType(tensors: readonly Tensor[], op: string): Tensor['dtype'] {
  const dtype = tensors[0]!.dtype;
  const other = tensors.find((t) => t.dtype !== dtype);
  if (other) throw new EngineError(`${op} inputs must share one dtype, got ${dtype} and ${other.dtype}`);
  return dtype;
}

/** numpy matmul: batch dims broadcast, a 1-D left operand is a row vector, a 1-D right one a column. */
function matmul(arith: Arithmetic, a: MatrixOperand, b: MatrixOperand): Tensor {
  if (a.dims.length === 0 || b.dims.length === 0) throw new EngineError('MatMul operands must have rank >= 1');
  const aDims = a.dims.length === 1 ? [1, a.dims[0]!] : a.dims;
  const bDims = b.dims.length === 1 ? [b.dims[0]!, 1] : b.dims;
  const [m, k] = aDims.slice(-2) as [number, number];
  const [kb, n] = bDims.slice(-2) as [number, number];
  if (k !== kb) throw new EngineError(`MatMul shapes [${a.dims}] and [${b.dims}] differ in the inner dimension`);
  const { batch, values } = batchedGemm(
    arith,
    arith.prepare(a.values),
    arith.prepare(b.values),
    aDims.slice(0, -2),
    bDims.slice(0, -2),
    { m, n, k },
  );
  const dims = [...batch, ...(a.dims.length === 1 ? [] : [m]), ...(b.dims.length === 1 ? [] : [n])];
  return arith.output(dims, values);
}

const MatMul: Kernel = (inputs, ctx) => {
  const a = expectTensor(inputs[0], 'MatMul input A');
  const b = expectTensor(inputs[1], 'MatMul input B');
  const arith = arithmeticFor(ctx.multiply, sameDType([a, b], 'MatMul'));
  return [matmul(arith, { dims: a.dims, values: arith.values(a) }, { dims: b.dims, values: arith.values(b) })];
};

const Gemm: Kernel = (inputs, ctx) => {
  const a = expectTensor(inputs[0], 'Gemm input A');
  const b = expectTensor(inputs[1], 'Gemm input B');
  const c = inputs[2] === undefined ? undefined : expectTensor(inputs[2], 'Gemm input C');
  const transA = ctx.attributes.int('transA', 0) !== 0;
  const transB = ctx.attributes.int('transB', 0) !== 0;
  const alpha = ctx.attributes.float('alpha', 1);
  const beta = ctx.attributes.float('beta', 1);
  if (a.dims.length !== 2 || b.dims.length !== 2) {
    throw new EngineError(`Gemm needs 2-D A and B, got [${a.dims}] and [${b.dims}]`);
  }
  const [m, k] = (transA ? [a.dims[1], a.dims[0]] : a.dims) as [number, number];
  const [kb, n] = (transB ? [b.dims[1], b.dims[0]] : b.dims) as [number, number];
  if (k !== kb) throw new EngineError(`Gemm shapes [${a.dims}] and [${b.dims}] differ in the inner dimension`);
  const dtype = sameDType(c ? [a, b, c] : [a, b], 'Gemm');
  const arith = arithmeticFor(ctx.multiply, dtype);
  const scaling = arithmeticFor(ctx.multiply.forGroup('normalization'), dtype);
  let y = arith.gemm(arith.prepare(arith.values(a)), arith.prepare(arith.values(b)), { m, n, k, transA, transB });
  // A factor of 1 is no multiplication at all (an L-Mul of 1·x would not even return x).
  if (alpha !== 1) y = scaling.scaleBlocks(y, scalar(scaling, alpha), y.length);
  if (c) {
    if (broadcastShapes([m, n], c.dims).join() !== `${m},${n}`) {
      throw new EngineError(`Gemm input C of shape [${c.dims}] does not broadcast to [${m}, ${n}]`);
    }
    let cValues = scaling.values(c);
    if (beta !== 1) cValues = scaling.scaleBlocks(cValues, scalar(scaling, beta), cValues.length);
    const index = broadcastIndex(c.dims, [m, n]);
    for (let i = 0; i < y.length; i++) y[i]! += cValues[index[i]!]!;
  }
  return [arith.output([m, n], y)];
};

function scalar(arith: Arithmetic, value: number): Numeric {
  const out = arith.allocate(1);
  out[0] = value;
  return out;
}

const Einsum: Kernel = (inputs, ctx) => {
  const tensors = inputs.map((v, i) => expectTensor(v, `Einsum input ${i}`));
  if (tensors.length === 0) throw new EngineError('Einsum needs at least one input');
  const arith = arithmeticFor(ctx.multiply, sameDType(tensors, 'Einsum'));
  return [einsum(arith, ctx.attributes.string('equation'), tensors)];
};

/** Integer matmul of (A − a_zero_point)·(B − b_zero_point) into int32; integer products are exact. */
const MatMulInteger: Kernel = (inputs, ctx) => {
  const a = expectTensor(inputs[0], 'MatMulInteger input A');
  const b = expectTensor(inputs[1], 'MatMulInteger input B');
  const arith = arithmeticFor(ctx.multiply, 'int32');
  const [m, k] = a.dims.length === 1 ? [1, a.dims[0]!] : (a.dims.slice(-2) as [number, number]);
  const n = b.dims.length === 1 ? 1 : b.dims[b.dims.length - 1]!;
  // a_zero_point is a scalar or one per row of A (blocks of k elements), b_zero_point one per column of B.
  const aValues = withoutZeroPoint(a, inputs[2], { perBlock: m, blockSize: k });
  const bValues = withoutZeroPoint(b, inputs[3], { perBlock: n, blockSize: 1 });
  return [matmul(arith, { dims: a.dims, values: aValues }, { dims: b.dims, values: bValues })];
};

export const kernels: Record<string, Kernel> = { MatMul, Gemm, Einsum, MatMulInteger };
