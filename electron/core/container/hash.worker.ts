// The writer's hash worker (sinks.ts, WorkerSha256): the SHA-256 of what is sealed, computed on
// its own thread while the main thread encrypts. Parts arrive moved (no copy), are hashed in
// order, and go back moved, so that the writer can count what is in flight (peak memory).
import { createHash } from 'node:crypto';
import { parentPort } from 'node:worker_threads';

/** 'digest' at the end; before it, batches of parts to hash, in order. */
export type HashRequest = 'digest' | Uint8Array[];

const port = parentPort!;
const hash = createHash('sha256');
port.on('message', (parts: HashRequest) => {
  if (parts === 'digest') {
    port.postMessage({ digest: hash.digest() });
    return;
  }
  for (const part of parts) hash.update(part);
  port.postMessage({ parts }, parts.map((p) => p.buffer as ArrayBuffer));
});
