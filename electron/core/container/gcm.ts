// AES-256-GCM over a container's 64 KiB chunks (docs/format.md section 7), writing into the
// caller's buffers. Two back-ends give the same bytes and the same refusals:
//   - 'addon': native/gcm.c, which calls the OpenSSL Node is built with (through the symbols Node
//     exports for addons) with one context per key and no allocation per chunk. Built by `npm ci`
//     (the optional dependency pli-native); about twice as fast as Node's API here (bench/README.md).
//   - 'node': Node's Cipher API, one cipher object per chunk, its output copied into the caller's
//     buffer: where the addon was not built or does not load (a runtime whose crypto library does
//     not export OpenSSL's symbols, such as Electron's BoringSSL), and when PLI_GCM=node asks for
//     it (tests and benchmarks compare both).
// The addon is checked against Node's API on a known chunk before it is first used: a build that
// disagrees is not used.
//
// Invariant (both back-ends): open() hands back no plaintext of a block unless every tag of it
// verified; on a failure the output buffer is zeroed and the failing chunk's position returned.
import { createCipheriv, createDecipheriv, createSecretKey, type KeyObject } from 'node:crypto';
import { createRequire } from 'node:module';
import { getSystemErrorName } from 'node:util';
// The chunk layout native/gcm.c also hard-codes (its CHUNK_PLAIN, TAG_BYTES, NONCE_BYTES).
import { CHUNK_PLAIN, CHUNK_SEALED, NONCE_BYTES, type FormatVersion } from './format.js';
import { prefixVersion } from './digest.js';

export type GcmBackend = 'addon' | 'node';

/** native/gcm.c's functions; it checks every length itself and throws a RangeError. */
interface Addon {
  context(key: Uint8Array, encrypt: boolean): object;
  close(context: object): void;
  seal(context: object, plain: Uint8Array, nonces: Uint8Array, out: Uint8Array): void;
  open(context: object, sealed: Uint8Array, nonces: Uint8Array, out: Uint8Array): number;
  /** native/stream.c (absent from a Windows build). */
  stream?(context: object, prefix: Uint8Array, fds: Int32Array, sizes: Float64Array, chunks: number, outFd: number, hashPrefix: Uint8Array, control: Int32Array, version: FormatVersion): Promise<Buffer>;
  /** native/reader.c (absent from a Windows build). */
  readerStart?(fd: number, start: number, chunks: number, prefix: Uint8Array, version: FormatVersion): object;
  readerOpen?(reader: object, context: object, head: Uint8Array, fds: Int32Array, sizes: Float64Array, control: Int32Array): Promise<Buffer>;
  readerClose?(reader: object): void;
  readerPrehashed?(reader: object): number;
}

/** A writer's stream for the addon to run whole (native/stream.c): the plaintext is `prefix`,
 * then each file's first `size` bytes read from `fd` with pread, then zeros to `chunks` whole
 * chunks; the sealed chunks are written at `outFd`'s current offset. */
export interface FileStream {
  prefix: Uint8Array;
  files: { fd: number; size: number }[];
  chunks: number;
  outFd: number;
  /** Hashed ahead of the sealed chunks (the signature's label and the header, digest.ts
   * signedPrefix), whose version says how the chunks are hashed (format.md 6 or 11). */
  hashPrefix: Uint8Array;
}

export interface RunningStream {
  /** The signature's digest (digest.ts) of hashPrefix and the sealed chunks, once the last one is written. Rejects with
   * an Error whose code is ERR_PLI_STREAM_SHORT (`source`: that file is shorter than its size),
   * ERR_PLI_STREAM_IO (`errno`, `syscall`), ERR_PLI_STREAM_STOPPED (after stop()), _MEMORY or _CRYPTO. */
  digest: Promise<Buffer>;
  /** Asks the stream to stop before its next block. */
  stop(): void;
  /** The writer's: the sender's key is unlocked (its Argon2id memory freed), the stream may use
   * its full ring (native/stream.c, RING_NARROW). A reader's stream starts after the unlock. */
  widen(): void;
  /** Chunks sealed and written so far. */
  chunksDone(): number;
}

/** Chunks per block of native/stream.c and native/reader.c (their BLOCK_CHUNKS): the addon counts blocks. */
const STREAM_BLOCK_CHUNKS = 16;

/** Whether the addon's streams may serve: not when PLI_STREAM=js asks for the JavaScript ones
 * (tests and benchmarks compare both). */
const addonStreams = (): boolean => process.env.PLI_STREAM !== 'js';

/** The addon's stream function, unless it lacks one (a Windows build) or PLI_STREAM=js. */
function addonStream(native: Addon | null): Addon['stream'] {
  return addonStreams() && typeof native?.stream === 'function' ? native.stream : undefined;
}

type ReaderAddon = Addon & Required<Pick<Addon, 'readerStart' | 'readerOpen' | 'readerClose' | 'readerPrehashed'>>;

/** The addon when it has the reader's stream, unless it lacks one (a Windows build) or PLI_STREAM=js. */
function addonReader(native: Addon | null): ReaderAddon | null {
  const has = native?.readerStart && native.readerOpen && native.readerClose && native.readerPrehashed;
  return addonStreams() && has ? (native as ReaderAddon) : null;
}

/** A control array for a stream of the addon: [0] stop asked (read by its threads before each
 * block), [1] blocks done (set by them), [2] widen (read by the writer; the reader, which starts
 * after the unlock, reads the first two only). Over an ArrayBuffer of its own: its memory is
 * outside the JavaScript heap from the start, never moved, and kept alive by the addon until the end. */
function runningStream(chunks: number, run: (control: Int32Array) => Promise<Buffer>): RunningStream {
  const control = new Int32Array(new ArrayBuffer(12));
  return {
    digest: run(control),
    stop: () => void Atomics.store(control, 0, 1),
    widen: () => void Atomics.store(control, 2, 1),
    chunksDone: () => Math.min(Atomics.load(control, 1) * STREAM_BLOCK_CHUNKS, chunks),
  };
}

/**
 * Awaits a stream of the addon, reporting its progress: 0 at once, then its counter every
 * 100 ms, then the total. A callback that throws stops the stream, and its error is the one
 * thrown; `stopped`, if set by then, is thrown instead of the stream's own error.
 */
export async function awaitStream(run: RunningStream, total: number, onProgress: ((done: number, total: number) => void) | undefined,
  stopped: () => { error: unknown } | undefined = () => undefined): Promise<Buffer> {
  try {
    onProgress?.(0, total);
  } catch (error) {
    run.stop();
    await run.digest.catch(() => {}); // nothing of it runs on once this returns
    throw error;
  }
  let progressFailed: { error: unknown } | undefined;
  const progress = onProgress
    ? setInterval(() => {
      try {
        onProgress(Math.min(run.chunksDone() * CHUNK_PLAIN, total), total);
      } catch (error) {
        progressFailed ??= { error };
        run.stop();
      }
    }, 100)
    : undefined;
  try {
    const digest = await run.digest;
    onProgress?.(total, total);
    return digest;
  } catch (error) {
    const failed = stopped() ?? progressFailed;
    if (failed) throw failed.error;
    throw error;
  } finally {
    clearInterval(progress);
  }
}

/** A failed system call of the addon (`errno` and `syscall` as it reports them) in Node's own
 * shape (code, errno, syscall), for faults.ts to classify. */
export function systemError(errno: number, syscall: string | undefined): Error {
  const code = getSystemErrorName(-errno);
  return Object.assign(new Error(`${code}: ${syscall ?? 'io'} failed`), { code, errno: -errno, syscall });
}

/**
 * The reader's stream of a large container opened into files, in the addon (native/reader.c),
 * started before the key exists: it pre-hashes the sealed chunks meanwhile (see reader.c).
 */
export interface FileReader {
  /** The signature's prefix it started the digest with. */
  readonly prefix: Uint8Array;
  /**
   * Opens every chunk with the payload key: the plaintext must begin with `head` (compared, not
   * written), then each file's `size` bytes (written at [0, size) of its `fd`), then zeros.
   * Its digest rejects with an Error whose code is ERR_PLI_READER_TRUNCATED, _TAG (`chunk`),
   * _CHANGED (`block`), _PADDING, _IO (`errno`, `syscall`), _STOPPED, _MEMORY or _CRYPTO. Once.
   */
  open(key: KeyObject, head: Uint8Array, files: { fd: number; size: number }[]): RunningStream;
  /** Stops the pre-hash (an open() running stops at its end). */
  close(): void;
  /** Blocks (of 16 chunks) pre-hashed so far: final once open() is called (tests, measurements). */
  prehashed(): number;
}

/** The addon's reader of `chunks` sealed chunks from `start` in `fd`, started now; null where the
 * addon has none (not built, Windows) or PLI_STREAM=js. `prefix`: the signature's label and header. */
export function startFileReader(fd: number, start: number, chunks: number, prefix: Uint8Array): FileReader | null {
  const native = addonReader(loadedAddon());
  if (!native) return null;
  let handle: object;
  try {
    handle = native.readerStart(fd, start, chunks, prefix, prefixVersion(prefix));
  } catch {
    return null; // no memory or thread for it now: the JavaScript path opens the container
  }
  return {
    prefix,
    open: (key, head, files) => {
      const context = withRawKey(key, (raw) => native.context(raw, false));
      // Closed at once: the addon wipes it when the reader is done with it.
      return runningStream(chunks, (control) => {
        try {
          return native.readerOpen(handle, context, head, Int32Array.from(files, (f) => f.fd), Float64Array.from(files, (f) => f.size), control);
        } finally {
          native.close(context);
        }
      });
    },
    close: () => native.readerClose(handle),
    prehashed: () => native.readerPrehashed(handle),
  };
}

/** Seals whole chunks: `plain` is count × 64 KiB, `nonces` count × 12 bytes, `out` at least count × (64 KiB + 16). */
export interface ChunkSealer {
  readonly backend: GcmBackend;
  seal(plain: Uint8Array, nonces: Uint8Array, out: Uint8Array): void;
  /** With the addon where it has native/stream.c (not on Windows), unless PLI_STREAM=js: runs a
   * whole stream from files (the same bytes as seal() block by block). No seal() or close() takes effect meanwhile: the
   * addon refuses the first and defers the second to the stream's end. */
  stream?(job: FileStream): RunningStream;
  /** Forgets the key now (the addon wipes its context). */
  close(): void;
}

/** Opens whole chunks: `sealed` is count × (64 KiB + 16), `out` at least count × 64 KiB. Returns
 * -1 when every tag verifies, else the position of the first chunk that fails (`out` then zeroed). */
export interface ChunkOpener {
  readonly backend: GcmBackend;
  open(sealed: Uint8Array, nonces: Uint8Array, out: Uint8Array): number;
  close(): void;
}

let addonFile: string | null | undefined;
let addon: Addon | null | undefined;

/**
 * The addon's file when it is built (null when it is not, or when PLI_GCM=node): worker threads
 * are given it (useGcmAddon), as they may run from a bundle that cannot resolve packages.
 */
export function gcmAddonFile(): string | null {
  if (addonFile !== undefined) return addonFile;
  addonFile = null;
  if (process.env.PLI_GCM === 'node') return addonFile;
  try {
    addonFile = createRequire(import.meta.url).resolve('pli-native/build/Release/pli_gcm.node');
  } catch {
    // not built: Node's API serves
  }
  return addonFile;
}

/** In a worker thread: the addon file its parent uses (gcmAddonFile), or null for Node's API. */
export function useGcmAddon(file: string | null): void {
  addonFile = file;
  addon = undefined;
}

function loadedAddon(): Addon | null {
  if (addon !== undefined) return addon;
  addon = null;
  const file = gcmAddonFile();
  if (!file) return addon;
  try {
    const candidate = createRequire(file)(file) as Addon;
    if (agreesWithNode(candidate)) addon = candidate;
  } catch {
    // does not load here (see the top): Node's API serves
  }
  return addon;
}

/** One chunk and its tag, sealed by both back-ends, and opened back by the addon. */
function agreesWithNode(candidate: Addon): boolean {
  const key = Buffer.alloc(32, 7);
  const nonces = Buffer.alloc(2 * NONCE_BYTES, 1);
  nonces[NONCE_BYTES + 11] = 2;
  const plain = Buffer.alloc(2 * CHUNK_PLAIN);
  for (let i = 0; i < plain.length; i++) plain[i] = (i * 31) & 0xff;
  const ours = Buffer.alloc(2 * CHUNK_SEALED);
  const theirs = Buffer.alloc(2 * CHUNK_SEALED);
  const sealer = candidate.context(key, true);
  candidate.seal(sealer, plain, nonces, ours);
  candidate.close(sealer);
  nodeSeal(createSecretKey(key), plain, nonces, theirs);
  const back = Buffer.alloc(2 * CHUNK_PLAIN);
  const opener = candidate.context(key, false);
  const result = candidate.open(opener, ours, nonces, back);
  const flip = (): void => void (ours[CHUNK_SEALED + 5] = ours[CHUNK_SEALED + 5]! ^ 1);
  flip();
  const refused = candidate.open(opener, ours, nonces, Buffer.alloc(2 * CHUNK_PLAIN));
  candidate.close(opener);
  flip();
  return ours.equals(theirs) && result === -1 && back.equals(plain) && refused === 1;
}

/** The back-end chunkSealer and chunkOpener use on this thread. */
export function gcmBackend(): GcmBackend {
  return loadedAddon() ? 'addon' : 'node';
}

/** Who runs the writer's stream of a large container made from files (seal.ts): the addon
 * (native/stream.c) where it has it, unless PLI_STREAM=js asks for the JavaScript one. */
export function sealStreamBackend(): 'addon' | 'javascript' {
  return addonStream(loadedAddon()) ? 'addon' : 'javascript';
}

/** Who opens a large container into files where no file's digest is asked (the command line):
 * the addon (native/reader.c) where it has it, unless PLI_STREAM=js asks for the JavaScript one. */
export function readerStreamBackend(): 'addon' | 'javascript' {
  return addonReader(loadedAddon()) ? 'addon' : 'javascript';
}

function counted(input: Uint8Array, nonces: Uint8Array, out: Uint8Array, inChunk: number, outChunk: number): number {
  const count = nonces.length / NONCE_BYTES;
  if (!Number.isInteger(count) || count < 1 || input.length !== count * inChunk || out.length < count * outChunk) {
    throw new RangeError('AES-GCM : tailles de blocs incohérentes');
  }
  return count;
}

function nodeSeal(key: KeyObject, plain: Uint8Array, nonces: Uint8Array, out: Uint8Array): void {
  const count = counted(plain, nonces, out, CHUNK_PLAIN, CHUNK_SEALED);
  for (let c = 0; c < count; c++) {
    const cipher = createCipheriv('aes-256-gcm', key, nonces.subarray(c * NONCE_BYTES, (c + 1) * NONCE_BYTES));
    out.set(cipher.update(plain.subarray(c * CHUNK_PLAIN, (c + 1) * CHUNK_PLAIN)), c * CHUNK_SEALED);
    cipher.final();
    out.set(cipher.getAuthTag(), c * CHUNK_SEALED + CHUNK_PLAIN);
  }
}

function nodeOpen(key: KeyObject, sealed: Uint8Array, nonces: Uint8Array, out: Uint8Array): number {
  const count = counted(sealed, nonces, out, CHUNK_SEALED, CHUNK_PLAIN);
  for (let c = 0; c < count; c++) {
    const chunk = sealed.subarray(c * CHUNK_SEALED, (c + 1) * CHUNK_SEALED);
    const decipher = createDecipheriv('aes-256-gcm', key, nonces.subarray(c * NONCE_BYTES, (c + 1) * NONCE_BYTES));
    decipher.setAuthTag(chunk.subarray(CHUNK_PLAIN));
    out.set(decipher.update(chunk.subarray(0, CHUNK_PLAIN)), c * CHUNK_PLAIN);
    try {
      decipher.final();
    } catch {
      out.fill(0, 0, count * CHUNK_PLAIN);
      return c;
    }
  }
  return -1;
}

/** The addon, or null for Node's API: `backend` asks for one (tests compare both); without it,
 * the addon when it loads. */
function chosen(backend?: GcmBackend): Addon | null {
  if (backend === 'node') return null;
  const native = loadedAddon();
  if (!native && backend === 'addon') throw new Error("AES-GCM : le module natif (pli-native) n'est pas construit ou ne se charge pas");
  return native;
}

/** `key`: the payload key (its bytes are copied into the back-end; the caller keeps its own). */
export function chunkSealer(key: KeyObject, backend?: GcmBackend): ChunkSealer {
  const native = chosen(backend);
  if (!native) return { backend: 'node', seal: (plain, nonces, out) => nodeSeal(key, plain, nonces, out), close: () => {} };
  const context = withRawKey(key, (raw) => native.context(raw, true));
  const sealer: ChunkSealer = { backend: 'addon', seal: (plain, nonces, out) => native.seal(context, plain, nonces, out), close: () => native.close(context) };
  const stream = addonStream(native);
  if (!stream) return sealer;
  return {
    ...sealer,
    stream: (job) => runningStream(job.chunks, (control) => {
      const fds = Int32Array.from(job.files, (f) => f.fd);
      const sizes = Float64Array.from(job.files, (f) => f.size);
      return stream.call(native, context, job.prefix, fds, sizes, job.chunks, job.outFd, job.hashPrefix, control, prefixVersion(job.hashPrefix));
    }),
  };
}

export function chunkOpener(key: KeyObject, backend?: GcmBackend): ChunkOpener {
  const native = chosen(backend);
  if (!native) return { backend: 'node', open: (sealed, nonces, out) => nodeOpen(key, sealed, nonces, out), close: () => {} };
  const context = withRawKey(key, (raw) => native.context(raw, false));
  return { backend: 'addon', open: (sealed, nonces, out) => native.open(context, sealed, nonces, out), close: () => native.close(context) };
}

/** The key's bytes, wiped once the addon has its own copy. */
function withRawKey<T>(key: KeyObject, use: (raw: Buffer) => T): T {
  const raw = key.export();
  try {
    return use(raw);
  } finally {
    raw.fill(0);
  }
}
