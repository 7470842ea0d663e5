// The signature's digest in JavaScript (electron/core/container/digest.ts) against docs/format.md
// sections 6 and 11, written out by hand here: any split of the bytes gives the same digest; the
// leaves are cut at 16 sealed chunks exactly; a prefix whose label is not its preamble's version is
// refused, so no caller can hash one version's container the other version's way.
import { describe, it, expect } from 'vitest';
import { createHash, randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { ContainerDigest, LEAF_BYTES, prefixVersion, signedPrefix } from '../../electron/core/container/digest.js';
import { encodePreamble } from '../../electron/core/container/format.js';
import { CONTAINER_LABELS, headerDigestByHand as byHand } from './helpers.js';

const sha256 = (...parts: Buffer[]): Buffer => parts.reduce((h, p) => h.update(p), createHash('sha256')).digest();
const LABEL = { 1: Buffer.from(CONTAINER_LABELS[1], 'ascii'), 2: Buffer.from(CONTAINER_LABELS[2], 'ascii') };

describe('ContainerDigest', () => {
  const header = Buffer.concat([encodePreamble(300, 2), randomBytes(300)]);
  const header1 = Buffer.concat([encodePreamble(300, 1), header.subarray(16)]);

  it('the prefix is the label of the preamble\'s version, then the header', () => {
    expect(signedPrefix(header).equals(Buffer.concat([LABEL[2], header]))).toBe(true);
    expect(signedPrefix(header1).equals(Buffer.concat([LABEL[1], header1]))).toBe(true);
  });

  it('a block boundary: 16 chunks are one leaf, one byte more makes two', () => {
    expect(LEAF_BYTES).toBe(16 * 65552);
    for (const length of [1, LEAF_BYTES - 1, LEAF_BYTES, LEAF_BYTES + 1, 3 * LEAF_BYTES]) {
      const payload = randomBytes(length);
      const digest = new ContainerDigest(signedPrefix(header));
      digest.update(payload);
      expect(digest.digest().equals(byHand(2, header, payload)), `${length}`).toBe(true);
    }
    const one = randomBytes(LEAF_BYTES);
    expect(byHand(2, header, one).equals(sha256(LABEL[2], header, sha256(one)))).toBe(true);
  });

  it('any split of the same bytes gives the same digest, in both versions', () => {
    const payload = randomBytes(2 * LEAF_BYTES + 12345);
    const expected = { 1: byHand(1, header1, payload), 2: byHand(2, header, payload) };
    fc.assert(fc.property(fc.constantFrom(1 as const, 2 as const), fc.array(fc.integer({ min: 0, max: payload.length }), { maxLength: 12 }), (version, cuts) => {
      const digest = new ContainerDigest(signedPrefix(version === 1 ? header1 : header));
      let at = 0;
      for (const cut of [...cuts].sort((a, b) => a - b)) {
        digest.update(payload.subarray(at, cut));
        at = cut;
      }
      digest.update(payload.subarray(at));
      expect(digest.digest().equals(expected[version])).toBe(true);
    }), { numRuns: 60 });
    expect(expected[1].equals(expected[2])).toBe(false);
  });

  it('refuses a prefix whose label and preamble disagree, or that is no container\'s', () => {
    const refused = [
      Buffer.concat([LABEL[1], header]), // version 1's label on a version 2 preamble: a downgrade of the digest
      Buffer.concat([LABEL[2], header1]),
      Buffer.concat([Buffer.from('pli/v1/sig/card\0', 'ascii'), header]),
      Buffer.concat([LABEL[2], Buffer.alloc(16)]),
      Buffer.concat([LABEL[2], encodePreamble(300, 2).subarray(0, 15)]),
      (() => { const p = Buffer.concat([LABEL[2], header]); p.writeUInt16BE(3, LABEL[2].length + 8); return p; })(),
    ];
    for (const prefix of refused) {
      expect(() => prefixVersion(prefix)).toThrow();
      expect(() => new ContainerDigest(prefix)).toThrow();
    }
    expect(prefixVersion(signedPrefix(header))).toBe(2);
    expect(prefixVersion(signedPrefix(header1))).toBe(1);
  });
});
