/** The headless `lmul-audit` command line: the same engine and audit the extension uses. */
import { ACCUMULATORS, FP8_SCALINGS, MEMORY_LEVELS } from '../audit/choices';
import { parseArgs } from 'node:util';
import type { DimBindings } from '../audit/inputs';
import { parseScheme, SchemeError } from '../arith';
import { CancelledError } from '../engine/types';
import { UsageError } from './errors';
import { runAuditCommand, runVerifyCommand } from './auditCommand';
import { runInspect } from './inspectCommand';
import { runMul } from './mul';
import { runNumericsCommand } from './numericsCommand';
import { runModelCommand } from './runCommand';
import { startGemmPool } from '../engine/parallel/node-pool';
import { compileKernelsOptimized } from '../engine/parallel/wasm-tiering';

const USAGE = `lmul-audit — simulate L-Mul and fp8 multiplication, audit ONNX models

Usage:
  lmul-audit mul --scheme <preset>[:trunc]     multiply fp32 bit-pattern pairs read from stdin
  lmul-audit numerics [--samples N] [--seed S] [--out DIR]
                                              single-multiplication error of every scheme
  lmul-audit inspect <model.onnx> [--json]     model facts and its multiply-bearing nodes
  lmul-audit run <model.onnx> [--scheme P] [--accum fp32|bf16|fp16|e4m3|e5m2] [--fp8-scaling per-tensor|none]
                 [--inputs DIR | --seed N] [--dim NAME=SIZE ...] [--out DIR]
                                              one forward pass; writes output_K.pb files
  lmul-audit audit <model.onnx> [--schemes lmul3,lmul4,e4m3,e5m2] [--budget sqnr>=30] [--samples N] [--seed S]
                 [--inputs DIR] [--dim NAME=SIZE ...] [--accum A] [--fp8-scaling S] [--exact-normalization]
                 [--activations] [--energy TABLE.json] [--memory-level sram8KB|sram32KB|sram1MB|dram]
                 [--max-evaluations N] [--ort-debug QDQ.json] [--out DIR]
                                              per-node error, energy and a verified conversion plan
  lmul-audit verify <plan.json> <model.onnx>   re-run a plan on its recorded inputs and check its budget

Presets: exact, lmulK and lmulK-formula (K = 1..23), e4m3, e5m2, e4m3-mul, e5m2-mul, bf16, fp16.
`;

type Command = (args: string[]) => Promise<void>;

const COMMANDS: Record<string, Command> = {
  async mul(args) {
    const { values } = parseArgs({ args, options: { scheme: { type: 'string' } }, strict: true });
    if (!values.scheme) throw new UsageError('mul needs --scheme <preset>');
    await runMul(parseScheme(values.scheme), process.stdin, process.stdout);
  },
  async numerics(args) {
    const { values } = parseArgs({
      args,
      options: {
        samples: { type: 'string', default: '100000' },
        seed: { type: 'string', default: '1' },
        out: { type: 'string', default: 'numerics-out' },
      },
      strict: true,
    });
    const samples = positiveInteger(values.samples!, '--samples');
    const seed = positiveInteger(values.seed!, '--seed');
    process.stdout.write(runNumericsCommand({ samples, seed, outDir: values.out! }));
    process.stderr.write(`wrote results.json, results.md and error-vs-mantissa-bits.svg to ${values.out}\n`);
  },
  async inspect(args) {
    const { values, positionals } = parseArgs({
      args,
      options: { json: { type: 'boolean', default: false } },
      allowPositionals: true,
      strict: true,
    });
    if (positionals.length !== 1) throw new UsageError('inspect needs exactly one model path');
    process.stdout.write(await runInspect(positionals[0]!, values.json!));
  },
  async run(args) {
    const { values, positionals } = parseArgs({
      args,
      options: {
        scheme: { type: 'string', default: 'exact' },
        accum: { type: 'string', default: 'fp32' },
        'fp8-scaling': { type: 'string', default: 'per-tensor' },
        inputs: { type: 'string' },
        seed: { type: 'string', default: '1' },
        dim: { type: 'string', multiple: true, default: [] },
        out: { type: 'string', default: 'run-out' },
        threads: { type: 'string', default: '1' },
      },
      allowPositionals: true,
      strict: true,
    });
    if (positionals.length !== 1) throw new UsageError('run needs exactly one model path');
    parseScheme(values.scheme!);
    const pool = startGemmPool(positiveInteger(values.threads!, '--threads'));
    const report = await runModelCommand({
      model: positionals[0]!,
      scheme: values.scheme!,
      accumulation: oneOf(values.accum!, ACCUMULATORS, '--accum'),
      fp8Scaling: oneOf(values['fp8-scaling']!, FP8_SCALINGS, '--fp8-scaling'),
      inputsDir: values.inputs,
      seed: positiveInteger(values.seed!, '--seed'),
      dims: dimBindings(values.dim!),
      outDir: values.out!,
    }).finally(() => pool?.close());
    process.stderr.write(report);
  },
  async audit(args) {
    const { values, positionals } = parseArgs({
      args,
      options: {
        schemes: { type: 'string', default: 'lmul3,lmul4,e4m3,e5m2' },
        budget: { type: 'string', default: 'sqnr>=30' },
        samples: { type: 'string', default: '1' },
        seed: { type: 'string', default: '1' },
        inputs: { type: 'string' },
        dim: { type: 'string', multiple: true, default: [] },
        accum: { type: 'string', default: 'fp32' },
        'fp8-scaling': { type: 'string', default: 'per-tensor' },
        'exact-normalization': { type: 'boolean', default: false },
        activations: { type: 'boolean', default: false },
        energy: { type: 'string' },
        'memory-level': { type: 'string', default: 'sram1MB' },
        'max-evaluations': { type: 'string', default: '30' },
        'ort-debug': { type: 'string' },
        out: { type: 'string', default: 'audit-out' },
        threads: { type: 'string', default: '1' },
      },
      allowPositionals: true,
      strict: true,
    });
    if (positionals.length !== 1) throw new UsageError('audit needs exactly one model path');
    const schemes = values
      .schemes!.split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    for (const scheme of schemes) parseScheme(scheme);
    const dims = dimBindings(values.dim!);
    const pool = startGemmPool(positiveInteger(values.threads!, '--threads'));
    const summary = await runAuditCommand({
      model: positionals[0]!,
      schemes,
      accumulation: oneOf(values.accum!, ACCUMULATORS, '--accum'),
      fp8Scaling: oneOf(values['fp8-scaling']!, FP8_SCALINGS, '--fp8-scaling'),
      replaceNormalization: !values['exact-normalization'],
      replaceActivation: values.activations!,
      inputs: values.inputs
        ? { kind: 'files', dir: values.inputs }
        : {
            kind: 'synthetic',
            seed: positiveInteger(values.seed!, '--seed'),
            samples: positiveInteger(values.samples!, '--samples'),
            dims: Object.fromEntries(dims.named),
            ...(dims.defaultDim === undefined ? {} : { defaultDim: dims.defaultDim }),
          },
      budget: values.budget!,
      energyFile: values.energy,
      memoryLevel: oneOf(values['memory-level']!, MEMORY_LEVELS, '--memory-level'),
      maxEvaluations: positiveInteger(values['max-evaluations']!, '--max-evaluations'),
      ortDebugFile: values['ort-debug'],
      outDir: values.out!,
      signal: interruptSignal(),
    }).finally(() => pool?.close());
    process.stdout.write(summary);
  },
  async verify(args) {
    const { positionals } = parseArgs({ args, allowPositionals: true, strict: true });
    if (positionals.length !== 2) throw new UsageError('verify needs a plan.json and a model path');
    const { ok, text } = await runVerifyCommand(positionals[0]!, positionals[1]!, interruptSignal());
    process.stdout.write(text);
    if (!ok) throw new VerificationFailed();
  },
};

/** A plan that no longer holds: exit code 1, the reason is already printed. */
class VerificationFailed extends Error {
  constructor() {
    super('the plan did not verify');
  }
}

/** Ctrl-C cancels the running command between two nodes instead of killing it mid-write. */
function interruptSignal(): AbortSignal {
  const controller = new AbortController();
  process.once('SIGINT', () => {
    process.stderr.write('\ncancelling…\n');
    controller.abort();
  });
  return controller.signal;
}

function oneOf<T extends string>(value: string, allowed: readonly T[], flag: string): T {
  if (!(allowed as readonly string[]).includes(value))
    throw new UsageError(`${flag} must be one of ${allowed.join(', ')}, got "${value}"`);
  return value as T;
}

/** `--dim batch=1 --dim W=320`: sizes for symbolic input dimensions (`--dim 1` sets every unnamed one). */
function dimBindings(specs: string[]): DimBindings {
  const named = new Map<string, number>();
  let defaultDim: number | undefined;
  for (const spec of specs) {
    const eq = spec.lastIndexOf('=');
    if (eq < 0) defaultDim = positiveInteger(spec, '--dim');
    else named.set(spec.slice(0, eq), positiveInteger(spec.slice(eq + 1), `--dim ${spec.slice(0, eq)}`));
  }
  return { named, defaultDim };
}

function positiveInteger(text: string, flag: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 1) throw new UsageError(`${flag} must be a positive integer, got "${text}"`);
  return n;
}

async function main(argv: string[]): Promise<number> {
  compileKernelsOptimized(); // the CLI is its own process: no baseline kernels for its runs and audits
  const [name, ...args] = argv;
  if (!name || name === 'help' || name === '--help' || name === '-h') {
    process.stdout.write(USAGE);
    return name ? 0 : 2;
  }
  const command = COMMANDS[name];
  try {
    if (!command) throw new UsageError(`unknown command "${name}"`);
    await command(args);
    return 0;
  } catch (error) {
    if (error instanceof CancelledError) {
      process.stderr.write('lmul-audit: cancelled\n');
      return 130;
    }
    const usage = error instanceof UsageError || error instanceof SchemeError || isParseArgsError(error);
    process.stderr.write(`lmul-audit: ${error instanceof Error ? error.message : String(error)}\n`);
    if (usage) process.stderr.write(`\n${USAGE}`);
    return usage ? 2 : 1;
  }
}

function isParseArgsError(error: unknown): boolean {
  return error instanceof TypeError && String((error as { code?: string }).code).startsWith('ERR_PARSE_ARGS');
}

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
