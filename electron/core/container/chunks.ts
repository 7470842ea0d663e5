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
export function openChunks(opener: ChunkOpener, block: Uint8Array, nonces: Uint8Array): Buffer[] | number {
  const count = block.length / CHUNK_SEALED;
  // Entirely overwritten, or zeroed on a failure: never handed out unwritten.
  const plain = Buffer.allocUnsafeSlow(count * CHUNK_PLAIN);
  const bad = opener.open(block, nonces, plain);
  return bad >= 0 ? bad : [plain];
}
