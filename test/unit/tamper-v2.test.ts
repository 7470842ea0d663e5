// Tamper tests of format version 2 (docs/format.md section 11): the version field cannot be
// rewritten either way, and the leaves bind the blocks in place. The attacker here is the
// strongest one the format must beat: a recipient, who knows the file key, so who can recompute
// the commitment and re-encrypt chunks with valid tags, but has not the sender's signing key.
// Each forgery is checked against a re-sealing that changes nothing and is accepted, so that a
// refusal below is the signature's (or the commitment's), not a mistake of the forger's.
import { describe, it, expect, beforeAll } from 'vitest';
import { createDecipheriv } from 'node:crypto';
import { CHUNK_PLAIN, CHUNK_SEALED, PREAMBLE_BYTES, chunkNonce, type FormatVersion } from '../../electron/core/container/format.js';
import { hkdf, hmacSha256 } from '../../electron/core/crypto/primitives.js';
import { PliError } from '../../electron/core/errors.js';
import { makePerson, sealParams, readerCallbacks, tryOpen, describeError, sealChunksByHand, type TestPerson, type OpenOutcome } from './helpers.js';
import { sealToBuffer } from '../../electron/core/container/seal.js';
import { verifyContainer } from '../../electron/core/container/verify.js';
import { bufferSource } from '../../electron/core/container/sinks.js';
import { securityError } from '../../electron/core/errors.js';
import type { ParsedHeader } from '../../electron/core/container/format.js';

let alice: TestPerson, bob: TestPerson;
beforeAll(async () => {
  [alice, bob] = await Promise.all([makePerson(), makePerson()]);
});

function expectRefused(outcome: OpenOutcome, codes: string[]): void {
  expect(outcome.error, 'accepted a forged container').toBeInstanceOf(PliError);
  expect(codes).toContain((outcome.error as PliError).code);
  expect(outcome.sink.committed).toBe(false);
  expect(outcome.sink.result()).toEqual([]);
}

const containerId = Buffer.alloc(16, 0x5a);
const fileKey = Buffer.alloc(32, 0x3c);
/** 56 chunks: blocks of 16, 16, 16 and 8 chunks, so four leaves. */
const data = Buffer.alloc(56 * CHUNK_PLAIN - 1000, 0);
for (let i = 0; i < data.length; i += 4096) data.writeUInt32BE(i, i);

async function honest(version: FormatVersion): Promise<Buffer> {
  const { bytes } = await sealToBuffer([{ name: 'etat.csv', data }], sealParams(alice, [bob], {
    version, fixed: { containerId: Buffer.from(containerId), fileKey: Buffer.from(fileKey) },
  }));
  return bytes;
}

/** The container cut into its parts, the chunks decrypted with the key a recipient unwraps. */
function parts(bytes: Buffer): { header: Buffer; plain: Buffer[]; signature: Buffer } {
  const headerEnd = PREAMBLE_BYTES + bytes.readUInt32BE(12);
  const key = hkdf(fileKey, containerId, 'pli/v1/payload');
  const count = (bytes.length - headerEnd - 64) / CHUNK_SEALED;
  const plain = Array.from({ length: count }, (_, i) => {
    const sealed = bytes.subarray(headerEnd + i * CHUNK_SEALED, headerEnd + (i + 1) * CHUNK_SEALED);
    const decipher = createDecipheriv('aes-256-gcm', key, chunkNonce(i, i === count - 1));
    decipher.setAuthTag(sealed.subarray(CHUNK_PLAIN));
    return Buffer.concat([decipher.update(sealed.subarray(0, CHUNK_PLAIN)), decipher.final()]);
  });
  return { header: bytes.subarray(0, headerEnd), plain, signature: bytes.subarray(bytes.length - 64) };
}

/** What a recipient can make: any version field, a commitment recomputed for it, the chunks given
 * encrypted again in the order given with valid tags, and the sender's signature kept. */
function forge(from: Buffer, version: FormatVersion, plain: Buffer[]): Buffer {
  const { header, signature } = parts(from);
  const committed = Buffer.from(header.subarray(0, header.length - 32));
  committed.writeUInt16BE(version, 8);
  const commitment = hmacSha256(hkdf(fileKey, containerId, 'pli/v1/commit'), committed);
  const chunks = sealChunksByHand(hkdf(fileKey, containerId, 'pli/v1/payload'), Buffer.concat(plain));
  return Buffer.concat([committed, commitment, chunks, signature]);
}

describe.each([1, 2] as const)('a container of version %i, four blocks', (version) => {
  let bytes: Buffer;
  let plain: Buffer[];
  beforeAll(async () => {
    bytes = await honest(version);
    plain = parts(bytes).plain;
  });
  const open = (forged: Buffer) => tryOpen(forged, readerCallbacks(bob, [alice]));

  it('is as written: version field, 56 chunks, opened by Bob', async () => {
    expect(bytes.readUInt16BE(8)).toBe(version);
    expect(plain).toHaveLength(56);
    const outcome = await open(bytes);
    expect(describeError(outcome.error)).toBe('accepted');
    expect(outcome.files[0]!.data.equals(data)).toBe(true);
  });

  it('sanity: the forger re-sealing it unchanged makes the same bytes, accepted', async () => {
    const same = forge(bytes, version, plain);
    expect(same.equals(bytes)).toBe(true);
    expect(describeError((await open(same)).error)).toBe('accepted');
  });

  it('the version field rewritten by someone without the file key: refused by the commitment, nothing decrypted', async () => {
    const other = Buffer.from(bytes);
    other.writeUInt16BE(3 - version, 8);
    const outcome = await open(other);
    expectRefused(outcome, ['commitment']);
    expect(outcome.begun).toBe(false);
  });

  it('the version field rewritten by a recipient, commitment recomputed: refused by the signature', async () => {
    expectRefused(await open(forge(bytes, (3 - version) as FormatVersion, plain)), ['bad-signature']);
  });

  it('two whole blocks swapped, every tag valid: refused by the signature', async () => {
    // Blocks 1 and 2 (block 0 holds the manifest, which would be refused before the signature).
    expectRefused(await open(forge(bytes, version, [...plain.slice(0, 16), ...plain.slice(32, 48), ...plain.slice(16, 32), ...plain.slice(48)])), ['bad-signature']);
  });

  it('two chunks swapped inside a block, every tag valid: refused by the signature', async () => {
    const swapped = [...plain];
    [swapped[17], swapped[18]] = [swapped[18]!, swapped[17]!];
    expectRefused(await open(forge(bytes, version, swapped)), ['bad-signature']);
  });

  it('the last block dropped (truncated at a block boundary, last chunk flagged again): refused', async () => {
    // Refused by the signature, or earlier by the manifest's sizes, which no longer fit the chunks.
    expectRefused(await open(forge(bytes, version, plain.slice(0, 48))), ['bad-signature', 'bad-manifest', 'tampered', 'malformed']);
  });

  it('a block duplicated in place of another: refused by the signature', async () => {
    expectRefused(await open(forge(bytes, version, [...plain.slice(0, 32), ...plain.slice(16, 32), ...plain.slice(48)])), ['bad-signature']);
  });
});

describe('a version 2 container made with a version 1 digest', () => {
  it('is refused: the signature covers the digest of the version in the preamble only', async () => {
    // Alice herself signs the version 1 digest over a version 2 header (a buggy or hostile writer):
    // no reader takes it, so the two digests can never be mixed up.
    const v1 = await honest(1);
    const v2 = await honest(2);
    const signatureOfV1Digest = v1.subarray(v1.length - 64);
    // Same header length and payload (only the version, commitment and signature differ).
    const mixed = Buffer.concat([v2.subarray(0, v2.length - 64), signatureOfV1Digest]);
    expectRefused(await tryOpen(mixed, readerCallbacks(bob, [alice])), ['bad-signature']);
    // And the pieces are right: each honest container opens.
    expect(describeError((await tryOpen(v2, readerCallbacks(bob, [alice]))).error)).toBe('accepted');
  });
});

describe('what reaches the functional mailbox is checked before anyone signs in (verify.ts, no key)', () => {
  // The receiving workstation sorts what arrives by the signature alone: it holds no file key, so
  // the commitment cannot stop a version rewritten in transit there; the signature must.
  const known = async (header: ParsedHeader) => {
    if (!header.senderSigFpr.equals(alice.sig.fpr)) throw securityError('unknown-sender', 'inconnu');
    return { identityId: alice.id, publicKey: alice.sig.publicKey };
  };
  const verdict = (bytes: Buffer) => verifyContainer(bufferSource(bytes), known).then(() => 'accepted', describeError);

  it.each([1, 2] as const)('version %i: accepted as sent; its version field rewritten, or a recipient\'s re-sealing with blocks swapped, refused', async (version) => {
    const bytes = await honest(version);
    const plain = parts(bytes).plain;
    expect(await verdict(bytes)).toBe('accepted');
    const rewritten = Buffer.from(bytes);
    rewritten.writeUInt16BE(3 - version, 8);
    expect(await verdict(rewritten)).toBe('security/bad-signature');
    expect(await verdict(forge(bytes, (3 - version) as FormatVersion, plain))).toBe('security/bad-signature');
    expect(await verdict(forge(bytes, version, [...plain.slice(0, 16), ...plain.slice(32, 48), ...plain.slice(16, 32), ...plain.slice(48)]))).toBe('security/bad-signature');
  });
});
