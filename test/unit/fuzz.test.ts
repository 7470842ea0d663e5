// Fuzzing the parts that run before anything is authenticated (docs/format.md sections 2, 3, 7.1-2):
// on any input they return or throw a PliError (never a RangeError, TypeError...), never hang, and
// never allocate in proportion to a length the file claims.
import { describe, it, expect, beforeAll } from 'vitest';
import fc from 'fast-check';
import { parsePreamble, parseHeader, chunkCountFor, CHUNK_SEALED, MAX_HEADER, PREAMBLE_BYTES, MAGIC } from '../../electron/core/container/format.js';
import { readInfo, openStream, type CipherSource } from '../../electron/core/container/open.js';
import { bufferSource } from '../../electron/core/container/sinks.js';
import { PliError } from '../../electron/core/errors.js';
import { makePerson, MemorySink, seal, readerCallbacks, type TestPerson } from './helpers.js';

/** Runs `f`; passes if it returns, or throws a PliError of kind security. Returns the error code. */
function outcome(f: () => unknown): string {
  try {
    f();
    return 'ok';
  } catch (error) {
    if (!(error instanceof PliError)) throw new Error(`not a PliError: ${(error as Error)?.stack ?? String(error)}`);
    expect(error.kind).toBe('security');
    return error.code;
  }
}
async function outcomeAsync(f: () => Promise<unknown>): Promise<string> {
  try {
    await f();
    return 'ok';
  } catch (error) {
    if (!(error instanceof PliError)) throw new Error(`not a PliError: ${(error as Error)?.stack ?? String(error)}`);
    expect(error.kind).toBe('security');
    return error.code;
  }
}

/** A source over `bytes` that may claim another size, and records the largest read it was asked for. */
function recordingSource(bytes: Buffer, claimedSize = bytes.length): CipherSource & { largestRead: number; totalRead: number } {
  const source = {
    size: claimedSize,
    largestRead: 0,
    totalRead: 0,
    read: async (target: Buffer, offset: number, length: number, position: number) => {
      source.largestRead = Math.max(source.largestRead, length);
      // Past the stored bytes of a source that claims to be larger: zeros, like a sparse file.
      const n = position >= bytes.length ? (target.fill(0, offset, offset + length), length)
        : bytes.copy(target, offset, position, Math.min(bytes.length, position + length));
      source.totalRead += n;
      return n;
    },
  };
  return source;
}

let alice: TestPerson, bob: TestPerson, carol: TestPerson;
let container: Buffer; // three recipients, one chunk
let headerLength: number;
beforeAll(async () => {
  [alice, bob, carol] = await Promise.all([makePerson(), makePerson(), makePerson()]);
  container = await seal(alice, [alice, bob, carol], [{ name: 'a.txt', data: Buffer.from('hello') }]);
  headerLength = container.readUInt32BE(12);
});
const preambleOf = (b: Buffer) => b.subarray(0, PREAMBLE_BYTES);
const bodyOf = (b: Buffer) => b.subarray(PREAMBLE_BYTES, PREAMBLE_BYTES + headerLength);

describe('parsePreamble', () => {
  it('random bytes, and random bytes behind the right magic', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 40 }), fc.boolean(), (random, withMagic) => {
      const bytes = Buffer.from(random);
      if (withMagic) MAGIC.copy(bytes, 0, 0, Math.min(8, bytes.length));
      const result = outcome(() => parsePreamble(bytes));
      if (result === 'ok') {
        const length = parsePreamble(bytes);
        expect(bytes.subarray(0, 8).equals(MAGIC) && bytes.readUInt16BE(8) === 1 && bytes.readUInt16BE(10) === 1).toBe(true);
        expect(length).toBeGreaterThanOrEqual(70);
        expect(length).toBeLessThanOrEqual(MAX_HEADER);
      }
    }), { numRuns: 3000 });
  });

  it('header_len at and around its bounds; version and suite', () => {
    const p = Buffer.from(preambleOf(container));
    const withLength = (n: number) => { const q = Buffer.from(p); q.writeUInt32BE(n, 12); return q; };
    expect(parsePreamble(withLength(MAX_HEADER))).toBe(MAX_HEADER);
    for (const n of [0, 1, 69, MAX_HEADER + 1, 0x7fffffff, 0xffffffff]) expect(outcome(() => parsePreamble(withLength(n)))).toBe('malformed');
    // Versions 1 and 2 are read (format.md 2, 11); any other version, and any other suite, is refused.
    for (const [offset, value] of [[8, 0], [8, 3], [8, 0xffff], [10, 0], [10, 2], [8, 0x100], [8, 0x200]] as const) {
      const q = Buffer.from(p);
      q.writeUInt16BE(value, offset);
      expect(outcome(() => parsePreamble(q))).toBe('malformed');
    }
    for (const version of [1, 2]) {
      const q = Buffer.from(p);
      q.writeUInt16BE(version, 8);
      expect(parsePreamble(q)).toBe(p.readUInt32BE(12));
    }
  });
});

describe('chunkCountFor', () => {
  it('returns N >= 1 only for the exact length 16 + header + N * 65552 + 64', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 2 ** 50 }), fc.integer({ min: 0, max: MAX_HEADER }), (total, header) => {
      const result = outcome(() => chunkCountFor(total, header));
      if (result === 'ok') {
        const n = chunkCountFor(total, header);
        expect(n).toBeGreaterThanOrEqual(1);
        expect(total).toBe(PREAMBLE_BYTES + header + n * CHUNK_SEALED + 64);
      }
    }), { numRuns: 3000 });
    // Exact lengths, and one byte off.
    fc.assert(fc.property(fc.integer({ min: 1, max: 2 ** 32 }), fc.integer({ min: 175, max: MAX_HEADER }), fc.constantFrom(-1, 0, 1), (n, header, delta) => {
      const total = PREAMBLE_BYTES + header + n * CHUNK_SEALED + 64 + delta;
      expect(outcome(() => chunkCountFor(total, header))).toBe(delta === 0 ? 'ok' : 'malformed');
    }), { numRuns: 2000 });
    expect(outcome(() => chunkCountFor(PREAMBLE_BYTES + 200 + (2 ** 32 + 1) * CHUNK_SEALED + 64, 200))).toBe('malformed');
    expect(outcome(() => chunkCountFor(PREAMBLE_BYTES + 200 + 64, 200))).toBe('malformed');
  });
});

// Mutations that keep most of a valid header, aimed at its lengths, counts and types. Each is a
// no-op on a buffer too short for it (an earlier mutation may have truncated it).
type Mutation = (b: Buffer) => Buffer;
const at = (end: number, f: (c: Buffer) => void): Mutation => (b) => { if (b.length < end) return b; const c = Buffer.from(b); f(c); return c; };
const ENTRY = 3 + 1200;
const FIRST_ENTRY = 68; // offset in the body of the first recipient entry
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ i: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }).map(({ i, bit }) => at(1, (c) => { c[i % c.length]! ^= 1 << bit; })),
  fc.record({ i: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }).map(({ i, value }) => at(1, (c) => { c[i % c.length] = value; })),
  // recipient_count
  fc.integer({ min: 0, max: 0xffff }).map((n) => at(FIRST_ENTRY, (c) => c.writeUInt16BE(n, FIRST_ENTRY - 2))),
  // type and body_len of entry k
  fc.record({ k: fc.integer({ min: 0, max: 2 }), type: fc.integer({ min: 0, max: 255 }), len: fc.oneof(fc.integer({ min: 0, max: 0xffff }), fc.constantFrom(72, 1200, 1199, 1201, 71, 73)) })
    .map(({ k, type, len }) => at(FIRST_ENTRY + k * ENTRY + 3, (c) => { const o = FIRST_ENTRY + k * ENTRY; c[o] = type; c.writeUInt16BE(len, o + 1); })),
  // truncate, extend, cut out or duplicate a region
  fc.nat().map((n) => (b: Buffer) => b.subarray(0, n % (b.length + 1))),
  fc.uint8Array({ minLength: 1, maxLength: 100 }).map((extra) => (b: Buffer) => Buffer.concat([b, extra])),
  fc.record({ i: fc.nat(), len: fc.integer({ min: 1, max: 1300 }) }).map(({ i, len }) => (b: Buffer) => { const s = i % (b.length + 1); return Buffer.concat([b.subarray(0, s), b.subarray(s + len)]); }),
  fc.record({ i: fc.nat(), len: fc.integer({ min: 1, max: 1300 }) }).map(({ i, len }) => (b: Buffer) => { const s = i % (b.length + 1); return Buffer.concat([b.subarray(0, s + len), b.subarray(s)]); }),
  // a password entry placed among X-Wing entries (must be alone), or a duplicated key fingerprint
  fc.integer({ min: 0, max: 2 }).map((k) => at(FIRST_ENTRY + k * ENTRY + 3, (c) => { const o = FIRST_ENTRY + k * ENTRY; c[o] = 2; c.writeUInt16BE(72, o + 1); })),
  fc.constant(at(FIRST_ENTRY + 2 * ENTRY, (c) => { c.copy(c, FIRST_ENTRY + ENTRY + 3, FIRST_ENTRY + 3, FIRST_ENTRY + 3 + 32); })),
);

describe('parseHeader', () => {
  it('accepts the untouched header', () => {
    const h = parseHeader(preambleOf(container), bodyOf(container));
    expect(h.recipients).toHaveLength(3);
  });

  it('random bodies of the declared length', () => {
    fc.assert(fc.property(fc.integer({ min: 175, max: 6000 }), fc.uint8Array({ minLength: 0, maxLength: 6000 }), (length, random) => {
      const preamble = Buffer.from(preambleOf(container));
      preamble.writeUInt32BE(length, 12);
      const body = Buffer.alloc(length);
      Buffer.from(random).copy(body);
      outcome(() => parseHeader(preamble, body));
    }), { numRuns: 2000 });
  });

  it('mutated valid headers (1 to 4 mutations), with header_len fixed up or not', () => {
    const codes = new Map<string, number>();
    fc.assert(fc.property(fc.array(mutation, { minLength: 1, maxLength: 4 }), fc.boolean(), (mutations, fixLength) => {
      let body: Buffer = Buffer.from(bodyOf(container));
      for (const m of mutations) body = m(body);
      const preamble = Buffer.from(preambleOf(container));
      if (fixLength) preamble.writeUInt32BE(body.length, 12);
      const code = outcome(() => parseHeader(preamble, body));
      codes.set(code, (codes.get(code) ?? 0) + 1);
      if (code === 'ok') {
        // Whatever was accepted is self-consistent: re-encoding rules hold.
        const h = parseHeader(preamble, body);
        expect(h.recipients.length).toBeGreaterThanOrEqual(1);
        expect(h.headerBytes.length).toBe(PREAMBLE_BYTES + body.length);
        expect(new Set(h.recipients.filter((r) => r.type === 'xwing').map((r) => r.keyFpr.toString('hex'))).size)
          .toBe(h.recipients.filter((r) => r.type === 'xwing').length);
        if (h.recipients.some((r) => r.type === 'password')) expect(h.recipients).toHaveLength(1);
      }
    }), { numRuns: 4000 });
    // The mutations reach the parser's refusals (not only "truncated"), and some survive parsing.
    expect(codes.get('malformed')).toBeGreaterThan(1000);
    expect(codes.get('ok') ?? 0).toBeGreaterThan(0);
  });
});

describe('readInfo on whole files', () => {
  it('random files, and mutated containers: PliError or a consistent result', async () => {
    await fc.assert(fc.asyncProperty(fc.uint8Array({ maxLength: 300 }), async (random) => {
      const bytes = Buffer.from(random);
      if (bytes.length >= 8 && random[0]! % 2 === 0) MAGIC.copy(bytes);
      await outcomeAsync(() => readInfo(bufferSource(bytes)));
    }), { numRuns: 2000 });
    await fc.assert(fc.asyncProperty(fc.array(mutation, { minLength: 1, maxLength: 3 }), async (mutations) => {
      let bytes: Buffer = Buffer.from(container);
      for (const m of mutations) bytes = m(bytes);
      const code = await outcomeAsync(() => readInfo(bufferSource(bytes)));
      if (code === 'ok') {
        const info = await readInfo(bufferSource(bytes));
        expect(bytes.length).toBe(info.header.headerBytes.length + info.chunks * CHUNK_SEALED + 64);
      }
    }), { numRuns: 2000 });
  });

  it('never reads (allocates) more than the bounded header, whatever header_len or file size is claimed', async () => {
    await fc.assert(fc.asyncProperty(
      fc.oneof(fc.constantFrom(0xffffffff, 0x80000000, MAX_HEADER + 1, MAX_HEADER, 2 ** 24), fc.integer({ min: 0, max: 0xffffffff })),
      fc.oneof(fc.integer({ min: 0, max: 2 ** 53 - 1 }), fc.constant(-1)),
      async (claimedHeader, claimedSize) => {
        const bytes = Buffer.from(container);
        bytes.writeUInt32BE(claimedHeader, 12);
        // -1: a size that matches the claimed header exactly, with one chunk.
        const size = claimedSize === -1 ? PREAMBLE_BYTES + claimedHeader + CHUNK_SEALED + 64 : claimedSize;
        const source = recordingSource(bytes, size);
        await outcomeAsync(() => readInfo(source));
        expect(source.largestRead).toBeLessThanOrEqual(MAX_HEADER);
        expect(source.totalRead).toBeLessThanOrEqual(PREAMBLE_BYTES + MAX_HEADER);
      },
    ), { numRuns: 1000 });
  });

  it('a file claiming 2^32 chunks is refused at the first chunk, reading a bounded amount', async () => {
    const claimed = PREAMBLE_BYTES + headerLength + 2 ** 32 * CHUNK_SEALED + 64;
    const source = recordingSource(container, claimed);
    const info = await readInfo(recordingSource(container, claimed));
    expect(info.chunks).toBe(2 ** 32);
    const error = await openStream(source, new MemorySink(), readerCallbacks(bob, [alice])).then(() => null, (e: unknown) => e);
    expect(error).toBeInstanceOf(PliError);
    expect((error as PliError).code).toBe('tampered');
    // The first 64-chunk block and the prefetch of the next one, no more.
    expect(source.totalRead).toBeLessThanOrEqual(PREAMBLE_BYTES + headerLength + 2 * 64 * CHUNK_SEALED);
    expect(outcome(() => chunkCountFor(claimed + CHUNK_SEALED, headerLength))).toBe('malformed');
  });
});
