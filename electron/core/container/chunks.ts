// Opening the chunks of a sealed block (docs/format.md section 7), shared by the reader's thread
// and its block worker (opener.worker.ts): this module imports nothing but the chunk cipher's
// type, the format's sizes and the spare buffers (discard.ts), so the worker loads little.
import type { ChunkOpener } from './gcm.js';
import { CHUNK_PLAIN, CHUNK_SEALED } from './format.js';
import { takeSpare } from './discard.js';

export { NONCE_BYTES } from './format.js';

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

