// Issue 13, the stream no slower than age: what changed in the writer keeps the format and every
// guarantee. The chunks a cipher makes are freed as soon as they are written and hashed
// (discard.ts), not whenever the collector finds them, and what is not the caller's alone to give
// is never touched. A large container (several blocks, the hash worker, a short last block) is
// the very bytes a straightforward sealer gives, whatever sizes the reads return; a file that
// shrinks while it is sealed, at a block boundary or inside a block, is refused and leaves nothing.
// The addon's stream (native/stream.c), which seals a large payload read from files, writes the
// same bytes as the JavaScript path, stops when the unlock fails, and reports a failed read or
// write as Node does; both paths are run (PLI_STREAM=js asks for the JavaScript one).
import { describe, it, expect, beforeAll, afterAll, beforeEach, afterEach, vi } from 'vitest';
import { createHash, createSecretKey, randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync, writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { discard, ownsMemory } from '../../electron/core/container/discard.js';
import { chunkSealer, gcmBackend, sealStreamBackend, type ChunkSealer, type RunningStream } from '../../electron/core/container/gcm.js';
import { sealStream, sealToBuffer, sealToFile, type PlainSource, type SealParams } from '../../electron/core/container/seal.js';
import { CHUNK_PLAIN, CHUNK_SEALED, encodePreamble } from '../../electron/core/container/format.js';
import { signedPrefix } from '../../electron/core/container/digest.js';
import { encodeManifest, mediaTypeFor } from '../../electron/core/container/manifest.js';
import { OFF_THREAD_HASH_BYTES } from '../../electron/core/container/sinks.js';
import { hkdf } from '../../electron/core/crypto/primitives.js';
import { KDF_INFO } from '../../electron/core/crypto/labels.js';
import { ed25519Verify } from '../../electron/core/crypto/keys.js';
import { inputError, PliError } from '../../electron/core/errors.js';
import { headerDigestByHand, makePerson, sealChunksByHand, sealParams, type TestPerson } from './helpers.js';

// Runs once, when sealToFile creates its temporary output (`*.part`): after the inputs were opened
// and sized, before any byte of them is read. A file cut there is met by the stream's reads,
// whichever way they are scheduled (the addon's workers read ahead from the moment it starts).
const hooks = vi.hoisted(() => ({ beforeOutput: null as null | (() => void) }));
vi.mock('node:fs/promises', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs/promises')>();
  const open: typeof real.open = async (file, ...rest) => {
    const hook = hooks.beforeOutput;
    if (hook && String(file).endsWith('.part')) {
      hooks.beforeOutput = null;
      hook();
    }
    return real.open(file, ...rest);
  };
  return { ...real, default: { ...real, open }, open };
});

/** A version 1 signature prefix (label and preamble): its digest is the SHA-256 of everything. */
const V1_PREFIX = signedPrefix(encodePreamble(1000, 1));

describe('discard', () => {
  it('frees buffers that own their memory at once, with no garbage collection', () => {
    const before = process.memoryUsage().arrayBuffers;
    const parts = Array.from({ length: 64 }, () => Buffer.alloc(1024 * 1024, 7));
    expect(process.memoryUsage().arrayBuffers - before).toBeGreaterThanOrEqual(60 * 1024 * 1024);
    discard(parts);
    expect(parts.every((p) => p.length === 0)).toBe(true);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(1024 * 1024);
  });

  it('leaves alone a view that shares its memory (a slice, a small Buffer of Node’s pool)', () => {
    const whole = Buffer.alloc(256 * 1024, 1);
    const slice = whole.subarray(16, 1024);
    const pooled = Buffer.from('petit tampon du pool');
    expect(ownsMemory(slice)).toBe(false);
    expect(ownsMemory(pooled)).toBe(false);
    discard([slice, pooled]);
    expect(whole.length).toBe(256 * 1024);
    expect(slice.length).toBe(1008);
    expect(pooled.toString()).toBe('petit tampon du pool');
  });

  it('takes the same memory twice in one call without failing (two views of one buffer)', () => {
    const one = Buffer.alloc(128 * 1024);
    const again = Buffer.from(one.buffer, 0, one.byteLength);
    expect(() => discard([one, again])).not.toThrow();
    expect(one.length).toBe(0);
    expect(again.length).toBe(0);
  });
});

let root: string;
let sender: TestPerson;
let reader: TestPerson;
beforeAll(async () => {
  root = mkdtempSync(path.join(os.tmpdir(), 'pli-stream-seal-'));
  [sender, reader] = await Promise.all([makePerson(), makePerson()]);
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

// Above the hash worker's threshold, several 1 MiB blocks, and a last chunk partly padding.
const DATA = randomBytes(OFF_THREAD_HASH_BYTES + 3 * 1024 * 1024 + 12_345);
const NAME = 'IS101_T3.xls';
const fixed = { containerId: randomBytes(16), fileKey: randomBytes(32), eseeds: [randomBytes(64)] };
const params = (): SealParams => sealParams(sender, [reader], { createdMs: Date.UTC(2026, 11, 3), fixed: { ...fixed, fileKey: Buffer.from(fixed.fileKey) } });

/** The container of docs/format.md written the plain way: one cipher per chunk, one hash, no thread. */
async function reference(sealed: Buffer): Promise<void> {
  const manifest = encodeManifest({ v: 1, sender: sender.id, files: [{ name: NAME, type: mediaTypeFor(NAME), size: DATA.length, mtime: null }] });
  const prefix = Buffer.alloc(4);
  prefix.writeUInt32BE(manifest.length);
  const plainLength = 4 + manifest.length + DATA.length;
  const chunks = Math.ceil(plainLength / CHUNK_PLAIN);
  const plain = Buffer.concat([prefix, manifest, DATA, Buffer.alloc(chunks * CHUNK_PLAIN - plainLength)]);
  const headerLength = sealed.length - chunks * CHUNK_SEALED - 64;
  const header = sealed.subarray(0, headerLength);
  const body = sealChunksByHand(hkdf(fixed.fileKey, fixed.containerId, KDF_INFO.payload), plain);
  expect(sealed.subarray(headerLength, headerLength + body.length).equals(body)).toBe(true);
  // The digest of the header's version, by hand from format.md (section 6, or 11: per-block leaves).
  const digest = headerDigestByHand(header.readUInt16BE(8) === 1 ? 1 : 2, header, body);
  expect(await ed25519Verify(sender.sig.publicKey, digest, sealed.subarray(sealed.length - 64))).toBe(true);
}

/** A source over DATA whose reads return at most `most` bytes (short reads, as a pipe or a network share may give). */
const shortReads = (most: number): PlainSource => ({
  name: NAME, size: DATA.length, mtime: null,
  read: async (target, offset, length, position) => DATA.copy(target, offset, position, position + Math.min(length, most)),
  close: async () => {},
});

describe('a large container', () => {
  let whole: Buffer;
  beforeAll(async () => {
    whole = (await sealToBuffer([{ name: NAME, data: DATA, mtime: null }], params())).bytes;
  });

  it('is the bytes a straightforward sealer gives: payload chunk by chunk, and a signature over all of it', async () => {
    await reference(whole);
  });

  it('is the same bytes whatever sizes the reads return (short reads, across block boundaries)', async () => {
    for (const most of [7_001, 65_535, 1024 * 1024 - 7]) {
      const parts: Buffer[] = [];
      await sealStream([shortReads(most)], { write: async (p) => { parts.push(...p.map((b) => Buffer.from(b))); } }, params());
      expect(Buffer.concat(parts).equals(whole)).toBe(true);
    }
  });
});

describe.each(['native', 'js'])('a file that shrinks while it is sealed (stream: %s)', (stream) => {
  beforeEach(() => void (process.env.PLI_STREAM = stream));
  afterEach(() => void delete process.env.PLI_STREAM);
  const manifestFor = (size: number) => encodeManifest({ v: 1, sender: sender.id, files: [{ name: NAME, type: mediaTypeFor(NAME), size, mtime: 0 }] });

  for (const [where, inside] of [['at a block boundary', 0], ['inside a block', 1000]] as const) {
    it(`${where}: refused (file-changed), no container, no partial file`, async () => {
      const dir = mkdtempSync(path.join(root, 'shrink-'));
      const input = path.join(dir, NAME);
      writeFileSync(input, DATA);
      const out = path.join(dir, 'pli.pli');
      // The stream is the 4-byte length, the manifest, then the file: its 1 MiB blocks start
      // at multiples of 1 MiB of that stream. The file is cut so that the fourth block's read
      // finds nothing (boundary) or finds less than asked (inside). It is cut once sized, before
      // the stream starts: cut from the first progress report instead, the addon's workers had
      // sometimes read every block already on a loaded machine (CI, 2026-12-05), and the seal
      // rightly succeeded with the bytes it had read.
      const prefix = 4 + manifestFor(DATA.length).length;
      const cut = 3 * 1024 * 1024 - prefix - inside;
      let cutDone = false;
      hooks.beforeOutput = () => {
        truncateSync(input, cut);
        cutDone = true;
      };
      const error = await sealToFile([input], out, sealParams(sender, [reader])).then(() => null, (e: unknown) => e);
      hooks.beforeOutput = null;
      expect(cutDone).toBe(true);
      expect(error).toBeInstanceOf(PliError);
      expect((error as PliError).code).toBe('file-changed');
      expect(existsSync(out)).toBe(false);
      expect(readdirSync(dir)).toEqual([NAME]);
    });
  }
});

describe("the addon's stream (native/stream.c)", () => {
  const hasStream = () => typeof chunkSealer(createSecretKey(randomBytes(32))).stream === 'function';

  it('is built here, where the addon is (not on Windows), and PLI_STREAM=js sets it aside', () => {
    expect(gcmBackend()).toBe('addon');
    expect(hasStream()).toBe(process.platform !== 'win32');
    expect(sealStreamBackend()).toBe(process.platform !== 'win32' ? 'addon' : 'javascript');
    process.env.PLI_STREAM = 'js';
    try {
      expect(sealStreamBackend()).toBe('javascript');
    } finally {
      delete process.env.PLI_STREAM;
    }
  });

  /** Seals `names` (in `dir`) to a new file through one path; returns its bytes. */
  async function sealedWith(stream: 'native' | 'js', dir: string, names: string[], extra: Partial<SealParams> = {}): Promise<Buffer> {
    const out = path.join(dir, `${stream}-${randomBytes(4).toString('hex')}.pli`);
    process.env.PLI_STREAM = stream;
    try {
      await sealToFile(names.map((n) => path.join(dir, n)), out, { ...params(), ...extra });
    } finally {
      delete process.env.PLI_STREAM;
    }
    return readFileSync(out);
  }

  it('writes the bytes the JavaScript path writes: several files, an empty one, sizes across chunk and block edges', async () => {
    const dir = mkdtempSync(path.join(root, 'same-'));
    const files: [string, Buffer][] = [
      ['grand.xls', DATA], ['vide.csv', Buffer.alloc(0)], ['bord.csv', randomBytes(CHUNK_PLAIN + 1)],
      ['un.txt', Buffer.from('x')], ['bloc.pdf', randomBytes(1024 * 1024 - 3)],
    ];
    for (const [name, data] of files) writeFileSync(path.join(dir, name), data);
    // The same modification times for both runs: they are in the manifest.
    const names = files.map(([name]) => name);
    const native = await sealedWith('native', dir, names);
    const js = await sealedWith('js', dir, names);
    expect(native.length).toBe(js.length);
    expect(native.equals(js)).toBe(true);
  });

  it('writes the bytes the JavaScript path writes when the manifest alone is longer than a chunk (600 files)', async () => {
    const dir = mkdtempSync(path.join(root, 'many-'));
    const names = Array.from({ length: 600 }, (_, i) => `${String(i).padStart(4, '0')}-${'é'.repeat(60)}.csv`);
    names.forEach((name, i) => writeFileSync(path.join(dir, name), i === 599 ? DATA : randomBytes(i % 7 === 0 ? 0 : i)));
    const native = await sealedWith('native', dir, names);
    const js = await sealedWith('js', dir, names);
    expect(native.equals(js)).toBe(true);
  });

  it('writes the container of docs/format.md (checked against a straightforward sealer)', async () => {
    const dir = mkdtempSync(path.join(root, 'ref-'));
    const input = path.join(dir, NAME);
    writeFileSync(input, DATA);
    const fd = openSync(input, 'r');
    const outFd = openSync(path.join(dir, 'out.pli'), 'wx');
    try {
      // The reference's manifest has no date: a source of the file with none.
      const source: PlainSource = { name: NAME, size: DATA.length, mtime: null, fd, read: async () => { throw new Error('read() is not called: the stream reads the descriptor'); }, close: async () => {} };
      const sink = { write: async (parts: Buffer[]) => { for (const p of parts) writeSync(outFd, p); }, fd: outFd };
      await sealStream([source], sink, params());
    } finally {
      closeSync(fd);
      closeSync(outFd);
    }
    await reference(readFileSync(path.join(dir, 'out.pli')));
  });

  for (const when of ['before the stream', 'while it runs']) {
    it(`stops when the unlock fails ${when}: the unlock's error, no container, no partial file`, async () => {
      const dir = mkdtempSync(path.join(root, 'unlock-'));
      writeFileSync(path.join(dir, NAME), Buffer.concat([DATA, DATA, DATA]));
      const refused = inputError('wrong-passphrase', 'Phrase de passe incorrecte.');
      const secretKey = when === 'before the stream'
        ? Promise.reject(refused)
        : new Promise<Uint8Array>((_, reject) => setTimeout(() => reject(refused), 2));
      secretKey.catch(() => {});
      const error = await sealedWith('native', dir, [NAME], { signing: { keyFpr: sender.sig.fpr, secretKey } }).then(() => null, (e: unknown) => e);
      expect(error).toBe(refused);
      expect(readdirSync(dir)).toEqual([NAME]);
    });
  }

  it('a progress callback that throws: its error, no container, no partial file', async () => {
    const dir = mkdtempSync(path.join(root, 'progress-'));
    writeFileSync(path.join(dir, NAME), DATA);
    const thrown = new Error('la barre de progression a échoué');
    const seen: number[] = [];
    const onProgress = (done: number) => {
      seen.push(done);
      if (done > 0) throw thrown;
    };
    const error = await sealedWith('native', dir, [NAME], { onProgress }).then(() => null, (e: unknown) => e);
    expect(error).toBe(thrown);
    expect(seen[0]).toBe(0);
    expect(readdirSync(dir)).toEqual([NAME]);
  });

  it('reports a failed write and a failed read as Node does (code, syscall), and leaves the caller to clean up', async () => {
    const dir = mkdtempSync(path.join(root, 'io-'));
    const input = path.join(dir, NAME);
    writeFileSync(input, DATA);
    const output = path.join(dir, 'out.pli');
    writeFileSync(output, '');
    const run = async (sourceFd: number, sinkFd: number): Promise<unknown> => {
      const source: PlainSource = { name: NAME, size: DATA.length, mtime: null, fd: sourceFd, read: async () => 0, close: async () => {} };
      return sealStream([source], { write: async () => {}, fd: sinkFd }, params()).then(() => null, (e: unknown) => e);
    };
    const readable = openSync(input, 'r');
    const readOnlyOutput = openSync(output, 'r');
    const folder = openSync(dir, 'r');
    const writable = openSync(output, 'w');
    try {
      expect(await run(readable, readOnlyOutput)).toMatchObject({ code: 'EBADF', syscall: 'write' });
      expect(await run(folder, writable)).toMatchObject({ code: 'EISDIR', syscall: 'read' });
    } finally {
      for (const fd of [readable, readOnlyOutput, folder, writable]) closeSync(fd);
    }
  });

  it('of two files cut short, the first in the stream is named', async () => {
    const dir = mkdtempSync(path.join(root, 'order-'));
    // Three files of 3 MiB: blocks 0-2, 3-5, 6-8 (1 MiB each).
    const names = ['a.csv', 'b.csv', 'c.csv'];
    const blocks = names.map(() => randomBytes(3 * 1024 * 1024));
    names.forEach((n, i) => writeFileSync(path.join(dir, n), blocks[i]!));
    const fds = names.map((n) => openSync(path.join(dir, n), 'r'));
    const output = path.join(dir, 'out.pli');
    const out = openSync(output, 'w');
    // b.csv and c.csv end 1 MiB early, in blocks 5 and 8.
    truncateSync(path.join(dir, 'b.csv'), 2 * 1024 * 1024);
    truncateSync(path.join(dir, 'c.csv'), 2 * 1024 * 1024);
    const source = (i: number): PlainSource => ({ name: names[i]!, size: blocks[i]!.length, mtime: null, fd: fds[i]!, read: async () => 0, close: async () => {} });
    try {
      await expect(sealStream([0, 1, 2].map(source), { write: async () => {}, fd: out }, params())).rejects.toMatchObject({ code: 'file-changed', message: expect.stringContaining('b.csv') });
    } finally {
      for (const fd of [...fds, out]) closeSync(fd);
    }
  });

  /** The addon's stream run directly over `data` (no prefix, no header): the sealer, the run, and a cleanup. */
  function rawStream(data: Buffer): { sealer: ChunkSealer; run: RunningStream; chunks: number; out: string; done: () => void } {
    const dir = mkdtempSync(path.join(root, 'raw-'));
    const input = path.join(dir, 'in');
    const out = path.join(dir, 'out');
    writeFileSync(input, data);
    const sealer = chunkSealer(createSecretKey(randomBytes(32)));
    const fd = openSync(input, 'r');
    const outFd = openSync(out, 'w');
    const chunks = Math.ceil(data.length / CHUNK_PLAIN);
    const run = sealer.stream!({ prefix: Buffer.alloc(0), files: [{ fd, size: data.length }], chunks, outFd, hashPrefix: V1_PREFIX });
    return { sealer, run, chunks, out, done: () => [fd, outFd].forEach((d) => closeSync(d)) };
  }

  it('stop() ends it before its next block: rejected as stopped, well before the last block', async () => {
    const { sealer, run, chunks, done } = rawStream(Buffer.concat([DATA, DATA, DATA]));
    try {
      run.stop();
      await expect(run.digest).rejects.toMatchObject({ code: 'ERR_PLI_STREAM_STOPPED' });
      expect(run.chunksDone()).toBeLessThan(chunks / 2);
    } finally {
      sealer.close();
      done();
    }
  });

  it('refuses arguments that do not describe the stream, before any work', () => {
    const sealer = chunkSealer(createSecretKey(randomBytes(32)));
    const job = { prefix: Buffer.alloc(10), files: [{ fd: 0, size: 100 }], chunks: 1, outFd: 1, hashPrefix: V1_PREFIX };
    for (const wrong of [
      { chunks: 2 }, { chunks: 0 }, { chunks: 1.5 }, { files: [{ fd: 0, size: -1 }] }, { files: [{ fd: 0, size: 2.5 }] },
      { files: [{ fd: -1, size: 100 }] }, { outFd: -1 }, { files: [{ fd: 0, size: 2 ** 54 }] },
    ]) {
      expect(() => sealer.stream!({ ...job, ...wrong }), JSON.stringify(wrong)).toThrow(RangeError);
    }
    sealer.close();
  });

  it('while it runs, its context seals nothing else, and a close() waits for its end', async () => {
    const { sealer, run, chunks, out, done } = rawStream(DATA);
    const sealOne = () => sealer.seal(Buffer.alloc(CHUNK_PLAIN), Buffer.alloc(12), Buffer.alloc(CHUNK_SEALED));
    try {
      expect(sealOne).toThrow(RangeError);
      sealer.close();
      const digest = await run.digest;
      expect(statSync(out).size).toBe(chunks * CHUNK_SEALED);
      expect(digest.equals(createHash('sha256').update(V1_PREFIX).update(readFileSync(out)).digest())).toBe(true);
      expect(run.chunksDone()).toBe(chunks);
      // Closed at the stream's end: its key is gone.
      expect(sealOne).toThrow(RangeError);
    } finally {
      done();
    }
  });
});
