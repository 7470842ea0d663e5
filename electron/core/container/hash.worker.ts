// The writer's hash worker (sinks.ts, WorkerSha256): the SHA-256 of what is sealed, computed on
// its own thread while the main thread encrypts; it also seals every other block itself, so that
// the AES-GCM and its per-chunk outputs are shared between the two threads. Items arrive moved
// (no copy), each with its place in the stream (seq), and are hashed strictly in that order
// whatever order they arrive in: a block this thread sealed waits, sealed, for the blocks before
// it. Hashed parts of the main thread's blocks are then freed here at once (discard); only their
// size goes back, so that the writer can count what is in flight (peak memory). Neither thread's
// collector ever sees the 256 MiB of a large container go by.
import { createCipheriv, createHash, type KeyObject } from 'node:crypto';
import { parentPort } from 'node:worker_threads';
import { discard, ownsMemory } from './discard.js';

const NONCE_BYTES = 12;

/** 'digest' at the end; the payload key once; before the end, items to hash (parts) or to seal
 * and then hash (a plaintext block with one nonce per chunk), each numbered in stream order. */
export type HashRequest =
  | 'digest'
  | { key: KeyObject }
  | { seq: number; parts: Uint8Array[] }
  | { seq: number; block: Uint8Array; nonces: Uint8Array };
/** Per item, the bytes counted in flight (and freed); for a sealed block, its sealed parts (in
 * stream order, ciphertext then tag per chunk) and the plaintext buffer, handed back for reuse.
 * At the end, the digest. */
export type HashAnswer =
  | { hashed: number; seq?: number; sealed?: Uint8Array[]; block?: Uint8Array }
  | { digest: Uint8Array };

const port = parentPort!;
const hash = createHash('sha256');
let key: KeyObject | null = null;
let next = 0;
const held = new Map<number, { parts: Uint8Array[]; block?: Uint8Array }>();
const answer = (m: HashAnswer, transfer: ArrayBuffer[] = []): void => port.postMessage(m, transfer);

/** Seals the chunks of `block` (one nonce each); the chunk size is the block's share per nonce. */
function seal(block: Uint8Array, nonces: Uint8Array): Uint8Array[] {
  const count = nonces.length / NONCE_BYTES;
  const size = block.byteLength / count;
  const out: Uint8Array[] = [];
  for (let c = 0; c < count; c++) {
    const cipher = createCipheriv('aes-256-gcm', key!, nonces.subarray(c * NONCE_BYTES, (c + 1) * NONCE_BYTES));
    const sealed = cipher.update(block.subarray(c * size, (c + 1) * size));
    cipher.final();
    out.push(sealed, cipher.getAuthTag());
  }
  return out;
}

/** Hashes every held item whose turn has come. */
function drain(): void {
  for (let item = held.get(next); item; item = held.get(next)) {
    held.delete(next);
    let hashed = 0;
    for (const part of item.parts) {
      hash.update(part);
      hashed += part.byteLength;
    }
    if (item.block) {
      // The writer writes these; the plaintext buffer goes back to be read into again.
      const transfer = new Set<ArrayBuffer>([item.block.buffer as ArrayBuffer]);
      for (const part of item.parts) if (ownsMemory(part)) transfer.add(part.buffer as ArrayBuffer);
      answer({ hashed: item.block.byteLength, seq: next, sealed: item.parts, block: item.block }, [...transfer]);
    } else {
      discard(item.parts);
      answer({ hashed });
    }
    next++;
  }
}

port.on('message', (m: HashRequest) => {
  if (m === 'digest') return answer({ digest: hash.digest() });
  if ('key' in m) {
    key = m.key;
    return;
  }
  held.set(m.seq, 'block' in m ? { parts: seal(m.block, m.nonces), block: m.block } : { parts: m.parts });
  drain();
});
