// Issue 13, decryption no slower than age: the reader's stream in the addon (native/reader.c).
// It pre-hashes the sealed chunks while the key is unlocked, then opens them on two threads
// straight into the destination files. It must write exactly the plaintext the JavaScript path
// writes and give the same digest; refuse, at the first failing place in the stream's order, a
// flipped byte, a cut file, a block changed after the pre-hash even into one whose tags verify
// (someone who knows the file key), a manifest that is not the one the sink began with, and
// bytes after the last file; write no plaintext of a block that failed; report failed reads and
// writes as system errors; and do so for any layout of files (a property test). Through openStream, a sink that must see the bytes (digests) makes it
// step aside for the JavaScript path, which gives the same files.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { createCipheriv, createDecipheriv, createHash, createSecretKey, randomBytes } from 'node:crypto';
import { closeSync, copyFileSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, symlinkSync, truncateSync, writeFileSync, writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readerStreamBackend, startFileReader, type FileReader } from '../../electron/core/container/gcm.js';
import { CHUNK_PLAIN, CHUNK_SEALED, chunkNonce, encodePreamble, PREAMBLE_BYTES } from '../../electron/core/container/format.js';
import { signedPrefix } from '../../electron/core/container/digest.js';
import { openStream, readInfo, signaturePrefix } from '../../electron/core/container/open.js';
import { fileSource, FolderSink } from '../../electron/core/container/sinks.js';
import { OFF_THREAD_OPEN_BYTES } from '../../electron/core/container/opener.js';
import { PliError } from '../../electron/core/errors.js';
import { hkdf } from '../../electron/core/crypto/primitives.js';
import { KDF_INFO } from '../../electron/core/crypto/labels.js';
import { makePerson, readerCallbacks, seal, sealChunksByHand, type TestPerson } from './helpers.js';

const BLOCK = 16; // chunks per block in native/reader.c
const posix = process.platform !== 'win32';

const pad = (bytes: Buffer): Buffer => Buffer.concat([bytes, Buffer.alloc((CHUNK_PLAIN - (bytes.length % CHUNK_PLAIN)) % CHUNK_PLAIN)]);

describe.runIf(posix)("the addon's reader (native/reader.c)", () => {
  const key = randomBytes(32);
  const prefix = Buffer.concat([signedPrefix(encodePreamble(1000, 1)), Buffer.from(' et un en-tête')]);
  const headerBytes = 1000; // the chunks start after a stand-in header
  // The head (the manifest's place), then four files across chunk and block edges, then padding.
  const head = randomBytes(300);
  const files = [randomBytes(3 * CHUNK_PLAIN + 5), randomBytes(2 * BLOCK * CHUNK_PLAIN + 7), randomBytes(5 * BLOCK * CHUNK_PLAIN + 12345), randomBytes(777)];
  const plain = pad(Buffer.concat([head, ...files]));
  const chunks = plain.length / CHUNK_PLAIN;
  const blocks = Math.ceil(chunks / BLOCK);
  const sealed = sealChunksByHand(key, plain);
  const expectedDigest = createHash('sha256').update(prefix).update(sealed).digest();
  let root: string;
  let container: string;

  beforeAll(() => {
    root = mkdtempSync(path.join(os.tmpdir(), 'pli-reader-'));
    container = path.join(root, 'c.pli');
    writeFileSync(container, Buffer.concat([randomBytes(headerBytes), sealed]));
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  /** A reader of `file`, its outputs (new files in a folder of their own), and a cleanup. */
  function setUp(file = container, sizes = files.map((f) => f.length)): { reader: FileReader; outputs: string[]; fds: number[]; done: () => void } {
    const fd = openSync(file, 'r');
    const reader = startFileReader(fd, headerBytes, chunks, prefix)!;
    expect(reader).not.toBeNull();
    const dir = mkdtempSync(path.join(root, 'out-'));
    const outputs = sizes.map((_, i) => path.join(dir, String(i)));
    const fds = outputs.map((o) => openSync(o, 'wx'));
    return { reader, outputs, fds, done: () => [fd, ...fds].forEach((d) => closeSync(d)) };
  }

  const openInto = (reader: FileReader, fds: number[], sizes = files.map((f) => f.length), withHead = head) =>
    reader.open(createSecretKey(key), withHead, fds.map((fd, i) => ({ fd, size: sizes[i]! })));

  async function prehashedAll(reader: FileReader): Promise<void> {
    await expect.poll(() => reader.prehashed(), { timeout: 10_000, interval: 5 }).toBe(blocks);
  }

  it('is built here (not on Windows), and PLI_STREAM=js sets it aside', () => {
    const fd = openSync(container, 'r');
    try {
      const reader = startFileReader(fd, headerBytes, chunks, prefix);
      expect(reader).not.toBeNull();
      expect(readerStreamBackend()).toBe('addon');
      reader!.close();
      process.env.PLI_STREAM = 'js';
      expect(startFileReader(fd, headerBytes, chunks, prefix)).toBeNull();
      expect(readerStreamBackend()).toBe('javascript');
    } finally {
      delete process.env.PLI_STREAM;
      closeSync(fd);
    }
  });

  it('writes each file exactly and gives the digest of the prefix and every sealed chunk, whether the pre-hash covered all, some or none', async () => {
    expect(blocks).toBeGreaterThan(6); // both workers, several turns of the ring
    for (const wait of ['all', 'none'] as const) {
      const { reader, outputs, fds, done } = setUp();
      try {
        if (wait === 'all') await prehashedAll(reader);
        const run = openInto(reader, fds);
        const digest = await run.digest;
        expect(digest.equals(expectedDigest), wait).toBe(true);
        expect(run.chunksDone()).toBe(chunks);
        outputs.forEach((o, i) => expect(readFileSync(o).equals(files[i]!), `${wait}: file ${i}`).toBe(true));
      } finally {
        reader.close();
        done();
      }
    }
  });

  it('a block replaced after its pre-hash by one whose tags verify is refused, for either worker, and its plaintext is written nowhere', async () => {
    for (const index of [0, 1, blocks - 1]) {
      const forgedPlain = randomBytes(BLOCK * CHUNK_PLAIN);
      // Valid tags under the same key and nonces: what another recipient of the file could write.
      const count = Math.min(BLOCK, chunks - index * BLOCK);
      const forged = sealChunksByHand(key, forgedPlain.subarray(0, count * CHUNK_PLAIN), { first: index * BLOCK, total: chunks });
      const copy = path.join(root, `forged-${index}.pli`);
      copyFileSync(container, copy);
      const { reader, outputs, fds, done } = setUp(copy);
      try {
        await prehashedAll(reader);
        const fd = openSync(copy, 'r+');
        writeSync(fd, forged, 0, forged.length, headerBytes + index * BLOCK * CHUNK_SEALED);
        closeSync(fd);
        await expect(openInto(reader, fds).digest).rejects.toMatchObject({ code: 'ERR_PLI_READER_CHANGED', block: index });
        const written = Buffer.concat(outputs.map((o) => readFileSync(o)));
        expect(written.indexOf(forgedPlain.subarray(CHUNK_PLAIN, CHUNK_PLAIN + 64)), `block ${index}`).toBe(-1);
      } finally {
        reader.close();
        done();
      }
    }
  });

  it('any layout (random file counts and sizes, empty files, edges of chunks and blocks): each file exactly, the digest of every chunk', async () => {
    const edges = [0, 1, CHUNK_PLAIN - 1, CHUNK_PLAIN, CHUNK_PLAIN + 1, BLOCK * CHUNK_PLAIN - 3, BLOCK * CHUNK_PLAIN, 2 * BLOCK * CHUNK_PLAIN + 17];
    for (let round = 0; round < 12; round++) {
      const pick = (): number => (Math.random() < 0.6 ? edges[Math.floor(Math.random() * edges.length)]! : Math.floor(Math.random() * 3 * BLOCK * CHUNK_PLAIN));
      const layoutHead = randomBytes(4 + Math.floor(Math.random() * 3 * CHUNK_PLAIN));
      const layout = Array.from({ length: 1 + Math.floor(Math.random() * 6) }, () => randomBytes(pick()));
      const stream = pad(Buffer.concat([layoutHead, ...layout]));
      const layoutChunks = stream.length / CHUNK_PLAIN;
      const layoutSealed = sealChunksByHand(key, stream);
      const file = path.join(root, `layout-${round}.pli`);
      writeFileSync(file, Buffer.concat([randomBytes(headerBytes), layoutSealed]));
      const fd = openSync(file, 'r');
      const reader = startFileReader(fd, headerBytes, layoutChunks, prefix)!;
      const dir = mkdtempSync(path.join(root, 'layout-'));
      // Only the files that are not empty go to the reader (the sink creates the empty ones).
      const kept = layout.filter((f) => f.length > 0);
      const fds = kept.map((_, i) => openSync(path.join(dir, String(i)), 'wx'));
      const sizes = JSON.stringify(layout.map((f) => f.length));
      try {
        if (round % 2 === 0) await expect.poll(() => reader.prehashed(), { timeout: 10_000, interval: 2 }).toBe(Math.ceil(layoutChunks / BLOCK));
        const digest = await reader.open(createSecretKey(key), layoutHead, kept.map((f, i) => ({ fd: fds[i]!, size: f.length }))).digest;
        expect(digest.equals(createHash('sha256').update(prefix).update(layoutSealed).digest()), sizes).toBe(true);
        kept.forEach((f, i) => expect(readFileSync(path.join(dir, String(i))).equals(f), `${sizes}: file ${i}`).toBe(true));
      } finally {
        reader.close();
        [fd, ...fds].forEach((d) => closeSync(d));
      }
    }
  });

  it('chunks swapped within a block or across a block boundary, or a block dropped: refused at the first chunk out of place', async () => {
    const chunk = (i: number): Buffer => sealed.subarray(i * CHUNK_SEALED, (i + 1) * CHUNK_SEALED);
    const all = Array.from({ length: chunks }, (_, i) => chunk(i));
    const cases: [string, Buffer[], number][] = [];
    const within = [...all];
    [within[2 * BLOCK + 3], within[2 * BLOCK + 4]] = [within[2 * BLOCK + 4]!, within[2 * BLOCK + 3]!];
    cases.push(['within a block', within, 2 * BLOCK + 3]);
    const across = [...all];
    [across[BLOCK - 1], across[BLOCK]] = [across[BLOCK]!, across[BLOCK - 1]!];
    cases.push(['across a block boundary', across, BLOCK - 1]);
    // A whole block dropped and the rest moved up (the file as long: the last block repeated).
    cases.push(['a block dropped', [...all.slice(0, 3 * BLOCK), ...all.slice(4 * BLOCK), ...all.slice(chunks - BLOCK)], 3 * BLOCK]);
    for (const [name, order, named] of cases) {
      const file = path.join(root, `order-${name.replace(/ /g, '-')}.pli`);
      writeFileSync(file, Buffer.concat([randomBytes(headerBytes), ...order]));
      const { reader, fds, done } = setUp(file);
      try {
        await expect(openInto(reader, fds).digest, name).rejects.toMatchObject({ code: 'ERR_PLI_READER_TAG', chunk: named });
      } finally {
        reader.close();
        done();
      }
    }
  });

  it('a flipped byte is refused at its chunk; of two, the first in the stream is named', async () => {
    const flipped = (offsets: number[]): string => {
      const copy = path.join(root, `flip-${offsets.join('-')}.pli`);
      const bytes = Buffer.concat([randomBytes(headerBytes), sealed]);
      for (const chunk of offsets) bytes[headerBytes + chunk * CHUNK_SEALED + 99]! ^= 0x10;
      writeFileSync(copy, bytes);
      return copy;
    };
    for (const [offsets, named] of [[[0], 0], [[BLOCK + 3], BLOCK + 3], [[chunks - 1], chunks - 1], [[5 * BLOCK + 1, 2 * BLOCK + 9], 2 * BLOCK + 9]] as const) {
      for (const wait of [true, false]) {
        const { reader, fds, done } = setUp(flipped([...offsets]));
        try {
          if (wait) await prehashedAll(reader);
          await expect(openInto(reader, fds).digest, `${offsets.join(',')} wait=${wait}`).rejects.toMatchObject({ code: 'ERR_PLI_READER_TAG', chunk: named });
        } finally {
          reader.close();
          done();
        }
      }
    }
  });

  it('a file cut inside a block is refused as truncated', async () => {
    const copy = path.join(root, 'short.pli');
    copyFileSync(container, copy);
    truncateSync(copy, headerBytes + 4 * BLOCK * CHUNK_SEALED + 5000);
    const { reader, fds, done } = setUp(copy);
    try {
      await expect(openInto(reader, fds).digest).rejects.toMatchObject({ code: 'ERR_PLI_READER_TRUNCATED' });
    } finally {
      reader.close();
      done();
    }
  });

  it('a head other than the plaintext’s is refused as changed (block -1); a byte after the last file as padding', async () => {
    const other = Buffer.from(head);
    other[299]! ^= 0x01;
    const first = setUp();
    try {
      await expect(openInto(first.reader, first.fds, undefined, other).digest).rejects.toMatchObject({ code: 'ERR_PLI_READER_CHANGED', block: -1 });
    } finally {
      first.reader.close();
      first.done();
    }
    // The same stream, with one byte of its padding set.
    const padded = Buffer.from(plain);
    padded[padded.length - 3] = 1;
    const copy = path.join(root, 'padding.pli');
    writeFileSync(copy, Buffer.concat([randomBytes(headerBytes), sealChunksByHand(key, padded)]));
    const second = setUp(copy);
    try {
      await expect(openInto(second.reader, second.fds).digest).rejects.toMatchObject({ code: 'ERR_PLI_READER_PADDING' });
    } finally {
      second.reader.close();
      second.done();
    }
  });

  it('a failed write and a failed read come back with errno and syscall', async () => {
    const { reader, outputs, done } = setUp();
    const readOnly = outputs.map((o) => openSync(o, 'r'));
    try {
      await expect(openInto(reader, readOnly).digest).rejects.toMatchObject({ code: 'ERR_PLI_READER_IO', syscall: 'write', errno: os.constants.errno.EBADF });
    } finally {
      reader.close();
      readOnly.forEach((fd) => closeSync(fd));
      done();
    }
    const folder = openSync(root, 'r');
    const reader2 = startFileReader(folder, headerBytes, chunks, prefix)!;
    const dir = mkdtempSync(path.join(root, 'out-'));
    const fds = files.map((_, i) => openSync(path.join(dir, String(i)), 'wx'));
    try {
      await expect(openInto(reader2, fds).digest).rejects.toMatchObject({ code: 'ERR_PLI_READER_IO', syscall: 'read', errno: os.constants.errno.EISDIR });
    } finally {
      reader2.close();
      [folder, ...fds].forEach((fd) => closeSync(fd));
    }
  });

  it('stop() before the first block: rejected as stopped, nothing opened', async () => {
    const { reader, fds, done } = setUp();
    try {
      const run = openInto(reader, fds);
      run.stop();
      await expect(run.digest).rejects.toMatchObject({ code: 'ERR_PLI_READER_STOPPED' });
      expect(run.chunksDone()).toBeLessThan(chunks);
    } finally {
      reader.close();
      done();
    }
  });

  it('refuses sizes that do not fill the chunks, a second open and an open after close, before any work', async () => {
    const sizes = files.map((f) => f.length);
    const { reader, fds, done } = setUp();
    try {
      for (const wrong of [[...sizes.slice(0, 3), sizes[3]! + CHUNK_PLAIN], [sizes[0]!, sizes[1]!, sizes[2]! - CHUNK_PLAIN, sizes[3]!], [...sizes.slice(0, 3), 2.5], [...sizes.slice(0, 3), -1]]) {
        expect(() => openInto(reader, fds, wrong), JSON.stringify(wrong)).toThrow(RangeError);
      }
      expect(() => reader.open(createSecretKey(key), head, [{ fd: -1, size: sizes[0]! }, ...fds.slice(1).map((fd, i) => ({ fd, size: sizes[i + 1]! }))])).toThrow(RangeError);
      await openInto(reader, fds).digest;
      expect(() => openInto(reader, fds)).toThrow(RangeError);
    } finally {
      reader.close();
      done();
    }
    const again = setUp();
    again.reader.close();
    try {
      expect(() => openInto(again.reader, again.fds)).toThrow(RangeError);
    } finally {
      again.done();
    }
  });
});

describe.runIf(posix)('openStream with the addon’s reader (a container above OFF_THREAD_OPEN_BYTES)', () => {
  let alice: TestPerson, bob: TestPerson;
  let root: string;
  let file: string;
  let bytes: Buffer;
  // 600 files (a manifest longer than a chunk), one of them empty, the last ones large.
  const data = Array.from({ length: 600 }, (_, i) => ({ name: `état-${String(i).padStart(3, '0')}.csv`, data: i === 7 ? Buffer.alloc(0) : randomBytes(i < 598 ? 200 : 5 * 1024 * 1024 + i) }));

  beforeAll(async () => {
    [alice, bob] = await Promise.all([makePerson(), makePerson()]);
    bytes = await seal(alice, [bob], data);
    root = mkdtempSync(path.join(os.tmpdir(), 'pli-reader-open-'));
    file = path.join(root, 'c.pli');
    writeFileSync(file, bytes);
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  /** Opens `container` into a new folder, the reader started first as decrypt() does. */
  async function open(container: string, digests: boolean): Promise<{ error: unknown; dir: string; sink: FolderSink; prehashed: number }> {
    const source = await fileSource(container);
    const dir = path.join(root, `out-${randomBytes(4).toString('hex')}`);
    mkdirSync(dir);
    const sink = await FolderSink.create(dir, { digests });
    let reader: FileReader | null = null;
    try {
      const info = await readInfo(source);
      expect(info.payloadBytes).toBeGreaterThan(OFF_THREAD_OPEN_BYTES);
      reader = startFileReader(source.fd, info.header.headerBytes.length, info.chunks, signaturePrefix(info.header));
      expect(reader).not.toBeNull();
      const error = await openStream(source, sink, { ...readerCallbacks(bob, [alice]), info, fileReader: reader }).then(() => null, (e: unknown) => e);
      return { error, dir, sink, prehashed: reader!.prehashed() };
    } finally {
      reader?.close();
      await source.close();
    }
  }

  it('into a sink without digests the reader writes the files; with digests the JavaScript path does; the same files either way', async () => {
    for (const digests of [false, true]) {
      const { error, dir, sink } = await open(file, digests);
      expect(error, `digests=${digests}`).toBeNull();
      expect(readdirSync(dir).sort()).toEqual(data.map((d) => d.name).sort());
      for (const d of [data[0]!, data[7]!, data[598]!, data[599]!]) expect(readFileSync(path.join(dir, d.name)).equals(d.data), d.name).toBe(true);
      expect(sink.written.every((w) => (w.sha256 !== null) === digests)).toBe(true);
      if (digests) expect(sink.written[599]!.sha256).toBe(createHash('sha256').update(data[599]!.data).digest('hex'));
    }
  });

  it('a flipped byte is refused with the words of the JavaScript path, and nothing is left in the folder', async () => {
    const start = PREAMBLE_BYTES + bytes.readUInt32BE(12);
    const chunks = (bytes.length - start - 64) / CHUNK_SEALED;
    for (const chunk of [0, 40, chunks - 1]) {
      const copy = Buffer.from(bytes);
      copy[start + chunk * CHUNK_SEALED + 1234]! ^= 0x01;
      const tampered = path.join(root, `flip-${chunk}.pli`);
      writeFileSync(tampered, copy);
      for (const digests of [false, true]) {
        const { error, dir } = await open(tampered, digests);
        expect(error).toBeInstanceOf(PliError);
        expect((error as PliError).code).toBe('tampered');
        expect((error as PliError).message, `chunk ${chunk}, digests=${digests}`).toContain(`bloc ${chunk + 1} sur ${chunks}`);
        expect(readdirSync(dir)).toEqual([]);
      }
    }
  });

  it('a manifest rewritten between its first reading and the JavaScript path’s (chunk 0 sealed again by someone with the file key) is refused before any file is written', async () => {
    const fileKey = randomBytes(32);
    const containerId = randomBytes(16);
    const sealedBytes = await seal(alice, [bob], [{ name: 'aaaa.csv', data: randomBytes(9 * 1024 * 1024) }], { fixed: { containerId, fileKey: Buffer.from(fileKey), eseeds: [randomBytes(64)] } });
    const start = PREAMBLE_BYTES + sealedBytes.readUInt32BE(12);
    const chunks = (sealedBytes.length - start - 64) / CHUNK_SEALED;
    // Chunk 0 opened with the payload key, the file renamed (same length), sealed again: valid tags.
    const key = hkdf(fileKey, containerId, KDF_INFO.payload);
    const chunk0 = sealedBytes.subarray(start, start + CHUNK_SEALED);
    const decipher = createDecipheriv('aes-256-gcm', key, chunkNonce(0, chunks === 1));
    decipher.setAuthTag(chunk0.subarray(CHUNK_PLAIN));
    const plain0 = Buffer.concat([decipher.update(chunk0.subarray(0, CHUNK_PLAIN)), decipher.final()]);
    const at = plain0.indexOf('aaaa.csv');
    expect(at).toBeGreaterThan(0);
    plain0.write('bbbb.csv', at);
    const cipher = createCipheriv('aes-256-gcm', key, chunkNonce(0, chunks === 1));
    const forged = Buffer.concat([cipher.update(plain0), cipher.final(), cipher.getAuthTag()]);
    const file = path.join(root, 'rewritten.pli');
    writeFileSync(file, sealedBytes);

    const source = await fileSource(file);
    const dir = mkdtempSync(path.join(root, 'rewritten-'));
    // The first read of chunk 0 (the head) sees the file as sealed; every later one the forgery.
    let readsOfChunk0 = 0;
    const read = source.read;
    const swapping = {
      ...source,
      read: async (target: Buffer, offset: number, length: number, position: number): Promise<number> => {
        const n = await read(target, offset, length, position);
        if (position === start && readsOfChunk0++ > 0) forged.copy(target, offset);
        return n;
      },
    };
    const info = await readInfo(source);
    const reader = startFileReader(source.fd, start, info.chunks, signaturePrefix(info.header));
    try {
      const sink = await FolderSink.create(dir, { digests: true }); // the JavaScript path, after the head
      const error = await openStream(swapping, sink, { ...readerCallbacks(bob, [alice]), info, fileReader: reader }).then(() => null, (e: unknown) => e);
      expect(readsOfChunk0).toBe(2);
      expect((error as PliError).code).toBe('tampered');
      expect((error as PliError).message).toContain('modifié pendant sa lecture');
      expect(readdirSync(dir)).toEqual([]);
    } finally {
      reader?.close();
      await source.close();
    }
  });

  it('a symlink planted in the temporary folder under a file’s name: refused before the reader writes anything, the file it points to untouched', async () => {
    const source = await fileSource(file);
    const dir = path.join(root, `symlink-${randomBytes(4).toString('hex')}`);
    mkdirSync(dir);
    const victim = path.join(root, `victime-${randomBytes(4).toString('hex')}.txt`);
    writeFileSync(victim, 'à garder');
    const sink = await FolderSink.create(dir, { digests: false });
    // The attacker of docs/profile.md writes next to the decryption: the last (large) file's name.
    symlinkSync(victim, path.join(sink.tempDir, '599'));
    const info = await readInfo(source);
    const reader = startFileReader(source.fd, info.header.headerBytes.length, info.chunks, signaturePrefix(info.header));
    try {
      const error = await openStream(source, sink, { ...readerCallbacks(bob, [alice]), info, fileReader: reader }).then(() => null, (e: unknown) => e);
      expect((error as PliError).code).toBe('temp-tampered');
      expect(readFileSync(victim, 'utf8')).toBe('à garder');
      expect(readdirSync(dir)).toEqual([]);
    } finally {
      reader?.close();
      await source.close();
    }
  });

  it('a block sealed again, tags valid, by a recipient who knows the file key, leaves nothing: the digest covers the bytes opened, and the sender’s signature fails', async () => {
    // The attacker of the functional mailbox: Bob received the container, knows its file key, and
    // passes a copy on in which block 8 (inside the last files' bytes, away from the manifest and
    // the padding) holds other plaintext under the same key and nonces. Every tag verifies. (Here
    // the pre-hash reads it during the unlock; native-digest.test.ts opens such a block with the
    // workers' own leaves.)
    const fixed = { containerId: randomBytes(16), fileKey: randomBytes(32) };
    const honest = await seal(alice, [bob], data, { fixed: { containerId: Buffer.from(fixed.containerId), fileKey: Buffer.from(fixed.fileKey) } });
    const headerBytes = 16 + honest.readUInt32BE(12);
    const block = 8;
    const forged = Buffer.from(honest);
    const key = hkdf(fixed.fileKey, fixed.containerId, KDF_INFO.payload);
    const total = (honest.length - headerBytes - 64) / CHUNK_SEALED;
    sealChunksByHand(key, randomBytes(BLOCK * CHUNK_PLAIN), { first: block * BLOCK, total }).copy(forged, headerBytes + block * BLOCK * CHUNK_SEALED);
    expect(forged.length).toBeGreaterThan(headerBytes + (block + 2) * BLOCK * CHUNK_SEALED); // not the last block
    const copy = path.join(root, 'resealed.pli');
    writeFileSync(copy, forged);
    const { error, dir } = await open(copy, false);
    expect((error as PliError).code).toBe('bad-signature');
    expect(readdirSync(dir)).toEqual([]);
    // The honest container, the same way, opens.
    writeFileSync(copy, honest);
    expect((await open(copy, false)).error).toBeNull();
  });

  it('a signature that does not verify leaves nothing, though every chunk opened', async () => {
    const copy = Buffer.from(bytes);
    copy[copy.length - 10]! ^= 0x01;
    const tampered = path.join(root, 'signature.pli');
    writeFileSync(tampered, copy);
    const { error, dir } = await open(tampered, false);
    expect((error as PliError).code).toBe('bad-signature');
    expect(readdirSync(dir)).toEqual([]);
  });
});
