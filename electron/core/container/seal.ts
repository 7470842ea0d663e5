// Writing a container (docs/format.md). One pass: plaintext is read in large blocks, cut into
// 64 KiB chunks, sealed with AES-256-GCM, hashed for the signature and written. A large payload
// read from files into a file is streamed by the addon (native/stream.c: C on a pool thread, the
// hash on a second native thread); otherwise by sealInJavaScript, with the next read and the
// previous write in flight while a block is encrypted and, for a large payload, the hash on a
// worker thread (sinks.ts, sha256Stream), on the second core. Both write the same bytes.
import { createSecretKey } from 'node:crypto';
import { constants, rmSync } from 'node:fs';
import { copyFile, link, lstat, open, rm, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import { encodeHeaderForCommitment, chunkNonce, xwingWrapInfo, CHUNK_PLAIN, CHUNK_SEALED, CONTAINER_ID_BYTES, MAX_CHUNKS, NONCE_BYTES, WRITE_VERSION, type FormatVersion, type Header, type RecipientEntry } from './format.js';
import { signedPrefix } from './digest.js';
import { encodeManifest, mediaTypeFor, type Manifest, type ManifestConvention } from './manifest.js';
import { hkdf, hmacSha256, random, wrapKey } from '../crypto/primitives.js';
import { KDF_INFO } from '../crypto/labels.js';
import { awaitStream, chunkSealer, systemError, type ChunkSealer } from './gcm.js';
import { ed25519Sign, wrapForXWing } from '../crypto/keys.js';
import { argon2id, PASSWORD_RECIPIENT_PARAMS, type Argon2Params } from '../crypto/argon2.js';
import { inputError } from '../errors.js';
import { readFault, writeFault } from '../faults.js';
import { base32Decode, ID_BYTES } from '../../../shared/ids.js';
import { OFF_THREAD_HASH_BYTES, registerTemporary, sha256Stream } from './sinks.js';
import { MAX_RECIPIENTS, createdProblem } from './limits.js';

/** Chunks per read/encrypt/write block: 1 MiB, large reads and few system calls, yet small enough
 * to stay in the CPU caches from one stage to the next (measured faster here than 4 MiB). */
const BLOCK_CHUNKS = 16;
/** Bytes written between two background data syncs of the output file (sealToFile). */
const FLUSH_BYTES = 32 * 1024 * 1024;

export interface PlainSource {
  name: string;
  size: number;
  mtime: number | null;
  /** Fills `target` from `position`; returns the bytes read (0 at the end). */
  read(target: Buffer, offset: number, length: number, position: number): Promise<number>;
  /** The file's descriptor, open as long as the source: the addon's stream reads the same bytes
   * from it (pread, from 0 to `size`) instead of calling read(). */
  fd?: number;
  close(): Promise<void>;
}

export interface CipherSink {
  /** Writes `parts`; must not keep them once resolved (they are then handed to the hash worker). */
  write(parts: Buffer[]): Promise<void>;
  /** A file descriptor at whose current offset the addon's stream may write the sealed chunks
   * itself (write(2)), once every write() before has resolved; write() then goes on after them. */
  fd?: number;
}

export interface RecipientKey { keyFpr: Buffer; publicKey: Uint8Array }

export type Recipients =
  | { kind: 'keys'; keys: RecipientKey[] }
  | { kind: 'password'; password: Uint8Array; params?: Argon2Params };

export interface SealParams {
  senderId: string;
  /**
   * The sender's signing key. `secretKey` may still be on its way (the unlock's Argon2id): the
   * payload needs no secret of the sender's, so it is read, encrypted, hashed and written
   * meanwhile, on the core Argon2id leaves idle, and only the signature at the end waits for the
   * key. If it fails, the stream stops at its next block and the failure is thrown (nothing kept:
   * sealToFile deletes its temporary file). `keyFpr` goes into the header first: the caller
   * checks that the key it gets is this one.
   */
  signing: { keyFpr: Buffer; secretKey: Uint8Array | Promise<Uint8Array> };
  recipients: Recipients;
  createdMs?: number;
  /** Sent under a convention: goes into the signed manifest (minor version 1, docs/format.md 5.3). */
  convention?: ManifestConvention;
  onProgress?: (doneBytes: number, totalBytes: number) => void;
  /** The format version to write: WRITE_VERSION unless a test or a vector asks for another
   * (every Pli reads both, docs/format.md 11). */
  version?: FormatVersion;
  /** Fixed randomness, for reproducible test vectors only. */
  fixed?: { containerId: Buffer; fileKey: Buffer; eseeds?: Buffer[]; salt?: Buffer };
}

export interface SealResult {
  containerId: Buffer;
  createdMs: number;
  chunks: number;
  /** Size of the container in bytes. */
  size: number;
  recipientFprs: Buffer[];
}

export async function sealStream(sources: PlainSource[], sink: CipherSink, params: SealParams): Promise<SealResult> {
  const senderId = base32Decode(params.senderId, ID_BYTES);
  if (!senderId) throw new Error('invalid sender id');
  const containerId = params.fixed?.containerId ?? random(CONTAINER_ID_BYTES);
  const fileKey = params.fixed?.fileKey ?? random(32);
  const createdMs = params.createdMs ?? Date.now();
  // The writer refuses what a reader would refuse, with the reader's own bounds (limits.ts).
  if (params.recipients.kind === 'keys' && params.recipients.keys.length > MAX_RECIPIENTS) {
    throw inputError('too-many-recipients', `Trop de destinataires pour un seul pli : ${params.recipients.keys.length}, pour ${MAX_RECIPIENTS} au plus. Répartissez l'envoi en plusieurs plis (par exemple un par service ou par commune), chacun de ${MAX_RECIPIENTS} destinataires au plus.`);
  }
  if (createdProblem(createdMs)) {
    throw inputError('bad-clock', "La date et l'heure de ce poste sont incorrectes : aucun destinataire ne pourrait ouvrir ce pli. Corrigez la date et l'heure du poste, puis recommencez.");
  }

  const manifest: Manifest = {
    v: 1,
    sender: params.senderId,
    files: sources.map((s) => ({ name: s.name, type: mediaTypeFor(s.name), size: s.size, mtime: s.mtime })),
    ...(params.convention ? { convention: params.convention } : {}),
  };
  const manifestBytes = encodeManifest(manifest);
  const prefix = Buffer.alloc(4 + manifestBytes.length);
  prefix.writeUInt32BE(manifestBytes.length, 0);
  manifestBytes.copy(prefix, 4);

  const plainLength = prefix.length + sources.reduce((sum, s) => sum + s.size, 0);
  const chunks = Math.max(1, Math.ceil(plainLength / CHUNK_PLAIN));
  if (chunks > MAX_CHUNKS) throw inputError('too-large', 'Les fichiers sont trop volumineux pour un seul pli.');

  const recipients = await wrapForRecipients(params, containerId, fileKey);
  const header: Header = { version: params.version ?? WRITE_VERSION, containerId, createdMs, senderId: Buffer.from(senderId), senderSigFpr: params.signing.keyFpr, recipients };
  const committed = encodeHeaderForCommitment(header);
  const commitKey = hkdf(fileKey, containerId, KDF_INFO.commit);
  const payloadBytes = hkdf(fileKey, containerId, KDF_INFO.payload);
  fileKey.fill(0);
  // One key object for the 4 096 ciphers of 256 MiB: each would otherwise import the raw key
  // again; its bytes then live only in native memory.
  const payloadKey = createSecretKey(payloadBytes);
  payloadBytes.fill(0);
  const sealer = chunkSealer(payloadKey);
  const headerBytes = Buffer.concat([committed, hmacSha256(commitKey, committed)]);
  commitKey.fill(0);

  const secretKey = Promise.resolve(params.signing.secretKey);
  const unlock: Unlock = {};
  secretKey.then(() => {
    unlock.done = true;
    unlock.onDone?.();
  }, (error: unknown) => {
    unlock.failed = { error };
    unlock.onFailure?.();
  });
  const hashPrefix = signedPrefix(headerBytes);
  const body: Body = { sources, sink, prefix, chunks, plainLength, hashPrefix, unlock, onProgress: params.onProgress };
  let hash: Buffer;
  try {
    // The header first, whichever path streams the payload after it.
    await sink.write([headerBytes]);
    const stream = nativeStream(sealer, body);
    hash = stream ? await sealNatively(stream, body) : await sealInJavaScript(sealer, body);
  } finally {
    sealer.close();
    await Promise.all(sources.map((s) => s.close()));
  }
  const signature = await ed25519Sign(await secretKey, hash);
  await sink.write([Buffer.from(signature)]);
  return {
    containerId, createdMs, chunks,
    size: headerBytes.length + chunks * (CHUNK_PLAIN + 16) + 64,
    recipientFprs: recipients.flatMap((r) => (r.type === 'xwing' ? [r.keyFpr] : [])),
  };
}

/** Whether the sender's unlock is done or failed, and who to tell when it is. */
interface Unlock { done?: boolean; onDone?: () => void; failed?: { error: unknown }; onFailure?: () => void }

/** What the payload's stream needs, whichever path runs it. */
interface Body {
  sources: PlainSource[];
  sink: CipherSink;
  /** The plaintext ahead of the files: the manifest and its length. */
  prefix: Buffer;
  chunks: number;
  plainLength: number;
  /** Hashed ahead of the chunks for the signature: its label and the header (digest.ts). */
  hashPrefix: Buffer;
  unlock: Unlock;
  onProgress?: (doneBytes: number, totalBytes: number) => void;
}

/**
 * The addon's stream (native/stream.c) when it can run this payload: a large one (below
 * OFF_THREAD_HASH_BYTES the JavaScript path starts no thread and is as fast), read from files and
 * written to a file, with a sealer that has it (gcm.ts: the addon built here, PLI_STREAM not
 * `js`). Both write the same bytes.
 */
function nativeStream(sealer: ChunkSealer, body: Body): ChunkSealer['stream'] {
  if (body.plainLength <= OFF_THREAD_HASH_BYTES) return undefined;
  if (body.sink.fd === undefined || body.sources.some((s) => s.fd === undefined)) return undefined;
  return sealer.stream;
}

async function sealNatively(stream: NonNullable<ChunkSealer['stream']>, body: Body): Promise<Buffer> {
  const { sources, sink, unlock, onProgress, plainLength } = body;
  if (unlock.failed) throw unlock.failed.error;
  const run = stream({
    prefix: body.prefix, files: sources.map((s) => ({ fd: s.fd!, size: s.size })), chunks: body.chunks, outFd: sink.fd!, hashPrefix: body.hashPrefix,
  });
  // A failed unlock stops the stream before its next block, as the JavaScript path does; so does
  // a progress callback that throws (there, its error would reach the stream too). A done one
  // lets it use its full ring: until then the unlock's Argon2id memory is in use too.
  unlock.onFailure = () => run.stop();
  unlock.onDone = () => run.widen();
  if (unlock.done) run.widen();
  try {
    // (unlock.failed may be set meanwhile by the handler above: the check before does not hold.)
    return await awaitStream(run, plainLength, onProgress, () => unlock.failed as Unlock['failed']);
  } catch (error) {
    throw streamError(error, sources);
  } finally {
    unlock.onFailure = undefined;
    unlock.onDone = undefined;
  }
}

/** The addon stream's failures, as the JavaScript path reports them. */
function streamError(error: unknown, sources: PlainSource[]): unknown {
  const e = error as { code?: string; source?: number; errno?: number; syscall?: string };
  if (e.code === 'ERR_PLI_STREAM_SHORT') return fileChanged(sources[e.source ?? -1]?.name ?? '?');
  if (e.code === 'ERR_PLI_STREAM_IO' && typeof e.errno === 'number') return systemError(e.errno, e.syscall);
  return error;
}

const fileChanged = (name: string) =>
  inputError('file-changed', `Le fichier « ${name} » a raccourci pendant le chiffrement : fermez le logiciel qui le modifie puis recommencez.`);

/** The stream in JavaScript: this thread reads, seals and writes, with the next read and the
 * previous write in flight; a large payload's digest runs on a worker thread (sinks.ts,
 * sha256Stream), on the second core. */
async function sealInJavaScript(sealer: ChunkSealer, body: Body): Promise<Buffer> {
  const { sources, sink, prefix, chunks, plainLength, unlock, onProgress } = body;
  const digest = sha256Stream(plainLength, body.hashPrefix);
  try {
    const reader = new PlainReader(prefix, sources);
    // Sized to the payload: a small container does not pay for zeroing two 4 MiB blocks.
    const blockBytes = Math.min(chunks, BLOCK_CHUNKS) * CHUNK_PLAIN;
    const buffers = [Buffer.alloc(blockBytes), Buffer.alloc(chunks > BLOCK_CHUNKS ? blockBytes : 0)];
    const nonces = Buffer.alloc(BLOCK_CHUNKS * NONCE_BYTES);
    let index = 0;
    let which = 0;
    let pendingWrite: Promise<void> = Promise.resolve();
    let nextRead = reader.fill(buffers[0]!, Math.min(chunks, BLOCK_CHUNKS) * CHUNK_PLAIN);
    nextRead.catch(() => {}); // awaited below; this only keeps an early exit from leaving it unhandled
    while (index < chunks) {
      await nextRead;
      // A failed unlock stops the stream here, rather than after the whole payload.
      if (unlock.failed) throw unlock.failed.error;
      const block = buffers[which]!;
      const blockChunks = Math.min(chunks - index, BLOCK_CHUNKS);
      const following = Math.min(chunks - index - blockChunks, BLOCK_CHUNKS);
      // The other buffer was fully consumed by the (synchronous) encryption of the previous
      // block: the next read can fill it while this block is encrypted and written.
      which ^= 1;
      if (following > 0) {
        nextRead = reader.fill(buffers[which]!, following * CHUNK_PLAIN);
        nextRead.catch(() => {});
      }
      for (let c = 0; c < blockChunks; c++, index++) {
        chunkNonce(index, index === chunks - 1, nonces.subarray(c * NONCE_BYTES, (c + 1) * NONCE_BYTES));
      }
      // Its own memory, entirely overwritten (a block hashed already, or new): it can move to the
      // hash worker without a copy.
      const outBytes = blockChunks * CHUNK_SEALED;
      const out = [digest.spare(outBytes) ?? Buffer.allocUnsafeSlow(outBytes)];
      sealer.seal(block.subarray(0, blockChunks * CHUNK_PLAIN), nonces.subarray(0, blockChunks * NONCE_BYTES), out[0]!);
      await pendingWrite;
      // Hashed once written: digest.update() takes the parts (they may move to the worker thread).
      pendingWrite = sink.write(out).then(() => digest.update(out));
      pendingWrite.catch(() => {});
      onProgress?.(Math.min(index * CHUNK_PLAIN, plainLength), plainLength);
    }
    await pendingWrite;
    return await digest.digest();
  } finally {
    await digest.close();
  }
}

async function wrapForRecipients(params: SealParams, containerId: Buffer, fileKey: Buffer): Promise<RecipientEntry[]> {
  const spec = params.recipients;
  if (spec.kind === 'password') {
    const salt = params.fixed?.salt ?? random(16);
    const argon = spec.params ?? PASSWORD_RECIPIENT_PARAMS;
    const passwordKey = await argon2id(spec.password, salt, argon);
    const kek = hkdf(passwordKey, containerId, KDF_INFO.wrapPassword);
    passwordKey.fill(0);
    const wrapped = wrapKey(kek, fileKey);
    kek.fill(0);
    return [{ type: 'password', salt, opslimit: argon.opslimit, memlimitKib: argon.memlimitKib, wrapped }];
  }
  const seen = new Set<string>();
  const keys = spec.keys.filter((k) => {
    const hex = k.keyFpr.toString('hex');
    if (seen.has(hex)) return false;
    seen.add(hex);
    return true;
  });
  if (keys.length === 0) throw inputError('no-recipient', 'Aucun destinataire : indiquez au moins une personne à qui adresser le pli.');
  if (keys.length > 1024) throw inputError('too-many-recipients', 'Trop de destinataires (1024 au plus).');
  const entries: RecipientEntry[] = [];
  for (const [i, key] of keys.entries()) {
    entries.push({ type: 'xwing', keyFpr: key.keyFpr, ...await wrapForXWing(key.publicKey, fileKey, containerId, xwingWrapInfo(key.keyFpr), params.fixed?.eseeds?.[i]) });
  }
  return entries;
}

/** Serves the plaintext stream: length-prefixed manifest, each file in turn, then zero padding. */
class PlainReader {
  private sourceIndex = -1;
  private position = 0;
  constructor(private readonly prefix: Buffer, private readonly sources: PlainSource[]) {}

  async fill(target: Buffer, length: number): Promise<void> {
    let offset = 0;
    while (offset < length) {
      if (this.sourceIndex === -1) {
        const n = Math.min(length - offset, this.prefix.length - this.position);
        this.prefix.copy(target, offset, this.position, this.position + n);
        offset += n;
        this.position += n;
        if (this.position === this.prefix.length) this.next();
        continue;
      }
      const source = this.sources[this.sourceIndex];
      if (!source) {
        target.fill(0, offset, length); // padding to a whole chunk
        return;
      }
      const want = Math.min(length - offset, source.size - this.position);
      const got = want > 0 ? await source.read(target, offset, want, this.position) : 0;
      if (want > 0 && got === 0) {
        throw fileChanged(source.name);
      }
      offset += got;
      this.position += got;
      if (this.position === source.size) this.next();
    }
  }

  private next(): void {
    this.sourceIndex++;
    this.position = 0;
    while (this.sources[this.sourceIndex]?.size === 0) this.sourceIndex++;
  }
}

export async function fileSources(paths: string[]): Promise<PlainSource[]> {
  const sources: PlainSource[] = [];
  try {
    for (const file of paths) {
      let info;
      try {
        info = await stat(file);
      } catch (error) {
        throw readFault(file, error);
      }
      if (!info.isFile()) throw inputError('not-a-file', `${file} n'est pas un fichier ordinaire : seuls des fichiers peuvent être mis dans un pli.`);
      let handle;
      try {
        handle = await open(file, 'r');
      } catch (error) {
        throw readFault(file, error); // never blamed on the container's folder
      }
      sources.push({
        name: path.basename(file).normalize('NFC'),
        size: info.size,
        mtime: Math.floor(info.mtimeMs),
        read: async (target, offset, length, position) => (await handle.read(target, offset, length, position)).bytesRead,
        fd: handle.fd,
        close: () => handle.close(),
      });
    }
  } catch (error) {
    await Promise.all(sources.map((s) => s.close()));
    throw error;
  }
  return sources;
}

export function memorySources(files: { name: string; data: Buffer; mtime?: number | null }[]): PlainSource[] {
  return files.map((f) => ({
    name: f.name,
    size: f.data.length,
    mtime: f.mtime ?? null,
    read: async (target, offset, length, position) => f.data.copy(target, offset, position, position + length),
    close: async () => {},
  }));
}

const exists = (output: string) =>
  inputError('exists', `Le fichier ${output} existe déjà : il n'a pas été remplacé. Choisissez un autre nom, ou déplacez ce fichier.`, { path: output });

/**
 * Seals files into `output`, written under a temporary name in the same folder and given its name
 * only when complete. Never replaces anything: an existing name (a file, a folder, a symlink, even
 * dangling) is refused before any work, and the final link() fails rather than replace a file
 * that appeared meanwhile.
 */
export async function sealToFile(paths: string[], output: string, params: SealParams): Promise<SealResult> {
  if (await lstat(output).then(() => true, () => false)) throw exists(output);
  const sources = await fileSources(paths);
  const temporary = `${output}.${random(6).toString('hex')}.part`;
  // A signal (Ctrl-C) while sealing: the command line deletes the partial file (sinks.ts).
  const unregister = registerTemporary(() => rmSync(temporary, { force: true }));
  let handle;
  try {
    handle = await open(temporary, 'wx', 0o644);
  } catch (error) {
    unregister();
    await Promise.all(sources.map((s) => s.close()));
    throw writeFault(output, error);
  }
  const fh = handle;
  // Every FLUSH_BYTES, a data sync starts in the background: the disk writes while the next blocks
  // are encrypted, and the final sync has only the tail left to do.
  let unflushed = 0;
  let flushing: Promise<void> | null = null;
  let flushed: Promise<void> = Promise.resolve();
  const write = async (parts: Buffer[]): Promise<void> => {
    await fh.writev(parts);
    for (const part of parts) unflushed += part.length;
    if (unflushed >= FLUSH_BYTES && !flushing) {
      unflushed = 0;
      const previous = flushed;
      flushing = fh.datasync().finally(() => { flushing = null; });
      flushed = flushing.then(() => previous); // an error is kept for the end
      flushed.catch(() => {});
    }
  };
  try {
    const result = await sealStream(sources, { write, fd: fh.fd }, params);
    await flushed;
    await fh.sync();
    await fh.close();
    await placeNew(temporary, output);
    return result;
  } catch (error) {
    await fh.close().catch(() => {});
    await rm(temporary, { force: true });
    throw atOutput(error, output);
  } finally {
    unregister();
  }
}

/** A failed write to the container is given its path (a write through a handle, or the addon's,
 * carries none), so that its words say where: a full disk, a file too big for a FAT32 key. */
function atOutput(error: unknown, output: string): unknown {
  const e = error as { code?: unknown; path?: unknown; syscall?: unknown } | null;
  const writing = typeof e?.syscall === 'string' && ['write', 'writev', 'fsync', 'fdatasync'].includes(e.syscall);
  if (e && typeof e === 'object' && typeof e.code === 'string' && e.path === undefined && writing) e.path = output;
  return error;
}

/** Gives `temporary` the name `output` without ever replacing a file there, then drops the temporary name. */
async function placeNew(temporary: string, output: string): Promise<void> {
  try {
    await link(temporary, output);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') throw exists(output);
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EXDEV' && code !== 'ENOSYS') throw error;
    // File systems without hard links (FAT/exFAT USB keys): exclusive copy (O_EXCL) instead.
    try {
      await copyFile(temporary, output, constants.COPYFILE_EXCL);
    } catch (copyError) {
      if ((copyError as NodeJS.ErrnoException).code === 'EEXIST') throw exists(output);
      throw copyError;
    }
  }
  await unlink(temporary);
}

export async function sealToBuffer(files: { name: string; data: Buffer; mtime?: number | null }[], params: SealParams): Promise<{ bytes: Buffer; result: SealResult }> {
  const parts: Buffer[] = [];
  const result = await sealStream(memorySources(files), { write: async (p) => { parts.push(...p.map((b) => Buffer.from(b))); } }, params);
  return { bytes: Buffer.concat(parts), result };
}
