// Several programs on one profile (docs/profile.md, "Several programs on one profile"): the desktop
// app's in-process profile (openProfile: WAL, busy_timeout) stays open while `pli` processes write
// to the same database, and the other way round; two `pli` at once. Nothing is lost, nothing is
// corrupt. The last test shows the one way found to corrupt it, which is a test's doing, not the
// product's: reading the database files with plain fs in the process that has the profile open
// (POSIX locks are per process: closing ANY descriptor of a file drops all of that process's locks
// on it, so the other programs believe they are alone, checkpoint, and delete the WAL under it).
// Needs `npm run build` (the real `pli` binary).
import { afterAll, describe, expect, it } from 'vitest';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { ChildProcess } from 'node:child_process';
import { initProfile, openProfile, setMeta, getMeta, DB_FILE, type Profile } from '../../electron/core/profile/profile.js';
import { cliSandbox, untilWaitingOnDatabase } from '../cli/support.js';

const PASS = 'une phrase de passe de test';
const cli = cliSandbox('pli-concurrency-', PASS);
const { root, at, pli, ok } = cli;
afterAll(() => rmSync(root, { recursive: true, force: true }));

const names = (p: Profile): string[] => p.db.prepare('SELECT name FROM identities ORDER BY name').pluck().all() as string[];
const sound = (p: Profile): string => p.db.pragma('integrity_check', { simple: true }) as string;
const idNew = (home: string, name: string) => ['id', 'new', '--name', name, '--email', 'accueil@exemple.fr', '--org', 'Mairie de Saint-Laurent-Blangy'];

/** The profile as a fresh program would see it, checked whole, then closed. */
function reopened(home: string): { names: string[]; sound: string } {
  const p = openProfile(at(home));
  try {
    return { names: names(p), sound: sound(p) };
  } finally {
    p.close();
  }
}

describe('one profile, several programs', () => {
  it('the app has the profile open while pli writes: the app reads every write, the database stays sound', async () => {
    await ok('A', ['init']);
    const app = openProfile(at('A'));
    try {
      expect(names(app)).toEqual([]);
      for (const name of ['Claire Dumont', 'Jean Morel', 'Luc Girard']) {
        await ok('A', idNew('A', name));
        expect(names(app)).toContain(name);
        expect(sound(app)).toBe('ok');
      }
      // The app writes between and after pli's writes (enough to spill over several pages).
      for (let i = 0; i < 40; i++) setMeta(app.db, `concurrency-${i}`, 'x'.repeat(3000));
      await ok('A', idNew('A', 'Marc Petit'));
      for (let i = 40; i < 80; i++) setMeta(app.db, `concurrency-${i}`, 'y'.repeat(3000));
      expect(names(app)).toEqual(['Claire Dumont', 'Jean Morel', 'Luc Girard', 'Marc Petit']);
      // A container sent to a folder (the outbox row) and received from it (the inbox row).
      const [claire] = (JSON.parse((await pli('A', ['id', 'list', '--json'])).stdout) as { id: string; name: string }[]).filter((r) => r.name === 'Claire Dumont');
      writeFileSync(at('etat.csv'), 'Cambriolages;12\r\n');
      await ok('A', ['send', '--as', claire!.id, '--to', claire!.id, '--folder', at('usb'), at('etat.csv')]);
      await ok('A', ['receive', '--folder', at('usb'), '--as', claire!.id]);
      expect(app.db.prepare('SELECT count(*) FROM inbox').pluck().get()).toBe(1);
      expect(sound(app)).toBe('ok');
    } finally {
      app.close();
    }
    expect(reopened('A')).toEqual({ names: ['Claire Dumont', 'Jean Morel', 'Luc Girard', 'Marc Petit'], sound: 'ok' });
    const verified = await pli('A', ['audit', 'verify']);
    expect(verified.code, verified.stderr).toBe(0);
  }, 120_000);

  it('the other way round: the app writes while pli has read, pli then reads what the app wrote', async () => {
    await ok('B', ['init']);
    await ok('B', idNew('B', 'Sophie Bernard'));
    const app = openProfile(at('B'));
    try {
      setMeta(app.db, 'concurrency-mark', 'écrit par l’application');
      const listed = await pli('B', ['id', 'list', '--json']);
      expect(listed.code, listed.stderr).toBe(0);
      expect(listed.stdout).toContain('Sophie Bernard');
      // pli wrote (its audit events, a second identity) after the app's write: both are kept.
      await ok('B', idNew('B', 'Paul Lefebvre'));
      expect(getMeta(app.db, 'concurrency-mark')).toBe('écrit par l’application');
      expect(names(app)).toEqual(['Paul Lefebvre', 'Sophie Bernard']);
    } finally {
      app.close();
    }
    const again = openProfile(at('B'));
    try {
      expect(getMeta(again.db, 'concurrency-mark')).toBe('écrit par l’application');
      expect(sound(again)).toBe('ok');
    } finally {
      again.close();
    }
  }, 120_000);

  it('two and more pli at once, the app open beside them: every command done, nothing lost', async () => {
    await ok('C', ['init']);
    // The profile's first person first: two first people at once are refused by design (each would
    // become the first holder of the integrity key; identities.ts, « recommencez »).
    await ok('C', idNew('C', 'Anne Leroy'));
    const app = openProfile(at('C'));
    const people = ['Anne Leroy', 'Bruno Caron', 'Chantal Roux', 'Denis Faure', 'Élise Moreau'];
    try {
      const runs = await Promise.all([
        ...people.slice(1).map((name) => pli('C', idNew('C', name))),
        pli('C', ['id', 'list']),
        pli('C', ['audit', 'verify']),
      ]);
      for (const run of runs) expect(run.code, run.stderr).toBe(0);
      expect(names(app)).toEqual(people);
      // Three containers sent at once by three pli, to two folders, while a fourth reads the outbox.
      const ids = JSON.parse((await pli('C', ['id', 'list', '--json'])).stdout) as { id: string }[];
      writeFileSync(at('note.txt'), 'Note au maire\n');
      const sends = await Promise.all([
        ...[0, 1, 2].map((i) => pli('C', ['send', '--as', ids[i]!.id, '--to', ids[3]!.id, '--folder', at(i === 2 ? 'usb-c2' : 'usb-c'), at('note.txt')])),
        pli('C', ['outbox']),
      ]);
      for (const run of sends) expect(run.code, run.stderr).toBe(0);
      expect([readdirSync(at('usb-c')).length, readdirSync(at('usb-c2')).length]).toEqual([2, 1]);
      expect(app.db.prepare("SELECT count(*) FROM events WHERE CAST(canonical AS TEXT) LIKE '%\"container.sealed\"%'").pluck().get()).toBe(3);
      expect(sound(app)).toBe('ok');
    } finally {
      app.close();
    }
    expect(reopened('C')).toEqual({ names: people, sound: 'ok' });
    const verified = await pli('C', ['audit', 'verify']);
    expect(verified.code, verified.stderr).toBe(0);
  }, 180_000);

  it('the app writes for a moment while pli writes: pli waits for it (busy_timeout) and succeeds, even on its first identity', async () => {
    await ok('G', ['init']);
    const app = openProfile(at('G'));
    try {
      // pli's creation of an identity reads, then writes, in one transaction: begun DEFERRED, the
      // upgrade to writing would get SQLITE_BUSY at once (SQLite does not wait there) instead of
      // waiting for the app's write to end.
      app.db.exec('BEGIN IMMEDIATE');
      // Released only once pli is seen waiting on the database (not after a fixed time, which on a
      // loaded machine could pass before pli even reached it): pli waited, it was not just slow.
      let child: ChildProcess | undefined;
      const running = pli('G', idNew('G', 'Claire Dumont'), { onSpawn: (c) => (child = c) });
      let waited: boolean;
      try {
        waited = await untilWaitingOnDatabase(child!.pid!, at(`G/${DB_FILE}`), running);
      } finally {
        app.db.exec('COMMIT');
      }
      const run = await running;
      expect(waited, `pli ended before waiting on the database: ${run.stderr}`).toBe(true);
      expect(run.code, run.stderr).toBe(0);
      expect(names(app)).toEqual(['Claire Dumont']);
    } finally {
      app.close();
    }
  }, 120_000);

  it('the app holds the write lock longer than pli waits: pli stops with « occupé » (exit 3) and writes nothing', async () => {
    await ok('F', ['init']);
    const app = openProfile(at('F'));
    const rows = (): number[] => ['identities', 'keys', 'unlock', 'secrets', 'events'].map((t) => app.db.prepare(`SELECT count(*) FROM ${t}`).pluck().get() as number);
    try {
      const before = rows();
      app.db.exec('BEGIN IMMEDIATE');
      let run;
      try {
        run = await pli('F', idNew('F', 'Claire Dumont'));
      } finally {
        app.db.exec('ROLLBACK');
      }
      expect(run.code, run.stderr).toBe(3);
      expect(run.stderr).toMatch(/^pli: le profil est occupé par une autre commande : réessayez dans un instant\.$/m);
      expect(rows()).toEqual(before);
      expect(sound(app)).toBe('ok');
      await ok('F', idNew('F', 'Claire Dumont')); // and once the lock is free, it goes through
      expect(names(app)).toEqual(['Claire Dumont']);
    } finally {
      app.close();
    }
  }, 120_000);

  it('one profile opened twice in one process, one of them closed (init on an open profile): the other keeps its locks', async () => {
    await ok('E', ['init']);
    const app = openProfile(at('E'));
    try {
      // initProfile on an existing profile opens it again (a read-only look at its kind, then the
      // profile itself): two connections to one file in one process. SQLite keeps the file's
      // descriptors open until the last of them closes, so closing one drops no lock of the other.
      initProfile(at('E')).profile.close();
      openProfile(at('E')).close();
      for (const name of ['Claire Dumont', 'Jean Morel']) await ok('E', idNew('E', name));
      expect(names(app)).toEqual(['Claire Dumont', 'Jean Morel']);
      for (let i = 0; i < 40; i++) setMeta(app.db, `concurrency-${i}`, 'x'.repeat(3000));
      await ok('E', idNew('E', 'Luc Girard'));
      expect(names(app)).toEqual(['Claire Dumont', 'Jean Morel', 'Luc Girard']);
    } finally {
      app.close();
    }
    expect(reopened('E')).toEqual({ names: ['Claire Dumont', 'Jean Morel', 'Luc Girard'], sound: 'ok' });
  }, 120_000);

  it('why the outbox-names test saw « malformed »: it read the database files with fs while its own profile was open', async () => {
    await ok('D', ['init']);
    const app = openProfile(at('D'));
    const probe = app.db.prepare('SELECT count(*) FROM identities').pluck();
    const harm: string[] = [];
    const attempt = (step: () => void): void => {
      try {
        step();
      } catch (error) {
        harm.push((error as Error).message);
      }
    };
    try {
      expect(probe.get()).toBe(0);
      // What that test's « no name in any file of the profile » did: readFileSync on each file.
      // Each close() drops this process's locks on that file, the app's connection's included.
      for (const suffix of ['', '-wal', '-shm']) readFileSync(at(`D/profile.sqlite${suffix}`));
      // pli, believing itself alone, checkpoints and deletes the WAL and its index at each exit:
      // the app's connection goes on with a WAL and an index nobody else sees.
      for (const name of ['Claire Dumont', 'Jean Morel']) await ok('D', idNew('D', name));
      attempt(() => void (probe.get() !== 2 && harm.push('the app does not see what pli wrote')));
      attempt(() => { for (let i = 0; i < 40; i++) setMeta(app.db, `concurrency-${i}`, 'x'.repeat(3000)); });
      await ok('D', idNew('D', 'Luc Girard'));
    } finally {
      attempt(() => app.close()); // checkpoints its stale WAL over pages pli had written since
    }
    attempt(() => {
      const after = reopened('D');
      if (after.sound !== 'ok') harm.push(after.sound);
    });
    expect(harm.join('\n')).toMatch(/malformed|does not see|2nd reference|Tree \d+ page/);
  }, 120_000);
});
