// The profile's own files (electron/core/own-files.ts, docs/profile.md): which paths are the
// profile's database or lie in its folder, answered without opening anything. Each case plays a
// person (or an attacker who can write the folders around) naming a profile file by another path.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { linkSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DB_FILE, initProfile, type Profile } from '../../electron/core/profile/profile.js';
import { PROFILE_DATABASE, PROFILE_DATABASE_FILES, isInProfileFolder, isProfileDatabase, isProfileFile, refuseProfileFile, refuseProfileFolder } from '../../electron/core/own-files.js';
import { PliError } from '../../electron/core/errors.js';
import { somethingAt, writeNewFileSync } from '../../electron/core/files.js';
import { writeNewFile as writeChosen, readChosen } from '../../electron/ipc/files.js';
import { writeNewFile as writeDocument } from '../../electron/core/pdf/new-file.js';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';

let root: string;
let home: string;
let profile: Profile;
const at = (...parts: string[]): string => path.join(root, ...parts);

beforeAll(() => {
  root = mkdtempSync(path.join(tmpdir(), 'pli-own-'));
  home = at('pli');
  profile = initProfile(home).profile;
  // A write makes SQLite create the -wal and -shm files (WAL mode).
  profile.db.prepare("INSERT OR REPLACE INTO meta (key, value) VALUES ('own-files-test', '1')").run();
  mkdirSync(at('pli', 'inbox'), { recursive: true });
  writeFileSync(at('pli', 'inbox', 'recu.pli'), 'x');
  mkdirSync(at('pli-other'));
  writeFileSync(at('pli-other', 'etat.csv'), 'commune;total\n');
  writeFileSync(at('document.pdf'), '%PDF-1.7\n');
  mkdirSync(at('links'));
});

afterAll(() => {
  profile.close();
  rmSync(root, { recursive: true, force: true });
});

const sidecars = (): string[] => PROFILE_DATABASE_FILES.filter((name) => {
  try {
    return isProfileDatabase(path.join(home, name), home);
  } catch {
    return false;
  }
});

describe('the profile database and its sidecars', () => {
  it('knows the database by the name the profile uses', () => {
    expect(PROFILE_DATABASE).toBe(DB_FILE);
    // The WAL profile has its -wal and -shm next to the database while it is open.
    expect(sidecars()).toEqual(expect.arrayContaining(['profile.sqlite', 'profile.sqlite-wal', 'profile.sqlite-shm']));
  });

  it('each database file that exists, with or without the open profile known', () => {
    for (const name of sidecars()) {
      const file = path.join(home, name);
      expect(isProfileFile(file, home), name).toBe(true);
      expect(isProfileFile(file), name).toBe(true); // a folder holding a Pli database is a profile's
    }
  });

  it('a symlink to each database file, from outside the profile', () => {
    for (const name of sidecars()) {
      const link = at('links', `lien-${name}`);
      symlinkSync(path.join(home, name), link);
      expect(isProfileFile(link, home), name).toBe(true);
      expect(isProfileFile(link), name).toBe(true);
    }
  });

  it('a hard link to the database, from outside the profile (known by (dev, ino), not by name)', () => {
    const hard = at('links', 'copie.sqlite');
    linkSync(path.join(home, DB_FILE), hard);
    expect(isProfileDatabase(hard, home)).toBe(true);
    expect(isProfileFile(hard, home)).toBe(true);
  });

  it('a path with `..` and a relative path', () => {
    // Joined by hand: path.join would take the `..` away before the check sees it.
    const up = (folder: string, name: string): string => `${folder}${path.sep}..${path.sep}${name}`;
    expect(isProfileFile(up(at('pli-other'), `pli${path.sep}${DB_FILE}`), home)).toBe(true);
    expect(isProfileFile(path.relative(process.cwd(), path.join(home, DB_FILE)), home)).toBe(true);
    // `..` after a symlinked folder is the kernel's: links/dans-inbox/.. is the profile's folder.
    symlinkSync(at('pli', 'inbox'), at('links', 'dans-inbox'));
    expect(isProfileFile(up(at('links', 'dans-inbox'), DB_FILE), home)).toBe(true);
    expect(isInProfileFolder(up(at('links', 'dans-inbox'), 'profile.sqlite-journal'), home)).toBe(true);
    expect(isInProfileFolder(up(at('links', 'dans-inbox'), 'profile.sqlite-journal'))).toBe(true);
    // Lexically, links/dans-inbox/.. is links/: the same name there is an ordinary file.
    writeFileSync(at('links', 'ordinaire.txt'), 'x');
    expect(isProfileFile(path.join(at('links', 'dans-inbox'), '..', 'ordinaire.txt'), home)).toBe(false);
  });

  it('a file in a sub-folder of the profile: no database to read (a kept container), but no place to write', () => {
    expect(isProfileFile(at('pli', 'inbox', 'recu.pli'), home)).toBe(false);
    expect(isProfileFile(at('pli', 'inbox', 'recu.pli'))).toBe(false);
    expect(isInProfileFolder(at('pli', 'inbox', 'nouveau.pdf'), home)).toBe(true);
  });

  it('a folder that merely shares a prefix with the profile, and an ordinary file: not the profile', () => {
    expect(isProfileFile(at('pli-other', 'etat.csv'), home)).toBe(false);
    expect(isInProfileFolder(at('pli-other'), home)).toBe(false);
    expect(isInProfileFolder(at('pli-other', 'annexe.pdf'), home)).toBe(false);
    expect(isProfileFile(at('document.pdf'), home)).toBe(false);
    expect(isInProfileFolder(at('document-copie.pdf'), home)).toBe(false);
    expect(isProfileFile(at('absent.pdf'), home)).toBe(false); // its read fails on its own
  });
});

describe('destinations', () => {
  it('the profile folder itself, a name inside it, a folder to be made inside it, through a symlinked folder', () => {
    expect(isInProfileFolder(home, home)).toBe(true);
    expect(isInProfileFolder(path.join(home, 'profile.sqlite-journal'))).toBe(true);
    expect(isInProfileFolder(path.join(home, 'nouveau', 'dossier'), home)).toBe(true);
    symlinkSync(home, at('links', 'profil'));
    expect(isInProfileFolder(at('links', 'profil'))).toBe(true);
    expect(isInProfileFolder(at('links', 'profil', 'profile.sqlite-wal'))).toBe(true);
    expect(isInProfileFolder(at('links', 'ailleurs', 'x.pdf'), home)).toBe(false);
  });

  it('refusals: input errors (exit 1) in words, naming no path but the file name', () => {
    const read = (): void => refuseProfileFile(at('links', 'copie.sqlite'), home, 'attach');
    expect(read).toThrow(PliError);
    try {
      read();
    } catch (error) {
      expect((error as PliError).exitCode).toBe(1);
      expect((error as PliError).code).toBe('profile-file');
      expect((error as PliError).message).toMatch(/fait partie du profil de Pli \(sa base de données\).*joint à un pli/);
      expect((error as PliError).message).not.toContain(root);
    }
    try {
      refuseProfileFolder(home, home, 'folder');
      expect.unreachable();
    } catch (error) {
      expect((error as PliError).code).toBe('profile-folder');
      expect((error as PliError).message).toMatch(/dossier est celui du profil de Pli.*autre dossier/);
    }
    expect(() => refuseProfileFile(at('document.pdf'), home, 'attach')).not.toThrow();
    expect(() => refuseProfileFolder(at('pli-other'), home, 'folder')).not.toThrow();
  });
});

describe('the shared readers and writers', () => {
  const codeOf = (run: () => unknown): string | undefined => {
    try {
      run();
    } catch (error) {
      return (error as PliError).code;
    }
    return undefined;
  };

  it('every new file in a profile folder is refused, the early check first, and nothing appears', async () => {
    const before = readdirSync(home).sort();
    const journal = path.join(home, 'profile.sqlite-journal');
    const words = { exists: () => new Error('exists'), failed: () => new Error('failed') };
    expect(codeOf(() => somethingAt(journal))).toBe('profile-folder');
    expect(codeOf(() => writeNewFileSync(journal, 'x', 0o644, words))).toBe('profile-folder');
    expect(codeOf(() => writeDocument(journal, 'x'))).toBe('profile-folder');
    await expect(writeChosen(path.join(at('links', 'profil'), 'annexe.pdf'), 'x', 0o644)).rejects.toMatchObject({ code: 'profile-folder' });
    expect(existsSync(journal)).toBe(false);
    expect(readdirSync(home).sort()).toEqual(before);
    // Beside the profile, the same writer writes.
    expect(somethingAt(at('pli-other', 'annexe.pdf'))).toBe(false);
    writeDocument(at('pli-other', 'annexe.pdf'), 'x');
    expect(existsSync(at('pli-other', 'annexe.pdf'))).toBe(true);
  });

  it('the app\'s chosen file: a hard link to the database is refused with the open profile known', async () => {
    await expect(readChosen(at('links', 'copie.sqlite'), 1 << 20, 'une carte Pli', home)).rejects.toMatchObject({ code: 'profile-file' });
    await expect(readChosen(path.join(home, DB_FILE), 1 << 30, 'une carte Pli')).rejects.toMatchObject({ code: 'profile-file' });
    await expect(readChosen(at('pli-other', 'etat.csv'), 1 << 20, 'un fichier', home)).resolves.toContain('commune');
  });
});

describe('why: reading the database in the process that has it open drops its locks', () => {
  // The profile open here inside a write transaction; another program (the `sqlite3` tool) tries
  // to write and must be refused (« database is locked »). Choosing the database's shared-memory
  // file as a card through the app's reader is refused without opening it, and the lock holds.
  // Then the harm itself, with a plain read of the same file: the lock is gone and the other
  // program writes in the middle of our transaction (SQLite, "How To Corrupt An SQLite Database
  // File", 2.2). Without the check, readChosen would do that plain read.
  it('the refused read leaves the write lock in place; a plain read drops it', async () => {
    const own = initProfile(at('verrou')).profile;
    const database = path.join(own.home, DB_FILE);
    const otherProgramWrites = (): boolean => spawnSync('sqlite3', [database, "PRAGMA busy_timeout = 0; INSERT INTO meta (key, value) VALUES ('autre-programme', '1');"], { encoding: 'utf8' }).status === 0;
    try {
      own.db.exec('BEGIN IMMEDIATE');
      own.db.prepare("INSERT INTO meta (key, value) VALUES ('en-cours', '1')").run();
      expect(existsSync(`${database}-shm`)).toBe(true);
      expect(otherProgramWrites()).toBe(false);
      await expect(readChosen(`${database}-shm`, 1 << 30, 'une carte Pli', own.home)).rejects.toMatchObject({ code: 'profile-file' });
      expect(() => refuseProfileFile(database, own.home, 'attach')).toThrow(/base de données/);
      expect(otherProgramWrites()).toBe(false); // still locked: nothing was opened
      readFileSync(`${database}-shm`); // what the check prevents
      expect(otherProgramWrites()).toBe(true); // the lock is gone: two writers at once
    } finally {
      own.db.exec('ROLLBACK');
      own.close();
    }
  });
});
