/**
 * Bytes of a .onnx file → OnnxModel, external tensor data included. Runs anywhere (no file system):
 * external files are read through the caller's ExternalDataReader.
 */
import { onnx } from 'onnx-proto';
import { decodeModel, type ExternalTensor } from './decode-model';
import { OnnxLoadError } from './errors';
import type { ExternalDataReader } from './external-data';
import { int64ToNumber } from './int64';
import type { OnnxModel } from './model';
import { decodeProtobuf, MODEL_SHAPE } from './protobuf';
import { attachExternalData, DEFAULT_TENSOR_LIMITS, elementCount, rawByteLength, type TensorLimits } from './tensor';

export interface LoadOptions {
  /** Serves external tensor data; without one, a model that uses external data fails to load. */
  readonly externalData?: ExternalDataReader;
  readonly limits?: Partial<TensorLimits>;
}

/** IR versions run from 1 (2017) to low teens; a decoded value far beyond means the bytes are not a model. */
const MAX_PLAUSIBLE_IR_VERSION = 100;

function describeError(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

async function readExternal({ tensor, where }: ExternalTensor, reader: ExternalDataReader): Promise<void> {
  const { location, offset, length } = tensor.external!;
  if (tensor.dtype === 'string') throw new Error('string tensors are never external (decodeTensor refuses them)');
  const needed = rawByteLength(tensor.dtype, elementCount(tensor.dims));
  const fail = (why: string): never => {
    throw new OnnxLoadError('external-data', `${where}: external file '${location}' ${why}`);
  };
  // A missing length means "the tensor's size"; bytes after it in the file are not ours to check.
  if (length !== undefined && length !== needed) {
    const dims = `[${tensor.dims.join(', ')}]`;
    fail(`is declared with length ${length}, but dims ${dims} of ${tensor.dtype} need ${needed} bytes`);
  }
  let bytes: Uint8Array;
  try {
    bytes = await reader.read(location, offset, needed);
  } catch (e) {
    return fail(`cannot be read: ${describeError(e)}`);
  }
  if (bytes.length < needed) fail(`is too short: ${bytes.length} of the ${needed} bytes at offset ${offset} exist`);
  attachExternalData(tensor, bytes.length === needed ? bytes : bytes.subarray(0, needed));
}

/**
 * Parses a serialized ModelProto. Every problem with the bytes or the external data surfaces as an
 * OnnxLoadError; the wiring of the graph (dangling inputs, cycles) is checked by orderModel.
 */
export async function loadModel(bytes: Uint8Array, options: LoadOptions = {}): Promise<OnnxModel> {
  if (bytes.length === 0) throw new OnnxLoadError('not-a-model', 'the file is empty');
  const proto = decodeProtobuf((b) => onnx.ModelProto.decode(b), bytes, MODEL_SHAPE, 'the model file', 'model');
  const irVersion = int64ToNumber(proto.irVersion ?? 0);
  if (!proto.graph || !(irVersion >= 1 && irVersion <= MAX_PLAUSIBLE_IR_VERSION)) {
    const why = proto.graph ? `its ir_version (${irVersion}) is implausible` : 'it has no graph';
    throw new OnnxLoadError('not-a-model', `the file is protobuf but not an ONNX model: ${why}`);
  }
  // Opset imports are mandatory since IR 3; without them no operator has a defined meaning.
  if (irVersion >= 3 && (proto.opsetImport ?? []).length === 0) {
    throw new OnnxLoadError('malformed', `the model (ir_version ${irVersion}) imports no operator set`);
  }
  const limits = { ...DEFAULT_TENSOR_LIMITS, ...options.limits };
  const { model, externalTensors } = decodeModel(proto, limits);
  if (externalTensors.length > 0) {
    const reader = options.externalData;
    if (!reader) {
      const { tensor, where } = externalTensors[0]!;
      const file = tensor.external!.location;
      const why = `stored in external file '${file}', but no way to read it was given`;
      throw new OnnxLoadError('external-data', `${where}: ${why}`);
    }
    for (const external of externalTensors) await readExternal(external, reader);
  }
  return model;
}
