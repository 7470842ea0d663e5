// Issue 13, the stream no slower than age: what changed in the reader keeps every guarantee.
// The plaintext's SHA-256 is computed only for a caller that shows it; the HMAC of a file written
// under a convention is computed as it is written, equal to the one of the file read back; the
// journal of a commit names the very file written (device and inode), so that undoing a killed
// run takes back that file and never a user's file of the same name, size and content. Large
// containers (the hash worker, a last block shorter than the others) still round-trip and refuse
// chunks swapped across blocks.
import { describe, it, expect, beforeAll, afterAll, vi } from 'vitest';
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, linkSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createHash, createHmac, randomBytes } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { openStream } from '../../electron/core/container/open.js';
import { bufferSource, FolderSink, OFF_THREAD_HASH_BYTES, sweepTemporaryFolders } from '../../electron/core/container/sinks.js';
import { CHUNK_SEALED, PREAMBLE_BYTES } from '../../electron/core/container/format.js';
import type { Manifest } from '../../electron/core/container/manifest.js';
import { makePerson, seal, readerCallbacks, describeError, tryOpen, type TestPerson } from './helpers.js';

// Records what is appended to a commit's journal (the file named 'placed').
const hooks = vi.hoisted(() => ({ journal: [] as string[] }));
vi.mock('node:fs/promises', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs/promises')>();
  const appendFile: typeof real.appendFile = async (file, data, options) => {
    if (String(file).endsWith(`${path.sep}placed`)) hooks.journal.push(...String(data).split('\n').filter(Boolean));
    return real.appendFile(file, data, options);
  };
  return { ...real, default: { ...real, appendFile }, appendFile };
});

let root: string;
let sender: TestPerson;
let reader: TestPerson;
beforeAll(async () => {
  root = mkdtempSync(path.join(os.tmpdir(), 'pli-stream-'));
  [sender, reader] = await Promise.all([makePerson(), makePerson()]);
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

let counter = 0;
const fresh = (name: string): string => {
  const dir = path.join(root, `${name}-${++counter}`);
  mkdirSync(dir);
  return dir;
};
const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

describe('the per-file SHA-256 of a decryption', () => {
  const FILES = [{ name: 'IS101_T3.xls', data: randomBytes(300_000) }, { name: 'IST_T3.csv', data: randomBytes(70_000) }];
  let sealed: Buffer;
  beforeAll(async () => {
    sealed = await seal(sender, [reader], FILES);
  });

  it('is computed by default (the desktop app shows it), of the very bytes written', async () => {
    const out = fresh('digests');
    const sink = await FolderSink.create(out);
    await openStream(bufferSource(sealed), sink, readerCallbacks(reader, [sender]));
    expect(sink.written.map((w) => [w.name, w.size, w.sha256])).toEqual(FILES.map((f) => [f.name, f.data.length, sha256(f.data)]));
  });

  it('is not computed when not asked for (the command line): the same files, no digest', async () => {
    const out = fresh('no-digests');
    const sink = await FolderSink.create(out, { digests: false });
    await openStream(bufferSource(sealed), sink, readerCallbacks(reader, [sender]));
    expect(sink.written.map((w) => [w.name, w.size, w.sha256])).toEqual(FILES.map((f) => [f.name, f.data.length, null]));
    for (const f of FILES) expect(readFileSync(path.join(out, f.name)).equals(f.data)).toBe(true);
  });

  it('without digests, a tampered chunk is still refused and nothing is written', async () => {
    const out = fresh('no-digests-tampered');
    const copy = Buffer.from(sealed);
    copy[copy.length - 64 - CHUNK_SEALED + 100]! ^= 0x01;
    const sink = await FolderSink.create(out, { digests: false });
    const error = await openStream(bufferSource(copy), sink, readerCallbacks(reader, [sender])).then(() => null, (e: unknown) => e);
    expect(describeError(error)).toBe('security/tampered');
    expect(readdirSync(out)).toEqual([]);
  });
});

describe('the HMAC of each file written under a convention, computed as it is written', () => {
  it('equals the HMAC of the file read back (what the retention run compares), and is absent without a key', async () => {
    const files = [{ name: 'IS101.xls', data: randomBytes(200_000) }, { name: 'vide.txt', data: Buffer.alloc(0) }, { name: 'IST.csv', data: randomBytes(1000) }];
    const sealed = await seal(sender, [reader], files);
    const macKey = randomBytes(32);
    const out = fresh('macs');
    const sink = await FolderSink.create(out, { digests: false });
    const keyed = { begin: (m: Manifest) => sink.begin(m, macKey), write: sink.write.bind(sink), commit: sink.commit.bind(sink), abort: sink.abort.bind(sink) };
    await openStream(bufferSource(sealed), keyed, readerCallbacks(reader, [sender]));
    const hmacOf = (file: string) => createHmac('sha256', macKey).update(readFileSync(file)).digest();
    expect(sink.writtenMacs).toEqual(sink.written.map((w) => hmacOf(w.path)));
    expect(sink.written.map((w) => w.name)).toEqual(files.map((f) => f.name));

    const plain = await FolderSink.create(fresh('no-macs'));
    await openStream(bufferSource(sealed), plain, readerCallbacks(reader, [sender]));
    expect(plain.writtenMacs).toEqual([null, null, null]);
  });
});

describe('the journal of a run killed in the middle of its commit names the file written', () => {
  const deadPid = (): Promise<number> => new Promise((resolve) => {
    const child = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
    child.once('exit', () => resolve(child.pid!));
  });
  const journal = (entries: object[]): string => entries.map((e) => JSON.stringify(e)).join('\n') + '\n';
  const node = (file: string) => {
    const info = statSync(file, { bigint: true });
    return { dev: String(info.dev), ino: String(info.ino) };
  };

  it('a real commit writes the device and inode of each file, and no digest of its content', async () => {
    const out = fresh('real-journal');
    const content = Buffer.from('contenu a');
    const sealed = await seal(sender, [reader], [{ name: 'a.txt', data: content }]);
    hooks.journal = [];
    const sink = await FolderSink.create(out);
    await openStream(bufferSource(sealed), sink, readerCallbacks(reader, [sender]));
    const placed = path.join(out, 'a.txt');
    expect(readFileSync(placed).equals(content)).toBe(true);
    expect(hooks.journal.map((line) => JSON.parse(line) as unknown)).toEqual([{ '+': 'a.txt', size: content.length, ...node(placed) }]);
    expect(hooks.journal.join('')).not.toContain(sha256(content));
  });

  it('the next run takes back the very file written, and leaves a user’s copy of the same name, size and content', async () => {
    const dir = fresh('killed');
    const folder = path.join(dir, `.pli-tmp-${await deadPid()}-0123456789ab`);
    mkdirSync(folder, { mode: 0o700 });
    const data = randomBytes(2000);
    // Placed by the killed run: the temporary file and its new name are the same inode.
    writeFileSync(path.join(folder, '0'), data);
    linkSync(path.join(folder, '0'), path.join(dir, 'IS101_T3.xls'));
    // Listed, but the file under that name is a user's copy (same bytes, another inode): the
    // killed run died before its link, and the name was taken since.
    writeFileSync(path.join(folder, '1'), data);
    copyFileSync(path.join(folder, '1'), path.join(dir, 'copie.xls'));
    // Listed with the right inode, but rewritten since to another size: no longer as written.
    writeFileSync(path.join(folder, '2'), data);
    linkSync(path.join(folder, '2'), path.join(dir, 'modifie.xls'));
    writeFileSync(path.join(folder, 'placed'), journal([
      { '+': 'IS101_T3.xls', size: data.length, ...node(path.join(folder, '0')) },
      { '+': 'copie.xls', size: data.length, ...node(path.join(folder, '1')) },
      { '+': 'modifie.xls', size: data.length, ...node(path.join(folder, '2')) },
    ]));
    writeFileSync(path.join(dir, 'modifie.xls'), Buffer.concat([data, Buffer.from('ajout')]));
    expect(await sweepTemporaryFolders(dir)).toBe(1);
    expect(readdirSync(dir).sort()).toEqual(['copie.xls', 'modifie.xls']);
    expect(readFileSync(path.join(dir, 'copie.xls')).equals(data)).toBe(true);
  });

  it('a journal of an earlier version (a SHA-256, no inode) is still undone by the SHA-256', async () => {
    const dir = fresh('killed-v1');
    const folder = path.join(dir, `.pli-tmp-${await deadPid()}-0123456789ab`);
    mkdirSync(folder, { mode: 0o700 });
    const data = randomBytes(1500);
    writeFileSync(path.join(dir, 'ancien.csv'), data);
    writeFileSync(path.join(dir, 'autre.csv'), Buffer.from('autre contenu'));
    writeFileSync(path.join(folder, 'placed'), journal([
      { '+': 'ancien.csv', size: data.length, sha256: sha256(data) },
      { '+': 'autre.csv', size: 13, sha256: sha256(data) },
    ]));
    expect(await sweepTemporaryFolders(dir)).toBe(1);
    expect(readdirSync(dir)).toEqual(['autre.csv']);
  });

  it('an inode that is not a number, or a name outside the folder, is ignored', async () => {
    const dir = fresh('killed-bad');
    const folder = path.join(dir, `.pli-tmp-${await deadPid()}-0123456789ab`);
    mkdirSync(folder, { mode: 0o700 });
    const data = randomBytes(100);
    writeFileSync(path.join(dir, 'a.txt'), data);
    const outside = fresh('ailleurs');
    writeFileSync(path.join(outside, 'b.txt'), data);
    writeFileSync(path.join(folder, 'placed'), journal([
      { '+': 'a.txt', size: 100, dev: node(path.join(dir, 'a.txt')).dev, ino: '../../1' },
      { '+': `../${path.basename(outside)}/b.txt`, size: 100, ...node(path.join(outside, 'b.txt')) },
    ]));
    await sweepTemporaryFolders(dir);
    expect(readdirSync(dir)).toEqual(['a.txt']);
    expect(existsSync(path.join(outside, 'b.txt'))).toBe(true);
  });
});

describe('large containers: the hash worker, a shorter last block', () => {
  // Over the hash worker's threshold, and not a whole number of blocks: full blocks recycled, a
  // shorter last one.
  const size = OFF_THREAD_HASH_BYTES + 5 * 1024 * 1024 + 12_345;
  let data: Buffer;
  let sealed: Buffer;
  beforeAll(async () => {
    data = randomBytes(size);
    sealed = await seal(sender, [reader], [{ name: 'gros.bin', data }, { name: 'petit.txt', data: Buffer.from('fin') }]);
  }, 60_000);

  it('opens to the same bytes', async () => {
    const outcome = await tryOpen(sealed, readerCallbacks(reader, [sender]));
    expect(describeError(outcome.error)).toBe('accepted');
    expect(outcome.files[0]!.data.equals(data)).toBe(true);
    expect(outcome.files[1]!.data.toString()).toBe('fin');
  }, 60_000);

  it('two whole chunks of different blocks swapped, or one flipped in the last block: refused', async () => {
    const headerEnd = sealed.length - 64 - Math.floor((sealed.length - 64) / CHUNK_SEALED) * CHUNK_SEALED;
    expect(headerEnd).toBeGreaterThan(PREAMBLE_BYTES);
    const at = (chunk: number) => headerEnd + chunk * CHUNK_SEALED;
    const swapped = Buffer.from(sealed);
    sealed.copy(swapped, at(3), at(40), at(41));
    sealed.copy(swapped, at(40), at(3), at(4));
    expect(describeError((await tryOpen(swapped, readerCallbacks(reader, [sender]))).error)).toBe('security/tampered');
    const flipped = Buffer.from(sealed);
    flipped[sealed.length - 64 - 10]! ^= 0x80; // a tag byte of the last chunk
    expect(describeError((await tryOpen(flipped, readerCallbacks(reader, [sender]))).error)).toBe('security/tampered');
  }, 60_000);
});
