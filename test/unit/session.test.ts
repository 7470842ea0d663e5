// Sign-in and lockout in the core (issue 5, electron/core/services/session.ts): wrong passphrases
// are counted per person, the Nth locks that person out for M minutes (5 and 15 by default,
// both settings of the profile), the lock is stored in the profile so that reopening it (a
// restart, a new CLI process) does not lift it, and every attempt is audited.
// Identities use cheap Argon2 parameters (stored with the wrapped key) so each attempt is fast.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { closeProfiles } from './helpers.js';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { initProfile, openProfile, type Profile } from '../../electron/core/profile/profile.js';
import { createIdentity, getIdentity, type IdentityRow } from '../../electron/core/profile/identities.js';
import { listEvents, type EventRow } from '../../electron/core/profile/events.js';
import { DEFAULT_SETTINGS, getSettings, lockState, setSettings, signIn } from '../../electron/core/services/session.js';
import { PliError } from '../../electron/core/errors.js';

const CHEAP = { opslimit: 1, memlimitKib: 8 * 1024 };
const GOOD = 'la bonne phrase de passe';
const BAD = 'une mauvaise phrase de passe';
const MINUTE = 60_000;
const root = mkdtempSync(path.join(tmpdir(), 'pli-session-'));

let seq = 0;
/** A fresh profile with `count` own identities, all sharing the passphrase GOOD. */
async function fresh(count = 1): Promise<{ home: string; profile: Profile; people: IdentityRow[] }> {
  const home = path.join(root, `p${++seq}`);
  const { profile } = initProfile(home);
  const people: IdentityRow[] = [];
  for (let i = 0; i < count; i++) {
    const made = await createIdentity(profile.db, { name: `Personne ${i}`, email: `p${i}@exemple.fr`, org: 'Mairie' }, GOOD, CHEAP);
    people.push(getIdentity(profile.db, made.id)!);
  }
  return { home, profile, people };
}

/** Runs a sign-in and returns the PliError it throws (fails the test if it succeeds). */
async function refusal(profile: Profile, person: IdentityRow, passphrase: string, now: number): Promise<PliError> {
  try {
    const unlocked = await signIn(profile, person, passphrase, now);
    unlocked.wipe();
  } catch (error) {
    expect(error).toBeInstanceOf(PliError);
    return error as PliError;
  }
  throw new Error('sign-in should have been refused');
}

const actions = (events: EventRow[], actor: string): string[] => events.filter((e) => e.actor === actor).map((e) => e.action);

const opened: Profile[] = [];
afterAll(() => closeProfiles(opened, root));

describe('settings', () => {
  it('defaults: idle lock 10 min, 5 failures, 15 min lockout; configurable and validated', async () => {
    const { profile } = await fresh(0);
    opened.push(profile);
    expect(DEFAULT_SETTINGS).toEqual({ idleLockMinutes: 10, maxFailures: 5, lockoutMinutes: 15 });
    expect(getSettings(profile.db)).toEqual(DEFAULT_SETTINGS);
    expect(setSettings(profile.db, { maxFailures: 3, lockoutMinutes: 1 })).toEqual({ idleLockMinutes: 10, maxFailures: 3, lockoutMinutes: 1 });
    for (const bad of [0, -1, 1.5, 1441, Number.NaN]) {
      expect(() => setSettings(profile.db, { idleLockMinutes: bad }), String(bad)).toThrowError(expect.objectContaining({ kind: 'input', code: 'bad-setting' }));
    }
    expect(getSettings(profile.db).idleLockMinutes).toBe(10);
  });
});

describe('lockout with the default numbers', () => {
  let home = '';
  let profile: Profile;
  let alice: IdentityRow;
  let bob: IdentityRow;
  const t0 = Date.UTC(2030, 0, 1, 9, 0, 0);
  const errors: PliError[] = [];

  beforeAll(async () => {
    const made = await fresh(2);
    ({ home, profile } = made);
    [alice, bob] = made.people as [IdentityRow, IdentityRow];
    for (let i = 1; i <= 5; i++) errors.push(await refusal(profile, alice, BAD, t0 + i * 1000));
  });

  it('4 wrong passphrases: security refusal (exit 2) giving the attempts left', () => {
    errors.slice(0, 4).forEach((error, i) => {
      expect(error.kind).toBe('security');
      expect(error.exitCode).toBe(2);
      expect(error.code).toBe('bad-passphrase');
      expect(error.message).toContain(`Encore ${4 - i} ${4 - i > 1 ? 'essais' : 'essai'} avant un blocage de 15 minutes.`);
      expect(error.message).not.toContain(BAD);
    });
  });

  it('the 5th locks the person out: temporary (exit 3), saying how many minutes are left', () => {
    const fifth = errors[4]!;
    expect(fifth.kind).toBe('temporary');
    expect(fifth.exitCode).toBe(3);
    expect(fifth.code).toBe('locked-out');
    expect(fifth.message).toMatch(/réessayez dans 15 minutes\./);
    expect(lockState(profile.db, alice.id).lockedUntil).toBe(t0 + 5000 + 15 * MINUTE);
  });

  it('the right passphrase while locked is refused too, and the minutes left count down', async () => {
    const error = await refusal(profile, alice, GOOD, t0 + 5000 + 10 * MINUTE);
    expect(error).toMatchObject({ kind: 'temporary', code: 'locked-out' });
    expect(error.message).toMatch(/réessayez dans 5 minutes\./);
    const last = await refusal(profile, alice, GOOD, t0 + 5000 + 15 * MINUTE - 1);
    expect(last.message).toMatch(/réessayez dans 1 minute\./);
  });

  it('the lock is per person: Bob still signs in', async () => {
    const unlocked = await signIn(profile, bob, GOOD, t0 + 6000);
    expect(unlocked.id).toBe(bob.id);
    unlocked.wipe();
  });

  it('the lock survives closing and reopening the profile (a restart)', async () => {
    profile.close();
    profile = openProfile(home);
    opened.push(profile);
    const error = await refusal(profile, alice, GOOD, t0 + 5000 + 14 * MINUTE);
    expect(error.code).toBe('locked-out');
  });

  it('released after the delay: the right passphrase unlocks, and the count starts again', async () => {
    const after = t0 + 5000 + 15 * MINUTE + 1;
    const unlocked = await signIn(profile, alice, GOOD, after);
    expect(unlocked.current.sigSecret.length).toBe(64);
    unlocked.wipe();
    expect(lockState(profile.db, alice.id)).toEqual({ failures: 0, lockedUntil: 0 });
    const again = await refusal(profile, alice, BAD, after + 1000);
    expect(again.code).toBe('bad-passphrase');
    expect(again.message).toContain('Encore 4 essais avant');
  });

  it('every attempt is audited: failed, locked-out, refused, succeeded, with the person, never the passphrase', () => {
    const events = listEvents(profile.db);
    const seen = actions(events, alice.id);
    expect(seen.slice(0, 6)).toEqual(['login.failed', 'login.failed', 'login.failed', 'login.failed', 'login.failed', 'login.locked-out']);
    expect(seen.filter((a) => a === 'login.refused')).toHaveLength(3);
    expect(seen).toContain('login.succeeded');
    const failed = events.filter((e) => e.actor === alice.id && e.action === 'login.failed');
    expect(failed.slice(0, 5).map((e) => JSON.parse(e.detail!).failures)).toEqual([1, 2, 3, 4, 5]);
    expect(failed.every((e) => e.outcome === 'refused')).toBe(true);
    const locked = events.find((e) => e.action === 'login.locked-out')!;
    expect(locked.outcome).toBe('refused');
    expect(JSON.parse(locked.detail!).until).toBe(t0 + 5000 + 15 * MINUTE);
    const refused = events.find((e) => e.action === 'login.refused')!;
    expect(refused.outcome).toBe('refused');
    expect(JSON.parse(refused.detail!).reason).toBe('locked-out');
    expect(events.find((e) => e.action === 'login.succeeded' && e.actor === alice.id)!.outcome).toBe('ok');
    const all = events.map((e) => e.canonical.toString('utf8')).join('\n');
    expect(all).not.toContain(GOOD);
    expect(all).not.toContain(BAD);
  });
});

describe('configurable numbers', () => {
  it('maxFailures 3 and lockoutMinutes 1: locked on the 3rd, released a minute later', async () => {
    const { profile, people: [carol] } = await fresh(1);
    opened.push(profile);
    setSettings(profile.db, { maxFailures: 3, lockoutMinutes: 1 });
    const t0 = Date.UTC(2030, 5, 1, 12, 0, 0);
    const first = await refusal(profile, carol!, BAD, t0);
    expect(first.message).toContain('Encore 2 essais avant un blocage de 1 minute.');
    expect((await refusal(profile, carol!, BAD, t0 + 1)).message).toContain('Encore 1 essai avant un blocage de 1 minute.');
    const third = await refusal(profile, carol!, BAD, t0 + 2);
    expect(third).toMatchObject({ kind: 'temporary', code: 'locked-out' });
    expect(third.message).toMatch(/réessayez dans 1 minute\./);
    expect((await refusal(profile, carol!, GOOD, t0 + 2 + MINUTE - 1)).code).toBe('locked-out');
    const unlocked = await signIn(profile, carol!, GOOD, t0 + 2 + MINUTE);
    unlocked.wipe();
  });

  it('a success resets the count: 2 wrong, 1 right, then 4 more wrong do not lock', async () => {
    const { profile, people: [dan] } = await fresh(1);
    opened.push(profile);
    const t0 = Date.UTC(2030, 6, 1);
    await refusal(profile, dan!, BAD, t0);
    await refusal(profile, dan!, BAD, t0 + 1);
    (await signIn(profile, dan!, GOOD, t0 + 2)).wipe();
    for (let i = 0; i < 4; i++) expect((await refusal(profile, dan!, BAD, t0 + 3 + i)).code).toBe('bad-passphrase');
    expect(lockState(profile.db, dan!.id)).toEqual({ failures: 4, lockedUntil: 0 });
  });
});
