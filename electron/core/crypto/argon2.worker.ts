// The Argon2id worker (argon2.ts): one derivation, one answer, then argon2.ts ends the thread,
// which returns its WebAssembly memory (64 MiB-1 GiB, never shrunk while the thread lives).
// The password is in workerData (a copy of this process's memory, never written anywhere) and
// the key goes back in the one message; neither is logged.
import { parentPort, workerData } from 'node:worker_threads';
import { getSodium } from './sodium.js';

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
const answer = (message: Argon2Answer): void => port.postMessage(message);

getSodium().then((sodium) => {
  const key = sodium.crypto_pwhash(32, job.password, job.salt, job.opslimit, job.memlimitKib * 1024, sodium.crypto_pwhash_ALG_ARGON2ID13);
  answer({ key });
}).catch((error: unknown) => answer({ error: error instanceof Error ? error.message : String(error) }));
