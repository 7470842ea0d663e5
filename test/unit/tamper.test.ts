// Tamper tests (docs/format.md sections 1, 5.2, 6, 7): every modification of a container is refused
// as a security error and nothing is released. Keys are unlocked once and decapsulation is memoised
// (helpers.readerCallbacks), so each case costs one parse and at most one chunk decryption.
import { describe, it, expect, beforeAll } from 'vitest';
import { createCipheriv } from 'node:crypto';
import { encodeHeaderForCommitment, CHUNK_SEALED, PREAMBLE_BYTES, type Header, type RecipientEntry } from '../../electron/core/container/format.js';
import { readInfo, type OpenCallbacks } from '../../electron/core/container/open.js';
import { bufferSource } from '../../electron/core/container/sinks.js';
import { sealToBuffer } from '../../electron/core/container/seal.js';
import { xwingEncapsulate, ed25519Sign } from '../../electron/core/crypto/keys.js';
import { hkdf, hmacSha256, signedDigest, wrapKey } from '../../electron/core/crypto/primitives.js';
import { PliError } from '../../electron/core/errors.js';
import { base32Decode } from '../../shared/ids.js';
import { makePerson, seal, sealParams, readerCallbacks, tryOpen, describeError, type TestPerson, type OpenOutcome } from './helpers.js';

let alice: TestPerson, bob: TestPerson, carol: TestPerson, mallory: TestPerson;
beforeAll(async () => {
  [alice, bob, carol, mallory] = await Promise.all([makePerson(), makePerson(), makePerson(), makePerson()]);
});

/** Refused for security, and nothing released: the sink was never committed and holds nothing. */
function expectRefused(outcome: OpenOutcome, codes?: string[]): void {
  expect(outcome.error, 'accepted a tampered container').toBeInstanceOf(PliError);
  expect((outcome.error as PliError).kind).toBe('security');
  if (codes) expect(codes).toContain((outcome.error as PliError).code);
  expect(outcome.sink.committed).toBe(false);
  expect(outcome.sink.result()).toEqual([]);
}

const headerLength = (bytes: Buffer): number => bytes.readUInt32BE(12);
const payloadStart = (bytes: Buffer): number => PREAMBLE_BYTES + headerLength(bytes);

describe('every single-bit flip of a one-chunk container is refused', () => {
  let bytes: Buffer;
  let callbacks: OpenCallbacks;
  beforeAll(async () => {
    bytes = await seal(alice, [bob], [{ name: 'IS101.xls', data: Buffer.from('secret '.repeat(100)) }]);
    callbacks = readerCallbacks(bob, [alice]);
    expect(bytes.length).toBe(16 + headerLength(bytes) + CHUNK_SEALED + 64);
    // Sanity: the untouched container opens, so every refusal below is due to the flip.
    expect(describeError((await tryOpen(bytes, callbacks)).error)).toBe('accepted');
  });

  /** Flips bit 0 of each byte in [from, to) in place (restored after each case); returns a tally
   * of outcomes and the offsets that were not refused properly. */
  async function flipRange(from: number, to: number, allowBegin: boolean): Promise<{ tally: Record<string, number>; bad: string[] }> {
    const tally: Record<string, number> = {};
    const bad: string[] = [];
    for (let i = from; i < to; i++) {
      // Everything below settles in microtasks: let the worker answer vitest's RPC now and then.
      if ((i - from) % 2000 === 1999) await new Promise((resolve) => setImmediate(resolve));
      bytes[i]! ^= 0x01;
      const outcome = await tryOpen(bytes, callbacks);
      bytes[i]! ^= 0x01;
      const what = describeError(outcome.error);
      tally[what] = (tally[what] ?? 0) + 1;
      const refused = outcome.error instanceof PliError && outcome.error.kind === 'security';
      if (!refused || outcome.sink.committed || outcome.sink.result().length > 0 || (outcome.begun && !allowBegin)) {
        bad.push(`offset ${i}: ${what}${outcome.sink.committed ? ' COMMITTED' : ''}${outcome.begun ? ' begun' : ''}`);
      }
    }
    return { tally, bad };
  }

  it('preamble and header: refused before any chunk is decrypted', async () => {
    const { tally, bad } = await flipRange(0, payloadStart(bytes), false);
    expect(bad).toEqual([]);
    // Each part of the header is checked by the mechanism meant for it.
    expect(Object.keys(tally).sort()).toEqual(['security/commitment', 'security/malformed', 'security/not-addressed', 'security/unknown-sender']);
  }, 60000);

  // The slow part: 65 552 cases, each parsing the header and decrypting one chunk.
  it('payload chunk: refused by its tag before anything reaches the sink', async () => {
    const start = payloadStart(bytes);
    const { tally, bad } = await flipRange(start, start + CHUNK_SEALED, false);
    expect(bad).toEqual([]);
    expect(tally).toEqual({ 'security/tampered': CHUNK_SEALED });
  }, 600000);

  it('signature: refused, nothing committed', async () => {
    const { tally, bad } = await flipRange(bytes.length - 64, bytes.length, true);
    expect(bad).toEqual([]);
    expect(tally).toEqual({ 'security/bad-signature': 64 });
  }, 60000);
});

describe('a five-chunk container: truncation, extension, reordering', () => {
  let bytes: Buffer;
  let callbacks: OpenCallbacks;
  let start: number;
  const N = 5;
  const chunk = (i: number): Buffer => bytes.subarray(start + i * CHUNK_SEALED, start + (i + 1) * CHUNK_SEALED);
  const signature = (): Buffer => bytes.subarray(bytes.length - 64);
  const head = (): Buffer => bytes.subarray(0, start);
  const build = (chunks: Buffer[], sig: Buffer | null = signature()): Buffer => Buffer.concat([head(), ...chunks, ...(sig ? [sig] : [])]);
  const all = (): Buffer[] => Array.from({ length: N }, (_, i) => chunk(i));

  beforeAll(async () => {
    bytes = await seal(alice, [bob], [{ name: 'gros.bin', data: Buffer.alloc(4 * 65536 + 100, 0x5a) }]);
    callbacks = readerCallbacks(bob, [alice]);
    start = payloadStart(bytes);
    expect((await readInfo(bufferSource(bytes))).chunks).toBe(N);
    expect(describeError((await tryOpen(bytes, callbacks)).error)).toBe('accepted');
    expect(build(all()).equals(bytes)).toBe(true);
  });

  it('truncated at every chunk boundary, signature kept or dropped', async () => {
    for (let keep = 0; keep < N; keep++) {
      for (const withSig of [true, false]) {
        const variant = build(all().slice(0, keep), withSig ? signature() : null);
        // With the signature kept and >= 1 chunk the length is valid: the last-chunk flag catches it.
        expectRefused(await tryOpen(variant, callbacks), withSig && keep > 0 ? ['tampered'] : ['malformed']);
      }
    }
    expectRefused(await tryOpen(build(all(), null), callbacks), ['malformed']);
  });

  it('one byte removed or added at the end', async () => {
    expectRefused(await tryOpen(bytes.subarray(0, bytes.length - 1), callbacks), ['malformed']);
    expectRefused(await tryOpen(Buffer.concat([bytes, Buffer.from([0])]), callbacks), ['malformed']);
  });

  it('a whole chunk appended (before or after the signature)', async () => {
    for (const extra of [chunk(N - 1), chunk(0), Buffer.alloc(CHUNK_SEALED)]) {
      expectRefused(await tryOpen(build([...all(), extra]), callbacks), ['tampered']);
      expectRefused(await tryOpen(Buffer.concat([bytes, extra]), callbacks), ['tampered']);
    }
  });

  it('two chunks swapped, a chunk duplicated, a middle chunk removed', async () => {
    const c = all();
    const variants: [string, Buffer[]][] = [
      ['swap 1,2', [c[0]!, c[2]!, c[1]!, c[3]!, c[4]!]],
      ['swap 0,4', [c[4]!, c[1]!, c[2]!, c[3]!, c[0]!]],
      ['swap 3,4', [c[0]!, c[1]!, c[2]!, c[4]!, c[3]!]],
      ['duplicate 1 over 2', [c[0]!, c[1]!, c[1]!, c[3]!, c[4]!]],
      ['duplicate 1 inserted', [c[0]!, c[1]!, c[1]!, c[2]!, c[3]!, c[4]!]],
      ['remove 2', [c[0]!, c[1]!, c[3]!, c[4]!]],
      ['reversed', [...c].reverse()],
    ];
    for (const [name, chunks] of variants) {
      const outcome = await tryOpen(build(chunks), callbacks);
      expect(describeError(outcome.error), name).toBe('security/tampered');
      expectRefused(outcome);
    }
  });

  it('a chunk from another container with the same key material position is refused', async () => {
    // Same sender, recipient and plaintext, but another file key: chunk 2 cannot be transplanted.
    const other = await seal(alice, [bob], [{ name: 'gros.bin', data: Buffer.alloc(4 * 65536 + 100, 0x5a) }]);
    const foreign = other.subarray(start + 2 * CHUNK_SEALED, start + 3 * CHUNK_SEALED);
    const c = all();
    c[2] = foreign;
    expectRefused(await tryOpen(build(c), callbacks), ['tampered']);
  });
});

describe('header fields and recipient entries', () => {
  const file = [{ name: 'note.txt', data: Buffer.from('contenu confidentiel') }];
  // Offsets in the file (preamble included) of the header fields, docs/format.md section 3.
  const CONTAINER_ID = 16, CREATED = 32, SENDER_ID = 40, SIG_FPR = 50, FIRST_ENTRY = 84;
  const ENTRY_BYTES = 3 + 1200;

  it('recipient entry swapped with the same recipient’s entry of another container', async () => {
    const a = await seal(alice, [bob], file);
    const b = await seal(alice, [bob], file);
    const callbacks = readerCallbacks(bob, [alice]);
    const swapped = Buffer.from(a);
    b.copy(swapped, FIRST_ENTRY, FIRST_ENTRY, FIRST_ENTRY + ENTRY_BYTES);
    expectRefused(await tryOpen(swapped, callbacks));
    // Even with the container id carried along, the entry unwraps but the commitment does not match.
    b.copy(swapped, CONTAINER_ID, CONTAINER_ID, CONTAINER_ID + 16);
    expectRefused(await tryOpen(swapped, callbacks), ['commitment']);
    // The whole header of b on a's payload and signature: the payload key differs.
    const mixed = Buffer.concat([b.subarray(0, payloadStart(b)), a.subarray(payloadStart(a))]);
    expectRefused(await tryOpen(mixed, callbacks), ['tampered']);
    // And b's header + payload with a's signature.
    const resigned = Buffer.concat([b.subarray(0, b.length - 64), a.subarray(a.length - 64)]);
    expectRefused(await tryOpen(resigned, callbacks), ['bad-signature']);
  });

  it('an entry moved from one recipient to the other in the same container', async () => {
    const bytes = await seal(alice, [bob, carol], file);
    const swapped = Buffer.from(bytes);
    // Swap the two entries (key fingerprints stay attached to their ciphertexts): commitment breaks.
    bytes.copy(swapped, FIRST_ENTRY, FIRST_ENTRY + ENTRY_BYTES, FIRST_ENTRY + 2 * ENTRY_BYTES);
    bytes.copy(swapped, FIRST_ENTRY + ENTRY_BYTES, FIRST_ENTRY, FIRST_ENTRY + ENTRY_BYTES);
    expectRefused(await tryOpen(swapped, readerCallbacks(bob, [alice])), ['commitment']);
    // Bob's ciphertext and wrapped key under Carol's fingerprint: the KDF binds key_fpr.
    const moved = Buffer.from(bytes);
    bytes.copy(moved, FIRST_ENTRY + ENTRY_BYTES + 3 + 32, FIRST_ENTRY + 3 + 32, FIRST_ENTRY + ENTRY_BYTES);
    expectRefused(await tryOpen(moved, readerCallbacks(carol, [alice])));
  });

  it('created time, container id, sender id, signing fingerprint changed', async () => {
    const bytes = await seal(alice, [bob], file);
    const callbacks = readerCallbacks(bob, [alice, carol]);
    const edit = (offset: number, value: Buffer): Buffer => { const v = Buffer.from(bytes); value.copy(v, offset); return v; };
    const created = Buffer.alloc(8);
    created.writeBigUInt64BE(bytes.readBigUInt64BE(CREATED) - 86400000n);
    expectRefused(await tryOpen(edit(CREATED, created), callbacks), ['commitment']);
    expectRefused(await tryOpen(edit(CONTAINER_ID, Buffer.alloc(16, 7)), callbacks));
    expectRefused(await tryOpen(edit(SENDER_ID, Buffer.from(base32Decode(carol.id, 10)!)), callbacks), ['commitment']);
    expectRefused(await tryOpen(edit(SIG_FPR, carol.sig.fpr), callbacks), ['commitment']);
    expectRefused(await tryOpen(edit(SIG_FPR, mallory.sig.fpr), callbacks), ['unknown-sender']);
  });

  it('a sender claiming another identity id with its own key: sender-mismatch', async () => {
    const { bytes } = await sealToBuffer(file, sealParams(alice, [bob], { senderId: carol.id }));
    expectRefused(await tryOpen(bytes, readerCallbacks(bob, [alice, carol])), ['sender-mismatch']);
  });

  it('a container signed by a different key than the header’s sender fingerprint', async () => {
    // Claims Carol (id and signing fingerprint) but is signed with Alice's secret key.
    const { bytes } = await sealToBuffer(file, sealParams(carol, [bob], { signing: { keyFpr: carol.sig.fpr, secretKey: alice.sig.secretKey } }));
    expectRefused(await tryOpen(bytes, readerCallbacks(bob, [alice, carol])), ['bad-signature']);
  });

  it('not a recipient: not-addressed, before anything is decrypted', async () => {
    const bytes = await seal(alice, [bob, carol], file);
    const outcome = await tryOpen(bytes, readerCallbacks(mallory, [alice]));
    expectRefused(outcome, ['not-addressed']);
    expect(outcome.begun).toBe(false);
  });

  it('unknown sender: refused before any secret is used', async () => {
    const bytes = await seal(mallory, [bob], file);
    const base = readerCallbacks(bob, [alice]);
    let unwrapCalls = 0;
    const outcome = await tryOpen(bytes, { ...base, unwrapFileKey: async (h) => { unwrapCalls++; return base.unwrapFileKey(h); } });
    expectRefused(outcome, ['unknown-sender']);
    expect(unwrapCalls).toBe(0);
    expect(outcome.begun).toBe(false);
  });
});

describe('key commitment: two recipients given different file keys', () => {
  it('the second recipient is refused with "commitment" before any chunk is decrypted', async () => {
    const containerId = Buffer.alloc(16, 0xc1);
    const keyA = Buffer.alloc(32, 0xaa);
    const keyB = Buffer.alloc(32, 0xbb);
    const createdMs = 1790000000000;
    const data = Buffer.from('Version destinée à Bob');
    // The payload under key A, from the real sealer (the payload depends only on the file key,
    // the container id and the plaintext, not on the header).
    const honest = await sealToBuffer([{ name: 'doc.txt', data }], sealParams(alice, [bob], {
      createdMs, fixed: { containerId: Buffer.from(containerId), fileKey: Buffer.from(keyA) },
    }));
    const payload = honest.bytes.subarray(payloadStart(honest.bytes), honest.bytes.length - 64);

    const entry = async (r: TestPerson, fileKey: Buffer): Promise<RecipientEntry> => {
      const { cipherText, sharedSecret } = await xwingEncapsulate(r.enc.publicKey);
      const kek = hkdf(sharedSecret, containerId, Buffer.concat([Buffer.from('pli/v1/wrap/xwing', 'ascii'), r.enc.fpr]));
      return { type: 'xwing', keyFpr: r.enc.fpr, kemCiphertext: Buffer.from(cipherText), wrapped: wrapKey(kek, fileKey) };
    };
    const header: Header = {
      version: 1, containerId, createdMs, senderId: Buffer.from(base32Decode(alice.id, 10)!), senderSigFpr: alice.sig.fpr,
      recipients: [await entry(bob, keyA), await entry(carol, keyB)],
    };
    const committed = encodeHeaderForCommitment(header);
    const headerBytes = Buffer.concat([committed, hmacSha256(hkdf(keyA, containerId, 'pli/v1/commit'), committed)]);
    const signature = await ed25519Sign(alice.sig.secretKey, signedDigest('container', headerBytes, payload));
    const forged = Buffer.concat([headerBytes, payload, signature]);

    // Bob (key A) opens it: the forgery is otherwise a valid, properly signed container.
    const forBob = await tryOpen(forged, readerCallbacks(bob, [alice]));
    expect(describeError(forBob.error)).toBe('accepted');
    expect(forBob.files).toEqual([{ name: 'doc.txt', data }]);

    // Carol unwraps key B: refused by the commitment, and the sink never saw a manifest.
    const forCarol = await tryOpen(forged, readerCallbacks(carol, [alice]));
    expectRefused(forCarol, ['commitment']);
    expect(forCarol.begun).toBe(false);
  });

  it('sanity: the same forgery with key B encrypting its own payload is still refused for Carol', async () => {
    // Guards against the test above passing for a reason other than the commitment: Carol's
    // key B really is unwrapped (a header committed under key B would be accepted).
    const containerId = Buffer.alloc(16, 0xc2);
    const keyB = Buffer.alloc(32, 0xbb);
    const data = Buffer.from('Version destinée à Carol');
    const honest = await sealToBuffer([{ name: 'doc.txt', data }], sealParams(alice, [carol], {
      fixed: { containerId: Buffer.from(containerId), fileKey: Buffer.from(keyB) },
    }));
    const outcome = await tryOpen(honest.bytes, readerCallbacks(carol, [alice]));
    expect(describeError(outcome.error)).toBe('accepted');
    // And raw AES-GCM of a chunk under the two payload keys differs (no accidental key reuse).
    const chunkUnder = (key: Buffer) => createCipheriv('aes-256-gcm', hkdf(key, containerId, 'pli/v1/payload'), Buffer.alloc(12)).update(Buffer.alloc(16));
    expect(chunkUnder(keyB).equals(chunkUnder(Buffer.alloc(32, 0xaa)))).toBe(false);
  });
});
