// The reading worker (read.ts starts it and ends it on time-out or when idle): parses untrusted
// spreadsheets and recognises their indicators, one state per message, answering each with its id.
// It gets the bytes and the mappings, nothing else: no profile, no key, no file system access.
import { parentPort } from 'node:worker_threads';
import { labelsOf, recognise, type Mapping, type Recognition } from './mapping.js';
import { gridsOf, NotRecognised, type SheetLimits } from './sheet.js';

/** `labels`: the mapping editor asks for the state's labels instead of its figures. */
export interface ReadJob { id: number; bytes: Uint8Array; mappings: Mapping[]; commune: string | null; limits: SheetLimits; labels?: boolean }
export type ReadAnswer = (Recognition & { kind?: string; encoding?: string }) | { recognised: false; labels: { rows: string[]; columns: string[] } };
export interface ReadReply { id: number; answer: ReadAnswer }

if (!parentPort) throw new Error('read.worker.js runs only as a worker thread (read.ts starts it); import its types only.');
const port = parentPort;
port.on('message', (job: ReadJob) => {
  let answer: ReadAnswer;
  try {
    const { grids, kind, encoding } = gridsOf(job.bytes, job.limits);
    const sheets = grids.map((g) => g.grid);
    answer = job.labels ? { recognised: false, labels: labelsOf(sheets) } : { ...recognise(sheets, job.mappings, job.commune, grids.map((g) => g.name)), kind, encoding };
  } catch (error) {
    answer = { recognised: false, reason: error instanceof NotRecognised ? error.message : 'fichier illisible' };
  }
  port.postMessage({ id: job.id, answer } satisfies ReadReply);
});
