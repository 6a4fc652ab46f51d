/**
 * The activation functions of LSTM/GRU/RNN (`activations`, `activation_alpha`, `activation_beta`). Their
 * alpha/beta multiplications are part of the activation (SPEC §6 group `activation`, off by default) and
 * are computed exactly.
 */
import { EngineError } from '../types';

export type Activation = (x: number) => number;

interface ActivationEntry {
  /** Default alpha and beta; `undefined` where the function takes no such parameter. */
  readonly alpha?: number;
  readonly beta?: number;
  readonly make: (alpha: number, beta: number) => Activation;
}

const sigmoid: Activation = (x) => 1 / (1 + Math.exp(-x));

// Defaults follow onnxruntime (the ONNX spec leaves them open): LeakyRelu 0.01, HardSigmoid 0.2/0.5, Elu 1,
// everything else 0.
const ACTIVATIONS: Record<string, ActivationEntry> = {
  Relu: { make: () => (x) => Math.max(0, x) },
  Tanh: { make: () => Math.tanh },
  Sigmoid: { make: () => sigmoid },
  Affine: { alpha: 0, beta: 0, make: (a, b) => (x) => a * x + b },
  LeakyRelu: { alpha: 0.01, make: (a) => (x) => (x >= 0 ? x : a * x) },
  ThresholdedRelu: { alpha: 0, make: (a) => (x) => (x >= a ? x : 0) },
  ScaledTanh: { alpha: 0, beta: 0, make: (a, b) => (x) => a * Math.tanh(b * x) },
  HardSigmoid: { alpha: 0.2, beta: 0.5, make: (a, b) => (x) => Math.min(Math.max(a * x + b, 0), 1) },
  Elu: { alpha: 1, make: (a) => (x) => (x >= 0 ? x : a * Math.expm1(x)) },
  Softsign: { make: () => (x) => x / (1 + Math.abs(x)) },
  Softplus: { make: () => (x) => (x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x))) },
};

/** Names match case-insensitively, as in onnxruntime. */
const BY_LOWER_CASE = new Map(Object.entries(ACTIVATIONS).map(([name, entry]) => [name.toLowerCase(), entry]));

/**
 * The functions named by `names`, taking alpha and beta values in order from the lists for those functions
 * that have such a parameter (a default once a list runs out).
 */
export function activationFunctions(names: readonly string[], alphas: readonly number[], betas: readonly number[]) {
  let nextAlpha = 0;
  let nextBeta = 0;
  return names.map((name): Activation => {
    const entry = BY_LOWER_CASE.get(name.toLowerCase());
    if (!entry) {
      throw new EngineError(`unknown activation "${name}": expected one of ${Object.keys(ACTIVATIONS).join(', ')}`);
    }
    const alpha = entry.alpha === undefined ? 0 : (alphas[nextAlpha++] ?? entry.alpha);
    const beta = entry.beta === undefined ? 0 : (betas[nextBeta++] ?? entry.beta);
    return entry.make(alpha, beta);
  });
}
