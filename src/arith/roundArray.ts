/**
 * Rounding whole fp32 arrays into a format, on the fp32 bit patterns: the engine's fast form of
 * `roundToFormat` (which stays the definition; tests compare the two on every case that matters).
 * Within the format's normal range, rounding to M mantissa bits is an integer operation on the pattern:
 * add half a quantum (plus the tie-to-even bit) and clear the dropped bits; a carry correctly bumps the
 * exponent. Values outside that range, and specials, take the exact scalar path.
 */
import { roundToFormat, type FloatFormat, type RoundingMode } from './formats';

export function roundArray(values: Float32Array, format: FloatFormat, mode: RoundingMode, factor = 1): Float32Array {
  const out = new Float32Array(values.length);
  const bits = new Uint32Array(out.buffer);
  const drop = 23 - format.manBits;
  const keepMask = ~((1 << drop) - 1) >>> 0;
  const half = drop > 0 ? (1 << (drop - 1)) - 1 : 0;
  // fp32 exponent fields of the format's normal binades [emin, emax]; also the whole subnormal range when
  // the format shares fp32's exponent range (e8mK, bf16), whose subnormal grid is linear in the pattern too.
  const lowField = format.emin === -126 ? 0 : format.emin + 127;
  const highField = format.emax + 127;
  for (let i = 0; i < values.length; i++) out[i] = values[i]! * factor;
  for (let i = 0; i < out.length; i++) {
    const b = bits[i]!;
    const field = (b >>> 23) & 0xff;
    if (field < lowField || field > highField) {
      out[i] = roundToFormat(out[i]!, format, mode);
      continue;
    }
    let r = mode === 'rne' && drop > 0 ? (b + half + ((b >>> drop) & 1)) & keepMask : b & keepMask;
    r >>>= 0;
    bits[i] = r;
    // A carry out of the top binade: let the exact path apply the format's overflow rule.
    if (((r >>> 23) & 0xff) > highField || Math.abs(out[i]!) > format.maxFinite)
      out[i] = roundToFormat(values[i]! * factor, format, mode);
  }
  return out;
}
