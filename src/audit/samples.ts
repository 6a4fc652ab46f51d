/**
 * Input samples from files, read through a `SampleFiles` view of a folder (the file system in Node, files the
 * extension host read for the web worker). The folder holds one sample, or test_data_set_N folders holding
 * one sample each. A sample folder gives each graph input (K = its position among the non-initializer
 * inputs) by exactly one of:
 *   - input_K.pb   a serialized TensorProto (the ONNX test-data layout);
 *   - NAME.npy     a NumPy file named after the input, characters other than [A-Za-z0-9_-] replaced
 *                  by '_' (input "x.1" → x_1.npy);
 *   - input_K.npy  a NumPy file by position;
 *   - inputs.json  one file mapping input names to tensors (see ./tensorJson).
 * There is no precedence: an input given by two of these is an error, as is one given by none. Every
 * tensor must have the input's declared element type and agree with its declared fixed dimensions.
 */
import { decodeTensorProto, type GraphInput, type Tensor } from '../onnx';
import { EngineError } from '../engine/types';
import { join } from './paths';
import { syntheticSamples, type SampleSpec } from './inputs';
import { npyDescrOf, parseNpy } from './npy';
import { declaredDType, tensorsFromInputsJson } from './tensorJson';

export const INPUTS_JSON = 'inputs.json';

/** A read-only view of the input folder; paths are joined with '/'. */
export interface SampleFiles {
  isDirectory(path: string): boolean;
  /** Entry names of a directory. */
  list(dir: string): string[];
  /** The file's bytes, or undefined when there is no such file. */
  read(path: string): Uint8Array | undefined;
}

/** Files already in memory (read by the extension host for a web worker), keyed by '/'-joined path. */
export function memorySampleFiles(files: ReadonlyMap<string, Uint8Array>): SampleFiles {
  const isDirectory = (path: string) => [...files.keys()].some((f) => f.startsWith(`${path}/`));
  return {
    isDirectory,
    list: (dir) => [
      ...new Set(
        [...files.keys()].filter((f) => f.startsWith(`${dir}/`)).map((f) => f.slice(dir.length + 1).split('/')[0]!),
      ),
    ],
    read: (path) => files.get(path),
  };
}

export function loadSamples(
  inputs: readonly GraphInput[],
  spec: SampleSpec,
  files: SampleFiles,
): Map<string, Tensor>[] {
  if (spec.kind === 'synthetic') return syntheticSamples(inputs, spec);
  if (!files.isDirectory(spec.dir)) throw new EngineError(`input folder ${spec.dir} does not exist`);
  const sets = files
    .list(spec.dir)
    .filter((d) => d.startsWith('test_data_set_') && files.isDirectory(join(spec.dir, d)))
    .sort()
    .map((d) => join(spec.dir, d));
  return (sets.length > 0 ? sets : [spec.dir]).map((dir) => readSampleFolder(inputs, dir, files));
}

/** The .npy file name for an input: characters other than [A-Za-z0-9_-] become '_'. */
export function npyFileName(inputName: string): string {
  return `${inputName.replace(/[^A-Za-z0-9_-]/g, '_')}.npy`;
}

interface Source {
  readonly label: string;
  readonly read: () => Tensor;
}

/** The tensors of one sample folder, by input name (see the module comment for the layout). */
export function readSampleFolder(inputs: readonly GraphInput[], dir: string, files: SampleFiles): Map<string, Tensor> {
  const jsonFile = join(dir, INPUTS_JSON);
  const jsonBytes = files.read(jsonFile);
  let fromJson: Map<string, Tensor> | undefined;
  if (jsonBytes) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(new TextDecoder().decode(jsonBytes));
    } catch (e) {
      throw new EngineError(`${jsonFile} is not valid JSON: ${(e as Error).message}`);
    }
    fromJson = tensorsFromInputsJson(parsed, inputs, jsonFile);
  }
  // Which inputs claim each .npy name, to refuse names that could mean two inputs.
  const claims = new Map<string, Set<number>>();
  const claim = (file: string, k: number) => claims.set(file, (claims.get(file) ?? new Set()).add(k));
  inputs.forEach((input, k) => {
    claim(npyFileName(input.name), k);
    claim(`input_${k}.npy`, k);
  });

  return new Map(
    inputs.map((input, k): [string, Tensor] => {
      const sources: Source[] = [];
      const pb = `input_${k}.pb`;
      const pbBytes = files.read(join(dir, pb));
      if (pbBytes) sources.push({ label: pb, read: () => readPbFile(pbBytes, join(dir, pb)) });
      for (const npy of new Set([npyFileName(input.name), `input_${k}.npy`])) {
        const npyBytes = files.read(join(dir, npy));
        if (!npyBytes) continue;
        const owners = [...claims.get(npy)!];
        if (owners.length > 1) {
          throw new EngineError(
            `${join(dir, npy)} is ambiguous: it could be input ${owners
              .map((o) => `#${o} "${inputs[o]!.name}"`)
              .join(' or ')}; give these inputs by position (input_K.npy), or in ${INPUTS_JSON}`,
          );
        }
        sources.push({ label: npy, read: () => readNpyFile(npyBytes, join(dir, npy), input.name) });
      }
      const json = fromJson?.get(input.name);
      if (json) sources.push({ label: INPUTS_JSON, read: () => json });
      const where = `input #${k} "${input.name}"`;
      if (sources.length === 0) {
        const looked = [pb, npyFileName(input.name), `input_${k}.npy`].filter((f, i, all) => all.indexOf(f) === i);
        throw new EngineError(
          `${dir} has no tensor for ${where} (the model has ${inputs.length} input${inputs.length === 1 ? '' : 's'}): ` +
            `looked for ${looked.join(', ')} and a "${input.name}" entry in ${INPUTS_JSON}`,
        );
      }
      if (sources.length > 1) {
        throw new EngineError(
          `${dir} gives ${where} more than once (${sources.map((s) => s.label).join(' and ')}): keep one`,
        );
      }
      const source = sources[0]!;
      const tensor = { ...source.read(), name: input.name } as Tensor;
      checkAgainstInput(tensor, input, join(dir, source.label));
      return [input.name, tensor];
    }),
  );
}

function readPbFile(bytes: Uint8Array, file: string): Tensor {
  try {
    return decodeTensorProto(bytes);
  } catch (e) {
    throw new EngineError(`${file}: not a readable TensorProto: ${(e as Error).message}`);
  }
}

function readNpyFile(bytes: Uint8Array, file: string, name: string): Tensor {
  try {
    return parseNpy(bytes, { file, name });
  } catch (e) {
    throw new EngineError((e as Error).message);
  }
}

/** The tensor's dtype must be the input's declared element type; its dims must fit the declared shape. */
export function checkAgainstInput(tensor: Tensor, input: GraphInput, source: string): void {
  const type = input.type?.kind === 'tensor' ? input.type : null;
  const declared = declaredDType(input);
  if (declared !== null && tensor.dtype !== declared) {
    const descr = npyDescrOf(declared);
    const hint = source.endsWith('.npy') && descr ? ` (in numpy: array.astype('${descr}'))` : '';
    throw new EngineError(`${source} holds ${tensor.dtype}, but input "${input.name}" is declared ${declared}${hint}`);
  }
  const shape = type?.shape;
  if (!shape) return;
  const fits =
    shape.length === tensor.dims.length &&
    shape.every((d, i) => typeof d !== 'number' || d < 0 || d === tensor.dims[i]);
  if (!fits) {
    const show = shape.map((d) => (typeof d === 'number' && d >= 0 ? String(d) : (d ?? '?'))).join(', ');
    throw new EngineError(
      `${source} has shape [${tensor.dims.join(', ')}], but input "${input.name}" is declared [${show}]`,
    );
  }
}
