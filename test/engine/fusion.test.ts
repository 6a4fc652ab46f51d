/**
 * Element-wise chains: which runs of nodes are found, and that one fused pass equals running the nodes'
 * own kernels one after the other, bit for bit (NaN, ±inf, −0 and subnormals among the values), in exact
 * mode and under the lmul schemes (whose Mul links are scheme products).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { chainsFused, elementwiseChains, runElementwiseChain } from '../../src/engine/fusion';
import { MultiplyContext } from '../../src/engine/multiply';
import { Session } from '../../src/engine/session';
import type { Value } from '../../src/engine/types';
import type { Attribute, Graph, Node, Tensor } from '../../src/onnx';
import { loadModelFile } from '../../src/onnx/node-fs';
import { REAL_MODELS } from '../fixtures/real-models';
import { runKernel } from './kernel-harness';

function node(opType: string, inputs: string[], output: string, attributes: Attribute[] = []): Node {
  return {
    name: output,
    nameGenerated: false,
    opType,
    domain: '',
    inputs,
    outputs: [output],
    attributes,
    docString: '',
  };
}

const scalar = (name: string, value: number, dims: number[] = []): Tensor => ({
  name,
  dtype: 'float32',
  dims,
  data: Float32Array.of(value),
});

/** The chains of a graph whose constants are its initializers. */
function chainsOf(graph: Graph, nodes: Node[]) {
  const constants = new Set(graph.initializers.map((t) => t.name));
  return elementwiseChains(graph, nodes, (name) => constants.has(name));
}

function graphOf(nodes: Node[], initializers: Tensor[], outputs: string[]): Graph {
  return {
    name: 'g',
    nodes,
    initializers,
    sparseInitializers: [],
    inputs: [{ name: 'x', isInitializer: false }],
    outputs: outputs.map((name) => ({ name })),
    valueInfo: [],
    docString: '',
  } as unknown as Graph;
}

/** hard-swish then a learnable affine, as PaddleOCR's exports write them (constants from Constant nodes). */
function hardSwishAffine(): { nodes: Node[]; constants: Tensor[] } {
  const constants = [
    scalar('three', 3),
    scalar('zero', 0),
    scalar('six', 6),
    scalar('scale', 0.75, [1]),
    scalar('bias', -0.5, [1]),
  ];
  const nodes = [
    node('Add', ['x', 'three'], 'a'),
    node('Clip', ['a', 'zero', 'six'], 'c'),
    node('Mul', ['x', 'c'], 'm'),
    node('Div', ['m', 'six'], 'hs'),
    node('Mul', ['hs', 'scale'], 's'),
    node('Add', ['bias', 's'], 'y'),
  ];
  return { nodes, constants };
}

test('a hard-swish and affine run is one chain from x to its last output', () => {
  const { nodes, constants } = hardSwishAffine();
  const chains = chainsOf(graphOf(nodes, constants, ['y']), nodes);
  assert.equal(chains.size, 1);
  const chain = chains.get(nodes[0]!)!;
  assert.deepEqual(
    chain.links.map((n) => n.outputs[0]),
    ['a', 'c', 'm', 'hs', 's', 'y'],
  );
  assert.equal(chain.input, 'x');
  assert.equal(chain.output, 'y');
});

test('a chain stops before a value anything else reads, and at graph outputs', () => {
  const { nodes, constants } = hardSwishAffine();
  const reader = node('Relu', ['m'], 'other');
  const twice = chainsOf(graphOf([...nodes, reader], constants, ['y', 'other']), [...nodes, reader]);
  assert.deepEqual(
    [...twice.values()].map((c) => c.links.map((n) => n.outputs[0])),
    [
      ['a', 'c', 'm'],
      ['hs', 's', 'y'],
    ],
  );
  const output = chainsOf(graphOf(nodes, constants, ['y', 'c']), nodes);
  assert.deepEqual(
    [...output.values()].map((c) => c.links.map((n) => n.outputs[0])),
    // m reads two computed values (x and c): the rest starts a new chain at hs.
    [
      ['a', 'c'],
      ['hs', 's', 'y'],
    ],
  );
  // An operand computed at run time (not a constant, not the chain's input) ends the chain.
  const computed = [node('Relu', ['x'], 'r'), node('Add', ['r', 'x2'], 'y')];
  assert.equal(chainsOf(graphOf(computed, [], ['y']), computed).size, 0);
});

/** Values with NaN, ±inf, ±0, subnormals and ordinary numbers over many binades. */
function awkward(length: number, seed: number): Float32Array {
  const special = [NaN, Infinity, -Infinity, 0, -0, 1e-45, -3e-39, 3, -3, 6];
  let s = seed;
  return Float32Array.from({ length }, (_, i) => {
    s = (s * 1103515245 + 12345) % 2147483648;
    const r = s / 2147483648;
    return i % 11 === 0 ? special[(i / 11) % special.length]! : (r - 0.5) * 2 ** ((i % 41) - 20);
  });
}

type LinkSpec = {
  op: string;
  constants?: number[];
  withInput?: 'first' | 'second';
  valueSecond?: boolean;
  attributes?: Attribute[];
};

/** Every kind of step: constants on either side, the chain input on either side, unary ops. */
const LINKS: LinkSpec[] = [
  { op: 'Add', constants: [1.5] },
  { op: 'Add', constants: [-2], valueSecond: true },
  { op: 'Sub', constants: [0.25] },
  { op: 'Sub', constants: [0.25], valueSecond: true },
  { op: 'Mul', constants: [-1.75] },
  { op: 'Mul', constants: [3], valueSecond: true },
  { op: 'Div', constants: [6] },
  { op: 'Div', constants: [0.5], valueSecond: true },
  { op: 'Add', withInput: 'first' },
  { op: 'Sub', withInput: 'first' },
  { op: 'Sub', withInput: 'second' },
  { op: 'Mul', withInput: 'second' },
  { op: 'Div', withInput: 'first' },
  { op: 'Div', withInput: 'second' },
  { op: 'Clip', constants: [0, 6] },
  { op: 'Clip', constants: [-1, -Infinity] },
  { op: 'Clip', constants: [-Infinity, 0] },
  { op: 'Clip', constants: [0, 0] },
  { op: 'Relu' },
  { op: 'LeakyRelu', attributes: [{ name: 'alpha', type: 'float', value: Math.fround(0.2) }] },
  { op: 'Max', constants: [0] },
  { op: 'Min', constants: [-0.5], valueSecond: true },
];

/** A chain of the given links over `x`, its constants, and the nodes' outputs run one kernel at a time. */
function build(specs: LinkSpec[]) {
  const nodes: Node[] = [];
  const constants: Tensor[] = [];
  let value = 'x';
  specs.forEach((spec, i) => {
    const output = `v${i}`;
    const names = (spec.constants ?? []).map((c, j) => {
      const name = `c${i}_${j}`;
      constants.push(scalar(name, c, j % 2 ? [1] : []));
      return name;
    });
    let inputs: string[];
    if (spec.withInput) inputs = spec.withInput === 'first' ? [value, 'x'] : ['x', value];
    else if (spec.op === 'Clip') inputs = [value, ...names];
    else if (names.length === 0) inputs = [value];
    else inputs = spec.valueSecond ? [names[0]!, value] : [value, names[0]!];
    nodes.push(node(spec.op, inputs, output, spec.attributes));
    value = output;
  });
  return { nodes, constants };
}

const EXACT = MultiplyContext.exact();

/**
 * Schemes whose Mul links run fused: exact mode, the lmul rules (truncating, with fp32's mantissa), fp8 with
 * plain products or a product format (per-tensor scales, and none).
 */
const FUSED_ARITHMETIC = [
  ...['exact', 'lmul4', 'lmul3:trunc', 'lmul4-formula', 'lmul2-formula:trunc', 'lmul23', 'lmul23-formula'].map(
    (scheme) => new MultiplyContext({ scheme }),
  ),
  ...['e4m3', 'e5m2', 'e4m3-mul', 'e5m2-mul'].map((scheme) => new MultiplyContext({ scheme })),
  new MultiplyContext({ scheme: 'e4m3', fp8Scaling: 'none' }),
];

function runOneByOne(nodes: Node[], scope: Map<string, Value>, multiply = EXACT): Tensor {
  for (const n of nodes) {
    const [out] = runKernel(
      n.opType,
      n.inputs.map((name) => scope.get(name)),
      { attributes: n.attributes, multiply },
    );
    scope.set(n.outputs[0]!, out!);
  }
  return scope.get(nodes[nodes.length - 1]!.outputs[0]!) as Tensor;
}

const bits = (t: Tensor) => Array.from(new Uint32Array((t.data as Float32Array).slice().buffer));

test('every kind of step, fused, equals its node kernel bit for bit', () => {
  // Each link after a first step that keeps every value (· 1 in exact mode), on lengths around the kernel's
  // blocks and vectors.
  for (const multiply of FUSED_ARITHMETIC) {
    const scheme = multiply.scheme.preset;
    for (const [i, spec] of LINKS.entries()) {
      for (const length of [512, 1027, 2501]) {
        const { nodes, constants } = build([{ op: 'Mul', constants: [1] }, spec]);
        const x: Tensor = { name: 'x', dtype: 'float32', dims: [1, length], data: awkward(length, i + length) };
        const scope = new Map<string, Value>([['x', x], ...constants.map((c) => [c.name, c] as const)]);
        const chain = chainsOf(graphOf(nodes, constants, [nodes[1]!.outputs[0]!]), nodes).get(nodes[0]!);
        assert.ok(chain, `${spec.op} forms a chain`);
        const fused = runElementwiseChain(chain, (name) => scope.get(name), 17, multiply);
        assert.ok(fused, `${spec.op} runs fused under ${scheme}`);
        assert.deepEqual(fused.dims, [1, length]);
        const expected = bits(runOneByOne(nodes, scope, multiply));
        assert.deepEqual(bits(fused), expected, `${scheme}: ${spec.op} #${i}, ${length} elements`);
      }
    }
  }
});

test('a long chain of every step kind, fused, equals the nodes one by one', () => {
  const { nodes, constants } = build(LINKS);
  const x: Tensor = { name: 'x', dtype: 'float32', dims: [2, 3, 700], data: awkward(4200, 5) };
  const scope = new Map<string, Value>([['x', x], ...constants.map((c) => [c.name, c] as const)]);
  const chain = chainsOf(graphOf(nodes, constants, [nodes.at(-1)!.outputs[0]!]), nodes).get(nodes[0]!)!;
  assert.equal(chain.links.length, LINKS.length);
  for (const multiply of FUSED_ARITHMETIC) {
    const fused = runElementwiseChain(chain, (name) => scope.get(name), 17, multiply)!;
    assert.deepEqual(bits(fused), bits(runOneByOne(nodes, new Map(scope), multiply)), multiply.scheme.preset);
  }
});

test('under other schemes a chain declines its Mul links, and its LeakyRelu where activations are replaced', () => {
  const hardSwish = hardSwishAffine();
  const leaky = build([
    { op: 'LeakyRelu', attributes: [{ name: 'alpha', type: 'float', value: Math.fround(0.2) }] },
    { op: 'Max', constants: [0] },
  ]);
  const x: Tensor = { name: 'x', dtype: 'float32', dims: [4, 256], data: awkward(1024, 4) };
  const run = ({ nodes, constants }: { nodes: Node[]; constants: Tensor[] }, multiply: MultiplyContext) => {
    const scope = new Map<string, Value>([['x', x], ...constants.map((c) => [c.name, c] as const)]);
    const output = nodes.at(-1)!.outputs[0]!;
    const chain = chainsOf(graphOf(nodes, constants, [output]), nodes).get(nodes[0]!)!;
    return runElementwiseChain(chain, (name) => scope.get(name), 17, multiply);
  };
  for (const scheme of ['e5m2:trunc', 'fp16', 'bf16']) {
    const multiply = new MultiplyContext({ scheme });
    assert.equal(run(hardSwish, multiply), null, `${scheme}: Mul links`);
    assert.ok(run(leaky, multiply), `${scheme}: no product in the chain`);
  }
  assert.equal(run(leaky, new MultiplyContext({ scheme: 'lmul4', replaceActivation: true })), null);
});

test('a chain declines values it cannot fuse: small or non-float32 inputs, non-scalar constants', () => {
  const { nodes, constants } = hardSwishAffine();
  const chain = chainsOf(graphOf(nodes, constants, ['y']), nodes).get(nodes[0]!)!;
  const run = (x: Tensor, overrides: Tensor[] = [], opset = 17) => {
    const scope = new Map<string, Value>([['x', x], ...[...constants, ...overrides].map((c) => [c.name, c] as const)]);
    return runElementwiseChain(chain, (name) => scope.get(name), opset, EXACT);
  };
  const large: Tensor = { name: 'x', dtype: 'float32', dims: [4, 256], data: awkward(1024, 1) };
  assert.ok(run(large));
  assert.equal(run({ name: 'x', dtype: 'float32', dims: [8], data: awkward(8, 2) }), null);
  assert.equal(run({ name: 'x', dtype: 'float64', dims: [1024], data: Float64Array.from(awkward(1024, 3)) }), null);
  assert.equal(run(large, [{ name: 'scale', dtype: 'float32', dims: [2], data: Float32Array.of(1, 2) }]), null);
  assert.equal(run(large, [{ name: 'scale', dtype: 'float32', dims: [1, 1, 1], data: Float32Array.of(2) }]), null);
});

test("before opset 11 a chain's Clip takes its bounds from attributes, as the kernel does", () => {
  const clipAttributes: Attribute[] = [
    { name: 'min', type: 'float', value: -0.5 },
    { name: 'max', type: 'float', value: 2 },
  ];
  for (const attributes of [clipAttributes, []]) {
    const nodes = [node('Mul', ['x', 'k'], 'm'), node('Clip', ['m'], 'y', attributes)];
    const constants = [scalar('k', 1e30)];
    const chain = chainsOf(graphOf(nodes, constants, ['y']), nodes).get(nodes[0]!)!;
    const x: Tensor = { name: 'x', dtype: 'float32', dims: [1000], data: awkward(1000, 8) };
    const scope = new Map<string, Value>([
      ['x', x],
      ['k', constants[0]!],
    ]);
    const fused = runElementwiseChain(chain, (name) => scope.get(name), 10, EXACT)!;
    for (const n of nodes) {
      const [out] = runKernel(
        n.opType,
        n.inputs.map((name) => scope.get(name)),
        { attributes: n.attributes, opset: 10 },
      );
      scope.set(n.outputs[0]!, out!);
    }
    assert.deepEqual(bits(fused), bits(scope.get('y') as Tensor), `${attributes.length} attributes`);
  }
});

// PaddleOCR writes hard-swish and its learnable affine as chains; openWakeWord a LeakyRelu then a Max.
const EXPECTED_CHAINS: Record<string, number> = {
  'PaddleOCR v4 det': 50,
  'PaddleOCR v4 rec': 56,
  'openWakeWord embedding': 19,
};

for (const c of REAL_MODELS) {
  for (const scheme of ['exact', 'lmul4', 'lmul3-formula', 'e4m3', 'e5m2-mul']) {
    test(`${c.name}: an unobserved ${scheme} run (chains fused) gives the observed run's outputs bit for bit`, async () => {
      const model = await loadModelFile(c.path);
      const session = new Session(model);
      const inputs = c.inputs();
      const feeds = new Map(session.inputNames.map((name, i) => [name, inputs[i]!]));
      const multiply = new MultiplyContext({ scheme });
      const before = chainsFused();
      const fused = session.run(feeds, { multiply });
      const count = chainsFused() - before;
      const oneByOne = session.run(feeds, { multiply, observeNode: () => {} });
      assert.equal(chainsFused() - before, count, 'observed runs fuse nothing');
      for (const [name, value] of oneByOne)
        assert.deepEqual(bits(fused.get(name) as Tensor), bits(value as Tensor), name);
      const minimum = EXPECTED_CHAINS[c.name] ?? 0;
      assert.ok(count >= minimum, `${count} chains ran fused, expected at least ${minimum}`);
    });
  }
}
