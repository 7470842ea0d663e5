// The manifest's minor version 1 (docs/format.md 5.3): the convention, period, documents and
// subject travel inside the signed, encrypted manifest. Written only when there is a convention
// (a container without one is the v1 manifest byte for byte); read strictly; covered by the
// signature: a co-recipient who knows the file key and re-files the container under another
// period (re-encrypting the manifest's chunk with valid tags) is refused.
import { describe, it, expect } from 'vitest';
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { decodeManifest, encodeManifest, type ManifestConvention } from '../../electron/core/container/manifest.js';
import { chunkNonce } from '../../electron/core/container/format.js';
import { hkdf } from '../../electron/core/crypto/primitives.js';
import { PliError } from '../../electron/core/errors.js';
import { describeError, makePerson, rawPlaintext, readerCallbacks, seal, sealRawPlaintext, tryOpen } from './helpers.js';

const CONVENTION: ManifestConvention = { id: 'conv-0123456789abcdef', period: '2026-T4', documents: ['IS 101', 'IST'], subject: 'États du 4e trimestre' };
const CHUNK = 65536;

function codeOf(run: () => unknown): string {
  try {
    run();
    return 'accepted';
  } catch (error) {
    return error instanceof PliError ? `${error.kind}/${error.code}` : String(error);
  }
}

describe('manifest minor version 1: the convention', () => {
  it('is written as minor 1 only with a convention; without one, the v1 manifest is unchanged', async () => {
    const sender = await makePerson();
    const plain = JSON.parse(encodeManifest({ v: 1, sender: sender.id, files: [] }).toString('utf8'));
    expect(plain).toEqual({ v: 1, sender: sender.id, files: [] });
    const text = encodeManifest({ v: 1, sender: sender.id, files: [], convention: CONVENTION }).toString('utf8');
    expect(text).toBe(`{"v":1,"minor":1,"sender":"${sender.id}","files":[],"convention":${JSON.stringify(CONVENTION)}}`);
    expect(decodeManifest(Buffer.from(text)).convention).toEqual(CONVENTION);
  });

  it('reads a minor 1 manifest with no subject, and refuses every malformed convention', async () => {
    const sender = await makePerson();
    const base = { v: 1, minor: 1, sender: sender.id, files: [] };
    const read = (m: unknown) => codeOf(() => decodeManifest(Buffer.from(JSON.stringify(m))));
    expect(read({ ...base, convention: { id: CONVENTION.id, period: '2026-11', documents: ['IS 101'] } })).toBe('accepted');
    expect(read({ ...base, convention: { ...CONVENTION, period: '2026-T5' } })).toBe('security/bad-manifest');
    expect(read({ ...base, convention: { ...CONVENTION, period: '2026-13' } })).toBe('security/bad-manifest');
    expect(read({ ...base, convention: { ...CONVENTION, id: 'conv-x' } })).toBe('security/bad-manifest');
    expect(read({ ...base, convention: { ...CONVENTION, documents: [] } })).toBe('security/bad-manifest');
    expect(read({ ...base, convention: { ...CONVENTION, documents: ['IST', 'IST'] } })).toBe('security/bad-manifest');
    expect(read({ ...base, convention: { ...CONVENTION, subject: 'objet\u202e' } })).toBe('security/bad-manifest');
    expect(read({ ...base, convention: { ...CONVENTION, extra: 1 } })).toBe('security/bad-manifest');
    // minor without convention, convention without minor, an unknown minor: refused.
    expect(read(base)).toBe('security/bad-manifest');
    expect(read({ v: 1, sender: sender.id, files: [], convention: CONVENTION })).toBe('security/bad-manifest');
    expect(read({ ...base, minor: 2, convention: CONVENTION })).toBe('security/bad-manifest');
    // The writer refuses what the reader would.
    expect(codeOf(() => encodeManifest({ v: 1, sender: sender.id, files: [], convention: { ...CONVENTION, period: 'T4' } }))).toBe('input/bad-manifest');
  });

  it('travels in a sealed container and opens with it', async () => {
    const [police, mairie] = [await makePerson(), await makePerson()];
    const bytes = await seal(police, [mairie], [{ name: 'IS101.xls', data: Buffer.from('12;7;3') }], { convention: CONVENTION });
    const outcome = await tryOpen(bytes, readerCallbacks(mairie, [police]));
    expect(describeError(outcome.error)).toBe('accepted');
    expect(outcome.sink.manifest?.convention).toEqual(CONVENTION);
    expect(outcome.sink.manifest?.minor).toBe(1);
  });

  it('is covered by the signature: a co-recipient who re-files it under another period is refused', async () => {
    const [police, mairie, other] = [await makePerson(), await makePerson(), await makePerson()];
    const containerId = randomBytes(16);
    const fileKey = randomBytes(32);
    const bytes = await seal(police, [mairie, other], [{ name: 'IS101.xls', data: Buffer.from('12;7;3') }], {
      convention: CONVENTION, fixed: { containerId: Buffer.from(containerId), fileKey: Buffer.from(fileKey) },
    });
    // `other` holds the file key: decrypt the one chunk, change the period, encrypt it again.
    const start = 16 + bytes.readUInt32BE(12);
    const payloadKey = hkdf(fileKey, containerId, 'pli/v1/payload');
    const decipher = createDecipheriv('aes-256-gcm', payloadKey, chunkNonce(0, true));
    decipher.setAuthTag(bytes.subarray(start + CHUNK, start + CHUNK + 16));
    const plain = Buffer.concat([decipher.update(bytes.subarray(start, start + CHUNK)), decipher.final()]);
    const edited = Buffer.from(plain.toString('latin1').replace('"2026-T4"', '"2026-T3"'), 'latin1');
    expect(edited.equals(plain)).toBe(false);
    const cipher = createCipheriv('aes-256-gcm', payloadKey, chunkNonce(0, true));
    const sealed = Buffer.concat([cipher.update(edited), cipher.final(), cipher.getAuthTag()]);
    const forged = Buffer.concat([bytes.subarray(0, start), sealed, bytes.subarray(start + CHUNK + 16)]);
    const outcome = await tryOpen(forged, readerCallbacks(mairie, [police]));
    expect(describeError(outcome.error)).toBe('security/bad-signature');
    expect(outcome.sink.committed).toBe(false);
  });

  it('a manifest swapped in from another container, or a flipped byte, is refused', async () => {
    const [police, mairie] = [await makePerson(), await makePerson()];
    const t4 = await seal(police, [mairie], [{ name: 'IS101.xls', data: Buffer.from('12;7;3') }], { convention: CONVENTION });
    const t3 = await seal(police, [mairie], [{ name: 'IS101.xls', data: Buffer.from('12;7;3') }], { convention: { ...CONVENTION, period: '2026-T3' } });
    const start = 16 + t4.readUInt32BE(12);
    const swapped = Buffer.concat([t4.subarray(0, start), t3.subarray(start, start + CHUNK + 16), t4.subarray(start + CHUNK + 16)]);
    expect(describeError((await tryOpen(swapped, readerCallbacks(mairie, [police]))).error)).toMatch(/^security\//);
    const flipped = Buffer.from(t4);
    flipped[start + 20]! ^= 1;
    expect(describeError((await tryOpen(flipped, readerCallbacks(mairie, [police]))).error)).toMatch(/^security\//);
  });

  it('a signed container whose manifest claims minor 1 without a convention is refused before any file', async () => {
    const [police, mairie] = [await makePerson(), await makePerson()];
    const bytes = await sealRawPlaintext(police, [mairie], rawPlaintext({ v: 1, minor: 1, sender: police.id, files: [] }));
    const outcome = await tryOpen(bytes, readerCallbacks(mairie, [police]));
    expect(describeError(outcome.error)).toBe('security/bad-manifest');
    expect(outcome.begun).toBe(false);
  });
});
