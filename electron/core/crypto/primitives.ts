// Small, audited building blocks over node:crypto. Every label is a distinct ASCII string so
// that no derived key or signature can stand for another (docs/format.md, sections 4 and 6).
import { createCipheriv, createDecipheriv, createHash, createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import { AAD, FINGERPRINT_LABELS, SIGNATURE_LABELS } from './labels.js';

export const random = (length: number): Buffer => randomBytes(length);

export function sha256(...parts: Uint8Array[]): Buffer {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part);
  return hash.digest();
}

export function hmacSha256(key: Uint8Array, ...parts: Uint8Array[]): Buffer {
  const mac = createHmac('sha256', key);
  for (const part of parts) mac.update(part);
  return mac.digest();
}

export function hkdf(ikm: Uint8Array, salt: Uint8Array, info: Uint8Array | string, length = 32): Buffer {
  return Buffer.from(hkdfSync('sha256', ikm, salt, typeof info === 'string' ? Buffer.from(info, 'ascii') : info, length));
}

export function equalConstantTime(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

const ZERO_NONCE = Buffer.alloc(12);
const WRAP_AAD = Buffer.from(AAD.wrap, 'ascii');

/** Wraps a 32-byte key under a single-use key-encryption key (zero nonce: see format.md 4.2). */
export function wrapKey(kek: Uint8Array, key: Uint8Array): Buffer {
  const cipher = createCipheriv('aes-256-gcm', kek, ZERO_NONCE);
  cipher.setAAD(WRAP_AAD);
  const body = Buffer.concat([cipher.update(key), cipher.final()]);
  return Buffer.concat([body, cipher.getAuthTag()]);
}

/** Returns null when the tag does not verify (wrong recipient, swapped entry, tampering). */
export function unwrapKey(kek: Uint8Array, wrapped: Uint8Array): Buffer | null {
  if (wrapped.length !== 48) return null;
  // update() gives the 32 key bytes before the tag is checked. They are returned as they are, not
  // concatenated into a copy (GCM's final() adds no bytes), and zeroed when the tag does not
  // verify: a tampered tag under the right key-encryption key would otherwise leave the key behind.
  let key: Buffer | undefined;
  try {
    const decipher = createDecipheriv('aes-256-gcm', kek, ZERO_NONCE);
    decipher.setAAD(WRAP_AAD);
    decipher.setAuthTag(wrapped.subarray(32));
    key = decipher.update(wrapped.subarray(0, 32));
    decipher.final();
    return key;
  } catch {
    key?.fill(0);
    return null;
  }
}

export type KeyKind = 'xwing' | 'ed25519';

/** Fingerprint of a public key: SHA-256(FINGERPRINT_LABELS[kind] || key) (format.md 8). */
export function fingerprint(kind: KeyKind, publicKey: Uint8Array): Buffer {
  return sha256(Buffer.from(FINGERPRINT_LABELS[kind], 'ascii'), publicKey);
}

// The labels themselves are in labels.ts (one table for the whole program); re-exported here for
// the modules that sign.
export { SIGNATURE_LABELS };
export type SignedObject = keyof typeof SIGNATURE_LABELS;

/** The 32-byte digest that Ed25519 signs for a signed object. */
export function signedDigest(object: SignedObject, ...parts: Uint8Array[]): Buffer {
  return sha256(Buffer.from(SIGNATURE_LABELS[object], 'ascii'), ...parts);
}
