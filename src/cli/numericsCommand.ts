/** `lmul-audit numerics`: the single-multiplication experiment, written as JSON, Markdown and SVG. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runNumericsExperiment } from '../audit/numerics';
import { numericsMarkdown, numericsSvg } from '../audit/numericsReport';

export function runNumericsCommand(options: { samples: number; seed: number; outDir: string }): string {
  const result = runNumericsExperiment({ samples: options.samples, seed: options.seed });
  mkdirSync(options.outDir, { recursive: true });
  const markdown = numericsMarkdown(result);
  writeFileSync(join(options.outDir, 'results.json'), JSON.stringify(result, null, 2) + '\n');
  writeFileSync(join(options.outDir, 'results.md'), markdown);
  writeFileSync(join(options.outDir, 'error-vs-mantissa-bits.svg'), numericsSvg(result));
  return markdown;
}
