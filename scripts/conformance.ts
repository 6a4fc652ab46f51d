// Prints pass / fail / unsupported per operator over the ONNX conformance data (exact mode).
// Usage: npx tsx scripts/conformance.ts [--op Conv] [--case test_conv] [--verbose]
import { parseArgs } from 'node:util';
import { listCases, runCase, type CaseResult } from '../test/conformance/runner';

const { values } = parseArgs({
  options: { op: { type: 'string' }, case: { type: 'string' }, verbose: { type: 'boolean' } },
});
async function main(): Promise<void> {
  const results: CaseResult[] = [];
  for (const c of listCases()) {
    if (values.case && !c.name.includes(values.case)) continue;
    const r = await runCase(c);
    if (values.op && r.op !== values.op && !r.op.startsWith(`${values.op} `)) continue;
    results.push(r);
    if (values.verbose || (values.op && r.outcome !== 'pass'))
      console.log(`${r.outcome.padEnd(11)} ${r.suite}/${r.name} [${r.op}] ${r.detail}`);
  }
  const byOp = new Map<string, Record<string, number>>();
  for (const r of results) {
    const row = byOp.get(r.op) ?? { pass: 0, fail: 0, unsupported: 0 };
    row[r.outcome]!++;
    byOp.set(r.op, row);
  }
  console.log(`${'operator'.padEnd(48)} pass  fail  unsupported`);
  for (const [op, row] of [...byOp].sort((a, b) => a[0].localeCompare(b[0]))) {
    console.log(
      `${op.padEnd(48)} ${String(row.pass).padStart(4)}  ${String(row.fail).padStart(4)}  ${String(row.unsupported).padStart(11)}`,
    );
  }
  const total = (o: string) => results.filter((r) => r.outcome === o).length;
  console.log(
    `total: ${total('pass')} pass, ${total('fail')} fail, ${total('unsupported')} unsupported of ${results.length} cases`,
  );
}

void main();
