// Opening the sealed blocks of a payload (docs/format.md section 7): each block of chunks goes
// into the signature's digest, then its chunks are decrypted and their tags checked.
// For a large payload the digest runs on a worker thread, on the second core, which also opens
// one block in two, while this thread opens the other and writes the plaintext of the previous
// block (and hashes it only for a caller that shows each file's SHA-256: sinks.ts, digests).
//
// The payload key reaches the worker as a KeyObject in its first message: its bytes stay in
// native memory (cloned, never serialised into a JavaScript buffer) and the worker is a thread of
// this process.
//
// Pre-hashing. The worker may be started before the key exists (startOpenerThread), while the
// Argon2id unlock keeps one core busy and leaves the other idle. Given the container's file, it
// then reads the sealed blocks itself and starts the signature's digest, which needs no key,
// until the key arrives. The opening pass reads those blocks again, and a block could have been
// changed on disk in between by someone who knows the file key (another recipient) and so can
// forge valid chunk tags: the digest would then cover other bytes than those decrypted. So
// each pre-hashed block also gets a GMAC under a random key made in the worker and never shown,
// and the block read again must have the same: a different block passes with probability about
// 2^-111 (GHASH is almost universal, and its key is unknown to whoever changed the file).
//
// Where no file's digest is asked (the command line) and the addon has it, native/reader.c does
// the same natively instead, and opens the blocks straight into the files (gcm.ts startFileReader).
import type { KeyObject } from 'node:crypto';
import { ContainerDigest } from './digest.js';
import { openChunks } from './chunks.js';
import { asBuffer, discard, DigestWorker, keepSpare, ownsMemory, StartedThread, type Pending } from './threads.js';
import { workerEntry } from '../workers.js';
import { chunkOpener, gcmAddonFile, type ChunkOpener } from './gcm.js';
import type { OpenerAnswer, OpenerRequest, OpenerWorkerData } from './opener.worker.js';

export { BLOCK_CHUNKS, NONCE_BYTES } from './chunks.js';

/** Above this many payload bytes, blocks are opened on a worker thread (below, starting one
 * costs more than it saves). */
export const OFF_THREAD_OPEN_BYTES = 8 * 1024 * 1024;

/** The container's bytes changed between the pre-hash and the opening pass (block -1: the header). */
export class ChangedWhileReadingError extends Error {
  constructor(readonly block: number) {
    super(`block ${block} changed on disk while it was read`);
  }
}

/** A chunk of a submitted block whose tag did not verify (its position within the block). */
export class ChunkTagError extends Error {
  constructor(readonly chunk: number) {
    super(`chunk ${chunk} of the block failed authentication`);
  }
}

export interface BlockOpener {
  /** Adds bytes to the digest ahead of the blocks (the label and the header). A worker that
   * pre-hashed from the file has them already: it checks they are the ones it hashed. */
  prefix(bytes: Buffer): void;
  /**
   * Hands `block` over (its memory may move to the worker thread: the caller must not use it
   * again until it comes back through `recycle`) with one nonce per chunk. Blocks are hashed in
   * the order they are submitted. Resolves with the plaintext of each chunk; rejects with
   * ChunkTagError if a tag fails, ChangedWhileReadingError if a pre-hashed block changed.
   */
  submit(block: Buffer, nonces: Buffer): Promise<Buffer[]>;
  /** Gives back plaintext chunks that are no longer used, to be freed where they were made. */
  release(chunks: Buffer[]): void;
  /** SHA-256 of the prefix and of every block submitted; rejects with ChangedWhileReadingError
   * if the header or any pre-hashed block changed, whichever thread opened it. */
  digest(): Promise<Buffer>;
  close(): Promise<void>;
}

/** Where the worker may pre-hash from: the container's open file (a descriptor of this process),
 * the digest's prefix (label and header), the offset of the first sealed chunk, the chunk count. */
export interface PrehashSource { fd: number; prefix: Buffer; start: number; chunks: number }

export class OpenerThread extends StartedThread {
  constructor(readonly prehash: PrehashSource | null) {
    // The smallest young generation: what the worker makes (plaintext, blocks) moves out, and the
    // reader frees the plaintext once written (discard); little garbage stays here.
    const workerData: OpenerWorkerData = { prehash, gcmAddon: gcmAddonFile() };
    super(workerEntry('opener', import.meta.url), { youngGenerationMb: 1, workerData });
  }
}

/**
 * The worker thread a payload of `payloadBytes` will be opened on, started now, or null if it is
 * opened on this thread. With `prehash`, it starts the digest from the file until the key comes.
 * Give it to blockOpener, or close() it if the opening does not happen.
 */
export function startOpenerThread(payloadBytes: number, prehash: PrehashSource | null = null): OpenerThread | null {
  return payloadBytes > OFF_THREAD_OPEN_BYTES ? new OpenerThread(prehash) : null;
}

/**
 * `recycle` receives each sealed block once hashed and opened, for reuse (it holds ciphertext
 * only). `thread` is one from startOpenerThread for the same size, else one is started here.
 */
export function blockOpener(payloadBytes: number, key: KeyObject, recycle: (block: Buffer) => void, thread: OpenerThread | null = null): BlockOpener {
  thread ??= startOpenerThread(payloadBytes);
  return thread ? new WorkerOpener(thread, key, recycle) : new InlineOpener(key, recycle);
}

class InlineOpener implements BlockOpener {
  private hash: ContainerDigest | null = null;
  private readonly opener: ChunkOpener;
  /** Plaintext written out and given back (release), opened into again. */
  private readonly spares: Buffer[] = [];
  constructor(key: KeyObject, private readonly recycle: (block: Buffer) => void) {
    this.opener = chunkOpener(key);
  }
  prefix(bytes: Buffer): void {
    this.hash = new ContainerDigest(bytes);
  }
  async submit(block: Buffer, nonces: Buffer): Promise<Buffer[]> {
    this.hash!.update(block);
    const plain = openChunks(this.opener, block, nonces, this.spares);
    if (typeof plain === 'number') throw new ChunkTagError(plain);
    this.recycle(block);
    return plain;
  }
  release(chunks: Buffer[]): void {
    for (const chunk of chunks) keepSpare(this.spares, chunk);
  }
  async digest(): Promise<Buffer> {
    return this.hash!.digest();
  }
  async close(): Promise<void> {
    this.opener.close();
  }
}

/** One block in LOCAL_SHARE is decrypted on this thread (the worker only hashes it): the worker
 * has the digest and the other blocks' AES, this thread the writes. One in two since the
 * plaintext's SHA-256 left this thread (command line: FolderSink digests); one in four when it
 * was here. */
const LOCAL_SHARE = 2;
/** Plaintext buffers this thread keeps for its own share; the rest go back to the worker. */
const LOCAL_SPARES = 2;

class WorkerOpener extends DigestWorker<OpenerAnswer> implements BlockOpener {
  // Answers come back in the order of the requests: null for a block only hashed there.
  private readonly blocks: (Pending<Buffer[]> | null)[] = [];
  private submitted = 0;

  private readonly opener: ChunkOpener;
  /** Plaintext written out and given back (release), for the blocks opened on this thread. */
  private readonly spares: Buffer[] = [];

  constructor(private readonly thread: OpenerThread, key: KeyObject, private readonly recycle: (block: Buffer) => void) {
    super(thread, 'block worker');
    this.opener = chunkOpener(key);
    this.send({ key });
  }

  protected onAnswer(m: OpenerAnswer): void {
    if (m.prehashed !== undefined) return; // a notice, not an answer
    // A block that changed on disk fails everything, the digest included, whichever thread opened it.
    if (m.changed !== undefined) return this.fail(new ChangedWhileReadingError(m.changed));
    const pending = this.blocks.shift();
    if (m.bad !== undefined) return pending?.reject(new ChunkTagError(m.bad));
    this.recycle(asBuffer(m.block!));
    if (m.plain) pending?.resolve(m.plain.map(asBuffer));
  }

  protected rejectPending(error: Error): void {
    for (const pending of this.blocks.splice(0)) pending?.reject(error);
  }

  prefix(bytes: Buffer): void {
    const hashedPrefix = this.thread.prehash?.prefix;
    if (!hashedPrefix) return this.send({ prefix: bytes });
    // The worker started the digest with the header it was given: it must be this one.
    if (!hashedPrefix.equals(bytes)) this.fail(new ChangedWhileReadingError(-1));
  }

  submit(block: Buffer, nonces: Buffer): Promise<Buffer[]> {
    if (this.failure) return Promise.reject(this.failure);
    // Only memory that is the block's alone moves without a copy; any other view is copied first.
    const view = ownsMemory(block) ? block : new Uint8Array(block);
    const index = this.submitted++;
    if ((index + 1) % LOCAL_SHARE === 0) {
      const plain = openChunks(this.opener, block, nonces, this.spares);
      if (typeof plain === 'number') return Promise.reject(new ChunkTagError(plain));
      this.blocks.push(null);
      this.send({ block: view, index }, [view.buffer as ArrayBuffer]);
      return Promise.resolve(plain);
    }
    return new Promise((resolve, reject) => {
      this.blocks.push({ resolve, reject });
      this.send({ block: view, nonces, index }, [view.buffer as ArrayBuffer]);
    });
  }

  /** Every request goes through here, so that the type checker sees what the worker reads. */
  private send(request: OpenerRequest, transfer: ArrayBuffer[] = []): void {
    this.worker.postMessage(request, transfer);
  }

  override async close(): Promise<void> {
    this.opener.close();
    await super.close();
  }

  release(chunks: Buffer[]): void {
    // Written out: opened into again, here (for the blocks this thread opens) or by the worker,
    // which has the most blocks to open; what neither keeps is freed at once, not by this
    // thread's collector after tens of MiB (discard).
    const toWorker = chunks.filter((chunk) => !(this.spares.length < LOCAL_SPARES && keepSpare(this.spares, chunk)) && ownsMemory(chunk));
    if (toWorker.length > 0 && !this.failure) this.send({ spares: toWorker }, toWorker.map((chunk) => chunk.buffer as ArrayBuffer));
    else discard(toWorker);
  }
}
