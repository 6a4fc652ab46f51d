/** What differs between the desktop extension (Node worker threads) and VS Code for the Web (Web Workers). */
import type { JobReply, JobRequest } from './jobs';

export interface JobWorker {
  post(request: JobRequest): void;
  onReply(listener: (reply: JobReply) => void): void;
  onError(listener: (error: Error) => void): void;
  terminate(): void;
}

export interface HostPlatform {
  startWorker(): JobWorker;
  /** The worker reads file: models, their external data and input folders itself (desktop). */
  readonly readsLocalFiles: boolean;
}
