import type { Kernel } from '../types';

export const kernels: Record<string, Kernel> = {};
