/**
 * Conv and ConvTranspose under multiply schemes against the SPEC's element-wise definition: each output
 * is a dot product of scheme products (mulValues with per-tensor fp8 scales of the whole X and W, padding
 * reading zero) in the accumulator, plus the bias in fp32.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { accumulate, formatByName, fp8ScaleExponent, mulValues, parseScheme, type Scheme } from '../../src/arith';
import { seededNormal } from '../../src/audit/random';
import { MultiplyContext, type AccumulationName } from '../../src/engine/multiply';
import { stridesOf } from '../../src/engine/tensors';
import { tensor } from '../../src/engine/types';
import type { Attribute, Tensor } from '../../src/onnx';
import { runKernel } from './kernel-harness';

function run(
  opType: string,
  inputs: (Tensor | undefined)[],
  multiply: MultiplyContext,
  attributes: Attribute[],
): Tensor {
  return runKernel(opType, inputs, { multiply, attributes, opset: 21 })[0] as Tensor;
}

function random(dims: number[], seed: number): Tensor {
  const draw = seededNormal(seed);
  const count = dims.reduce((a, b) => a * b, 1);
  const data = Float32Array.from({ length: count }, () =>
    Math.abs(draw()) < 0.15 ? 0 : draw() * 2 ** Math.round(draw() * 3),
  );
  return tensor('float32', dims, data);
}

const ints = (name: string, value: number[]): Attribute => ({ name, type: 'ints', value });

function scaleOf(scheme: Scheme, values: Float32Array): number {
  const amax = values.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  return scheme.fp8 ? fp8ScaleExponent(amax, scheme.operandFormat) : 0;
}

/** Calls visit(index) for every multi-index of `dims` in row-major order. */
function forEachIndex(dims: readonly number[], visit: (index: number[]) => void): void {
  const total = dims.reduce((a, b) => a * b, 1);
  for (let flat = 0; flat < total; flat++) {
    let rest = flat;
    const index = dims.map(() => 0);
    for (let axis = dims.length - 1; axis >= 0; axis--) {
      index[axis] = rest % dims[axis]!;
      rest = Math.floor(rest / dims[axis]!);
    }
    visit(index);
  }
}

interface Window {
  readonly strides: number[];
  readonly dilations: number[];
  readonly padsBegin: number[];
  readonly group: number;
}

/** The SPEC's Conv: per output element, Σ over (input channel of the group, tap) of scheme products. */
function referenceConv(
  preset: string,
  accumulation: AccumulationName,
  x: Tensor,
  w: Tensor,
  bias: Tensor | undefined,
  window: Window,
  outSpatial: number[],
) {
  const scheme = parseScheme(preset);
  const [X, W] = [x.data, w.data] as Float32Array[];
  const [sx, sw] = [scaleOf(scheme, X), scaleOf(scheme, W)];
  const [batch, , ...inSpatial] = x.dims as [number, number, ...number[]];
  const [outChannels, groupChannels, ...kernel] = w.dims as [number, number, ...number[]];
  const xStrides = stridesOf(x.dims);
  const wStrides = stridesOf(w.dims);
  const expected: { value: number; bound: number }[] = [];
  forEachIndex([batch, outChannels, ...outSpatial], ([n, m, ...position]) => {
    const g = Math.floor(m! / (outChannels / window.group));
    const products: number[] = [];
    for (let c = 0; c < groupChannels; c++) {
      forEachIndex(kernel, (tap) => {
        const coordinates = position.map(
          (p, a) => p * window.strides[a]! - window.padsBegin[a]! + tap[a]! * window.dilations[a]!,
        );
        const inside = coordinates.every((coordinate, a) => coordinate >= 0 && coordinate < inSpatial[a]!);
        const xIndex = [n!, g * groupChannels + c, ...coordinates].reduce((s, v, a) => s + v * xStrides[a]!, 0);
        const wIndex = [m!, c, ...tap].reduce((s, v, a) => s + v * wStrides[a]!, 0);
        products.push(mulValues(scheme, inside ? X[xIndex]! : 0, W[wIndex]!, sx, sw));
      });
    }
    const sum = accumulate(products, formatByName(accumulation));
    const b = bias ? (bias.data as Float32Array)[m!]! : 0;
    const bound = products.length * 2 ** -24 * products.reduce((s, p) => s + Math.abs(p), 0);
    expected.push({ value: Math.fround(sum + b), bound: bound + (bias ? 2 ** -23 * Math.abs(sum + b) : 0) });
  });
  return expected;
}

function assertMatches(actual: Tensor, expected: { value: number; bound: number }[], accumulation: AccumulationName) {
  const data = actual.data as Float32Array;
  assert.equal(data.length, expected.length);
  expected.forEach(({ value, bound }, i) => {
    if (accumulation === 'fp32')
      assert.ok(Math.abs(data[i]! - value) <= bound + 1e-45, `[${i}]: ${data[i]} vs ${value}`);
    else assert.equal(data[i], value, `[${i}]`);
  });
}

interface ConvCase {
  readonly name: string;
  readonly x: number[];
  readonly w: number[];
  readonly bias: boolean;
  readonly attributes: Attribute[];
  readonly window: Window;
  readonly out: number[];
}

const CONV_CASES: ConvCase[] = [
  {
    name: '2-D, 2 groups, strides, dilations, asymmetric pads, bias',
    x: [2, 4, 7, 6],
    w: [6, 2, 3, 2],
    bias: true,
    attributes: [
      ints('strides', [2, 1]),
      ints('dilations', [1, 2]),
      ints('pads', [1, 0, 2, 1]),
      { name: 'group', type: 'int', value: 2 },
    ],
    window: { strides: [2, 1], dilations: [1, 2], padsBegin: [1, 0], group: 2 },
    out: [4, 5],
  },
  {
    name: 'depthwise 3×3, pads 1',
    x: [1, 3, 5, 5],
    w: [3, 1, 3, 3],
    bias: true,
    attributes: [ints('pads', [1, 1, 1, 1]), { name: 'group', type: 'int', value: 3 }],
    window: { strides: [1, 1], dilations: [1, 1], padsBegin: [1, 1], group: 3 },
    out: [5, 5],
  },
  {
    name: 'depthwise 3-D (no direct kernel: a GEMM per group)',
    x: [1, 2, 4, 4, 3],
    w: [2, 1, 3, 3, 3],
    bias: true,
    attributes: [ints('pads', [1, 1, 1, 1, 1, 1]), { name: 'group', type: 'int', value: 2 }],
    window: { strides: [1, 1, 1], dilations: [1, 1, 1], padsBegin: [1, 1, 1], group: 2 },
    out: [4, 4, 3],
  },
  {
    name: '1-D, stride 2, auto_pad SAME_LOWER',
    x: [1, 2, 8],
    w: [3, 2, 3],
    bias: false,
    attributes: [ints('strides', [2]), { name: 'auto_pad', type: 'string', value: 'SAME_LOWER' }],
    window: { strides: [2], dilations: [1], padsBegin: [1], group: 1 },
    out: [4],
  },
  {
    name: 'pointwise 1×1 (no patch matrix)',
    x: [2, 5, 3, 4],
    w: [4, 5, 1, 1],
    bias: false,
    attributes: [],
    window: { strides: [1, 1], dilations: [1, 1], padsBegin: [0, 0], group: 1 },
    out: [3, 4],
  },
];

const SCHEMES = ['lmul4', 'lmul3-formula', 'e4m3', 'e4m3-mul', 'bf16', 'exact'];

for (const preset of SCHEMES) {
  for (const accumulation of ['fp32', 'bf16'] as const) {
    for (const c of CONV_CASES) {
      test(`Conv ${preset}/${accumulation}: ${c.name}`, () => {
        const x = random(c.x, 1);
        const w = random(c.w, 2);
        const bias = c.bias ? random([c.w[0]!], 3) : undefined;
        const y = run('Conv', [x, w, bias], new MultiplyContext({ scheme: preset, accumulation }), c.attributes);
        assert.deepEqual(y.dims, [c.x[0], c.w[0], ...c.out]);
        assertMatches(y, referenceConv(preset, accumulation, x, w, bias, c.window, c.out), accumulation);
      });
    }

    test(`ConvTranspose ${preset}/${accumulation}: 2 groups, strides, pads, output_padding, bias`, () => {
      const scheme = parseScheme(preset);
      const x = random([1, 4, 3, 3], 4);
      const w = random([4, 3, 3, 3], 5);
      const bias = random([6], 6);
      const attributes = [
        ints('strides', [2, 2]),
        ints('pads', [1, 0, 0, 1]),
        ints('output_padding', [1, 0]),
        { name: 'group', type: 'int', value: 2 } as Attribute,
      ];
      const y = run('ConvTranspose', [x, w, bias], new MultiplyContext({ scheme: preset, accumulation }), attributes);
      assert.deepEqual(y.dims, [1, 6, 7, 6]);
      // Documented order: per tap, the products over the group's input channels are one dot product; the
      // taps reaching an output are then summed in tap order in the accumulator.
      const [X, W, B] = [x.data, w.data, bias.data] as Float32Array[];
      const [sx, sw] = [scaleOf(scheme, X), scaleOf(scheme, W)];
      const format = formatByName(accumulation);
      const expected: { value: number; bound: number }[] = [];
      forEachIndex([6, 7, 6], ([m, row, col]) => {
        const [g, local] = [Math.floor(m! / 3), m! % 3];
        const partials: number[] = [];
        const all: number[] = [];
        forEachIndex([3, 3], ([kr, kc]) => {
          const [ir, ic] = [(row! + 1 - kr!) / 2, (col! + 0 - kc!) / 2];
          if (!Number.isInteger(ir) || !Number.isInteger(ic) || ir < 0 || ir >= 3 || ic < 0 || ic >= 3) return;
          const products = [0, 1].map((c) =>
            mulValues(
              scheme,
              X[(g * 2 + c) * 9 + ir * 3 + ic]!,
              W[((g * 2 + c) * 3 + local) * 9 + kr! * 3 + kc!]!,
              sx,
              sw,
            ),
          );
          partials.push(accumulate(products, format));
          all.push(...products);
        });
        const sum = accumulate(partials, format);
        const bound = all.length * 2 ** -24 * all.reduce((s, p) => s + Math.abs(p), 0);
        expected.push({ value: Math.fround(sum + B[m!]!), bound: bound + 2 ** -23 * Math.abs(sum + B[m!]!) });
      });
      assertMatches(y, expected, accumulation);
    });
  }
}

test('Conv of float16 tensors is exact and rounded once to float16', () => {
  const x = tensor('float16', [1, 1, 3], Float32Array.of(3, 1 + 2 ** -9, 2 ** -12));
  const w = tensor('float16', [1, 1, 3], Float32Array.of(1, 1, 2 ** -12));
  const y = run('Conv', [x, w], new MultiplyContext({ scheme: 'lmul3' }), []);
  assert.equal(y.dtype, 'float16');
  assert.deepEqual(Array.from(y.data as Float32Array), [4 + 2 ** -8]);
});

test('Conv rejects unsupported auto_pad values and mismatched groups', () => {
  const x = random([1, 4, 5], 7);
  const w = random([2, 4, 3], 8);
  const exact = MultiplyContext.exact();
  assert.throws(
    () => run('Conv', [x, w], exact, [{ name: 'auto_pad', type: 'string', value: 'SAME' }]),
    /auto_pad "SAME"/,
  );
  assert.throws(() => run('Conv', [x, w], exact, [{ name: 'group', type: 'int', value: 3 }]), /group 3 do not fit/);
});

test('Conv on a large feature map is computed in column tiles with the same result', () => {
  // 27·400·400 patch elements exceed the 2^22 budget: two tiles of positions.
  const x = random([1, 3, 400, 400], 9);
  const w = random([2, 3, 3, 3], 10);
  const y = run('Conv', [x, w], MultiplyContext.exact(), [ints('pads', [1, 1, 1, 1])]);
  const [X, W, Y] = [x.data, w.data, y.data] as Float32Array[];
  for (let m = 0; m < 2; m++) {
    for (let o = 0; o < 160000; o += 997) {
      const [row, col] = [Math.floor(o / 400), o % 400];
      let expected = 0;
      let magnitude = 0;
      forEachIndex([3, 3, 3], ([c, kr, kc]) => {
        const [r, q] = [row + kr! - 1, col + kc! - 1];
        if (r < 0 || r >= 400 || q < 0 || q >= 400) return;
        const p = X[c! * 160000 + r * 400 + q]! * W[((m * 3 + c!) * 3 + kr!) * 3 + kc!]!;
        expected += p;
        magnitude += Math.abs(p);
      });
      const actual = Y[m * 160000 + o]!;
      assert.ok(
        Math.abs(actual - expected) <= 27 * 2 ** -24 * magnitude + 1e-45,
        `[${m}, ${o}]: ${actual} vs ${expected}`,
      );
    }
  }
});
