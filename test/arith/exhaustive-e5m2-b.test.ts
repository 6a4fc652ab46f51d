// Every e5m2×e5m2 operand pair (all 256×256 patterns as fp32), second half of the presets, rne and :trunc.
import { exhaustivePairs } from './drivers';
import { E5M2_AS_FP32 } from './harness';
import { ORACLE_PRESETS } from '../oracle/oracle';

exhaustivePairs('e5m2×e5m2', ORACLE_PRESETS.slice(27), E5M2_AS_FP32);
