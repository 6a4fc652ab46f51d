/** The browser-safe ONNX loader API (file-system loading is in ./node-fs). */
export type { DType } from './dtype';
export { OnnxLoadError, type OnnxLoadErrorKind } from './errors';
export { normaliseLocation, type ExternalDataReader, type ExternalLocation } from './external-data';
export {
  ACTIVATION_PRODUCTS_PER_ELEMENT,
  formatSummaryText,
  multiplyCategory,
  summarizeModel,
  type FileInfo,
  type ModelSummary,
  type MultiplyCategory,
  type ValueSummary,
} from './inspect';
export { loadModel, type LoadOptions } from './load';
export * from './model';
export {
  decodeTensorProto,
  elementCount,
  encodeTensorProto,
  type Tensor,
  type TensorData,
  type TensorDataByDType,
  type TensorLimits,
  type TensorOf,
} from './tensor';
export { functionOrder, orderModel, outerScopeReads, topologicalOrder } from './topo';
