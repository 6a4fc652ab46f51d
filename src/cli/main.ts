/** The headless `lmul-audit` command line: the same engine and audit the extension uses. */
import { parseArgs } from 'node:util';
import { parseScheme, SchemeError } from '../arith';
import { UsageError } from './errors';
import { runInspect } from './inspectCommand';
import { runMul } from './mul';
import { runNumericsCommand } from './numericsCommand';

const USAGE = `lmul-audit — simulate L-Mul and fp8 multiplication, audit ONNX models

Usage:
  lmul-audit mul --scheme <preset>[:trunc]     multiply fp32 bit-pattern pairs read from stdin
  lmul-audit numerics [--samples N] [--seed S] [--out DIR]
                                              single-multiplication error of every scheme
  lmul-audit inspect <model.onnx> [--json]     model facts and its multiply-bearing nodes

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
};

function positiveInteger(text: string, flag: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 1) throw new UsageError(`${flag} must be a positive integer, got "${text}"`);
  return n;
}

async function main(argv: string[]): Promise<number> {
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
