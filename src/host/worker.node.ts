/** Desktop: the job worker as a Node worker thread, reading local models and input folders itself. */
import { readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { parentPort } from 'node:worker_threads';
import { nodeSampleFiles } from '../audit/samples-node';
import { fileSystemReader } from '../onnx/node-fs';
import { JobRunner, type JobRequest } from './jobs';

const port = parentPort!;
const runner = new JobRunner({
  readLocalModel: async (path) => ({ bytes: await readFile(path), externalData: fileSystemReader(dirname(path)) }),
  localSampleFiles: nodeSampleFiles,
  post: (reply) => port.postMessage(reply),
});
port.on('message', (request: JobRequest) => void runner.handle(request));
