/**
 * The one error type of the ONNX loader. Every way a file can be unusable maps to a `kind` so callers
 * (CLI, editor, tests) can react without parsing messages; the message names the culprit.
 */
export type OnnxLoadErrorKind =
  /** The bytes are not valid protobuf, or a field holds an impossible value (negative dim, wrong size). */
  | 'malformed'
  /** Decoding ran past the end of the input: a cut-off file (or a length field pointing beyond it). */
  | 'truncated'
  /** Valid protobuf (or empty), but not an ONNX model / tensor. */
  | 'not-a-model'
  /** An external data reference is unsafe, unreadable or too short. */
  | 'external-data'
  /** A feature this loader does not implement (unknown data type, tensor segments). */
  | 'unsupported'
  /** A graph whose wiring is broken: dangling input, duplicate producer, missing name. */
  | 'invalid-graph'
  /** The nodes of a graph depend on each other in a circle. */
  | 'cycle'
  /** A shape or nesting beyond the loader's limits. */
  | 'too-large';

export class OnnxLoadError extends Error {
  override readonly name = 'OnnxLoadError';

  constructor(
    readonly kind: OnnxLoadErrorKind,
    message: string,
  ) {
    super(message);
  }
}
