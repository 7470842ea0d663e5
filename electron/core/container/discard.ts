// Freeing buffers at once, or keeping a few for reuse, shared by the main thread and the workers
// (a module that imports only node:worker_threads, so that a worker loads little).
import { MessageChannel, type MessagePort } from 'node:worker_threads';

/** A Buffer over the same memory as `view` (what arrives from another thread is a Uint8Array). */
export function asBuffer(view: Uint8Array): Buffer {
  return Buffer.from(view.buffer, view.byteOffset, view.byteLength);
}

/** True when `view` is the whole of its memory, which can then move to another thread without
 * a copy and without detaching any other Buffer (a slice, or a small Buffer in Node's pool). */
export function ownsMemory(view: Uint8Array): boolean {
  return view.byteOffset === 0 && view.byteLength === view.buffer.byteLength && view.buffer instanceof ArrayBuffer;
}

// A port closed at both ends: what is transferred through it is dropped on the spot.
let shredder: MessagePort | null = null;

/**
 * Frees now the memory of those `views` that own theirs (ownsMemory; the others are left to the
 * collector), instead of whenever a garbage collection finds them. Each chunk a cipher makes is
 * an ArrayBuffer of its own: left to the collector, the 256 MiB of a large container start a
 * full collection of the heap every few tens of MiB (8-9 of them in one encryption of 256 MiB
 * from the command line), on the thread that also encrypts. Transferring a buffer to a closed
 * port detaches it and Node drops the message, which releases the memory at once. The views, and
 * any other view of the same memory, are empty afterwards: the caller hands them over.
 */
export function discard(views: readonly Uint8Array[]): void {
  const own = new Set<ArrayBuffer>();
  for (const view of views) if (ownsMemory(view)) own.add(view.buffer as ArrayBuffer);
  if (own.size === 0) return;
  if (!shredder) {
    const channel = new MessageChannel();
    channel.port2.close();
    channel.port1.close();
    shredder = channel.port1;
  }
  shredder.postMessage(null, [...own]);
}

/** Spare buffers kept per thread (the reader's plaintext, the writer's ciphertext): about what
 * one side has in motion. */
const MAX_SPARES = 4;

/** Keeps `part` in `spares` for reuse if there is room and it owns its memory (ownsMemory); says
 * whether it did. */
export function keepSpare(spares: Buffer[], part: Buffer): boolean {
  if (spares.length >= MAX_SPARES || !ownsMemory(part)) return false;
  spares.push(part);
  return true;
}

/** A spare of exactly `bytes`, taken out of `spares`, if there is one. */
export function takeSpare(spares: Buffer[], bytes: number): Buffer | undefined {
  const at = spares.findIndex((s) => s.length === bytes);
  return at < 0 ? undefined : spares.splice(at, 1)[0];
}
