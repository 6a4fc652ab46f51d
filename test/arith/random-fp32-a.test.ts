// 20,000 seeded random fp32 pairs per preset and mode (normals, subnormals, ±0, ±inf, NaNs, exact ties of
// the operand format, overflow and underflow edges): first half of the presets.
import { randomFp32 } from './drivers';
import { ORACLE_PRESETS } from '../oracle/oracle';

randomFp32(ORACLE_PRESETS.slice(0, 27), 20000);
