// Opening the chunks of a sealed block (docs/format.md section 7), shared by the reader's thread
// and its block worker (opener.worker.ts): this module imports nothing but node:crypto and the
// format's sizes, so the worker loads little.
import { createDecipheriv, type KeyObject } from 'node:crypto';
import { CHUNK_PLAIN, TAG_BYTES } from './format.js';

export const NONCE_BYTES = 12;

/** Chunks read, hashed and opened together (2 MiB): large enough that per-block messages cost
 * little, small enough that the blocks in motion stay a few MiB (peak memory, bench/crypto.mjs). */
export const BLOCK_CHUNKS = 32;

/**
 * Decrypts the chunks of a sealed block (ciphertext then tag, CHUNK_PLAIN + TAG_BYTES each), one
 * nonce per chunk. Returns their plaintext, or the position of the first chunk whose tag fails
 * (nothing of a block is returned unless every tag of it verifies).
 */
export function openChunks(key: KeyObject, block: Uint8Array, nonces: Uint8Array): Buffer[] | number {
  const sealedBytes = CHUNK_PLAIN + TAG_BYTES;
  const plain: Buffer[] = [];
  for (let c = 0; c * NONCE_BYTES < nonces.length; c++) {
    const sealed = block.subarray(c * sealedBytes, (c + 1) * sealedBytes);
    const decipher = createDecipheriv('aes-256-gcm', key, nonces.subarray(c * NONCE_BYTES, (c + 1) * NONCE_BYTES));
    decipher.setAuthTag(sealed.subarray(CHUNK_PLAIN));
    const out = decipher.update(sealed.subarray(0, CHUNK_PLAIN));
    try {
      decipher.final();
    } catch {
      return c;
    }
    plain.push(out);
  }
  return plain;
}
