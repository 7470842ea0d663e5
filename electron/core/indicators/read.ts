// Reading a state in a worker with limits (docs/indicators.md 5): the file's size is checked
// before any parsing, the worker has a bounded heap, a cell budget and a time limit, after which
// it is terminated. Whatever the file holds, the answer is "recognised" with figures or "non
// reconnu" with a reason: never an error, never a partial result.
import { Worker } from 'node:worker_threads';
import { workerEntry } from '../workers.js';
import type { Mapping, Recognition } from './mapping.js';
import type { ReadAnswer, ReadWorkerData } from './read.worker.js';

export interface ReadLimits {
  /** Bytes of the file (checked before reading it into the worker). */
  maxBytes: number;
  /** Cells of all sheets together. */
  maxCells: number;
  /** Milliseconds before the worker is terminated. */
  timeMs: number;
  /** Worker heap, MiB. */
  heapMb: number;
}

export const READ_LIMITS: ReadLimits = { maxBytes: 5 * 1024 * 1024, maxCells: 200_000, timeMs: 10_000, heapMb: 256 };

export type StateReading = ReadAnswer;

export async function readState(bytes: Uint8Array, mappings: readonly Mapping[], commune: string | null, limits: ReadLimits = READ_LIMITS): Promise<StateReading> {
  if (bytes.length > limits.maxBytes) return { recognised: false, reason: `fichier trop gros (plus de ${Math.round(limits.maxBytes / 1024 / 1024)} Mio)` };
  if (bytes.length === 0) return { recognised: false, reason: 'fichier vide' };
  const entry = workerEntry('read', import.meta.url);
  const data: ReadWorkerData = { bytes, mappings: [...mappings], commune, limits: { maxCells: limits.maxCells } };
  const worker = new Worker(entry.file, {
    eval: entry.eval, execArgv: entry.execArgv, workerData: data,
    resourceLimits: { maxOldGenerationSizeMb: limits.heapMb, maxYoungGenerationSizeMb: 32 },
    stdout: true, stderr: true,
  });
  return new Promise<StateReading>((resolve) => {
    let settled = false;
    const done = (answer: StateReading) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      void worker.terminate();
      resolve(answer);
    };
    const timer = setTimeout(() => done({ recognised: false, reason: `lecture trop longue (plus de ${Math.round(limits.timeMs / 1000)} s)` }), limits.timeMs);
    worker.once('message', (answer: Recognition) => done(answer));
    worker.once('error', () => done({ recognised: false, reason: 'fichier illisible (mémoire de lecture dépassée ou tableur abîmé)' }));
    worker.once('exit', () => done({ recognised: false, reason: 'fichier illisible' }));
  });
}
