// The chunk cipher's two back-ends (electron/core/container/gcm.ts): the addon built from native/gcm.c
// and Node's Cipher API must give the same bytes and the same refusals; a failed tag releases
// nothing; a wrong size throws before any byte is written.
import { createSecretKey, randomBytes, randomInt } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { chunkOpener, chunkSealer, gcmAddonFile, gcmBackend, type GcmBackend } from '../../electron/core/container/gcm.js';
import { chunkNonce } from '../../electron/core/container/format.js';

const PLAIN = 65536;
const SEALED = PLAIN + 16;
const BACKENDS: GcmBackend[] = ['addon', 'node'];

function noncesFor(first: number, count: number, last: number): Buffer {
  const nonces = Buffer.alloc(count * 12);
  for (let c = 0; c < count; c++) chunkNonce(first + c, first + c === last, nonces.subarray(c * 12, (c + 1) * 12));
  return nonces;
}

function seal(backend: GcmBackend, key: Buffer, plain: Buffer, nonces: Buffer): Buffer {
  const out = Buffer.alloc((plain.length / PLAIN) * SEALED);
  const sealer = chunkSealer(createSecretKey(key), backend);
  sealer.seal(plain, nonces, out);
  sealer.close();
  return out;
}

function open(backend: GcmBackend, key: Buffer, sealed: Buffer, nonces: Buffer): { bad: number; out: Buffer } {
  const out = Buffer.alloc((sealed.length / SEALED) * PLAIN, 0xaa);
  const opener = chunkOpener(createSecretKey(key), backend);
  const bad = opener.open(sealed, nonces, out);
  opener.close();
  return { bad, out };
}

describe('chunk cipher: addon and Node agree', () => {
  it('the addon is built by the installation and is the one used', () => {
    const root = path.dirname(createRequire(import.meta.url).resolve('pli-native/package.json'));
    expect(existsSync(path.join(root, 'build', 'Release', 'pli_gcm.node'))).toBe(true);
    expect(gcmAddonFile()).not.toBeNull();
    expect(gcmBackend()).toBe('addon');
  });

  it('same sealed bytes, and each opens the other, for random keys, positions and contents', () => {
    for (let round = 0; round < 24; round++) {
      const key = randomBytes(32);
      const count = randomInt(1, 5);
      const first = round % 3 === 0 ? randomInt(2 ** 32, 2 ** 40) : randomInt(0, 1000);
      const plain = randomBytes(count * PLAIN);
      const nonces = noncesFor(first, count, first + count - 1 - (round % 2));
      const byAddon = seal('addon', key, plain, nonces);
      const byNode = seal('node', key, plain, nonces);
      expect(byAddon.equals(byNode), `round ${round}`).toBe(true);
      for (const backend of BACKENDS) {
        const { bad, out } = open(backend, key, byAddon, nonces);
        expect(bad).toBe(-1);
        expect(out.equals(plain), `${backend}, round ${round}`).toBe(true);
      }
    }
  });
});

describe('chunk cipher: tampering releases nothing', () => {
  const key = randomBytes(32);
  const plain = randomBytes(3 * PLAIN);
  const nonces = noncesFor(7, 3, 9);
  const sealed = seal('addon', key, plain, nonces);

  const cases: [string, () => { sealed: Buffer; nonces: Buffer; key: Buffer; chunk: number }][] = [
    ['a bit flipped in the ciphertext of chunk 2', () => { const s = Buffer.from(sealed); s[SEALED + PLAIN - 1]! ^= 0x80; return { sealed: s, nonces, key, chunk: 1 }; }],
    ['a bit flipped in the tag of chunk 3', () => { const s = Buffer.from(sealed); s[3 * SEALED - 1]! ^= 1; return { sealed: s, nonces, key, chunk: 2 }; }],
    ['chunks 1 and 2 swapped', () => ({ sealed: Buffer.concat([sealed.subarray(SEALED, 2 * SEALED), sealed.subarray(0, SEALED), sealed.subarray(2 * SEALED)]), nonces, key, chunk: 0 })],
    ['the last chunk read as not last (the last-chunk flag)', () => ({ sealed, nonces: noncesFor(7, 3, 10), key, chunk: 2 }) ],
    ['another key', () => ({ sealed, nonces, key: randomBytes(32), chunk: 0 })],
  ];
  for (const [name, make] of cases) {
    it(`${name}: refused at that chunk, output zeroed, by both back-ends`, () => {
      const t = make();
      for (const backend of BACKENDS) {
        const { bad, out } = open(backend, t.key, t.sealed, t.nonces);
        expect(bad, backend).toBe(t.chunk);
        expect(out.every((b) => b === 0), `${backend}: nothing released`).toBe(true);
      }
    });
  }
});

describe('chunk cipher: wrong sizes throw and write nothing', () => {
  const key = createSecretKey(randomBytes(32));
  const nonces = noncesFor(0, 2, 1);
  for (const backend of BACKENDS) {
    it(`${backend}: seal and open refuse inputs that are not whole chunks, short outputs, bad nonces`, () => {
      const sealer = chunkSealer(key, backend);
      const opener = chunkOpener(key, backend);
      const calls: [string, (out: Buffer) => unknown, number][] = [
        ['plain one byte short', (out) => sealer.seal(Buffer.alloc(2 * PLAIN - 1), nonces, out), 2 * SEALED],
        ['plain one chunk more than nonces', (out) => sealer.seal(Buffer.alloc(3 * PLAIN), nonces, out), 3 * SEALED],
        ['seal output one byte short', (out) => sealer.seal(Buffer.alloc(2 * PLAIN), nonces, out), 2 * SEALED - 1],
        ['no nonce', (out) => sealer.seal(Buffer.alloc(0), Buffer.alloc(0), out), SEALED],
        ['nonces not a multiple of 12', (out) => sealer.seal(Buffer.alloc(PLAIN), Buffer.alloc(13), out), SEALED],
        ['sealed block truncated', (out) => opener.open(Buffer.alloc(2 * SEALED - 16), nonces, out), 2 * PLAIN],
        ['open output one byte short', (out) => opener.open(Buffer.alloc(2 * SEALED), nonces, out), 2 * PLAIN - 1],
      ];
      for (const [name, call, outBytes] of calls) {
        const out = Buffer.alloc(outBytes, 0xaa);
        expect(() => call(out), name).toThrow(RangeError);
        expect(out.every((b) => b === 0xaa), `${name}: output untouched`).toBe(true);
      }
      sealer.close();
      opener.close();
    });
  }

  it('a closed addon context refuses to work (its key is gone)', () => {
    const sealer = chunkSealer(key, 'addon');
    sealer.close();
    expect(() => sealer.seal(Buffer.alloc(PLAIN), noncesFor(0, 1, 0), Buffer.alloc(SEALED))).toThrow(RangeError);
    const opener = chunkOpener(key, 'addon');
    opener.close();
    expect(() => opener.open(Buffer.alloc(SEALED), noncesFor(0, 1, 0), Buffer.alloc(PLAIN))).toThrow(RangeError);
  });

  it('the addon refuses a context made for the other direction, and arguments that are not bytes', () => {
    const file = gcmAddonFile()!;
    const addon = createRequire(file)(file) as { context(k: Uint8Array, e: boolean): object; seal(...a: unknown[]): void; open(...a: unknown[]): number };
    const decrypting = addon.context(randomBytes(32), false);
    expect(() => addon.seal(decrypting, Buffer.alloc(PLAIN), noncesFor(0, 1, 0), Buffer.alloc(SEALED))).toThrow(RangeError);
    expect(() => addon.context(randomBytes(31), true)).toThrow(RangeError);
    const encrypting = addon.context(randomBytes(32), true);
    expect(() => addon.seal(encrypting, 'not bytes', noncesFor(0, 1, 0), Buffer.alloc(SEALED))).toThrow(RangeError);
    expect(() => addon.seal(encrypting, new Uint16Array(PLAIN / 2), noncesFor(0, 1, 0), Buffer.alloc(SEALED))).toThrow(RangeError);
    expect(() => addon.open({}, Buffer.alloc(SEALED), noncesFor(0, 1, 0), Buffer.alloc(PLAIN))).toThrow(RangeError);
    // Output overlapping the input (in place, or shifted by one byte) or the nonces.
    const shared = Buffer.alloc(2 * SEALED + 64, 0xaa);
    expect(() => addon.seal(encrypting, shared.subarray(0, PLAIN), noncesFor(0, 1, 0), shared.subarray(0, SEALED))).toThrow(RangeError);
    expect(() => addon.seal(encrypting, shared.subarray(1, PLAIN + 1), noncesFor(0, 1, 0), shared.subarray(0, SEALED))).toThrow(RangeError);
    expect(() => addon.seal(encrypting, Buffer.alloc(PLAIN), shared.subarray(SEALED - 4, SEALED + 8), shared.subarray(0, SEALED))).toThrow(RangeError);
    expect(shared.every((b) => b === 0xaa)).toBe(true);
  });
});
