// The reading worker (read.ts starts one per state and ends it on time-out): parses the untrusted
// spreadsheet and recognises its indicators, answers once. It gets the bytes and the mappings,
// nothing else: no profile, no key, no file system access is needed here.
import { parentPort, workerData } from 'node:worker_threads';
import { recognise, type Mapping, type Recognition } from './mapping.js';
import { gridsOf, NotRecognised, type SheetLimits } from './sheet.js';

export interface ReadWorkerData { bytes: Uint8Array; mappings: Mapping[]; commune: string | null; limits: SheetLimits }
export type ReadAnswer = Recognition & { kind?: string; encoding?: string };

if (!parentPort) throw new Error('read.worker.js runs only as a worker thread (read.ts starts it); import its types only.');
const { bytes, mappings, commune, limits } = workerData as ReadWorkerData;
let answer: ReadAnswer;
try {
  const { grids, kind, encoding } = gridsOf(bytes, limits);
  answer = { ...recognise(grids, mappings, commune), kind, encoding };
} catch (error) {
  answer = { recognised: false, reason: error instanceof NotRecognised ? error.message : 'fichier illisible' };
}
parentPort.postMessage(answer);
