// libsodium (sumo build: the standard build has no crypto_pwhash at run time) for Ed25519 with
// strict verification and for the AEAD that protects private keys at rest. The bulk of a
// container is carried by node:crypto AES-256-GCM instead (about 3x faster here).
// Loaded on first use, not at start-up: its WebAssembly instance (~14 MiB) is then never
// resident at the same time as the Argon2id worker that runs before it (peak memory).
import { createRequire } from 'node:module';
import path from 'node:path';

type SodiumModule = typeof import('libsodium-wrappers-sumo');
/** The WebAssembly build, whole (the Argon2id worker, the heap tests). */
export type Sodium = SodiumModule['default'];

/** The parts of the Emscripten module under libsodium-wrappers that the wipe below touches. */
interface WasmHeap {
  HEAPU8: Uint8Array;
  _malloc(size: number): number;
  _free(address: number): void;
}

let ready: Promise<Sodium> | undefined;

export function getSodium(): Promise<Sodium> {
  ready ??= import('libsodium-wrappers-sumo').then(async (module) => {
    await module.default.ready;
    zeroOnFree(heapOf(module.default));
    return module.default;
  });
  return ready;
}

function heapOf(sodium: Sodium): WasmHeap {
  return (sodium as unknown as { libsodium: WasmHeap }).libsodium;
}

/**
 * libsodium-wrappers copies every argument (seeds, secret keys, plaintexts) into the WebAssembly
 * heap with `_malloc`, copies every result out, then `_free`s both without zeroing them, and
 * `sodium.memzero` only wipes JavaScript arrays. Invariant set here: every buffer the wrapper
 * allocates through `_malloc` is zeroed (its whole recorded size) just before it is freed, so once
 * a call has returned no copy of its inputs or outputs is left in the heap. Allocations made inside
 * the C code (Argon2id's memory, for one) do not pass through here: see argon2.worker.ts.
 * Cost: one Map entry and one `fill` per buffer, well under a microsecond (docs/profile.md).
 */
function zeroOnFree(heap: WasmHeap): void {
  const marked = heap as WasmHeap & { pliZeroOnFree?: true };
  if (marked.pliZeroOnFree) return; // a second getSodium() after a module reload: already hooked
  const malloc = heap._malloc.bind(heap);
  const free = heap._free.bind(heap);
  const sizes = new Map<number, number>();
  heap._malloc = (size: number): number => {
    const address = malloc(size);
    if (address !== 0) sizes.set(address, size);
    return address;
  };
  heap._free = (address: number): void => {
    const size = sizes.get(address);
    if (size !== undefined) {
      sizes.delete(address);
      // HEAPU8 is read now, not captured: it is a new view whenever the memory grows.
      heap.HEAPU8.fill(0, address, address + size);
    }
    free(address);
  };
  marked.pliZeroOnFree = true;
}

/**
 * Zeroes the whole WebAssembly memory of this thread's libsodium. Only for a thread that is about
 * to end (the Argon2id worker): afterwards the instance is unusable (its allocator and data are
 * gone). It wipes what the `_free` hook cannot reach: the Argon2id memory blocks (from which the
 * derived key can be recomputed), which libsodium frees without clearing, and the C stack.
 */
export function wipeWholeHeap(sodium: Sodium): void {
  heapOf(sodium).HEAPU8.fill(0);
}

// ---------------------------------------------------------------------------------------------
// The few libsodium calls a command makes (Ed25519, X25519, XChaCha20-Poly1305 of the keys at
// rest), through sodium-native's libsodium when its binary loads (issue 13): it is loaded anyway
// for Argon2id (argon2.ts), takes ~1 ms to load where the WebAssembly build took 20-40 ms of every
// command's start (and each of its calls copies through the WebAssembly heap). The WebAssembly
// build stays the fallback; both give the same bytes and the same refusals
// (test/unit/sodium-backends.test.ts). The native calls work on the caller's arrays in place:
// no copy of a key is left anywhere else (what zeroOnFree above does for the WebAssembly heap).

/** The calls used, with libsodium-wrappers' signatures (which the WebAssembly build has). */
export interface SodiumOps {
  crypto_sign_keypair(): { publicKey: Uint8Array; privateKey: Uint8Array };
  crypto_sign_seed_keypair(seed: Uint8Array): { publicKey: Uint8Array; privateKey: Uint8Array };
  crypto_sign_detached(message: Uint8Array, secretKey: Uint8Array): Uint8Array;
  crypto_sign_verify_detached(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean;
  crypto_scalarmult_base(secret: Uint8Array): Uint8Array;
  /** Throws on a low-order point (an all-zero result), as libsodium-wrappers does. */
  crypto_scalarmult(secret: Uint8Array, publicKey: Uint8Array): Uint8Array;
  readonly crypto_aead_xchacha20poly1305_ietf_NPUBBYTES: number;
  crypto_aead_xchacha20poly1305_ietf_encrypt(message: Uint8Array, aad: Uint8Array | null, nsec: null, nonce: Uint8Array, key: Uint8Array): Uint8Array;
  /** Throws when the tag does not verify. */
  crypto_aead_xchacha20poly1305_ietf_decrypt(nsec: null, sealed: Uint8Array, aad: Uint8Array | null, nonce: Uint8Array, key: Uint8Array): Uint8Array;
}

export type SodiumBackend = 'native' | 'wasm';

/** sodium-native's raw binding (its functions as binding.cc declares them). The package is
 * pinned to one version in package.json. */
interface NativeSodium {
  crypto_sign_keypair(pk: Uint8Array, sk: Uint8Array): number;
  crypto_sign_seed_keypair(pk: Uint8Array, sk: Uint8Array, seed: Uint8Array): number;
  crypto_sign_detached(sig: Uint8Array, m: Uint8Array, sk: Uint8Array): number;
  crypto_sign_verify_detached(sig: ArrayBufferLike, sigOffset: number, sigLength: number, m: ArrayBufferLike, mOffset: number, mLength: number, pk: ArrayBufferLike, pkOffset: number, pkLength: number): boolean;
  crypto_scalarmult_base(q: Uint8Array, n: Uint8Array): number;
  crypto_scalarmult(q: Uint8Array, n: Uint8Array, p: Uint8Array): number;
  crypto_aead_xchacha20poly1305_ietf_encrypt(c: Uint8Array, m: Uint8Array, ad: Uint8Array | undefined, npub: Uint8Array, k: Uint8Array): number;
  crypto_aead_xchacha20poly1305_ietf_decrypt(m: Uint8Array, c: Uint8Array, ad: Uint8Array | undefined, npub: Uint8Array, k: Uint8Array): number;
}

let binding: Record<string, unknown> | null | undefined;
/**
 * sodium-native's prebuilt binary for this platform, loaded directly (process.dlopen, ~1 ms): its
 * package entry point first loads a module resolver that costs 30-90 ms of start-up here. null
 * when it does not load (then the WebAssembly build runs). Shared with argon2.ts.
 */
export function nativeSodiumBinding(): Record<string, unknown> | null {
  if (binding !== undefined) return binding;
  try {
    const load = createRequire(import.meta.url);
    const dir = path.dirname(load.resolve('sodium-native/package.json'));
    binding = load(path.join(dir, 'prebuilds', `${process.platform}-${process.arch}`, 'sodium-native.node')) as Record<string, unknown>;
  } catch {
    binding = null;
  }
  return binding;
}

const NATIVE_CALLS = ['crypto_sign_keypair', 'crypto_sign_seed_keypair', 'crypto_sign_detached', 'crypto_sign_verify_detached', 'crypto_scalarmult_base',
  'crypto_scalarmult', 'crypto_aead_xchacha20poly1305_ietf_encrypt', 'crypto_aead_xchacha20poly1305_ietf_decrypt'] as const;

function nativeSodium(): NativeSodium | null {
  const b = nativeSodiumBinding();
  return b && NATIVE_CALLS.every((name) => typeof b[name] === 'function') ? b as unknown as NativeSodium : null;
}

/** The back-end getSodiumOps uses on this installation: native when its binary loads. */
export function sodiumOpsBackend(): SodiumBackend {
  return nativeSodium() ? 'native' : 'wasm';
}

const NPUB = 24;
const TAG = 16;
/** The C code asserts its lengths (an abort of the whole process): every length is checked
 * here first, and refused with an exception, as the WebAssembly build does. */
function expect(ok: boolean, what: string): void {
  if (!ok) throw new Error(`libsodium : ${what} de longueur invalide`);
}
function status(code: number, what: string): void {
  if (code < 0) throw new Error(`libsodium : ${what}`);
}

function nativeOps(n: NativeSodium): SodiumOps {
  const pair = (fill: (pk: Uint8Array, sk: Uint8Array) => number) => {
    const publicKey = new Uint8Array(32);
    const privateKey = new Uint8Array(64);
    status(fill(publicKey, privateKey), 'génération de clé refusée');
    return { publicKey, privateKey };
  };
  return {
    crypto_sign_keypair: () => pair((pk, sk) => n.crypto_sign_keypair(pk, sk)),
    crypto_sign_seed_keypair: (seed) => {
      expect(seed.byteLength === 32, 'graine');
      return pair((pk, sk) => n.crypto_sign_seed_keypair(pk, sk, seed));
    },
    crypto_sign_detached: (message, secretKey) => {
      expect(secretKey.byteLength === 64, 'clé secrète');
      const signature = new Uint8Array(64);
      status(n.crypto_sign_detached(signature, message, secretKey), 'signature refusée');
      return signature;
    },
    crypto_sign_verify_detached: (signature, message, publicKey) => {
      expect(signature.byteLength === 64, 'signature');
      expect(publicKey.byteLength === 32, 'clé publique');
      return n.crypto_sign_verify_detached(signature.buffer, signature.byteOffset, signature.byteLength, message.buffer, message.byteOffset, message.byteLength,
        publicKey.buffer, publicKey.byteOffset, publicKey.byteLength) === true;
    },
    crypto_scalarmult_base: (secret) => {
      expect(secret.byteLength === 32, 'scalaire');
      const point = new Uint8Array(32);
      status(n.crypto_scalarmult_base(point, secret), 'multiplication refusée');
      return point;
    },
    crypto_scalarmult: (secret, publicKey) => {
      expect(secret.byteLength === 32, 'scalaire');
      expect(publicKey.byteLength === 32, 'point');
      const shared = new Uint8Array(32);
      // libsodium answers -1 for a low-order point (an all-zero secret): refused, as in the wrappers.
      status(n.crypto_scalarmult(shared, secret, publicKey), 'point de petit ordre refusé');
      return shared;
    },
    crypto_aead_xchacha20poly1305_ietf_NPUBBYTES: NPUB,
    crypto_aead_xchacha20poly1305_ietf_encrypt: (message, aad, _nsec, nonce, key) => {
      expect(nonce.byteLength === NPUB, 'nonce');
      expect(key.byteLength === 32, 'clé');
      const sealed = new Uint8Array(message.byteLength + TAG);
      status(n.crypto_aead_xchacha20poly1305_ietf_encrypt(sealed, message, aad ?? undefined, nonce, key), 'chiffrement refusé');
      return sealed;
    },
    crypto_aead_xchacha20poly1305_ietf_decrypt: (_nsec, sealed, aad, nonce, key) => {
      expect(nonce.byteLength === NPUB, 'nonce');
      expect(key.byteLength === 32, 'clé');
      expect(sealed.byteLength >= TAG, 'chiffré');
      const plain = new Uint8Array(sealed.byteLength - TAG);
      const code = n.crypto_aead_xchacha20poly1305_ietf_decrypt(plain, sealed, aad ?? undefined, nonce, key);
      if (code < 0) {
        plain.fill(0);
        throw new Error('libsodium : le texte chiffré ne peut pas être ouvert avec cette clé');
      }
      return plain;
    },
  };
}

let native: SodiumOps | undefined;
/** The libsodium calls of SodiumOps: native when the binary loads, else the WebAssembly build.
 * `backend` only for tests that prove both give the same bytes. */
export async function getSodiumOps(backend: SodiumBackend = sodiumOpsBackend()): Promise<SodiumOps> {
  if (backend === 'native') {
    const n = nativeSodium();
    if (!n) throw new Error('libsodium : sodium-native indisponible sur ce poste');
    return (native ??= nativeOps(n));
  }
  // libsodium-wrappers' overloads (output formats) are a superset of these signatures.
  return await getSodium() as unknown as SodiumOps;
}
