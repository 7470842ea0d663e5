// Reading a state in a process of its own with limits (docs/indicators.md 5): the file's size is
// checked before any parsing, the reader has a bounded heap, a cell budget and a time limit, after
// which it is killed. Whatever the file holds, the answer is "recognised" with figures or "non
// reconnu" with a reason: never an error, never a partial result.
// One reader reads the states one after the other (starting one per state cost more than the
// reading: bench/indicators.mjs); it is ended on a time-out, a crash, or after a while idle, and a
// new one is started for the next state. It never keeps the process alive (unref).
//
// Where the reader runs: a child process (child_process.fork), not a worker thread. A worker
// shares the process: one allocation V8 cannot make within its heap limit (a string of 500
// million characters) aborts the whole process, "FATAL ERROR: Reached heap limit", whatever the
// worker's resourceLimits; a child process dies alone. Its heap is bounded by its own Node options
// (never this process's, nor NODE_OPTIONS), its environment holds nothing of this one's
// (PLI_PASSPHRASE, mailbox passwords), its output is dropped.
// Inside Electron's main process (process.versions.electron) child_process.fork cannot be used:
// it runs Electron's own binary with ELECTRON_RUN_AS_NODE, which the packaged app's runAsNode fuse
// (build/electron-builder.yml) turns off. There the reader is Electron's utility process, which
// electron/main.ts hands to this module (useReaderProcess: electron/core imports no Electron); a
// worker thread only where none was handed, or where utility processes do not start (two in a
// row gone, or silent for READY_MS, before saying « ready »: then threads for the rest of the session).
import { fork, type ChildProcess, type ForkOptions } from 'node:child_process';
import { Worker } from 'node:worker_threads';
import { workerEntry, workerFile } from '../workers.js';
import type { Mapping } from './mapping.js';
import type { ReadAnswer, ReadJob, ReaderMessage } from './read.worker.js';

export interface ReadLimits {
  /** Bytes of the file (checked before reading it into the worker). */
  maxBytes: number;
  /** Cells of all sheets together. */
  maxCells: number;
  /** Milliseconds before the reader is killed. */
  timeMs: number;
  /** Reader's heap (old generation), MiB. */
  heapMb: number;
  /** Bytes of an XLSX's or ODS's parts once decompressed, all together (zip.ts): the reader's
   * heap limit does not bound the buffers a decompression makes. */
  maxUnzippedBytes: number;
}

export const READ_LIMITS: ReadLimits = { maxBytes: 5 * 1024 * 1024, maxCells: 200_000, timeMs: 10_000, heapMb: 256, maxUnzippedBytes: 50 * 1024 * 1024 };
const IDLE_MS = 30_000;
/** A utility reader that has not said « ready » after this long never will (its module loads in
 * well under a second): it is counted as one that does not start, as if it had exited. */
const READY_MS = 5_000;
/** The reader's young generation: a worker thread's maxYoungGenerationSizeMb, and a child's
 * --max-semi-space-size giving the same heap limit (V8's young generation is three semi-spaces,
 * rounded up: with 256 MiB of old generation, both report a heap_size_limit of 304 MiB). */
const YOUNG_MB = 32;
const SEMI_SPACE_MB = 16;

export type StateReading = Exclude<ReadAnswer, { labels: unknown }>;
/** A state's labels for the mapping editor (docs/indicators.md 3.1), or why it has none. */
export type LabelsReading = { readable: true; rows: string[]; columns: string[] } | { readable: false; reason: string };

/** The reader, a child process or a worker thread, seen the same way by readOnce. */
interface Reader {
  heapMb: number;
  idle: NodeJS.Timeout | null;
  pid: number | undefined;
  post(job: ReadJob, failed: () => void): void;
  end(): void;
  /** The read in progress, if any: the reader's messages (« started », then the reply), or the
   * reader gone: `crashed` (killed by a signal, a non-zero exit, an error: the heap limit, a bug),
   * `exited`, or `stopped` (by this module: a time-out, stopReading). */
  listener: { message(message: ReaderMessage): void; gone(how: 'crashed' | 'exited' | 'stopped'): void } | null;
}
/** A reader process another module starts (Electron's utilityProcess.fork, electron/main.ts):
 * the same shape as Electron's UtilityProcess, for what read.ts uses of it. */
export interface ReaderProcess {
  /** Known once 'spawn' came (Electron: undefined before). */
  readonly pid: number | undefined;
  postMessage(job: ReadJob): void;
  /** False before 'spawn' (Electron): read.ts kills it again then. */
  kill(): boolean;
  on(event: 'spawn', listener: () => void): unknown;
  on(event: 'message', listener: (message: ReaderMessage) => void): unknown;
  on(event: 'exit', listener: (code: number) => void): unknown;
  /** Electron's V8 fatal error report: the 'exit' that follows is what read.ts acts on. */
  on(event: 'error', listener: (...details: unknown[]) => void): unknown;
}
/** Starts the reader module at `modulePath` with `execArgv` (its heap bounds) and `env` (nothing
 * of this process's: readerForkOptions). */
export type ReaderSpawn = (modulePath: string, options: { execArgv: string[]; env: NodeJS.ProcessEnv }) => ReaderProcess;
let spawnReader: ReaderSpawn | null = null;
/** Utility readers gone in a row before saying « ready » (not ended by this module). */
let silentExits = 0;
/** Set as the utility readers are given up: the read whose reader that was (it never had the
 * job: spawnedReader) gets one more try. */
let fellBack = false;

/** Electron's main process hands its utilityProcess here (electron/main.ts); null: none. */
export function useReaderProcess(spawn: ReaderSpawn | null): void {
  spawnReader = spawn;
  silentExits = 0;
  fellBack = false;
}

let reader: Reader | null = null;
let nextId = 0;
let startedForTests = false;
/** One state at a time: the time limit is the reading's own, not a queue's. */
let queue: Promise<unknown> = Promise.resolve();

/**
 * How the reading child process is started: its heap bounded by its own options (not inherited:
 * no process.execArgv, no NODE_OPTIONS), an environment with nothing of `env` but what Windows
 * needs to start a process (SYSTEMROOT), the bytes passed as they are (advanced serialization),
 * its output dropped (it could only be the file's content or SheetJS's messages).
 */
export function readerForkOptions(heapMb: number, env: NodeJS.ProcessEnv = process.env): ForkOptions {
  const childEnv: NodeJS.ProcessEnv = {};
  if (process.platform === 'win32' && env.SYSTEMROOT) childEnv.SYSTEMROOT = env.SYSTEMROOT;
  return {
    execArgv: [`--max-old-space-size=${heapMb}`, `--max-semi-space-size=${SEMI_SPACE_MB}`],
    env: childEnv,
    serialization: 'advanced',
    stdio: ['ignore', 'ignore', 'ignore', 'ipc'],
  };
}

function forget(r: Reader, crashed: boolean): void {
  if (reader === r) reader = null;
  if (r.idle) clearTimeout(r.idle);
  r.listener?.gone(crashed ? 'crashed' : 'exited');
}

function childReader(heapMb: number): Reader {
  const child: ChildProcess = fork(workerFile('read', import.meta.url), [], readerForkOptions(heapMb));
  const r: Reader = {
    heapMb, idle: null, pid: child.pid, listener: null,
    post: (job, failed) => { child.send(job, (error) => { if (error) failed(); }); },
    end: () => { child.kill('SIGKILL'); },
  };
  child.unref();
  child.channel?.unref();
  child.on('message', (message: ReaderMessage) => r.listener?.message(message));
  child.on('error', () => { child.kill('SIGKILL'); forget(r, true); });
  child.on('exit', (code, signal) => forget(r, code !== 0 || signal !== null));
  return r;
}

function spawnedReader(spawn: ReaderSpawn, heapMb: number): Reader {
  const options = readerForkOptions(heapMb);
  // Electron clears a utility process's environment only when the one given is not empty
  // (electron_api_utility_process.cc): an empty one would hand it all of this process's.
  const env = { ...options.env, PLI_READER: '1' };
  const child = spawn(workerFile('read', import.meta.url), { execArgv: options.execArgv as string[], env });
  /** The module said it loaded: only then are jobs given to it (`waiting` until then). */
  let ready = false;
  let ended = false;
  const waiting: { job: ReadJob; failed: () => void }[] = [];
  /** Gone, or stuck, before its module said it loaded, and not ended here: it never had a job
   * (whatever a file does, it does after that), so utility processes do not start on this
   * machine. After two in a row they are given up, and the job in hand may go to the next kind
   * of reader. Counted once per process. */
  let counted = false;
  const silent = () => {
    if (counted) return;
    counted = true;
    if (++silentExits >= 2 && spawnReader === spawn) {
      spawnReader = null;
      fellBack = true;
    }
  };
  // One that neither says « ready » nor exits would otherwise hold each read until its time limit,
  // and be replaced by another like it at every read, never given up: after READY_MS it is.
  const stuck = setTimeout(() => {
    if (ready || ended) return;
    silent();
    ended = true;
    waiting.length = 0;
    child.kill();
    forget(r, false); // the read in hand was never given to it: read again (readOnce's `lost`)
  }, READY_MS);
  stuck.unref();
  const give = (job: ReadJob, failed: () => void) => {
    try {
      child.postMessage(job);
    } catch {
      failed();
    }
  };
  const r: Reader = {
    heapMb, idle: null, pid: child.pid, listener: null,
    post: (job, failed) => (ready ? give(job, failed) : waiting.push({ job, failed })),
    end: () => {
      ended = true;
      waiting.length = 0; // a job held for « ready » is answered by read.ts, never given now
      child.kill(); // false before 'spawn': killed again there
    },
  };
  child.on('spawn', () => {
    r.pid = child.pid;
    if (ended) child.kill();
  });
  child.on('error', () => undefined); // a V8 fatal error: the 'exit' that follows says it
  child.on('message', (message) => {
    if (typeof message !== 'object' || message === null) return; // never Pli's reader
    if ('ready' in message) {
      if (ended) return;
      ready = true;
      clearTimeout(stuck);
      silentExits = 0;
      for (const { job, failed } of waiting.splice(0)) give(job, failed);
      return;
    }
    r.listener?.message(message);
  });
  child.on('exit', (code) => {
    clearTimeout(stuck);
    if (!ready && !ended) silent();
    forget(r, code !== 0);
  });
  return r;
}

function threadReader(heapMb: number): Reader {
  const entry = workerEntry('read', import.meta.url);
  const worker = new Worker(entry.file, {
    eval: entry.eval, execArgv: entry.execArgv,
    resourceLimits: { maxOldGenerationSizeMb: heapMb, maxYoungGenerationSizeMb: YOUNG_MB },
    stdout: true, stderr: true,
  });
  const r: Reader = {
    heapMb, idle: null, pid: undefined, listener: null,
    post: (job) => worker.postMessage(job),
    end: () => { void worker.terminate(); },
  };
  worker.unref();
  worker.on('message', (message: ReaderMessage) => r.listener?.message(message));
  worker.on('error', () => forget(r, true));
  worker.on('exit', () => forget(r, false));
  return r;
}

function stop(r: Reader): void {
  if (reader === r) reader = null;
  if (r.idle) clearTimeout(r.idle);
  // A read in progress answers now (« fichier illisible »), not at its time limit: the exit that
  // follows reaches no listener.
  const listener = r.listener;
  r.listener = null;
  r.end();
  listener?.gone('stopped');
}

function readerFor(heapMb: number): Reader {
  if (reader && reader.heapMb === heapMb) return reader;
  if (reader) stop(reader);
  if (spawnReader) {
    try {
      return (reader = spawnedReader(spawnReader, heapMb));
    } catch {
      spawnReader = null; // the utility process could not start at all: threads from now on
    }
  }
  reader = process.versions.electron ? threadReader(heapMb) : childReader(heapMb);
  return reader;
}

/** The reading child process's id, if one runs (tests: it is another process, it can be killed). */
export function readerPidForTests(): number | undefined {
  return reader?.pid;
}

/** `retried`: this job was given to a new reader once already (see `gone` below). */
function readOnce(bytes: Uint8Array, mappings: readonly Mapping[], commune: string | null, limits: ReadLimits, labels = false, retried = false): Promise<ReadAnswer> {
  const r = readerFor(limits.heapMb);
  if (r.idle) clearTimeout(r.idle);
  r.idle = null;
  const id = ++nextId;
  startedForTests = false;
  return new Promise<ReadAnswer>((resolve) => {
    let settled = false;
    /** The reader said it has the job: from then on, its death is the file's doing. */
    let started = false;
    const settle = () => {
      settled = true;
      clearTimeout(timer);
      if (r.listener === listener) r.listener = null;
    };
    const done = (answer: ReadAnswer, keep: boolean) => {
      if (settled) return;
      settle();
      if (!keep) stop(r);
      else if (reader === r) {
        r.idle = setTimeout(() => stop(r), IDLE_MS);
        r.idle.unref();
      }
      resolve(answer);
    };
    const crashed = () => done({ recognised: false, reason: 'fichier illisible (mémoire de lecture dépassée ou tableur abîmé)' }, false);
    // Gone before it said « started »: killed while idle (from outside, just before this read), or
    // its channel closed; the file has not been read, so a new reader reads it, once. A reader that
    // dies again before starting (or after starting: the file) gives the answers below.
    const lost = () => {
      if (settled) return;
      settle();
      if (reader === r) stop(r);
      // Called from a reader's event: a new reader that cannot start (readerFor throws) rejects
      // this read as a first read would, never throws into the event's handler.
      resolve(Promise.resolve().then(() => readOnce(bytes, mappings, commune, limits, labels, true)));
    };
    const listener: Reader['listener'] = {
      message: (message) => {
        if ('ready' in message || message.id !== id) return;
        if ('started' in message) started = startedForTests = true;
        else done(message.answer, true);
      },
      gone: (how) => {
        const again = fellBack;
        fellBack = false;
        if (how !== 'stopped' && !started && (!retried || again)) lost();
        else if (how === 'crashed') crashed();
        else done({ recognised: false, reason: 'fichier illisible' }, false);
      },
    };
    const timer = setTimeout(() => done({ recognised: false, reason: `lecture trop longue (plus de ${Math.round(limits.timeMs / 1000)} s)` }, false), limits.timeMs);
    r.listener = listener;
    const job: ReadJob = { id, bytes, mappings: [...mappings], commune, limits: { maxCells: limits.maxCells, maxUnzippedBytes: limits.maxUnzippedBytes }, ...(labels ? { labels } : {}) };
    r.post(job, () => (started || retried ? crashed() : lost()));
  });
}

/** Whether the read in progress was received by its reader (tests: to kill it after, not before). */
export function readingStartedForTests(): boolean {
  return startedForTests;
}

export async function readState(bytes: Uint8Array, mappings: readonly Mapping[], commune: string | null, limits: ReadLimits = READ_LIMITS): Promise<StateReading> {
  if (bytes.length > limits.maxBytes) return { recognised: false, reason: `fichier trop gros (plus de ${Math.round(limits.maxBytes / 1024 / 1024)} Mio)` };
  if (bytes.length === 0) return { recognised: false, reason: 'fichier vide' };
  const turn = queue.then(() => readOnce(bytes, mappings, commune, limits));
  queue = turn.catch(() => undefined);
  return turn as Promise<StateReading>;
}

/** The labels of a state, read under the same limits and by the same reader as its figures. */
export async function readStateLabels(bytes: Uint8Array, limits: ReadLimits = READ_LIMITS): Promise<LabelsReading> {
  if (bytes.length > limits.maxBytes) return { readable: false, reason: `fichier trop gros (plus de ${Math.round(limits.maxBytes / 1024 / 1024)} Mio)` };
  if (bytes.length === 0) return { readable: false, reason: 'fichier vide' };
  const turn = queue.then(() => readOnce(bytes, [], null, limits, true));
  queue = turn.catch(() => undefined);
  const answer = await turn;
  if ('labels' in answer) return { readable: true, ...answer.labels };
  return { readable: false, reason: answer.recognised ? 'fichier illisible' : answer.reason };
}

/** Ends the reader now (tests); a read in progress answers « fichier illisible ». */
export async function stopReading(): Promise<void> {
  if (reader) stop(reader);
}
