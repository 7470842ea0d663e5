// Format version 2's digest in the addon (native/digest.c, native/sha256x8.c; docs/format.md
// section 11): the SHA-256 of 8 messages at once in AVX2 lanes gives FIPS 180-4's digests in any
// lane, for any length and alignment; the writer's stream (native/stream.c) and the reader's
// (native/reader.c) give, in version 2, SHA-256(prefix || leaf_0 || ... || leaf_{M-1}) with
// leaf_j the SHA-256 of the j-th block of 16 sealed chunks, with the lanes and without (the
// choice is PLI_SHA256_LANES's, read as each stream starts), and in version 1 still
// SHA-256(prefix || sealed chunks); any other version is refused before any work. The addon is
// called directly (not through gcm.ts), with the real files and threads.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { digestByHand, loadNative, restoreEnvAfterEach } from './helpers.js';

// The chunk layout (docs/format.md section 7) and the digest's blocks (section 11).
const CHUNK_PLAIN = 65536;
const CHUNK_SEALED = CHUNK_PLAIN + 16;
const BLOCK_SEALED = 16 * CHUNK_SEALED;

interface Native {
  context(key: Uint8Array, encrypt: boolean): object;
  close(context: object): void;
  stream(context: object, prefix: Uint8Array, fds: Int32Array, sizes: Float64Array, chunks: number, outFd: number, hashPrefix: Uint8Array, control: Int32Array, version: unknown): Promise<Buffer>;
  readerStart(fd: number, start: number, chunks: number, prefix: Uint8Array, version: unknown): object;
  readerOpen(reader: object, context: object, head: Uint8Array, fds: Int32Array, sizes: Float64Array, control: Int32Array): Promise<Buffer>;
  readerClose(reader: object): void;
  readerPrehashed(reader: object): number;
  sha256Lanes(messages: Uint8Array[]): Buffer;
  digestLanes(): boolean;
  sha256Pair(first: Uint8Array, second: Uint8Array): Buffer;
  digestPairs(): boolean;
}

const native = loadNative<Native>();
const posix = process.platform !== 'win32';
/** Whether the addon is here and this call of it runs (not refused on this build and CPU). */
const runsHere = (call: (n: Native) => unknown): boolean => {
  try {
    if (native === null) return false;
    call(native);
    return true;
  } catch {
    return false;
  }
};
/** Whether this build and CPU run the lanes (x86-64 with AVX2). */
const lanesHere = runsHere((n) => n.sha256Lanes([new Uint8Array(0)]));

/** Whether this build and CPU hash two leaves at once (x86-64 with SHA-NI). */
const pairsHere = runsHere((n) => n.sha256Pair(new Uint8Array(0), new Uint8Array(0)));
if (native !== null && !pairsHere) console.log('skipped: SHA-256 two at a time (native/sha256x2.c) needs SHA-NI, which this CPU has not');

const sha256 = (bytes: Uint8Array): Buffer => createHash('sha256').update(bytes).digest();
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** OPENSSL_ia32cap values that hide SHA-NI from OpenSSL: the benchmark's mask, bit 29 of CPUID
 * leaf 7's EBX cleared alone, or everything masked (an empty value). */
const SHA_NI_MASKED = [':~0x600E0230000', ':~0x20000000', ''];

// The environment variables this file sets, put back after each test.
restoreEnvAfterEach('PLI_SHA256_LANES', 'PLI_SHA256_PAIRS', 'OPENSSL_ia32cap', 'PLI_READER_HASHER');

// FIPS 180-4's examples (and the one-million-'a' vector of its test suite), for the lanes and the pairs.
const VECTORS: [Buffer, string][] = [
  [Buffer.alloc(0), 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'],
  [Buffer.from('abc'), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'],
  [Buffer.from('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq'), '248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1'],
  [Buffer.alloc(1_000_000, 'a'), 'cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0'],
];

describe.runIf(native !== null)('SHA-256 in 8 AVX2 lanes (native/sha256x8.c)', () => {
  it.runIf(lanesHere)('gives the FIPS vectors, each in several lanes at once, whatever the lanes beside it', () => {
    for (const order of [[0, 1, 2, 3, 3, 2, 1, 0], [3, 0, 2, 1], [1], [3], [2, 3, 0, 1, 2, 3, 0]]) {
      const out = native!.sha256Lanes(order.map((v) => VECTORS[v]![0]));
      expect(out.length).toBe(32 * order.length);
      order.forEach((v, lane) => expect(hex(out.subarray(32 * lane, 32 * lane + 32)), `${order}: lane ${lane}`).toBe(VECTORS[v]![1]));
    }
  });

  it.runIf(lanesHere)('is node:crypto’s SHA-256 for random lengths and unaligned offsets, short (every tail) and up to 2 MiB', () => {
    const pool = randomBytes(8 * ((2 << 20) + 64));
    const span = (2 << 20) + 64;
    for (let round = 0; round < 260; round++) {
      const long = round >= 250;
      const n = 1 + Math.floor(Math.random() * 8);
      const messages = Array.from({ length: n }, (_, l) => {
        const length = long ? Math.floor(Math.random() * (2 << 20)) : Math.floor(Math.random() * 301);
        const offset = l * span + Math.floor(Math.random() * 64);
        return pool.subarray(offset, offset + length);
      });
      const out = native!.sha256Lanes(messages);
      messages.forEach((m, lane) =>
        expect(hex(out.subarray(32 * lane, 32 * lane + 32)), `round ${round}, lane ${lane}: ${m.length} bytes at ${m.byteOffset}`).toBe(hex(sha256(m))));
    }
  });

  it('refuses anything but 1 to 8 Uint8Arrays (and everything where the lanes cannot run)', () => {
    for (const wrong of [[], Array.from({ length: 9 }, () => new Uint8Array(1)), ['abc'], [new Uint16Array(2)]]) {
      expect(() => native!.sha256Lanes(wrong as Uint8Array[]), JSON.stringify(wrong)).toThrow(RangeError);
    }
    expect(() => (native!.sha256Lanes as unknown as (x: unknown) => Buffer)(new Uint8Array(3))).toThrow(RangeError);
    if (!lanesHere) expect(() => native!.sha256Lanes([Buffer.from('abc')])).toThrow(RangeError);
  });

  it('is chosen as PLI_SHA256_LANES says, else where OpenSSL has no SHA-NI (OPENSSL_ia32cap read as OpenSSL reads it)', () => {
    delete process.env.OPENSSL_ia32cap;
    process.env.PLI_SHA256_LANES = '0';
    expect(native!.digestLanes()).toBe(false);
    process.env.PLI_SHA256_LANES = '1';
    expect(native!.digestLanes()).toBe(lanesHere);
    delete process.env.PLI_SHA256_LANES;
    for (const mask of SHA_NI_MASKED) {
      process.env.OPENSSL_ia32cap = mask;
      expect(native!.digestLanes(), mask).toBe(lanesHere);
    }
    process.env.PLI_SHA256_LANES = '0';
    expect(native!.digestLanes()).toBe(false);
    delete process.env.PLI_SHA256_LANES;
    if (process.platform === 'linux' && process.arch === 'x64' && existsSync('/proc/cpuinfo')) {
      const shaNi = /^flags\s*:.*\bsha_ni\b/m.test(readFileSync('/proc/cpuinfo', 'utf8'));
      delete process.env.OPENSSL_ia32cap;
      expect(native!.digestLanes()).toBe(lanesHere && !shaNi);
      // A first word alone leaves leaf 7 as it is; a second word that keeps bit 29 keeps SHA-NI.
      for (const mask of ['0x0', ':0x20000000', ':~0x1']) {
        process.env.OPENSSL_ia32cap = mask;
        expect(native!.digestLanes(), mask).toBe(lanesHere && !shaNi);
      }
    }
  });
});

describe.runIf(native !== null)('SHA-256 two at a time with SHA-NI (native/sha256x2.c)', () => {
  it.runIf(pairsHere)('gives the FIPS vectors in either place, whatever the other message', () => {
    for (const [i, [a, da]] of VECTORS.entries()) {
      for (const [j, [b, db]] of VECTORS.entries()) {
        const out = native!.sha256Pair(a, b);
        expect(hex(out.subarray(0, 32)), `${i} beside ${j}`).toBe(da);
        expect(hex(out.subarray(32)), `${j} beside ${i}`).toBe(db);
      }
    }
  });

  it.runIf(pairsHere)('is node:crypto’s SHA-256 for every pair of lengths up to 200 (each padding case), and random ones up to 2 MiB at unaligned offsets', () => {
    const pool = randomBytes(2 * ((2 << 20) + 64));
    const span = (2 << 20) + 64;
    for (let x = 0; x <= 200; x++) {
      for (const y of [0, 1, 55, 56, 63, 64, 65, 119, 120, 127, 128, 200 - x, x]) {
        const a = pool.subarray(3, 3 + x);
        const b = pool.subarray(span + 7, span + 7 + y);
        const out = native!.sha256Pair(a, b);
        expect(hex(out.subarray(0, 32)), `${x} and ${y}`).toBe(hex(sha256(a)));
        expect(hex(out.subarray(32)), `${x} and ${y}`).toBe(hex(sha256(b)));
      }
    }
    for (let round = 0; round < 40; round++) {
      const lengths = [Math.floor(Math.random() * (2 << 20)), round % 4 === 0 ? 16 * (65536 + 16) : Math.floor(Math.random() * (2 << 20))];
      const [a, b] = lengths.map((n, i) => {
        const offset = i * span + Math.floor(Math.random() * 64);
        return pool.subarray(offset, offset + n);
      }) as [Buffer, Buffer];
      const out = native!.sha256Pair(a, b);
      expect(hex(out.subarray(0, 32)), `round ${round}: ${a.length} at ${a.byteOffset}`).toBe(hex(sha256(a)));
      expect(hex(out.subarray(32)), `round ${round}: ${b.length} at ${b.byteOffset}`).toBe(hex(sha256(b)));
    }
  });

  it('refuses anything but two Uint8Arrays (and everything where SHA-NI is not)', () => {
    const call = native!.sha256Pair as unknown as (...args: unknown[]) => Buffer;
    for (const wrong of [[], [new Uint8Array(1)], ['a', 'b'], [new Uint8Array(1), new Uint16Array(2)], [new Uint8Array(1), new Uint8Array(1), new Uint8Array(1)]]) {
      expect(() => call(...wrong), `${wrong.length} arguments`).toThrow(RangeError);
    }
    if (!pairsHere) expect(() => native!.sha256Pair(Buffer.from('a'), Buffer.from('b'))).toThrow(RangeError);
  });

  it('is chosen where SHA-NI is and OpenSSL sees it, unless PLI_SHA256_PAIRS=0', () => {
    delete process.env.OPENSSL_ia32cap;
    delete process.env.PLI_SHA256_PAIRS;
    expect(native!.digestPairs()).toBe(pairsHere);
    process.env.PLI_SHA256_PAIRS = '0';
    expect(native!.digestPairs()).toBe(false);
    delete process.env.PLI_SHA256_PAIRS;
    for (const mask of SHA_NI_MASKED) {
      process.env.OPENSSL_ia32cap = mask;
      expect(native!.digestPairs(), mask).toBe(false);
    }
    process.env.OPENSSL_ia32cap = ':~0x1';
    expect(native!.digestPairs()).toBe(pairsHere);
  });
});

/** Version 1's digest: one SHA-256 over the prefix and every sealed byte. */
const digestV1 = (prefix: Uint8Array, sealed: Uint8Array): Buffer => digestByHand(1, prefix, sealed);

/** Version 2's digest, as docs/format.md section 11 writes it: the leaves of the 16-chunk blocks, then the root. */
function digestV2(prefix: Uint8Array, sealed: Uint8Array): Buffer {
  expect(sealed.length % CHUNK_SEALED).toBe(0);
  return digestByHand(2, prefix, sealed);
}

/** Who hashes the reader's leaves of the blocks not pre-hashed, in version 2 without the lanes:
 * [name, PLI_READER_HASHER, PLI_SHA256_PAIRS]. With pairs (where SHA-NI is) a worker hashes each
 * block's leaf with its next block's; 46 blocks leave each worker one block alone at the end. */
const READER_LEAVES: [string, string | undefined, string | undefined][] = [
  ['its workers, two leaves at a time where SHA-NI is', undefined, undefined],
  ['its workers, one leaf at a time (PLI_SHA256_PAIRS=0)', undefined, '0'],
  ['its hashing thread (PLI_READER_HASHER=1)', '1', undefined],
];
function readerLeaves(hasher: string | undefined, pairs: string | undefined): void {
  if (hasher === undefined) delete process.env.PLI_READER_HASHER;
  else process.env.PLI_READER_HASHER = hasher;
  if (pairs === undefined) delete process.env.PLI_SHA256_PAIRS;
  else process.env.PLI_SHA256_PAIRS = pairs;
}

describe.runIf(native !== null && posix)('the streams’ digest in version 2 (native/stream.c, native/reader.c)', () => {
  const key = randomBytes(32);
  const prefixV1 = Buffer.concat([Buffer.from('pli/v1/sig/container\0'), randomBytes(100)]);
  const prefixV2 = Buffer.concat([Buffer.from('pli/v1/sig/container/v2\0'), randomBytes(100)]);
  const HEADER = 777; // the chunks start after a stand-in header in the reader's file
  let root: string;
  beforeAll(() => void (root = mkdtempSync(path.join(os.tmpdir(), 'pli-native-digest-'))));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  /** Seals `data` with the addon's stream in `version`: the sealed bytes and the digest it gives.
   * `control`: the stream's control array (2 elements: the full ring from the start; 3: narrow
   * until its element 2 is set), which `meanwhile` may set while the stream runs. */
  async function seal(data: Buffer, prefix: Uint8Array, version: number, control: Int32Array<ArrayBuffer> = new Int32Array(2), meanwhile?: (control: Int32Array) => Promise<void>): Promise<{ sealed: Buffer; digest: Buffer; chunks: number }> {
    const dir = mkdtempSync(path.join(root, 'seal-'));
    writeFileSync(path.join(dir, 'in'), data);
    const fd = openSync(path.join(dir, 'in'), 'r');
    const outFd = openSync(path.join(dir, 'out'), 'w');
    const context = native!.context(key, true);
    const chunks = Math.max(1, Math.ceil(data.length / CHUNK_PLAIN));
    try {
      const running = native!.stream(context, new Uint8Array(0), Int32Array.of(fd), Float64Array.of(data.length), chunks, outFd, prefix, control, version);
      const [digest] = await Promise.all([running, meanwhile?.(control)]);
      return { sealed: readFileSync(path.join(dir, 'out')), digest, chunks };
    } finally {
      native!.close(context);
      closeSync(fd);
      closeSync(outFd);
    }
  }

  /** Runs `body` with the addon's reader started on `file` (its chunks after HEADER bytes; the
   * reader reads PLI_SHA256_LANES as it starts), an opening context and `out` created for the
   * plaintext; closes all of them after. */
  async function withReader<T>(file: string, out: string, chunks: number, prefix: Uint8Array, version: number,
    body: (reader: object, context: object, outFd: number) => Promise<T>): Promise<T> {
    const fd = openSync(file, 'r');
    const outFd = openSync(out, 'wx');
    const context = native!.context(key, false);
    const reader = native!.readerStart(fd, HEADER, chunks, prefix, version);
    try {
      return await body(reader, context, outFd);
    } finally {
      native!.readerClose(reader);
      native!.close(context);
      closeSync(fd);
      closeSync(outFd);
    }
  }

  /** Opens `sealed` (after a header) with the addon's reader in `version`, the pre-hash waited
   * for whole or not: the digest, checked with the plaintext it writes. */
  async function open(sealed: Buffer, data: Buffer, chunks: number, prefix: Uint8Array, version: number, wait: boolean): Promise<Buffer> {
    const dir = mkdtempSync(path.join(root, 'open-'));
    writeFileSync(path.join(dir, 'c.pli'), Buffer.concat([randomBytes(HEADER), sealed]));
    return withReader(path.join(dir, 'c.pli'), path.join(dir, 'out'), chunks, prefix, version, async (reader, context, outFd) => {
      const blocks = Math.ceil(chunks / 16);
      if (wait) await expect.poll(() => native!.readerPrehashed(reader), { timeout: 10_000, interval: 2 }).toBe(blocks);
      const digest = await native!.readerOpen(reader, context, new Uint8Array(0), Int32Array.of(outFd), Float64Array.of(data.length), new Int32Array(2));
      expect(readFileSync(path.join(dir, 'out')).equals(data)).toBe(true);
      return digest;
    });
  }

  // 129 chunks: 9 blocks, a batch of 8 in the lanes and one more; 48: 3 blocks, the fewest the lanes take.
  const COUNTS = [1, 15, 16, 17, 48, 129];

  for (const lanes of ['1', '0']) {
    it.each(COUNTS)(`PLI_SHA256_LANES=${lanes}: %i chunks, the writer and the reader give the leaves' digest`, async (chunks) => {
      const data = randomBytes((chunks - 1) * CHUNK_PLAIN + 1 + Math.floor(Math.random() * (CHUNK_PLAIN - 1)));
      process.env.PLI_SHA256_LANES = lanes;
      expect(native!.digestLanes()).toBe(lanes === '1' && lanesHere);
      const { sealed, digest } = await seal(data, prefixV2, 2);
      expect(sealed.length).toBe(chunks * CHUNK_SEALED);
      const expected = digestV2(prefixV2, sealed);
      // The reference is not version 1's digest (nor the stream's, by accident of the prefix).
      expect(expected.equals(digestV1(prefixV2, sealed))).toBe(false);
      expect(hex(digest)).toBe(hex(expected));
      for (const wait of [true, false]) {
        process.env.PLI_SHA256_LANES = lanes;
        expect(hex(await open(sealed, data, chunks, prefixV2, 2, wait)), `wait for the pre-hash: ${wait}`).toBe(hex(expected));
      }
    });
  }

  it.each(['1', '0'])('PLI_SHA256_LANES=%s: the reader handed over in the middle of the pre-hash (mid-batch with the lanes) still gives the digest', async (lanes) => {
    const chunks = 20 * 16 + 3; // 21 blocks: two batches of 8 and a short one
    const data = randomBytes(chunks * CHUNK_PLAIN - 100);
    process.env.PLI_SHA256_LANES = lanes;
    const { sealed, digest } = await seal(data, prefixV2, 2);
    expect(hex(digest)).toBe(hex(digestV2(prefixV2, sealed)));
    const dir = mkdtempSync(path.join(root, 'handoff-'));
    writeFileSync(path.join(dir, 'c.pli'), Buffer.concat([randomBytes(HEADER), sealed]));
    for (const after of [1, 9, 17]) {
      process.env.PLI_SHA256_LANES = lanes;
      await withReader(path.join(dir, 'c.pli'), path.join(dir, `out-${after}`), chunks, prefixV2, 2, async (reader, context, outFd) => {
        await expect.poll(() => native!.readerPrehashed(reader), { timeout: 10_000, interval: 1 }).toBeGreaterThanOrEqual(Math.min(after, 21));
        const opened = await native!.readerOpen(reader, context, new Uint8Array(0), Int32Array.of(outFd), Float64Array.of(data.length), new Int32Array(2));
        expect(hex(opened), `opened after ${native!.readerPrehashed(reader)} blocks pre-hashed`).toBe(hex(digest));
        expect(readFileSync(path.join(dir, `out-${after}`)).equals(data)).toBe(true);
      });
    }
  });

  /** 46 blocks, the last of 5 chunks: more than the workers' window of 32 leaves, and an even
   * count, so that with pairs each worker ends with one block alone. */
  const CHUNKS_46 = 45 * 16 + 5;
  /** `data` sealed by the writer in version 2 without the lanes (the leaves one at a time). */
  const sealWithoutLanes = (data: Buffer) => {
    process.env.PLI_SHA256_LANES = '0';
    return seal(data, prefixV2, 2);
  };

  it.each(READER_LEAVES)('PLI_SHA256_LANES=0: the reader hashes the leaves with %s, and gives the digest of 46 blocks whatever the pre-hash did', async (_, hasher, pairs) => {
    // More blocks than the workers' window of 32 leaves; the pre-hash taken over at once, after
    // 20 blocks or at its end.
    const data = randomBytes(CHUNKS_46 * CHUNK_PLAIN - 1000);
    const { sealed, digest } = await sealWithoutLanes(data);
    expect(hex(digest)).toBe(hex(digestV2(prefixV2, sealed)));
    const dir = mkdtempSync(path.join(root, 'leaves-'));
    writeFileSync(path.join(dir, 'c.pli'), Buffer.concat([randomBytes(HEADER), sealed]));
    for (const after of [0, 20, 46]) {
      process.env.PLI_SHA256_LANES = '0';
      readerLeaves(hasher, pairs);
      await withReader(path.join(dir, 'c.pli'), path.join(dir, `out-${after}`), CHUNKS_46, prefixV2, 2, async (reader, context, outFd) => {
        if (after > 0) await expect.poll(() => native!.readerPrehashed(reader), { timeout: 10_000, interval: 1 }).toBeGreaterThanOrEqual(after);
        const control = new Int32Array(2);
        const opened = await native!.readerOpen(reader, context, new Uint8Array(0), Int32Array.of(outFd), Float64Array.of(data.length), control);
        expect(hex(opened), `opened after ${native!.readerPrehashed(reader)} blocks pre-hashed`).toBe(hex(digest));
        expect(readFileSync(path.join(dir, `out-${after}`)).equals(data)).toBe(true);
      });
    }
  });

  it.each(READER_LEAVES)('PLI_SHA256_LANES=0: a block sealed again with valid tags by someone with the key, not pre-hashed, is in the digest %s gives: not the digest the sender signed', async (_, hasher, pairs) => {
    // 46 blocks; block 40 holds other plaintext under the same key and nonces (what a recipient
    // could pass on). Opened at once, the pre-hash has not reached it: the worker path hashes it.
    const data = randomBytes(CHUNKS_46 * CHUNK_PLAIN - 1000);
    const { sealed, digest } = await sealWithoutLanes(data);
    const forgedData = Buffer.from(data);
    randomBytes(16 * CHUNK_PLAIN).copy(forgedData, 40 * 16 * CHUNK_PLAIN);
    const forged = (await sealWithoutLanes(forgedData)).sealed;
    expect(forged.subarray(0, 40 * BLOCK_SEALED).equals(sealed.subarray(0, 40 * BLOCK_SEALED))).toBe(true);
    const dir = mkdtempSync(path.join(root, 'resealed-'));
    writeFileSync(path.join(dir, 'c.pli'), Buffer.concat([randomBytes(HEADER), forged]));
    process.env.PLI_SHA256_LANES = '0';
    readerLeaves(hasher, pairs);
    await withReader(path.join(dir, 'c.pli'), path.join(dir, 'out'), CHUNKS_46, prefixV2, 2, async (reader, context, outFd) => {
      const opened = await native!.readerOpen(reader, context, new Uint8Array(0), Int32Array.of(outFd), Float64Array.of(data.length), new Int32Array(2));
      expect(native!.readerPrehashed(reader)).toBeLessThanOrEqual(40);
      expect(hex(opened)).toBe(hex(digestV2(prefixV2, forged)));
      expect(hex(opened)).not.toBe(hex(digest));
    });
  });

  it('PLI_SHA256_LANES=1: a block replaced after its pre-hash (in lanes) by one whose tags verify is refused as changed', async () => {
    const chunks = 129;
    process.env.PLI_SHA256_LANES = '1';
    const data = randomBytes(chunks * CHUNK_PLAIN - 5);
    const { sealed } = await seal(data, prefixV2, 2);
    // Another plaintext under the same key and nonces: blocks whose tags verify (someone who knows the file key).
    const { sealed: other } = await seal(randomBytes(data.length), prefixV2, 2);
    for (const index of [0, 7, 8]) {
      const dir = mkdtempSync(path.join(root, 'forged-'));
      const file = path.join(dir, 'c.pli');
      writeFileSync(file, Buffer.concat([randomBytes(HEADER), sealed]));
      process.env.PLI_SHA256_LANES = '1';
      await withReader(file, path.join(dir, 'out'), chunks, prefixV2, 2, async (reader, context, outFd) => {
        await expect.poll(() => native!.readerPrehashed(reader), { timeout: 10_000, interval: 2 }).toBe(9);
        const start = index * BLOCK_SEALED;
        const writer = openSync(file, 'r+');
        const forged = other.subarray(start, start + BLOCK_SEALED); // block 8 is the last: one chunk
        expect(forged.equals(sealed.subarray(start, start + BLOCK_SEALED))).toBe(false);
        writeSync(writer, forged, 0, forged.length, HEADER + start);
        closeSync(writer);
        await expect(native!.readerOpen(reader, context, new Uint8Array(0), Int32Array.of(outFd), Float64Array.of(data.length), new Int32Array(2)))
          .rejects.toMatchObject({ code: 'ERR_PLI_READER_CHANGED', block: index });
        // None of the forged plaintext was written (the block's place holds zeros or nothing).
        const out = readFileSync(path.join(dir, 'out'));
        const place = out.subarray(index * 16 * CHUNK_PLAIN, (index + 1) * 16 * CHUNK_PLAIN);
        expect(place.every((b) => b === 0), `block ${index}`).toBe(true);
      });
    }
  });

  it('PLI_SHA256_LANES=1: the writer widened before it starts, after 1, 5, 16, 17 or 40 blocks, or never, gives the same bytes and digest', async () => {
    // 50 blocks and 3 chunks: the narrow ring (8 slots) turns into the wide one (16) at a block
    // that is a multiple of 16, once every block before it is hashed; any moment of the caller's
    // unlock must give what the full ring gives.
    const chunks = 50 * 16 + 3;
    const data = randomBytes(chunks * CHUNK_PLAIN - 7);
    process.env.PLI_SHA256_LANES = '1';
    const reference = await seal(data, prefixV2, 2);
    expect(hex(reference.digest)).toBe(hex(digestV2(prefixV2, reference.sealed)));
    /** Sets control[2] once the stream has written `blocks` blocks. */
    const widenAfter = (blocks: number) => async (control: Int32Array) => {
      while (Atomics.load(control, 1) < blocks) await new Promise((resolve) => setImmediate(resolve));
      Atomics.store(control, 2, 1);
    };
    const cases: [string, Int32Array<ArrayBuffer>, ((control: Int32Array) => Promise<void>) | undefined][] = [
      ['before it starts', Int32Array.of(0, 0, 1), undefined],
      ['never', new Int32Array(3), undefined],
      ...[1, 5, 16, 17, 40].map((n): [string, Int32Array<ArrayBuffer>, (control: Int32Array) => Promise<void>] => [`after ${n} blocks`, new Int32Array(3), widenAfter(n)]),
    ];
    for (const [when, control, meanwhile] of cases) {
      process.env.PLI_SHA256_LANES = '1';
      const run = await seal(data, prefixV2, 2, control, meanwhile);
      expect(run.sealed.equals(reference.sealed), when).toBe(true);
      expect(hex(run.digest), when).toBe(hex(reference.digest));
      expect(Atomics.load(control, 1), when).toBe(51); // every block written, counted
    }
  });

  it('the writer refuses a control array of 1 or 4 elements, before any work', () => {
    const dir = mkdtempSync(path.join(root, 'control-'));
    writeFileSync(path.join(dir, 'in'), Buffer.alloc(100, 1));
    const fd = openSync(path.join(dir, 'in'), 'r');
    const outFd = openSync(path.join(dir, 'out'), 'w');
    const context = native!.context(key, true);
    try {
      for (const length of [0, 1, 4]) {
        expect(() => native!.stream(context, new Uint8Array(0), Int32Array.of(fd), Float64Array.of(100), 1, outFd, prefixV2, new Int32Array(length), 2), `${length}`).toThrow(RangeError);
      }
      expect(readFileSync(path.join(dir, 'out')).length).toBe(0);
    } finally {
      native!.close(context);
      closeSync(fd);
      closeSync(outFd);
    }
  });

  it('version 2 with the lanes and without gives the same digest; a changed byte of any block changes it', async () => {
    const chunks = 129;
    const data = randomBytes(chunks * CHUNK_PLAIN - 10);
    process.env.PLI_SHA256_LANES = '1';
    const withLanes = await seal(data, prefixV2, 2);
    process.env.PLI_SHA256_LANES = '0';
    const without = await seal(data, prefixV2, 2);
    // The same key and nonces: the same sealed bytes, so the same digest.
    expect(withLanes.sealed.equals(without.sealed)).toBe(true);
    expect(hex(withLanes.digest)).toBe(hex(without.digest));
    for (const at of [0, BLOCK_SEALED - 1, 8 * BLOCK_SEALED + 5]) {
      const changed = Buffer.from(withLanes.sealed);
      changed[at]! ^= 1;
      expect(digestV2(prefixV2, changed).equals(withLanes.digest), `byte ${at}`).toBe(false);
    }
  });

  it.each(['1', '0'])('version 1 (PLI_SHA256_LANES=%s, which it ignores) is still SHA-256(prefix || sealed chunks), writing and reading', async (lanes) => {
    for (const chunks of [1, 17, 129]) {
      const data = randomBytes(chunks * CHUNK_PLAIN - 3);
      process.env.PLI_SHA256_LANES = lanes;
      const { sealed, digest } = await seal(data, prefixV1, 1);
      expect(hex(digest), `${chunks} chunks`).toBe(hex(digestV1(prefixV1, sealed)));
      expect(digest.equals(digestV2(prefixV1, sealed))).toBe(false);
      for (const wait of [true, false]) expect(hex(await open(sealed, data, chunks, prefixV1, 1, wait)), `${chunks} chunks, wait ${wait}`).toBe(hex(digest));
    }
  });

  it('refuses any other version (or none) before any work, and leaves the context usable', async () => {
    const dir = mkdtempSync(path.join(root, 'wrong-'));
    writeFileSync(path.join(dir, 'in'), Buffer.alloc(100, 1));
    const fd = openSync(path.join(dir, 'in'), 'r');
    const outFd = openSync(path.join(dir, 'out'), 'w');
    const context = native!.context(key, true);
    const args = (version: unknown[]) => [context, new Uint8Array(0), Int32Array.of(fd), Float64Array.of(100), 1, outFd, prefixV2, new Int32Array(2), ...version] as const;
    try {
      for (const wrong of [[0], [3], [1.5], [-1], ['2'], [null], []]) {
        expect(() => (native!.stream as (...a: unknown[]) => unknown)(...args(wrong)), `stream: ${JSON.stringify(wrong)}`).toThrow(RangeError);
        expect(() => (native!.readerStart as (...a: unknown[]) => unknown)(fd, 0, 1, prefixV2, ...wrong), `readerStart: ${JSON.stringify(wrong)}`).toThrow(RangeError);
      }
      expect(readFileSync(path.join(dir, 'out')).length).toBe(0);
      // Nothing was started: the context seals a stream at once.
      const digest = await (native!.stream as (...a: unknown[]) => Promise<Buffer>)(...args([2]));
      expect(hex(digest)).toBe(hex(digestV2(prefixV2, readFileSync(path.join(dir, 'out')))));
    } finally {
      native!.close(context);
      closeSync(fd);
      closeSync(outFd);
    }
  });
});
