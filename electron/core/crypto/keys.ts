// Asymmetric keys: X-Wing (X25519 + ML-KEM-768, draft-connolly-cfrg-xwing-kem) for encryption,
// Ed25519 (libsodium, strict verification) for signatures.
// Never log or return secret keys outside the core.
import { ml_kem768_x25519 as xwing } from '@noble/post-quantum/hybrid.js';
import { getSodium } from './sodium.js';
import { random } from './primitives.js';

export const XWING_PUBLIC_BYTES = 1216;
export const XWING_SECRET_BYTES = 32;
export const XWING_CIPHERTEXT_BYTES = 1120;
export const ED25519_PUBLIC_BYTES = 32;
export const ED25519_SECRET_BYTES = 64;
export const SIGNATURE_BYTES = 64;

export interface XWingKeyPair { publicKey: Uint8Array; secretKey: Uint8Array }

export function xwingKeygen(seed: Uint8Array = random(32)): XWingKeyPair {
  const { publicKey, secretKey } = xwing.keygen(seed);
  return { publicKey, secretKey };
}

export function xwingPublicFromSecret(secretKey: Uint8Array): Uint8Array {
  return xwing.getPublicKey(secretKey);
}

/** `eseed` (64 bytes) only for test vectors; otherwise fresh randomness. */
export function xwingEncapsulate(publicKey: Uint8Array, eseed?: Uint8Array): { cipherText: Uint8Array; sharedSecret: Uint8Array } {
  return xwing.encapsulate(publicKey, eseed);
}

export function xwingDecapsulate(cipherText: Uint8Array, secretKey: Uint8Array): Uint8Array {
  return xwing.decapsulate(cipherText, secretKey);
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
