/** `lmul-audit run`: one forward pass of a model under a multiply scheme, outputs written as output_K.pb. */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { syntheticInput, type DimBindings } from '../audit/inputs';
import { readSampleFolder } from '../audit/samples';
import { nodeSampleFiles } from '../audit/samples-node';
import { MultiplyContext, type AccumulationName, type Fp8Scaling } from '../engine/multiply';
import { Session } from '../engine/session';
import { encodeTensorProto } from '../onnx';
import { loadModelFile } from '../onnx/node-fs';

export interface RunCommandOptions {
  readonly model: string;
  readonly scheme: string;
  readonly accumulation: AccumulationName;
  readonly fp8Scaling: Fp8Scaling;
  readonly inputsDir: string | undefined;
  readonly seed: number;
  readonly dims: DimBindings;
  readonly outDir: string;
}

export async function runModelCommand(options: RunCommandOptions): Promise<string> {
  const model = await loadModelFile(options.model);
  const session = new Session(model);
  const inputs = model.graph.inputs.filter((i) => !i.isInitializer);
  const feeds = options.inputsDir
    ? readSampleFolder(inputs, options.inputsDir, nodeSampleFiles)
    : new Map(inputs.map((input, k) => [input.name, syntheticInput(input, options.dims, options.seed + k)]));
  const multiply = new MultiplyContext({
    scheme: options.scheme,
    accumulation: options.accumulation,
    fp8Scaling: options.fp8Scaling,
  });
  const started = performance.now();
  const outputs = session.run(feeds, { multiply });
  const seconds = (performance.now() - started) / 1000;
  await mkdir(options.outDir, { recursive: true });
  const lines: string[] = [];
  let k = 0;
  for (const [name, value] of outputs) {
    if (value === undefined || Array.isArray(value))
      throw new Error(`output "${name}" is not a tensor; only tensor outputs can be written`);
    await writeFile(join(options.outDir, `output_${k}.pb`), encodeTensorProto({ ...value, name }));
    lines.push(`output_${k}.pb  ${name}  ${value.dtype} [${value.dims.join(', ')}]`);
    k++;
  }
  return `ran ${options.model} under ${multiply.scheme.preset} (accumulation ${multiply.accumulator.name}) in ${seconds.toFixed(2)} s\n${lines.join('\n')}\n`;
}
