// Issue 13, the stream no slower than age: what changed in the writer keeps the format and every
// guarantee. The chunks a cipher makes are freed as soon as they are written and hashed
// (discard.ts), not whenever the collector finds them, and what is not the caller's alone to give
// is never touched. A large container (several blocks, the hash worker, a short last block) is
// the very bytes a straightforward sealer gives, whatever sizes the reads return; a file that
// shrinks while it is sealed, at a block boundary or inside a block, is refused and leaves nothing.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, truncateSync, writeFileSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { discard, ownsMemory } from '../../electron/core/container/discard.js';
import { sealStream, sealToBuffer, sealToFile, type PlainSource, type SealParams } from '../../electron/core/container/seal.js';
import { CHUNK_PLAIN, CHUNK_SEALED, chunkNonce } from '../../electron/core/container/format.js';
import { encodeManifest, mediaTypeFor } from '../../electron/core/container/manifest.js';
import { OFF_THREAD_HASH_BYTES } from '../../electron/core/container/sinks.js';
import { hkdf, SIGNATURE_LABELS } from '../../electron/core/crypto/primitives.js';
import { KDF_INFO } from '../../electron/core/crypto/labels.js';
import { ed25519Verify } from '../../electron/core/crypto/keys.js';
import { PliError } from '../../electron/core/errors.js';
import { makePerson, sealParams, type TestPerson } from './helpers.js';

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
  const key = hkdf(fixed.fileKey, fixed.containerId, KDF_INFO.payload);
  const payload: Buffer[] = [];
  for (let i = 0; i < chunks; i++) {
    const cipher = createCipheriv('aes-256-gcm', key, chunkNonce(i, i === chunks - 1));
    payload.push(cipher.update(plain.subarray(i * CHUNK_PLAIN, (i + 1) * CHUNK_PLAIN)), cipher.final(), cipher.getAuthTag());
  }
  const body = Buffer.concat(payload);
  expect(sealed.subarray(headerLength, headerLength + body.length).equals(body)).toBe(true);
  const digest = createHash('sha256').update(SIGNATURE_LABELS.container, 'ascii').update(header).update(body).digest();
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

describe('a file that shrinks while it is sealed', () => {
  const manifestFor = (size: number) => encodeManifest({ v: 1, sender: sender.id, files: [{ name: NAME, type: mediaTypeFor(NAME), size, mtime: 0 }] });

  for (const [where, inside] of [['at a block boundary', 0], ['inside a block', 1000]] as const) {
    it(`${where}: refused (file-changed), no container, no partial file`, async () => {
      const dir = mkdtempSync(path.join(root, 'shrink-'));
      const input = path.join(dir, NAME);
      writeFileSync(input, DATA);
      const out = path.join(dir, 'pli.pli');
      // The stream is the 4-byte length, the manifest, then the file: its 1 MiB blocks start
      // at multiples of 1 MiB of that stream. The file is cut so that the fourth block's read
      // finds nothing (boundary) or finds less than asked (inside).
      const prefix = 4 + manifestFor(DATA.length).length;
      const cut = 3 * 1024 * 1024 - prefix - inside;
      let done = false;
      const error = await sealToFile([input], out, {
        ...sealParams(sender, [reader]),
        onProgress: () => {
          if (!done) truncateSync(input, cut);
          done = true;
        },
      }).then(() => null, (e: unknown) => e);
      expect(error).toBeInstanceOf(PliError);
      expect((error as PliError).code).toBe('file-changed');
      expect(existsSync(out)).toBe(false);
      expect(readdirSync(dir)).toEqual([NAME]);
    });
  }
});
