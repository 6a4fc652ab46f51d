/** ONNX operators beyond the core groups: each extra-*.ts file contributes one family. */
import type { Kernel } from '../types';
import { activationKernels } from './extra-activation';
import { mathKernels } from './extra-math';
import { quantizeKernels } from './extra-quantize';
import { tensorKernels } from './extra-tensor';
import { visionKernels } from './extra-vision';

export const kernels: Record<string, Kernel> = {
  ...activationKernels,
  ...tensorKernels,
  ...quantizeKernels,
  ...visionKernels,
  ...mathKernels,
};
