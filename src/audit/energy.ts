/**
 * The energy model of SPEC §7: per-operation energies (pJ, 45 nm) and gate counts, user-editable as JSON,
 * turned into the energy of a node's multiplications, accumulations and memory traffic under a scheme.
 */
import { parseScheme, type Scheme } from '../arith';
import type { MultiplyGroup } from '../engine/multiply';
import type { OpCounts } from './counts';

export interface EnergyTable {
  readonly version: 1;
  /** pJ per operation (Horowitz, ISSCC 2014, 45 nm — the table the L-Mul paper cites). */
  readonly operations: {
    readonly fp32Mul: number;
    readonly fp32Add: number;
    readonly fp16Mul: number;
    readonly fp16Add: number;
    readonly int32Add: number;
    readonly int8Add: number;
    readonly int32Mul: number;
    readonly int8Mul: number;
  };
  /** Gate counts (the L-Mul paper, Eqs. 6–7) used to scale pJ figures where none was measured. */
  readonly gates: {
    readonly fp16Multiplier: number;
    readonly e4m3Multiplier: number;
    readonly e5m2Multiplier: number;
  };
  /** pJ per 64-bit access at each memory level. */
  readonly memory: Readonly<Record<MemoryLevel, number>>;
}

export type MemoryLevel = 'sram8KB' | 'sram32KB' | 'sram1MB' | 'dram';

export const DEFAULT_ENERGY_TABLE: EnergyTable = {
  version: 1,
  operations: {
    fp32Mul: 3.7,
    fp32Add: 0.9,
    fp16Mul: 1.1,
    fp16Add: 0.4,
    int32Add: 0.1,
    int8Add: 0.03,
    int32Mul: 3.1,
    int8Mul: 0.2,
  },
  gates: { fp16Multiplier: 584, e4m3Multiplier: 325, e5m2Multiplier: 296 },
  memory: { sram8KB: 10, sram32KB: 20, sram1MB: 100, dram: 1300 },
};

/** Reads a user's table: every field must be present and a non-negative number. */
export function parseEnergyTable(json: unknown): EnergyTable {
  const table = json as EnergyTable;
  const sections = ['operations', 'gates', 'memory'] as const;
  for (const section of sections) {
    for (const key of Object.keys(DEFAULT_ENERGY_TABLE[section])) {
      const value = (table?.[section] as Record<string, unknown> | undefined)?.[key];
      if (typeof value !== 'number' || !(value >= 0)) {
        throw new Error(
          `energy table: ${section}.${key} must be a non-negative number (pJ or gates), got ${JSON.stringify(value)}`,
        );
      }
    }
  }
  return table;
}

/** pJ of an integer adder `bits` wide: linear between the table's int8 and int32 adders. */
export function integerAddEnergy(table: EnergyTable, bits: number): number {
  const { int8Add, int32Add } = table.operations;
  return int8Add + ((bits - 8) * (int32Add - int8Add)) / 24;
}

/** pJ of one product under a scheme (SPEC §7). */
export function productEnergy(table: EnergyTable, scheme: Scheme): number {
  const { operations: op, gates } = table;
  if (scheme.rule !== 'exact') {
    // An L-Mul product is one integer addition over the operand's exponent and mantissa fields.
    return integerAddEnergy(table, scheme.operandFormat.expBits + scheme.operandFormat.manBits);
  }
  switch (scheme.operandFormat.name) {
    case 'fp32':
      return op.fp32Mul;
    case 'fp16':
    case 'bf16': // no measured bf16 figure: its 8-bit significand multiplier is smaller than fp16's, so fp16 is an upper bound
      return op.fp16Mul;
    case 'e4m3':
      return (op.fp16Mul * gates.e4m3Multiplier) / gates.fp16Multiplier;
    case 'e5m2':
      return (op.fp16Mul * gates.e5m2Multiplier) / gates.fp16Multiplier;
    default:
      throw new Error(`no energy figure for operand format ${scheme.operandFormat.name}`);
  }
}

/** pJ of one addition into an accumulator of the named format. */
export function accumulationEnergy(table: EnergyTable, accumulator: string): number {
  const { fp32Add, fp16Add } = table.operations;
  if (accumulator === 'fp32') return fp32Add;
  if (accumulator === 'fp16' || accumulator === 'bf16') return fp16Add;
  return fp16Add / 2; // fp8 adders: no figure; scaled from fp16 by width
}

/** Bytes per stored element of a weight in the scheme's operand format (exact: fp32). */
function weightBytes(scheme: Scheme): number {
  const { expBits, manBits } = scheme.operandFormat;
  return (1 + expBits + manBits) / 8;
}

export interface NodeEnergy {
  /** Arithmetic only: products plus accumulations. */
  readonly exactPj: number;
  readonly schemePj: number;
  /** Arithmetic plus memory traffic (weights at the operand width, activations at fp32). */
  readonly exactWithMemoryPj: number;
  readonly schemeWithMemoryPj: number;
}

export interface EnergySettings {
  readonly table: EnergyTable;
  readonly accumulation: string;
  readonly memoryLevel: MemoryLevel;
  readonly enabledGroups: Readonly<Record<MultiplyGroup, boolean>>;
}

export function nodeEnergy(counts: OpCounts, preset: string, settings: EnergySettings): NodeEnergy {
  const { table, accumulation, memoryLevel, enabledGroups } = settings;
  const scheme = parseScheme(preset);
  const exactProduct = table.operations.fp32Mul;
  const schemeProduct = productEnergy(table, scheme);
  let exactPj = counts.accumulations * table.operations.fp32Add;
  let schemePj = counts.accumulations * accumulationEnergy(table, accumulation);
  for (const group of Object.keys(counts.multiplies) as MultiplyGroup[]) {
    const n = counts.multiplies[group];
    exactPj += n * exactProduct;
    schemePj += n * (enabledGroups[group] ? schemeProduct : exactProduct);
  }
  const perByte = table.memory[memoryLevel] / 8;
  const activationPj = counts.activationElements * 4 * perByte;
  return {
    exactPj,
    schemePj,
    exactWithMemoryPj: exactPj + activationPj + counts.weightElements * 4 * perByte,
    schemeWithMemoryPj: schemePj + activationPj + counts.weightElements * weightBytes(scheme) * perByte,
  };
}
