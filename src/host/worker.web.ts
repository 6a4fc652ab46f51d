/** VS Code for the Web: the job worker as a Web Worker; the host sends model bytes and input files. */
import { JobRunner, type JobReply, type JobRequest } from './jobs';

const scope = self as unknown as {
  postMessage(reply: JobReply): void;
  onmessage: ((event: MessageEvent<JobRequest>) => void) | null;
};
const runner = new JobRunner({ post: (reply) => scope.postMessage(reply) });
scope.onmessage = (event) => void runner.handle(event.data);
