// The reader of states in the desktop app: Electron's utility process, which electron/main.ts
// hands to read.ts (useReaderProcess). Electron is not on this machine: the utility process is
// played here by a Node child process whose Node IPC is hidden and replaced by an object shaped
// as Electron's `process.parentPort` (messages as events with `data`), so that read.worker.ts can
// only answer through its utility branch. Checked: states are read there; a fatal out-of-memory
// ends that process only; utility processes that never start (gone, or silent and still there,
// before « ready ») are given up for the next reader
// (the read in hand still answers), as is a spawner that throws; our own stops are no failures.
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { readerPidForTests, readState, READ_LIMITS, stopReading, useReaderProcess, type ReaderProcess, type ReaderSpawn } from '../../electron/core/indicators/read.js';
import { BUILT_IN_MAPPINGS } from '../../electron/core/indicators/mapping.js';
import { alive, figures, HEAP_REASON, small, until } from './indicators-reader-support.js';


const dir = mkdtempSync(path.join(os.tmpdir(), 'pli-utility-'));
/** Electron's parentPort, played over Node's IPC, which the reader can then no longer use itself. */
const SHIM = path.join(dir, 'parent-port.mjs');
writeFileSync(SHIM, `import { EventEmitter } from 'node:events';
const send = process.send.bind(process);
const port = new EventEmitter();
port.postMessage = (message) => send(message);
process.on('message', (data) => port.emit('message', { data }));
process.on('disconnect', () => process.exit(0));
process.send = undefined;
process.parentPort = port;
`);
/** A module that exits at once without a word (a utility process that cannot start). */
const BROKEN = path.join(dir, 'broken.mjs');
writeFileSync(BROKEN, 'process.exit(3);\n');
/** A module that never says « ready » and never exits, even when killed (SIGTERM ignored). */
const STUCK = path.join(dir, 'stuck.mjs');
writeFileSync(STUCK, "process.on('SIGTERM', () => undefined);\nsetInterval(() => undefined, 1000);\n");

const children: ChildProcess[] = [];
/** What a spawner was given, and how its processes behave as Electron's may. */
interface Spawned {
  calls: string[];
  envs?: NodeJS.ProcessEnv[];
  /** Messages other than « ready » lost (Electron closes a dying process's port before 'exit'). */
  dropping?: () => boolean;
  /** kill() refused (false) until 'spawn', as Electron's before the process is launched. */
  lateSpawn?: boolean;
}

/** A spawner shaped as electron/main.ts's (utilityProcess.fork); `module` replaces the reader's. */
function spawner(seen: string[] | Spawned, module?: string): ReaderSpawn {
  const how: Spawned = Array.isArray(seen) ? { calls: seen } : seen;
  return (modulePath, { execArgv, env }) => {
    how.calls.push(modulePath);
    how.envs?.push(env);
    const child = fork(module ?? modulePath, [], { execArgv: ['--import', pathToFileURL(SHIM).href, ...execArgv], env, serialization: 'advanced', stdio: ['ignore', 'ignore', 'ignore', 'ipc'] });
    children.push(child);
    let spawned = false;
    child.on('spawn', () => (spawned = true));
    const process: ReaderProcess = {
      pid: child.pid,
      postMessage: (job) => { child.send(job); },
      kill: () => (how.lateSpawn && !spawned ? false : child.kill()),
      // Electron gives an exit code (a signal too makes it non-zero).
      on: ((event: 'spawn' | 'message' | 'exit' | 'error', listener: (value?: unknown) => void) => {
        if (event === 'exit') child.on('exit', (code: number | null) => listener(code ?? 1));
        else if (event === 'message') child.on('message', (message: object) => { if ('ready' in message || !how.dropping?.()) listener(message); });
        else child.on(event, listener);
        return process;
      }) as ReaderProcess['on'],
    };
    return process;
  };
}

afterEach(async () => {
  await stopReading();
  useReaderProcess(null);
});
afterAll(() => {
  for (const child of children) child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

describe('the reader in a utility process (the desktop app)', () => {
  it('reads states there, one process for several states, answering through parentPort only', async () => {
    const calls: string[] = [];
    useReaderProcess(spawner(calls));
    expect(figures(await readState(small(), BUILT_IN_MAPPINGS, null))).toEqual([1, 2, 3]);
    expect(figures(await readState(small(), BUILT_IN_MAPPINGS, null))).toEqual([1, 2, 3]);
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatch(/read\.worker/);
    expect(readerPidForTests()).toBe(children.at(-1)!.pid);
    expect(readerPidForTests()).not.toBe(process.pid);
  });

  it('a fatal out-of-memory ends the utility process alone: the heap answer, the next state read', async () => {
    useReaderProcess(spawner([]));
    const csv = Buffer.from(`Atteintes aux biens;1\n${'x;1\n'.repeat(10_000_000)}`);
    expect(await readState(csv, BUILT_IN_MAPPINGS, null, { ...READ_LIMITS, maxBytes: 64 * 1024 * 1024, heapMb: 8 })).toEqual({ recognised: false, reason: HEAP_REASON });
    expect(alive(process.pid)).toBe(true);
    expect(figures(await readState(small(), BUILT_IN_MAPPINGS, null))).toEqual([1, 2, 3]);
  }, 60_000);

  it('utility processes that never start: given up after two, the state in hand still read (by the next kind of reader)', async () => {
    const calls: string[] = [];
    useReaderProcess(spawner(calls, BROKEN));
    expect(figures(await readState(small(), BUILT_IN_MAPPINGS, null))).toEqual([1, 2, 3]);
    expect(calls).toHaveLength(2);
    expect(figures(await readState(small(), BUILT_IN_MAPPINGS, null))).toEqual([1, 2, 3]);
    expect(calls).toHaveLength(2); // not tried again this session
  });

  it('utility processes that never say « ready » nor exit: given up after two, the state in hand still read', async () => {
    const calls: string[] = [];
    useReaderProcess(spawner(calls, STUCK));
    const started = Date.now();
    expect(figures(await readState(small(), BUILT_IN_MAPPINGS, null))).toEqual([1, 2, 3]);
    expect(calls).toHaveLength(2);
    expect(Date.now() - started).toBeLessThan(READ_LIMITS.timeMs + 5000); // not two reads' time limits
    expect(children.slice(-2).every((child) => child.exitCode === null && child.signalCode === null)).toBe(true); // still there: killing them did nothing
    expect(figures(await readState(small(), BUILT_IN_MAPPINGS, null))).toEqual([1, 2, 3]);
    expect(calls).toHaveLength(2); // not tried again this session
  }, 60_000);

  it('its environment holds nothing of this process\'s, and is not empty (Electron would then pass all of it)', async () => {
    const seen: Spawned = { calls: [], envs: [] };
    useReaderProcess(spawner(seen));
    process.env.PLI_PASSPHRASE = 'phrase secrète du test';
    try {
      expect(figures(await readState(small(), BUILT_IN_MAPPINGS, null))).toEqual([1, 2, 3]);
    } finally {
      delete process.env.PLI_PASSPHRASE;
    }
    expect(seen.envs).toHaveLength(1);
    expect(Object.keys(seen.envs![0]!).length).toBeGreaterThan(0);
    expect(seen.envs![0]).not.toHaveProperty('PLI_PASSPHRASE');
    expect(seen.envs![0]!.PATH).toBeUndefined();
  });

  it('a hostile file whose reader dies with its messages lost: read twice at most, in utility processes, never given up for threads', async () => {
    let dropping = true;
    const seen: Spawned = { calls: [], dropping: () => dropping };
    useReaderProcess(spawner(seen));
    const csv = Buffer.from(`Atteintes aux biens;1\n${'x;1\n'.repeat(10_000_000)}`);
    expect(await readState(csv, BUILT_IN_MAPPINGS, null, { ...READ_LIMITS, maxBytes: 64 * 1024 * 1024, heapMb: 8 })).toEqual({ recognised: false, reason: HEAP_REASON });
    expect(seen.calls).toHaveLength(2); // its « ready » came: each had the job, none was « silent »
    dropping = false;
    expect(figures(await readState(small(), BUILT_IN_MAPPINGS, null))).toEqual([1, 2, 3]);
    expect(seen.calls).toHaveLength(3); // still utility processes
  }, 60_000);

  it('stopped before it was launched (kill() refused until then): killed once launched, not left running', async () => {
    const seen: Spawned = { calls: [], lateSpawn: true };
    useReaderProcess(spawner(seen));
    const reading = readState(small(), BUILT_IN_MAPPINGS, null);
    await until(() => readerPidForTests() !== undefined, 5000, 1);
    const child = children.at(-1)!;
    await stopReading();
    expect(await reading).toEqual({ recognised: false, reason: 'fichier illisible' });
    await until(() => child.exitCode !== null || child.signalCode !== null);
  });

  it('a spawner that throws: the reader of the next kind, at once', async () => {
    let calls = 0;
    useReaderProcess(() => {
      calls++;
      throw new Error('utility process refused');
    });
    expect(figures(await readState(small(), BUILT_IN_MAPPINGS, null))).toEqual([1, 2, 3]);
    expect(figures(await readState(small(), BUILT_IN_MAPPINGS, null))).toEqual([1, 2, 3]);
    expect(calls).toBe(1);
  });

  it('utility processes this module ends itself (a stop while starting, a time-out) are no failures: still used', async () => {
    const calls: string[] = [];
    useReaderProcess(spawner(calls));
    for (let i = 0; i < 3; i++) {
      const reading = readState(small(), BUILT_IN_MAPPINGS, null);
      await until(() => readerPidForTests() !== undefined, 5000, 1);
      await stopReading(); // at once: before the process could say a word
      expect(await reading).toEqual({ recognised: false, reason: 'fichier illisible' });
    }
    expect(await readState(small(), BUILT_IN_MAPPINGS, null, { ...READ_LIMITS, timeMs: 1 })).toEqual({ recognised: false, reason: 'lecture trop longue (plus de 0 s)' });
    expect(figures(await readState(small(), BUILT_IN_MAPPINGS, null))).toEqual([1, 2, 3]);
    expect(calls).toHaveLength(5);
  });
});
