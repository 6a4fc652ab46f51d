/** The schemes the benchmark times against our exact mode. */
export const BENCH_SCHEMES = ['exact', 'lmul3', 'lmul4', 'lmul4-formula', 'e4m3', 'e5m2', 'e4m3-mul'] as const;
