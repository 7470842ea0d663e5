// A decryption places every file or none (issue 12, item 2), and every expected failure of the
// system is named (item 8): the room checked before anything is written, a full disk met
// half-way, names too long once " (2)" is added, the move on file systems without hard links
// (the very file written is renamed, never copied), the journal by which a run killed in the
// middle of its commit is undone, and the French messages of the system's faults.
import { describe, it, expect, beforeAll, afterAll, beforeEach, vi } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { chownSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createHash, randomBytes } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { openStream } from '../../electron/core/container/open.js';
import { bufferSource, candidateName, FolderSink, sweepTemporaryFolders } from '../../electron/core/container/sinks.js';
import { faultError, placeOf } from '../../electron/core/faults.js';
import { PliError } from '../../electron/core/errors.js';
import { makePerson, seal, readerCallbacks, describeError, type TestPerson } from './helpers.js';

// Switches on node:fs/promises: a file system without hard links (link() answers EPERM, as on
// FAT/exFAT), and statfs() reporting a chosen room (null: the real answer).
// Also: the paths whose handles were synced to disk (fsync).
const hooks = vi.hoisted(() => ({ noHardLinks: false, room: null as number | null, synced: [] as string[] }));
vi.mock('node:fs/promises', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs/promises')>();
  const link = async (from: string, to: string): Promise<void> => {
    if (hooks.noHardLinks) throw Object.assign(new Error('EPERM: operation not permitted, link'), { code: 'EPERM' });
    return real.link(from, to);
  };
  const statfs = async (where: string, options?: { bigint?: false }) => {
    const info = await real.statfs(where, options);
    return hooks.room === null ? info : Object.assign(info, { bsize: 1, bavail: hooks.room });
  };
  const open = async (file: string, flags?: string | number, mode?: number) => {
    const handle = await real.open(file, flags, mode);
    const sync = handle.sync.bind(handle);
    handle.sync = async () => {
      hooks.synced.push(String(file));
      return sync();
    };
    return handle;
  };
  return { ...real, default: { ...real, link, statfs, open }, link, statfs, open };
});

const isRoot = process.getuid?.() === 0;
let root: string;
let sender: TestPerson;
let reader: TestPerson;
let sealed: Buffer;
const FILES = [
  { name: 'IS101_T3.xls', data: randomBytes(3_000_000) },
  { name: 'IST_T3.csv', data: randomBytes(2_500_000) },
  { name: 'vide.txt', data: Buffer.alloc(0) },
];
const mounted: string[] = [];

beforeAll(async () => {
  root = mkdtempSync(path.join(os.tmpdir(), 'pli-aon-'));
  [sender, reader] = await Promise.all([makePerson(), makePerson()]);
  sealed = await seal(sender, [reader], FILES);
});
afterAll(() => {
  for (const target of mounted.reverse()) spawnSync('umount', ['-l', target]);
  rmSync(root, { recursive: true, force: true });
});
beforeEach(() => {
  hooks.noHardLinks = false;
  hooks.room = null;
  hooks.synced = [];
});

let counter = 0;
const fresh = (name: string): string => {
  const dir = path.join(root, `${name}-${++counter}`);
  mkdirSync(dir);
  return dir;
};
const open = (sink: FolderSink, bytes: Buffer = sealed) => openStream(bufferSource(bytes), sink, readerCallbacks(reader, [sender])).then(() => null, (e: unknown) => e);
const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

describe('the room is checked before any plaintext is written', () => {
  it('too little room: temporary/disk-full, says where and how much, nothing written', async () => {
    const out = fresh('dest');
    hooks.room = 4_000_000; // less than the 5.5 MB of the files
    const sink = await FolderSink.create(out);
    let writes = 0;
    const write = sink.write.bind(sink);
    sink.write = async (index, parts) => {
      writes++;
      return write(index, parts);
    };
    const error = await open(sink);
    expect(describeError(error)).toBe('temporary/disk-full');
    expect((error as PliError).exitCode).toBe(3);
    expect((error as Error).message).toContain(out);
    expect((error as Error).message).toMatch(/il faut 6,4 Mo, il reste 3,8 Mo/);
    expect(writes).toBe(0);
    expect(readdirSync(out)).toEqual([]);
  });

  it('just enough room: decrypted', async () => {
    hooks.room = 5_500_000 + 3 * 64 * 1024 + 1024 * 1024;
    const out = fresh('dest');
    expect(await open(await FolderSink.create(out))).toBeNull();
    expect(readdirSync(out).sort()).toEqual(FILES.map((f) => f.name).sort());
  });

  const needsRoot = isRoot ? null : 'skipped: needs root to mount a tmpfs';
  it.skipIf(needsRoot !== null)(needsRoot ?? 'a disk that fills up half-way (a 4 MiB tmpfs, statfs fooled): temporary/disk-full, nothing left', async () => {
    const out = fresh('tmpfs');
    const run = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', out], { encoding: 'utf8' });
    expect(run.status, run.stderr).toBe(0);
    mounted.push(out);
    hooks.room = 1e12; // another program filled the disk after the check
    const error = await open(await FolderSink.create(out));
    expect(describeError(error)).toBe('temporary/disk-full');
    expect((error as Error).message).toContain(out);
    expect(readdirSync(out)).toEqual([]);
  });
});

describe('names', () => {
  it('"name (n)" fits in 255 bytes, keeps the extension, cuts only whole characters', () => {
    const names = [`${'é'.repeat(124)}_T3.csv`, `${'a'.repeat(251)}.xls`, `${'€'.repeat(85)}`, `rapport.${'x'.repeat(200)}`, 'IS101.xls', '.profile'];
    for (const name of names) {
      expect(Buffer.byteLength(name)).toBeLessThanOrEqual(255);
      for (const n of [2, 10, 999, 9999]) {
        const candidate = candidateName(name, n);
        expect(Buffer.byteLength(candidate), candidate).toBeLessThanOrEqual(255);
        expect(candidate).toContain(` (${n})`);
        expect(Buffer.from(candidate, 'utf8').toString('utf8')).toBe(candidate); // no broken character
        expect(candidate.includes('\uFFFD')).toBe(false);
      }
    }
    expect(candidateName('IS101.xls', 1)).toBe('IS101.xls');
    expect(candidateName('IS101.xls', 2)).toBe('IS101 (2).xls');
    expect(candidateName(`${'é'.repeat(124)}_T3.csv`, 2).endsWith(' (2).csv')).toBe(true);
  });

  it('a 255-byte name already taken: placed as a shortened "name (2)", the existing file untouched', async () => {
    const name = `${'é'.repeat(124)}_T3.csv`;
    const data = randomBytes(5000);
    const container = await seal(sender, [reader], [{ name, data }]);
    const out = fresh('dest');
    writeFileSync(path.join(out, name), 'déjà là');
    expect(describeError(await open(await FolderSink.create(out), container))).toBe('accepted');
    const placed = readdirSync(out).filter((n) => n !== name);
    expect(placed).toEqual([candidateName(name, 2)]);
    expect(readFileSync(path.join(out, placed[0]!)).equals(data)).toBe(true);
    expect(readFileSync(path.join(out, name), 'utf8')).toBe('déjà là');
  });

  it('no name left for the second file: input/name-exhausted, the first file taken back', async () => {
    const out = fresh('dest');
    writeFileSync(path.join(out, 'IST_T3.csv'), '');
    for (let n = 2; n < 10000; n++) writeFileSync(path.join(out, `IST_T3 (${n}).csv`), '');
    const error = await open(await FolderSink.create(out));
    expect(describeError(error)).toBe('input/name-exhausted');
    expect((error as Error).message).toContain(out);
    expect(existsSync(path.join(out, 'IS101_T3.xls'))).toBe(false);
    expect(readdirSync(out).filter((n) => !n.startsWith('IST_T3'))).toEqual([]);
  }, 60000);
});

describe('a file system without hard links (FAT/exFAT)', () => {
  it('each file is renamed into place: the very file written, never a copy', async () => {
    hooks.noHardLinks = true;
    const out = fresh('dest');
    const sink = await FolderSink.create(out);
    const commit = sink.commit.bind(sink);
    const written = new Map<string, bigint>();
    sink.commit = async () => {
      for (const [i, file] of FILES.entries()) written.set(file.name, lstatSync(path.join(sink.tempDir, String(i)), { bigint: true }).ino);
      return commit();
    };
    expect(await open(sink)).toBeNull();
    for (const file of FILES) {
      expect(lstatSync(path.join(out, file.name), { bigint: true }).ino, file.name).toBe(written.get(file.name));
      expect(readFileSync(path.join(out, file.name)).equals(file.data)).toBe(true);
    }
    expect(readdirSync(out).sort()).toEqual(FILES.map((f) => f.name).sort());
  });
});

describe('durable before "done"', () => {
  it('each file is synced to disk before it is moved, and the folder after', async () => {
    const out = fresh('dest');
    const sink = await FolderSink.create(out);
    expect(await open(sink)).toBeNull();
    for (const i of FILES.keys()) expect(hooks.synced, `file ${i}`).toContain(path.join(sink.tempDir, String(i)));
    expect(hooks.synced).toContain(out);
  });
});

describe('the journal of a run killed in the middle of its commit', () => {
  /** The pid of a process that has ended. */
  const deadPid = (): Promise<number> => new Promise((resolve) => {
    const child = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
    child.once('exit', () => resolve(child.pid!));
  });
  const journal = (entries: object[]): string => entries.map((e) => JSON.stringify(e)).join('\n') + '\n';

  it('the next run takes back the files it lists as placed, if still as written; nothing else', async () => {
    const dir = fresh('killed');
    const placed = randomBytes(2000);
    const changed = randomBytes(2000);
    writeFileSync(path.join(dir, 'IS101_T3.xls'), placed); // placed by the killed run
    writeFileSync(path.join(dir, 'modifie.csv'), Buffer.from('modifié depuis')); // listed, but no longer what was written
    writeFileSync(path.join(dir, 'abandonne.csv'), placed); // listed, then given up ('-'): a user's file
    writeFileSync(path.join(dir, 'autre.txt'), placed); // not listed
    const outside = fresh('ailleurs');
    writeFileSync(path.join(outside, 'victime.txt'), placed);
    const folder = path.join(dir, `.pli-tmp-${await deadPid()}-0123456789ab`);
    mkdirSync(folder, { mode: 0o700 });
    writeFileSync(path.join(folder, 'placed'), journal([
      { '+': 'IS101_T3.xls', size: placed.length, sha256: sha256(placed) },
      { '+': 'modifie.csv', size: changed.length, sha256: sha256(changed) },
      { '+': 'abandonne.csv', size: placed.length, sha256: sha256(placed) },
      { '-': 'abandonne.csv', size: placed.length, sha256: sha256(placed) },
      { '+': `../${path.basename(outside)}/victime.txt`, size: placed.length, sha256: sha256(placed) },
    ]) + '{"+": "coupé');
    expect(await sweepTemporaryFolders(dir)).toBe(1);
    expect(readdirSync(dir).sort()).toEqual(['abandonne.csv', 'autre.txt', 'modifie.csv']);
    expect(readFileSync(path.join(outside, 'victime.txt')).equals(placed)).toBe(true);
  });

  const needsRoot = isRoot ? null : 'skipped: needs root to give a folder to another account';
  it.skipIf(needsRoot !== null)(needsRoot ?? "a journal planted by another account (in a folder it owns) is not read", async () => {
    const dir = fresh('planted');
    const victim = randomBytes(1000);
    writeFileSync(path.join(dir, 'IS101_T3.xls'), victim);
    const folder = path.join(dir, `.pli-tmp-${await deadPid()}-0123456789ab`);
    mkdirSync(folder, { mode: 0o700 });
    writeFileSync(path.join(folder, 'placed'), journal([{ '+': 'IS101_T3.xls', size: victim.length, sha256: sha256(victim) }]));
    chownSync(path.join(folder, 'placed'), 65534, 65534);
    chownSync(folder, 65534, 65534);
    await sweepTemporaryFolders(dir);
    expect(readFileSync(path.join(dir, 'IS101_T3.xls')).equals(victim)).toBe(true);
  });

  it('a completed decryption leaves no journal: a later sweep cannot take its files back', async () => {
    const out = fresh('dest');
    const sink = await FolderSink.create(out);
    expect(await open(sink)).toBeNull();
    expect(existsSync(sink.tempDir)).toBe(false);
    await sweepTemporaryFolders(out);
    expect(readdirSync(out).sort()).toEqual(FILES.map((f) => f.name).sort());
  });
});

describe('the system faults, in the users\' words', () => {
  const errno = (code: string, file?: string) => Object.assign(new Error(`${code}: raw`), { code, path: file });
  const CASES: [code: string, kind: string, exit: number][] = [
    ['ENOSPC', 'disk-full', 3], ['EDQUOT', 'disk-full', 3], ['SQLITE_FULL', 'disk-full', 3],
    ['EROFS', 'read-only', 1], ['SQLITE_READONLY', 'read-only', 1], ['SQLITE_CANTOPEN', 'read-only', 1],
    ['EACCES', 'no-permission', 1], ['EPERM', 'no-permission', 1], ['ENAMETOOLONG', 'name-too-long', 1], ['EFBIG', 'file-too-big-for-disk', 1],
    ['EMFILE', 'too-many-files', 3], ['EIO', 'io-error', 3], ['ENOTDIR', 'no-folder', 1],
    // SQLite's extended codes, by their primary code.
    ['SQLITE_FULL', 'disk-full', 3], ['SQLITE_READONLY_DBMOVED', 'read-only', 1], ['SQLITE_CANTOPEN_ISDIR', 'read-only', 1],
  ];
  /** The profile's own words for its full disk and its read-only state (as the CLI and the app say them). */
  const AT_PROFILE: Record<string, string> = { 'disk-full': 'profile-full', 'read-only': 'profile-read-only' };
  for (const [code, expected, exit] of CASES) {
    it(`${code}: ${expected}, exit ${exit}, French, says where and what to do`, () => {
      for (const place of [{ kind: 'folder' as const, path: '/media/CLE/recus' }, { kind: 'profile' as const, path: '/var/lib/pli' }]) {
        const error = faultError(errno(code), place)!;
        expect(error, code).toBeInstanceOf(PliError);
        expect(error.code).toBe(place.kind === 'profile' ? AT_PROFILE[expected] ?? expected : expected);
        expect(error.exitCode).toBe(exit);
        expect(error.message).not.toMatch(/inattendue|raw/);
        if (code !== 'EMFILE') expect(error.message).toContain(place.path);
        expect(error.message).toMatch(/recommencez|choisissez|demandez|vérifiez|fermez/i);
      }
    });
  }

  it('anything else is not an expected fault (it stays a bug, to be reported)', () => {
    expect(faultError(new TypeError('x is undefined'), null)).toBeNull();
    expect(faultError(errno('EWHATEVER'), null)).toBeNull();
  });

  it('placeOf: a SQLite error is the profile\'s; a file error is its folder\'s, or the profile\'s', () => {
    expect(placeOf(errno('SQLITE_CANTOPEN'), '/var/lib/pli')).toEqual({ kind: 'profile', path: '/var/lib/pli' });
    expect(placeOf(errno('EROFS', '/var/lib/pli/inbox/x.pli'), '/var/lib/pli')).toEqual({ kind: 'profile', path: '/var/lib/pli' });
    expect(placeOf(errno('EROFS', '/media/CLE/envoi.pli'), '/var/lib/pli')).toEqual({ kind: 'folder', path: '/media/CLE' });
    expect(placeOf(errno('ENOSPC'), '/var/lib/pli')).toBeNull();
  });
});
