// The desktop session: the opened profile and the signed-in person's unlocked keys, which live
// here, in main, for the length of the session; the renderer only ever learns an id and a name.
// Passphrases arrive in sign-in and create requests and are never stored or sent back.
//
// Key lending: a service gets a copy of the session's keys (`lend`), which it wipes; the session's
// own copy is wiped at sign-out and at close.
//
// Audit checkpoints: after every call in which the session's signing key was unlocked or lent to
// a service (sign-in included), and at sign-out, main signs the chain head with that key
// (services/audit.ts writeCheckpoint), as the CLI does at the end of each command.
//
// Integrity key: attached to the profile's database at sign-in, detached at sign-out (which the
// renderer's idle lock goes through) and at close: no sealed write without a signed-in person.
//
// Retention (docs/convention.md 8.1): the core's retention run at sign-in and, while a person is
// signed in, after the first call of each new day; its notice is kept for the session.
import { inputError, securityError } from '../core/errors.js';
import { isProfile, openProfile, type Profile } from '../core/profile/profile.js';
import { getIdentity, type IdentityRow, type UnlockedIdentity } from '../core/profile/identities.js';
import { attachIntegrityKey, detachIntegrityKey } from '../core/profile/integrity.js';
import { requireListed, sessionClosed, signIn as unlockWithLockout } from '../core/services/session.js';
import type { Context, Scope } from '../core/context.js';
import { signerOf, writeCheckpoint } from '../core/services/audit.js';
import type { HandlerOptions } from './ports.js';
import { retentionAtStart, type RetentionNotice } from '../core/authority/convention-retention.js';
import { today } from '../core/authority/convention-object.js';

export const notSignedIn = () => securityError('not-signed-in', 'Aucune personne n’est connectée : connectez-vous avec votre phrase de passe, puis recommencez.');

/** A copy of the session's keys for one service call: the services wipe what they are given. */
function lend(identity: UnlockedIdentity): UnlockedIdentity {
  const keySets = identity.keySets.map((k) => ({ ...k, encSecret: Uint8Array.from(k.encSecret), sigSecret: Uint8Array.from(k.sigSecret) }));
  return {
    id: identity.id, name: identity.name, keySets, current: keySets[keySets.length - 1]!, integrityKey: null,
    wipe: () => keySets.forEach((k) => { k.encSecret.fill(0); k.sigSecret.fill(0); }),
  };
}

/** The mailbox watcher, as the session drives it: started at sign-in, stopped before sign-out. */
export interface SessionWatcher { start(): void; stop(): Promise<void>; abort(): void }

export type Session = ReturnType<typeof createSession>;

export function createSession(options: Pick<HandlerOptions, 'home' | 'emitProgress'>) {
  const { home } = options;
  let opened: Profile | null = null;
  let session: UnlockedIdentity | null = null;
  /** Set when the session's key was unlocked or lent during the current call: checkpoint after it. */
  let keyUsed = false;
  let watcher: SessionWatcher = { start: () => undefined, stop: async () => undefined, abort: () => undefined };
  /** The day of the last retention run of this session, and what it did (null: nothing to say). */
  let retention: { day: string; notice: RetentionNotice | null } | null = null;
  /** What the channels keep for the signed-in person only (the indicators' states): forgotten at sign-out. */
  const forgetAtSignOut = new Set<() => void>();

  const profile = (): Profile => {
    opened ??= openProfile(home);
    return opened;
  };
  const requireSession = (): UnlockedIdentity => {
    if (!session) throw notSignedIn();
    return session;
  };
  const signCheckpoint = async (): Promise<void> => {
    if (!keyUsed || !session || !opened) return;
    keyUsed = false;
    await writeCheckpoint(opened, signerOf(session));
  };
  /** Runs the retention once a day per session (set before the run: two calls never both run it). */
  const retentionOfTheDay = async (): Promise<void> => {
    const active = session;
    const day = today();
    if (!active || retention?.day === day) return;
    retention = { day, notice: retention?.notice ?? null };
    const notice = await retentionAtStart(makeContext(active), active.id, day);
    if (notice && session === active) retention = { day, notice };
  };
  /** After every call: the retention when the day changed, then the checkpoint. */
  const checkpoint = async (): Promise<void> => {
    await retentionOfTheDay().catch(() => undefined); // never fails the call: tried again at the next sign-in
    await signCheckpoint();
  };
  /** Audits the sign-out, checkpoints the chain with the key one last time, then wipes it. */
  const signOut = async (): Promise<boolean> => {
    if (!session) return false;
    const ending = session;
    await watcher.stop();
    if (opened) {
      sessionClosed(opened, ending);
      keyUsed = true;
      try {
        await signCheckpoint();
      } catch {
        // The next checkpoint will cover these events; signing out must always succeed.
      }
    }
    ending.wipe();
    // The integrity key leaves with the person: no sealed write without a signed-in person.
    if (opened) detachIntegrityKey(opened.db);
    if (session === ending) session = null;
    keyUsed = false;
    retention = null;
    for (const forget of forgetAtSignOut) forget();
    return true;
  };
  /** The services' context: its unlocker lends `active`'s keys, and only theirs. */
  const makeContext = (active: UnlockedIdentity): Context => ({
    profile: profile(),
    actor: () => active.id,
    unlocker: {
      unlock: async (row: IdentityRow) => {
        if (session !== active) throw notSignedIn(); // signed out meanwhile (a background watcher)
        if (row.id !== active.id) {
          throw securityError('other-identity', `Cette opération demande les clés de ${row.name}, qui n’est pas la personne connectée : connectez-vous sous ce nom.`);
        }
        keyUsed = true;
        return lend(active);
      },
    },
  });

  return {
    home,
    profile,
    checkpoint,
    signOut,
    /** Registers what to forget at every sign-out (a channel's state kept for the person). */
    onSignOut: (forget: () => void): void => void forgetAtSignOut.add(forget),
    /** The profile when it is opened (without opening it). */
    opened: (): Profile | null => opened,
    /** Whether there is a profile at all (opened, or on disk). */
    exists: (): boolean => opened !== null || isProfile(home),
    /** Keeps the profile a `profile:init` just made, unless one is already open. */
    adopt(made: Profile): void {
      if (opened) made.close();
      else opened = made;
    },
    active: (): UnlockedIdentity | null => session,
    require: requireSession,
    /** After a dialog: refuses when `active` signed out (or someone else signed in) meanwhile. */
    still(active: UnlockedIdentity): void {
      if (session !== active) throw notSignedIn();
    },
    useWatcher(next: SessionWatcher): void {
      watcher = next;
    },
    /** The profile and the person acting (the signed-in person, if any), for the core's
     * operations that need no key: the core writes their events with this actor. */
    scope(): Scope {
      return { profile: profile(), actor: () => session?.id ?? null };
    },
    /** The services' context: its unlocker lends the signed-in person's keys, and only theirs. */
    context(): Context {
      return makeContext(requireSession());
    },
    /** What the retention run of this session did (docs/convention.md 8.1), for the inbox's notice. */
    retentionNotice: (): RetentionNotice | null => retention?.notice ?? null,
    async signIn(opId: string, id: string, passphrase: string): Promise<UnlockedIdentity> {
      const p = profile();
      const row = getIdentity(p.db, id);
      if (!row || row.own !== 1) throw inputError('unknown-id', 'Cette personne n’a pas de clés sur ce poste : choisissez votre nom dans la liste.');
      // The nominative list (core): checked before the passphrase, no key is unlocked for anyone else.
      requireListed(p, row);
      options.emitProgress({ opId, phase: 'unlock', done: 0, total: 1 });
      // The core's sign-in enforces the lockout after repeated wrong passphrases and audits every attempt.
      const unlocked = await unlockWithLockout(p, row, passphrase);
      options.emitProgress({ opId, phase: 'done', done: 1, total: 1 });
      await signOut();
      // The unlock attached the integrity key (and verified the seal); the sign-out of the previous
      // person detached it: attach this person's again for the length of the session.
      if (unlocked.integrityKey) attachIntegrityKey(p.db, unlocked.integrityKey);
      session = unlocked;
      keyUsed = true;
      watcher.start();
      // The retention at start: what has passed its retention is destroyed now (never fails the sign-in).
      await retentionOfTheDay().catch(() => undefined);
      return unlocked;
    },
    /** Synchronous (application quit): the keys are wiped; the events since the last checkpoint
     * (at most this sign-out) are covered by the next session's first checkpoint. */
    close(): void {
      watcher.abort();
      if (session) {
        if (opened) sessionClosed(opened, session);
        session.wipe();
        session = null;
      }
      if (opened) detachIntegrityKey(opened.db);
      opened?.close();
      opened = null;
    },
  };
}
