/**
 * The only place protobufjs decoding runs: its exceptions (RangeError past the end, Error on a bad
 * wire type, stack overflow on absurd nesting) become OnnxLoadErrors.
 *
 * onnx-proto is generated from onnx.proto of ONNX 1.10 (IR 8). Fields added later are skipped by
 * the decoder. Those with meaning for us, all concerning model-local functions:
 * FunctionProto.attribute_proto (IR 9: attributes with defaults; their names and defaults are lost),
 * FunctionProto.overload and NodeProto.overload (IR 10: functions are keyed by domain and name only
 * here). Lost without consequence: metadata_props of graphs/nodes/tensors/functions,
 * FunctionProto.value_info, ModelProto.configuration, NodeProto.device_configurations.
 */
import { Reader } from 'protobufjs/minimal';
import { OnnxLoadError } from './errors';

const VARINT = 0;
const FIXED64 = 1;
const LENGTH_DELIMITED = 2;
const FIXED32 = 5;

/** Wire types each top-level field of a message may use (repeated numbers also come packed). */
export type MessageShape = ReadonlyMap<number, readonly number[]>;

export const MODEL_SHAPE: MessageShape = new Map([
  [1, [VARINT]], // ir_version
  [2, [LENGTH_DELIMITED]], // producer_name
  [3, [LENGTH_DELIMITED]], // producer_version
  [4, [LENGTH_DELIMITED]], // domain
  [5, [VARINT]], // model_version
  [6, [LENGTH_DELIMITED]], // doc_string
  [7, [LENGTH_DELIMITED]], // graph
  [8, [LENGTH_DELIMITED]], // opset_import
  [14, [LENGTH_DELIMITED]], // metadata_props
  [20, [LENGTH_DELIMITED]], // training_info
  [25, [LENGTH_DELIMITED]], // functions
]);

export const TENSOR_SHAPE: MessageShape = new Map([
  [1, [VARINT, LENGTH_DELIMITED]], // dims
  [2, [VARINT]], // data_type
  [3, [LENGTH_DELIMITED]], // segment
  [4, [FIXED32, LENGTH_DELIMITED]], // float_data
  [5, [VARINT, LENGTH_DELIMITED]], // int32_data
  [6, [LENGTH_DELIMITED]], // string_data
  [7, [VARINT, LENGTH_DELIMITED]], // int64_data
  [8, [LENGTH_DELIMITED]], // name
  [9, [LENGTH_DELIMITED]], // raw_data
  [10, [FIXED64, LENGTH_DELIMITED]], // double_data
  [11, [VARINT, LENGTH_DELIMITED]], // uint64_data
  [12, [LENGTH_DELIMITED]], // doc_string
  [13, [LENGTH_DELIMITED]], // external_data
  [14, [VARINT]], // data_location
]);

/**
 * Walks the top-level fields before the real decode, to tell apart three failures that protobufjs
 * reports alike: a cut-off file (the last field runs past the end), a different protobuf message
 * (a known field number with the wrong wire type) and bytes that are not protobuf at all.
 */
function checkTopLevel(bytes: Uint8Array, shape: MessageShape, what: string, message: string): void {
  const reader = Reader.create(bytes);
  try {
    while (reader.pos < reader.len) {
      const tag = reader.uint32();
      const field = tag >>> 3;
      const wireType = tag & 7;
      // Field 0 is invalid; groups (3, 4) and the unassigned types 6, 7 never occur in ONNX files.
      if (field === 0 || ![VARINT, FIXED64, LENGTH_DELIMITED, FIXED32].includes(wireType)) {
        const found = `field ${field} with wire type ${wireType} before byte ${reader.pos}`;
        throw new OnnxLoadError('malformed', `${what} is not protobuf as ONNX writes it: ${found}`);
      }
      const allowed = shape.get(field);
      if (allowed && !allowed.includes(wireType)) {
        const why = `field ${field} has the wrong wire type`;
        throw new OnnxLoadError('not-a-model', `${what} is protobuf but not an ONNX ${message}: ${why}`);
      }
      reader.skipType(wireType);
    }
  } catch (e) {
    if (e instanceof RangeError && e.message.startsWith('index out of range')) {
      const why = `its last field runs past byte ${bytes.length} (truncated file?)`;
      throw new OnnxLoadError('truncated', `${what} ends unexpectedly: ${why}`);
    }
    if (e instanceof OnnxLoadError) throw e;
    throw new OnnxLoadError('malformed', `${what} is not valid protobuf: ${(e as Error).message}`);
  }
}

/** Decodes `bytes` as a message of the given shape; `what` names the input ("the model file"), `message` its kind. */
export function decodeProtobuf<T>(
  decode: (bytes: Uint8Array) => T,
  bytes: Uint8Array,
  shape: MessageShape,
  what: string,
  message: string,
): T {
  checkTopLevel(bytes, shape, what, message);
  try {
    return decode(bytes);
  } catch (e) {
    if (e instanceof RangeError && /call stack/i.test(e.message)) {
      throw new OnnxLoadError('too-large', `${what} is nested too deeply to decode`);
    }
    // The top level is intact, so any failure lies inside a nested message.
    if (e instanceof Error) throw new OnnxLoadError('malformed', `${what} is not valid protobuf inside: ${e.message}`);
    throw e;
  }
}
