// Signing in: using a private key means unlocking it with the person's passphrase. Repeated
// failures lock the person out for a while, and the lock is stored in the profile so that
// restarting the application (or the CLI) does not lift it. Every attempt is audited.
// Loaded for its side effect too: it registers who may receive the integrity key (certificates).
import '../authority/certificates.js';
import type { Profile, DB } from '../profile/profile.js';
import { getMeta, setMeta } from '../profile/profile.js';
import { unlockIdentity, type IdentityRow, type UnlockedIdentity } from '../profile/identities.js';
import { appendEvent } from '../profile/events.js';
import { PliError, temporaryError } from '../errors.js';
import { audit, type Scope } from '../context.js';
import { certificateState } from '../authority/certificates.js';
import { hasAuthority, requireRole } from './policy.js';
import { plural } from '../../../shared/french.js';

export interface SessionSettings {
  /** Desktop app: lock the session after this idle time. */
  idleLockMinutes: number;
  /** Wrong passphrases in a row before a lockout. */
  maxFailures: number;
  lockoutMinutes: number;
}

export const DEFAULT_SETTINGS: SessionSettings = { idleLockMinutes: 10, maxFailures: 5, lockoutMinutes: 15 };

const KEYS: Record<keyof SessionSettings, string> = {
  idleLockMinutes: 'idle_lock_minutes', maxFailures: 'max_failures', lockoutMinutes: 'lockout_minutes',
};

export function getSettings(db: DB): SessionSettings {
  const read = (key: keyof SessionSettings): number => {
    const value = Number(getMeta(db, KEYS[key]));
    return Number.isInteger(value) && value > 0 ? value : DEFAULT_SETTINGS[key];
  };
  return { idleLockMinutes: read('idleLockMinutes'), maxFailures: read('maxFailures'), lockoutMinutes: read('lockoutMinutes') };
}

export function setSettings(db: DB, settings: Partial<SessionSettings>): SessionSettings {
  for (const [key, value] of Object.entries(settings) as [keyof SessionSettings, number | undefined][]) {
    if (value === undefined) continue;
    if (!Number.isInteger(value) || value < 1 || value > 1440) throw new PliError('input', 'bad-setting', 'Réglage invalide : un nombre entier de 1 à 1440.');
    setMeta(db, KEYS[key], String(value));
  }
  return getSettings(db);
}

/** The desktop's settings change, by the signed-in person (the actor), with the value before. */
export function changeSettings(scope: Scope, settings: Pick<Partial<SessionSettings>, 'idleLockMinutes'>): SessionSettings {
  const before = getSettings(scope.profile.db).idleLockMinutes;
  const after = setSettings(scope.profile.db, settings);
  audit(scope, { actor: scope.actor?.() ?? null, action: 'settings.changed', detail: { idleLockMinutes: settings.idleLockMinutes, before } });
  return after;
}

/** The nominative list at the desktop's sign-in: once an authority is pinned, only a person
 * holding a valid certificate from it signs in; anyone else is refused and logged, before their
 * passphrase is even tried (no key is unlocked for them). */
export function requireListed(profile: Profile, identity: IdentityRow): void {
  if (!hasAuthority(profile.db) || certificateState(profile.db, identity.id).state === 'valid') return;
  audit({ profile }, { actor: identity.id, action: 'login.refused', outcome: 'refused', detail: { reason: 'not-habilitated' } });
  requireRole(profile.db, identity, 'reader');
}

/** The end of a desktop session (sign-out, idle lock, application quit), logged for its person. */
export function sessionClosed(profile: Profile, identity: { id: string }): void {
  audit({ profile }, { actor: identity.id, action: 'session.closed', object: identity.id });
}

export interface LockState { failures: number; lockedUntil: number }

export function lockState(db: DB, identityId: string): LockState {
  const row = db.prepare('SELECT failures, locked_until FROM login_state WHERE identity_id = ?').get(identityId) as { failures: number; locked_until: number } | undefined;
  return { failures: row?.failures ?? 0, lockedUntil: row?.locked_until ?? 0 };
}

function lockedOutError(identity: IdentityRow, until: number, now: number): PliError {
  const minutes = Math.max(1, Math.ceil((until - now) / 60000));
  return temporaryError('locked-out', `Connexion de ${identity.name} bloquée après trop de phrases de passe erronées : réessayez dans ${plural(minutes, 'minute')}. En cas d'oubli, adressez-vous à l'officier SSI.`, undefined, { name: identity.name, minutes, until });
}

/** One attempt, as counted before its Argon2id runs: its number in the current count, and the
 * lock it set in advance when it is the last one allowed (0 otherwise). */
interface Attempt { count: number; lockedUntil: number }

const saveState = (db: DB, identityId: string, failures: number, lockedUntil: number): void => {
  db.prepare('INSERT INTO login_state (identity_id, failures, locked_until) VALUES (?, ?, ?) ON CONFLICT(identity_id) DO UPDATE SET failures = excluded.failures, locked_until = excluded.locked_until')
    .run(identityId, failures, lockedUntil);
};

/** Decides and counts an attempt in one write transaction (BEGIN IMMEDIATE: one process or
 * connection at a time), BEFORE the passphrase is tried. Invariant: however many sign-ins run in
 * parallel, in one process or several, at most maxFailures passphrases are tried between two
 * lockouts; the one that reaches maxFailures sets the lock in advance, so the others are
 * refused without trying. An attempt cut short (crash, kill) after its count stays counted: the
 * safe side. Its Argon2id has already started (signIn): the derivation alone answers nothing. */
function beginAttempt(db: DB, identityId: string, settings: SessionSettings, now: number): Attempt | { refusedUntil: number } {
  return db.transaction(() => {
    const state = lockState(db, identityId);
    if (state.lockedUntil > now) return { refusedUntil: state.lockedUntil };
    // A lock that has expired starts a fresh count (failures are stored as 0 while locked).
    const count = (state.lockedUntil > 0 ? 0 : state.failures) + 1;
    const lockedUntil = count >= settings.maxFailures ? now + settings.lockoutMinutes * 60000 : 0;
    saveState(db, identityId, lockedUntil ? 0 : count, lockedUntil);
    return { count, lockedUntil };
  }).immediate();
}

/** Gives back an attempt that tried no passphrase (e.g. Argon2id failed for lack of memory). */
function refundAttempt(db: DB, identityId: string, attempt: Attempt): void {
  db.transaction(() => {
    const state = lockState(db, identityId);
    if (attempt.lockedUntil) {
      if (state.lockedUntil === attempt.lockedUntil) saveState(db, identityId, attempt.count - 1, 0);
    } else if (state.lockedUntil === 0 && state.failures > 0) {
      saveState(db, identityId, state.failures - 1, 0);
    }
  }).immediate();
}

/** Unlocks a person's keys, enforcing the lockout. Wrong passphrase: security error (exit 2);
 * locked out: temporary error (exit 3) that says how long to wait. */
export async function signIn(profile: Profile, identity: IdentityRow, passphrase: string, at?: number): Promise<UnlockedIdentity> {
  const started = Date.now();
  const now = at ?? started;
  const db = profile.db;
  const settings = getSettings(db);
  // A lock met here may have been set by another process that started after this one, from its
  // own later clock: the wait is counted from the time of the refusal, not from `now`, or it
  // would read one minute more than the lockout (« 16 minutes » for 15).
  const refuse = (until: number): PliError => {
    appendEvent(db, profile.workstation, { actor: identity.id, action: 'login.refused', outcome: 'refused', detail: { reason: 'locked-out' } });
    return lockedOutError(identity, until, now + (Date.now() - started));
  };
  // A read first: a locked-out person's passphrase is not even derived (no Argon2id run).
  const state = lockState(db, identity.id);
  if (state.lockedUntil > now) throw refuse(state.lockedUntil);
  // The count itself (beginAttempt: a write transaction and its fsync) runs once Argon2id has
  // started, beside it, and before the derived key is tried (unlockIdentity's beforeAnswer): the
  // order the lockout needs is count, then answer (test/unit/lockout-overlap.test.ts).
  let attempt: Attempt | undefined;
  let refusedUntil = 0;
  const LOCKED = new Error('locked');
  let unlocked: UnlockedIdentity;
  try {
    unlocked = await unlockIdentity(db, identity.id, passphrase, () => {
      const decided = beginAttempt(db, identity.id, settings, now);
      if ('refusedUntil' in decided) {
        // Locked by another sign-in since the read above: refused, the derived key is never tried.
        refusedUntil = decided.refusedUntil;
        throw LOCKED;
      }
      attempt = decided;
    });
  } catch (error) {
    if (error === LOCKED) throw refuse(refusedUntil);
    // Failed before its count (no private keys here): nothing to give back.
    if (!attempt) throw error;
    if (!(error instanceof PliError) || error.code !== 'bad-passphrase') {
      refundAttempt(db, identity.id, attempt);
      throw error;
    }
    // Already counted (and, for the last one allowed, already locked) by beginAttempt.
    appendEvent(db, profile.workstation, { actor: identity.id, action: 'login.failed', outcome: 'refused', detail: { failures: attempt.count } });
    if (attempt.lockedUntil) {
      appendEvent(db, profile.workstation, { actor: identity.id, action: 'login.locked-out', outcome: 'refused', detail: { until: attempt.lockedUntil } });
      throw lockedOutError(identity, attempt.lockedUntil, now);
    }
    const left = settings.maxFailures - attempt.count;
    throw new PliError('security', 'bad-passphrase', `${error.message} Encore ${plural(left, 'essai')} avant un blocage de ${plural(settings.lockoutMinutes, 'minute')}.`,
      { params: { name: identity.name, count: left, minutes: settings.lockoutMinutes } });
  }
  try {
    // One transaction (one fsync instead of two): the counter is reset only with its logged success.
    db.transaction(() => {
      saveState(db, identity.id, 0, 0);
      appendEvent(db, profile.workstation, { actor: identity.id, action: 'login.succeeded' });
    }).immediate();
  } catch (error) {
    // The caller never receives the keys: they are wiped here.
    unlocked.wipe();
    throw error;
  }
  return unlocked;
}
