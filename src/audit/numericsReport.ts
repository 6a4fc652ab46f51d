/** Renders the numerics experiment as Markdown and as an SVG plot (error vs mantissa bits). */
import type { Distribution, Family, NumericsResult } from './numerics';

const sci = (x: number) => x.toExponential(2);

export function numericsMarkdown(result: NumericsResult): string {
  const lines = [
    '# Single-multiplication precision: L-Mul vs fp8 vs bf16/fp16',
    '',
    `${result.samples.toLocaleString('en-US')} operand pairs per distribution (seed ${result.seed}); relative error ` +
      '|p − a·b| / |a·b| against the exact product of the fp32 operands, one multiplication at a time as `lmul-audit mul` ' +
      'does (no fp8 scaling: both distributions lie inside the fp8 ranges); `-mul` rounds each product into the fp8 format. ' +
      'Expected L-Mul error: ' +
      `${result.expectationModel}.`,
    '',
    '## Claims of the paper',
    '',
    '| claim | L-Mul | fp8 | operands | mean L-Mul | mean fp8 | ratio | median ratio | verdict |',
    '|---|---|---|---|---|---|---|---|---|',
    ...result.claims.map(
      (c) =>
        `| ${c.claim} | \`${c.lmulPreset}\` | \`${c.fp8Preset}\` | ${c.distribution} | ${sci(c.lmulMean)} | ` +
        `${sci(c.fp8Mean)} | ${c.ratio.toFixed(3)} | ${c.medianRatio.toFixed(3)} | **${c.verdict}** |`,
    ),
    '',
    'Ratio below 1: L-Mul is more precise. "rne" operands are rounded to nearest even (the fair baseline), ',
    "`:trunc` operands are truncated (what the paper's error analysis assumed).",
    '',
    '## All schemes',
    '',
    '| preset | family | mantissa bits | normal: mean | median | max | uniform: mean | median | max | expected mean |',
    '|---|---|---|---|---|---|---|---|---|---|',
    ...result.rows.map((r) => {
      const { normal: n, uniform: u } = r.measured;
      return (
        `| \`${r.preset}\` | ${r.family} | ${r.mantissaBits} | ${sci(n.mean)} | ${sci(n.median)} | ${sci(n.max)} | ` +
        `${sci(u.mean)} | ${sci(u.median)} | ${sci(u.max)} | ${r.expectedMean === null ? '–' : sci(r.expectedMean)} |`
      );
    }),
    '',
  ];
  return lines.join('\n');
}

const SERIES: { family: Family; rounding: 'rne' | 'trunc'; label: string; color: string; dash: string }[] = [
  { family: 'lmul-adder', rounding: 'rne', label: 'L-Mul adder, rne', color: '#1f77b4', dash: '' },
  { family: 'lmul-adder', rounding: 'trunc', label: 'L-Mul adder, trunc', color: '#1f77b4', dash: '6 4' },
  { family: 'lmul-formula', rounding: 'rne', label: 'L-Mul formula, rne', color: '#2ca02c', dash: '' },
  { family: 'lmul-formula', rounding: 'trunc', label: 'L-Mul formula, trunc', color: '#2ca02c', dash: '6 4' },
  { family: 'fp8-mul', rounding: 'rne', label: 'fp8 multiplier (e5m2, e4m3), rne', color: '#d62728', dash: '' },
  { family: 'fp8-mul', rounding: 'trunc', label: 'fp8 multiplier, trunc', color: '#d62728', dash: '6 4' },
  { family: 'float', rounding: 'rne', label: 'bf16 / fp16 operands, rne', color: '#9467bd', dash: '' },
  { family: 'float', rounding: 'trunc', label: 'bf16 / fp16 operands, trunc', color: '#9467bd', dash: '6 4' },
];

/** Two panels (one per distribution): mean relative error (log scale) against operand mantissa bits. */
export function numericsSvg(result: NumericsResult): string {
  const panelWidth = 420;
  const panelHeight = 300;
  const margin = { left: 60, right: 20, top: 40, bottom: 50 };
  const legendHeight = 130;
  const width = 2 * (panelWidth + margin.left + margin.right);
  const height = panelHeight + margin.top + margin.bottom + legendHeight;
  const means = result.rows.flatMap((r) => [r.measured.normal.mean, r.measured.uniform.mean]);
  const logMin = Math.floor(Math.log10(Math.min(...means)));
  const logMax = Math.ceil(Math.log10(Math.max(...means)));
  const xBits = { min: 1.5, max: 10.5 };
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
  ];
  (['normal', 'uniform'] as Distribution[]).forEach((distribution, panel) => {
    const x0 = panel * (panelWidth + margin.left + margin.right) + margin.left;
    const y0 = margin.top;
    const px = (bits: number) => x0 + ((bits - xBits.min) / (xBits.max - xBits.min)) * panelWidth;
    const py = (err: number) => y0 + ((logMax - Math.log10(err)) / (logMax - logMin)) * panelHeight;
    parts.push(
      `<text x="${x0 + panelWidth / 2}" y="${y0 - 15}" text-anchor="middle" font-weight="bold">` +
        `Mean relative error, ${escapeXml(result.distributions[distribution])}</text>`,
      `<rect x="${x0}" y="${y0}" width="${panelWidth}" height="${panelHeight}" fill="none" stroke="#333"/>`,
    );
    for (let e = logMin; e <= logMax; e++) {
      const y = py(10 ** e);
      parts.push(
        `<line x1="${x0}" x2="${x0 + panelWidth}" y1="${y}" y2="${y}" stroke="#ddd"/>`,
        `<text x="${x0 - 6}" y="${y + 4}" text-anchor="end">1e${e}</text>`,
      );
    }
    for (let bits = 2; bits <= 10; bits++) {
      parts.push(`<text x="${px(bits)}" y="${y0 + panelHeight + 18}" text-anchor="middle">${bits}</text>`);
    }
    parts.push(
      `<text x="${x0 + panelWidth / 2}" y="${y0 + panelHeight + 38}" text-anchor="middle">operand mantissa bits</text>`,
    );
    for (const series of SERIES) {
      const points = result.rows
        .filter((r) => r.family === series.family && r.rounding === series.rounding)
        .map((r) => `${px(r.mantissaBits).toFixed(1)},${py(r.measured[distribution].mean).toFixed(1)}`);
      parts.push(
        `<polyline points="${points.join(' ')}" fill="none" stroke="${series.color}" stroke-width="2"` +
          `${series.dash ? ` stroke-dasharray="${series.dash}"` : ''}/>`,
        ...points.map((p) => {
          const [cx, cy] = p.split(',');
          return `<circle cx="${cx}" cy="${cy}" r="3" fill="${series.color}"/>`;
        }),
      );
      // The expected L-Mul error (reciprocal mantissa law) as hollow rings around the measured points.
      for (const r of result.rows) {
        if (r.family !== series.family || r.rounding !== series.rounding || r.expectedMean === null) continue;
        parts.push(
          `<circle cx="${px(r.mantissaBits).toFixed(1)}" cy="${py(r.expectedMean).toFixed(1)}" r="6" fill="none" stroke="${series.color}"/>`,
        );
      }
    }
  });
  const legendTop = margin.top + panelHeight + margin.bottom + 10;
  SERIES.forEach((series, i) => {
    const x = margin.left + (i % 2) * 320;
    const y = legendTop + Math.floor(i / 2) * 22;
    parts.push(
      `<line x1="${x}" x2="${x + 36}" y1="${y}" y2="${y}" stroke="${series.color}" stroke-width="2"` +
        `${series.dash ? ` stroke-dasharray="${series.dash}"` : ''}/>`,
      `<text x="${x + 44}" y="${y + 4}">${escapeXml(series.label)}</text>`,
    );
  });
  parts.push(
    `<circle cx="${margin.left + 18}" cy="${legendTop + 4 * 22}" r="6" fill="none" stroke="#333"/>`,
    `<text x="${margin.left + 44}" y="${legendTop + 4 * 22 + 4}">expected L-Mul error (reciprocal mantissa law)</text>`,
    '</svg>',
    '',
  );
  return parts.join('\n');
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
