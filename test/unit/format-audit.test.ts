// What an outside reader written from docs/format.md alone found the code to accept beyond the
// document, now refused by the code and written in the document:
//   - Argon2id parameters out of bounds are refused at parse (section 3), so by inspect, the
//     inbox's reception and verification too, not only by the password's unwrap;
//   - `pli inspect` reports the container's own version;
//   - the manifest (section 5.3) is accepted only as its one serialisation, byte for byte: no other
//     key order, whitespace, byte-order mark, duplicated key, escape or spelling of a number;
//   - a file's `mtime`: the writer writes a JavaScript date (|mtime| <= 8.64e15 ms) or null; the
//     reader takes up to 2^53 - 1 (earlier writers) and dates files only within JavaScript's dates
//     (null or beyond: the time of writing); `type` is at most 255 code points.
import { describe, expect, it } from 'vitest';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createDecipheriv } from 'node:crypto';
import { hkdf } from '../../electron/core/crypto/primitives.js';
import { openStream, readInfo } from '../../electron/core/container/open.js';
import { verifyContainer } from '../../electron/core/container/verify.js';
import { bufferSource, FolderSink } from '../../electron/core/container/sinks.js';
import { chunkNonce, encodeHeaderForCommitment, parseHeader, type Header } from '../../electron/core/container/format.js';
import { decodeManifest, encodeManifest, MAX_MTIME_MS } from '../../electron/core/container/manifest.js';
import { sealToBuffer } from '../../electron/core/container/seal.js';
import { inspect } from '../../electron/core/services/containers.js';
import { PliError } from '../../electron/core/errors.js';
import { describeError, makePerson, rawPlaintext, readerCallbacks, sealParams, sealRawPlaintext, tryOpen, type TestPerson } from './helpers.js';

const VECTORS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../vectors');
const vector = (name: string): Buffer => readFileSync(path.join(VECTORS, name));

function codeOf(run: () => unknown): string {
  try {
    run();
    return 'accepted';
  } catch (error) {
    return error instanceof PliError ? `${error.kind}/${error.code}` : `NOT-PLI ${String(error)}`;
  }
}
async function asyncCodeOf(run: () => Promise<unknown>): Promise<string> {
  try {
    await run();
    return 'accepted';
  } catch (error) {
    return error instanceof PliError ? `${error.kind}/${error.code}` : `NOT-PLI ${String(error)}`;
  }
}

// ---- Argon2id bounds at parse (docs/format.md section 3) ---------------------------------------

/** Offset of a password entry's opslimit: preamble (16), container id (16), date (8), sender (10),
 * signing key fingerprint (32), count (2), type (1), body_len (2), salt (16). memlimit_kib follows. */
const OPSLIMIT_AT = 16 + 16 + 8 + 10 + 32 + 2 + 1 + 2 + 16;

/** The password vector with its Argon2id parameters rewritten (the commitment and signature no
 * longer match: what matters is that the parse refuses it before anything else is looked at). */
function withArgon(opslimit: number, memlimitKib: number): Buffer {
  const bytes = Buffer.from(vector('container-v2-password.pli'));
  expect(bytes[OPSLIMIT_AT - 19]).toBe(0x02); // the password entry's type
  expect([bytes.readUInt32BE(OPSLIMIT_AT), bytes.readUInt32BE(OPSLIMIT_AT + 4)]).toEqual([3, 65536]);
  bytes.writeUInt32BE(opslimit, OPSLIMIT_AT);
  bytes.writeUInt32BE(memlimitKib, OPSLIMIT_AT + 4);
  return bytes;
}

describe('Argon2id parameters of a password entry: checked at parse', () => {
  const outOfBounds: [number, number][] = [
    [0xffffffff, 0xffffffff], [0, 65536], [2, 65536], [11, 65536], [3, 0], [3, 65535], [3, 1048577], [10, 0xffffffff],
  ];

  it('refuses every value outside 3..10 passes and 64 MiB..1 GiB as malformed, in the header parse', async () => {
    for (const [ops, mem] of outOfBounds) {
      const bytes = withArgon(ops, mem);
      const header = bytes.subarray(16, 16 + bytes.readUInt32BE(12));
      const error = await readInfo(bufferSource(bytes)).then(() => null, (e: unknown) => e);
      expect(describeError(error), `${ops} / ${mem}`).toBe('security/malformed');
      expect((error as PliError).message).toMatch(/Argon2id/);
      expect(codeOf(() => parseHeader(bytes.subarray(0, 16), header)), `${ops} / ${mem}`).toBe('security/malformed');
    }
  });

  it('accepts the bounds themselves (and the vector as stored)', async () => {
    for (const [ops, mem] of [[3, 65536], [10, 1048576], [3, 1048576], [10, 65536]] as const) {
      const info = await readInfo(bufferSource(withArgon(ops, mem)));
      expect(info.header.recipients[0]).toMatchObject({ type: 'password', opslimit: ops, memlimitKib: mem });
    }
    expect((await readInfo(bufferSource(vector('container-v1-password.pli')))).header.recipients[0]).toMatchObject({ opslimit: 3, memlimitKib: 65536 });
  });

  it('inspect and the signature check (the inbox\'s) refuse such a container too, before any signer is looked up', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'pli-format-audit-'));
    try {
      const file = path.join(dir, 'bad-argon.pli');
      writeFileSync(file, withArgon(0xffffffff, 0xffffffff));
      expect(await asyncCodeOf(() => inspect(file))).toBe('security/malformed');
      let asked = false;
      const verified = await asyncCodeOf(() => verifyContainer(bufferSource(withArgon(0xffffffff, 0xffffffff)), async () => {
        asked = true;
        throw new Error('signer looked up');
      }));
      expect(verified).toBe('security/malformed');
      expect(asked).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the writer never encodes parameters a reader refuses', () => {
    const header = (opslimit: number, memlimitKib: number): Header => ({
      version: 2, containerId: Buffer.alloc(16), createdMs: Date.UTC(2026, 0, 1), senderId: Buffer.alloc(10), senderSigFpr: Buffer.alloc(32),
      recipients: [{ type: 'password', salt: Buffer.alloc(16), opslimit, memlimitKib, wrapped: Buffer.alloc(48) }],
    });
    expect(() => encodeHeaderForCommitment(header(3, 65536))).not.toThrow();
    expect(() => encodeHeaderForCommitment(header(1, 8))).toThrow(/Argon2id/);
    expect(() => encodeHeaderForCommitment(header(3, 2 * 1048576))).toThrow(/Argon2id/);
  });
});

// ---- inspect reports the container's version ----------------------------------------------------

describe('inspect: the version in the preamble', () => {
  it('is 2 for a version 2 vector and 1 for a version 1 vector', async () => {
    for (const version of [1, 2]) {
      for (const name of ['one-file', 'password', 'convention']) {
        const info = await inspect(path.join(VECTORS, `container-v${version}-${name}.pli`));
        expect(info.version, name).toBe(version);
      }
    }
  });
});

// ---- the manifest: its one serialisation (docs/format.md 5.3) ----------------------------------

describe('manifest bytes: the canonical serialisation only', () => {
  const MTIME = 1789990000000;
  const canonicalOf = (sender: string): string =>
    `{"v":1,"sender":"${sender}","files":[{"name":"IS101_T3_2026.xls","type":"application/vnd.ms-excel","size":27,"mtime":${MTIME}}]}`;
  const DATA = Buffer.from('type;nombre\ncambriolages;12');

  async function openWith(sender: TestPerson, reader: TestPerson, manifest: string | Buffer): Promise<{ code: string; begun: boolean }> {
    const json = typeof manifest === 'string' ? Buffer.from(manifest, 'utf8') : manifest;
    const length = Buffer.alloc(4);
    length.writeUInt32BE(json.length);
    const bytes = await sealRawPlaintext(sender, [reader], Buffer.concat([length, json, DATA]));
    const outcome = await tryOpen(bytes, readerCallbacks(reader, [sender]));
    if (outcome.error === null) expect(outcome.files[0]!.data.equals(DATA)).toBe(true);
    return { code: describeError(outcome.error), begun: outcome.begun };
  }

  it('the writer writes exactly the canonical bytes, and a container made of them opens', async () => {
    const [sender, reader] = [await makePerson(), await makePerson()];
    const written = encodeManifest({ v: 1, sender: sender.id, files: [{ name: 'IS101_T3_2026.xls', type: 'application/vnd.ms-excel', size: 27, mtime: MTIME }] });
    expect(written.toString('utf8')).toBe(canonicalOf(sender.id));
    // Whatever the order of the object the writer is given.
    const shuffled = encodeManifest({ files: [{ mtime: MTIME, size: 27, type: 'application/vnd.ms-excel', name: 'IS101_T3_2026.xls' }], sender: sender.id, v: 1 });
    expect(shuffled.equals(written)).toBe(true);
    expect(await openWith(sender, reader, canonicalOf(sender.id))).toEqual({ code: 'accepted', begun: true });
  });

  it('refuses, as bad-manifest and before any file is begun: key order, whitespace, a BOM, a duplicated key, escapes, number spellings', async () => {
    const [sender, reader, other] = [await makePerson(), await makePerson(), await makePerson()];
    const canonical = canonicalOf(sender.id);
    const entry = `{"name":"IS101_T3_2026.xls","type":"application/vnd.ms-excel","size":27,"mtime":${MTIME}}`;
    const variants: [string, string | Buffer][] = [
      // The audit's four forgeries (forge.mjs): key order, pretty-printed, BOM, sender given twice.
      ['key-order', `{"files":[{"mtime":${MTIME},"size":27,"type":"application/vnd.ms-excel","name":"IS101_T3_2026.xls"}],"sender":"${sender.id}","v":1}`],
      ['whitespace', JSON.stringify(JSON.parse(canonical), null, 2)],
      ['bom', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(canonical, 'utf8')])],
      ['dup-key', canonical.replace('{"v":1,', `{"v":1,"sender":"${other.id}",`)],
      // And the other latitudes of JSON.parse.
      ['key order inside a file', canonical.replace(entry, `{"type":"application/vnd.ms-excel","name":"IS101_T3_2026.xls","size":27,"mtime":${MTIME}}`)],
      ['duplicated key inside a file', canonical.replace('"size":27,', '"size":999,"size":27,')],
      ['a space after a colon', canonical.replace('"v":1', '"v": 1')],
      ['a trailing newline', `${canonical}\n`],
      ['an escaped letter', canonical.replace('IS101', '\\u0049S101')],
      ['an escaped slash', canonical.replace('application/vnd', 'application\\/vnd')],
      ['size 27.0', canonical.replace('"size":27', '"size":27.0')],
      ['size 2.7e1', canonical.replace('"size":27', '"size":2.7e1')],
      ['mtime with an exponent', canonical.replace(`"mtime":${MTIME}`, '"mtime":1.78999e12')],
    ];
    for (const [name, manifest] of variants) {
      expect(await openWith(sender, reader, manifest), name).toEqual({ code: 'security/bad-manifest', begun: false });
      expect(codeOf(() => decodeManifest(Buffer.isBuffer(manifest) ? manifest : Buffer.from(manifest))), name).toBe('security/bad-manifest');
    }
  });

  it('a minor 1 manifest: the convention\'s keys in the documented order only', async () => {
    const sender = await makePerson();
    const convention = { id: 'conv-0123456789abcdef', period: '2026-T4', documents: ['IS 101', 'IST'], subject: 'États du 4e trimestre' };
    const written = encodeManifest({ v: 1, sender: sender.id, files: [], convention });
    expect(codeOf(() => decodeManifest(written))).toBe('accepted');
    const text = written.toString('utf8');
    expect(codeOf(() => decodeManifest(Buffer.from(text.replace('"id":"conv-0123456789abcdef","period":"2026-T4"', '"period":"2026-T4","id":"conv-0123456789abcdef"'))))).toBe('security/bad-manifest');
    expect(codeOf(() => decodeManifest(Buffer.from(text.replace('{"v":1,"minor":1,', '{"minor":1,"v":1,'))))).toBe('security/bad-manifest');
    // No subject: written without the key, and read so.
    const bare = encodeManifest({ v: 1, sender: sender.id, files: [], convention: { id: convention.id, period: convention.period, documents: convention.documents } });
    expect(bare.toString('utf8')).not.toContain('subject');
    expect(codeOf(() => decodeManifest(bare))).toBe('accepted');
  });

  it('every stored vector\'s manifest, v1 and v2, is already the canonical serialisation', () => {
    let checked = 0;
    for (const version of [1, 2]) {
      const suite = JSON.parse(readFileSync(path.join(VECTORS, `container-v${version}.json`), 'utf8')) as { containers: { name: string; file: string | null; fileKey: string }[] };
      for (const c of suite.containers.filter((x) => x.file)) {
        const bytes = vector(c.file!);
        const headerEnd = 16 + bytes.readUInt32BE(12);
        const containerId = bytes.subarray(16, 32);
        const chunks = (bytes.length - headerEnd - 64) / (65536 + 16);
        const decipher = createDecipheriv('aes-256-gcm', hkdf(Buffer.from(c.fileKey, 'hex'), containerId, 'pli/v1/payload'), chunkNonce(0, chunks === 1));
        decipher.setAuthTag(bytes.subarray(headerEnd + 65536, headerEnd + 65536 + 16));
        const plain = Buffer.concat([decipher.update(bytes.subarray(headerEnd, headerEnd + 65536)), decipher.final()]);
        const manifest = plain.subarray(4, 4 + plain.readUInt32BE(0));
        expect(encodeManifest(decodeManifest(manifest)).equals(manifest), c.file!).toBe(true);
        checked++;
      }
    }
    expect(checked).toBe(10);
  });
});

// ---- file dates and types (docs/format.md 5.3) -------------------------------------------------

describe('manifest bounds: mtime up to 2^53 - 1 (files dated within JavaScript dates), type at most 255 code points', () => {
  const manifestWith = (sender: string, file: Record<string, unknown>): Buffer =>
    Buffer.from(JSON.stringify({ v: 1, sender, files: [{ name: 'a.txt', type: 'text/plain', size: 0, mtime: null, ...file }] }), 'utf8');

  it('mtime: any integer up to 2^53 - 1 accepted (earlier writers wrote them), beyond refused (as bad-manifest)', async () => {
    const sender = await makePerson();
    expect(MAX_MTIME_MS).toBe(8.64e15);
    for (const mtime of [8.64e15, -8.64e15, 8.64e15 + 1, 9e15, Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER, 0, -1, null]) {
      expect(codeOf(() => decodeManifest(manifestWith(sender.id, { mtime }))), String(mtime)).toBe('accepted');
    }
    for (const mtime of [Number.MAX_SAFE_INTEGER + 1, -Number.MAX_SAFE_INTEGER - 1, 1.5]) {
      expect(codeOf(() => decodeManifest(manifestWith(sender.id, { mtime }))), String(mtime)).toBe('security/bad-manifest');
    }
  });

  it('a date beyond JavaScript\'s (9e15, as a writer before stop 36 wrote it) opens; the file keeps its time of writing, a date within is given', async () => {
    const [sender, reader] = [await makePerson(), await makePerson()];
    const manifest = { v: 1, sender: sender.id, files: [
      { name: 'loin.txt', type: 'text/plain', size: 1, mtime: 9e15 },
      { name: 'hier.txt', type: 'text/plain', size: 1, mtime: 1789990000000 },
    ] };
    const bytes = await sealRawPlaintext(sender, [reader], rawPlaintext(manifest, [Buffer.from('x'), Buffer.from('y')]));
    const dir = mkdtempSync(path.join(tmpdir(), 'pli-mtime-'));
    try {
      const before = Date.now() - 60_000;
      await openStream(bufferSource(bytes), await FolderSink.create(dir), readerCallbacks(reader, [sender]));
      expect(statSync(path.join(dir, 'loin.txt')).mtimeMs).toBeGreaterThan(before);
      expect(statSync(path.join(dir, 'hier.txt')).mtimeMs).toBe(1789990000000);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the writer writes a file date beyond the range (a file system can hold one) as null, and the date at the bound as it is', async () => {
    const [sender, reader] = [await makePerson(), await makePerson()];
    const files = [
      { name: 'loin.txt', data: Buffer.from('a'), mtime: 1e16 },
      { name: 'avant.txt', data: Buffer.from('b'), mtime: -9e15 },
      { name: 'borne.txt', data: Buffer.from('c'), mtime: 8.64e15 },
      { name: 'hier.txt', data: Buffer.from('d'), mtime: 1789990000000.7 },
    ];
    const { bytes } = await sealToBuffer(files, sealParams(sender, [reader]));
    const outcome = await tryOpen(bytes, readerCallbacks(reader, [sender]));
    expect(describeError(outcome.error)).toBe('accepted');
    expect(outcome.sink.manifest!.files.map((f) => f.mtime)).toEqual([null, null, 8.64e15, 1789990000000]);
  });

  it('type: 255 code points accepted (even 510 UTF-16 units), 256 refused', async () => {
    const sender = await makePerson();
    expect(codeOf(() => decodeManifest(manifestWith(sender.id, { type: 'x'.repeat(255) })))).toBe('accepted');
    expect(codeOf(() => decodeManifest(manifestWith(sender.id, { type: '\u{1F600}'.repeat(255) })))).toBe('accepted');
    expect(codeOf(() => decodeManifest(manifestWith(sender.id, { type: 'x'.repeat(256) })))).toBe('security/bad-manifest');
    expect(codeOf(() => decodeManifest(manifestWith(sender.id, { type: '\u{1F600}'.repeat(256) })))).toBe('security/bad-manifest');
  });
});
