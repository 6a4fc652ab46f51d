/**
 * ONNX stores raw tensor data little-endian. Typed arrays use the host's byte order, so on the
 * (rare) big-endian host every element is byte-swapped while copying.
 */

const HOST_IS_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function swapInPlace(bytes: Uint8Array, elementBytes: number): void {
  for (let start = 0; start < bytes.length; start += elementBytes) {
    bytes.subarray(start, start + elementBytes).reverse();
  }
}

/**
 * A fresh, aligned copy of little-endian bytes in host order, ready to be viewed by a typed array of
 * `elementBytes`-wide elements. Copying also detaches the tensor from the (large) file buffer.
 */
export function hostOrderCopy(bytes: Uint8Array, elementBytes: number): ArrayBuffer {
  const copy = new Uint8Array(bytes);
  if (!HOST_IS_LITTLE_ENDIAN && elementBytes > 1) swapInPlace(copy, elementBytes);
  return copy.buffer;
}

/** The little-endian bytes of a typed array (a copy). */
export function littleEndianBytes(array: ArrayBufferView, elementBytes: number): Uint8Array {
  const copy = new Uint8Array(array.buffer, array.byteOffset, array.byteLength).slice();
  if (!HOST_IS_LITTLE_ENDIAN && elementBytes > 1) swapInPlace(copy, elementBytes);
  return copy;
}
