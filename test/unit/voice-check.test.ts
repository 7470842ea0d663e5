// Issue 15, item 4: "vérifiée de vive voix, le …, par …". A correspondent's or the authority's
// fingerprint marked checked by voice is trust state: the attacker of docs/profile.md, who writes
// the profile's database with better-sqlite3 and knows no passphrase, must not be able to set the
// mark, change who checked it, or quietly remove it. Real profiles, real keys (light Argon2id).
import { afterAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { DB_FILE, initProfile, openProfile, type Profile } from '../../electron/core/profile/profile.js';
import { createIdentity, currentKeys, importCard, unlockIdentity } from '../../electron/core/profile/identities.js';
import { detachIntegrityKey } from '../../electron/core/profile/integrity.js';
import { voiceCheckOf } from '../../electron/core/profile/voice.js';
import { currentVoiceCheck, markVoiceChecked } from '../../electron/core/services/voice.js';
import { exportDirectory, initAuthority } from '../../electron/core/authority/authority.js';
import { importDirectory } from '../../electron/core/authority/directory.js';
import type { Context } from '../../electron/core/context.js';
import { listEvents } from '../../electron/core/profile/events.js';
import { refusedWith } from './refused.js';
import { formatFingerprint } from '../../shared/ids.js';

const PASS = 'une phrase de passe de test';
const LIGHT = { opslimit: 1, memlimitKib: 8 };
const root = mkdtempSync(path.join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'pli-voice-unit-'));
const opened: Profile[] = [];
let counter = 0;
afterAll(() => {
  opened.forEach((p) => { try { p.close(); } catch { /* closed by the test */ } });
  rmSync(root, { recursive: true, force: true });
});

/** A police workstation (Paul, a holder of the integrity key) that knows Claire's card. */
async function workstation() {
  const home = path.join(root, `poste-${counter++}`);
  const { profile: p } = initProfile(home);
  opened.push(p);
  const paul = (await createIdentity(p.db, { name: 'Paul Durand', email: 'paul.durand@interieur.gouv.fr', org: 'CPN de Nancy' }, PASS, LIGHT)).id;
  const { profile: other } = initProfile(path.join(root, `mairie-${counter++}`));
  opened.push(other);
  const made = await createIdentity(other.db, { name: 'Claire Petit', email: 'mairie@vandoeuvre.fr', org: 'Mairie de Vandœuvre' }, PASS, LIGHT);
  const claire = (await importCard(p.db, made.card)).id;
  (await unlockIdentity(p.db, paul, PASS)).wipe(); // signed in: the integrity key is attached
  const fingerprint = formatFingerprint(currentKeys(p.db, claire).sig.fpr);
  return { home, p, paul, claire, fingerprint, scope: { profile: p, actor: () => paul } };
}


/** The attacker: another handle on the same database file, plain SQL, no key. */
function attacker(home: string, sql: string, ...params: unknown[]): void {
  const db = new Database(path.join(home, DB_FILE));
  try {
    db.prepare(sql).run(...params);
  } finally {
    db.close();
  }
}

describe('voice check of a fingerprint', () => {
  it('is recorded for the fingerprint heard, with who and when, and audited', async () => {
    const w = await workstation();
    expect(currentVoiceCheck(w.p.db, w.claire)).toBeNull();
    const at = Date.UTC(2026, 11, 3, 9, 30);
    await markVoiceChecked(w.scope, w.claire, w.fingerprint.toLowerCase().replace(/-/g, ' '), at);
    const check = currentVoiceCheck(w.p.db, w.claire);
    expect(check).toMatchObject({ checkedAt: at, checkedBy: w.paul, checkedByName: 'Paul Durand' });
    const event = listEvents(w.p.db).find((e) => e.action === 'fingerprint.voice-verified');
    expect(event).toMatchObject({ actor: w.paul, object: w.claire, outcome: 'ok' });
  });

  it('refuses, records nothing and audits the refusal when the fingerprint on screen is no longer the current one', async () => {
    const w = await workstation();
    await refusedWith('fingerprint-changed', () => markVoiceChecked(w.scope, w.claire, 'AAAA-BBBB-CCCC-DDDD-EEEE'));
    expect(currentVoiceCheck(w.p.db, w.claire)).toBeNull();
    const event = listEvents(w.p.db).find((e) => e.action === 'fingerprint.voice-verified');
    expect(event).toMatchObject({ outcome: 'refused' });
    expect(JSON.parse(String(event!.detail))).toEqual({ reason: 'fingerprint-changed' });
  });

  it('needs a signed-in person of this workstation', async () => {
    const w = await workstation();
    await refusedWith('sign-in-required', () => markVoiceChecked({ profile: w.p }, w.claire, w.fingerprint));
    await refusedWith('own-fingerprint', () => markVoiceChecked(w.scope, w.paul, w.fingerprint));
  });

  it('a mark planted with SQL is refused as tampering, at the next read and at the next sign-in', async () => {
    const w = await workstation();
    attacker(w.home, 'INSERT INTO voice_checks (subject, fpr, checked_at, checked_by, checked_by_name) VALUES (?, ?, ?, ?, ?)',
      w.claire, currentKeys(w.p.db, w.claire).sig.fpr, Date.now(), w.paul, 'Paul Durand');
    await refusedWith('profile-tampered', () => currentVoiceCheck(w.p.db, w.claire));
    detachIntegrityKey(w.p.db);
    await refusedWith('profile-tampered', () => unlockIdentity(w.p.db, w.paul, PASS));
  });

  it('changing who checked it, or deleting every mark, is refused as tampering', async () => {
    for (const sql of ['UPDATE voice_checks SET checked_by_name = ?', 'DELETE FROM voice_checks WHERE ? IS NOT NULL']) {
      const w = await workstation();
      await markVoiceChecked(w.scope, w.claire, w.fingerprint);
      attacker(w.home, sql, 'Quelqu’un d’autre');
      await refusedWith('profile-tampered', () => currentVoiceCheck(w.p.db, w.claire));
      w.p.close();
      const again = openProfile(w.home);
      opened.push(again);
      await refusedWith('profile-tampered', () => unlockIdentity(again.db, w.paul, PASS));
    }
  });

  it('a mark for another key of the same person does not count', async () => {
    const w = await workstation();
    await markVoiceChecked(w.scope, w.claire, w.fingerprint);
    // A genuine check stays tied to the key read aloud: a new card shows as not checked.
    expect(voiceCheckOf(w.p.db, w.claire, currentKeys(w.p.db, w.claire).sig.fpr)).not.toBeNull();
    expect(voiceCheckOf(w.p.db, w.claire, Buffer.alloc(32, 7))).toBeNull();
  });

  it('the SSI authority\'s pinned fingerprint too, and a planted check of it is refused', async () => {
    const officerHome = path.join(root, `officier-${counter++}`);
    const { profile: officer } = initProfile(officerHome);
    opened.push(officer);
    const officerId = (await createIdentity(officer.db, { name: 'Olivier Ssi', email: 'ssi@interieur.gouv.fr', org: 'DIPN 54' }, PASS, LIGHT)).id;
    const ctx: Context = { profile: officer, actor: () => officerId, unlocker: { unlock: (row) => unlockIdentity(officer.db, row.id, PASS) } };
    const { fingerprint: pin } = await initAuthority(ctx, 'SSI DIPN 54');
    const w = await workstation();
    await importDirectory(w.p.db, (await exportDirectory(ctx)).text, pin);
    expect(currentVoiceCheck(w.p.db, 'authority')).toBeNull();
    await markVoiceChecked(w.scope, 'authority', pin);
    expect(currentVoiceCheck(w.p.db, 'authority')).toMatchObject({ checkedBy: w.paul, checkedByName: 'Paul Durand' });
    const event = listEvents(w.p.db).find((e) => e.action === 'fingerprint.voice-verified');
    expect(event).toMatchObject({ actor: w.paul, object: 'authority', outcome: 'ok' });
    attacker(w.home, 'UPDATE voice_checks SET checked_at = checked_at - 86400000 WHERE subject = ?', 'authority');
    await refusedWith('profile-tampered', () => currentVoiceCheck(w.p.db, 'authority'));
  });
});
