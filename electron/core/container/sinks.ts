// Where decrypted files go. The folder sink writes into a private temporary folder inside the
// destination and moves the files into place only on commit(), which open.ts calls after every
// check has passed; abort() deletes everything. An existing file is never overwritten.
import { constants, type Dirent } from 'node:fs';
import { copyFile, link, mkdir, open, readdir, rm, unlink, utimes, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { createHash, randomBytes, type Hash } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import type { Manifest } from './manifest.js';
import type { CipherSource, PlainSink } from './open.js';
import { inputError } from '../errors.js';

export const TEMP_PREFIX = '.pli-tmp-';

/** Numbered SHA-256 streams (the signature's digest, one per decrypted file...). */
export interface Sha256Streams {
  /**
   * Appends `parts` to `stream`. The parts are handed over: their memory may move to a worker
   * thread, so the caller must not read or change them, nor any other view of the same memory,
   * afterwards. Resolves when more may be given.
   */
  update(stream: number, parts: Buffer[]): Promise<void>;
  digest(stream: number): Promise<Buffer>;
  close(): Promise<void>;
}

/** Above this many bytes, hashing moves to a worker thread (below, starting one costs more than it saves). */
export const OFF_THREAD_HASH_BYTES = 8 * 1024 * 1024;

/** SHA-256 on a worker thread for large payloads, in this thread otherwise. */
export function sha256Streams(totalBytes: number): Sha256Streams {
  return totalBytes > OFF_THREAD_HASH_BYTES ? new WorkerSha256() : new InlineSha256();
}

class InlineSha256 implements Sha256Streams {
  private readonly hashes: Hash[] = [];
  async update(stream: number, parts: Buffer[]): Promise<void> {
    const hash = (this.hashes[stream] ??= createHash('sha256'));
    for (const part of parts) hash.update(part);
  }
  async digest(stream: number): Promise<Buffer> {
    return (this.hashes[stream] ?? createHash('sha256')).digest();
  }
  async close(): Promise<void> {}
}

// The worker hashes the parts in the order they are posted and sends their memory back, so that
// it is freed by the main thread's garbage collector as before (a worker's heap is rarely collected).
const HASH_WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const hashes = [];
parentPort.on('message', (m) => {
  if (m.digest !== undefined) {
    parentPort.postMessage({ stream: m.digest, digest: (hashes[m.digest] || createHash('sha256')).digest() });
    hashes[m.digest] = undefined;
    return;
  }
  const hash = (hashes[m.stream] = hashes[m.stream] || createHash('sha256'));
  for (const part of m.parts) hash.update(part);
  parentPort.postMessage({ done: m.bytes, parts: m.parts }, m.parts.map((p) => p.buffer));
});
`;
/** Bytes handed to the worker and not hashed yet, beyond which update() waits. */
const MAX_IN_FLIGHT = 12 * 1024 * 1024;
/** Stream numbers of one user of the shared worker: more than the 10 000 files of a manifest. */
const STREAMS_PER_USER = 1 << 16;

/** One worker thread, shared by everything hashing at the same time (a decryption's two users),
 * started by the first user and stopped when the last one closes. */
class HashWorker {
  private static shared: HashWorker | null = null;
  // It only runs node:crypto on buffers it is handed: a small JavaScript heap is enough (peak memory).
  private readonly worker = new Worker(HASH_WORKER_SOURCE, { eval: true, resourceLimits: { maxOldGenerationSizeMb: 16, maxYoungGenerationSizeMb: 4, codeRangeSizeMb: 4 } });
  private users = 0;
  private nextUser = 0;
  private inFlight = 0;
  private readonly waiting: { resolve: () => void; reject: (error: Error) => void }[] = [];
  private readonly digests = new Map<number, { resolve: (digest: Buffer) => void; reject: (error: Error) => void }>();
  private failure: Error | null = null;

  /** Returns the shared worker and the first stream number reserved for the caller. */
  static acquire(): { worker: HashWorker; base: number } {
    const worker = (HashWorker.shared ??= new HashWorker());
    worker.users++;
    return { worker, base: worker.nextUser++ * STREAMS_PER_USER };
  }

  private constructor() {
    this.worker.on('message', (m: { done?: number; stream?: number; digest?: Uint8Array }) => {
      if (m.done !== undefined) {
        this.inFlight -= m.done;
        if (this.inFlight <= MAX_IN_FLIGHT) for (const w of this.waiting.splice(0)) w.resolve();
      } else {
        this.digests.get(m.stream!)?.resolve(Buffer.from(m.digest!));
        this.digests.delete(m.stream!);
      }
    });
    const fail = (error: Error): void => {
      if (HashWorker.shared === this) HashWorker.shared = null;
      this.failure ??= error;
      for (const w of this.waiting.splice(0)) w.reject(this.failure);
      for (const d of this.digests.values()) d.reject(this.failure);
      this.digests.clear();
    };
    this.worker.on('error', fail);
    this.worker.on('exit', () => fail(new Error('hash worker stopped')));
  }

  async update(stream: number, parts: Buffer[]): Promise<void> {
    while (this.inFlight > MAX_IN_FLIGHT && !this.failure) {
      await new Promise<void>((resolve, reject) => this.waiting.push({ resolve, reject }));
    }
    if (this.failure) throw this.failure;
    // A part that is the whole of its memory moves to the worker without a copy; any other (a
    // slice, a small Buffer sharing Node's pool) is copied first, so no other Buffer is detached.
    const views: Uint8Array[] = [];
    const transfer = new Set<ArrayBuffer>();
    let bytes = 0;
    for (const part of parts) {
      const whole = part.byteOffset === 0 && part.byteLength === part.buffer.byteLength
        && part.buffer instanceof ArrayBuffer && !transfer.has(part.buffer);
      const view = whole ? part : new Uint8Array(part);
      views.push(view);
      transfer.add(view.buffer as ArrayBuffer);
      bytes += view.byteLength;
    }
    this.inFlight += bytes;
    this.worker.postMessage({ stream, parts: views, bytes }, [...transfer]);
  }

  digest(stream: number): Promise<Buffer> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.digests.set(stream, { resolve, reject });
      this.worker.postMessage({ digest: stream });
    });
  }

  async release(): Promise<void> {
    if (--this.users > 0) return;
    if (HashWorker.shared === this) HashWorker.shared = null;
    this.failure ??= new Error('hash worker closed');
    await this.worker.terminate();
  }
}

class WorkerSha256 implements Sha256Streams {
  private readonly user = HashWorker.acquire();
  private closed = false;
  update(stream: number, parts: Buffer[]): Promise<void> {
    return this.user.worker.update(this.user.base + stream, parts);
  }
  digest(stream: number): Promise<Buffer> {
    return this.user.worker.digest(this.user.base + stream);
  }
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.user.worker.release();
  }
}

/** A file moved into place, with the SHA-256 of what was written (for the audit log). */
export interface WrittenFile { name: string; path: string; size: number; sha256: string }

export class FolderSink implements PlainSink {
  readonly tempDir: string;
  private manifest: Manifest | null = null;
  private current: { index: number; handle: FileHandle } | null = null;
  private hashes: Sha256Streams | null = null;
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
    // One SHA-256 per file, for the audit log: on a worker thread when the files are large.
    this.hashes = sha256Streams(manifest.files.reduce((sum, f) => sum + f.size, 0));
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
    await this.current.handle.writev(parts);
    await this.hashes!.update(index, parts); // after the write: update() takes the parts
  }

  async commit(): Promise<void> {
    await this.current?.handle.close();
    this.current = null;
    const files = this.manifest?.files ?? [];
    const digests: string[] = [];
    try {
      for (let i = 0; i < files.length; i++) digests.push((await this.hashes!.digest(i)).toString('hex'));
    } finally {
      await this.hashes?.close();
    }
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
    await this.hashes?.close();
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

export async function fileSource(file: string): Promise<CipherSource & { close(): Promise<void> }> {
  let handle: FileHandle;
  try {
    handle = await open(file, 'r');
  } catch {
    throw inputError('missing-file', `Fichier introuvable : ${file}. Vérifiez le chemin.`);
  }
  const info = await handle.stat();
  return {
    size: info.size,
    read: async (target, offset, length, position) => (await handle.read(target, offset, length, position)).bytesRead,
    close: () => handle.close(),
  };
}
