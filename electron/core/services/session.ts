// Signing in: using a private key means unlocking it with the person's passphrase. Repeated
// failures lock the person out for a while, and the lock is stored in the profile so that
// restarting the application (or the CLI) does not lift it. Every attempt is audited.
import type { Profile, DB } from '../profile/profile.js';
import { getMeta, setMeta } from '../profile/profile.js';
import { unlockIdentity, type IdentityRow, type UnlockedIdentity } from '../profile/identities.js';
import { appendEvent } from '../profile/events.js';
import { PliError, temporaryError } from '../errors.js';

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

export interface LockState { failures: number; lockedUntil: number }

export function lockState(db: DB, identityId: string): LockState {
  const row = db.prepare('SELECT failures, locked_until FROM login_state WHERE identity_id = ?').get(identityId) as { failures: number; locked_until: number } | undefined;
  return { failures: row?.failures ?? 0, lockedUntil: row?.locked_until ?? 0 };
}

function lockedOutError(identity: IdentityRow, until: number, now: number): PliError {
  const minutes = Math.max(1, Math.ceil((until - now) / 60000));
  return temporaryError('locked-out', `${identity.name} est bloqué(e) après trop de phrases de passe erronées : réessayez dans ${minutes} minute(s). En cas d'oubli, adressez-vous à l'officier SSI.`);
}

/** Unlocks a person's keys, enforcing the lockout. Wrong passphrase: security error (exit 2);
 * locked out: temporary error (exit 3) that says how long to wait. */
export async function signIn(profile: Profile, identity: IdentityRow, passphrase: string, now = Date.now()): Promise<UnlockedIdentity> {
  const db = profile.db;
  const settings = getSettings(db);
  const state = lockState(db, identity.id);
  if (state.lockedUntil > now) {
    appendEvent(db, profile.workstation, { actor: identity.id, action: 'login.refused', outcome: 'refused', detail: { reason: 'locked-out' } });
    throw lockedOutError(identity, state.lockedUntil, now);
  }
  try {
    const unlocked = await unlockIdentity(db, identity.id, passphrase);
    db.prepare('INSERT INTO login_state (identity_id, failures, locked_until) VALUES (?, 0, 0) ON CONFLICT(identity_id) DO UPDATE SET failures = 0, locked_until = 0').run(identity.id);
    appendEvent(db, profile.workstation, { actor: identity.id, action: 'login.succeeded' });
    return unlocked;
  } catch (error) {
    if (!(error instanceof PliError) || error.code !== 'bad-passphrase') throw error;
    // A lock that has expired starts a fresh count.
    const failures = (state.lockedUntil > 0 && state.lockedUntil <= now ? 0 : state.failures) + 1;
    const lockedUntil = failures >= settings.maxFailures ? now + settings.lockoutMinutes * 60000 : 0;
    db.prepare('INSERT INTO login_state (identity_id, failures, locked_until) VALUES (?, ?, ?) ON CONFLICT(identity_id) DO UPDATE SET failures = excluded.failures, locked_until = excluded.locked_until')
      .run(identity.id, lockedUntil ? 0 : failures, lockedUntil);
    appendEvent(db, profile.workstation, { actor: identity.id, action: 'login.failed', outcome: 'refused', detail: { failures } });
    if (lockedUntil) {
      appendEvent(db, profile.workstation, { actor: identity.id, action: 'login.locked-out', outcome: 'refused', detail: { until: lockedUntil } });
      throw lockedOutError(identity, lockedUntil, now);
    }
    const left = settings.maxFailures - failures;
    throw new PliError('security', 'bad-passphrase', `${error.message} Encore ${left} essai(s) avant un blocage de ${settings.lockoutMinutes} minutes.`);
  }
}
