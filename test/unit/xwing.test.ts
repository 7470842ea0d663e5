// Issue 13: X-Wing's X25519 runs in libsodium instead of noble's JavaScript (xwing.ts).
// The draft's two vectors are in vectors.test.ts; here the KEM is compared, on random keys and
// random encapsulation seeds, with @noble/post-quantum's ml_kem768_x25519 (the implementation
// used before): same public keys, same ciphertexts, same shared secrets, same refusals.
import { describe, it, expect } from 'vitest';
import { randomBytes } from 'node:crypto';
import { ml_kem768_x25519 } from '@noble/post-quantum/hybrid.js';
import { xwingDecapsulate, xwingEncapsulate, xwingKeygen, xwingPublicFromSecret } from '../../electron/core/crypto/keys.js';

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');

describe('X-Wing with libsodium\'s X25519', () => {
  it('gives the bytes of @noble/post-quantum\'s ml_kem768_x25519 for random keys and seeds', async () => {
    for (let i = 0; i < 8; i++) {
      const seed = randomBytes(32);
      const eseed = randomBytes(64);
      const theirs = ml_kem768_x25519.keygen(Uint8Array.from(seed));
      const ours = await xwingKeygen(Uint8Array.from(seed));
      expect(hex(ours.publicKey)).toBe(hex(theirs.publicKey));
      expect(hex(ours.secretKey)).toBe(hex(theirs.secretKey));
      expect(hex(await xwingPublicFromSecret(Uint8Array.from(seed)))).toBe(hex(theirs.publicKey));
      const a = ml_kem768_x25519.encapsulate(theirs.publicKey, Uint8Array.from(eseed));
      const b = await xwingEncapsulate(ours.publicKey, Uint8Array.from(eseed));
      expect(hex(b.cipherText)).toBe(hex(a.cipherText));
      expect(hex(b.sharedSecret)).toBe(hex(a.sharedSecret));
      expect(hex(await xwingDecapsulate(a.cipherText, ours.secretKey))).toBe(hex(a.sharedSecret));
      // A changed ciphertext (ML-KEM part, then X25519 part): both give the same other secret.
      for (const at of [5, 1100]) {
        const changed = Uint8Array.from(a.cipherText);
        changed[at]! ^= 0x40;
        const theirsAfter = ml_kem768_x25519.decapsulate(changed, theirs.secretKey);
        const oursAfter = await xwingDecapsulate(changed, ours.secretKey);
        expect(hex(oursAfter)).toBe(hex(theirsAfter));
        expect(hex(oursAfter)).not.toBe(hex(a.sharedSecret));
      }
    }
  });

  it('without an encapsulation seed, two encapsulations differ and each opens', async () => {
    const pair = await xwingKeygen();
    const one = await xwingEncapsulate(pair.publicKey);
    const two = await xwingEncapsulate(pair.publicKey);
    expect(hex(one.cipherText)).not.toBe(hex(two.cipherText));
    expect(hex(await xwingDecapsulate(one.cipherText, pair.secretKey))).toBe(hex(one.sharedSecret));
    expect(hex(await xwingDecapsulate(two.cipherText, pair.secretKey))).toBe(hex(two.sharedSecret));
  });

  it('refuses what noble refuses: a low-order X25519 point, wrong lengths', async () => {
    const pair = await xwingKeygen();
    const lowOrder = Uint8Array.from(pair.publicKey);
    lowOrder.fill(0, 1184); // the X25519 part: the point 0, of small order
    expect(() => ml_kem768_x25519.encapsulate(lowOrder, new Uint8Array(64).fill(1))).toThrow();
    await expect(xwingEncapsulate(lowOrder, new Uint8Array(64).fill(1))).rejects.toThrow();
    await expect(xwingEncapsulate(pair.publicKey.subarray(0, 1215))).rejects.toThrow();
    await expect(xwingDecapsulate(new Uint8Array(1119), pair.secretKey)).rejects.toThrow();
    await expect(xwingPublicFromSecret(new Uint8Array(31))).rejects.toThrow();
  });
});
