// Asymmetric keys: X-Wing (X25519 + ML-KEM-768, draft-connolly-cfrg-xwing-kem) for encryption,
// Ed25519 (libsodium, strict verification) for signatures.
// Never log or return secret keys outside the core.
import type { xwing as XWingKem } from './xwing.js';
import { getSodiumOps } from './sodium.js';
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

/** `eseed` (64 bytes) only for test vectors; otherwise fresh randomness, or an encapsulation
 * made ahead for this very key (prepareEncapsulations). */
export async function xwingEncapsulate(publicKey: Uint8Array, eseed?: Uint8Array): Promise<{ cipherText: Uint8Array; sharedSecret: Uint8Array }> {
  if (!eseed) {
    const key = aheadKey(publicKey);
    const made = takeReadyMade(key);
    if (made) return made;
    // Not made yet: made now, and one fewer to make ahead for this key (no wasted work).
    const waiting = pending.findIndex((job) => job.key === key);
    if (waiting >= 0) pending.splice(waiting, 1);
  }
  return (await xwing()).encapsulate(publicKey, eseed);
}

// Work done ahead (issue 13, bench/README.md "Where the fixed cost goes"): while the sender's
// Argon2id runs on one of libuv's threads, this thread mostly waits; the recipients'
// encapsulations do not depend on the sender's keys, so they are made then, one per turn of the
// event loop (the unlock's answer is never held up by more than one). ML-KEM-768 runs in cold
// JavaScript, ~5-30 ms per encapsulation at the first ones: off the critical path this way.
// Invariants: a made-ahead encapsulation is used at most once (removed when taken), only for
// the exact public key it was made for (its bytes are the map's key), with the same fresh
// randomness as one made on the spot; the shared secrets of those never used are zeroed by
// discard(), which the caller runs whatever the outcome (a failed unlock included).
interface ReadyMade { cipherText: Uint8Array; sharedSecret: Uint8Array; owner: object }
const readyMade = new Map<string, ReadyMade[]>();
const pending: { key: string; publicKey: Uint8Array; owner: object }[] = [];
let stepping = false;

const aheadKey = (publicKey: Uint8Array): string => Buffer.from(publicKey.buffer, publicKey.byteOffset, publicKey.byteLength).toString('base64');

function takeReadyMade(key: string): { cipherText: Uint8Array; sharedSecret: Uint8Array } | undefined {
  const list = readyMade.get(key);
  const made = list?.shift();
  if (list?.length === 0) readyMade.delete(key);
  return made && { cipherText: made.cipherText, sharedSecret: made.sharedSecret };
}

export interface PreparedEncapsulations {
  /** Zeroes and forgets the ones not used, cancels those not made yet. */
  discard(): void;
  /** Tests only: the shared secrets made for this batch and not used yet (the same arrays). */
  peekForTests(): Uint8Array[];
}

/** Starts making one encapsulation per key given, in the background; xwingEncapsulate takes them. */
export function prepareEncapsulations(publicKeys: Uint8Array[]): PreparedEncapsulations {
  const owner = {};
  for (const publicKey of publicKeys) pending.push({ key: aheadKey(publicKey), publicKey: Uint8Array.from(publicKey), owner });
  scheduleStep();
  const mine = (): ReadyMade[] => [...readyMade.values()].flat().filter((made) => made.owner === owner);
  return {
    discard: () => {
      for (let i = pending.length - 1; i >= 0; i--) if (pending[i]!.owner === owner) pending.splice(i, 1);
      for (const [key, list] of readyMade) {
        const kept = list.filter((made) => {
          if (made.owner !== owner) return true;
          made.sharedSecret.fill(0);
          return false;
        });
        if (kept.length) readyMade.set(key, kept);
        else readyMade.delete(key);
      }
    },
    peekForTests: () => mine().map((made) => made.sharedSecret),
  };
}

/** Tests only: how many made-ahead encapsulations wait to be used. */
export const readyMadeCount = (): number => [...readyMade.values()].reduce((n, list) => n + list.length, 0);

function scheduleStep(): void {
  if (stepping || pending.length === 0) return;
  stepping = true;
  setImmediate(() => {
    void xwing().then((kem) => {
      const job = pending.shift();
      if (!job) return;
      const made = kem.encapsulate(job.publicKey);
      const list = readyMade.get(job.key) ?? [];
      list.push({ ...made, owner: job.owner });
      readyMade.set(job.key, list);
    }).catch(() => undefined) // a bad key: the real call, made on the spot, reports it
      .finally(() => {
        stepping = false;
        scheduleStep();
      });
  });
}

let warmedUp = false;
/** Runs X-Wing once on a throw-away key (generation, encapsulation, decapsulation), in the
 * background: V8 compiles ML-KEM-768's JavaScript then, while Argon2id runs, rather than during
 * the decapsulation that follows the unlock. Once per process. */
export function warmUpXWing(): void {
  if (warmedUp) return;
  warmedUp = true;
  setImmediate(() => {
    void xwing().then((kem) => {
      const { publicKey, secretKey } = kem.keygen();
      const { cipherText, sharedSecret } = kem.encapsulate(publicKey);
      const opened = kem.decapsulate(cipherText, secretKey);
      for (const bytes of [secretKey, sharedSecret, opened]) bytes.fill(0);
    }).catch(() => undefined);
  });
}

export async function xwingDecapsulate(cipherText: Uint8Array, secretKey: Uint8Array): Promise<Uint8Array> {
  return (await xwing()).decapsulate(cipherText, secretKey);
}

export interface SigningKeyPair { publicKey: Uint8Array; secretKey: Uint8Array }

export async function ed25519Keygen(seed?: Uint8Array): Promise<SigningKeyPair> {
  const sodium = await getSodiumOps();
  const pair = seed ? sodium.crypto_sign_seed_keypair(seed) : sodium.crypto_sign_keypair();
  return { publicKey: pair.publicKey, secretKey: pair.privateKey };
}

export async function ed25519Sign(secretKey: Uint8Array, message: Uint8Array): Promise<Uint8Array> {
  const sodium = await getSodiumOps();
  return sodium.crypto_sign_detached(message, secretKey);
}

/** Strict verification (libsodium rejects non-canonical and small-order encodings). */
export async function ed25519Verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): Promise<boolean> {
  if (publicKey.length !== ED25519_PUBLIC_BYTES || signature.length !== SIGNATURE_BYTES) return false;
  const sodium = await getSodiumOps();
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
