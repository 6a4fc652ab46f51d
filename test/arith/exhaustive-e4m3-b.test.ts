// Every e4m3×e4m3 operand pair (all 256×256 patterns as fp32), second half of the presets, rne and :trunc.
import { exhaustivePairs } from './drivers';
import { E4M3_AS_FP32 } from './harness';
import { ORACLE_PRESETS } from '../oracle/oracle';

exhaustivePairs('e4m3×e4m3', ORACLE_PRESETS.slice(27), E4M3_AS_FP32);
