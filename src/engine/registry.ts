/** Every operator the engine runs, by ai.onnx op type. */
import { kernels as activation } from './kernels/activation';
import { kernels as attention } from './kernels/attention';
import { kernels as controlflow } from './kernels/controlflow';
import { kernels as conv } from './kernels/conv';
import { kernels as elementwise } from './kernels/elementwise';
import { kernels as extra } from './kernels/extra';
import { kernels as linear } from './kernels/linear';
import { kernels as normalization } from './kernels/normalization';
import { kernels as pool } from './kernels/pool';
import { kernels as reduce } from './kernels/reduce';
import { kernels as rnn } from './kernels/rnn';
import { kernels as sequence } from './kernels/sequence';
import { kernels as shape } from './kernels/shape';
import type { Kernel } from './types';

const groups = [
  activation,
  attention,
  controlflow,
  conv,
  elementwise,
  extra,
  linear,
  normalization,
  pool,
  reduce,
  rnn,
  sequence,
  shape,
];

export const KERNELS: ReadonlyMap<string, Kernel> = new Map(groups.flatMap((group) => Object.entries(group)));

/** ONNX domains whose operators this registry implements. */
export const DEFAULT_DOMAINS: ReadonlySet<string> = new Set(['', 'ai.onnx']);

export function kernelFor(domain: string, opType: string): Kernel | undefined {
  return DEFAULT_DOMAINS.has(domain) ? KERNELS.get(opType) : undefined;
}
