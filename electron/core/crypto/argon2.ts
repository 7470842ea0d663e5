// Argon2id (libsodium crypto_pwhash) through one of two back-ends that give the same bytes (the
// known-answer test in test/unit/argon2-backends.test.ts forces each one):
//   - native: the libsodium compiled into `sodium-native` (prebuilt N-API binary in its npm
//     package), about 2.5x faster than the WebAssembly build. Its asynchronous call runs on one of
//     libuv's pool threads, so this thread (the desktop app's main process, the CLI's event loop)
//     never blocks and no worker thread is started (the worker and its WebAssembly libsodium cost
//     ~0.1-0.2 s of every command's start; bench/README.md). libsodium maps the Argon2id memory
//     with mmap and unmaps it before answering: none of it stays in this process afterwards.
//   - wasm: libsodium-wrappers-sumo in a short-lived worker thread (argon2.worker.ts), the
//     fallback where the binding does not load: a platform with no prebuilt binary (musl, an
//     unusual CPU), an Electron build that cannot load it, an installation without it. The
//     worker's WebAssembly memory never shrinks; ending the thread returns it.
import { Worker } from 'node:worker_threads';
import { temporaryError } from '../errors.js';
import { workerEntry } from '../workers.js';
import { nativeSodiumBinding } from './sodium.js';
import type { Argon2Answer, Argon2Job } from './argon2.worker.js';

export interface Argon2Params {
  /** Passes over memory (libsodium opslimit). */
  opslimit: number;
  /** Memory in KiB. */
  memlimitKib: number;
}

/** Protects private keys at rest: ~0.15 s here (native), part of every command's fixed cost. */
export const KEY_UNLOCK_PARAMS: Argon2Params = { opslimit: 3, memlimitKib: 64 * 1024 };
/** Password recipients of a container: stronger, it faces offline guessing by anyone holding the file. */
export const PASSWORD_RECIPIENT_PARAMS: Argon2Params = { opslimit: 3, memlimitKib: 256 * 1024 };
/** What a reader accepts in a container (format.md section 3). */
export const ACCEPTED = { minOps: 3, maxOps: 10, minMemKib: 64 * 1024, maxMemKib: 1024 * 1024 };

export type Argon2Backend = 'native' | 'wasm';

const KEY_BYTES = 32;
const SALT_BYTES = 16;

/** The few members of sodium-native's binding used here (its raw functions: buffers as
 * ArrayBuffer, offset, length). The package is pinned to one version in package.json. */
interface NativeBinding {
  crypto_pwhash_async(
    out: ArrayBufferLike, outOffset: number, outLength: number,
    password: ArrayBufferLike, passwordOffset: number, passwordLength: number,
    salt: ArrayBufferLike, saltOffset: number, saltLength: number,
    opslimit: number, memlimit: number, alg: number, done: (status: number) => void,
  ): void;
  crypto_pwhash_ALG_ARGON2ID13: number;
  crypto_pwhash_OPSLIMIT_MIN: number;
  crypto_pwhash_OPSLIMIT_MAX: number;
  crypto_pwhash_MEMLIMIT_MIN: number | bigint;
  crypto_pwhash_MEMLIMIT_MAX: number | bigint;
}

let native: NativeBinding | null | undefined;

/** sodium-native's binary (loaded directly, sodium.ts), when it has Argon2id; null otherwise
 * (then the WebAssembly fallback runs). */
function nativeBinding(): NativeBinding | null {
  if (native !== undefined) return native;
  const binding = nativeSodiumBinding() as Partial<NativeBinding> | null;
  native = typeof binding?.crypto_pwhash_async === 'function' && binding.crypto_pwhash_ALG_ARGON2ID13 === 2 ? binding as NativeBinding : null;
  return native;
}

/** The back-end argon2id uses on this installation: native when its binary loads. */
export function argon2Backend(): Argon2Backend {
  return nativeBinding() ? 'native' : 'wasm';
}

/** The derived 32-byte key, in an array of its own (the caller zeroes it: every caller does).
 * `backend` only for tests that prove both give the same bytes. */
export function argon2id(password: Uint8Array, salt: Uint8Array, params: Argon2Params, backend: Argon2Backend = argon2Backend()): Promise<Buffer> {
  if (backend === 'native') {
    const binding = nativeBinding();
    if (!binding) return Promise.reject(temporaryError('argon2', 'Le calcul de dérivation de la phrase de passe est indisponible sur ce poste. Réinstallez Pli.'));
    return nativeArgon2id(binding, password, salt, params);
  }
  return workerArgon2id(password, salt, params);
}

// The cause's words (a worker's error, often English, or a status code) are the detail only.
const failed = (detail?: string, cause?: unknown) =>
  temporaryError('argon2', "Le calcul qui protège la phrase de passe a échoué : rien n'a été fait. Réessayez ; si cela persiste, fermez des applications (il demande 64 Mo de mémoire) ou prévenez le support informatique.", cause, detail ? { system: detail } : {});

function nativeArgon2id(binding: NativeBinding, password: Uint8Array, salt: Uint8Array, params: Argon2Params): Promise<Buffer> {
  const memlimit = params.memlimitKib * 1024;
  // The binding aborts the process on a bad length (a C assert), where the WebAssembly build
  // throws: lengths and limits are checked here first, with the same outcome as the fallback.
  if (salt.byteLength !== SALT_BYTES || !Number.isInteger(params.opslimit) || !Number.isInteger(params.memlimitKib)
    || params.opslimit < binding.crypto_pwhash_OPSLIMIT_MIN || params.opslimit > binding.crypto_pwhash_OPSLIMIT_MAX
    || memlimit < Number(binding.crypto_pwhash_MEMLIMIT_MIN) || memlimit > Number(binding.crypto_pwhash_MEMLIMIT_MAX)) {
    return Promise.reject(failed('paramètres invalides'));
  }
  // Buffer.alloc (not allocUnsafe, not sodium_malloc): an ArrayBuffer of its own, outside Node's
  // shared pool, so the caller's fill(0) leaves no other copy. sodium_malloc's guarded pages would
  // be an external buffer, which Electron's memory cage refuses with an abort, not an exception.
  const key = Buffer.alloc(KEY_BYTES);
  return new Promise((resolve, reject) => {
    // The password is read in place by libsodium (no copy made here): the caller keeps it alive
    // until this promise settles, then zeroes it.
    binding.crypto_pwhash_async(
      key.buffer, key.byteOffset, KEY_BYTES,
      password.buffer, password.byteOffset, password.byteLength,
      salt.buffer, salt.byteOffset, salt.byteLength,
      params.opslimit, memlimit, binding.crypto_pwhash_ALG_ARGON2ID13,
      (status) => {
        if (status === 0) return resolve(key);
        key.fill(0);
        reject(failed(`code ${status}`));
      },
    );
  });
}

function workerArgon2id(password: Uint8Array, salt: Uint8Array, params: Argon2Params): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const entry = workerEntry('argon2', import.meta.url); // throws (rejects) if the file is missing
    // The password goes in an array of its own, moved to the worker (transferList), not serialized:
    // a Buffer made from a string is a slice of Node's shared 8 KiB pool, and a typed array is
    // cloned with its whole ArrayBuffer, so the pool (other data with it) would be copied into the
    // worker, which wipes only the password. Moved, it leaves no copy here; the worker zeroes it.
    const own = Uint8Array.from(password);
    // The salt is copied for the same reason (a slice would bring its whole buffer along).
    const job: Argon2Job = { password: own, salt: Uint8Array.from(salt), opslimit: params.opslimit, memlimitKib: params.memlimitKib };
    const worker = new Worker(entry.file, {
      eval: entry.eval,
      execArgv: entry.execArgv,
      workerData: job,
      transferList: [own.buffer],
      // The worker only runs libsodium: a small JavaScript heap is enough, and keeps the
      // process's peak memory down (the Argon2id memory itself is WebAssembly, outside it).
      resourceLimits: { maxOldGenerationSizeMb: 16, maxYoungGenerationSizeMb: 4, codeRangeSizeMb: 8 },
    });
    let settled = false;
    worker.once('message', (message: Argon2Answer) => {
      settled = true;
      // Resolve only once the worker is gone: its memory (64 MiB+ of WebAssembly) is returned
      // before the caller goes on, so the process never holds both at once (peak RSS).
      const done = worker.terminate().catch(() => 0);
      if ('key' in message) {
        // The key's memory was transferred from the worker: wrapped here, not copied, so the one
        // Buffer the caller gets (and zeroes after use: every caller does) is its only copy.
        const key = Buffer.from(message.key.buffer, message.key.byteOffset, message.key.byteLength);
        void done.then(() => resolve(key));
      } else void done.then(() => reject(failed(message.error)));
    });
    worker.once('error', (error) => {
      if (!settled) reject(failed(undefined, error));
    });
  });
}
