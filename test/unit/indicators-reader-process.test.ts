// The reader of states is a child process (docs/indicators.md 5, electron/core/indicators/read.ts):
// a V8 fatal error while parsing a hostile spreadsheet (the heap limit) ends it, never this
// process. It is another process; killed during a read, that read answers "fichier illisible"
// and the next one gets a new reader; its heap is bounded by its own options, not inherited; its
// environment holds none of this one's secrets; a read over its time limit kills it.
import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { readerForkOptions, readerPidForTests, readingStartedForTests, readState, READ_LIMITS, stopReading } from '../../electron/core/indicators/read.js';
import { BUILT_IN_MAPPINGS } from '../../electron/core/indicators/mapping.js';
import { workerFile } from '../../electron/core/workers.js';
import { toWorkbook } from './indicators-fixtures.js';
import { alive, figures, HEAP_REASON, small, SMALL_FIGURES, until } from './indicators-reader-support.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
/** A sheet that takes the reader a while (about a second) and a few hundred MiB at most. */
const bigBook = () => toWorkbook(Array.from({ length: 60_000 }, (_, i) => [`ligne ${i}`, i, i, i]), 'xlsx');

afterAll(async () => {
  await stopReading();
});

describe('the reader of states is a child process', () => {
  it('is another process, reused from one state to the next', async () => {
    expect(figures(await readState(small(), BUILT_IN_MAPPINGS, null))).toEqual(SMALL_FIGURES);
    const pid = readerPidForTests();
    expect(pid).toEqual(expect.any(Number));
    expect(pid).not.toBe(process.pid);
    expect(alive(pid!)).toBe(true);
    expect(figures(await readState(small(), BUILT_IN_MAPPINGS, null))).toEqual(SMALL_FIGURES);
    expect(readerPidForTests()).toBe(pid);
  });

  it('killed (kill -9) during a read: that read answers "fichier illisible", the next one gets a new reader', async () => {
    await stopReading();
    const book = bigBook();
    const limits = { ...READ_LIMITS, maxBytes: 64 * 1024 * 1024, timeMs: 60_000 };
    const reading = readState(book, BUILT_IN_MAPPINGS, null, limits);
    await until(() => readerPidForTests() !== undefined && readingStartedForTests());
    const pid = readerPidForTests()!;
    await new Promise((resolve) => setTimeout(resolve, 150)); // the job received, the parsing begun
    process.kill(pid, 'SIGKILL');
    const started = Date.now();
    expect(await reading).toEqual({ recognised: false, reason: HEAP_REASON });
    expect(Date.now() - started).toBeLessThan(2000);
    expect(figures(await readState(small(), BUILT_IN_MAPPINGS, null))).toEqual(SMALL_FIGURES);
    expect(readerPidForTests()).not.toBe(pid);
  }, 60_000);

  it('killed while idle, just before a read (its exit not seen yet): the read goes to a new reader and is read', async () => {
    expect(figures(await readState(small(), BUILT_IN_MAPPINGS, null))).toEqual(SMALL_FIGURES);
    const pid = readerPidForTests()!;
    process.kill(pid, 'SIGKILL');
    // Same tick: the reader is still this module's, dead; the file has nothing to do with it.
    expect(figures(await readState(small(), BUILT_IN_MAPPINGS, null))).toEqual(SMALL_FIGURES);
    expect(readerPidForTests()).not.toBe(pid);
  });

  it('the second reader of a job also dying before it starts: an answer, not a third reader', async () => {
    await stopReading();
    const reading = readState(small(), BUILT_IN_MAPPINGS, null);
    const killed: number[] = [];
    for (let i = 0; i < 2; i++) {
      await until(() => readerPidForTests() !== undefined && !killed.includes(readerPidForTests()!), 10_000);
      expect(readingStartedForTests()).toBe(false); // still starting (Node's start-up: ~50 ms)
      killed.push(readerPidForTests()!);
      process.kill(killed.at(-1)!, 'SIGKILL');
    }
    expect(await reading).toEqual({ recognised: false, reason: HEAP_REASON });
    expect(figures(await readState(small(), BUILT_IN_MAPPINGS, null))).toEqual(SMALL_FIGURES);
  }, 30_000);

  it('a V8 fatal out-of-memory in the reader ends the reader alone: the answer is the heap reason, this process goes on', async () => {
    // A reader with an 8 MiB old generation and an ordinary big CSV (40 MB of text, one string in
    // the reader): V8 aborts the child ("FATAL ERROR: ... heap limit"), as a hostile file's single
    // huge allocation would; in a worker thread such an allocation aborted the whole process.
    const csv = Buffer.from(`Atteintes aux biens;1\n${'x;1\n'.repeat(10_000_000)}`);
    const limits = { ...READ_LIMITS, maxBytes: 64 * 1024 * 1024, heapMb: 8 };
    expect(await readState(csv, BUILT_IN_MAPPINGS, null, limits)).toEqual({ recognised: false, reason: HEAP_REASON });
    expect(alive(process.pid)).toBe(true);
    expect(figures(await readState(small(), BUILT_IN_MAPPINGS, null))).toEqual(SMALL_FIGURES);
  }, 60_000);

  it('stopped during a read (stopReading): that read answers "fichier illisible" at once, not at its time limit', async () => {
    await stopReading();
    const reading = readState(bigBook(), BUILT_IN_MAPPINGS, null, { ...READ_LIMITS, maxBytes: 64 * 1024 * 1024, timeMs: 20_000 });
    await until(() => readerPidForTests() !== undefined);
    await new Promise((resolve) => setTimeout(resolve, 150)); // the job sent, the parsing begun
    const started = Date.now();
    await stopReading();
    expect(await reading).toEqual({ recognised: false, reason: 'fichier illisible' });
    expect(Date.now() - started).toBeLessThan(2000);
    expect(figures(await readState(small(), BUILT_IN_MAPPINGS, null))).toEqual(SMALL_FIGURES);
  }, 60_000);

  it('over its time limit the reader is killed and the answer is "lecture trop longue"', async () => {
    await stopReading();
    const reading = readState(bigBook(), BUILT_IN_MAPPINGS, null, { ...READ_LIMITS, maxBytes: 64 * 1024 * 1024, timeMs: 100 });
    await until(() => readerPidForTests() !== undefined);
    const pid = readerPidForTests()!;
    expect(await reading).toEqual({ recognised: false, reason: 'lecture trop longue (plus de 0 s)' });
    await until(() => !alive(pid));
    expect(figures(await readState(small(), BUILT_IN_MAPPINGS, null))).toEqual(SMALL_FIGURES);
    expect(readerPidForTests()).not.toBe(pid);
  }, 60_000);

  it('its options: a heap bounded by its own flags, no inherited option, no environment, no output', () => {
    const env = { ...process.env, PLI_PASSPHRASE: 'secret', NODE_OPTIONS: '--max-old-space-size=99999', PLI_MAILBOX_PASSWORD: 'secret', SYSTEMROOT: 'C:\\Windows' };
    const options = readerForkOptions(256, env);
    expect(options.execArgv).toEqual(['--max-old-space-size=256', '--max-semi-space-size=16']);
    expect(options.env).toEqual(process.platform === 'win32' ? { SYSTEMROOT: 'C:\\Windows' } : {});
    expect(JSON.stringify(options.env)).not.toMatch(/secret|PLI_|NODE_OPTIONS/);
    expect(options.serialization).toBe('advanced');
    expect(options.stdio).toEqual(['ignore', 'ignore', 'ignore', 'ipc']);
  });

  it.skipIf(process.platform !== 'linux')('the running reader: PLI_PASSPHRASE and NODE_OPTIONS of this process are not in its environment; its heap flags are its own', async () => {
    await stopReading();
    const saved = { PLI_PASSPHRASE: process.env.PLI_PASSPHRASE, NODE_OPTIONS: process.env.NODE_OPTIONS };
    process.env.PLI_PASSPHRASE = 'phrase de passe secrète';
    process.env.NODE_OPTIONS = '--max-old-space-size=4096';
    try {
      expect(figures(await readState(small(), BUILT_IN_MAPPINGS, null))).toEqual(SMALL_FIGURES);
      const pid = readerPidForTests()!;
      const environ = readFileSync(`/proc/${pid}/environ`, 'utf8');
      expect(environ).not.toMatch(/PLI_PASSPHRASE|NODE_OPTIONS|secrète/);
      const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      expect(argv).toContain('--max-old-space-size=256');
      expect(argv.filter((a) => a.startsWith('--max-old-space-size'))).toEqual(['--max-old-space-size=256']);
    } finally {
      for (const [key, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
      }
      await stopReading();
    }
  });

  it('from the sources, the child runs an esbuild bundle named by its hash in a private folder (0700, this user\'s)', () => {
    const file = workerFile('read', pathToFileURL(path.join(ROOT, 'electron/core/indicators/read.ts')).href);
    expect(path.basename(file)).toMatch(/^read\.worker-[0-9a-f]{16}\.cjs$/);
    expect(workerFile('read', pathToFileURL(path.join(ROOT, 'electron/core/indicators/read.ts')).href)).toBe(file);
    if (process.platform !== 'win32') {
      expect(statSync(path.dirname(file)).mode & 0o777).toBe(0o700);
      expect(statSync(path.dirname(file)).uid).toBe(process.getuid!());
      expect(statSync(file).mode & 0o077).toBe(0);
    }
  });

  it.skipIf(!existsSync(path.join(ROOT, 'dist/cli/read.worker.js')))('from dist/ (npm run build first): the compiled file and the bundled CLI\'s, and a read never keeps the command alive', () => {
    const compiled = path.join(ROOT, 'dist/electron/core/indicators/read.js');
    expect(workerFile('read', pathToFileURL(compiled).href)).toBe(path.join(ROOT, 'dist/electron/core/indicators/read.worker.js'));
    const chunk = readdirSync(path.join(ROOT, 'dist/cli')).find((f) => f.endsWith('.js'))!;
    expect(workerFile('read', pathToFileURL(path.join(ROOT, 'dist/cli', chunk)).href)).toBe(path.join(ROOT, 'dist/cli/read.worker.js'));
    // The compiled reader, run by a plain `node`: it answers, and the process ends at once (unref'd).
    const script = `import { readState } from ${JSON.stringify(pathToFileURL(compiled).href)};
      import { BUILT_IN_MAPPINGS } from ${JSON.stringify(pathToFileURL(path.join(ROOT, 'dist/electron/core/indicators/mapping.js')).href)};
      const r = await readState(Buffer.from('Atteintes aux biens;2\\nAtteintes à l’intégrité physique;1\\n'), BUILT_IN_MAPPINGS, null);
      process.stdout.write(JSON.stringify(r.recognised ? r.figures.map((f) => f.value) : r.reason));`;
    const started = Date.now();
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 20_000 });
    expect(run.stderr).toBe('');
    expect(JSON.parse(run.stdout)).toEqual([2, 1]);
    expect(run.status).toBe(0);
    expect(Date.now() - started).toBeLessThan(10_000); // not the 30 s idle time
  });
});
