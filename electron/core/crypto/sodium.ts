// libsodium (sumo build: the standard build has no crypto_pwhash at run time) for Ed25519 with
// strict verification and for the AEAD that protects private keys at rest. The bulk of a
// container is carried by node:crypto AES-256-GCM instead (about 3x faster here).
// Loaded on first use, not at start-up: its WebAssembly instance (~14 MiB) is then never
// resident at the same time as the Argon2id worker that runs before it (peak memory).
type SodiumModule = typeof import('libsodium-wrappers-sumo');
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
