// The reader's block worker (opener.ts, which describes the pipeline and the pre-hash). It keeps
// the container's digest: every block goes into it in order, and most are also opened here.
// Memory moves without copies: the sealed block in, the block and the plaintext out; the reader's
// thread frees the plaintext at once when written (discard.ts), with no collection of its heap.
import { createCipheriv, createSecretKey, randomBytes, timingSafeEqual, type KeyObject } from 'node:crypto';
import { readSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { CHUNK_SEALED } from './format.js';
import { ContainerDigest } from './digest.js';
import { BLOCK_CHUNKS, openChunks } from './chunks.js';
import { asBuffer, keepSpare } from './discard.js';
import type { PrehashSource } from './opener.js';
import { chunkOpener, useGcmAddon, type ChunkOpener } from './gcm.js';

/** `gcmAddon`: the parent's chunk cipher (gcm.ts), so that both threads use the same back-end. */
export interface OpenerWorkerData { prehash: PrehashSource | null; gcmAddon: string | null }

/** What the reader's thread sends, in this order: the key (once), the digest's prefix unless the
 * worker pre-hashed it, the blocks (with nonces: open it; without: only hash it), and 'digest'
 * at the end. */
export type OpenerRequest =
  | 'digest'
  | { key: KeyObject }
  | { spares: Uint8Array[] }
  | { prefix: Uint8Array }
  | { block: Uint8Array; index: number; nonces?: Uint8Array };

/** One answer per block, in order (its plaintext and the block; the block alone if only hashed;
 * `bad`: the chunk whose tag failed), the digest, or `changed`: a pre-hashed block (its index)
 * differs from the one opened, which fails everything. `prehashed` is a notice, not an answer. */
export interface OpenerAnswer { plain?: Uint8Array[]; block?: Uint8Array; bad?: number; changed?: number; prehashed?: number; digest?: Uint8Array }

if (!parentPort) throw new Error('opener.worker.js runs only as a worker thread (opener.ts starts it); import its types only.');
const port = parentPort;
const answer = (m: OpenerAnswer, transfer: ArrayBuffer[] = []): void => port.postMessage(m, transfer);
let hash: ContainerDigest | null = null;
let opener: ChunkOpener | null = null;
/** Plaintext buffers written out and given back by the reader's thread, opened into again. */
const spares: Buffer[] = [];

// Pre-hashing (see the top of opener.ts): blocks 0 .. prehashed-1 are in the digest already,
// each with its GMAC under macKey, which never leaves this thread.
const pre = (workerData as OpenerWorkerData).prehash;
useGcmAddon((workerData as OpenerWorkerData).gcmAddon);
let prehashed = 0;
const macs: Buffer[] = [];
let macKey: KeyObject | null = null;
let readBuffer: Buffer | null = null; // null once pre-hashing has stopped
let changed = -1; // the first block found changed, if any

function stopPrehash(): void {
  if (!readBuffer) return;
  readBuffer = null;
  answer({ prehashed }); // for tests and measurements: no reply expected
}

function mac(block: Uint8Array, index: number): Buffer {
  const iv = Buffer.alloc(12);
  iv.writeUInt32BE(index, 8);
  const gmac = createCipheriv('aes-256-gcm', macKey!, iv);
  gmac.setAAD(block);
  gmac.final();
  return gmac.getAuthTag();
}

function prehashNext(): void {
  if (!readBuffer || !pre) return;
  const first = prehashed * BLOCK_CHUNKS;
  const length = Math.min(BLOCK_CHUNKS, pre.chunks - first) * CHUNK_SEALED;
  if (length <= 0) return stopPrehash();
  const block = readBuffer.subarray(0, length);
  let done = 0;
  try {
    while (done < length) {
      const n = readSync(pre.fd, block, done, length - done, pre.start + first * CHUNK_SEALED + done);
      if (n === 0) break;
      done += n;
    }
  } catch {
    done = -1;
  }
  // A short or failed read stops here: the opening pass reads the same place and reports it.
  if (done !== length) return stopPrehash();
  hash!.update(block);
  macs.push(mac(block, prehashed));
  prehashed++;
  setImmediate(prehashNext); // lets the key's message in between two blocks
}

if (pre) {
  macKey = createSecretKey(randomBytes(32));
  hash = new ContainerDigest(pre.prefix);
  readBuffer = Buffer.allocUnsafeSlow(BLOCK_CHUNKS * CHUNK_SEALED);
  setImmediate(prehashNext);
}

port.on('message', (m: OpenerRequest) => {
  if (m === 'digest') return answer(changed >= 0 ? { changed } : { digest: hash!.digest() });
  if ('key' in m) {
    opener = chunkOpener(m.key);
    return stopPrehash(); // the opening pass takes over after the blocks pre-hashed so far
  }
  if ('prefix' in m) return void (hash = new ContainerDigest(m.prefix));
  if ('spares' in m) return void m.spares.forEach((spare) => keepSpare(spares, asBuffer(spare)));
  const block = asBuffer(m.block);
  if (m.index >= prehashed) hash!.update(block);
  else if (changed < 0 && !timingSafeEqual(mac(block, m.index), macs[m.index]!)) changed = m.index;
  if (changed >= 0) return answer({ changed });
  if (!m.nonces) return answer({ block }, [block.buffer as ArrayBuffer]);
  const plain = openChunks(opener!, block, m.nonces, spares);
  if (typeof plain === 'number') return answer({ bad: plain });
  // openChunks's plaintext is memory of its own (new, or a spare): it moves without a copy.
  answer({ plain, block }, [block.buffer as ArrayBuffer, ...plain.map((p) => p.buffer as ArrayBuffer)]);
});
