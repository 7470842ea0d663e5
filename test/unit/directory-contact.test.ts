// The SSI officer's contact carried by the signed directory (docs/authority.md 5.2, directory
// format 1.1; issue 15's Help, issue 17's "whom to call"). Real profiles in temporary folders; the
// attacker of docs/profile.md is played with a second better-sqlite3 connection on the profile's
// database (no passphrase): a contact written there is never shown as the authority's.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { DB_FILE, initProfile, type Profile } from '../../electron/core/profile/profile.js';
import { createIdentity, getIdentity, unlockIdentity } from '../../electron/core/profile/identities.js';
import { certifyCard, exportDirectory, getAuthority, initAuthority, pendingContact, setAuthorityContact, unlockAuthority } from '../../electron/core/authority/authority.js';
import { contactDigest, directoryContact, importDirectory } from '../../electron/core/authority/directory.js';
import { getTrust } from '../../electron/core/authority/certificates.js';
import { makeEnvelope } from '../../electron/core/authority/signed.js';
import { ed25519Keygen, ed25519Sign } from '../../electron/core/crypto/keys.js';
import { directoryStatus } from '../../electron/core/mail/publish.js';
import type { Context } from '../../electron/core/context.js';
import { refusedWith } from './refused.js';

const PASS = 'une phrase de passe de test';
const LIGHT = { opslimit: 1, memlimitKib: 8 };
const root = mkdtempSync(path.join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'pli-contact-unit-'));
const opened: Profile[] = [];
let counter = 0;
const CONTACT = { name: 'Nadia Kessler, officier SSI', phone: '03 83 17 54 00', mail: 'ssi-dipn54@interieur.gouv.fr' };
const VECTOR = path.resolve(import.meta.dirname, '../vectors/directory-v1.0.json');

interface Station { profile: Profile; ctx: Context; id: string }

async function station(name: string, org: string): Promise<Station> {
  const { profile } = initProfile(path.join(root, `profile-${counter++}`));
  opened.push(profile);
  const created = await createIdentity(profile.db, { name, email: 'accueil@exemple.fr', org }, PASS, LIGHT);
  const ctx: Context = { profile, unlocker: { unlock: (row) => unlockIdentity(profile.db, row.id, PASS) } };
  // Signed in: the integrity key is attached, as for every import in the app.
  (await unlockIdentity(profile.db, created.id, PASS)).wipe();
  return { profile, ctx, id: created.id };
}

/** The attacker: another connection to the same database file, no passphrase. */
function asAttacker(s: Station, sql: string, ...params: unknown[]): void {
  const db = new Database(path.join(s.profile.home, DB_FILE));
  try {
    db.prepare(sql).run(...params);
  } finally {
    db.close();
  }
}


let officer: Station;
let pin: string;
let townHall: Station;

beforeAll(async () => {
  officer = await station('Nadia Kessler', 'DIPN 54');
  pin = (await initAuthority(officer.ctx, 'SSI DIPN 54')).fingerprint;
  townHall = await station('Bob Durand', 'Mairie de Nancy');
  await certifyCard(officer.ctx, getIdentity(townHall.profile.db, townHall.id)!.card, 'reader');
});

afterAll(() => {
  for (const p of opened) p.close();
  rmSync(root, { recursive: true, force: true });
});

describe('the officer\'s contact in the signed directory', () => {
  it('an old directory (format 1.0, the stored vector) still imports, and carries no contact', async () => {
    const vector = JSON.parse(readFileSync(VECTOR, 'utf8')) as { pin: string; directory: string };
    const bare = await station('Claire Martin', 'Mairie de Toul');
    const result = await importDirectory(bare.profile.db, vector.directory, vector.pin);
    expect(result.serial).toBe(1);
    expect(await directoryContact(bare.profile.db)).toEqual({ state: 'none' });
  });

  it('without a contact set, the officer writes exactly format 1.0 (no contact key)', async () => {
    const { text } = await exportDirectory(officer.ctx);
    expect(Object.keys(JSON.parse((JSON.parse(text) as { body: string }).body) as object)).not.toContain('contact');
    await importDirectory(townHall.profile.db, text, pin);
    expect(await directoryContact(townHall.profile.db)).toEqual({ state: 'none' });
  });

  it('bad fields are refused before anything is signed or stored', async () => {
    for (const bad of [{ ...CONTACT, phone: 'appelez-moi' }, { ...CONTACT, mail: 'pas une adresse' }, { ...CONTACT, name: 'Nadia\u202eKessler' }, { ...CONTACT, name: ' ' }]) {
      const error = await refusedWith('bad-contact', () => setAuthorityContact(officer.ctx, bad));
      expect(error.exitCode).toBe(1);
    }
    expect(await pendingContact(officer.profile.db)).toEqual({ state: 'none' });
  });

  it('set by the officer, signed into the next directory, shown on the workstation that applied it', async () => {
    const signed = await setAuthorityContact(officer.ctx, CONTACT);
    expect(signed).toMatchObject(CONTACT);
    expect(await pendingContact(officer.profile.db)).toMatchObject({ state: 'valid', contact: CONTACT });
    const { text, serial } = await exportDirectory(officer.ctx);
    const body = JSON.parse((JSON.parse(text) as { body: string }).body) as { contact?: unknown };
    expect(body.contact).toMatchObject(CONTACT);
    await importDirectory(townHall.profile.db, text);
    expect(getTrust(townHall.profile.db)!.serial).toBe(serial);
    expect(await directoryContact(townHall.profile.db)).toMatchObject({ state: 'valid', ...CONTACT });
    // The officer's own workstation shows what it published too.
    expect(await directoryContact(officer.profile.db)).toMatchObject({ state: 'valid', ...CONTACT });
    // and the status names whom to call with it.
    expect(directoryStatus(townHall.profile.db).pinned).toBe(true);
  });

  it('a contact edited in the workstation\'s database (better-sqlite3) is not shown as the authority\'s', async () => {
    const db = townHall.profile.db;
    const stored = db.prepare("SELECT value FROM meta WHERE key = 'directory.contact'").pluck().get() as string;
    const planted = JSON.stringify({ ...(JSON.parse(stored) as object), phone: '06 12 34 56 78' });
    asAttacker(townHall, "UPDATE meta SET value = ? WHERE key = 'directory.contact'", planted);
    expect(await directoryContact(db)).toEqual({ state: 'unverified' });
    // A contact the attacker signs with a key of his own (planted) fails the same way.
    const own = await ed25519Keygen();
    const fields = { ...CONTACT, phone: '06 12 34 56 78', at: Date.now() };
    const forged = { ...fields, signature: Buffer.from(await ed25519Sign(own.secretKey, contactDigest(fields))).toString('base64') };
    asAttacker(townHall, "UPDATE meta SET value = ? WHERE key = 'directory.contact'", JSON.stringify(forged));
    expect(await directoryContact(db)).toEqual({ state: 'unverified' });
    // Not even JSON: still not shown.
    asAttacker(townHall, "UPDATE meta SET value = '{' WHERE key = 'directory.contact'");
    expect(await directoryContact(db)).toEqual({ state: 'unverified' });
    // Planted where the directory carried none at all.
    asAttacker(townHall, "DELETE FROM meta WHERE key = 'directory.contact'");
    asAttacker(townHall, "INSERT INTO meta (key, value) VALUES ('directory.contact', ?)", JSON.stringify(forged));
    expect(await directoryContact(db)).toEqual({ state: 'unverified' });
    asAttacker(townHall, "UPDATE meta SET value = ? WHERE key = 'directory.contact'", stored);
    expect(await directoryContact(db)).toMatchObject({ state: 'valid', ...CONTACT });
  });

  it('a contact edited in the officer\'s database is never signed: the export is refused and no serial is spent', async () => {
    const db = officer.profile.db;
    const stored = db.prepare("SELECT value FROM meta WHERE key = 'authority.contact'").pluck().get() as string;
    asAttacker(officer, "UPDATE meta SET value = ? WHERE key = 'authority.contact'", JSON.stringify({ ...(JSON.parse(stored) as object), mail: 'faux@pirate.fr' }));
    expect(await pendingContact(db)).toEqual({ state: 'unverified' });
    const before = getAuthority(db)!.next_dir_serial;
    const error = await refusedWith('contact-tampered', () => exportDirectory(officer.ctx));
    expect(error.exitCode).toBe(2);
    expect(getAuthority(db)!.next_dir_serial).toBe(before);
    // Typed again by the officer: signed again, the export works.
    await setAuthorityContact(officer.ctx, CONTACT);
    await exportDirectory(officer.ctx);
  });

  it('a directory whose contact is not signed by its authority is refused whole, nothing stored', async () => {
    const authority = await unlockAuthority(officer.ctx);
    try {
      const { text } = await exportDirectory(officer.ctx);
      const body = JSON.parse((JSON.parse(text) as { body: string }).body) as { serial: number; contact: Record<string, unknown> };
      const other = await ed25519Keygen();
      const fields = { ...CONTACT, phone: '06 12 34 56 78', at: Date.now() };
      body.serial += 100;
      body.contact = { ...fields, signature: Buffer.from(await ed25519Sign(other.secretKey, contactDigest(fields))).toString('base64') };
      // Re-signed as a whole by the real authority: only the inner signature is wrong.
      const forged = await makeEnvelope('directory', body, authority.secretKey);
      const before = getTrust(townHall.profile.db)!.serial;
      const contactBefore = await directoryContact(townHall.profile.db);
      await refusedWith('bad-directory-contact', () => importDirectory(townHall.profile.db, forged));
      expect(getTrust(townHall.profile.db)!.serial).toBe(before);
      expect(await directoryContact(townHall.profile.db)).toEqual(contactBefore);
    } finally {
      authority.wipe();
    }
  });

  it('the contact signature cannot stand for a directory signature (domain separation)', async () => {
    const fields = { ...CONTACT, at: 1 };
    expect(contactDigest(fields).equals(contactDigest({ ...fields, phone: `${fields.phone} ` }))).toBe(false);
    // Length-prefixed fields: moving a character from one field to the next changes the digest.
    expect(contactDigest({ name: 'ab', phone: '0123', mail: 'a@b.fr', at: 1 }).equals(contactDigest({ name: 'a', phone: 'b0123', mail: 'a@b.fr', at: 1 }))).toBe(false);
  });
});
