// What the writer's hash worker (sinks.ts) and the reader's block worker (opener.ts) share: a
// worker thread (a module of its own: workers.ts), answering in order,
// ending with a SHA-256 digest, and failing every pending request (never leaving one hanging) if
// it stops or is closed.
import { Worker } from 'node:worker_threads';
import { temporaryError } from '../errors.js';
import type { WorkerEntry } from '../workers.js';

export interface Pending<T> { resolve: (value: T) => void; reject: (error: Error) => void }

export { asBuffer, discard, keepSpare, ownsMemory, takeSpare } from './discard.js';


/**
 * A worker thread started ahead of the work it will be given, so that its start-up (a new
 * JavaScript engine, about 30 ms) overlaps something else: the reader starts its block worker
 * while the Argon2id unlock keeps the other core busy. A DigestWorker adopts it; close() ends
 * it if it was never adopted (an unlock that failed).
 */
export class StartedThread {
  readonly worker: Worker;
  /** Why the thread stopped before being adopted, if it did. */
  stopped: Error | null = null;

  /** `entry`: the worker's module (workerEntry). */
  constructor(entry: WorkerEntry, options: { youngGenerationMb: number; workerData?: unknown }) {
    const common = {
      workerData: options.workerData,
      // It only runs node:crypto on buffers it is handed: a small JavaScript heap is enough (peak memory).
      resourceLimits: { maxOldGenerationSizeMb: 16, maxYoungGenerationSizeMb: options.youngGenerationMb, codeRangeSizeMb: 4 },
    };
    this.worker = new Worker(entry.file, { eval: entry.eval, execArgv: entry.execArgv, ...common });
    // Listening at once: an 'error' without a listener would end the whole process.
    this.worker.on('error', (error: Error) => (this.stopped ??= error));
    this.worker.on('exit', () => (this.stopped ??= new Error('thread stopped')));
  }

  async close(): Promise<void> {
    await this.worker.terminate();
  }
}

const workerStopped = (cause: unknown): Error => temporaryError('worker-stopped',
  "Le calcul en arrière-plan s'est arrêté avant la fin : l'opération est annulée et rien n'est conservé. Réessayez ; si cela se reproduit, vérifiez la mémoire disponible du poste.", cause);

export abstract class DigestWorker<Message> {
  protected readonly worker: Worker;
  protected failure: Error | null = null;
  private pendingDigest: Pending<Buffer> | null = null;

  /** `thread` answers the message 'digest' with { digest }; every other answer goes to onAnswer. */
  constructor(thread: StartedThread, private readonly name: string) {
    this.worker = thread.worker;
    this.worker.on('message', (m: Message & { digest?: Uint8Array }) => {
      if (!m.digest) return this.onAnswer(m);
      this.pendingDigest?.resolve(Buffer.from(m.digest));
      this.pendingDigest = null;
    });
    // A thread that dies (out of memory, killed) fails the operation cleanly: the callers abort,
    // and a reader's or writer's temporary output is deleted.
    this.worker.on('error', (error: Error) => this.fail(workerStopped(error)));
    this.worker.on('exit', () => this.fail(workerStopped(new Error(`${this.name} stopped`))));
    // Nothing can be pending yet: every request will be refused with this error.
    if (thread.stopped) this.failure = workerStopped(thread.stopped);
  }

  protected abstract onAnswer(message: Message): void;
  /** Rejects the requests still waiting for an answer. */
  protected abstract rejectPending(error: Error): void;

  protected fail(error: Error): void {
    this.failure ??= error;
    this.rejectPending(this.failure);
    this.pendingDigest?.reject(this.failure);
    this.pendingDigest = null;
  }

  digest(): Promise<Buffer> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.pendingDigest = { resolve, reject };
      this.worker.postMessage('digest');
    });
  }

  async close(): Promise<void> {
    if (this.failure) return;
    this.failure = new Error(`${this.name} closed`);
    await this.worker.terminate();
  }
}
