// Timing shared by the benchmarks.

/** Warm-up of each contender: at least one run, more for fast ones (JIT tiers, weight preparation, pools). */
const WARM_UP_MS = 500;
const MAX_WARM_UP_RUNS = 50;
/** Rounds go on past `runs` until this much time has passed (fast models get more samples), at most 200. */
const MEASURE_MS = 1000;

/**
 * Median times of several contenders run in turn (one run of each per round, after their warm-ups), so that
 * load from elsewhere falls on all of them alike.
 */
export async function medians(runs: number, contenders: readonly (() => unknown)[]): Promise<number[]> {
  for (const f of contenders) {
    const start = performance.now();
    for (let i = 0; i < MAX_WARM_UP_RUNS && (i === 0 || performance.now() - start < WARM_UP_MS); i++) await f();
  }
  const times = contenders.map((): number[] => []);
  const start = performance.now();
  for (let i = 0; i < 200 && (i < runs || performance.now() - start < MEASURE_MS); i++)
    for (const [c, f] of contenders.entries()) {
      const begin = performance.now();
      await f();
      times[c]!.push(performance.now() - begin);
    }
  return times.map((t) => t.sort((a, b) => a - b)[Math.floor(t.length / 2)]!);
}
