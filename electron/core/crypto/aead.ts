// XChaCha20-Poly1305 sealing of secrets at rest, and the Argon2id key that unlocks them from a
// passphrase. Used by profile/ (an identity's master key and private keys) and authority/ (key
// files): they live here, on the crypto floor, so that neither imports the other for them.
// The bytes are those of docs/profile.md (layout: nonce beside the sealed text, AAD from labels.ts).
import { randomBytes } from 'node:crypto';
import { getSodiumOps } from './sodium.js';
import { argon2id, type Argon2Params } from './argon2.js';
import { takeEarlyUnlock } from './early-unlock.js';

/** The Argon2id key of a passphrase (NFC-normalised UTF-8). The caller zeroes the key; the
 * passphrase's bytes are zeroed here on every path. */
export async function deriveUnlockKey(passphrase: string, salt: Uint8Array, params: Argon2Params): Promise<Buffer> {
  // Started before the command's code loaded, from these very inputs (early-unlock.ts).
  const early = takeEarlyUnlock(passphrase, salt, params);
  if (early && 'key' in early) return early.key;
  if (early) await early.ended;
  const secret = Buffer.from(passphrase.normalize('NFC'), 'utf8');
  try {
    return await argon2id(secret, salt, params);
  } finally {
    secret.fill(0);
  }
}

/** Seals `plaintext` under `key` with a fresh random 24-byte nonce. */
export async function aeadSeal(key: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Promise<{ nonce: Buffer; sealed: Buffer }> {
  const sodium = await getSodiumOps();
  const nonce = randomBytes(sodium.crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);
  const sealed = sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(plaintext, aad, null, nonce, key);
  return { nonce, sealed: Buffer.from(sealed) };
}

/** The plaintext, or null when the tag does not verify (wrong key, other AAD, tampering). */
export async function aeadOpen(key: Uint8Array, nonce: Uint8Array, sealed: Uint8Array, aad: Uint8Array): Promise<Uint8Array | null> {
  const sodium = await getSodiumOps();
  try {
    return sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(null, sealed, aad, nonce, key);
  } catch {
    return null;
  }
}
