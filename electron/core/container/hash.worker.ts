// The writer's hash worker (sinks.ts, WorkerSha256): the signature's digest of what is sealed (digest.ts), computed on
// its own thread while the main thread encrypts. Parts arrive moved (no copy) and are hashed in
// order; their memory is then freed here at once (discard), and only their size goes back, so
// that the writer can count what is in flight (peak memory). Neither thread's collector ever sees
// the 256 MiB of a large container go by.
import { parentPort } from 'node:worker_threads';
import { ContainerDigest } from './digest.js';

/** The signature's prefix first (digest.ts), then batches of parts to hash, in order, then 'digest'. */
export type HashRequest = { prefix: Uint8Array } | 'digest' | Uint8Array[];
/** Per batch, the bytes hashed and the parts themselves; at the end, the digest. */
export type HashedAnswer = { hashed: number; parts: Uint8Array[] };
export type HashAnswer = HashedAnswer | { digest: Uint8Array };

const port = parentPort!;
let hash: ContainerDigest | null = null;
const answer = (m: HashAnswer): void => port.postMessage(m);
port.on('message', (parts: HashRequest) => {
  if (!Array.isArray(parts) && parts !== 'digest') {
    hash = new ContainerDigest(parts.prefix);
    return;
  }
  if (!hash) throw new Error('hash worker: no prefix');
  if (parts === 'digest') return answer({ digest: hash.digest() });
  let hashed = 0;
  for (const part of parts) {
    hash.update(part);
    hashed += part.byteLength;
  }
  port.postMessage({ hashed, parts } satisfies HashAnswer, parts.map((part) => part.buffer as ArrayBuffer));
});
