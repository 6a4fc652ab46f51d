/**
 * LSTM, GRU and RNN. X·Wᵀ and H·Rᵀ are GEMMs under the node's multiply scheme; the gate products
 * (f⊙C, i⊙g, o⊙h(C), peepholes P⊙C, r⊙H, z⊙H) are element-wise products under the scheme, as a Mul node's.
 * Directions, sequence lengths, layouts and weight slicing are in rnn-recurrence.ts.
 */
import type { PreparedOperand } from '../multiply';
import type { Kernel } from '../types';
import type { Activation } from './rnn-activations';
import {
  addColumns,
  addRowBias,
  gate,
  mapped,
  products,
  recurrentProduct,
  rowBlock,
  runRecurrence,
  sum,
  type CellKind,
} from './rnn-recurrence';

/** Gates i, o, f, c in W/R/B; peepholes P in the order i, o, f; activations f, g, h. */
const LSTM: CellKind = {
  gates: 4,
  activations: ['Sigmoid', 'Tanh', 'Tanh'],
  stateCount: 2,
  makeCell: (dir, inputs, ctx) => {
    const { mul, hidden } = dir;
    const [f, g, h] = dir.activations as [Activation, Activation, Activation];
    const inputForget = ctx.attributes.int('input_forget', 0) !== 0;
    const rT = dir.recurrentRows(0, 4 * hidden);
    const peepholes = dir.perDirection(inputs[7], 'P', 3 * hidden);
    const peephole = (k: number, c: PreparedOperand) =>
      peepholes && products(mul, rowBlock(peepholes, k * hidden, hidden), c);
    return {
      projectionBias: sum(dir.inputBias, dir.recurrentBias),
      step(pre, [hPrevious, cPrevious]) {
        const hp = mul.prepare(hPrevious!);
        const cp = mul.prepare(cPrevious!);
        addColumns(pre, 4 * hidden, 0, recurrentProduct(dir, hp, rT));
        const input = gate(dir, pre, 0, f, peephole(0, cp));
        // input_forget couples the gates: f = 1 − i.
        const forget = inputForget ? mapped(input, (v) => 1 - v) : gate(dir, pre, 2, f, peephole(2, cp));
        const candidate = gate(dir, pre, 3, g);
        const c = sum(
          products(mul, mul.prepare(forget), cp),
          products(mul, mul.prepare(input), mul.prepare(candidate)),
        );
        const output = gate(dir, pre, 1, f, peephole(1, mul.prepare(c)));
        return [products(mul, mul.prepare(output), mul.prepare(mapped(c, h))), c];
      },
    };
  },
};

/** Gates z, r, h in W/R/B; activations f, g. */
const GRU: CellKind = {
  gates: 3,
  activations: ['Sigmoid', 'Tanh'],
  stateCount: 1,
  makeCell: (dir, _inputs, ctx) => {
    const { mul, hidden } = dir;
    const [f, g] = dir.activations as [Activation, Activation];
    const linearBeforeReset = ctx.attributes.int('linear_before_reset', 0) !== 0;
    const rzT = dir.recurrentRows(0, 2 * hidden);
    const rhT = dir.recurrentRows(2 * hidden, hidden);
    const recurrentBiasH = dir.recurrentBias.subarray(2 * hidden);
    // With linear_before_reset, Rbh sits inside r ⊙ (H·Rhᵀ + Rbh) and is not folded into X·Wᵀ.
    const projectionBias = sum(dir.inputBias, dir.recurrentBias);
    if (linearBeforeReset) projectionBias.set(dir.inputBias.subarray(2 * hidden), 2 * hidden);
    return {
      projectionBias,
      step(pre, [hPrevious]) {
        const hp = mul.prepare(hPrevious!);
        addColumns(pre, 3 * hidden, 0, recurrentProduct(dir, hp, rzT));
        const update = gate(dir, pre, 0, f);
        const reset = mul.prepare(gate(dir, pre, 1, f));
        const gated = linearBeforeReset
          ? products(mul, reset, mul.prepare(addRowBias(recurrentProduct(dir, hp, rhT), recurrentBiasH)))
          : recurrentProduct(dir, mul.prepare(products(mul, reset, hp)), rhT);
        addColumns(pre, 3 * hidden, 2 * hidden, gated);
        const candidate = gate(dir, pre, 2, g);
        const keep = mapped(update, (z) => 1 - z);
        return [sum(products(mul, mul.prepare(keep), mul.prepare(candidate)), products(mul, mul.prepare(update), hp))];
      },
    };
  },
};

/** One gate; activation f. */
const RNN: CellKind = {
  gates: 1,
  activations: ['Tanh'],
  stateCount: 1,
  makeCell: (dir) => {
    const rT = dir.recurrentRows(0, dir.hidden);
    const f = dir.activations[0]!;
    return {
      projectionBias: sum(dir.inputBias, dir.recurrentBias),
      step(pre, [hPrevious]) {
        addColumns(pre, dir.hidden, 0, recurrentProduct(dir, dir.mul.prepare(hPrevious!), rT));
        return [gate(dir, pre, 0, f)];
      },
    };
  },
};

export const kernels: Record<string, Kernel> = {
  LSTM: (inputs, ctx) => runRecurrence(LSTM, inputs, ctx),
  GRU: (inputs, ctx) => runRecurrence(GRU, inputs, ctx),
  RNN: (inputs, ctx) => runRecurrence(RNN, inputs, ctx),
};
