// The one writer of new files (electron/core/files.ts) and the four front ends' writers built on it
// (core/pdf/new-file.ts, cli/pli.ts, ipc/files.ts, and services/audit.ts's exports through
// `exportAudit`'s tests in test/cli/people-audit.test.ts). The attacker of docs/profile.md can
// write next to where a person saves: a file, a folder, a link to a file of theirs or a dangling
// link planted at the name is refused, and what it points to stays as it was; the mode is the
// caller's from the first byte; a disk that fills up half-way leaves nothing behind.
import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { writeNewFile, writeNewFileSync, somethingAt, type NewFileWords } from '../../electron/core/files.js';
import { writeNewFile as corePdfWrite } from '../../electron/core/pdf/new-file.js';
import { writeNewFile as cliWrite } from '../../electron/cli/pli.js';
import { writeNewFile as ipcWrite } from '../../electron/ipc/files.js';
import { PliError } from '../../electron/core/errors.js';
import { initProfile } from '../../electron/core/profile/profile.js';
import { createIdentity } from '../../electron/core/profile/identities.js';
import { appendEvent } from '../../electron/core/profile/events.js';
import { signIn } from '../../electron/core/services/session.js';
import { exportAudit } from '../../electron/core/services/audit.js';

const root = mkdtempSync(path.join(os.tmpdir(), 'pli-files-'));
const mounted: string[] = [];
afterAll(() => {
  for (const target of mounted.reverse()) spawnSync('umount', ['-l', target]);
  rmSync(root, { recursive: true, force: true });
});

let counter = 0;
const fresh = (): string => {
  const dir = path.join(root, `case-${++counter}`);
  mkdirSync(dir);
  return dir;
};

class Exists extends Error {}
class Failed extends Error {
  constructor(readonly stage: string, readonly reason: unknown) {
    super(`failed at ${stage}`);
  }
}
const WORDS: NewFileWords = { exists: (t) => new Exists(t), failed: (_t, error, stage) => new Failed(stage, error) };

type Writer = (target: string, data: string | Uint8Array) => Promise<void>;
const writers: [string, Writer][] = [
  ['writeNewFileSync', async (t, d) => writeNewFileSync(t, d, 0o600, WORDS)],
  ['writeNewFile (async)', (t, d) => writeNewFile(t, d, 0o600, WORDS)],
];

/** What an attacker may plant at the name, and what must hold afterwards. */
function plant(dir: string): { name: string; target: string; untouched: () => void }[] {
  const mine = path.join(dir, 'mine.txt');
  writeFileSync(mine, 'à moi');
  const aim = path.join(dir, 'aim.txt');
  const cases = [
    { name: 'an existing file', target: path.join(dir, 'there.pdf'), set: (t: string) => writeFileSync(t, 'avant'), untouched: (t: string) => expect(readFileSync(t, 'utf8')).toBe('avant') },
    { name: 'a folder', target: path.join(dir, 'folder.pdf'), set: (t: string) => mkdirSync(t), untouched: (t: string) => expect(readdirSync(t)).toEqual([]) },
    { name: 'a link to a file of the person', target: path.join(dir, 'link.pdf'), set: (t: string) => symlinkSync(mine, t), untouched: () => expect(readFileSync(mine, 'utf8')).toBe('à moi') },
    { name: 'a dangling link', target: path.join(dir, 'dangling.pdf'), set: (t: string) => symlinkSync(aim, t), untouched: () => expect(existsSync(aim)).toBe(false) },
  ];
  return cases.map((c) => {
    c.set(c.target);
    return { name: c.name, target: c.target, untouched: () => c.untouched(c.target) };
  });
}

describe.each(writers)('%s', (_name, write) => {
  it('creates the file with the bytes and the caller\'s mode (0600, whatever the umask lets through)', async () => {
    const target = path.join(fresh(), 'clé.pli-cle');
    await write(target, 'secret à garder');
    expect(readFileSync(target, 'utf8')).toBe('secret à garder');
    expect(statSync(target).mode & 0o777).toBe(0o600);
  });

  it('refuses whatever is planted at the name (file, folder, link, dangling link) and leaves it as it was', async () => {
    for (const planted of plant(fresh())) {
      const error = await write(planted.target, 'x').then(() => null, (e: unknown) => e);
      expect(error, planted.name).toBeInstanceOf(Exists);
      planted.untouched();
    }
  });

  it('a missing folder: the words for a failed creation, nothing made', async () => {
    const target = path.join(fresh(), 'absent', 'x.pdf');
    const error = await write(target, 'x').then(() => null, (e: unknown) => e);
    expect(error).toBeInstanceOf(Failed);
    expect((error as Failed).stage).toBe('open');
    expect(existsSync(path.dirname(target))).toBe(false);
  });

  const needsRoot = process.getuid?.() === 0 ? null : 'skipped: needs root to mount a tmpfs';
  it.skipIf(needsRoot !== null)(needsRoot ?? 'a disk that fills up half-way (a 1 MiB tmpfs): the words for a failed write, no partial file', async () => {
    const dir = fresh();
    const run = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', dir], { encoding: 'utf8' });
    expect(run.status, run.stderr).toBe(0);
    mounted.push(dir);
    const error = await write(path.join(dir, 'gros.csv'), Buffer.alloc(4 << 20, 0x61)).then(() => null, (e: unknown) => e);
    expect(error).toBeInstanceOf(Failed);
    expect((error as Failed).stage).toBe('write');
    expect(((error as Failed).reason as NodeJS.ErrnoException).code).toBe('ENOSPC');
    expect(readdirSync(dir)).toEqual([]);
  });
});

describe('writeNewFileSync with data in pieces (a generator: the audit export)', () => {
  it('writes the pieces in order, strings and bytes', () => {
    const target = path.join(fresh(), 'journal.csv');
    writeNewFileSync(target, (function* () {
      yield 'début ';
      yield Buffer.from('milieu ');
      yield 'fin';
    })(), 0o600, WORDS);
    expect(readFileSync(target, 'utf8')).toBe('début milieu fin');
  });

  it('a generator that throws half-way: its own error goes up unchanged, no partial file', () => {
    const dir = fresh();
    const own = new Error('entrée illisible');
    let error: unknown = null;
    try {
      writeNewFileSync(path.join(dir, 'journal.csv'), (function* () {
        yield Buffer.alloc(1 << 20, 0x61);
        throw own;
      })(), 0o600, WORDS);
    } catch (e) {
      error = e;
    }
    expect(error).toBe(own);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('a name already taken: refused before the generator makes a piece', () => {
    const dir = fresh();
    writeFileSync(path.join(dir, 'journal.csv'), 'avant');
    let made = 0;
    expect(() => writeNewFileSync(path.join(dir, 'journal.csv'), (function* () {
      made++;
      yield 'x';
    })(), 0o600, WORDS)).toThrow(Exists);
    expect(made).toBe(0);
    expect(readFileSync(path.join(dir, 'journal.csv'), 'utf8')).toBe('avant');
  });
});

describe('the audit export (services/audit.ts) over the same writer', () => {
  const needsRoot = process.getuid?.() === 0 ? null : 'skipped: needs root to mount a tmpfs';
  it.skipIf(needsRoot !== null)(needsRoot ?? 'a disk that fills up half-way: no partial journal left in the folder', async () => {
    const { profile } = initProfile(path.join(fresh(), 'profil'));
    try {
      const person = await createIdentity(profile.db, { name: 'Rita Greffe', email: 'rita@exemple.fr', org: 'Mairie de Nancy' }, 'une phrase de passe de test', { opslimit: 1, memlimitKib: 8 });
      // Enough events for a journal larger than the one page of the disk below.
      for (let i = 0; i < 200; i++) appendEvent(profile.db, profile.workstation, { actor: person.id, action: 'file.written', object: `IS101_T${i}.xls` });
      const dir = fresh();
      const run = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=4k', 'tmpfs', dir], { encoding: 'utf8' });
      expect(run.status, run.stderr).toBe(0);
      mounted.push(dir);
      const ctx = { profile, unlocker: { unlock: (row: Parameters<typeof signIn>[1]) => signIn(profile, row, 'une phrase de passe de test') } };
      await expect(exportAudit(ctx, person.id, path.join(dir, 'journal.csv'))).rejects.toMatchObject({ code: 'disk-full', params: { place: dir, placeKind: 'folder' } });
      expect(readdirSync(dir)).toEqual([]);
    } finally {
      profile.close();
    }
  });
});

describe('somethingAt', () => {
  it('sees a dangling link (the link itself), not an absent name', () => {
    const dir = fresh();
    symlinkSync(path.join(dir, 'nowhere'), path.join(dir, 'link'));
    expect(somethingAt(path.join(dir, 'link'))).toBe(true);
    expect(somethingAt(path.join(dir, 'absent'))).toBe(false);
    expect(somethingAt(path.join(dir, 'absent', 'below'))).toBe(false);
  });
});

// Each front end keeps its own words and exit code, over the same writer.
const frontEnds: [string, Writer][] = [
  ['the core\'s documents (pdf/new-file.ts)', async (t, d) => corePdfWrite(t, d)],
  ['the command line (cli/pli.ts)', async (t, d) => cliWrite(t, typeof d === 'string' ? d : Buffer.from(d), 0o600)],
  ['the desktop app (ipc/files.ts)', (t, d) => ipcWrite(t, d, 0o600)],
];

describe.each(frontEnds)('%s', (_name, write) => {
  it('refuses a planted file or link as "exists" (exit 1), in French, and leaves it as it was', async () => {
    for (const planted of plant(fresh())) {
      const error = await write(planted.target, 'x').then(() => null, (e: unknown) => e);
      expect(error, planted.name).toBeInstanceOf(PliError);
      expect((error as PliError).code).toBe('exists');
      expect((error as PliError).exitCode).toBe(1);
      expect((error as PliError).message).toMatch(/existe déjà/);
      planted.untouched();
    }
  });

  it('a missing folder: no-folder (exit 1), naming the folder, nothing made', async () => {
    const target = path.join(fresh(), 'absent', 'x.pdf');
    const error = await write(target, 'x').then(() => null, (e: unknown) => e);
    expect((error as PliError).code).toBe('no-folder');
    expect((error as PliError).params).toEqual({ place: path.dirname(target), placeKind: 'folder' });
    expect((error as PliError).exitCode).toBe(1);
    expect(lstatSync(path.dirname(path.dirname(target))).isDirectory()).toBe(true);
    expect(existsSync(path.dirname(target))).toBe(false);
  });
});
