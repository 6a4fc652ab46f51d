/** ONNX operators beyond the core groups: each extra-*.ts file contributes one family. */
import type { Kernel } from '../types';
import { activationKernels } from './extra-activation';
import { tensorKernels } from './extra-tensor';

export const kernels: Record<string, Kernel> = {
  ...activationKernels,
  ...tensorKernels,
};
