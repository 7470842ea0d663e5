// Asymmetric keys: X-Wing (X25519 + ML-KEM-768, draft-connolly-cfrg-xwing-kem) for encryption,
// Ed25519 (libsodium, strict verification) for signatures.
// Never log or return secret keys outside the core.
import type { xwing as XWingKem } from './xwing.js';
import { getSodium } from './sodium.js';
import { hkdf, random, unwrapKey, wrapKey } from './primitives.js';

export const XWING_PUBLIC_BYTES = 1216;
export const XWING_SECRET_BYTES = 32;
export const XWING_CIPHERTEXT_BYTES = 1120;
export const ED25519_PUBLIC_BYTES = 32;
export const ED25519_SECRET_BYTES = 64;
export const SIGNATURE_BYTES = 64;

export interface XWingKeyPair { publicKey: Uint8Array; secretKey: Uint8Array }

let loading: Promise<typeof XWingKem> | null = null;
/** X-Wing (xwing.ts: ML-KEM-768 from @noble/post-quantum, X25519 from libsodium) is loaded on
 * first use rather than at start-up, so that a command holds it only once the key unlock's
 * Argon2id has ended (peak memory). */
function xwing(): Promise<typeof XWingKem> {
  return (loading ??= import('./xwing.js').then(async (m) => {
    await m.ready;
    return m.xwing;
  }));
}

/** `seed` only for test vectors (the caller's to wipe); otherwise fresh randomness. */
export async function xwingKeygen(seed?: Uint8Array): Promise<XWingKeyPair> {
  const fresh = seed ? undefined : random(32);
  try {
    // noble returns a copy of the seed as the secret key: the one drawn here is zeroed.
    const { publicKey, secretKey } = (await xwing()).keygen(seed ?? fresh);
    return { publicKey, secretKey };
  } finally {
    fresh?.fill(0);
  }
}

export async function xwingPublicFromSecret(secretKey: Uint8Array): Promise<Uint8Array> {
  return (await xwing()).getPublicKey(secretKey);
}

/** `eseed` (64 bytes) only for test vectors; otherwise fresh randomness. */
export async function xwingEncapsulate(publicKey: Uint8Array, eseed?: Uint8Array): Promise<{ cipherText: Uint8Array; sharedSecret: Uint8Array }> {
  return (await xwing()).encapsulate(publicKey, eseed);
}

export async function xwingDecapsulate(cipherText: Uint8Array, secretKey: Uint8Array): Promise<Uint8Array> {
  return (await xwing()).decapsulate(cipherText, secretKey);
}

export interface SigningKeyPair { publicKey: Uint8Array; secretKey: Uint8Array }

export async function ed25519Keygen(seed?: Uint8Array): Promise<SigningKeyPair> {
  const sodium = await getSodium();
  const pair = seed ? sodium.crypto_sign_seed_keypair(seed) : sodium.crypto_sign_keypair();
  return { publicKey: pair.publicKey, secretKey: pair.privateKey };
}

export async function ed25519Sign(secretKey: Uint8Array, message: Uint8Array): Promise<Uint8Array> {
  const sodium = await getSodium();
  return sodium.crypto_sign_detached(message, secretKey);
}

/** Strict verification (libsodium rejects non-canonical and small-order encodings). */
export async function ed25519Verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): Promise<boolean> {
  if (publicKey.length !== ED25519_PUBLIC_BYTES || signature.length !== SIGNATURE_BYTES) return false;
  const sodium = await getSodium();
  try {
    return sodium.crypto_sign_verify_detached(signature, message, publicKey);
  } catch {
    return false;
  }
}

/**
 * Wraps a 32-byte key for the holder of an X-Wing key: encapsulate, derive a single-use
 * key-encryption key HKDF(shared secret, salt, info), seal with AES-GCM (primitives.wrapKey).
 * Used for container recipients, the authority seed and the profile key; `salt` and `info`
 * bind each use to its context (format.md 4.2). `eseed` only for test vectors.
 */
export async function wrapForXWing(publicKey: Uint8Array, key: Uint8Array, salt: Uint8Array, info: Uint8Array | string, eseed?: Uint8Array): Promise<{ kemCiphertext: Buffer; wrapped: Buffer }> {
  const { cipherText, sharedSecret } = await xwingEncapsulate(publicKey, eseed);
  const kek = hkdf(sharedSecret, salt, info);
  sharedSecret.fill(0);
  const wrapped = wrapKey(kek, key);
  kek.fill(0);
  return { kemCiphertext: Buffer.from(cipherText), wrapped };
}

/** The reverse of wrapForXWing; null when the tag does not verify (wrong key, swapped entry, tampering). */
export async function unwrapFromXWing(kemCiphertext: Uint8Array, secretKey: Uint8Array, wrapped: Uint8Array, salt: Uint8Array, info: Uint8Array | string): Promise<Buffer | null> {
  const sharedSecret = await xwingDecapsulate(kemCiphertext, secretKey);
  const kek = hkdf(sharedSecret, salt, info);
  sharedSecret.fill(0);
  const key = unwrapKey(kek, wrapped);
  kek.fill(0);
  return key;
}
