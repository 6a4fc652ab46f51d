/**
 * protobufjs hands out 64-bit integers as Long objects when the `long` package is installed and as
 * plain numbers otherwise; these helpers accept both.
 */

interface LongLike {
  readonly low: number;
  readonly high: number;
}

export type Int64 = number | LongLike;

export function int64ToBigInt(v: Int64, unsigned = false): bigint {
  const exact = typeof v === 'number' ? BigInt(v) : (BigInt(v.high) << 32n) | BigInt(v.low >>> 0);
  return unsigned ? BigInt.asUintN(64, exact) : BigInt.asIntN(64, exact);
}

/** The value as a double; values beyond ±2^53 (e.g. INT64_MAX "until the end" sentinels) are rounded. */
export function int64ToNumber(v: Int64): number {
  return typeof v === 'number' ? v : v.high * 4294967296 + (v.low >>> 0);
}

/** The value if it is an exactly representable integer, else undefined. */
export function int64ToSafeInteger(v: Int64): number | undefined {
  const n = int64ToNumber(v);
  return Number.isSafeInteger(n) ? n : undefined;
}
