// Where decrypted files go. The folder sink writes into a private temporary folder inside the
// destination and moves the files into place only on commit(), which open.ts calls after every
// check has passed; abort() deletes everything. An existing file is never overwritten.
// Invariants against whoever can write the destination folder (docs/profile.md, "Temporary
// files"): each file is created new (O_EXCL, O_NOFOLLOW) and written only through the handle that
// created it; both folders are checked (device, inode) before each creation and each move; a
// moved file must be the very inode written; nothing of a failed or interrupted run stays.
// All or nothing (docs/profile.md, "All or nothing"): the room is checked before anything is
// written; every file is placed or none (a failed commit takes back what it placed, and a run
// killed mid-commit leaves a journal by which the next run takes them back); each file and the
// folder are synced to disk before the decryption is reported done.
import { constants, lstatSync, rmSync, unlinkSync } from 'node:fs';
import { appendFile, link, lstat, mkdir, open, readdir, readFile, rename, rm, stat, statfs, unlink, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { createHash, createHmac, randomBytes, type Hash, type Hmac } from 'node:crypto';
import { ContainerDigest } from './digest.js';
import { MAX_MTIME_MS, printable, type Manifest } from './manifest.js';
import type { CipherSource, DirectFiles, PlainSink } from './open.js';
import { inputError, PliError, securityError } from '../errors.js';
import { diskFullError, faultError, folderFault, notAFile, readFault } from '../faults.js';
import { asBuffer, discard, DigestWorker, keepSpare, ownsMemory, StartedThread, takeSpare, type Pending } from './threads.js';
import type { HashedAnswer, HashRequest } from './hash.worker.js';
import { workerEntry } from '../workers.js';

export const TEMP_PREFIX = '.pli-tmp-';

/**
 * The writer's signature digest (digest.ts: the prefix, label and header, then every sealed
 * chunk), computed on a worker thread when the stream is large, so that it runs on the second core while this
 * thread encrypts the next block. (The reader's digest is in opener.ts.)
 */
export interface Sha256Stream {
  /**
   * Appends `parts`. The parts are handed over: their memory may move to the worker thread, so
   * the caller must not read or change them, nor any other view of the same memory, afterwards.
   * Resolves when more may be given.
   */
  update(parts: Buffer[]): Promise<void>;
  /** A buffer of `bytes` handed over before and hashed since, to be written over (the writer's
   * next block): no new memory for the allocator to fault in. Undefined when none is back yet. */
  spare(bytes: number): Buffer | undefined;
  digest(): Promise<Buffer>;
  close(): Promise<void>;
}

/** Above this many bytes, hashing moves to a worker thread (below, starting one costs more than it saves). */
export const OFF_THREAD_HASH_BYTES = 8 * 1024 * 1024;

/** `prefix`: the signature's prefix (digest.ts, signedPrefix), whose version says how the chunks are hashed. */
export function sha256Stream(totalBytes: number, prefix: Buffer): Sha256Stream {
  return totalBytes > OFF_THREAD_HASH_BYTES ? new WorkerSha256(prefix) : new InlineSha256(prefix);
}

class InlineSha256 implements Sha256Stream {
  private readonly hash: ContainerDigest;
  private readonly spares: Buffer[] = [];
  constructor(prefix: Buffer) {
    this.hash = new ContainerDigest(prefix);
  }
  async update(parts: Buffer[]): Promise<void> {
    for (const part of parts) {
      this.hash.update(part);
      keepSpare(this.spares, part);
    }
  }
  spare(bytes: number): Buffer | undefined {
    return takeSpare(this.spares, bytes);
  }
  async digest(): Promise<Buffer> {
    return this.hash.digest();
  }
  async close(): Promise<void> {}
}

// The worker hashes the parts in the order they are posted and hands them back with their size.
/** Bytes handed to the worker and not hashed yet, beyond which update() waits: a few of the
 * writer's 1 MiB blocks keep the worker busy; more would only hold memory (peak RSS), which now
 * adds to the unlock's 64 MiB of Argon2id when the stream runs beside it (bench/README.md). */
const MAX_IN_FLIGHT = 4 * 1024 * 1024;

class WorkerSha256 extends DigestWorker<HashedAnswer> implements Sha256Stream {
  private inFlight = 0;
  private readonly waiting: Pending<void>[] = [];
  private readonly spares: Buffer[] = [];

  constructor(prefix: Buffer) {
    super(new StartedThread(workerEntry('hash', import.meta.url), { youngGenerationMb: 4 }), 'hash worker');
    this.worker.postMessage({ prefix } satisfies HashRequest);
  }

  protected onAnswer(m: HashedAnswer): void {
    // The parts come back hashed: kept for the writer's next blocks, or freed at once.
    discard(m.parts.map(asBuffer).filter((part) => !keepSpare(this.spares, part)));
    this.inFlight -= m.hashed;
    if (this.inFlight <= MAX_IN_FLIGHT) for (const w of this.waiting.splice(0)) w.resolve();
  }

  protected rejectPending(error: Error): void {
    for (const w of this.waiting.splice(0)) w.reject(error);
  }

  spare(bytes: number): Buffer | undefined {
    return takeSpare(this.spares, bytes);
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

/** A file moved into place, with the SHA-256 of what was written (the « code de contrôle » the
 * desktop app shows), or null when the caller did not ask for it (FolderSink.create). */
export interface WrittenFile { name: string; path: string; size: number; sha256: string | null }

export interface FolderSinkOptions {
  /** Computes each file's SHA-256 while writing it (WrittenFile.sha256): a whole pass over the
   * plaintext (~0.2 CPU-second per 256 MiB here), paid only by a caller that shows it. The
   * decryption's security does not rest on it: the plaintext is bound by the chunk tags under
   * the signed container. Default true. */
  digests?: boolean;
}

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

/** In the temporary folder, the names a commit is placing (`+name`) or gave up (`-name`), one a
 * line, each with the size, device and inode of the file written (the file placed is that very
 * inode: link or rename): a run killed mid-commit is undone from it. Journals of earlier versions
 * name a SHA-256 instead of the inode, and are still undone by it. */
const JOURNAL = 'placed';

/** Room asked beyond the files' bytes: file system blocks of each file, the folder, the journal. */
const ROOM_MARGIN = 1024 * 1024;
const ROOM_PER_FILE = 64 * 1024;

/** The longest file name (in UTF-8 bytes) of the usual file systems (ext4, NTFS, FAT's long names). */
const MAX_NAME_BYTES = 255;

/** The n-th name tried for `name`: "name", then "name (2).ext"..., its stem shortened (whole
 * characters) so that the name stays within MAX_NAME_BYTES. */
export function candidateName(name: string, n: number): string {
  if (n === 1) return name;
  const dot = name.lastIndexOf('.');
  // A long "extension" is not one: the number then goes at the end of the name.
  const hasExtension = dot > 0 && Buffer.byteLength(name.slice(dot)) <= 32;
  const stem = hasExtension ? name.slice(0, dot) : name;
  const suffix = ` (${n})${hasExtension ? name.slice(dot) : ''}`;
  const room = MAX_NAME_BYTES - Buffer.byteLength(suffix);
  let kept = '';
  for (const char of stem) {
    if (Buffer.byteLength(kept + char) > room) break;
    kept += char;
  }
  return `${kept.trimEnd() || 'fichier'}${suffix}`;
}

const notADestination = (outDir: string): PliError =>
  inputError('cannot-write', `${outDir} n'est pas un dossier : choisissez un dossier de destination.`);

const tempTampered = (): Error => securityError('temp-tampered',
  "Le dossier temporaire du déchiffrement a été modifié par un autre programme : rien n'a été gardé. Signalez-le à l'officier SSI, puis recommencez.");

export class FolderSink implements PlainSink {
  readonly tempDir: string;
  private manifest: Manifest | null = null;
  private current: { index: number; handle: FileHandle } | null = null;
  /** The files handed to the addon's reader (direct()), each written by it through this handle. */
  private directs: { index: number; handle: FileHandle }[] = [];
  /** Device and inode of each file as created in the temporary folder (null: not yet created). */
  private created: (Node | null)[] = [];
  /** Files moved into the destination by a commit in progress: taken back if it fails. */
  private placed: { path: string; node: Node }[] = [];
  private tempNode: Node | null = null;
  private readonly unregister: () => void;
  /** SHA-256 of each file as written, when asked for (FolderSinkOptions.digests). */
  private hashes: Hash[] | null = null;
  /** HMAC of each file as written, under the key given to begin(), if one was. */
  private macs: Hmac[] | null = null;
  written: WrittenFile[] = [];
  /** HMAC-SHA256 of each file written (as `written`), under the key given to begin(), or null:
   * kept apart from `written`, which goes to the interface. */
  writtenMacs: (Buffer | null)[] = [];

  private constructor(private readonly outDir: string, private readonly outNode: Node, private readonly digests: boolean) {
    // The pid in the name lets a later run tell a crashed run's leftovers from a live one.
    this.tempDir = path.join(outDir, `${TEMP_PREFIX}${process.pid}-${randomBytes(6).toString('hex')}`);
    // Registered before the folder exists: a signal at any later moment finds it.
    this.unregister = registerTemporary(() => this.removeNow());
  }

  static async create(outDir: string, options: FolderSinkOptions = {}): Promise<FolderSink> {
    let outInfo;
    try {
      await mkdir(outDir, { recursive: true });
      outInfo = await stat(outDir, { bigint: true });
    } catch (error) {
      throw folderFault(outDir, error); // a file of that name (EEXIST) included
    }
    if (!outInfo.isDirectory()) throw notADestination(outDir);
    await sweepTemporaryFolders(outDir);
    const sink = new FolderSink(outDir, outInfo, options.digests ?? true);
    try {
      await mkdir(sink.tempDir, { mode: 0o700 });
      const info = await lstat(sink.tempDir, { bigint: true });
      if (!info.isDirectory()) throw tempTampered();
      sink.tempNode = info;
    } catch (error) {
      sink.unregister();
      if (error instanceof PliError) throw error;
      throw folderFault(outDir, error);
    }
    return sink;
  }

  /** A system error of this sink's writes as the users' message (disk full, read-only...). */
  private fault(error: unknown): unknown {
    return faultError(error, { kind: 'folder', path: this.outDir }) ?? error;
  }

  /** `macKey`: each file's HMAC-SHA256 is computed as it is written (WrittenFile.mac), in the
   * same pass as the writes: the same value as an HMAC of the file read back, without the read. */
  async begin(manifest: Manifest, macKey?: Buffer): Promise<void> {
    this.macs = macKey ? manifest.files.map(() => createHmac('sha256', macKey)) : null;
    try {
      await this.checkRoom(manifest);
      await this.beginFiles(manifest);
    } catch (error) {
      throw this.fault(error);
    }
  }

  /** Refuses, before any plaintext is written, a folder without room for every file: a full disk
   * found half-way would cost the time of the decryption and say less. */
  private async checkRoom(manifest: Manifest): Promise<void> {
    const needed = manifest.files.reduce((sum, f) => sum + f.size + ROOM_PER_FILE, ROOM_MARGIN);
    const info = await statfs(this.tempDir).catch(() => null); // unsupported: the writes will say
    if (!info) return;
    const available = Number(info.bavail) * Number(info.bsize);
    if (available < needed) throw diskFullError(this.outDir, needed, available);
  }

  private async beginFiles(manifest: Manifest): Promise<void> {
    this.manifest = manifest;
    this.hashes = this.digests ? manifest.files.map(() => createHash('sha256')) : null;
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
    try {
      await this.writeParts(index, parts);
    } catch (error) {
      throw this.fault(error);
    }
  }

  private async writeParts(index: number, parts: Buffer[]): Promise<void> {
    if (this.current?.index !== index) {
      await this.finishCurrent();
      this.current = { index, handle: await this.createFile(index) };
    }
    // Hashed (if asked) while libuv's thread pool writes the same (read-only) buffers.
    const writing = this.current.handle.writev(parts);
    const hash = this.hashes?.[index];
    if (hash) for (const part of parts) hash.update(part);
    const mac = this.macs?.[index];
    if (mac) for (const part of parts) mac.update(part);
    await writing;
  }

  /** Creates every file that is not empty now, for the addon's reader to write (open.ts); null
   * when this sink computes digests or MACs as it writes, which only write() does. */
  async direct(): Promise<DirectFiles | null> {
    const manifest = this.manifest;
    if (!manifest || this.hashes || this.macs || this.current || this.directs.length > 0) return null;
    try {
      for (const [index, file] of manifest.files.entries()) {
        if (file.size > 0) this.directs.push({ index, handle: await this.createFile(index) });
      }
    } catch (error) {
      throw this.fault(error);
    }
    return { files: this.directs.map(({ index, handle }) => ({ fd: handle.fd, size: manifest.files[index]!.size })), fault: (error) => this.fault(error) };
  }

  private async finishCurrent(): Promise<void> {
    for (const { index, handle } of this.directs.splice(0)) await finish(handle, this.manifest?.files[index]?.mtime ?? null);
    if (!this.current) return;
    const { index, handle } = this.current;
    this.current = null;
    await finish(handle, this.manifest?.files[index]?.mtime ?? null);
  }

  async commit(): Promise<void> {
    const files = this.manifest?.files ?? [];
    try {
      await this.finishCurrent();
      const digests = this.hashes?.map((hash) => hash.digest('hex'));
      for (let i = 0; i < files.length; i++) {
        const file = files[i]!;
        const target = await this.place(i, file.name, file.size);
        this.written.push({ name: file.name, path: target, size: file.size, sha256: digests?.[i] ?? null });
        this.writtenMacs.push(this.macs?.[i]?.digest() ?? null);
      }
      // The names, durable before the decryption is reported done (a power cut must not lose them).
      await syncFolder(this.outDir);
      // Done: the journal goes first, so that no later sweep can take these files back.
      await unlink(path.join(this.tempDir, JOURNAL)).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== 'ENOENT') throw error;
      });
    } catch (error) {
      // Nothing of a decryption that did not complete stays: the files placed so far go too.
      this.written = [];
      this.writtenMacs = [];
      await this.takeBackPlaced();
      throw this.fault(error);
    }
    // Placed for good: a signal from now on must not take them back. The temporary folder is
    // empty by now; if it cannot be removed, the next decryption's sweep will.
    this.placed = [];
    this.unregister();
    await rm(this.tempDir, { recursive: true, force: true }).catch(() => {});
  }

  /** Notes in the journal (synced) that `name` is being placed (`+`) or was not (`-`), with the
   * size and the node (device, inode) of the file written. */
  private async journal(sign: '+' | '-', candidate: string, size: number, node: Node): Promise<void> {
    const file = path.join(this.tempDir, JOURNAL);
    await appendFile(file, `${JSON.stringify({ [sign]: path.basename(candidate), size, dev: String(node.dev), ino: String(node.ino) })}\n`, { mode: 0o600, flag: constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | NOFOLLOW });
    const handle = await open(file, constants.O_RDONLY | NOFOLLOW);
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  }

  /** Moves file `index` to outDir/name, or "name (2).ext", "name (3).ext"... if that exists. */
  private async place(index: number, name: string, size: number): Promise<string> {
    const node = this.created[index];
    if (!node) throw tempTampered();
    const from = this.tempPath(index);
    for (let n = 1; n < 10000; n++) {
      const candidate = path.join(this.outDir, candidateName(name, n));
      // Taken names are passed over before the journal names them: the journal lists only names
      // that were free, so that undoing a killed run never deletes a file that was already there.
      if (await exists(candidate)) continue;
      await this.checkFolders();
      await this.journal('+', candidate, size, node);
      try {
        // link() fails with EEXIST instead of replacing, and never follows a symlink under the
        // new name: no window in which a file could be lost or plaintext sent elsewhere.
        await link(from, candidate);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'EEXIST') {
          await this.journal('-', candidate, size, node);
          continue;
        }
        if (code === 'ENOENT') throw tempTampered(); // the file written is no longer there
        if (code === 'EPERM' || code === 'ENOTSUP' || code === 'EXDEV' || code === 'ENOSYS') {
          // File systems without hard links (FAT/exFAT USB keys): the checked file is renamed.
          if (await this.renameInto(index, candidate)) return candidate;
          await this.journal('-', candidate, size, node);
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
    throw inputError('name-exhausted', `Trop de fichiers nommés « ${printable(name)} » (jusqu'à « (9999) ») dans ${this.outDir} : rien n'a été gardé. Choisissez un autre dossier, ou rangez ces fichiers, puis recommencez.`, { name: printable(name), place: this.outDir, placeKind: 'folder' });
  }

  /**
   * Renames file `index` to `candidate`, on a file system without hard links; false if that name
   * exists. rename() would replace a file created under that name between the check and the
   * rename: a window of microseconds, accepted (no other call of Node refuses to replace; such
   * file systems, FAT and exFAT, have no owners nor symlinks). No copy: the file appears whole
   * under its name or not at all, even if the process is killed.
   */
  private async renameInto(index: number, candidate: string): Promise<boolean> {
    const from = this.tempPath(index);
    const source = await open(from, constants.O_RDONLY | NOFOLLOW).catch(() => null);
    if (!source) throw tempTampered();
    try {
      if (!sameNode(await source.stat({ bigint: true }), this.created[index]!)) throw tempTampered();
      if (await exists(candidate)) return false;
      await rename(from, candidate);
      // The name must now hold the very file checked (its node as the open handle sees it now).
      const moved = await source.stat({ bigint: true });
      const placed = await lstat(candidate, { bigint: true }).catch(() => null);
      if (!placed || !sameNode(placed, moved)) {
        if (placed?.isFile()) await unlink(candidate).catch(() => {});
        throw tempTampered();
      }
      this.placed.push({ path: candidate, node: moved });
      return true;
    } finally {
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
    this.hashes = null;
    this.macs = null;
    await this.current?.handle.close().catch(() => {});
    this.current = null;
    for (const { handle } of this.directs.splice(0)) await handle.close().catch(() => {});
    this.written = [];
    this.writtenMacs = [];
    await this.takeBackPlaced();
    // rm() removes a symlink put in the folder's place, never what it points to.
    await rm(this.tempDir, { recursive: true, force: true });
    this.unregister();
  }
}

/** Dates a complete file through its handle (not by path: a name can be swapped), syncs it to
 * disk (a power cut after "done" must not leave an empty or partial file), then closes it. */
async function finish(handle: FileHandle, mtime: number | null): Promise<void> {
  try {
    // A date beyond JavaScript's (accepted: earlier writers wrote them, docs/format.md 5.3) is no
    // date: the file keeps its time of writing, as with null.
    if (mtime !== null && Math.abs(mtime) <= MAX_MTIME_MS) {
      const when = new Date(mtime);
      await handle.utimes(when, when).catch(() => {});
    }
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Whether a name is taken (by anything: a file, a folder, a symlink even dangling). */
async function exists(file: string): Promise<boolean> {
  try {
    await lstat(file);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}

/** Syncs a folder's entries to disk; where folders cannot be opened or synced (Windows), the
 * file system's own ordering is what there is. */
async function syncFolder(dir: string): Promise<void> {
  let handle: FileHandle;
  try {
    handle = await open(dir, constants.O_RDONLY);
  } catch {
    return;
  }
  try {
    await handle.sync().catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'EINVAL' && error.code !== 'EPERM' && error.code !== 'EBADF' && error.code !== 'ENOTSUP') throw error;
    });
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
    await undoJournal(dir, folder);
    try {
      await rm(folder, { recursive: true, force: true });
      swept++;
    } catch {
      // another user's or a read-only folder: left, and no reason to refuse this decryption
    }
  }
  return swept;
}

/**
 * Takes back the files a run killed in the middle of its commit had placed, from its journal:
 * only a plain name of `dir` that the journal says was placed, still a regular file of the size
 * written and still the very file written (its device and inode; journals of earlier versions:
 * its SHA-256). The folder holding the journal was checked as this user's (mode 0700).
 */
async function undoJournal(dir: string, folder: string): Promise<void> {
  const file = path.join(folder, JOURNAL);
  const info = await lstat(file).catch(() => null);
  if (!info?.isFile() || info.size > 16 * 1024 * 1024) return;
  type Written = { size: number; dev?: bigint; ino?: bigint; sha256?: string };
  const placing = new Map<string, Written>();
  const integer = (value: unknown): bigint | undefined => (typeof value === 'string' && /^[0-9]{1,20}$/.test(value) ? BigInt(value) : undefined);
  for (const line of (await readFile(file, 'utf8').catch(() => '')).split('\n')) {
    let entry: { '+'?: unknown; '-'?: unknown; size?: unknown; sha256?: unknown; dev?: unknown; ino?: unknown };
    try {
      entry = JSON.parse(line) as typeof entry;
    } catch {
      continue; // the last line of a run killed while writing it
    }
    const name = entry['+'] ?? entry['-'];
    if (typeof name !== 'string' || path.basename(name) !== name || name === '.' || name === '..' || TEMP_NAME.test(name)) continue;
    if (typeof entry.size !== 'number') continue;
    const dev = integer(entry.dev);
    const ino = integer(entry.ino);
    const written: Written = dev !== undefined && ino !== undefined ? { size: entry.size, dev, ino }
      : typeof entry.sha256 === 'string' ? { size: entry.size, sha256: entry.sha256 } : { size: -1 };
    if (written.size < 0) continue;
    if (entry['+'] !== undefined) placing.set(name, written);
    else placing.delete(name);
  }
  for (const [name, expected] of placing) {
    const target = path.join(dir, name);
    const placed = await lstat(target, { bigint: true }).catch(() => null);
    if (!placed?.isFile() || placed.size !== BigInt(expected.size)) continue;
    if (expected.ino !== undefined) {
      if (placed.dev !== expected.dev || placed.ino !== expected.ino) continue;
    } else if ((await sha256File(target).catch(() => null)) !== expected.sha256) continue;
    await unlink(target).catch(() => {});
  }
}

async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  const handle = await open(file, constants.O_RDONLY | NOFOLLOW);
  try {
    const buffer = Buffer.allocUnsafe(1024 * 1024);
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, null);
      if (bytesRead === 0) break;
      hash.update(buffer.subarray(0, bytesRead));
    }
  } finally {
    await handle.close();
  }
  return hash.digest('hex');
}

export function bufferSource(bytes: Buffer): CipherSource {
  return { size: bytes.length, read: async (target, offset, length, position) => bytes.copy(target, offset, position, Math.min(bytes.length, position + length)) };
}

/** `fd` lets the reader's worker thread pre-hash the file (opener.ts); only reads use it. */
export async function fileSource(file: string): Promise<CipherSource & { fd: number; close(): Promise<void> }> {
  let handle: FileHandle;
  try {
    handle = await open(file, 'r');
  } catch (error) {
    throw readFault(file, error);
  }
  const info = await handle.stat();
  // A folder opens for reading too (its first read would fail with EISDIR): refused here.
  if (!info.isFile()) {
    await handle.close();
    throw notAFile(file);
  }
  return {
    size: info.size,
    fd: handle.fd,
    read: async (target, offset, length, position) => (await handle.read(target, offset, length, position)).bytesRead,
    close: () => handle.close(),
  };
}
