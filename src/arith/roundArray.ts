/**
 * Rounding fp32 values into a format on their bit patterns: the engine's fast form of `roundToFormat`
 * (which stays the definition; tests compare the two on every case that matters). Within the format's
 * normal range, rounding to M mantissa bits is an integer operation on the pattern: add half a quantum
 * (plus the tie-to-even bit) and clear the dropped bits; a carry correctly bumps the exponent. Values
 * outside that range, and specials, take the exact scalar path.
 */
import { roundToFormat, type FloatFormat, type RoundingMode } from './formats';

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** A function rounding an fp32 value (a double holding one) into `format`. */
export function fp32Rounder(format: FloatFormat, mode: RoundingMode): (v: number) => number {
  const drop = 23 - format.manBits;
  const keepMask = ~((1 << drop) - 1) >>> 0;
  const half = drop > 0 ? (1 << (drop - 1)) - 1 : 0;
  const rne = mode === 'rne' && drop > 0;
  // fp32 exponent fields of the format's normal binades [emin, emax]; also the whole subnormal range when
  // the format shares fp32's exponent range (e8mK, bf16), whose subnormal grid is linear in the pattern too.
  const lowField = format.emin === -126 ? 0 : format.emin + 127;
  const highField = format.emax + 127;
  return (v) => {
    f32[0] = v;
    const b = u32[0]!;
    const field = (b >>> 23) & 0xff;
    if (field < lowField || field > highField) return roundToFormat(v, format, mode);
    u32[0] = (rne ? (b + half + ((b >>> drop) & 1)) & keepMask : b & keepMask) >>> 0;
    const r = f32[0]!;
    // A carry out of the top binade: the exact path applies the format's overflow rule.
    return Math.abs(r) > format.maxFinite ? roundToFormat(v, format, mode) : r;
  };
}

/** Every element of `values`·factor (computed in fp32) rounded into `format`. */
export function roundArray(values: Float32Array, format: FloatFormat, mode: RoundingMode, factor = 1): Float32Array {
  const round = fp32Rounder(format, mode);
  const out = new Float32Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = round(Math.fround(values[i]! * factor));
  return out;
}
