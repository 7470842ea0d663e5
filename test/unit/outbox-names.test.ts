// The names of the files sent, kept sealed in the outbox row (issue 15; migration 16,
// electron/core/mail/sent-files.ts), read by the outbox list: against the attacker of
// docs/profile.md, who reads and writes the database with better-sqlite3 and knows no passphrase.
// Profiles made with the real `pli` binary (needs `npm run build`): P (Paul Lefebvre, CPN)
// deposits two containers for T (Claire Dumont) on a USB key, then queues one for two mailboxes.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createCipheriv, randomBytes } from 'node:crypto';
import path from 'node:path';
import Database from 'better-sqlite3';
import { openProfile, type Profile } from '../../electron/core/profile/profile.js';
import { unlockIdentity } from '../../electron/core/profile/identities.js';
import { listOutbox } from '../../electron/core/mail/outbox.js';
import { outboxDetails } from '../../electron/core/mail/lists.js';
import { cliSandbox } from '../cli/support.js';

const PASS = 'une phrase de passe de test';
const cli = cliSandbox('pli-outbox-names-', PASS);
const { root, at, pli, ok } = cli;
const ids = { clerk: '', dgs: '' };
const opened: Profile[] = [];
// Names a reader of the database must not find: unusual enough to be found only where they are.
const NAMES = ['Etat_IS101_Arras_confidentiel.csv', 'Note_secrete_maire_T3.pdf'];
const SOLO = 'Releve_cambriolages_quartier_nord.xls';

// Each test closes the profiles it opened in process before the next one runs `pli` on them.
afterEach(() => opened.splice(0).forEach((p) => p.close()));
afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

/** P's profile in process; with `signIn`, its integrity key attached as in a signed-in session. */
async function profileOfP(signIn: boolean): Promise<Profile> {
  const profile = openProfile(at('P'));
  opened.push(profile);
  if (signIn) (await unlockIdentity(profile.db, ids.clerk, PASS)).wipe();
  return profile;
}

const filesOf = (dir: string): string[] => readdirSync(dir).flatMap((name) => {
  const full = path.join(dir, name);
  return statSync(full).isDirectory() ? filesOf(full) : [full];
});

beforeAll(async () => {
  await ok('O', ['init']);
  await ok('O', ['id', 'new', '--name', 'Olivier Ssi', '--email', 'ssi@interieur.gouv.fr', '--org', 'DIPN du Pas-de-Calais']);
  const pin = await ok('O', ['authority', 'init', '--name', 'SSI DIPN 62']);
  const imports: [string, string, string][] = [];
  for (const [key, name, org, home] of [['clerk', 'Paul Lefebvre', "CPN d'Arras", 'P'], ['dgs', 'Claire Dumont', 'Mairie de Saint-Laurent-Blangy', 'T']] as const) {
    const run = await pli('O', ['authority', 'provision', '--name', name, '--email', 'fonctionnelle@exemple.fr', '--org', org, '--role', 'operator', '--out', at(`${key}.key`)]);
    expect(run.code, run.stderr).toBe(0);
    ids[key] = run.stdout.trim();
    imports.push([home, key, /([0-9a-z]{4}(?:-[0-9a-z]{4}){5})/.exec(run.stderr)?.[1] ?? '']);
  }
  await ok('O', ['directory', 'export', '--out', at('d1.json')]);
  for (const home of ['P', 'T']) {
    await ok(home, ['init']);
    await ok(home, ['directory', 'import', at('d1.json'), '--pin', pin]);
  }
  for (const [home, key, oneTime] of imports) await ok(home, ['id', 'import-key', at(`${key}.key`)], { env: { PLI_PASSPHRASE: oneTime, PLI_NEW_PASSPHRASE: PASS } });
  writeFileSync(at(NAMES[0]!), 'Homicides;0\r\nCambriolages;12\r\n');
  writeFileSync(at(NAMES[1]!), '%PDF-1.4 note\n');
  writeFileSync(at(SOLO), 'x'.repeat(48_000));
  await ok('P', ['send', '--as', ids.clerk, '--to', ids.dgs, '--folder', at('usb'), at(NAMES[0]!), at(NAMES[1]!)]);
  await ok('P', ['send', '--as', ids.clerk, '--to', ids.dgs, '--folder', at('usb2'), at(SOLO)]);
  // One container queued for two mailboxes: two rows of the same container (nothing is sent).
  writeFileSync(at('mail-password'), 'mot de passe de la boîte\n');
  await ok('P', ['mailbox', 'set', '--imap', 'imap.exemple.invalid:993', '--smtp', 'smtp.exemple.invalid:465', '--user', 'cpn-arras@exemple.fr', '--password-file', at('mail-password')]);
  await ok('P', ['send', '--as', ids.clerk, '--to', ids.dgs, '--mail', 'mairie@exemple.fr', '--mail', 'dgs@exemple.fr', '--no-wait', at(SOLO)]);
}, 240_000);

describe('the names of the files sent (outbox)', () => {
  it('signed in: each container with its files by name and size, in the order sent', async () => {
    const p = await profileOfP(true);
    const rows = listOutbox(p.db);
    expect(rows.map((r) => r.id)).toEqual([1, 2, 3, 4]);
    expect(rows[2]!.container_id).toBe(rows[3]!.container_id);
    const details = await outboxDetails(p.db, rows);
    expect(details).toHaveLength(3);
    expect(details[0]).toMatchObject({ files: 2, names: { state: 'known', files: [{ name: NAMES[0], size: 30 }, { name: NAMES[1], size: 14 }] } });
    expect(details[1]).toMatchObject({ files: 1, names: { state: 'known', files: [{ name: SOLO, size: 48_000 }] } });
    expect(details[2]!.names).toEqual({ state: 'known', files: [{ name: SOLO, size: 48_000 }] });
  });

  it('without a passphrase: no name in any file of the profile, and the list says the names are locked', async () => {
    for (const file of filesOf(at('P'))) {
      const bytes = readFileSync(file);
      for (const name of [...NAMES, SOLO, 'Etat_IS101', 'Releve_cambriolages']) expect(bytes.includes(Buffer.from(name, 'utf8')), `${name} in ${file}`).toBe(false);
    }
    const attacker = new Database(at('P/profile.sqlite'), { readonly: true });
    try {
      const sealed = attacker.prepare('SELECT files_sealed FROM outbox WHERE id = 1').pluck().get() as Buffer;
      expect(Buffer.isBuffer(sealed)).toBe(true);
      expect(sealed.toString('latin1')).not.toMatch(/IS101|\.csv|\.pdf/);
    } finally {
      attacker.close();
    }
    const p = await profileOfP(false);
    const details = await outboxDetails(p.db, listOutbox(p.db));
    expect(details.map((d) => d.names)).toEqual([{ state: 'locked' }, { state: 'locked' }, { state: 'locked' }]);
    expect(JSON.stringify(details)).not.toContain('Etat_IS101');
  });

  it('a value copied from another row, a flipped byte, a planted value: « illisible » on that row alone, never shown as genuine', async () => {
    const attacker = new Database(at('P/profile.sqlite'));
    const saved = attacker.prepare('SELECT id, files_sealed FROM outbox ORDER BY id').raw().all() as [number, Buffer][];
    const value = (id: number) => saved.find(([row]) => row === id)![1];
    const restore = attacker.prepare('UPDATE outbox SET files_sealed = ? WHERE id = ?');
    const read = async () => {
      const p = await profileOfP(true);
      return outboxDetails(p.db, listOutbox(p.db));
    };
    try {
      // Row 2's value on row 1 (another container), and row 3's on row 4 (the same container,
      // another destination): the row's identity is in the additional data.
      restore.run(value(2), 1);
      let details = await read();
      expect(details[0]!.names).toEqual({ state: 'unreadable' });
      expect(JSON.stringify(details[0])).not.toContain(SOLO);
      expect(details[1]!.names).toMatchObject({ state: 'known' });
      restore.run(value(1), 1);
      restore.run(value(3), 4);
      const p = await profileOfP(true);
      const row4 = listOutbox(p.db).filter((r) => r.id === 4);
      expect((await outboxDetails(p.db, row4))[0]!.names).toEqual({ state: 'unreadable' });
      restore.run(value(4), 4);
      // One byte flipped, in the nonce, the ciphertext or the tag.
      for (const at of [1, 14, value(1).length - 1]) {
        const flipped = Buffer.from(value(1));
        flipped[at] = flipped[at]! ^ 0x01;
        restore.run(flipped, 1);
        expect((await read())[0]!.names, `byte ${at}`).toEqual({ state: 'unreadable' });
      }
      // A value sealed by someone without the key (a key of their own), the names in clear (the table
      // is STRICT: a blob), a truncated blob.
      const key = randomBytes(32);
      const nonce = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, nonce);
      const body = Buffer.concat([cipher.update(JSON.stringify([['Faux_fichier.csv', 10]])), cipher.final()]);
      for (const planted of [Buffer.concat([Buffer.from([1]), nonce, body, cipher.getAuthTag()]), Buffer.from('[["Faux_fichier.csv",10]]'), Buffer.from([1, 2, 3])]) {
        restore.run(planted, 1);
        details = await read();
        expect(details[0]!.names).toEqual({ state: 'unreadable' });
        expect(JSON.stringify(details)).not.toContain('Faux_fichier');
        expect(details[1]!.names).toMatchObject({ state: 'known' });
      }
    } finally {
      for (const [id, sealed] of saved) restore.run(sealed, id);
      attacker.close();
    }
  });

  it('pli outbox: the names with --as (a sign-in), never without it; a planted value is « illisible »', async () => {
    const bare = await pli('P', ['outbox']);
    expect(bare.code, bare.stderr).toBe(0);
    for (const name of [...NAMES, SOLO]) expect(bare.stdout).not.toContain(name);
    expect(bare.stderr).toContain('Noms des fichiers envoyés non affichés');
    const json = JSON.parse((await pli('P', ['outbox', '--json'])).stdout) as { id: number; files: { state: string }; files_sealed?: unknown }[];
    expect(json.map((r) => r.files.state)).toEqual(['locked', 'locked', 'locked', 'locked']);
    expect(json.every((r) => r.files_sealed === undefined)).toBe(true);

    const signed = await pli('P', ['outbox', '--as', ids.clerk]);
    expect(signed.code, signed.stderr).toBe(0);
    const lines = signed.stdout.split('\n');
    // Under the first row of each container only (rows 3 and 4 are one container, two mailboxes).
    expect(lines.filter((l) => l.trim().startsWith('fichier'))).toEqual([
      `      fichiers : ${NAMES[0]} (30\u00a0octets), ${NAMES[1]} (14\u00a0octets)`,
      `      fichier : ${SOLO} (46,9\u00a0Ko)`,
      `      fichier : ${SOLO} (46,9\u00a0Ko)`,
    ]);
    expect(signed.stderr).not.toContain('non affichés');

    const attacker = new Database(at('P/profile.sqlite'));
    const saved = attacker.prepare('SELECT files_sealed FROM outbox WHERE id = 1').pluck().get() as Buffer;
    try {
      attacker.prepare('UPDATE outbox SET files_sealed = (SELECT files_sealed FROM outbox WHERE id = 2) WHERE id = 1').run();
      const planted = await pli('P', ['outbox', '--as', ids.clerk]);
      expect(planted.code, planted.stderr).toBe(0);
      const first = planted.stdout.split('\n').slice(0, 3).join('\n');
      expect(first).toContain('noms illisibles, modifiés en dehors de Pli');
      expect(first).not.toContain(SOLO);
    } finally {
      attacker.prepare('UPDATE outbox SET files_sealed = ? WHERE id = 1').run(saved);
      attacker.close();
    }
  });

  it('a row without names (sent before migration 16) shows the count and size as before', async () => {
    const attacker = new Database(at('P/profile.sqlite'));
    const saved = attacker.prepare('SELECT files_sealed FROM outbox WHERE id = 1').pluck().get() as Buffer;
    try {
      attacker.prepare('UPDATE outbox SET files_sealed = NULL WHERE id = 1').run();
      const p = await profileOfP(true);
      const [first, second] = await outboxDetails(p.db, listOutbox(p.db));
      expect(first).toMatchObject({ files: 2, names: { state: 'none' } });
      expect(second!.names).toMatchObject({ state: 'known' });
    } finally {
      attacker.prepare('UPDATE outbox SET files_sealed = ? WHERE id = 1').run(saved);
      attacker.close();
    }
  });
});
