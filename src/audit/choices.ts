/** The allowed values of the audit's enumerated settings, shared by the CLI flags and the extension settings. */
import type { AccumulationName, Fp8Scaling } from '../engine/multiply';
import type { MemoryLevel } from './energy';

export const ACCUMULATORS = ['fp32', 'bf16', 'fp16', 'e4m3', 'e5m2'] as const satisfies readonly AccumulationName[];
export const FP8_SCALINGS = ['per-tensor', 'none'] as const satisfies readonly Fp8Scaling[];
export const MEMORY_LEVELS = ['sram8KB', 'sram32KB', 'sram1MB', 'dram'] as const satisfies readonly MemoryLevel[];
