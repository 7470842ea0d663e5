// X-Wing (draft-connolly-cfrg-xwing-kem-08): ML-KEM-768 from @noble/post-quantum, X25519 from
// libsodium (already loaded for Ed25519 and the keys at rest). The same KEM as
// @noble/post-quantum's ml_kem768_x25519, byte for byte (the draft's vectors in
// test/unit/vectors.test.ts, and test/unit/xwing.test.ts against noble's), built here because
// noble's X25519 is plain JavaScript: its first use builds precomputed tables and each scalar
// multiplication costs milliseconds, ~0.1-0.2 s of an encryption to 10 people and of every unlock
// (bench/README.md); libsodium's takes well under a millisecond, and its heap is zeroed on every
// free (sodium.ts). Loading noble's hybrid module also loaded its NIST curves, unused by X-Wing.
// (node:crypto's X25519 was measured too: importing a raw private key costs ~4 ms in OpenSSL 3,
// and its faster JWK form would put the secret in a JavaScript string, which cannot be wiped.)
import { randomBytes } from 'node:crypto';
import { ml_kem768 } from '@noble/post-quantum/ml-kem.js';
import { sha3_256, shake256 } from '@noble/hashes/sha3.js';
import { getSodiumOps, type SodiumOps } from './sodium.js';

const PUBLIC_BYTES = 1216;
const SECRET_BYTES = 32;
const CIPHERTEXT_BYTES = 1120;
const ESEED_BYTES = 64;
const MLKEM_PUBLIC_BYTES = 1184;
const MLKEM_CIPHERTEXT_BYTES = 1088;
/** XWingLabel of the draft: the six bytes `\.//^\`. */
const LABEL = Uint8Array.from([0x5c, 0x2e, 0x2f, 0x2f, 0x5e, 0x5c]);

// libsodium is bound when `ready` resolves, not by a top-level await: this module is also reached
// (through keys.ts) from a worker's bundle, which is CommonJS under vitest (workers.ts), where a
// top-level await cannot compile. The only way in, keys.ts's loader, awaits `ready` first.
let sodium: SodiumOps | undefined;
/** Resolves once libsodium is loaded; no X-Wing call may run before. */
export const ready: Promise<void> = getSodiumOps().then((loaded) => {
  sodium = loaded;
});
function lib(): SodiumOps {
  if (sodium === undefined) throw new Error('X-Wing : libsodium n’est pas encore chargé');
  return sodium;
}
const x25519 = {
  /** X25519(secret, 9): libsodium clamps the scalar as RFC 7748 does. */
  publicOf: (secret: Uint8Array): Uint8Array => lib().crypto_scalarmult_base(secret),
  /** X25519(secret, point): libsodium refuses (throws on) a low-order point, as noble does. */
  shared: (secret: Uint8Array, publicKey: Uint8Array): Uint8Array => {
    if (publicKey.length !== 32) throw new Error('X25519: clé publique de longueur invalide');
    return lib().crypto_scalarmult(secret, publicKey);
  },
};

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function checkLength(bytes: Uint8Array, length: number, what: string): void {
  if (!(bytes instanceof Uint8Array) || bytes.length !== length) throw new Error(`X-Wing: ${what} de longueur invalide`);
}

/** The combiner: SHA3-256(ss_M || ss_X || ct_X || pk_X || XWingLabel). Wipes its inputs' copy. */
function combine(ssM: Uint8Array, ssX: Uint8Array, ctX: Uint8Array, pkX: Uint8Array): Uint8Array {
  const input = concat(ssM, ssX, ctX, pkX, LABEL);
  try {
    return sha3_256(input);
  } finally {
    input.fill(0);
  }
}

/** The decapsulation key expanded from the 32-byte secret (the draft's expandDecapsulationKey).
 * The caller wipes skM and skX. */
function expand(secretKey: Uint8Array): { pkM: Uint8Array; skM: Uint8Array; skX: Uint8Array; pkX: Uint8Array } {
  checkLength(secretKey, SECRET_BYTES, 'clé secrète');
  const expanded = shake256(secretKey, { dkLen: 96 });
  try {
    const { publicKey: pkM, secretKey: skM } = ml_kem768.keygen(expanded.subarray(0, 64));
    const skX = expanded.slice(64, 96);
    return { pkM, skM, skX, pkX: x25519.publicOf(skX) };
  } finally {
    expanded.fill(0);
  }
}

function keygen(seed?: Uint8Array): { publicKey: Uint8Array; secretKey: Uint8Array } {
  const secretKey = seed ? Uint8Array.from(seed) : new Uint8Array(randomBytes(SECRET_BYTES));
  const { pkM, skM, skX, pkX } = expand(secretKey);
  skM.fill(0);
  skX.fill(0);
  return { publicKey: concat(pkM, pkX), secretKey };
}

function getPublicKey(secretKey: Uint8Array): Uint8Array {
  const { pkM, skM, skX, pkX } = expand(secretKey);
  skM.fill(0);
  skX.fill(0);
  return concat(pkM, pkX);
}

function encapsulate(publicKey: Uint8Array, eseed?: Uint8Array): { cipherText: Uint8Array; sharedSecret: Uint8Array } {
  checkLength(publicKey, PUBLIC_BYTES, 'clé publique');
  const seed = eseed ? Uint8Array.from(eseed) : new Uint8Array(randomBytes(ESEED_BYTES));
  try {
    checkLength(seed, ESEED_BYTES, 'aléa');
    const pkM = publicKey.subarray(0, MLKEM_PUBLIC_BYTES);
    const pkX = publicKey.subarray(MLKEM_PUBLIC_BYTES);
    const ekX = seed.subarray(32, 64);
    const ctX = x25519.publicOf(ekX);
    const ssX = x25519.shared(ekX, pkX);
    const { cipherText: ctM, sharedSecret: ssM } = ml_kem768.encapsulate(pkM, seed.subarray(0, 32));
    try {
      return { cipherText: concat(ctM, ctX), sharedSecret: combine(ssM, ssX, ctX, pkX) };
    } finally {
      ssM.fill(0);
      ssX.fill(0);
    }
  } finally {
    seed.fill(0);
  }
}

function decapsulate(cipherText: Uint8Array, secretKey: Uint8Array): Uint8Array {
  checkLength(cipherText, CIPHERTEXT_BYTES, 'chiffré');
  const { skM, skX, pkX } = expand(secretKey);
  try {
    const ctX = cipherText.subarray(MLKEM_CIPHERTEXT_BYTES);
    const ssM = ml_kem768.decapsulate(cipherText.subarray(0, MLKEM_CIPHERTEXT_BYTES), skM);
    const ssX = x25519.shared(skX, ctX);
    try {
      return combine(ssM, ssX, ctX, pkX);
    } finally {
      ssM.fill(0);
      ssX.fill(0);
    }
  } finally {
    skM.fill(0);
    skX.fill(0);
  }
}

/** The X-Wing KEM: the same calls (and bytes) as @noble/post-quantum's ml_kem768_x25519. */
export const xwing = { keygen, getPublicKey, encapsulate, decapsulate } as const;
