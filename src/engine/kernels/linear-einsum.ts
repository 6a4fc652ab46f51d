/**
 * Einsum as a chain of batched GEMMs: each operand first loses its repeated labels (diagonals), its
 * size-1 broadcast dims and the labels nobody else needs (summed); then operands are contracted left to
 * right, each contraction one batched GEMM [batch, m, k]·[batch, k, n] under the node's scheme.
 */
import { sizeOf, stridesOf } from '../tensors';
import type { Tensor } from '../../onnx';
import { EngineError } from '../types';
import { batchedGemm, type Arithmetic, type Numeric, type Operand } from './scheme-arithmetic';

/** Labels are letter char codes; the dims an ellipsis stands for get codes from here on. */
const ELLIPSIS_LABEL = 1000;

interface Equation {
  readonly inputs: number[][];
  readonly output: number[];
}

/** One operand on its way through the contraction: its labels, their sizes and its values. */
interface Term {
  readonly labels: number[];
  readonly dims: number[];
  readonly values: Numeric;
  /** Values are already prepared operand values (data movement of a prepared input), with this scale. */
  readonly prepared: boolean;
  readonly scale: number;
}

export function einsum(arith: Arithmetic, equation: string, tensors: readonly Tensor[]): Tensor {
  const { inputs, output } = parseEquation(
    equation,
    tensors.map((t) => t.dims.length),
  );
  const sizes = labelSizes(inputs, tensors);
  const reduced = inputs.map((labels, i) =>
    [...new Set(labels)].filter((l) => !broadcastOnly(labels, tensors[i]!, l, sizes)),
  );
  const terms = tensors.map((t, i) => {
    const hasPrivateLabels = reduced[i]!.some(
      (l) => !output.includes(l) && !reduced.some((r, j) => j !== i && r.includes(l)),
    );
    // Inputs that reach a GEMM by data movement alone are prepared whole (per-tensor scale, weight cache).
    const prepared = tensors.length > 1 && !hasPrivateLabels;
    const source = prepared ? arith.prepare(arith.values(t)) : { values: arith.values(t), scale: 0 };
    const term: Term = { labels: inputs[i]!, dims: t.dims, values: source.values, prepared, scale: source.scale };
    return gather(term, reduced[i]!, sizes);
  });
  let acc = terms[0]!;
  for (let i = 1; i < terms.length; i++) {
    const keep = new Set([...output, ...terms.slice(i + 1).flatMap((t) => t.labels)]);
    const next = terms[i]!;
    acc = contract(
      arith,
      sumOut(acc, new Set([...keep, ...next.labels])),
      sumOut(next, new Set([...keep, ...acc.labels])),
      keep,
    );
  }
  const result = gather(sumOut(acc, new Set(output)), output, sizes);
  return arith.output(
    output.map((l) => sizes.get(l)!),
    result.values,
  );
}

function parseEquation(equation: string, ranks: readonly number[]): Equation {
  const [lhs, rhs, extra] = equation.replace(/\s+/g, '').split('->');
  if (lhs === undefined || extra !== undefined) throw new EngineError(`Einsum equation "${equation}" is malformed`);
  const terms = lhs.split(',');
  if (terms.length !== ranks.length) {
    throw new EngineError(
      `Einsum equation "${equation}" has ${terms.length} operands, the node has ${ranks.length} inputs`,
    );
  }
  const parsed = terms.map((term) => parseTerm(term, equation));
  const ellipsisRanks = parsed.map((p, i) => {
    const rank = ranks[i]! - p.letters.length;
    if (rank < 0 || (!p.hasEllipsis && rank > 0)) {
      throw new EngineError(`Einsum operand ${i} has rank ${ranks[i]}, which does not match "${terms[i]}"`);
    }
    return rank;
  });
  const ellipsisRank = Math.max(0, ...ellipsisRanks);
  const ellipsis = Array.from({ length: ellipsisRank }, (_, j) => ELLIPSIS_LABEL + j);
  // Ellipsis dims align on the right, as numpy broadcasting does.
  const inputs = parsed.map((p, i) => p.expand(ellipsis.slice(ellipsisRank - ellipsisRanks[i]!)));
  if (rhs !== undefined) {
    const output = parseTerm(rhs, equation).expand(ellipsis);
    const unknown = output.find((l, i) => output.indexOf(l) !== i || !inputs.some((labels) => labels.includes(l)));
    if (unknown !== undefined) {
      throw new EngineError(
        `Einsum equation "${equation}": output label "${labelName(unknown)}" is repeated or in no input`,
      );
    }
    return { inputs, output };
  }
  const counts = new Map<number, number>();
  for (const labels of inputs) for (const l of labels) counts.set(l, (counts.get(l) ?? 0) + 1);
  const once = [...counts].filter(([l, n]) => n === 1 && l < ELLIPSIS_LABEL).map(([l]) => l);
  return { inputs, output: [...ellipsis, ...once.sort((a, b) => a - b)] };
}

function parseTerm(term: string, equation: string) {
  const parts = term.split('...');
  if (parts.length > 2 || parts.some((p) => !/^[a-zA-Z]*$/.test(p))) {
    throw new EngineError(`Einsum equation "${equation}": term "${term}" is not letters with at most one "..."`);
  }
  const codes = parts.map((p) => Array.from(p, (c) => c.charCodeAt(0)));
  return {
    letters: codes.flat(),
    hasEllipsis: parts.length === 2,
    expand: (ellipsis: number[]) => (parts.length === 2 ? [...codes[0]!, ...ellipsis, ...codes[1]!] : codes[0]!),
  };
}

/** The size of every label; size-1 dims broadcast against larger ones. */
function labelSizes(inputs: readonly number[][], tensors: readonly Tensor[]): Map<number, number> {
  const sizes = new Map<number, number>();
  inputs.forEach((labels, i) =>
    labels.forEach((l, axis) => {
      const d = tensors[i]!.dims[axis]!;
      const known = sizes.get(l);
      if (known === undefined || known === 1) sizes.set(l, d);
      else if (d !== 1 && d !== known) {
        throw new EngineError(`Einsum label "${labelName(l)}" has sizes ${known} and ${d}`);
      }
    }),
  );
  return sizes;
}

/** A size-1 dim of a label that is larger elsewhere: the operand does not vary along it. */
function broadcastOnly(
  labels: readonly number[],
  t: Tensor,
  label: number,
  sizes: ReadonlyMap<number, number>,
): boolean {
  return sizes.get(label) !== 1 && t.dims[labels.indexOf(label)] === 1;
}

function labelName(l: number): string {
  return l >= ELLIPSIS_LABEL ? `...[${l - ELLIPSIS_LABEL}]` : String.fromCharCode(l);
}

/**
 * The term with exactly the labels `order`, in that order: a repeated label reads its diagonal, a label
 * the term lacks (or only has with size 1) is a size-1 dim of the result.
 */
function gather(term: Term, order: readonly number[], sizes: ReadonlyMap<number, number>): Term {
  const own = stridesOf(term.dims);
  const dims = order.map((l) => (term.labels.includes(l) ? sizes.get(l)! : 1));
  const strides = order.map((l) =>
    term.labels.reduce((s, x, axis) => (x === l && term.dims[axis] !== 1 ? s + own[axis]! : s), 0),
  );
  const identity = order.length === term.labels.length && strides.every((s, axis) => s === own[axis]);
  if (identity) return { ...term, labels: [...order], dims };
  const values = new (term.values.constructor as new (n: number) => Numeric)(sizeOf(dims));
  stridedCopy(term.values, dims, strides, values);
  return { ...term, labels: [...order], dims, values };
}

/** out = the elements of src at Σ index[axis]·strides[axis], in row-major order of `dims`. */
function stridedCopy(src: Numeric, dims: readonly number[], strides: readonly number[], out: Numeric): void {
  const rank = dims.length;
  if (rank === 0) {
    out[0] = src[0]!;
    return;
  }
  const inner = dims[rank - 1]!;
  const innerStride = strides[rank - 1]!;
  if (inner === 0) return;
  const counter = new Array<number>(rank - 1).fill(0);
  let base = 0;
  for (let w = 0; w < out.length;) {
    for (let j = 0, s = base; j < inner; j++, s += innerStride) out[w++] = src[s]!;
    for (let axis = rank - 2; axis >= 0; axis--) {
      counter[axis]!++;
      base += strides[axis]!;
      if (counter[axis]! < dims[axis]!) break;
      base -= strides[axis]! * dims[axis]!;
      counter[axis] = 0;
    }
  }
}

/** Sums the labels outside `needed` (an addition, not a multiplication: done on raw values). */
function sumOut(term: Term, needed: ReadonlySet<number>): Term {
  const kept = term.labels.filter((l) => needed.has(l));
  if (kept.length === term.labels.length) return term;
  if (term.prepared) throw new Error('einsum: a prepared operand cannot be summed'); // excluded by construction
  const summed = term.labels.filter((l) => !needed.has(l));
  const sizes = new Map(term.labels.map((l, axis) => [l, term.dims[axis]!]));
  const moved = gather(term, [...kept, ...summed], sizes);
  const block = sizeOf(summed.map((l) => sizes.get(l)!));
  const dims = kept.map((l) => sizes.get(l)!);
  const values = new (term.values.constructor as new (n: number) => Numeric)(sizeOf(dims));
  for (let i = 0; i < values.length; i++) {
    let sum = 0;
    for (let j = i * block; j < (i + 1) * block; j++) sum += moved.values[j]!;
    values[i] = sum;
  }
  return { labels: kept, dims, values, prepared: false, scale: 0 };
}

/** A·B over their shared labels: kept shared labels are GEMM batches, the others its inner dimension. */
function contract(arith: Arithmetic, a: Term, b: Term, keep: ReadonlySet<number>): Term {
  const shared = a.labels.filter((l) => b.labels.includes(l));
  const batch = shared.filter((l) => keep.has(l));
  const inner = shared.filter((l) => !keep.has(l));
  const aOnly = a.labels.filter((l) => !shared.includes(l));
  const bOnly = b.labels.filter((l) => !shared.includes(l));
  const sizes = new Map([
    ...a.labels.map((l, i) => [l, a.dims[i]!] as const),
    ...b.labels.map((l, i) => [l, b.dims[i]!] as const),
  ]);
  const size = (labels: number[]) => sizeOf(labels.map((l) => sizes.get(l)!));
  const left = operand(arith, gather(a, [...batch, ...aOnly, ...inner], sizes));
  const right = operand(arith, gather(b, [...batch, ...inner, ...bOnly], sizes));
  const count = size(batch);
  const { values } = batchedGemm(arith, left, right, [count], [count], {
    m: size(aOnly),
    n: size(bOnly),
    k: size(inner),
  });
  const labels = [...batch, ...aOnly, ...bOnly];
  return { labels, dims: labels.map((l) => sizes.get(l)!), values, prepared: false, scale: 0 };
}

function operand(arith: Arithmetic, term: Term): Operand {
  return term.prepared ? { values: term.values, scale: term.scale } : arith.prepare(term.values);
}
