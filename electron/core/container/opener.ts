// Opening the sealed blocks of a payload (docs/format.md section 7): each block of chunks goes
// into the signature's digest, then its chunks are decrypted and their tags checked.
// For a large payload both run on a worker thread, on the second core, while this thread hashes
// and writes the plaintext of the previous block (the audit log's per-file SHA-256): the two
// SHA-256 passes, the heaviest work of a decryption, then run side by side.
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
import { createDecipheriv, createHash, type KeyObject } from 'node:crypto';
import { CHUNK_PLAIN, CHUNK_SEALED, TAG_BYTES } from './format.js';
import { asBuffer, DigestWorker, ownsMemory, StartedThread, type Pending } from './threads.js';

export const NONCE_BYTES = 12;

/** Chunks read, hashed and opened together (2 MiB): large enough that per-block messages cost
 * little, small enough that the blocks in motion stay a few MiB (peak memory, bench/crypto.mjs). */
export const BLOCK_CHUNKS = 32;

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
    // The smallest young generation makes the worker free the plaintext it made every few blocks.
    super(WORKER_SOURCE, { youngGenerationMb: 1, workerData: { prehash } });
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

/**
 * Decrypts the chunks of a sealed block (ciphertext then tag, `plainBytes + tagBytes` each).
 * Returns their plaintext, or the position of the first chunk whose tag fails. Runs both here
 * and in the worker (whose source embeds it): it uses nothing but its arguments.
 */
function openChunks(decipherFor: typeof createDecipheriv, key: KeyObject, block: Buffer, nonces: Buffer, nonceBytes: number, plainBytes: number, tagBytes: number): Buffer[] | number {
  const sealedBytes = plainBytes + tagBytes;
  const plain: Buffer[] = [];
  for (let c = 0; c * nonceBytes < nonces.length; c++) {
    const sealed = block.subarray(c * sealedBytes, (c + 1) * sealedBytes);
    const decipher = decipherFor('aes-256-gcm', key, nonces.subarray(c * nonceBytes, (c + 1) * nonceBytes));
    decipher.setAuthTag(sealed.subarray(plainBytes));
    const out = decipher.update(sealed.subarray(0, plainBytes));
    try {
      decipher.final();
    } catch {
      return c;
    }
    plain.push(out);
  }
  return plain;
}

class InlineOpener implements BlockOpener {
  private readonly hash = createHash('sha256');
  constructor(private readonly key: KeyObject, private readonly recycle: (block: Buffer) => void) {}
  prefix(bytes: Buffer): void {
    this.hash.update(bytes);
  }
  async submit(block: Buffer, nonces: Buffer): Promise<Buffer[]> {
    this.hash.update(block);
    const plain = openChunks(createDecipheriv, this.key, block, nonces, NONCE_BYTES, CHUNK_PLAIN, TAG_BYTES);
    if (typeof plain === 'number') throw new ChunkTagError(plain);
    this.recycle(block);
    return plain;
  }
  release(): void {}
  async digest(): Promise<Buffer> {
    return this.hash.digest();
  }
  async close(): Promise<void> {}
}

// Plain CommonJS evaluated in the worker, so that it runs the same from the TypeScript sources
// (tests) and from the compiled program. Memory moves without copies: the sealed block in, the
// block and the plaintext out, and the plaintext back in once written. It is freed here, by the
// worker's small young generation, collected every few blocks, rather than by the main thread,
// whose large heap is collected only after tens of MiB of garbage (peak memory, and time).
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { readSync } = require('node:fs');
const { createCipheriv, createDecipheriv, createHash, createSecretKey, randomBytes, timingSafeEqual } = require('node:crypto');
const openChunks = (${openChunks.toString()});
const hash = createHash('sha256');
let key = null;
const whole = (b) => (b.byteOffset === 0 && b.byteLength === b.buffer.byteLength ? b : Buffer.from(new Uint8Array(b)));

// Pre-hashing (see the top of opener.ts): blocks 0 .. prehashed-1 are in the digest already,
// each with its GMAC under macKey, which never leaves this thread.
const pre = workerData.prehash;
let prehashed = 0;
const macs = [];
let macKey = null;
let readBuffer = null; // null once pre-hashing has stopped
let changed = -1; // the first block found changed, if any
const stopPrehash = () => {
  if (!readBuffer) return;
  readBuffer = null;
  parentPort.postMessage({ prehashed }); // for tests and measurements: no reply expected
};
const mac = (block, index) => {
  const iv = Buffer.alloc(12);
  iv.writeUInt32BE(index, 8);
  const gmac = createCipheriv('aes-256-gcm', macKey, iv);
  gmac.setAAD(block);
  gmac.final();
  return gmac.getAuthTag();
};
function prehashNext() {
  if (!readBuffer) return;
  const first = prehashed * ${BLOCK_CHUNKS};
  const length = Math.min(${BLOCK_CHUNKS}, pre.chunks - first) * ${CHUNK_SEALED};
  if (length <= 0) return stopPrehash();
  const block = readBuffer.subarray(0, length);
  let done = 0;
  try {
    while (done < length) {
      const n = readSync(pre.fd, block, done, length - done, pre.start + first * ${CHUNK_SEALED} + done);
      if (n === 0) break;
      done += n;
    }
  } catch {
    done = -1;
  }
  // A short or failed read stops here: the opening pass reads the same place and reports it.
  if (done !== length) return stopPrehash();
  hash.update(block);
  macs.push(mac(block, prehashed));
  prehashed++;
  setImmediate(prehashNext); // lets the key's message in between two blocks
}
if (pre) {
  macKey = createSecretKey(randomBytes(32));
  hash.update(pre.prefix);
  readBuffer = Buffer.allocUnsafeSlow(${BLOCK_CHUNKS * CHUNK_SEALED});
  setImmediate(prehashNext);
}

parentPort.on('message', (m) => {
  if (m === 'digest') return parentPort.postMessage(changed >= 0 ? { changed } : { digest: hash.digest() });
  if (m.key) {
    key = m.key;
    return stopPrehash(); // the opening pass takes over after the blocks pre-hashed so far
  }
  if (m.prefix) return hash.update(m.prefix);
  if (m.release) return; // the plaintext of written blocks, to be freed by this thread's collector
  const block = Buffer.from(m.block.buffer, m.block.byteOffset, m.block.byteLength);
  if (m.index >= prehashed) hash.update(block);
  else if (changed < 0 && !timingSafeEqual(mac(block, m.index), macs[m.index])) changed = m.index;
  if (changed >= 0) return parentPort.postMessage({ changed });
  if (!m.nonces) return parentPort.postMessage({ block }, [block.buffer]);
  const result = openChunks(createDecipheriv, key, block, m.nonces, ${NONCE_BYTES}, ${CHUNK_PLAIN}, ${TAG_BYTES});
  if (typeof result === 'number') return parentPort.postMessage({ bad: result });
  const plain = result.map(whole);
  parentPort.postMessage({ plain, block }, [block.buffer, ...plain.map((p) => p.buffer)]);
});
`;

/** One block in LOCAL_SHARE is decrypted on this thread (the worker only hashes it): the worker
 * has the digest and the other blocks' AES, this thread the plaintext's SHA-256 and the writes;
 * one in four balances the two cores here (bench/crypto.mjs). */
const LOCAL_SHARE = 4;

type Answer = { plain?: Uint8Array[]; block?: Uint8Array; bad?: number; changed?: number; prehashed?: number };

class WorkerOpener extends DigestWorker<Answer> implements BlockOpener {
  // Answers come back in the order of the requests: null for a block only hashed there.
  private readonly blocks: (Pending<Buffer[]> | null)[] = [];
  private submitted = 0;

  constructor(private readonly thread: OpenerThread, private readonly key: KeyObject, private readonly recycle: (block: Buffer) => void) {
    super(thread, 'block worker');
    this.worker.postMessage({ key });
  }

  protected onAnswer(m: Answer): void {
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
    if (!hashedPrefix) return this.worker.postMessage({ prefix: bytes });
    // The worker started the digest with the header it was given: it must be this one.
    if (!hashedPrefix.equals(bytes)) this.fail(new ChangedWhileReadingError(-1));
  }

  submit(block: Buffer, nonces: Buffer): Promise<Buffer[]> {
    if (this.failure) return Promise.reject(this.failure);
    // Only memory that is the block's alone moves without a copy; any other view is copied first.
    const view = ownsMemory(block) ? block : new Uint8Array(block);
    const index = this.submitted++;
    if (this.submitted % LOCAL_SHARE === 0) {
      const plain = openChunks(createDecipheriv, this.key, block, nonces, NONCE_BYTES, CHUNK_PLAIN, TAG_BYTES);
      if (typeof plain === 'number') return Promise.reject(new ChunkTagError(plain));
      this.blocks.push(null);
      this.worker.postMessage({ block: view, index }, [view.buffer as ArrayBuffer]);
      return Promise.resolve(plain);
    }
    return new Promise((resolve, reject) => {
      this.blocks.push({ resolve, reject });
      this.worker.postMessage({ block: view, nonces, index }, [view.buffer as ArrayBuffer]);
    });
  }

  release(chunks: Buffer[]): void {
    if (this.failure) return;
    const own = chunks.filter(ownsMemory);
    this.worker.postMessage({ release: own }, own.map((c) => c.buffer as ArrayBuffer));
  }
}
