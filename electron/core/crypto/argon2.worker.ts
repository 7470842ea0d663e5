// The Argon2id worker of the WebAssembly back-end (argon2.ts: the fallback where sodium-native
// does not load): one derivation, one answer, then argon2.ts ends the thread,
// which returns its WebAssembly memory (64 MiB-1 GiB, never shrunk while the thread lives).
// The password is in workerData (a copy of this process's memory, never written anywhere) and
// the key goes back in the one message; neither is logged.
// Ending a thread releases its memory without zeroing it, so before answering the worker wipes
// what it holds: its copy of the password, and its whole WebAssembly heap (the wrapper's copies of
// password and key, the C stack, and the Argon2id blocks, from which the key can be recomputed
// and which libsodium frees without clearing). The key array itself is transferred, not copied.
import { parentPort, workerData } from 'node:worker_threads';
import { getSodium, wipeWholeHeap } from './sodium.js';

export interface Argon2Job {
  password: Uint8Array;
  salt: Uint8Array;
  opslimit: number;
  memlimitKib: number;
}

export type Argon2Answer = { key: Uint8Array } | { error: string };

if (!parentPort) throw new Error('argon2.worker.js runs only as a worker thread (argon2.ts starts it); import its types only.');
const port = parentPort;
const job = workerData as Argon2Job;

getSodium().then((sodium) => {
  let key: Uint8Array;
  try {
    key = sodium.crypto_pwhash(32, job.password, job.salt, job.opslimit, job.memlimitKib * 1024, sodium.crypto_pwhash_ALG_ARGON2ID13);
  } finally {
    job.password.fill(0);
    wipeWholeHeap(sodium); // the instance is dead from here on: this thread only answers and ends
  }
  // Transferred, not copied: the worker keeps no copy (its view is detached); the caller zeroes it.
  port.postMessage({ key } satisfies Argon2Answer, [key.buffer as ArrayBuffer]);
}).catch((error: unknown) => {
  job.password.fill(0);
  port.postMessage({ error: error instanceof Error ? error.message : String(error) } satisfies Argon2Answer);
});
