/**
 * Node only, like the GEMM pool: V8 first compiles WebAssembly with its baseline compiler (Liftoff) and
 * swaps in optimized code in the background. The engine's kernels are few and run for the whole process, and
 * a kernel left on baseline code made whole runs a third slower at random (one benchmark process in two), so
 * a Node process of our own (the CLI, the benchmarks) compiles them optimized from the start. Call it before
 * the first kernel runs. V8's flags are the whole process's: the extension's worker, which lives in VS
 * Code's extension host, leaves them alone, as do browsers.
 */
import { setFlagsFromString } from 'node:v8';

export function compileKernelsOptimized(): void {
  setFlagsFromString('--no-liftoff');
}
