/**
 * MaxPool, AveragePool, LpPool and their global forms. Pooling multiplies nothing, so every dtype is
 * reduced exactly in doubles and rounded once into the output dtype. All of them walk the windows of
 * one patch table (conv-geometry), shared by every image plane of the input.
 */
import type { Tensor } from '../../onnx';
import { expectTensor, isBigIntDType } from '../tensors';
import { EngineError, tensor, type Kernel, type KernelContext, type Value } from '../types';
import {
  PADDING,
  patchTable,
  planeWindows,
  slidingWindow,
  windowSizes,
  type PatchTable,
  type WindowGeometry,
} from './conv-geometry';
import { wasmMaxPool2d, wasmPlaneMeans } from '../wasm/kernels';
import { WASM_MIN_ELEMENTS } from './elementwise-core';
import { tensorOf } from './scheme-arithmetic';

type Reduction = 'max' | 'sum' | 'lp';

interface Pooling {
  readonly x: Tensor;
  readonly data: ArrayLike<number>;
  readonly planes: number;
  readonly geometry: WindowGeometry;
  readonly table: PatchTable;
}

function pooling(op: string, value: Value | undefined, geometryOf: (spatial: number[]) => WindowGeometry): Pooling {
  const x = expectTensor(value, `${op} input X`);
  if (x.dims.length < 3) throw new EngineError(`${op} needs an input of rank >= 3, got [${x.dims}]`);
  if (x.dtype === 'string' || isBigIntDType(x.dtype)) throw new EngineError(`${op} does not support ${x.dtype}`);
  const geometry = geometryOf(x.dims.slice(2));
  let table: PatchTable | undefined;
  return {
    x,
    data: x.data as ArrayLike<number>,
    planes: x.dims[0]! * x.dims[1]!,
    geometry,
    // Built on first use: the WebAssembly MaxPool and the one-loop global pools never read it.
    get table() {
      return (table ??= patchTable(geometry));
    },
  };
}

/** The pool's windows from kernel_shape, strides, dilations, pads, auto_pad and ceil_mode. */
function attributeWindows(ctx: KernelContext) {
  return (spatial: number[]) => {
    const kernel = ctx.attributes.ints('kernel_shape');
    if (kernel.length !== spatial.length) {
      throw new EngineError(`kernel_shape [${kernel}] does not match the ${spatial.length} spatial axes`);
    }
    return slidingWindow(ctx, spatial, kernel, ctx.attributes.int('ceil_mode', 0) !== 0);
  };
}

/** One window covering the whole image. */
function globalWindow(spatial: number[]): WindowGeometry {
  const zeros = spatial.map(() => 0);
  const ones = spatial.map(() => 1);
  return {
    imageDims: spatial,
    positions: ones,
    kernel: spatial,
    strides: ones,
    dilations: ones,
    padsBegin: zeros,
    padsEnd: zeros,
  };
}

/**
 * Reduces every window of one image plane into `acc` (length = positions): the maximum (with its offset
 * in `argmax`), the sum, or the sum of |x|^p. Padding taps are skipped.
 */
function reduceWindows(
  table: PatchTable,
  data: ArrayLike<number>,
  plane: number,
  reduction: Reduction,
  acc: Float64Array,
  argmax: Int32Array,
  p: number,
): void {
  const { taps, positions, offsets } = table;
  acc.fill(reduction === 'max' ? -Infinity : 0);
  if (reduction === 'max') argmax.fill(-1);
  for (let t = 0; t < taps; t++) {
    const row = t * positions;
    if (reduction === 'max') {
      for (let o = 0; o < positions; o++) {
        const s = offsets[row + o]!;
        if (s < 0) continue;
        const v = data[plane + s]!;
        if (v > acc[o]!) {
          acc[o] = v;
          argmax[o] = s;
        }
      }
    } else if (reduction === 'sum') {
      for (let o = 0; o < positions; o++) {
        const s = offsets[row + o]!;
        if (s >= 0) acc[o]! += data[plane + s]!;
      }
    } else {
      for (let o = 0; o < positions; o++) {
        const s = offsets[row + o]!;
        if (s >= 0) acc[o]! += Math.abs(data[plane + s]!) ** p;
      }
    }
  }
}

/**
 * Runs `reduction` over every plane; `finish` turns one plane's accumulators into output values in place.
 * `argmaxOut` (max only) receives each window's winning offset within its plane.
 */
function poolPlanes(
  pool: Pooling,
  reduction: Reduction,
  p: number,
  finish?: (acc: Float64Array) => void,
  argmaxOut?: Int32Array,
): Tensor {
  const { positions, imageSize } = pool.table;
  const out = new Float64Array(pool.planes * positions);
  const acc = new Float64Array(positions);
  const argmax = new Int32Array(positions);
  for (let plane = 0; plane < pool.planes; plane++) {
    reduceWindows(pool.table, pool.data, plane * imageSize, reduction, acc, argmax, p);
    finish?.(acc);
    out.set(acc, plane * positions);
    argmaxOut?.set(argmax, plane * positions);
  }
  return tensorOf(pool.x.dtype, [...pool.x.dims.slice(0, 2), ...pool.geometry.positions], out);
}

function maxPool(ctx: KernelContext, pool: Pooling, wantIndices: boolean): (Tensor | undefined)[] {
  const storageOrder = ctx.attributes.int('storage_order', 0);
  if (storageOrder !== 0 && storageOrder !== 1) throw new EngineError(`storage_order ${storageOrder} is not 0 or 1`);
  const { geometry, x } = pool;
  if (!wantIndices && x.data instanceof Float32Array && geometry.imageDims.length <= 2) {
    const shape = planeWindows(geometry, { batch: pool.planes, channels: 1, multiplier: 1 });
    return [tensor('float32', [...x.dims.slice(0, 2), ...geometry.positions], wasmMaxPool2d(x.data, shape))];
  }
  const { positions, imageSize } = pool.table;
  const argmax = wantIndices ? new Int32Array(pool.planes * positions) : undefined;
  const y = poolPlanes(pool, 'max', 1, undefined, argmax);
  if (!argmax) return [y];
  // Indices count over the whole input tensor: plane offset plus the row- or column-major spatial offset.
  const spatial = storageOrder === 1 ? columnMajorIndex(pool.geometry.imageDims) : undefined;
  const indices = BigInt64Array.from(argmax, (s, i) =>
    BigInt(Math.floor(i / positions) * imageSize + (spatial ? spatial[s]! : s)),
  );
  return [y, tensor('int64', y.dims, indices)];
}

/** For each row-major offset of an image, its column-major offset (MaxPool storage_order = 1). */
function columnMajorIndex(dims: readonly number[]): Int32Array {
  const size = dims.reduce((a, b) => a * b, 1);
  const index = new Int32Array(size);
  for (let s = 0; s < size; s++) {
    let rest = s;
    let column = 0;
    let stride = 1;
    for (let axis = 0, scale = size; axis < dims.length; axis++) {
      scale /= dims[axis]!;
      const coordinate = Math.floor(rest / scale);
      rest -= coordinate * scale;
      column += coordinate * stride;
      stride *= dims[axis]!;
    }
    index[s] = column;
  }
  return index;
}

/** Elements per window: the taps inside the image, or also those on the padding (count_include_pad). */
function windowCounts(table: PatchTable, includePadding: boolean): Float64Array {
  const { taps, positions, offsets } = table;
  const lowest = includePadding ? PADDING : 0;
  const counts = new Float64Array(positions);
  for (let t = 0; t < taps; t++)
    for (let o = 0; o < positions; o++) if (offsets[t * positions + o]! >= lowest) counts[o]!++;
  return counts;
}

/** Each plane's mean, its elements summed in doubles in order: `averagePool` of one whole-image window. */
function globalAveragePool(pool: Pooling): Tensor {
  const { imageSize } = windowSizes(pool.geometry);
  const dims = [...pool.x.dims.slice(0, 2), ...pool.geometry.positions];
  const data = pool.data;
  // float32 planes: the same sums in WebAssembly.
  if (data instanceof Float32Array && data.length >= WASM_MIN_ELEMENTS)
    return tensorOf(pool.x.dtype, dims, wasmPlaneMeans(data, pool.planes, imageSize));
  const out = new Float64Array(pool.planes);
  for (let plane = 0; plane < pool.planes; plane++) {
    // Four sums in doubles (independent additions run in parallel), then their sum: the order of a
    // double sum of f32 values moves only its last bits, which the f32 result seldom sees.
    let at = plane * imageSize;
    const end = at + imageSize;
    let s0 = 0,
      s1 = 0,
      s2 = 0,
      s3 = 0;
    for (; at + 4 <= end; at += 4) {
      s0 += data[at]!;
      s1 += data[at + 1]!;
      s2 += data[at + 2]!;
      s3 += data[at + 3]!;
    }
    for (; at < end; at++) s0 += data[at]!;
    out[plane] = (s0 + s1 + (s2 + s3)) / imageSize;
  }
  return tensorOf(pool.x.dtype, dims, out);
}

function averagePool(pool: Pooling, includePadding: boolean): Tensor {
  const counts = windowCounts(pool.table, includePadding);
  return poolPlanes(pool, 'sum', 1, (acc) => {
    for (let o = 0; o < acc.length; o++) acc[o]! /= counts[o]!;
  });
}

function lpPool(ctx: KernelContext, pool: Pooling): Tensor {
  const p = ctx.attributes.has('p') ? lpExponent(ctx) : 2;
  return poolPlanes(pool, 'lp', p, (acc) => {
    for (let o = 0; o < acc.length; o++) acc[o] = acc[o]! ** (1 / p);
  });
}

/** LpPool's p: an int since opset 2 (a float in opset 1). */
function lpExponent(ctx: KernelContext): number {
  const attribute = ctx.node.attributes.find((a) => a.name === 'p');
  const p = attribute?.type === 'float' ? ctx.attributes.float('p') : ctx.attributes.int('p');
  if (!(p > 0)) throw new EngineError(`LpPool p must be positive, got ${p}`);
  return p;
}

export const kernels: Record<string, Kernel> = {
  MaxPool: (inputs, ctx) =>
    maxPool(ctx, pooling('MaxPool', inputs[0], attributeWindows(ctx)), (ctx.node.outputs[1] ?? '') !== ''),
  AveragePool: (inputs, ctx) => {
    const includePadding = ctx.attributes.int('count_include_pad', 0) !== 0;
    return [averagePool(pooling('AveragePool', inputs[0], attributeWindows(ctx)), includePadding)];
  },
  LpPool: (inputs, ctx) => [lpPool(ctx, pooling('LpPool', inputs[0], attributeWindows(ctx)))],
  GlobalMaxPool: (inputs, ctx) => maxPool(ctx, pooling('GlobalMaxPool', inputs[0], globalWindow), false),
  GlobalAveragePool: (inputs) => [globalAveragePool(pooling('GlobalAveragePool', inputs[0], globalWindow))],
  GlobalLpPool: (inputs, ctx) => [lpPool(ctx, pooling('GlobalLpPool', inputs[0], globalWindow))],
};
