/** The audit as the extension's webviews show it (src/protocol/messages.ts `AuditView`), from a pipeline result. */
import type { AuditView, MetricView } from '../protocol/messages';
import type { ErrorMetrics } from './metrics';
import type { AuditPipelineResult } from './pipeline';
import type { SampleSpec } from './inputs';

function metricView({ relL2, sqnrDb, cosine, maxAbs, top1 }: ErrorMetrics): MetricView {
  return { relL2, sqnrDb, cosine, maxAbs, top1 };
}

function mapValues<T, U>(record: Readonly<Record<string, T>>, f: (value: T) => U): Record<string, U> {
  return Object.fromEntries(Object.entries(record).map(([key, value]) => [key, f(value)]));
}

function describeInputs(inputs: SampleSpec): string {
  if (inputs.kind === 'files') return `inputs from ${inputs.dir}`;
  return `${inputs.samples} synthetic sample${inputs.samples === 1 ? '' : 's'} (seed ${inputs.seed})`;
}

export function auditView(result: AuditPipelineResult): AuditView {
  const { audit, energy, plan } = result;
  const settings = [
    `accumulation ${audit.settings.accumulation}`,
    `fp8 scaling ${audit.settings.fp8Scaling}`,
    describeInputs(plan.inputs),
  ].join(' · ');
  return {
    modelSha256: plan.model.sha256,
    schemes: audit.schemes,
    settings,
    seconds: result.seconds,
    nodes: audit.nodes.map((node) => ({
      name: node.name,
      opType: node.opType,
      group: node.group,
      multiplies: Object.values(node.counts.multiplies).reduce((sum, n) => sum + n, 0),
      schemes: Object.fromEntries(
        audit.schemes.map((scheme) => {
          const e = energy.get(node.name)![scheme]!;
          const savedPj = e.exactPj - e.schemePj;
          return [
            scheme,
            {
              isolated: metricView(node.schemes[scheme]!.isolated),
              propagated: metricView(node.schemes[scheme]!.propagated),
              savedPj,
              savedFraction: e.exactPj > 0 ? savedPj / e.exactPj : 0,
            },
          ];
        }),
      ),
    })),
    propagated: mapValues(audit.propagated, (perScheme) => mapValues(perScheme, metricView)),
    outputs: mapValues(audit.outputs, (perScheme) => mapValues(perScheme, metricView)),
    plan: {
      budget: plan.budget,
      assignment: plan.assignment,
      savedFraction: plan.energy.savedFraction,
      savedFractionWithMemory: plan.energy.withMemory.savedFraction,
      meetsBudget: plan.verified.meetsBudget,
      value: plan.verified.value,
    },
  };
}
