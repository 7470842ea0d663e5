// One workstation profile with one holder, in a scratch folder deleted after the file's tests:
// the set-up of the in-process tests of the profile's row seals (inbox-mac, outbox-time-mac),
// where the attacker of the threat model is played with direct SQL on the same database.
import { afterAll, expect } from 'vitest';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { initProfile, type Profile } from '../../electron/core/profile/profile.js';
import { createIdentity, unlockIdentity } from '../../electron/core/profile/identities.js';
import { detachIntegrityKey, integrityKeyOf } from '../../electron/core/profile/integrity.js';
import { closeProfiles } from './helpers.js';

export const STATION_PASS = 'une phrase de passe de test';
const LIGHT = { opslimit: 1, memlimitKib: 8 };

/** `station(signedIn)` makes a profile whose holder is Alice Martin; `signedIn`: the integrity
 * key attached, as after any unlock (checked). Call at a test file's top level. */
export function stations(prefix: string): (signedIn: boolean) => Promise<{ p: Profile; id: string }> {
  const root = mkdtempSync(path.join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), prefix));
  const opened: Profile[] = [];
  afterAll(() => closeProfiles(opened, root));
  return async (signedIn) => {
    const { profile: p } = initProfile(path.join(root, `profile-${opened.length}`));
    opened.push(p);
    const { id } = await createIdentity(p.db, { name: 'Alice Martin', email: 'police@nancy.fr', org: 'Police municipale' }, STATION_PASS, LIGHT);
    detachIntegrityKey(p.db);
    if (signedIn) (await unlockIdentity(p.db, id, STATION_PASS)).wipe();
    expect(integrityKeyOf(p.db) !== undefined).toBe(signedIn);
    return { p, id };
  };
}
