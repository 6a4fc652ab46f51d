/**
 * Element-wise chains: runs of element-wise nodes over one float32 tensor — x + c, x · c, Clip, Relu, …,
 * and steps with the chain's own input, as in hard-swish x · clip(x + 3, 0, 6) / 6 — where every link's
 * output is read only by the next link. An unobserved run computes such a chain in one WebAssembly pass
 * instead of one pass (and one copy in and out of linear memory) per node, and never stores the intermediate
 * values. Every step is the IEEE f32 operation or comparison the node's own kernel does, or under a scheme
 * the scheme product its Mul kernel takes, so the result is bit for bit that of running the nodes; whatever
 * a chain's values turn out to be at run time (not float32, a non-scalar constant, a small tensor) makes it
 * decline, and the nodes run one by one.
 */
import { lmulOffsetBits, pow2, roundToFormat, type FloatFormat } from '../arith';
import { outerScopeReads, subgraphsOf, type Graph, type Node, type Tensor } from '../onnx';
import { Attributes } from './attributes';
import { legacyClipBounds } from './kernels/elementwise';
import { WASM_MIN_ELEMENTS } from './kernels/elementwise-core';
import type { MultiplyContext } from './multiply';
import { tensor, type Value } from './types';
import {
  CHAIN_STEPS,
  isNormalF32PowerOfTwo,
  wasmElementwiseChain,
  type ChainProducts,
  type ChainRun,
  type ChainStep,
} from './wasm/kernels';

export interface ElementwiseChain {
  /** The chain's nodes in order: each reads the previous one's output (the first reads `input`). */
  readonly links: readonly Node[];
  /** The value the chain transforms; links may also combine the running value with it. */
  readonly input: string;
  /** The last link's output: the only value of the chain anything else reads. */
  readonly output: string;
}

const UNARY = new Set(['Relu', 'LeakyRelu', 'Clip']);
const BINARY = new Set(['Add', 'Sub', 'Mul', 'Div', 'Max', 'Min']);

/**
 * The chains of two or more links among a graph's computed nodes (in execution order), keyed by their first
 * link. A link's other operand must be a constant (`isConstant`: an initializer or a folded value; whether
 * it is a float32 scalar is checked when the chain runs) or the chain's input; the value passed along must
 * have no reader but the next link.
 */
export function elementwiseChains(
  graph: Graph,
  order: readonly Node[],
  isConstant: (name: string) => boolean,
): Map<Node, ElementwiseChain> {
  const readers = new Map<string, Node[]>();
  for (const node of order)
    for (const name of node.inputs) {
      if (name === '') continue;
      const list = readers.get(name);
      if (list) list.push(node);
      else readers.set(name, [node]);
    }
  // Graph outputs and values subgraphs read are kept: never passed along inside a chain.
  const kept = new Set(graph.outputs.map((o) => o.name));
  for (const node of order) for (const g of subgraphsOf(node)) for (const name of outerScopeReads(g)) kept.add(name);

  const chains = new Map<Node, ElementwiseChain>();
  const claimed = new Set<Node>();
  for (const first of order) {
    if (claimed.has(first)) continue;
    const input = chainInput(first, isConstant);
    if (input === null) continue;
    const links = [first];
    for (;;) {
      const value = links[links.length - 1]!.outputs[0]!;
      const next = readers.get(value);
      if (kept.has(value) || next?.length !== 1 || !continues(next[0]!, value, input, isConstant)) break;
      links.push(next[0]!);
    }
    if (links.length < 2) continue;
    for (const link of links) claimed.add(link);
    chains.set(first, { links, input, output: links[links.length - 1]!.outputs[0]! });
  }
  return chains;
}

/** A link's own checks: an ai.onnx element-wise node with one output and one or two inputs. */
function isLink(node: Node): boolean {
  if (node.domain !== '' || node.outputs.length !== 1) return false;
  if (UNARY.has(node.opType)) return node.opType === 'Clip' || node.inputs.length === 1;
  return BINARY.has(node.opType) && node.inputs.length === 2;
}

/** The value a chain starting at `node` transforms, or null if it cannot start one. */
function chainInput(node: Node, isConstant: (name: string) => boolean): string | null {
  if (!isLink(node)) return null;
  if (UNARY.has(node.opType)) return node.inputs[0]!;
  const [a, b] = node.inputs as [string, string];
  if (isConstant(a) && !isConstant(b)) return b;
  return isConstant(b) ? a : null;
}

/** Whether `node` can follow a link whose output `value` it reads. */
function continues(node: Node, value: string, input: string, isConstant: (name: string) => boolean): boolean {
  if (!isLink(node)) return false;
  if (UNARY.has(node.opType)) return node.inputs[0] === value && node.inputs.slice(1).every((n) => n !== value);
  const [a, b] = node.inputs as [string, string];
  const other = a === value ? b : b === value ? a : null;
  if (other === null || other === value) return false;
  return isConstant(other) || (other === input && node.opType !== 'Max' && node.opType !== 'Min');
}

/**
 * The chain's output, computed in one pass, or null when its values do not allow it (the caller then runs
 * the links one by one): `valueOf` gives the values in scope, `opset` the model's (Clip takes attributes
 * before 11), `multiply` the run's arithmetic. Under a scheme, a Mul link is the scheme's product of its
 * operands rounded into the operand format: lmul rules round element by element; fp8 schemes (e4m3, e4m3-mul…)
 * scale each operand tensor by its largest magnitude first, which a pass over the steps before the link
 * finds. Other schemes' Mul links make the chain decline, as does LeakyRelu where activations are replaced.
 */
export function runElementwiseChain(
  chain: ElementwiseChain,
  valueOf: (name: string) => Value | undefined,
  opset: number,
  multiply: MultiplyContext,
): Tensor | null {
  const x = valueOf(chain.input);
  if (!isFloat32(x) || x.data.length < WASM_MIN_ELEMENTS) return null;
  const exactSteps = exactStepsOf(chain, x, valueOf, opset);
  if (!exactSteps) return null;
  const products = schemeProducts(multiply);
  const steps: ChainStep[] = [];
  for (const [i, link] of chain.links.entries()) {
    const schemeStep = underScheme(exactSteps[i]!, link, multiply, products);
    if (!schemeStep) return null;
    steps.push(schemeStep);
  }
  const wasm = wasmElementwiseChain(x.data, steps.length, products ?? undefined);
  const scaled = products?.kind === 'fp8' ? withFp8Scales(steps, wasm, multiply, products.format) : steps;
  if (!scaled) return null;
  fused++;
  return tensor('float32', x.dims, wasm.run(scaled));
}

/**
 * The chain's links as exact steps (null if one cannot be), made again only when the input's rank, the opset
 * or a constant operand (the same tensor in every run of a graph) changes.
 */
function exactStepsOf(
  chain: ElementwiseChain,
  x: Tensor,
  valueOf: (name: string) => Value | undefined,
  opset: number,
): ChainStep[] | null {
  const known = chainSteps.get(chain);
  const constants = constantOperands(chain).map(valueOf);
  const same = (v: Value | undefined, i: number) => v === known!.constants[i];
  if (known && known.rank === x.dims.length && known.opset === opset && constants.every(same)) return known.steps;
  let steps: ChainStep[] | null = [];
  let value = chain.input;
  for (const link of chain.links) {
    const step = stepOf(link, value, chain.input, x, valueOf, opset);
    if (!step) {
      steps = null;
      break;
    }
    steps.push(step);
    value = link.outputs[0]!;
  }
  chainSteps.set(chain, { rank: x.dims.length, opset, constants, steps });
  return steps;
}

interface KnownSteps {
  readonly rank: number;
  readonly opset: number;
  readonly constants: readonly (Value | undefined)[];
  readonly steps: ChainStep[] | null;
}

const chainSteps = new WeakMap<ElementwiseChain, KnownSteps>();

/** The names a chain's links read besides its input and their own outputs. */
function constantOperands(chain: ElementwiseChain): string[] {
  let names = operandNames.get(chain);
  if (!names) {
    const made = new Set(chain.links.map((link) => link.outputs[0]!));
    const read = chain.links.flatMap((link) => link.inputs);
    names = [...new Set(read)].filter((name) => name !== '' && name !== chain.input && !made.has(name));
    operandNames.set(chain, names);
  }
  return names;
}

const operandNames = new WeakMap<ElementwiseChain, string[]>();

/** How a scheme's Mul nodes multiply, where a chain can: null for exact mode and schemes it cannot run. */
function schemeProducts(multiply: MultiplyContext): ChainProducts | null {
  const { rule, operandFormat, operandRounding, fp8 } = multiply.scheme;
  if (multiply.isExact) return null;
  if (rule === 'lmul-adder' || rule === 'lmul-formula') {
    if (operandFormat.emin !== -126 || operandFormat.overflow === 'saturate') return null; // not e8mK (never for lmul)
    const c = pow2(-lmulOffsetBits(operandFormat.manBits));
    return { kind: 'lmul', rule, c, format: operandFormat, rounding: operandRounding };
  }
  // fp8 operands multiply exactly in f32; a product format (e4m3-mul) is the operands' own, saturating too.
  const { productFormat } = multiply.scheme;
  const saturating = operandFormat.overflow === 'saturate';
  const products = productFormat === null || productFormat === operandFormat;
  if (!fp8 || rule !== 'exact' || !saturating || operandRounding !== 'rne' || !products) return null;
  return { kind: 'fp8', format: operandFormat, roundProducts: productFormat !== null };
}

/** An exact step as the run's arithmetic computes it, or null if the chain cannot run it. */
function underScheme(
  step: ChainStep,
  link: Node,
  multiply: MultiplyContext,
  products: ChainProducts | null,
): ChainStep | null {
  if (link.opType === 'LeakyRelu') return multiply.forGroup('activation').isExact ? step : null;
  if (link.opType !== 'Mul' || multiply.isExact) return step;
  if (!products) return null;
  const withInput = step.op === CHAIN_STEPS.MUL_X;
  if (products.kind === 'fp8')
    return withInput ? { op: CHAIN_STEPS.FP8_MUL_X } : { op: CHAIN_STEPS.FP8_MUL, a: step.a };
  if (withInput) return { op: CHAIN_STEPS.LMUL_X };
  // lmul operands have no per-tensor scale: the constant is rounded as the Mul kernel rounds its tensor.
  return { op: CHAIN_STEPS.LMUL, a: roundToFormat(step.a!, products.format, products.rounding) };
}

/**
 * The steps with each fp8 Mul's scales and unscaling filled in, as the Mul kernel prepares its operand
 * tensors: the running value's scale from its largest finite magnitude (a pass over the steps before),
 * the chain input's from x's, a constant's from its own, which is scaled and rounded here. Null (the chain
 * declines) where a scale factor or the unscaling is no normal f32, which the kernel multiplies by.
 */
function withFp8Scales(
  steps: readonly ChainStep[],
  wasm: ChainRun,
  multiply: MultiplyContext,
  format: FloatFormat,
): ChainStep[] | null {
  const scaled: ChainStep[] = [];
  let inputScale: number | undefined;
  for (const step of steps) {
    if (step.op !== CHAIN_STEPS.FP8_MUL && step.op !== CHAIN_STEPS.FP8_MUL_X) {
      scaled.push(step);
      continue;
    }
    const valueScale = multiply.operandScale(wasm.amax(scaled));
    let a: number;
    let otherScale: number;
    if (step.op === CHAIN_STEPS.FP8_MUL_X) {
      otherScale = inputScale ??= multiply.operandScale(wasm.inputAmax());
      a = pow2(otherScale);
      if (!isNormalF32PowerOfTwo(a)) return null;
    } else {
      const c = step.a!;
      otherScale = multiply.operandScale(Number.isFinite(c) ? Math.abs(c) : 0);
      a = roundToFormat(c * pow2(otherScale), format, 'rne');
    }
    const [b, d] = [pow2(valueScale), pow2(-(valueScale + otherScale))];
    if (!isNormalF32PowerOfTwo(b) || !isNormalF32PowerOfTwo(d)) return null;
    scaled.push({ op: step.op, a, b, d });
  }
  return scaled;
}

let fused = 0;

/** How many chains have run fused so far in this thread (tests check that fusion happens). */
export function chainsFused(): number {
  return fused;
}

function isFloat32(value: Value | undefined): value is Tensor & { data: Float32Array } {
  return value !== undefined && !Array.isArray(value) && value.dtype === 'float32';
}

/** One link as a step on the running value `value`, or null if its operands do not fit one. */
function stepOf(
  link: Node,
  value: string,
  input: string,
  x: Tensor,
  valueOf: (name: string) => Value | undefined,
  opset: number,
): ChainStep | null {
  // A constant operand must be one float32 element that broadcasts without adding axes.
  const scalar = (name: string): number | null => {
    const t = valueOf(name);
    return isFloat32(t) && t.data.length === 1 && t.dims.length <= x.dims.length ? t.data[0]! : null;
  };
  switch (link.opType) {
    case 'Relu':
      return { op: CHAIN_STEPS.RELU };
    case 'LeakyRelu': {
      const alpha = new Attributes(link).float('alpha', 0.01);
      return Math.fround(alpha) === alpha ? { op: CHAIN_STEPS.LEAKY_RELU, a: alpha } : null;
    }
    case 'Clip': {
      const [, lo, hi] = link.inputs;
      const [low, high] =
        opset < 11 ? legacyClipBounds(new Attributes(link)) : [lo ? scalar(lo) : -Infinity, hi ? scalar(hi) : Infinity];
      return low === null || high === null ? null : { op: CHAIN_STEPS.CLIP, a: low, b: high };
    }
  }
  const valueFirst = link.inputs[0] === value;
  const other = link.inputs[valueFirst ? 1 : 0]!;
  if (other === input) {
    const ops = BINARY_WITH_INPUT[link.opType];
    return ops ? { op: valueFirst ? ops[0] : ops[1] } : null;
  }
  const c = scalar(other);
  const ops = BINARY_WITH_CONSTANT[link.opType];
  return c === null || !ops ? null : { op: valueFirst ? ops[0] : ops[1], a: c };
}

/** Per binary op: the step with the running value first, and with it second. */
const BINARY_WITH_CONSTANT: Record<string, readonly [number, number]> = {
  Add: [CHAIN_STEPS.ADD, CHAIN_STEPS.ADD],
  Sub: [CHAIN_STEPS.SUB, CHAIN_STEPS.SUB_FROM],
  Mul: [CHAIN_STEPS.MUL, CHAIN_STEPS.MUL],
  Div: [CHAIN_STEPS.DIV, CHAIN_STEPS.DIV_INTO],
  Max: [CHAIN_STEPS.MAX, CHAIN_STEPS.MAX],
  Min: [CHAIN_STEPS.MIN, CHAIN_STEPS.MIN],
};

const BINARY_WITH_INPUT: Record<string, readonly [number, number]> = {
  Add: [CHAIN_STEPS.ADD_X, CHAIN_STEPS.ADD_X],
  Sub: [CHAIN_STEPS.SUB_X, CHAIN_STEPS.SUB_FROM_X],
  Mul: [CHAIN_STEPS.MUL_X, CHAIN_STEPS.MUL_X],
  Div: [CHAIN_STEPS.DIV_X, CHAIN_STEPS.DIV_INTO_X],
};
