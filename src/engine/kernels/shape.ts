/** Data-movement operators (no multiplications): layout, slicing, indexing, casts, constants, resizing. */
import type { Kernel } from '../types';
import { castKernels } from './shape-cast';
import { constantKernels } from './shape-constant';
import { indexKernels } from './shape-index';
import { layoutKernels } from './shape-layout';
import { resizeKernels } from './shape-resize';
import { sliceKernels } from './shape-slice';

export const kernels: Record<string, Kernel> = {
  ...layoutKernels,
  ...sliceKernels,
  ...indexKernels,
  ...castKernels,
  ...constantKernels,
  ...resizeKernels,
};
