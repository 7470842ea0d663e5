// Who may reach a profile (issue 10, finding 3; electron/core/profile/profile.ts, docs/profile.md
// "Where it is"). The attacker is another account of the same computer: with a 0755 folder or a
// 0644 database they could copy the database and guess passphrases offline; with group rights on
// a private profile, write it. `init` gives the profile its rights whatever the folder's were;
// every other open refuses an exposed profile (security, exit 2) with what to tell IT support.
// POSIX only (Windows has no such modes). The owner case needs root (chown); the last case runs
// the real `pli` (needs `npm run build`).
import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { closeProfiles } from './helpers.js';
import { initProfile, openProfile, setMeta, type Profile } from '../../electron/core/profile/profile.js';
import { PliError } from '../../electron/core/errors.js';
import { cliMessage } from '../../electron/cli/hints.js';

const BIN = fileURLToPath(new URL('../../bin/pli.js', import.meta.url));
const root = mkdtempSync(path.join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'pli-perms-'));
const opened: Profile[] = [];
afterAll(() => closeProfiles(opened, root));

let counter = 0;
const fresh = (): string => path.join(root, `p${++counter}`);
const modeOf = (file: string): string => (lstatSync(file).mode & 0o7777).toString(8);
const DB = 'profile.sqlite';

/** A private profile with something in its WAL, closed. */
function made(home = fresh(), shared = false): string {
  const { profile } = initProfile(home, { shared });
  setMeta(profile.db, 'note', 'x'.repeat(5000));
  profile.close();
  return home;
}

/** The refusal an open gives, checked to be a security error that changed nothing. */
function refusedOpen(home: string, code: string, words: RegExp): PliError {
  let caught: unknown = null;
  try {
    opened.push(openProfile(home));
  } catch (error) {
    caught = error;
  }
  expect(caught, `open of ${home} should be refused`).toBeInstanceOf(PliError);
  const error = caught as PliError;
  expect({ kind: error.kind, code: error.code, exit: error.exitCode }).toEqual({ kind: 'security', code, exit: 2 });
  expect(error.message).toMatch(words);
  return error;
}

describe.skipIf(process.platform === 'win32')('profile rights', () => {
  it('init in an existing 0755 folder: folder 0700, database and its -wal/-shm 0600', () => {
    const home = fresh();
    mkdirSync(home);
    chmodSync(home, 0o755);
    const { profile } = initProfile(home);
    opened.push(profile);
    setMeta(profile.db, 'note', 'x'.repeat(5000)); // makes SQLite write its WAL
    expect(modeOf(home)).toBe('700');
    for (const name of [DB, `${DB}-wal`, `${DB}-shm`]) {
      expect(existsSync(path.join(home, name)), name).toBe(true);
      expect(modeOf(path.join(home, name)), name).toBe('600');
    }
  });

  it('a profile readable by others (folder 0755, database 0644) is refused until init puts it right', () => {
    const home = made();
    chmodSync(home, 0o755);
    chmodSync(path.join(home, DB), 0o644);
    const error = refusedOpen(home, 'profile-permissions', /accessible à d'autres comptes.*droits 755.*chmod 700.*réinitialisez ce profil.*officier SSI/);
    expect(error.message).toContain(home);
    // The core names no command; the CLI adds its own, with this profile's folder (cli/hints.ts).
    expect(error.message).not.toMatch(/pli --home|--home/);
    expect(error.params).toMatchObject({ home, mode: '755', shared: false });
    expect(cliMessage(error)).toMatch(/réinitialisez ce profil.*officier SSI.* \(commande : pli --home .* init\)$/);
    // Refused, not repaired: the rights are as the attacker (or the old version) left them.
    expect(modeOf(home)).toBe('755');
    const { profile, created, repaired } = initProfile(home);
    opened.push(profile);
    expect({ created, repaired }).toEqual({ created: false, repaired: true });
    const again = initProfile(home);
    opened.push(again.profile);
    expect(again.repaired).toBe(false);
    expect([modeOf(home), modeOf(path.join(home, DB))]).toEqual(['700', '600']);
    opened.push(openProfile(home));
  });

  it('each file that reaches the database is checked: database, -wal, -shm, inbox/, outbox/', () => {
    const cases: [string, number, RegExp][] = [
      [DB, 0o644, /profile\.sqlite : droits 644/],
      [`${DB}-wal`, 0o604, /-wal : droits 604/],
      [`${DB}-shm`, 0o640, /-shm : droits 640/],
    ];
    for (const [name, mode, words] of cases) {
      const home = made();
      // An open leaves -wal and -shm behind only while a connection holds them: recreate them.
      writeFileSync(path.join(home, name), '', { flag: 'a' });
      chmodSync(path.join(home, name), mode);
      refusedOpen(home, 'profile-permissions', words);
    }
    for (const folder of ['inbox', 'outbox']) {
      const home = made();
      mkdirSync(path.join(home, folder), { mode: 0o700 });
      chmodSync(path.join(home, folder), 0o750);
      refusedOpen(home, 'profile-permissions', new RegExp(`le dossier ${folder} : droits 750`));
    }
  });

  it('group rights on a private profile are refused; writing shared=1 into its database does not help', () => {
    const home = made();
    chmodSync(home, 0o770);
    chmodSync(path.join(home, DB), 0o660);
    refusedOpen(home, 'profile-permissions', /droits 770/);
    // A group member who can now write the database claims it is a shared profile.
    const raw = new Database(path.join(home, DB));
    raw.prepare("UPDATE meta SET value = '1' WHERE key = 'shared'").run();
    raw.close();
    refusedOpen(home, 'profile-permissions', /droits 770/);
    // And init, run by the person, does not make it shared: it refuses on what the file claims.
    expect(() => initProfile(home)).toThrowError(expect.objectContaining({ code: 'profile-kind' }));
  });

  it('init puts inbox/ and outbox/ and what they hold right', () => {
    const home = made();
    for (const folder of ['inbox', 'outbox']) {
      mkdirSync(path.join(home, folder));
      chmodSync(path.join(home, folder), 0o755);
      writeFileSync(path.join(home, folder, 'a.pli'), 'pli', { mode: 0o644 });
    }
    refusedOpen(home, 'profile-permissions', /le dossier inbox/);
    opened.push(initProfile(home).profile);
    for (const folder of ['inbox', 'outbox']) {
      expect(modeOf(path.join(home, folder))).toBe('700');
      expect(modeOf(path.join(home, folder, 'a.pli'))).toBe('600');
    }
  });

  it('a profile folder that is a symlink is refused, by open and by init', () => {
    const real = made();
    const link = fresh();
    symlinkSync(real, link);
    const error = refusedOpen(link, 'profile-symlink', /lien symbolique.*Indiquez le dossier réel du profil/);
    expect(error.message).not.toContain('--home');
    expect(cliMessage(error)).toMatch(/\(option --home\)$/);
    expect(() => initProfile(link)).toThrowError(expect.objectContaining({ code: 'profile-symlink' }));
  });

  it('a database swapped for a symlink (to another profile\'s database) is refused', () => {
    const victim = made();
    const home = made();
    renameSync(path.join(home, DB), path.join(home, 'old.sqlite'));
    symlinkSync(path.join(victim, DB), path.join(home, DB));
    refusedOpen(home, 'profile-symlink', /profile\.sqlite est un lien symbolique/);
  });

  it.skipIf(process.getuid?.() !== 0)('a private profile owned by another account is refused', () => {
    const home = made();
    chownSync(home, 65534, 65534);
    refusedOpen(home, 'profile-owner', /appartient à un autre compte.*n° 65534/);
    expect(() => initProfile(home)).toThrowError(expect.objectContaining({ code: 'profile-owner' }));
  });

  it('a shared profile: 2770 and 0660 for its group, nothing for others; refused once others can read', () => {
    const home = made(fresh(), true);
    expect([modeOf(home), modeOf(path.join(home, DB))]).toEqual(['2770', '660']);
    opened.push(openProfile(home));
    chmodSync(path.join(home, DB), 0o664);
    refusedOpen(home, 'profile-permissions', /droits 664.*chmod 2770/);
    opened.push(initProfile(home, { shared: true }).profile);
    expect(modeOf(path.join(home, DB))).toBe('660');
  });

  it('init keeps a profile\'s kind: a shared one is not made private by a plain init, nor the reverse', () => {
    const shared = made(fresh(), true);
    expect(() => initProfile(shared)).toThrowError(expect.objectContaining({ code: 'profile-kind', message: expect.stringMatching(/réinitialisez-le en profil commun/) }));
    try { initProfile(shared); } catch (error) { expect(cliMessage(error as PliError)).toMatch(/\(commande : pli --home .* init --shared\)$/); }
    expect(modeOf(shared)).toBe('2770');
    const personal = made();
    expect(() => initProfile(personal, { shared: true })).toThrowError(expect.objectContaining({ code: 'profile-kind' }));
    expect(modeOf(personal)).toBe('700');
  });

  it('the CLI: pli init puts an existing 0755 folder right; any other command refuses an exposed profile (exit 2)', () => {
    const home = fresh();
    mkdirSync(home);
    chmodSync(home, 0o755);
    const env = { ...process.env };
    delete env.PLI_HOME;
    const pli = (...args: string[]) => spawnSync(process.execPath, [BIN, '--home', home, ...args], { encoding: 'utf8', env });
    const init = pli('init');
    expect(init.status, init.stderr).toBe(0);
    expect([modeOf(home), modeOf(path.join(home, DB))]).toEqual(['700', '600']);
    expect(readdirSync(home).every((name) => ['700', '600'].includes(modeOf(path.join(home, name))))).toBe(true);
    expect(init.stderr).not.toMatch(/Droits du profil corrigés/); // a new profile: nothing to report
    chmodSync(home, 0o711);
    const list = pli('id', 'list');
    expect(list.status).toBe(2);
    expect(list.stderr).toMatch(/^pli: Le profil Pli .* est accessible à d'autres comptes de cet ordinateur \(le dossier : droits 711\)/);
    const repair = pli('init');
    expect(repair.status).toBe(0);
    expect(repair.stderr).toMatch(/Droits du profil corrigés : il n'est plus accessible qu'à ce compte.*officier SSI/);
    expect(pli('id', 'list').status).toBe(0);
  });
});
