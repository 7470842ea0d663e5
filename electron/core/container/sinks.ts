// Where decrypted files go. The folder sink writes into a private temporary folder inside the
// destination and moves the files into place only on commit(), which open.ts calls after every
// check has passed; abort() deletes everything. An existing file is never overwritten.
import { constants, type Dirent } from 'node:fs';
import { copyFile, link, mkdir, open, readdir, rm, unlink, utimes, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { createHash, randomBytes, type Hash } from 'node:crypto';
import type { Manifest } from './manifest.js';
import type { CipherSource, PlainSink } from './open.js';
import { inputError } from '../errors.js';
import { DigestWorker, ownsMemory, StartedThread, type Pending } from './threads.js';

export const TEMP_PREFIX = '.pli-tmp-';

/**
 * SHA-256 of a stream (the writer's signature digest: label, header and every chunk), computed
 * on a worker thread when the stream is large, so that it runs on the second core while this
 * thread encrypts the next block. (The reader's digest is in opener.ts.)
 */
export interface Sha256Stream {
  /**
   * Appends `parts`. The parts are handed over: their memory may move to the worker thread, so
   * the caller must not read or change them, nor any other view of the same memory, afterwards.
   * Resolves when more may be given.
   */
  update(parts: Buffer[]): Promise<void>;
  digest(): Promise<Buffer>;
  close(): Promise<void>;
}

/** Above this many bytes, hashing moves to a worker thread (below, starting one costs more than it saves). */
export const OFF_THREAD_HASH_BYTES = 8 * 1024 * 1024;

export function sha256Stream(totalBytes: number): Sha256Stream {
  return totalBytes > OFF_THREAD_HASH_BYTES ? new WorkerSha256() : new InlineSha256();
}

class InlineSha256 implements Sha256Stream {
  private readonly hash = createHash('sha256');
  async update(parts: Buffer[]): Promise<void> {
    for (const part of parts) this.hash.update(part);
  }
  async digest(): Promise<Buffer> {
    return this.hash.digest();
  }
  async close(): Promise<void> {}
}

// The worker hashes the parts in the order they are posted and sends their memory back, to be
// freed by the main thread's collector (a worker's heap is rarely collected).
const HASH_WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const hash = createHash('sha256');
parentPort.on('message', (parts) => {
  if (parts === 'digest') return parentPort.postMessage({ digest: hash.digest() });
  for (const part of parts) hash.update(part);
  parentPort.postMessage({ parts }, parts.map((p) => p.buffer));
});
`;
/** Bytes handed to the worker and not hashed yet, beyond which update() waits: two blocks of
 * the reader or writer keep the worker busy; more would only hold memory (peak RSS). */
const MAX_IN_FLIGHT = 8 * 1024 * 1024;

class WorkerSha256 extends DigestWorker<{ parts: Uint8Array[] }> implements Sha256Stream {
  private inFlight = 0;
  private readonly waiting: Pending<void>[] = [];

  constructor() {
    super(new StartedThread(HASH_WORKER_SOURCE, { youngGenerationMb: 4 }), 'hash worker');
  }

  protected onAnswer(m: { parts: Uint8Array[] }): void {
    for (const part of m.parts) this.inFlight -= part.byteLength;
    if (this.inFlight <= MAX_IN_FLIGHT) for (const w of this.waiting.splice(0)) w.resolve();
  }

  protected rejectPending(error: Error): void {
    for (const w of this.waiting.splice(0)) w.reject(error);
  }

  async update(parts: Buffer[]): Promise<void> {
    while (this.inFlight > MAX_IN_FLIGHT && !this.failure) {
      await new Promise<void>((resolve, reject) => this.waiting.push({ resolve, reject }));
    }
    if (this.failure) throw this.failure;
    // A part that is the whole of its memory moves to the worker without a copy; any other is copied first.
    const views: Uint8Array[] = [];
    const transfer = new Set<ArrayBuffer>();
    for (const part of parts) {
      const view = ownsMemory(part) && !transfer.has(part.buffer as ArrayBuffer) ? part : new Uint8Array(part);
      views.push(view);
      transfer.add(view.buffer as ArrayBuffer);
      this.inFlight += view.byteLength;
    }
    this.worker.postMessage(views, [...transfer]);
  }
}

/** A file moved into place, with the SHA-256 of what was written (for the audit log). */
export interface WrittenFile { name: string; path: string; size: number; sha256: string }

export class FolderSink implements PlainSink {
  readonly tempDir: string;
  private manifest: Manifest | null = null;
  private current: { index: number; handle: FileHandle } | null = null;
  /** SHA-256 of each file as written, for the audit log. */
  private hashes: Hash[] = [];
  written: WrittenFile[] = [];

  private constructor(private readonly outDir: string) {
    // The pid in the name lets a later run tell a crashed run's leftovers from a live one.
    this.tempDir = path.join(outDir, `${TEMP_PREFIX}${process.pid}-${randomBytes(6).toString('hex')}`);
  }

  static async create(outDir: string): Promise<FolderSink> {
    try {
      await mkdir(outDir, { recursive: true });
    } catch (error) {
      throw inputError('cannot-write', `Impossible de créer le dossier ${outDir} : ${(error as Error).message}.`);
    }
    await sweepTemporaryFolders(outDir);
    const sink = new FolderSink(outDir);
    await mkdir(sink.tempDir, { mode: 0o700 });
    return sink;
  }

  async begin(manifest: Manifest): Promise<void> {
    this.manifest = manifest;
    this.hashes = manifest.files.map(() => createHash('sha256'));
    // Empty files have no write(): create every file now, all private (0600).
    for (let i = 0; i < manifest.files.length; i++) {
      const handle = await open(this.tempPath(i), 'wx', 0o600);
      await handle.close();
    }
  }

  private tempPath(index: number): string {
    return path.join(this.tempDir, String(index));
  }

  async write(index: number, parts: Buffer[]): Promise<void> {
    if (this.current?.index !== index) {
      await this.current?.handle.close();
      this.current = { index, handle: await open(this.tempPath(index), 'a', 0o600) };
    }
    // Hashed here while libuv's thread pool writes the same (read-only) buffers: the reader's
    // worker thread is busy with the signature's digest, and this thread has the time.
    const writing = this.current.handle.writev(parts);
    const hash = this.hashes[index]!;
    for (const part of parts) hash.update(part);
    await writing;
  }

  async commit(): Promise<void> {
    await this.current?.handle.close();
    this.current = null;
    const files = this.manifest?.files ?? [];
    const digests = this.hashes.map((hash) => hash.digest('hex'));
    for (let i = 0; i < files.length; i++) {
      const file = files[i]!;
      const target = await placeWithoutOverwrite(this.tempPath(i), this.outDir, file.name);
      if (file.mtime !== null) {
        const when = new Date(file.mtime);
        await utimes(target, when, when).catch(() => {});
      }
      this.written.push({ name: file.name, path: target, size: file.size, sha256: digests[i]! });
    }
    await rm(this.tempDir, { recursive: true, force: true });
  }

  async abort(): Promise<void> {
    this.hashes = [];
    await this.current?.handle.close().catch(() => {});
    this.current = null;
    await rm(this.tempDir, { recursive: true, force: true });
  }
}

/** Moves `from` to outDir/name, or to "name (2).ext", "name (3).ext"... if that exists. */
async function placeWithoutOverwrite(from: string, outDir: string, name: string): Promise<string> {
  const dot = name.lastIndexOf('.');
  const stem = dot > 0 ? name.slice(0, dot) : name;
  const extension = dot > 0 ? name.slice(dot) : '';
  for (let n = 1; n < 10000; n++) {
    const candidate = path.join(outDir, n === 1 ? name : `${stem} (${n})${extension}`);
    try {
      // link() fails with EEXIST instead of replacing: no window in which a file could be lost.
      await link(from, candidate);
      await unlink(from);
      return candidate;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') continue;
      if (code === 'EPERM' || code === 'ENOTSUP' || code === 'EXDEV' || code === 'ENOSYS') {
        // File systems without hard links (FAT/exFAT USB keys): exclusive copy instead.
        try {
          await copyFile(from, candidate, constants.COPYFILE_EXCL);
          await unlink(from);
          return candidate;
        } catch (copyError) {
          if ((copyError as NodeJS.ErrnoException).code === 'EEXIST') continue;
          throw copyError;
        }
      }
      throw error;
    }
  }
  throw inputError('name-exhausted', `Trop de fichiers nommés « ${name} » dans ${outDir} : choisissez un autre dossier.`);
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Deletes temporary folders that a crashed run left in `dir` (their process is gone). */
export async function sweepTemporaryFolders(dir: string): Promise<number> {
  let entries: Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  let swept = 0;
  for (const entry of entries) {
    if (!entry.isDirectory() || !entry.name.startsWith(TEMP_PREFIX)) continue;
    const pid = Number(entry.name.slice(TEMP_PREFIX.length).split('-')[0]);
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && processAlive(pid)) continue;
    if (pid === process.pid) continue;
    await rm(path.join(dir, entry.name), { recursive: true, force: true });
    swept++;
  }
  return swept;
}

export class MemorySink implements PlainSink {
  manifest: Manifest | null = null;
  files: Buffer[][] = [];
  committed = false;
  async begin(manifest: Manifest): Promise<void> {
    this.manifest = manifest;
    this.files = manifest.files.map(() => []);
  }
  async write(index: number, parts: Buffer[]): Promise<void> {
    this.files[index]!.push(...parts.map((p) => Buffer.from(p)));
  }
  async commit(): Promise<void> {
    this.committed = true;
  }
  async abort(): Promise<void> {
    this.files = [];
    this.manifest = null;
  }
  result(): { name: string; data: Buffer }[] {
    return (this.manifest?.files ?? []).map((f, i) => ({ name: f.name, data: Buffer.concat(this.files[i] ?? []) }));
  }
}

export function bufferSource(bytes: Buffer): CipherSource {
  return { size: bytes.length, read: async (target, offset, length, position) => bytes.copy(target, offset, position, Math.min(bytes.length, position + length)) };
}

/** `fd` lets the reader's worker thread pre-hash the file (opener.ts); only reads use it. */
export async function fileSource(file: string): Promise<CipherSource & { fd: number; close(): Promise<void> }> {
  let handle: FileHandle;
  try {
    handle = await open(file, 'r');
  } catch {
    throw inputError('missing-file', `Fichier introuvable : ${file}. Vérifiez le chemin.`);
  }
  const info = await handle.stat();
  return {
    size: info.size,
    fd: handle.fd,
    read: async (target, offset, length, position) => (await handle.read(target, offset, length, position)).bytesRead,
    close: () => handle.close(),
  };
}
