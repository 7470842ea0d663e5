// The profile integrity seal (docs/profile.md, "Integrity of trust state"), in process: real
// profiles in temporary folders, the attacker of the threat model played with direct SQL on the
// same database (no passphrase). Every field the seal covers is flipped once and must be caught;
// the integrity key travels only inside passphrase-wrapped payloads and verified hand-overs.
import { describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { initProfile, type DB, type Profile } from '../../electron/core/profile/profile.js';
import { createIdentity, currentKeys, getIdentity, unlockIdentity } from '../../electron/core/profile/identities.js';
import { aeadOpen, aeadSeal, deriveUnlockKey } from '../../electron/core/crypto/aead.js';
import {
  attachIntegrityKey, detachIntegrityKey, hasHolder, integrityKeyOf, sealedTrustWrite, trustCanonical, verifyTrustSeal, wrapIntegrityKey,
} from '../../electron/core/profile/integrity.js';
import { certifyCard, exportDirectory, initAuthority, revokePerson } from '../../electron/core/authority/authority.js';
import { importDirectory } from '../../electron/core/authority/directory.js';
import { certificateState, getTrust, signerCertificateState } from '../../electron/core/authority/certificates.js';
import type { Context } from '../../electron/core/context.js';
import { PliError } from '../../electron/core/errors.js';
import { tamperedRefusal } from './refused.js';
import { scratchProfiles } from './scratch.js';
import { createHandlers } from '../../electron/ipc/handlers.js';

const PASS = 'une phrase de passe de test';
const LIGHT = { opslimit: 1, memlimitKib: 8 };
const { root, profile } = scratchProfiles('pli-integrity-unit-');

async function person(p: Profile, name: string): Promise<string> {
  return (await createIdentity(p.db, { name, email: 'police@exemple.fr', org: 'Police municipale' }, PASS, LIGHT)).id;
}

const contextOf = (p: Profile): Context => ({ profile: p, unlocker: { unlock: (row) => unlockIdentity(p.db, row.id, PASS) } });
const signIn = async (db: DB, id: string): Promise<void> => (await unlockIdentity(db, id, PASS)).wipe();
const payloadBytes = (db: DB, id: string): number => db.prepare('SELECT length(wrapped_master) FROM unlock WHERE identity_id = ?').pluck().get(id) as number;

function tampered(action: () => unknown): void {
  expect(tamperedRefusal(action).message).toMatch(/Le profil de ce poste a été modifié en dehors de Pli \(.+\) : aucune décision n'est prise\. Prévenez l'officier SSI\./);
}

/** A changed value of the same SQL type (STRICT tables): a flipped byte, +1, a letter more. */
function flipped(value: unknown, column: string): unknown {
  if (Buffer.isBuffer(value)) {
    const copy = Buffer.from(value);
    copy[0] = copy[0]! ^ 1;
    return copy;
  }
  if (typeof value === 'number') return value + 1;
  if (column === 'role') return value === 'operator' ? 'reader' : 'operator';
  return `${String(value)}x`;
}

/** A workstation with a holder, a pinned authority, two certified people and one revocation. */
async function pinnedStation(): Promise<{ db: DB; alice: string; officer: Profile }> {
  const officer = profile();
  const officerId = await person(officer, 'Olivier Ssi');
  const ctx = contextOf(officer);
  const { fingerprint: pin } = await initAuthority(ctx, 'SSI DIPN 54');
  const w = profile();
  const alice = await person(w, 'Alice Martin');
  await certifyCard(ctx, getIdentity(w.db, alice)!.card, 'operator');
  const dave = await createIdentity(profile().db, { name: 'Dave Leroy', email: 'mairie@exemple.fr', org: 'Mairie' }, PASS, LIGHT);
  await certifyCard(ctx, dave.card, 'reader');
  await revokePerson(ctx, { ...getIdentity(officer.db, dave.id)! }, 'mutation');
  expect(officerId).toBeTruthy();
  await signIn(w.db, alice);
  await importDirectory(w.db, (await exportDirectory(ctx)).text, pin);
  return { db: w.db, alice, officer };
}

describe('the seal', () => {
  it('the first person stored becomes the holder and seals the state; the seal round-trips and counts writes', async () => {
    const p = profile();
    expect(hasHolder(p.db)).toBe(false);
    const id = await person(p, 'Alice Martin');
    expect(hasHolder(p.db)).toBe(true);
    expect(payloadBytes(p.db, id)).toBe(80);
    expect(p.db.prepare('SELECT counter FROM trust_seal').pluck().get()).toBe(1);
    const unlocked = await unlockIdentity(p.db, id, PASS);
    expect(unlocked.integrityKey).toHaveLength(32);
    expect(integrityKeyOf(p.db)!.equals(unlocked.integrityKey!)).toBe(true);
    unlocked.wipe();
    expect(integrityKeyOf(p.db)!.every((b) => b === 0)).toBe(false); // the attached key is a copy
    verifyTrustSeal(p.db);
    sealedTrustWrite(p.db, () => p.db.prepare('INSERT INTO revocations (identity_id, reason, revoked_at, imported_at) VALUES (?, ?, ?, ?)').run('x'.repeat(16), 'test', 1, 2));
    expect(p.db.prepare('SELECT counter FROM trust_seal').pluck().get()).toBe(2);
    verifyTrustSeal(p.db);
    // The canonical bytes depend on the counter: the same state under another counter is another MAC.
    expect(trustCanonical(p.db, 2).equals(trustCanonical(p.db, 3))).toBe(false);
  });

  it('every field of the trust row, of each revocation, the counter and the MAC are covered', async () => {
    const { db } = await pinnedStation();
    verifyTrustSeal(db);
    const trustRow = db.prepare('SELECT * FROM trust').get() as Record<string, unknown>;
    const columns = Object.keys(trustRow).filter((c) => c !== 'one');
    expect(columns).toHaveLength(10);
    for (const column of columns) {
      db.prepare(`UPDATE trust SET ${column} = ?`).run(flipped(trustRow[column], column));
      tampered(() => verifyTrustSeal(db));
      tampered(() => getTrust(db));
      db.prepare(`UPDATE trust SET ${column} = ?`).run(trustRow[column]);
      verifyTrustSeal(db);
    }
    const revocation = db.prepare('SELECT * FROM revocations').get() as Record<string, unknown>;
    for (const column of ['identity_id', 'reason', 'revoked_at', 'imported_at']) {
      db.prepare(`UPDATE revocations SET ${column} = ? WHERE identity_id = ?`).run(flipped(revocation[column], column), revocation.identity_id);
      tampered(() => verifyTrustSeal(db));
      db.prepare('DELETE FROM revocations').run();
      db.prepare('INSERT INTO revocations (identity_id, reason, revoked_at, imported_at) VALUES (@identity_id, @reason, @revoked_at, @imported_at)').run(revocation);
      verifyTrustSeal(db);
    }
    db.prepare('DELETE FROM revocations').run();
    tampered(() => verifyTrustSeal(db));
    db.prepare('INSERT INTO revocations (identity_id, reason, revoked_at, imported_at) VALUES (@identity_id, @reason, @revoked_at, @imported_at)').run(revocation);
    db.prepare('INSERT INTO revocations (identity_id, reason, revoked_at, imported_at) VALUES (?, ?, ?, ?)').run('z'.repeat(16), 'ajout', 1, 1);
    tampered(() => verifyTrustSeal(db));
    db.prepare('DELETE FROM revocations WHERE identity_id = ?').run('z'.repeat(16));
    verifyTrustSeal(db);
    const seal = db.prepare('SELECT counter, mac FROM trust_seal').get() as { counter: number; mac: Buffer };
    for (const [column, value] of [['counter', seal.counter + 1], ['mac', flipped(seal.mac, 'mac')], ['mac', Buffer.alloc(0)]] as const) {
      db.prepare(`UPDATE trust_seal SET ${column} = ?`).run(value);
      tampered(() => verifyTrustSeal(db));
      db.prepare('UPDATE trust_seal SET counter = ?, mac = ?').run(seal.counter, seal.mac);
    }
    db.prepare('DELETE FROM trust_seal').run();
    tampered(() => verifyTrustSeal(db));
    tampered(() => sealedTrustWrite(db, () => undefined)); // never seal over a tampered state
    db.prepare('INSERT INTO trust_seal (one, counter, mac) VALUES (1, ?, ?)').run(seal.counter, seal.mac);
    verifyTrustSeal(db);
  });

  it('without the key in hand the state is used as stored; writes need the key once a holder exists', async () => {
    const { db, alice } = await pinnedStation();
    const key = Buffer.from(integrityKeyOf(db)!);
    detachIntegrityKey(db);
    db.prepare('DELETE FROM revocations').run();
    expect(() => verifyTrustSeal(db)).not.toThrow();
    const error = (() => {
      try {
        sealedTrustWrite(db, () => undefined);
      } catch (e) {
        return e as PliError;
      }
      return null;
    })();
    expect(error?.code).toBe('sign-in-required');
    expect(error?.message).toMatch(/^Connectez-vous.*phrase de passe d'une personne habilitée de ce poste/);
    await expect(importDirectory(db, '{}')).rejects.toMatchObject({ code: 'sign-in-required' });
    tampered(() => attachIntegrityKey(db, key)); // at sign-in
    tampered(() => certificateState(db, alice));
    await expect(unlockIdentity(db, alice, PASS)).rejects.toMatchObject({ code: 'profile-tampered' });
  });

  it('a profile with no holder (first run) writes unsealed; the first person seals it as found', async () => {
    const officer = profile();
    await person(officer, 'Olivier Ssi');
    const ctx = contextOf(officer);
    const { fingerprint: pin } = await initAuthority(ctx, 'SSI DIPN 54');
    const fresh = profile();
    await importDirectory(fresh.db, (await exportDirectory(ctx)).text, pin);
    expect(fresh.db.prepare('SELECT COUNT(*) FROM trust_seal').pluck().get()).toBe(0);
    const id = await person(fresh, 'Fanny Roux');
    await signIn(fresh.db, id);
    verifyTrustSeal(fresh.db);
    fresh.db.prepare('UPDATE trust SET grace_days = 365').run();
    tampered(() => getTrust(fresh.db));
  });
});

describe('certificates re-verified at use', () => {
  it('each column of a certificate row edited, or its text, is tampering, never a different decision', async () => {
    const { db, alice } = await pinnedStation();
    const sigFpr = currentKeys(db, alice).sig.fpr;
    expect(certificateState(db, alice).state).toBe('valid');
    const row = db.prepare('SELECT rowid, * FROM certificates WHERE identity_id = ?').get(alice) as Record<string, unknown>;
    // Both decisions: the identity's state (found through its keys) and the signer's (by key).
    const both = () => {
      certificateState(db, alice);
      signerCertificateState(db, sigFpr, Date.now());
    };
    for (const column of ['authority', 'serial', 'identity_id', 'role', 'name', 'email', 'org', 'not_before', 'not_after', 'enc_fpr', 'sig_fpr', 'issued', 'text']) {
      // (serial: a number no other certificate of this authority uses)
      const changed = column === 'text' ? String(row.text).replace(/"signature": "/, '"signature": "AA') : column === 'serial' ? 999 : flipped(row[column], column);
      expect(changed).not.toEqual(row[column]);
      db.prepare(`UPDATE certificates SET ${column} = ? WHERE rowid = ?`).run(changed, row.rowid);
      tampered(both);
      db.prepare(`UPDATE certificates SET ${column} = ? WHERE rowid = ?`).run(row[column], row.rowid);
      expect(certificateState(db, alice).state).toBe('valid');
    }
  });

  it('a key row whose public key no longer matches its fingerprint is tampering', async () => {
    const { db, alice } = await pinnedStation();
    const officerId = db.prepare("SELECT id FROM identities WHERE own = 0 AND name = 'Olivier Ssi'").pluck().get() as string;
    db.prepare("UPDATE keys SET public_key = ? WHERE identity_id = ? AND kind = 'xwing'").run(randomBytes(1216), officerId);
    tampered(() => currentKeys(db, officerId));
    expect(currentKeys(db, alice).enc.identity_id).toBe(alice);
  });
});

describe('the officer\'s own certificate', () => {
  it('carries the keys derived from the unlocked secrets, not a replaced key row', async () => {
    const officer = profile();
    const id = await person(officer, 'Olivier Ssi');
    const real = currentKeys(officer.db, id).enc.public_key;
    const planted = Buffer.from(real);
    planted[10] = planted[10]! ^ 1;
    officer.db.prepare("UPDATE keys SET public_key = ? WHERE identity_id = ? AND kind = 'xwing'").run(planted, id);
    const { officerCertificate } = await initAuthority(contextOf(officer), 'SSI DIPN 54');
    const body = JSON.parse((JSON.parse(officerCertificate) as { body: string }).body) as { xwing: string };
    expect(Buffer.from(body.xwing, 'base64').equals(real)).toBe(true);
  });
});

describe('hand-over of the key', () => {
  it('without an authority: a second person gets it at the holder\'s sign-in and adopts it after checking the seal', async () => {
    const p = profile();
    const alice = await person(p, 'Alice Martin');
    const bob = await person(p, 'Bob Durand');
    expect(payloadBytes(p.db, bob)).toBe(49);
    await signIn(p.db, alice);
    expect(p.db.prepare('SELECT COUNT(*) FROM integrity_handover WHERE identity_id = ?').pluck().get(bob)).toBe(1);
    detachIntegrityKey(p.db);
    const unlocked = await unlockIdentity(p.db, bob, PASS);
    expect(unlocked.integrityKey).toHaveLength(32);
    unlocked.wipe();
    expect(payloadBytes(p.db, bob)).toBe(80);
    expect(p.db.prepare('SELECT COUNT(*) FROM integrity_handover').pluck().get()).toBe(0);
  });

  it('a forged hand-over (another key) is refused and adopts nothing', async () => {
    const p = profile();
    const alice = await person(p, 'Alice Martin');
    const bob = await person(p, 'Bob Durand');
    await signIn(p.db, alice);
    detachIntegrityKey(p.db);
    const { enc } = currentKeys(p.db, bob);
    const forged = await wrapIntegrityKey(enc.public_key, enc.fpr, randomBytes(32));
    p.db.prepare('UPDATE integrity_handover SET kem_ciphertext = ?, wrapped = ? WHERE identity_id = ?').run(forged.kemCiphertext, forged.wrapped, bob);
    await expect(unlockIdentity(p.db, bob, PASS)).rejects.toMatchObject({ code: 'profile-tampered' });
    expect(payloadBytes(p.db, bob)).toBe(49);
    expect(integrityKeyOf(p.db)).toBeUndefined();
  });

  it('holders\' rows removed (with the seal): a person who knew of a holder is not made the first holder of that state', async () => {
    const p = profile();
    const alice = await person(p, 'Alice Martin');
    const bob = await person(p, 'Bob Durand');
    expect(payloadBytes(p.db, bob)).toBe(49); // knows, under his passphrase, that a holder exists
    p.db.prepare('DELETE FROM unlock WHERE identity_id = ?').run(alice);
    p.db.prepare('DELETE FROM trust_seal').run();
    p.db.prepare('DELETE FROM integrity_handover').run();
    await expect(unlockIdentity(p.db, bob, PASS)).rejects.toMatchObject({ code: 'profile-tampered' });
    expect(hasHolder(p.db)).toBe(false);
  });

  it('a person from before the first holder learns at their next sign-in that a holder exists', async () => {
    const p = profile();
    await person(p, 'Alice Martin');
    const carol = await person(p, 'Carol Petit');
    // As on a profile upgraded to migration 5: Carol's payload is the bare master key.
    const row = p.db.prepare('SELECT salt, opslimit, memlimit_kib, nonce, wrapped_master FROM unlock WHERE identity_id = ?').get(carol) as
      { salt: Buffer; opslimit: number; memlimit_kib: number; nonce: Buffer; wrapped_master: Buffer };
    const aad = Buffer.from(`pli/v1/master\0${carol}`, 'utf8');
    const unlockKey = await deriveUnlockKey(PASS, row.salt, { opslimit: row.opslimit, memlimitKib: row.memlimit_kib });
    const payload = (await aeadOpen(unlockKey, row.nonce, row.wrapped_master, aad))!;
    const legacy = await aeadSeal(unlockKey, payload.slice(0, 32), aad);
    p.db.prepare('UPDATE unlock SET nonce = ?, wrapped_master = ? WHERE identity_id = ?').run(legacy.nonce, legacy.sealed, carol);
    expect(payloadBytes(p.db, carol)).toBe(48);
    const unlocked = await unlockIdentity(p.db, carol, PASS);
    expect(unlocked.integrityKey).toBeNull();
    unlocked.wipe();
    expect(payloadBytes(p.db, carol)).toBe(49);
  });

  it('with an authority: only an own identity whose current keys are certified gets it; a planted one gets nothing', async () => {
    const { db, alice, officer } = await pinnedStation();
    const planted = await createIdentity(db, { name: 'Intrus', email: 'x@exemple.fr', org: 'Police municipale' }, PASS, LIGHT);
    const bob = await createIdentity(db, { name: 'Bob Durand', email: 'police@exemple.fr', org: 'Police municipale' }, PASS, LIGHT);
    const ctx = contextOf(officer);
    await certifyCard(ctx, bob.card, 'reader');
    await importDirectory(db, (await exportDirectory(ctx)).text);
    await signIn(db, alice);
    const handed = db.prepare('SELECT identity_id FROM integrity_handover').pluck().all() as string[];
    expect(handed).toEqual([bob.id]);
    expect(handed).not.toContain(planted.id);
  });
});

describe('desktop session (IPC handlers)', () => {
  it('the key is attached at sign-in and detached at sign-out: a directory import needs a signed-in person', async () => {
    const officer = profile();
    await person(officer, 'Olivier Ssi');
    const ctx = contextOf(officer);
    const { fingerprint: pin } = await initAuthority(ctx, 'SSI DIPN 54');
    const home = path.join(root, 'desktop');
    const { profile: w } = initProfile(home);
    const alice = await person(w, 'Alice Martin');
    w.close();
    const files = [path.join(root, 'annuaire-1.json'), path.join(root, 'annuaire-2.json')];
    writeFileSync(files[0]!, (await exportDirectory(ctx)).text);
    writeFileSync(files[1]!, (await exportDirectory(ctx)).text);
    const chosen: string[] = [];
    const handlers = createHandlers({
      home,
      shell: { saveFile: async () => null, chooseFolder: async () => null, openFile: async () => chosen.shift() ?? null, showInFolder: () => undefined },
      emitProgress: () => undefined,
      emitMailEvent: () => undefined,
    });
    try {
      chosen.push(files[0]!);
      const refused = await handlers.invoke('directory:import', { pin });
      expect(refused).toMatchObject({ ok: false, error: { code: 'sign-in-required' } });
      expect(await handlers.invoke('session:signIn', { opId: 'op-1', id: alice, passphrase: PASS })).toMatchObject({ ok: true });
      chosen.push(files[0]!);
      expect(await handlers.invoke('directory:import', { pin })).toMatchObject({ ok: true, value: { status: 'done', serial: 1 } });
      expect(await handlers.invoke('session:signOut', {})).toMatchObject({ ok: true });
      chosen.push(files[1]!);
      expect(await handlers.invoke('directory:import', {})).toMatchObject({ ok: false, error: { code: 'sign-in-required' } });
    } finally {
      handlers.close();
    }
  });
});
