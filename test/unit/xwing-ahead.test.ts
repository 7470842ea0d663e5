// Issue 13: the recipients' X-Wing encapsulations are made ahead, while the sender's Argon2id runs
// (keys.ts prepareEncapsulations). What must hold: a made-ahead encapsulation is used once, only
// for the key it was made for, opens with that key's secret, and is wiped when not used.
import { describe, it, expect } from 'vitest';
import { prepareEncapsulations, readyMadeCount, warmUpXWing, xwingDecapsulate, xwingEncapsulate, xwingKeygen } from '../../electron/core/crypto/keys.js';

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');
/** Lets the steps scheduled with setImmediate (and X-Wing's loading) run. */
async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
}

describe('X-Wing encapsulations made ahead', () => {
  it('are made in the background, each used once, and open with the right key', async () => {
    const a = await xwingKeygen();
    const b = await xwingKeygen();
    const prepared = prepareEncapsulations([a.publicKey, a.publicKey, b.publicKey]);
    await settle();
    expect(readyMadeCount()).toBe(3);
    const first = await xwingEncapsulate(a.publicKey);
    const second = await xwingEncapsulate(a.publicKey);
    expect(readyMadeCount()).toBe(1);
    // Two different encapsulations (fresh randomness each), never the same one twice.
    expect(hex(first.cipherText)).not.toBe(hex(second.cipherText));
    expect(hex(await xwingDecapsulate(first.cipherText, a.secretKey))).toBe(hex(first.sharedSecret));
    expect(hex(await xwingDecapsulate(second.cipherText, a.secretKey))).toBe(hex(second.sharedSecret));
    // None left for a: the third is made now, still a fresh one.
    const third = await xwingEncapsulate(a.publicKey);
    expect(hex(third.cipherText)).not.toBe(hex(first.cipherText));
    expect(hex(await xwingDecapsulate(third.cipherText, a.secretKey))).toBe(hex(third.sharedSecret));
    const forB = await xwingEncapsulate(b.publicKey);
    expect(hex(await xwingDecapsulate(forB.cipherText, b.secretKey))).toBe(hex(forB.sharedSecret));
    expect(readyMadeCount()).toBe(0);
    prepared.discard();
  });

  it('are never used for another key, even one that differs by one byte', async () => {
    const a = await xwingKeygen();
    const prepared = prepareEncapsulations([a.publicKey]);
    await settle();
    const other = Uint8Array.from(a.publicKey);
    other[1215]! ^= 1; // the X25519 part
    const made = await xwingEncapsulate(other);
    expect(readyMadeCount()).toBe(1);
    expect(hex(await xwingDecapsulate(made.cipherText, a.secretKey))).not.toBe(hex(made.sharedSecret));
    prepared.discard();
    expect(readyMadeCount()).toBe(0);
  });

  it('are wiped by discard, and a discarded batch is not made afterwards', async () => {
    const a = await xwingKeygen();
    const first = prepareEncapsulations([a.publicKey]);
    await settle();
    const kept = first.peekForTests();
    expect(kept).toHaveLength(1);
    expect(kept[0]!.some((byte) => byte !== 0)).toBe(true);
    first.discard();
    expect(kept[0]!.every((byte) => byte === 0)).toBe(true);
    expect(readyMadeCount()).toBe(0);
    // Discarded before its turn: nothing is made for it.
    const second = prepareEncapsulations([a.publicKey, a.publicKey]);
    second.discard();
    await settle();
    expect(readyMadeCount()).toBe(0);
  });

  it('a test vector\'s seed bypasses them', async () => {
    const a = await xwingKeygen();
    const prepared = prepareEncapsulations([a.publicKey]);
    await settle();
    const eseed = new Uint8Array(64).fill(3);
    const one = await xwingEncapsulate(a.publicKey, Uint8Array.from(eseed));
    const two = await xwingEncapsulate(a.publicKey, Uint8Array.from(eseed));
    expect(hex(one.cipherText)).toBe(hex(two.cipherText));
    expect(readyMadeCount()).toBe(1);
    prepared.discard();
  });

  it('the warm-up leaves no key behind and X-Wing still gives the right bytes', async () => {
    warmUpXWing();
    await settle();
    expect(readyMadeCount()).toBe(0);
    const a = await xwingKeygen();
    const made = await xwingEncapsulate(a.publicKey);
    expect(hex(await xwingDecapsulate(made.cipherText, a.secretKey))).toBe(hex(made.sharedSecret));
  });
});
