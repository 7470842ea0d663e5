// What every service call needs: the open profile, and a way to obtain an unlocked identity.
// The CLI unlocks with a passphrase read from a file, the environment or a hidden prompt; the
// desktop app hands over the identity of the signed-in session. Either way private keys stay in
// this (main) process.
// At the core's root, not in services/: the authority takes a Context too, and a floor may only
// import from the floors below it (eslint.config.js): crypto < container, profile < this file <
// authority < services < mail.
//
// The audit log has one owner: the core. Every state change writes its event in the core
// function that makes it (docs/audit.md, "Who writes what"); the CLI and the IPC layer write none
// (eslint.config.js forbids them `appendEvent`, `audit` and `audited`).
import { PliError } from './errors.js';
import type { Profile } from './profile/profile.js';
import type { IdentityRow, UnlockedIdentity } from './profile/identities.js';
import { appendEvent, type EventInput } from './profile/events.js';

export interface Unlocker {
  unlock(identity: IdentityRow): Promise<UnlockedIdentity>;
  /** The container password (password recipients), when one was given. */
  containerPassword?(): Promise<string | null>;
}

/** The profile and the person acting, for the core's operations that need no key. */
export interface Scope {
  profile: Profile;
  /** The person acting, the actor of the events: the desktop's signed-in person, or in the CLI
   * the person who gave their passphrase during this command; null when nobody proved who they
   * are (a CLI command that asks for no passphrase). Read when an event is written, not before:
   * the CLI learns it at the unlock. */
  actor?(): string | null;
}

export interface Context extends Scope {
  unlocker: Unlocker;
}

export const actorOf = (scope: Scope): string | null => scope.actor?.() ?? null;

export function audit(context: { profile: Profile }, event: EventInput): void {
  appendEvent(context.profile.db, context.profile.workstation, event);
}

/**
 * Runs a state change and writes its event: `ok(result)` once it is done; when the core refuses
 * it for security (PliError kind 'security'), a `refused` event with the refusal's code (actor:
 * the person acting, else `refusedActor`), then the refusal goes on. Input errors and faults
 * write nothing: they change nothing and say nothing about an attack.
 */
export async function audited<T>(
  scope: Scope, action: string, run: () => Promise<T>,
  ok: (result: T) => Omit<EventInput, 'action'>, refusedActor: string | null = null,
): Promise<T> {
  let result: T;
  try {
    result = await run();
  } catch (error) {
    if (error instanceof PliError && error.kind === 'security') {
      audit(scope, { actor: actorOf(scope) ?? refusedActor, action, outcome: 'refused', detail: { reason: error.code } });
    }
    throw error;
  }
  audit(scope, { ...ok(result), action });
  return result;
}
