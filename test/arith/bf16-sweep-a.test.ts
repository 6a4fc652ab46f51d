// All 65,536 bf16 patterns as operand a against a rotating sample of b (special, tiny, huge, ordinary):
// first half of the presets, rne and :trunc.
import { bf16Sweep } from './drivers';
import { ORACLE_PRESETS } from '../oracle/oracle';

bf16Sweep(ORACLE_PRESETS.slice(0, 27), 0);
