// Where decrypted files go. The folder sink writes into a private temporary folder inside the
// destination and moves the files into place only on commit(), which open.ts calls after every
// check has passed; abort() deletes everything. An existing file is never overwritten.
// Invariants against whoever can write the destination folder (docs/profile.md, "Temporary
// files"): each file is created new (O_EXCL, O_NOFOLLOW) and written only through the handle that
// created it; both folders are checked (device, inode) before each creation and each move; a
// moved file must be the very inode written; nothing of a failed or interrupted run stays.
import { constants, lstatSync, rmSync, unlinkSync } from 'node:fs';
import { link, lstat, mkdir, open, readdir, rm, stat, unlink, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { createHash, randomBytes, type Hash } from 'node:crypto';
import { printable, type Manifest } from './manifest.js';
import type { CipherSource, PlainSink } from './open.js';
import { inputError, PliError, securityError } from '../errors.js';
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

// ---- Temporary things of the operations in progress --------------------------------------------

/**
 * What the operations in progress would leave on disk if the process ended now (a decryption's
 * temporary folder and the files it is moving into place, a container's .part file), each with a
 * synchronous cleanup. The core never ends the process: the command line's signal handler calls
 * removeLiveTemporaries() and then exits (electron/cli/pli.ts).
 */
const liveTemporaries = new Set<() => void>();

/** Registers a cleanup; returns the function that unregisters it (once the operation is over). */
export function registerTemporary(cleanup: () => void): () => void {
  liveTemporaries.add(cleanup);
  return () => {
    liveTemporaries.delete(cleanup);
  };
}

/** Runs every registered cleanup now, synchronously (from a signal handler); returns how many. */
export function removeLiveTemporaries(): number {
  const cleanups = [...liveTemporaries];
  liveTemporaries.clear();
  for (const cleanup of cleanups) {
    try {
      cleanup();
    } catch {
      // best effort: the others still run
    }
  }
  return cleanups.length;
}

// ---- The folder sink ---------------------------------------------------------------------------

/** Device and inode: what a path named when it was checked, compared before each use. */
interface Node { dev: bigint; ino: bigint }
const sameNode = (a: Node, b: Node): boolean => a.dev === b.dev && a.ino === b.ino;

// Windows has no O_NOFOLLOW (creating a symlink there needs a privilege); O_EXCL still refuses
// any existing name, a symlink included, even a dangling one.
const NOFOLLOW = constants.O_NOFOLLOW ?? 0;
const CREATE_NEW = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | NOFOLLOW;

/** The temporary folders this version creates: `.pli-tmp-<pid>-<12 hex digits>`, nothing else. */
const TEMP_NAME = /^\.pli-tmp-([1-9][0-9]{0,9})-[0-9a-f]{12}$/;

const tempTampered = (): Error => securityError('temp-tampered',
  "Le dossier temporaire du déchiffrement a été modifié par un autre programme : rien n'a été gardé. Signalez-le à l'officier SSI, puis recommencez.");

export class FolderSink implements PlainSink {
  readonly tempDir: string;
  private manifest: Manifest | null = null;
  private current: { index: number; handle: FileHandle } | null = null;
  /** Device and inode of each file as created in the temporary folder (null: not yet created). */
  private created: (Node | null)[] = [];
  /** Files moved into the destination by a commit in progress: taken back if it fails. */
  private placed: { path: string; node: Node }[] = [];
  private tempNode: Node | null = null;
  private readonly unregister: () => void;
  /** SHA-256 of each file as written, for the audit log. */
  private hashes: Hash[] = [];
  written: WrittenFile[] = [];

  private constructor(private readonly outDir: string, private readonly outNode: Node) {
    // The pid in the name lets a later run tell a crashed run's leftovers from a live one.
    this.tempDir = path.join(outDir, `${TEMP_PREFIX}${process.pid}-${randomBytes(6).toString('hex')}`);
    // Registered before the folder exists: a signal at any later moment finds it.
    this.unregister = registerTemporary(() => this.removeNow());
  }

  static async create(outDir: string): Promise<FolderSink> {
    let outInfo;
    try {
      await mkdir(outDir, { recursive: true });
      outInfo = await stat(outDir, { bigint: true });
    } catch (error) {
      throw inputError('cannot-write', `Impossible de créer le dossier ${outDir} : ${(error as Error).message}.`);
    }
    if (!outInfo.isDirectory()) throw inputError('cannot-write', `${outDir} n'est pas un dossier : choisissez un dossier de destination.`);
    await sweepTemporaryFolders(outDir);
    const sink = new FolderSink(outDir, outInfo);
    try {
      await mkdir(sink.tempDir, { mode: 0o700 });
      const info = await lstat(sink.tempDir, { bigint: true });
      if (!info.isDirectory()) throw tempTampered();
      sink.tempNode = info;
    } catch (error) {
      sink.unregister();
      if (error instanceof PliError) throw error;
      throw inputError('cannot-write', `Impossible d'écrire dans le dossier ${outDir} : ${(error as Error).message}. Vérifiez le dossier et les droits.`);
    }
    return sink;
  }

  async begin(manifest: Manifest): Promise<void> {
    this.manifest = manifest;
    this.hashes = manifest.files.map(() => createHash('sha256'));
    this.created = manifest.files.map(() => null);
    // Empty files have no write(): created (and dated) now. The others are created at their
    // first write, and written through that same handle until complete: never reopened by path.
    for (const [i, file] of manifest.files.entries()) {
      if (file.size > 0) continue;
      const handle = await this.createFile(i);
      await finish(handle, file.mtime);
    }
  }

  private tempPath(index: number): string {
    return path.join(this.tempDir, String(index));
  }

  /** Creates file `index` in the temporary folder: a new file, never an existing name or a symlink. */
  private async createFile(index: number): Promise<FileHandle> {
    if (this.created[index] !== null) throw tempTampered(); // a file is created once
    await this.checkFolders();
    let handle: FileHandle;
    try {
      handle = await open(this.tempPath(index), CREATE_NEW, 0o600);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EEXIST' || code === 'ELOOP' || code === 'ENOENT') throw tempTampered();
      throw error;
    }
    const info = await handle.stat({ bigint: true });
    this.created[index] = info;
    return handle;
  }

  /** The destination and the temporary folder are still the folders created or checked at the
   * start: a folder renamed and replaced (by a symlink or another folder) is refused. */
  private async checkFolders(): Promise<void> {
    const out = await stat(this.outDir, { bigint: true }).catch(() => null);
    const temp = await lstat(this.tempDir, { bigint: true }).catch(() => null);
    if (!out || !sameNode(out, this.outNode) || !temp || !temp.isDirectory() || !this.tempNode || !sameNode(temp, this.tempNode)) {
      throw securityError('folder-changed', `Le dossier ${this.outDir} ou son dossier temporaire a été remplacé ou déplacé pendant le déchiffrement : rien n'a été gardé. Vérifiez ce dossier, signalez-le à l'officier SSI, puis recommencez.`);
    }
  }

  async write(index: number, parts: Buffer[]): Promise<void> {
    if (this.current?.index !== index) {
      await this.finishCurrent();
      this.current = { index, handle: await this.createFile(index) };
    }
    // Hashed here while libuv's thread pool writes the same (read-only) buffers: the reader's
    // worker thread is busy with the signature's digest, and this thread has the time.
    const writing = this.current.handle.writev(parts);
    const hash = this.hashes[index]!;
    for (const part of parts) hash.update(part);
    await writing;
  }

  private async finishCurrent(): Promise<void> {
    if (!this.current) return;
    const { index, handle } = this.current;
    this.current = null;
    await finish(handle, this.manifest?.files[index]?.mtime ?? null);
  }

  async commit(): Promise<void> {
    await this.finishCurrent();
    const files = this.manifest?.files ?? [];
    const digests = this.hashes.map((hash) => hash.digest('hex'));
    try {
      for (let i = 0; i < files.length; i++) {
        const file = files[i]!;
        const target = await this.place(i, file.name);
        this.written.push({ name: file.name, path: target, size: file.size, sha256: digests[i]! });
      }
    } catch (error) {
      // Nothing of a decryption that did not complete stays: the files placed so far go too.
      this.written = [];
      await this.takeBackPlaced();
      throw error;
    }
    // Placed for good: a signal from now on must not take them back. The temporary folder is
    // empty by now; if it cannot be removed, the next decryption's sweep will.
    this.placed = [];
    this.unregister();
    await rm(this.tempDir, { recursive: true, force: true }).catch(() => {});
  }

  /** Moves file `index` to outDir/name, or "name (2).ext", "name (3).ext"... if that exists. */
  private async place(index: number, name: string): Promise<string> {
    const node = this.created[index];
    if (!node) throw tempTampered();
    const from = this.tempPath(index);
    const dot = name.lastIndexOf('.');
    const stem = dot > 0 ? name.slice(0, dot) : name;
    const extension = dot > 0 ? name.slice(dot) : '';
    for (let n = 1; n < 10000; n++) {
      const candidate = path.join(this.outDir, n === 1 ? name : `${stem} (${n})${extension}`);
      await this.checkFolders();
      try {
        // link() fails with EEXIST instead of replacing, and never follows a symlink under the
        // new name: no window in which a file could be lost or plaintext sent elsewhere.
        await link(from, candidate);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'EEXIST') continue;
        if (code === 'ENOENT') throw tempTampered(); // the file written is no longer there
        if (code === 'EPERM' || code === 'ENOTSUP' || code === 'EXDEV' || code === 'ENOSYS') {
          // File systems without hard links (FAT/exFAT USB keys): exclusive copy instead.
          if (await this.copyInto(index, candidate)) {
            await unlink(from);
            return candidate;
          }
          continue;
        }
        throw error;
      }
      // What the temporary name held must be the very file written: else it was swapped.
      const placed = await lstat(candidate, { bigint: true }).catch(() => null);
      if (!placed || !sameNode(placed, node)) {
        if (placed?.isFile()) await unlink(candidate).catch(() => {});
        throw tempTampered();
      }
      this.placed.push({ path: candidate, node });
      await unlink(from);
      return candidate;
    }
    throw inputError('name-exhausted', `Trop de fichiers nommés « ${printable(name)} » dans ${this.outDir} : choisissez un autre dossier.`);
  }

  /** Copies file `index` to a new file `candidate`; false if that name exists. */
  private async copyInto(index: number, candidate: string): Promise<boolean> {
    const source = await open(this.tempPath(index), constants.O_RDONLY | NOFOLLOW).catch(() => null);
    if (!source) throw tempTampered();
    let target: FileHandle | null = null;
    try {
      const info = await source.stat({ bigint: true });
      if (!sameNode(info, this.created[index]!)) throw tempTampered();
      try {
        target = await open(candidate, CREATE_NEW, 0o600);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
        throw error;
      }
      this.placed.push({ path: candidate, node: await target.stat({ bigint: true }) });
      const buffer = Buffer.allocUnsafe(1024 * 1024);
      for (let position = 0; ;) {
        const { bytesRead } = await source.read(buffer, 0, buffer.length, position);
        if (bytesRead === 0) break;
        await target.write(buffer, 0, bytesRead);
        position += bytesRead;
      }
      const mtime = this.manifest?.files[index]?.mtime ?? null;
      await finish(target, mtime);
      target = null;
      return true;
    } finally {
      await target?.close().catch(() => {});
      await source.close().catch(() => {});
    }
  }

  /** Deletes the files this sink placed, if each is still the file it placed. */
  private async takeBackPlaced(): Promise<void> {
    for (const { path: file, node } of this.placed.splice(0)) {
      const info = await lstat(file, { bigint: true }).catch(() => null);
      if (info && sameNode(info, node)) await unlink(file).catch(() => {});
    }
  }

  /** The signal-time cleanup: synchronous, the process ends right after. */
  private removeNow(): void {
    for (const { path: file, node } of this.placed) {
      try {
        if (sameNode(lstatSync(file, { bigint: true }), node)) unlinkSync(file);
      } catch {
        // gone already
      }
    }
    rmSync(this.tempDir, { recursive: true, force: true });
  }

  async abort(): Promise<void> {
    this.hashes = [];
    await this.current?.handle.close().catch(() => {});
    this.current = null;
    this.written = [];
    await this.takeBackPlaced();
    // rm() removes a symlink put in the folder's place, never what it points to.
    await rm(this.tempDir, { recursive: true, force: true });
    this.unregister();
  }
}

/** Dates a complete file through its handle (not by path: a name can be swapped), then closes it. */
async function finish(handle: FileHandle, mtime: number | null): Promise<void> {
  try {
    if (mtime !== null) {
      const when = new Date(mtime);
      await handle.utimes(when, when).catch(() => {});
    }
  } finally {
    await handle.close();
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Deletes the temporary folders that a crashed run left in `dir`: only a folder (not a symlink)
 * named exactly as this version names them, owned by this user, whose process is gone. A live
 * pid, even of another program that reuses it, keeps its folder; a user's `.pli-tmp-mine` stays.
 */
export async function sweepTemporaryFolders(dir: string): Promise<number> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return 0;
  }
  let swept = 0;
  for (const name of names) {
    const match = TEMP_NAME.exec(name);
    if (!match) continue;
    const pid = Number(match[1]);
    if (pid === process.pid || processAlive(pid)) continue;
    const folder = path.join(dir, name);
    const info = await lstat(folder).catch(() => null);
    if (!info?.isDirectory()) continue;
    if (process.getuid && info.uid !== process.getuid()) continue;
    try {
      await rm(folder, { recursive: true, force: true });
      swept++;
    } catch {
      // another user's or a read-only folder: left, and no reason to refuse this decryption
    }
  }
  return swept;
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
