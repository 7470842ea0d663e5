// The real `pli` binary (bin/pli.js over dist/: run `npm run build` first) given one of the
// profile's own files where it expects a person's file (docs/profile.md, "The profile's own files
// are never a person's file"): the database (or a symlink, or a hard link to it) as an attachment,
// the profile's folder as a destination, a name in the profile's folder as an `--out`. Each is
// refused (exit 1, in words) before anything is read, written or logged; the profile stays whole.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, linkSync, mkdirSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { cliSandbox } from './support.js';

const PASS = 'phrase de passe des fichiers du profil';
const { root, at, pli, ok, refused } = cliSandbox('pli-own-files-', PASS);
const home = (name: string): string => at(name);
let alice: string;
let bob: string;

/** What the profile's folder holds (names), and its event and outbox rows, read by better-sqlite3. */
/** The -wal and -shm come and go with SQLite's own opening and closing (this test's too): left out. */
const listing = (name: string): string[] => readdirSync(home(name)).filter((n) => !/^profile\.sqlite-(wal|shm)$/.test(n)).sort();
function rows(name: string): { events: number; outbox: number; naming: number } {
  const db = new Database(path.join(home(name), 'profile.sqlite'), { readonly: true });
  try {
    const canonical = db.prepare('SELECT canonical FROM events').pluck().all() as Buffer[];
    return {
      events: canonical.length,
      outbox: db.prepare('SELECT count(*) FROM outbox').pluck().get() as number,
      naming: canonical.filter((c) => c.toString('utf8').includes('profile.sqlite')).length,
    };
  } finally {
    db.close();
  }
}
/** The profile is whole: its log verifies and its people are listed. */
async function intact(name: string): Promise<void> {
  await ok(name, ['audit', 'verify']);
  const list = await pli(name, ['id', 'list', '--json']);
  expect(list.code, list.stderr).toBe(0);
  expect((JSON.parse(list.stdout) as unknown[]).length).toBeGreaterThan(0);
}

const ATTACH = /fait partie du profil de Pli \(sa base de données\).*joint à un pli\. Choisissez le document à envoyer/;
const FOLDER = /dossier est celui du profil de Pli.*autre dossier de destination/;
const FILE_IN_FOLDER = /dossier du profil de Pli.*autre dossier/;

beforeAll(async () => {
  expect(existsSync(path.join(path.dirname(path.dirname(import.meta.dirname)), 'dist/electron/cli/run.js')), 'run `npm run build` first').toBe(true);
  await Promise.all([ok('A', ['init']), ok('B', ['init'])]);
  [alice, bob] = await Promise.all([
    ok('A', ['id', 'new', '--name', 'Alice Martin', '--email', 'alice@mairie.example', '--org', 'Mairie']),
    ok('B', ['id', 'new', '--name', 'Bob Durand', '--email', 'bob@cpn.example', '--org', 'CPN']),
  ]);
  await Promise.all([ok('A', ['id', 'export', alice, '--out', at('alice.card')]), ok('B', ['id', 'export', bob, '--out', at('bob.card')])]);
  await Promise.all([ok('A', ['id', 'import', at('bob.card')]), ok('B', ['id', 'import', at('alice.card')])]);
  writeFileSync(at('etat.csv'), 'commune;faits\nArras;12\n');
  symlinkSync(path.join(home('A'), 'profile.sqlite'), at('lien.sqlite'));
  linkSync(path.join(home('A'), 'profile.sqlite'), at('copie.sqlite'));
}, 120000);

afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('the database as an attachment', () => {
  for (const [label, file] of [['the database', () => path.join(home('A'), 'profile.sqlite')], ['a symlink to it', () => at('lien.sqlite')], ['a hard link to it', () => at('copie.sqlite')]] as const) {
    it(`pli encrypt and pli send --folder of ${label}: exit 1, the words, no container, no outbox row, no event`, async () => {
      const before = rows('A');
      const out = at(`refuse-${label.length}.pli`);
      const run = await refused(1, 'A', ['encrypt', '--to', bob, '--out', out, file()], ATTACH);
      expect(run.stderr).not.toContain(root); // no path: the file's name at most
      expect(existsSync(out)).toBe(false);
      const usb = at(`usb-${label.length}`);
      await refused(1, 'A', ['send', '--as', alice, '--to', bob, '--folder', usb, at('etat.csv'), file()], ATTACH);
      expect(existsSync(usb) ? readdirSync(usb) : []).toEqual([]);
      expect(rows('A')).toEqual(before);
      expect(readdirSync(path.join(home('A'))).filter((n) => n === 'outbox').flatMap(() => readdirSync(path.join(home('A'), 'outbox')))).toEqual([]);
    }, 60000);
  }
});

describe('the profile folder as a destination', () => {
  it('pli decrypt --out <profile> and pli open N --out <profile>: refused, nothing appears in the profile folder', async () => {
    await ok('A', ['encrypt', '--to', bob, '--out', at('etat.pli'), at('etat.csv')]);
    const before = listing('B');
    const beforeRows = rows('B');
    await refused(1, 'B', ['decrypt', '--out', home('B'), at('etat.pli')], FOLDER);
    await refused(1, 'B', ['decrypt', '--out', path.join(home('B'), 'inbox'), at('etat.pli')], FOLDER);
    // Through a symlink to the profile folder, too.
    symlinkSync(home('B'), at('vers-profil'));
    await refused(1, 'B', ['decrypt', '--out', at('vers-profil'), at('etat.pli')], FOLDER);
    expect(listing('B')).toEqual(before);
    expect(rows('B')).toEqual(beforeRows);

    mkdirSync(at('usb-recu'));
    await ok('A', ['send', '--as', alice, '--to', bob, '--folder', at('usb-recu'), at('etat.csv')]);
    await ok('B', ['receive', '--folder', at('usb-recu')]);
    const inbox = JSON.parse((await pli('B', ['inbox', '--json'])).stdout) as { id: number }[];
    const id = String(inbox.at(-1)!.id);
    const inboxBefore = readdirSync(path.join(home('B'), 'inbox')).sort();
    const listed = listing('B');
    await refused(1, 'B', ['open', id, '--out', home('B')], FOLDER);
    expect(listing('B')).toEqual(listed);
    expect(readdirSync(path.join(home('B'), 'inbox')).sort()).toEqual(inboxBefore);
    // The same entry opens into an ordinary folder.
    await ok('B', ['open', id, '--out', at('ouverts')]);
    expect(readdirSync(at('ouverts'))).toEqual(['etat.csv']);
    await intact('B');
  }, 120000);

  it('pli send --folder <profile>: refused before anything is sealed or queued', async () => {
    const before = rows('A');
    const listed = listing('A');
    await refused(1, 'A', ['send', '--as', alice, '--to', bob, '--folder', home('A'), at('etat.csv')], FOLDER);
    expect(listing('A')).toEqual(listed);
    expect(rows('A')).toEqual(before);
  }, 60000);

  it('an --out naming profile.sqlite-journal in the profile folder (audit export, audit anchor, id export): refused, no such file', async () => {
    const before = rows('A');
    const journal = path.join(home('A'), 'profile.sqlite-journal');
    await refused(1, 'A', ['audit', 'export', '--as', alice, '--out', journal], FILE_IN_FOLDER);
    await refused(1, 'A', ['audit', 'anchor', '--as', alice, '--out', journal], FILE_IN_FOLDER);
    await refused(1, 'A', ['id', 'export', alice, '--out', journal], FILE_IN_FOLDER);
    // Through a symlinked folder: the same folder.
    symlinkSync(home('A'), at('vers-profil-A'));
    await refused(1, 'A', ['audit', 'export', '--as', alice, '--out', path.join(at('vers-profil-A'), 'profile.sqlite-wal')], FILE_IN_FOLDER);
    expect(existsSync(journal)).toBe(false);
    expect(existsSync(`${journal}.sig`)).toBe(false);
    expect(rows('A')).toEqual(before);
    await intact('A');
  }, 60000);
});

describe('why: a container carrying a file named like the database\'s journal', () => {
  // SQLite reads a `profile.sqlite-journal` next to the database as a hot journal at the next
  // opening and writes its pages back into the database. A container can name its files as it
  // likes (the sender chooses); opened into the profile folder, it would plant that file. The
  // destination check is what stops it: without it, this opening succeeds and the file is there.
  it('decrypted into the profile folder it is refused, and the file never appears', async () => {
    mkdirSync(at('piege'));
    writeFileSync(path.join(at('piege'), 'profile.sqlite-journal'), Buffer.alloc(4096, 0xd9));
    await ok('A', ['encrypt', '--to', bob, '--out', at('piege.pli'), path.join(at('piege'), 'profile.sqlite-journal')]);
    await refused(1, 'B', ['decrypt', '--out', home('B'), at('piege.pli')], FOLDER);
    expect(existsSync(path.join(home('B'), 'profile.sqlite-journal'))).toBe(false);
    await intact('B');
    // Elsewhere it opens as any file would.
    await ok('B', ['decrypt', '--out', at('ailleurs'), at('piege.pli')]);
    expect(readdirSync(at('ailleurs'))).toEqual(['profile.sqlite-journal']);
  }, 60000);
});
