/** Input samples from files (Node only): a folder of input_K.pb, or of test_data_set_N folders holding them. */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { decodeTensorProto, type GraphInput, type Tensor } from '../onnx';
import { EngineError } from '../engine/types';
import { syntheticSamples, type SampleSpec } from './inputs';

export function loadSamples(inputs: readonly GraphInput[], spec: SampleSpec): Map<string, Tensor>[] {
  if (spec.kind === 'synthetic') return syntheticSamples(inputs, spec);
  if (!existsSync(spec.dir) || !statSync(spec.dir).isDirectory())
    throw new EngineError(`input folder ${spec.dir} does not exist`);
  const sets = readdirSync(spec.dir)
    .filter((d) => d.startsWith('test_data_set_'))
    .sort()
    .map((d) => join(spec.dir, d));
  return (sets.length > 0 ? sets : [spec.dir]).map((dir) => readSample(inputs, dir));
}

function readSample(inputs: readonly GraphInput[], dir: string): Map<string, Tensor> {
  return new Map(
    inputs.map((input, k) => {
      const file = join(dir, `input_${k}.pb`);
      if (!existsSync(file))
        throw new EngineError(`${file} is missing: the model has ${inputs.length} inputs (${input.name} is #${k})`);
      return [input.name, decodeTensorProto(readFileSync(file))];
    }),
  );
}
