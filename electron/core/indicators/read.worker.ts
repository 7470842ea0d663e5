// The reading process (read.ts starts it and ends it on time-out or when idle): parses untrusted
// spreadsheets and recognises their indicators, one state per message, answering each with its id.
// It gets the bytes and the mappings, nothing else: no profile, no key, no secret in its
// environment, no file system access it needs. A child process of its own (child_process.fork,
// Node's IPC channel), so that a V8 fatal error (heap limit) ends it and never the app or the CLI;
// inside Electron, Electron's utility process (a process of its own too), or a worker thread where
// that could not start (read.ts, "Where the reader runs").
import { parentPort } from 'node:worker_threads';
import { labelsOf, recognise, type Mapping, type Recognition } from './mapping.js';
import { gridsOf, NotRecognised, type SheetLimits } from './sheet.js';

/** `labels`: the mapping editor asks for the state's labels instead of its figures. */
export interface ReadJob { id: number; bytes: Uint8Array; mappings: Mapping[]; commune: string | null; limits: SheetLimits; labels?: boolean }
export type ReadAnswer = (Recognition & { kind?: string; encoding?: string }) | { recognised: false; labels: { rows: string[]; columns: string[] } };
export interface ReadReply { id: number; answer: ReadAnswer }
/** Sent as a job arrives, before any parsing: a reader gone before it was sent died of something
 * else than the job's file (killed while idle), and the parent may give the job to a new reader. */
export interface ReadStarted { id: number; started: true }
/** Sent by a utility process as soon as this module has loaded, before any job is given to it
 * (read.ts gives none before): a utility reader gone without it never had the job. */
export interface ReaderReady { ready: true }
export type ReaderMessage = ReadReply | ReadStarted | ReaderReady;

function read(job: ReadJob): ReadReply {
  let answer: ReadAnswer;
  try {
    const { grids, kind, encoding } = gridsOf(job.bytes, job.limits);
    const sheets = grids.map((g) => g.grid);
    answer = job.labels ? { recognised: false, labels: labelsOf(sheets) } : { ...recognise(sheets, job.mappings, job.commune, grids.map((g) => g.name)), kind, encoding };
  } catch (error) {
    answer = { recognised: false, reason: error instanceof NotRecognised ? error.message : 'fichier illisible' };
  }
  return { id: job.id, answer };
}

/** Electron's utility process (electron/main.ts gives read.ts its utilityProcess): messages come
 * as events whose `data` is the job. */
interface UtilityParentPort { on(event: 'message', listener: (event: { data: ReadJob }) => void): void; postMessage(message: ReaderMessage): void }
const utilityPort = (process as { parentPort?: UtilityParentPort }).parentPort;

/** « started », then the answer, over a port that sends in order (a worker's, a utility's). */
const serve = (post: (message: ReaderMessage) => void) => (job: ReadJob): void => {
  post({ id: job.id, started: true } satisfies ReadStarted);
  post(read(job));
};

if (parentPort) {
  const port = parentPort;
  port.on('message', serve((message) => port.postMessage(message)));
} else if (utilityPort) {
  const answer = serve((message) => utilityPort.postMessage(message));
  utilityPort.postMessage({ ready: true } satisfies ReaderReady);
  utilityPort.on('message', ({ data: job }) => answer(job));
} else if (process.send && process.connected) {
  const send = process.send.bind(process);
  // The parsing only once « started » is written to the channel (its callback).
  process.on('message', (job: ReadJob) => {
    send({ id: job.id, started: true } satisfies ReadStarted, (error: Error | null) => { if (!error) send(read(job)); });
  });
  // The parent gone (it exited, or it ended the channel): nothing more to read.
  process.on('disconnect', () => process.exit(0));
} else {
  throw new Error('read.worker.js runs only as a child process with an IPC channel (read.ts starts it); import its types only.');
}
