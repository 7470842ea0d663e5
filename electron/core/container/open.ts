// Reading a container (docs/format.md section 7). Nothing is released before every chunk tag,
// the key commitment and the sender's signature have verified: plaintext goes to a sink that
// commits (moves files into place) only at the very end, and is discarded on any failure.
import { createSecretKey, type KeyObject } from 'node:crypto';
import { chunkCountFor, chunkNonce, parseHeader, parsePreamble, CHUNK_PLAIN, CHUNK_SEALED, PREAMBLE_BYTES, SIGNATURE_BYTES, type ParsedHeader } from './format.js';
import { decodeManifest, MAX_MANIFEST, type Manifest } from './manifest.js';
import { equalConstantTime, hkdf, hmacSha256 } from '../crypto/primitives.js';
import { signedPrefix } from './digest.js';
import { KDF_INFO } from '../crypto/labels.js';
import { ed25519Verify } from '../crypto/keys.js';
import { securityError } from '../errors.js';
import { base32Encode } from '../../../shared/ids.js';
import { BLOCK_CHUNKS, blockOpener, ChangedWhileReadingError, ChunkTagError, NONCE_BYTES, type OpenerThread } from './opener.js';
import { awaitStream, chunkOpener, systemError, type FileReader } from './gcm.js';

/** Sealed blocks kept for reuse: as many as are in motion at once (see openStream). */
const MAX_SPARE_BLOCKS = 4;

export interface CipherSource {
  size: number;
  read(target: Buffer, offset: number, length: number, position: number): Promise<number>;
}

export interface PlainSink {
  begin(manifest: Manifest): Promise<void>;
  /** Appends to file `index` of the manifest. The parts are lent: the sink must not keep
   * them (nor any view of their memory) once the returned promise has settled. */
  write(index: number, parts: Buffer[]): Promise<void>;
  commit(): Promise<void>;
  abort(): Promise<void>;
  /** After begin(): every file of the manifest that is not empty, in order, created now for the
   * addon's reader to write itself (instead of write()), with the sink's wording of a failed
   * write; or null when the sink must see the bytes (digests, MACs): write() then serves. */
  direct?(): Promise<DirectFiles | null>;
}

export interface DirectFiles {
  files: { fd: number; size: number }[];
  fault(error: unknown): unknown;
}

export interface Signer { identityId: string; publicKey: Uint8Array }

export interface OpenCallbacks {
  /** Returns the known owner of the signing key, or throws a security error (unknown sender). */
  resolveSigner(header: ParsedHeader): Promise<Signer>;
  /** Returns the file key from the entry addressed to the reader, or throws (not addressed). */
  unwrapFileKey(header: ParsedHeader): Promise<Buffer>;
  onProgress?: (doneBytes: number, totalBytes: number) => void;
  /** The block worker, if the caller started it early (opener.ts startOpenerThread). */
  openerThread?: OpenerThread | null;
  /** The addon's reader, if the caller started it early (gcm.ts startFileReader): it opens the
   * payload, into a sink that has direct(); otherwise openStream closes it and opens in JavaScript. */
  fileReader?: FileReader | null;
  /** The structure, if the caller read it already (readInfo) and checked the sender and the
   * reader against it: opened as is, not read a second time from a file that may have changed. */
  info?: ContainerInfo;
}

export interface ContainerInfo {
  header: ParsedHeader;
  senderId: string;
  containerIdHex: string;
  chunks: number;
  payloadBytes: number;
}

/** What the signature's digest starts with: the label of the container's version, then the whole header. */
export function signaturePrefix(header: ParsedHeader): Buffer {
  return signedPrefix(header.headerBytes);
}

const tampered = (detail: string) =>
  securityError('tampered', `Le pli a été modifié ou abîmé (${detail}) : rien n'a été déchiffré. Demandez à l'expéditeur de le renvoyer.`);

/** The file changed while it was read (opener.ts, pre-hashing): refused like any tampering. */
const changedWhileRead = () => tampered('fichier modifié pendant sa lecture');
const changedOr = (error: unknown): unknown => (error instanceof ChangedWhileReadingError ? changedWhileRead() : error);

async function readExactly(source: CipherSource, target: Buffer, position: number): Promise<void> {
  let offset = 0;
  while (offset < target.length) {
    const n = await source.read(target, offset, target.length - offset, position + offset);
    if (n === 0) throw tampered('fichier tronqué');
    offset += n;
  }
}

/** Parses and checks the structure without any secret: for `inspect` and as step 1 of opening. */
export async function readInfo(source: CipherSource): Promise<ContainerInfo> {
  const preamble = Buffer.alloc(PREAMBLE_BYTES);
  if (source.size < PREAMBLE_BYTES) parsePreamble(Buffer.alloc(0));
  await readExactly(source, preamble, 0);
  const headerLength = parsePreamble(preamble);
  const chunks = chunkCountFor(source.size, headerLength);
  const body = Buffer.alloc(headerLength);
  await readExactly(source, body, PREAMBLE_BYTES);
  const header = parseHeader(preamble, body);
  return { header, senderId: base32Encode(header.senderId), containerIdHex: header.containerId.toString('hex'), chunks, payloadBytes: chunks * CHUNK_PLAIN };
}

export async function openStream(source: CipherSource, sink: PlainSink, callbacks: OpenCallbacks): Promise<{ info: ContainerInfo; manifest: Manifest; signer: Signer }> {
  let committed = false;
  try {
    const info = callbacks.info ?? await readInfo(source);
    const { header, chunks } = info;
    const signer = await callbacks.resolveSigner(header);
    const fileKey = await callbacks.unwrapFileKey(header);
    const commitKey = hkdf(fileKey, header.containerId, KDF_INFO.commit);
    const expected = hmacSha256(commitKey, header.committedBytes);
    commitKey.fill(0);
    if (!equalConstantTime(expected, header.commitment)) {
      fileKey.fill(0);
      throw securityError('commitment', "L'engagement de clé du pli ne correspond pas : l'expéditeur a pu préparer des contenus différents selon les destinataires. Pli refusé ; signalez-le à l'officier SSI.");
    }
    const payloadKey = hkdf(fileKey, header.containerId, KDF_INFO.payload);
    fileKey.fill(0);
    const key = createSecretKey(payloadKey);
    payloadKey.fill(0);

    let opened: { hash: Buffer; manifest: Manifest } | null = null;
    let begun: Buffer | null = null;
    const reader = callbacks.fileReader ?? null;
    if (reader) {
      try {
        const head = await openHead(source, key, info);
        begun = head.bytes;
        await sink.begin(head.manifest);
        const direct = await sink.direct?.() ?? null;
        if (direct) opened = { hash: await openNatively(reader, key, head.bytes, direct, info, callbacks.onProgress), manifest: head.manifest };
      } finally {
        reader.close();
      }
    }
    opened ??= await openInJavaScript(source, sink, key, info, callbacks, begun);
    const { hash, manifest } = opened;
    const signature = Buffer.alloc(SIGNATURE_BYTES);
    await readExactly(source, signature, header.headerBytes.length + chunks * CHUNK_SEALED);
    if (!(await ed25519Verify(signer.publicKey, hash, signature))) {
      throw securityError('bad-signature', "La signature de l'expéditeur est invalide : le pli a été modifié ou ne vient pas de la personne annoncée. Rien n'a été déchiffré ; signalez-le à l'officier SSI.");
    }
    if (manifest.sender !== info.senderId || signer.identityId !== info.senderId) {
      throw securityError('sender-mismatch', "L'expéditeur annoncé dans le pli ne correspond pas à la clé qui l'a signé. Pli refusé ; signalez-le à l'officier SSI.");
    }
    await sink.commit();
    committed = true;
    return { info, manifest, signer };
  } finally {
    if (!committed) await sink.abort();
  }
}

/** The payload's blocks opened in JavaScript (opener.ts), their plaintext parsed into the sink.
 * `begun`: the manifest's bytes (length first) the sink began with already (openHead). */
async function openInJavaScript(source: CipherSource, sink: PlainSink, key: KeyObject, info: ContainerInfo, callbacks: OpenCallbacks, begun: Buffer | null): Promise<{ hash: Buffer; manifest: Manifest }> {
  const { header, chunks } = info;
  // Sealed blocks come back once opened and are read into again: no new 2 MiB buffer per
  // block for the allocator and the garbage collector (peak memory). They hold ciphertext only.
  const fullBlock = BLOCK_CHUNKS * CHUNK_SEALED;
  const spare: Buffer[] = [];
  const opener = blockOpener(info.payloadBytes, key, (block) => {
    if (block.byteLength === fullBlock && spare.length < MAX_SPARE_BLOCKS) spare.push(block);
  }, callbacks.openerThread);
  const parser = new PayloadParser(sink, (chunks) => opener.release(chunks), begun);
  const start = header.headerBytes.length;
  // Entirely overwritten by the read, so a new buffer is never zeroed first.
  const readBlock = async (first: number): Promise<Buffer> => {
    const size = Math.min(BLOCK_CHUNKS, chunks - first) * CHUNK_SEALED;
    const block = (size === fullBlock ? spare.pop() : undefined) ?? Buffer.allocUnsafeSlow(size);
    await readExactly(source, block, start + first * CHUNK_SEALED);
    return block;
  };
  const noncesFor = (first: number, count: number): Buffer => {
    const nonces = Buffer.alloc(count * NONCE_BYTES);
    for (let c = 0; c < count; c++) {
      const index = first + c;
      chunkNonce(index, index === chunks - 1, nonces.subarray(c * NONCE_BYTES, (c + 1) * NONCE_BYTES));
    }
    return nonces;
  };

  // Three blocks in motion: one being read, one being opened (on the worker thread for a large
  // payload), and one whose plaintext this thread hashes and writes. A block's plaintext goes
  // to the sink only once all its tags have verified.
  type Submitted = { first: number; count: number; opened: Promise<Buffer[]> };
  const consume = async ({ first, count, opened }: Submitted): Promise<void> => {
    let plain: Buffer[];
    try {
      plain = await opened;
    } catch (error) {
      if (error instanceof ChunkTagError) throw tampered(`bloc ${first + error.chunk + 1} sur ${chunks}`);
      throw changedOr(error);
    }
    await parser.push(plain);
    callbacks.onProgress?.(Math.min((first + count) * CHUNK_PLAIN, info.payloadBytes), info.payloadBytes);
  };
  let hash: Buffer;
  try {
    opener.prefix(signaturePrefix(header));
    let nextRead = readBlock(0);
    nextRead.catch(() => {}); // awaited below; this only keeps an early exit from leaving it unhandled
    let previous: Submitted | null = null;
    for (let first = 0; first < chunks; first += BLOCK_CHUNKS) {
      const block = await nextRead;
      const count = block.length / CHUNK_SEALED;
      if (first + count < chunks) {
        nextRead = readBlock(first + count);
        nextRead.catch(() => {});
      }
      const submitted: Submitted = { first, count, opened: opener.submit(block, noncesFor(first, count)) };
      submitted.opened.catch(() => {});
      if (previous) await consume(previous);
      previous = submitted;
    }
    if (previous) await consume(previous);
    hash = await opener.digest().catch((error: unknown) => {
      throw changedOr(error);
    });
  } catch (error) {
    // The sink's writes still in flight end first: the caller's abort() then removes every file,
    // none being created meanwhile (its folder would not empty: ENOTEMPTY).
    await parser.flush().catch(() => {});
    throw error;
  } finally {
    await opener.close();
  }
  await parser.flush();
  return { hash, manifest: parser.finish() };
}

/** The manifest (its length first) from the first chunks, opened here: what the sink begins with
 * before the addon's reader opens the payload (which compares these bytes with its own). */
async function openHead(source: CipherSource, key: KeyObject, info: ContainerInfo): Promise<{ bytes: Buffer; manifest: Manifest }> {
  const opener = chunkOpener(key);
  try {
    const sealed = Buffer.allocUnsafe(CHUNK_SEALED);
    const parts: Buffer[] = [];
    let have = 0;
    let needed = 4;
    for (let i = 0; have < needed; i++) {
      if (i >= info.chunks) throw tampered('liste des fichiers incomplète');
      await readExactly(source, sealed, info.header.headerBytes.length + i * CHUNK_SEALED);
      const plain = Buffer.alloc(CHUNK_PLAIN);
      if (opener.open(sealed, chunkNonce(i, i === info.chunks - 1), plain) >= 0) throw tampered(`bloc ${i + 1} sur ${info.chunks}`);
      parts.push(plain);
      have += plain.length;
      if (needed === 4) needed = 4 + manifestLength(parts[0]!.readUInt32BE(0));
    }
    const bytes = Buffer.concat(parts).subarray(0, needed);
    const manifest = decodeManifest(bytes.subarray(4));
    // The files and less than a chunk of zeros fill the rest (the JavaScript path finds out as it goes).
    const end = needed + manifest.files.reduce((sum, file) => sum + file.size, 0);
    if (end > info.payloadBytes) throw tampered('fichiers incomplets');
    if (info.payloadBytes - end >= CHUNK_PLAIN) throw tampered('bourrage plus long qu’un bloc');
    return { bytes, manifest };
  } finally {
    opener.close();
  }
}

/** The payload opened by the addon's reader straight into the sink's files; its signature's digest. */
async function openNatively(reader: FileReader, key: KeyObject, head: Buffer, direct: DirectFiles, info: ContainerInfo, onProgress: OpenCallbacks['onProgress']): Promise<Buffer> {
  // The reader started its digest with the header it was given: it must be this one.
  if (!Buffer.from(reader.prefix).equals(signaturePrefix(info.header))) throw changedWhileRead();
  try {
    return await awaitStream(reader.open(key, head, direct.files), info.payloadBytes, onProgress);
  } catch (error) {
    const e = error as { code?: string; chunk?: number; errno?: number; syscall?: string };
    switch (e.code) {
      case 'ERR_PLI_READER_TAG': throw tampered(`bloc ${(e.chunk ?? 0) + 1} sur ${info.chunks}`);
      case 'ERR_PLI_READER_TRUNCATED': throw tampered('fichier tronqué');
      case 'ERR_PLI_READER_CHANGED': throw changedWhileRead();
      case 'ERR_PLI_READER_PADDING': throw tampered('octets après le dernier fichier');
      case 'ERR_PLI_READER_IO': {
        const failed = systemError(e.errno ?? 0, e.syscall);
        throw e.syscall === 'write' ? direct.fault(failed) : failed;
      }
      default: throw error;
    }
  }
}

const manifestLength = (length: number): number => {
  if (length < 2 || length > MAX_MANIFEST) throw tampered('liste des fichiers de taille invalide');
  return length;
};

/** Splits the decrypted stream into manifest, files and padding, and checks each part. */
class PayloadParser {
  private head = Buffer.alloc(0);
  private manifest: Manifest | null = null;
  private fileIndex = 0;
  private remaining = 0;
  private pending: Promise<void> = Promise.resolve();
  private paddingBytes = 0;

  /** `release` gets each batch of chunks back once the sink has written them. `begun`: the
   * manifest's bytes the sink began with already (openHead), which these chunks must repeat. */
  constructor(private readonly sink: PlainSink, private readonly release: (chunks: Buffer[]) => void, private readonly begun: Buffer | null = null) {}

  async push(chunks: Buffer[]): Promise<void> {
    const writes = new Map<number, Buffer[]>();
    for (const chunk of chunks) {
      let data = chunk;
      if (!this.manifest) data = await this.takeManifest(data);
      while (data.length > 0) {
        const files = this.manifest!.files;
        if (this.fileIndex < files.length && this.remaining > 0) {
          const n = Math.min(this.remaining, data.length);
          const list = writes.get(this.fileIndex) ?? [];
          list.push(data.subarray(0, n));
          writes.set(this.fileIndex, list);
          this.remaining -= n;
          data = data.subarray(n);
          if (this.remaining === 0) this.advance();
        } else {
          // Padding: zeros only, and less than one whole chunk of it (the writer pads minimally).
          // Counted in bytes: a part may hold several chunks (a block opened at once).
          if (data.some((b) => b !== 0)) throw tampered('octets après le dernier fichier');
          this.paddingBytes += data.length;
          data = Buffer.alloc(0);
        }
      }
      if (this.paddingBytes >= CHUNK_PLAIN) throw tampered('bourrage plus long qu’un bloc');
    }
    await this.pending;
    const batch = [...writes.entries()];
    this.pending = (async () => {
      for (const [index, parts] of batch) await this.sink.write(index, parts);
      this.release(chunks);
    })();
    this.pending.catch(() => {});
  }

  private async takeManifest(data: Buffer): Promise<Buffer> {
    // The length is checked as soon as it is known (manifestLength), before more is gathered.
    const needed = (): number => (this.head.length < 4 ? 4 : 4 + manifestLength(this.head.readUInt32BE(0)));
    while (!this.manifest && data.length > 0) {
      const n = Math.min(needed() - this.head.length, data.length);
      this.head = Buffer.concat([this.head, data.subarray(0, n)]);
      data = data.subarray(n);
      if (this.head.length >= 4 && this.head.length === needed()) {
        this.manifest = decodeManifest(this.head.subarray(4));
        if (!this.begun) await this.sink.begin(this.manifest);
        else if (!this.begun.equals(this.head)) throw changedWhileRead();
        this.fileIndex = -1;
        this.advance();
      }
    }
    return data;
  }

  private advance(): void {
    const files = this.manifest!.files;
    this.fileIndex++;
    while (this.fileIndex < files.length && files[this.fileIndex]!.size === 0) this.fileIndex++;
    this.remaining = this.fileIndex < files.length ? files[this.fileIndex]!.size : 0;
  }

  finish(): Manifest {
    if (!this.manifest) throw tampered('liste des fichiers incomplète');
    if (this.fileIndex < this.manifest.files.length) throw tampered('fichiers incomplets');
    return this.manifest;
  }

  async flush(): Promise<void> {
    await this.pending;
  }
}
