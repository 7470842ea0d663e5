// Issue 13: the sign-in's Argon2id starts before the lockout counter's transaction (its fsync then
// runs beside the derivation instead of before it; services/session.ts). What must still hold:
// the attempt is committed to the database before the derived key is tried on the master key
// (the answer to "is this the passphrase?"), so a process killed at any point from the answer on
// has counted it: here another connection (what a new process, after a kill, would read) looks at
// the counter at the moment of the answer. A lock set by another process after the check and
// before the count refuses the attempt, and the key derived meanwhile is wiped, never tried.
import { afterAll, describe, expect, it, vi } from 'vitest';
import Database from 'better-sqlite3';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { closeProfiles } from './helpers.js';
import { DB_FILE, initProfile, type Profile } from '../../electron/core/profile/profile.js';
import { createIdentity, getIdentity } from '../../electron/core/profile/identities.js';
import { listEvents } from '../../electron/core/profile/events.js';
import { lockState, setSettings, signIn } from '../../electron/core/services/session.js';

/** What the test watches: set per case; null = pass through. */
const watch = vi.hoisted(() => ({
  atDerivation: null as null | (() => void),
  atAnswer: null as null | (() => void),
  derivedKeys: [] as Uint8Array[],
  answers: 0,
}));
vi.mock('../../electron/core/crypto/argon2.js', async (original) => {
  const actual = await original<typeof import('../../electron/core/crypto/argon2.js')>();
  return {
    ...actual,
    argon2id: async (...args: Parameters<typeof actual.argon2id>) => {
      watch.atDerivation?.();
      const key = await actual.argon2id(...args);
      watch.derivedKeys.push(key);
      return key;
    },
  };
});
vi.mock('../../electron/core/crypto/aead.js', async (original) => {
  const actual = await original<typeof import('../../electron/core/crypto/aead.js')>();
  return {
    ...actual,
    aeadOpen: async (...args: Parameters<typeof actual.aeadOpen>) => {
      // The first aeadOpen of an unlock is the master key's: the passphrase's answer.
      if (watch.atAnswer) {
        watch.answers++;
        watch.atAnswer();
      }
      return actual.aeadOpen(...args);
    },
  };
});

const CHEAP = { opslimit: 1, memlimitKib: 8 * 1024 };
const GOOD = 'la bonne phrase de passe';
const BAD = 'une mauvaise phrase de passe';
const root = mkdtempSync(path.join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'pli-overlap-'));
const opened: Profile[] = [];
afterAll(() => closeProfiles(opened, root));

async function person(name: string) {
  const home = path.join(root, name.replace(/\W/g, ''));
  const { profile } = initProfile(home);
  opened.push(profile);
  const made = await createIdentity(profile.db, { name, email: 'mairie@exemple.fr', org: 'Mairie' }, GOOD, CHEAP);
  const other = new Database(path.join(home, DB_FILE));
  return { profile, identity: getIdentity(profile.db, made.id)!, other };
}
/** The counter as another process sees it (committed rows only). */
const seen = (other: Database.Database, id: string) => other.prepare('SELECT failures, locked_until FROM login_state WHERE identity_id = ?').get(id) as { failures: number; locked_until: number } | undefined;

describe('the lockout counter and the Argon2id of the sign-in', () => {
  it('Argon2id starts before the attempt is counted, and the attempt is committed before the answer', async () => {
    const { profile, identity, other } = await person('Claire Durand');
    const atDerivation: (number | undefined)[] = [];
    const atAnswer: (number | undefined)[] = [];
    watch.atDerivation = () => atDerivation.push(seen(other, identity.id)?.failures);
    watch.atAnswer = () => atAnswer.push(seen(other, identity.id)?.failures);
    try {
      await expect(signIn(profile, identity, BAD)).rejects.toMatchObject({ code: 'bad-passphrase' });
      await expect(signIn(profile, identity, BAD)).rejects.toMatchObject({ code: 'bad-passphrase' });
      await signIn(profile, identity, GOOD).then((u) => u.wipe());
    } finally {
      watch.atDerivation = null;
      watch.atAnswer = null;
      other.close();
    }
    // When each derivation started, its attempt was not counted yet (the overlap)...
    expect(atDerivation).toEqual([undefined, 1, 2]);
    // ...and when its key was tried, it was, for another process to see (a kill keeps it). The
    // right passphrase then opens its key set (a fourth aeadOpen, same count).
    expect(atAnswer).toEqual([1, 2, 3, 3]);
    expect(lockState(profile.db, identity.id)).toEqual({ failures: 0, lockedUntil: 0 });
  });

  it('a lock set by another process during the derivation refuses the attempt: the key is wiped, never tried', async () => {
    const { profile, identity, other } = await person('Bob Martin');
    setSettings(profile.db, { maxFailures: 3, lockoutMinutes: 15 });
    const until = Date.now() + 15 * 60000;
    // Another process on the profile counts the last attempt allowed and sets the lock while
    // this one's Argon2id runs (after its check, before its count).
    watch.atDerivation = () => other.prepare('INSERT INTO login_state (identity_id, failures, locked_until) VALUES (?, 0, ?) ON CONFLICT(identity_id) DO UPDATE SET failures = 0, locked_until = excluded.locked_until').run(identity.id, until);
    watch.atAnswer = () => undefined;
    watch.answers = 0;
    watch.derivedKeys = [];
    try {
      await expect(signIn(profile, identity, GOOD)).rejects.toMatchObject({ kind: 'temporary', code: 'locked-out' });
    } finally {
      watch.atDerivation = null;
    }
    // The right passphrase, yet no answer was given: the derived key was never tried.
    expect(watch.answers).toBe(0);
    // The derivation cannot be stopped: when it ends, its key is zeroed.
    await vi.waitFor(() => expect(watch.derivedKeys).toHaveLength(1));
    await vi.waitFor(() => expect(watch.derivedKeys[0]!.every((b) => b === 0)).toBe(true));
    watch.atAnswer = null;
    other.close();
    expect(lockState(profile.db, identity.id)).toEqual({ failures: 0, lockedUntil: until });
    const actions = listEvents(profile.db).filter((e) => e.actor === identity.id).map((e) => e.action);
    expect(actions).toEqual(['login.refused']);
  });

  it('a success that cannot be logged does not reset the counter (one transaction, one fsync)', async () => {
    const { profile, identity, other } = await person('Denis Roux');
    await expect(signIn(profile, identity, BAD)).rejects.toMatchObject({ code: 'bad-passphrase' });
    // The attacker of docs/profile.md plants a trigger that refuses every new audit event.
    other.exec("CREATE TRIGGER planted BEFORE INSERT ON events BEGIN SELECT RAISE(ABORT, 'planted'); END;");
    other.close();
    await expect(signIn(profile, identity, GOOD)).rejects.toThrow();
    // Both attempts stay counted: the reset is committed only with its login.succeeded.
    expect(lockState(profile.db, identity.id)).toEqual({ failures: 2, lockedUntil: 0 });
  });

  it('locked out: no Argon2id at all', async () => {
    const { profile, identity, other } = await person('Alice Petit');
    other.close();
    setSettings(profile.db, { maxFailures: 1, lockoutMinutes: 15 });
    await expect(signIn(profile, identity, BAD)).rejects.toMatchObject({ code: 'locked-out' });
    let derivations = 0;
    watch.atDerivation = () => derivations++;
    try {
      await expect(signIn(profile, identity, GOOD)).rejects.toMatchObject({ code: 'locked-out' });
    } finally {
      watch.atDerivation = null;
    }
    expect(derivations).toBe(0);
  });
});
