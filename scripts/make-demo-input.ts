// Writes demo/paddleocr-rec/input_0.pb: a 48×160 text-line-like image (light page, dark strokes) in
// PaddleOCR's input scaling, so the README's audit runs on a plausible input rather than noise.
import { mkdirSync, writeFileSync } from 'node:fs';
import { encodeTensorProto } from '../src/onnx';
import { documentImageTensor } from '../test/fixtures/real-models';

mkdirSync('demo/paddleocr-rec', { recursive: true });
writeFileSync('demo/paddleocr-rec/input_0.pb', encodeTensorProto(documentImageTensor('x', 48, 160, 2)));
