// One passphrase's Argon2id started before a command's code has loaded (electron/cli/early.ts),
// so that the ~0.1 s that loading takes runs beside it instead of before it (bench/README.md,
// "Issue 13 on the AMD EPYC it names"). The unlock takes it only when its own inputs are the same
// bytes: the passphrase, and the salt and parameters it reads itself from the profile (a row
// changed in between is read again there, and this derivation is then discarded). It is never a
// way in: its key is tried, as any other, after the lockout's count (identities.ts openMaster).
import type { Argon2Params } from './argon2.js';

interface Early {
  passphrase: string;
  salt: Buffer;
  params: Argon2Params;
  key: Promise<Buffer>;
}

let early: Early | null = null;

/** Starts `derive` (aead.ts deriveUnlockKey, given by the caller: that module takes the key, so
 * this one does not import it) on these inputs now. The very derivation the unlock would make,
 * not a copy of it: a key taken for the same inputs is the same key. */
export function startEarlyUnlock(passphrase: string, salt: Uint8Array, params: Argon2Params,
  derive: (passphrase: string, salt: Uint8Array, params: Argon2Params) => Promise<Buffer>): void {
  if (early) return;
  const key = derive(passphrase, salt, params);
  key.catch(() => undefined); // answered to the unlock that takes it, or dropped
  early = { passphrase, salt: Buffer.from(salt), params: { ...params }, key };
}

/**
 * The early key when it was derived from exactly these inputs (taken once): `key`. Otherwise
 * `ended`, once the early derivation has ended and its key is wiped (never two derivations' memory
 * at once); null when there was none. Synchronous: with none, the caller's own derivation starts
 * at once, as before.
 */
export function takeEarlyUnlock(passphrase: string, salt: Uint8Array, params: Argon2Params): { key: Promise<Buffer> } | { ended: Promise<void> } | null {
  const found = early;
  if (!found) return null;
  early = null;
  if (found.passphrase === passphrase && found.salt.equals(salt)
    && found.params.opslimit === params.opslimit && found.params.memlimitKib === params.memlimitKib) {
    return { key: found.key };
  }
  return { ended: found.key.then((key) => void key.fill(0), () => undefined) };
}

/** The command has ended without taking it (it failed first, or unlocked no one): its key is
 * wiped as soon as it comes. */
export function dropEarlyUnlock(): void {
  const found = early;
  early = null;
  void found?.key.then((key) => key.fill(0), () => undefined);
}

/** Tests: whether an early derivation is waiting to be taken. */
export function earlyUnlockPendingForTests(): boolean {
  return early !== null;
}
