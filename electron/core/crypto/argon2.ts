// Argon2id (libsodium crypto_pwhash) run in a short-lived worker thread. WebAssembly memory never
// shrinks: running a 64 MiB-1 GiB hash in the main thread would keep that much resident for the
// life of the process; a worker's memory is returned when it ends.
import { Worker } from 'node:worker_threads';
import { temporaryError } from '../errors.js';
import { workerEntry } from '../workers.js';
import type { Argon2Answer, Argon2Job } from './argon2.worker.js';

export interface Argon2Params {
  /** Passes over memory (libsodium opslimit). */
  opslimit: number;
  /** Memory in KiB. */
  memlimitKib: number;
}

/** Protects private keys at rest: ~0.3 s here, part of every command's fixed cost. */
export const KEY_UNLOCK_PARAMS: Argon2Params = { opslimit: 3, memlimitKib: 64 * 1024 };
/** Password recipients of a container: stronger, it faces offline guessing by anyone holding the file. */
export const PASSWORD_RECIPIENT_PARAMS: Argon2Params = { opslimit: 3, memlimitKib: 256 * 1024 };
/** What a reader accepts in a container (format.md section 3). */
export const ACCEPTED = { minOps: 3, maxOps: 10, minMemKib: 64 * 1024, maxMemKib: 1024 * 1024 };

export function argon2id(password: Uint8Array, salt: Uint8Array, params: Argon2Params): Promise<Buffer> {
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
      } else void done.then(() => reject(temporaryError('argon2', `Le calcul de dérivation de la phrase de passe a échoué (${message.error}). Réessayez ; si cela persiste, vérifiez la mémoire disponible.`)));
    });
    worker.once('error', (error) => {
      if (!settled) reject(temporaryError('argon2', 'Le calcul de dérivation de la phrase de passe a échoué. Réessayez ; si cela persiste, vérifiez la mémoire disponible.', error));
    });
  });
}
