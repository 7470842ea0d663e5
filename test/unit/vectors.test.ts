// Known-answer tests. (a) X-Wing against draft-connolly-cfrg-xwing-kem-08 Appendix C: our KEM is the
// standard one, not merely self-consistent. (b) Every container of test/vectors/container-v1.json is
// rebuilt from its recorded inputs and must equal the stored file byte for byte: any change to a
// label (HKDF info, HMAC key, signature prefix), a layout or an encoding shows up here, even one
// that the reader and writer would both agree on. (c) The stored files open with the recorded keys.
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { xwingKeygen, xwingEncapsulate, xwingDecapsulate, xwingPublicFromSecret } from '../../electron/core/crypto/keys.js';
import { fingerprint } from '../../electron/core/crypto/primitives.js';
import { sealToBuffer, type SealParams } from '../../electron/core/container/seal.js';
import { readInfo } from '../../electron/core/container/open.js';
import { bufferSource } from '../../electron/core/container/sinks.js';
import { PliError } from '../../electron/core/errors.js';
import { makePerson, readerCallbacks, passwordCallbacks, tryOpen, describeError, type TestPerson } from './helpers.js';

const VECTORS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../vectors');
const hexBytes = (text: string): Buffer => Buffer.from(text, 'hex');
const sha256 = (data: Uint8Array): string => createHash('sha256').update(data).digest('hex');

interface XWingVector { sk: string; pk: string; eseed: string; ct: string; ss: string }
const xwingVectors = (JSON.parse(readFileSync(path.join(VECTORS, 'xwing-draft08.json'), 'utf8')) as { vectors: XWingVector[] }).vectors;

describe('X-Wing, draft-connolly-cfrg-xwing-kem-08 Appendix C', () => {
  it('has the two vectors of the draft', () => {
    expect(xwingVectors).toHaveLength(2);
  });
  it.each(xwingVectors.map((v, i) => [i, v] as const))('vector %i: keygen, encapsulate, decapsulate', async (_i, v) => {
    const pair = await xwingKeygen(hexBytes(v.sk));
    expect(Buffer.from(pair.publicKey).toString('hex')).toBe(v.pk);
    expect(Buffer.from(await xwingPublicFromSecret(hexBytes(v.sk))).toString('hex')).toBe(v.pk);
    const { cipherText, sharedSecret } = await xwingEncapsulate(hexBytes(v.pk), hexBytes(v.eseed));
    expect(Buffer.from(cipherText).toString('hex')).toBe(v.ct);
    expect(Buffer.from(sharedSecret).toString('hex')).toBe(v.ss);
    expect(Buffer.from(await xwingDecapsulate(hexBytes(v.ct), pair.secretKey)).toString('hex')).toBe(v.ss);
  });
  it('decapsulation of a modified ciphertext gives another secret (implicit rejection)', async () => {
    const v = xwingVectors[0]!;
    const ct = hexBytes(v.ct);
    ct[0]! ^= 1;
    expect(Buffer.from(await xwingDecapsulate(ct, hexBytes(v.sk))).toString('hex')).not.toBe(v.ss);
  });
});

// ---- container vectors ------------------------------------------------------------------------

type Content = { hex: string } | { generator: string; length: number; mul: number; add: number };
interface PersonVector { id: string; xwingSeed: string; xwingSecretKey: string; xwingPublicKeySha256: string; xwingFpr: string; ed25519Seed: string; ed25519PublicKey: string; ed25519Fpr: string }
interface ContainerVector {
  name: string; file: string; sender: string;
  recipients: { kind: 'keys'; people: string[] } | { kind: 'password'; password: string; passwordHex: string; salt: string; opslimit: number; memlimitKib: number };
  containerId: string; fileKey: string; eseeds: string[]; createdMs: number;
  files: { name: string; mtime: number | null; content: Content; sha256: string; size: number }[];
  convention?: { id: string; period: string; documents: string[]; subject?: string };
  openWith: string[]; cannotOpen: string[];
  expected: { length: number; sha256: string; headerLength: number; chunks: number };
}
const suite = JSON.parse(readFileSync(path.join(VECTORS, 'container-v1.json'), 'utf8')) as { people: Record<string, PersonVector>; containers: ContainerVector[] };

// Implemented here independently of the generator: the JSON is the contract, not the script.
function contentOf(c: Content): Buffer {
  if ('hex' in c) return hexBytes(c.hex);
  expect(c.generator).toBe('byte[i] = (i * mul + add) mod 256');
  return Buffer.from(Array.from({ length: c.length }, (_, i) => (i * c.mul + c.add) % 256));
}

const people = new Map<string, TestPerson>();
async function person(label: string): Promise<TestPerson> {
  let p = people.get(label);
  if (!p) {
    const v = suite.people[label]!;
    p = await makePerson({ id: v.id, xwingSeed: hexBytes(v.xwingSeed), ed25519Seed: hexBytes(v.ed25519Seed) });
    people.set(label, p);
  }
  return p;
}

describe('container-v1.json', () => {
  it('covers the cases the format must pin down', () => {
    const names = suite.containers.map((c) => c.name);
    expect(names).toEqual(expect.arrayContaining(['one-file', 'three-files', 'zero-files', 'password', 'convention']));
    expect(suite.containers.find((c) => c.name === 'convention')!.convention).toMatchObject({ period: '2026-T4', documents: ['IS 101', 'IST'] });
    const three = suite.containers.find((c) => c.name === 'three-files')!;
    expect(three.files.map((f) => f.size)).toEqual(expect.arrayContaining([0, 65536]));
    expect(three.recipients.kind === 'keys' && three.recipients.people.length).toBe(3);
    expect(suite.containers.find((c) => c.name === 'zero-files')!.files).toEqual([]);
  });

  it('people: recorded public values follow from the seeds', async () => {
    for (const [label, v] of Object.entries(suite.people)) {
      const p = await person(label);
      expect(Buffer.from(p.enc.secretKey).toString('hex')).toBe(v.xwingSecretKey);
      expect(sha256(p.enc.publicKey)).toBe(v.xwingPublicKeySha256);
      expect(p.enc.fpr.toString('hex')).toBe(v.xwingFpr);
      expect(Buffer.from(p.sig.publicKey).toString('hex')).toBe(v.ed25519PublicKey);
      expect(p.sig.fpr.toString('hex')).toBe(v.ed25519Fpr);
      // Fingerprint label "pli/v1/fpr/<kind>\0", recomputed by hand.
      expect(createHash('sha256').update(Buffer.from('pli/v1/fpr/ed25519\0', 'ascii')).update(p.sig.publicKey).digest().equals(fingerprint('ed25519', p.sig.publicKey))).toBe(true);
    }
  });

  describe.each(suite.containers.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const stored = readFileSync(path.join(VECTORS, c.file));

    it('stored file has the recorded length and SHA-256', () => {
      expect(stored.length).toBe(c.expected.length);
      expect(sha256(stored)).toBe(c.expected.sha256);
      expect(stored.length).toBe(16 + c.expected.headerLength + c.expected.chunks * 65552 + 64);
      for (const f of c.files) expect(sha256(contentOf(f.content))).toBe(f.sha256);
    });

    it('is rebuilt byte for byte from the recorded inputs', async () => {
      const sender = await person(c.sender);
      const recipients: SealParams['recipients'] = c.recipients.kind === 'keys'
        ? { kind: 'keys', keys: await Promise.all(c.recipients.people.map(async (l) => { const p = await person(l); return { keyFpr: p.enc.fpr, publicKey: p.enc.publicKey }; })) }
        : { kind: 'password', password: hexBytes(c.recipients.passwordHex), params: { opslimit: c.recipients.opslimit, memlimitKib: c.recipients.memlimitKib } };
      const { bytes, result } = await sealToBuffer(
        c.files.map((f) => ({ name: f.name, data: contentOf(f.content), mtime: f.mtime })),
        {
          senderId: sender.id,
          signing: { keyFpr: sender.sig.fpr, secretKey: sender.sig.secretKey },
          recipients,
          createdMs: c.createdMs,
          ...(c.convention ? { convention: c.convention } : {}),
          fixed: {
            containerId: hexBytes(c.containerId), fileKey: hexBytes(c.fileKey), eseeds: c.eseeds.map(hexBytes),
            ...(c.recipients.kind === 'password' ? { salt: hexBytes(c.recipients.salt) } : {}),
          },
        },
      );
      expect(result.chunks).toBe(c.expected.chunks);
      expect(result.size).toBe(bytes.length);
      expect(sha256(bytes)).toBe(c.expected.sha256);
      expect(bytes.equals(stored)).toBe(true);
    });

    it('header fields are the recorded inputs (readInfo)', async () => {
      const info = await readInfo(bufferSource(stored));
      expect(info.containerIdHex).toBe(c.containerId);
      expect(info.header.createdMs).toBe(c.createdMs);
      expect(info.senderId).toBe(suite.people[c.sender]!.id);
      expect(info.header.senderSigFpr.toString('hex')).toBe(suite.people[c.sender]!.ed25519Fpr);
      expect(info.chunks).toBe(c.expected.chunks);
      if (c.recipients.kind === 'keys') {
        const fprs = c.recipients.people.map((l) => suite.people[l]!.xwingFpr);
        expect(info.header.recipients.map((r) => (r.type === 'xwing' ? r.keyFpr.toString('hex') : 'password'))).toEqual(fprs);
      } else {
        expect(info.header.recipients).toEqual([expect.objectContaining({ type: 'password', opslimit: c.recipients.opslimit, memlimitKib: c.recipients.memlimitKib, salt: hexBytes(c.recipients.salt) })]);
      }
    });

    it('opens with the recorded keys and yields the recorded files', async () => {
      const known = await Promise.all(Object.keys(suite.people).map(person));
      const readers = c.recipients.kind === 'keys'
        ? await Promise.all(c.openWith.map(async (l) => readerCallbacks(await person(l), known)))
        : [passwordCallbacks(c.recipients.password, known)];
      expect(readers.length).toBeGreaterThan(0);
      for (const callbacks of readers) {
        const outcome = await tryOpen(stored, callbacks);
        expect(describeError(outcome.error)).toBe('accepted');
        expect(outcome.sink.committed).toBe(true);
        expect(outcome.files.map((f) => f.name)).toEqual(c.files.map((f) => f.name));
        outcome.files.forEach((f, i) => expect(sha256(f.data)).toBe(c.files[i]!.sha256));
        expect(outcome.sink.manifest?.files.map((f) => [f.size, f.mtime])).toEqual(c.files.map((f) => [f.size, f.mtime]));
        expect(outcome.sink.manifest?.sender).toBe(suite.people[c.sender]!.id);
        // Minor version 1 exactly when the vector names a convention (docs/format.md 5.3).
        expect(outcome.sink.manifest?.convention).toEqual(c.convention);
        expect(outcome.sink.manifest?.minor).toBe(c.convention ? 1 : undefined);
      }
    });

    it('does not open for the people it is not addressed to', async () => {
      const known = await Promise.all(Object.keys(suite.people).map(person));
      for (const label of c.cannotOpen) {
        const outcome = await tryOpen(stored, readerCallbacks(await person(label), known));
        expect(outcome.error).toBeInstanceOf(PliError);
        expect(describeError(outcome.error)).toBe('security/not-addressed');
        expect(outcome.begun).toBe(false);
      }
      if (c.recipients.kind === 'password') {
        const outcome = await tryOpen(stored, passwordCallbacks(`${c.recipients.password}!`, known));
        expect(describeError(outcome.error)).toBe('security/bad-password');
        expect(outcome.begun).toBe(false);
      }
    });
  });
});
