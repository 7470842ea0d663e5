// Opening the chunks of a sealed block (docs/format.md section 7), shared by the reader's thread
// and its block worker (opener.worker.ts): this module imports nothing but the chunk cipher and
// the format's sizes, so the worker loads little.
import type { ChunkOpener } from '../crypto/gcm.js';
import { CHUNK_PLAIN, CHUNK_SEALED } from './format.js';

export const NONCE_BYTES = 12;

/** Chunks read, hashed and opened together (2 MiB): large enough that per-block messages cost
 * little, small enough that the blocks in motion stay a few MiB (peak memory, bench/crypto.mjs). */
export const BLOCK_CHUNKS = 32;

/**
 * Decrypts the chunks of a sealed block (ciphertext then tag, CHUNK_PLAIN + TAG_BYTES each), one
 * nonce per chunk. Returns their plaintext (one buffer, its own memory: it can move between
 * threads without a copy), or the position of the first chunk whose tag fails (nothing of a
 * block is returned unless every tag of it verifies).
 */
export function openChunks(opener: ChunkOpener, block: Uint8Array, nonces: Uint8Array, spares: Buffer[] = []): Buffer[] | number {
  const count = block.length / CHUNK_SEALED;
  // Entirely overwritten, or zeroed on a failure: never handed out unwritten. A spare is the
  // plaintext of an earlier block, written out and given back (no new memory to fault in).
  const plain = takeSpare(spares, count * CHUNK_PLAIN) ?? Buffer.allocUnsafeSlow(count * CHUNK_PLAIN);
  const bad = opener.open(block, nonces, plain);
  return bad >= 0 ? bad : [plain];
}

/** Spare buffers kept per thread (the reader's plaintext, the writer's ciphertext): about what
 * one side has in motion. */
const MAX_SPARES = 4;

/** Keeps `part` in `spares` for reuse if there is room and it owns its memory; says whether it did. */
export function keepSpare(spares: Buffer[], part: Buffer): boolean {
  if (spares.length >= MAX_SPARES || part.byteOffset !== 0 || part.byteLength !== part.buffer.byteLength) return false;
  spares.push(part);
  return true;
}

/** A spare of exactly `bytes`, taken out of `spares`, if there is one. */
export function takeSpare(spares: Buffer[], bytes: number): Buffer | undefined {
  const at = spares.findIndex((s) => s.length === bytes);
  return at < 0 ? undefined : spares.splice(at, 1)[0];
}
