// Reading a state in a worker with limits (docs/indicators.md 5): the file's size is checked
// before any parsing, the worker has a bounded heap, a cell budget and a time limit, after which
// it is terminated. Whatever the file holds, the answer is "recognised" with figures or "non
// reconnu" with a reason: never an error, never a partial result.
// One worker reads the states one after the other (starting one per state cost more than the
// reading: bench/indicators.mjs); it is ended on a time-out, a crash, or after a while idle, and a
// new one is started for the next state. It never keeps the process alive (unref).
import { Worker } from 'node:worker_threads';
import { workerEntry } from '../workers.js';
import type { Mapping } from './mapping.js';
import type { ReadAnswer, ReadJob, ReadReply } from './read.worker.js';

export interface ReadLimits {
  /** Bytes of the file (checked before reading it into the worker). */
  maxBytes: number;
  /** Cells of all sheets together. */
  maxCells: number;
  /** Milliseconds before the worker is terminated. */
  timeMs: number;
  /** Worker heap, MiB. */
  heapMb: number;
  /** Bytes of an XLSX's or ODS's parts once decompressed, all together (zip.ts): the worker's
   * heap limit does not bound the buffers a decompression makes. */
  maxUnzippedBytes: number;
}

export const READ_LIMITS: ReadLimits = { maxBytes: 5 * 1024 * 1024, maxCells: 200_000, timeMs: 10_000, heapMb: 256, maxUnzippedBytes: 50 * 1024 * 1024 };
const IDLE_MS = 30_000;

export type StateReading = Exclude<ReadAnswer, { labels: unknown }>;
/** A state's labels for the mapping editor (docs/indicators.md 3.1), or why it has none. */
export type LabelsReading = { readable: true; rows: string[]; columns: string[] } | { readable: false; reason: string };

interface Reader { worker: Worker; heapMb: number; idle: NodeJS.Timeout | null }
let reader: Reader | null = null;
let nextId = 0;
/** One state at a time: the time limit is the reading's own, not a queue's. */
let queue: Promise<unknown> = Promise.resolve();

function stop(r: Reader): void {
  if (reader === r) reader = null;
  if (r.idle) clearTimeout(r.idle);
  void r.worker.terminate();
}

function readerFor(heapMb: number): Reader {
  if (reader && reader.heapMb === heapMb) return reader;
  if (reader) stop(reader);
  const entry = workerEntry('read', import.meta.url);
  const worker = new Worker(entry.file, {
    eval: entry.eval, execArgv: entry.execArgv,
    resourceLimits: { maxOldGenerationSizeMb: heapMb, maxYoungGenerationSizeMb: 32 },
    stdout: true, stderr: true,
  });
  worker.unref();
  const r: Reader = { worker, heapMb, idle: null };
  // A worker that dies (heap limit, a bug) is forgotten; the read in progress answers below.
  worker.on('error', () => { if (reader === r) reader = null; });
  worker.on('exit', () => { if (reader === r) reader = null; });
  reader = r;
  return r;
}

function readOnce(bytes: Uint8Array, mappings: readonly Mapping[], commune: string | null, limits: ReadLimits, labels = false): Promise<ReadAnswer> {
  const r = readerFor(limits.heapMb);
  if (r.idle) clearTimeout(r.idle);
  r.idle = null;
  const id = ++nextId;
  return new Promise<ReadAnswer>((resolve) => {
    let settled = false;
    const done = (answer: ReadAnswer, keep: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      r.worker.off('message', onMessage);
      r.worker.off('error', onError);
      r.worker.off('exit', onExit);
      if (!keep) stop(r);
      else if (reader === r) {
        r.idle = setTimeout(() => stop(r), IDLE_MS);
        r.idle.unref();
      }
      resolve(answer);
    };
    const onMessage = (reply: ReadReply) => { if (reply.id === id) done(reply.answer, true); };
    const onError = () => done({ recognised: false, reason: 'fichier illisible (mémoire de lecture dépassée ou tableur abîmé)' }, false);
    const onExit = () => done({ recognised: false, reason: 'fichier illisible' }, false);
    const timer = setTimeout(() => done({ recognised: false, reason: `lecture trop longue (plus de ${Math.round(limits.timeMs / 1000)} s)` }, false), limits.timeMs);
    r.worker.on('message', onMessage);
    r.worker.once('error', onError);
    r.worker.once('exit', onExit);
    const job: ReadJob = { id, bytes, mappings: [...mappings], commune, limits: { maxCells: limits.maxCells, maxUnzippedBytes: limits.maxUnzippedBytes }, ...(labels ? { labels } : {}) };
    r.worker.postMessage(job);
  });
}

export async function readState(bytes: Uint8Array, mappings: readonly Mapping[], commune: string | null, limits: ReadLimits = READ_LIMITS): Promise<StateReading> {
  if (bytes.length > limits.maxBytes) return { recognised: false, reason: `fichier trop gros (plus de ${Math.round(limits.maxBytes / 1024 / 1024)} Mio)` };
  if (bytes.length === 0) return { recognised: false, reason: 'fichier vide' };
  const turn = queue.then(() => readOnce(bytes, mappings, commune, limits));
  queue = turn.catch(() => undefined);
  return turn as Promise<StateReading>;
}

/** The labels of a state, read under the same limits and in the same worker as its figures. */
export async function readStateLabels(bytes: Uint8Array, limits: ReadLimits = READ_LIMITS): Promise<LabelsReading> {
  if (bytes.length > limits.maxBytes) return { readable: false, reason: `fichier trop gros (plus de ${Math.round(limits.maxBytes / 1024 / 1024)} Mio)` };
  if (bytes.length === 0) return { readable: false, reason: 'fichier vide' };
  const turn = queue.then(() => readOnce(bytes, [], null, limits, true));
  queue = turn.catch(() => undefined);
  const answer = await turn;
  if ('labels' in answer) return { readable: true, ...answer.labels };
  return { readable: false, reason: answer.recognised ? 'fichier illisible' : answer.reason };
}

/** Ends the reading worker now (tests; the desktop app at quit). */
export async function stopReading(): Promise<void> {
  if (reader) stop(reader);
}
