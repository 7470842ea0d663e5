// What every service call needs: the open profile, and a way to obtain an unlocked identity.
// The CLI unlocks with a passphrase read from a file, the environment or a hidden prompt; the
// desktop app hands over the identity of the signed-in session. Either way private keys stay in
// this (main) process.
// At the core's root, not in services/: the authority takes a Context too, and a floor may only
// import from the floors below it (eslint.config.js): crypto < container, profile < this file <
// authority < services < mail.
import type { Profile } from './profile/profile.js';
import type { IdentityRow, UnlockedIdentity } from './profile/identities.js';
import { appendEvent, type EventInput } from './profile/events.js';

export interface Unlocker {
  unlock(identity: IdentityRow): Promise<UnlockedIdentity>;
  /** The container password (password recipients), when one was given. */
  containerPassword?(): Promise<string | null>;
}

export interface Context {
  profile: Profile;
  unlocker: Unlocker;
}

export function audit(context: { profile: Profile }, event: EventInput): void {
  appendEvent(context.profile.db, context.profile.workstation, event);
}
