// Private keys left in memory after a refused unlock (issue 11): the attacker of docs/profile.md
// damages one sealed key set in the database; the unlock is refused, and every private key it
// had already opened must be zeroed, not left to the garbage collector.
import { afterAll, describe, expect, it, vi } from 'vitest';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { initProfile, type Profile } from '../../electron/core/profile/profile.js';
import { createIdentity, rotateIdentity, unlockIdentity } from '../../electron/core/profile/identities.js';

// The encryption secrets the unlock handed to the public-key derivation: the very buffers it keeps.
const seen: Uint8Array[] = [];
vi.mock('../../electron/core/crypto/keys.js', async (importOriginal) => {
  const original = await importOriginal<typeof import('../../electron/core/crypto/keys.js')>();
  return { ...original, xwingPublicFromSecret: (secret: Uint8Array) => { seen.push(secret); return original.xwingPublicFromSecret(secret); } };
});

const PASS = 'une phrase de passe de test';
const LIGHT = { opslimit: 1, memlimitKib: 8 };
const root = mkdtempSync(path.join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'pli-zeroing-unit-'));
const opened: Profile[] = [];
afterAll(() => {
  opened.forEach((p) => p.close());
  rmSync(root, { recursive: true, force: true });
});

async function rotatedPerson(): Promise<{ p: Profile; id: string }> {
  const { profile: p } = initProfile(path.join(root, `profile-${opened.length}`));
  opened.push(p);
  const { id } = await createIdentity(p.db, { name: 'Agent Test', email: 'agent@example.fr', org: 'Mairie' }, PASS, LIGHT);
  await rotateIdentity(p.db, id, PASS);
  return { p, id };
}

describe('unlockIdentity on a damaged key set', () => {
  it('zeroes the key sets it had opened when a later one does not open', async () => {
    const { p, id } = await rotatedPerson();
    // Attacker: flips a byte of the second sealed key set (no passphrase needed).
    const row = p.db.prepare('SELECT sealed FROM secrets WHERE identity_id = ? AND key_set = 2').get(id) as { sealed: Buffer };
    row.sealed[0] = row.sealed[0]! ^ 1;
    p.db.prepare('UPDATE secrets SET sealed = ? WHERE identity_id = ? AND key_set = 2').run(row.sealed, id);
    // The unlock takes public keys from the profile (keys-stored.test.ts); without the first set's
    // stored row it derives that key again, which hands this test the very secret it keeps.
    p.db.prepare("DELETE FROM keys WHERE identity_id = ? AND kind = 'xwing' AND key_set = 1").run(id);
    seen.length = 0;
    await expect(unlockIdentity(p.db, id, PASS)).rejects.toMatchObject({ code: 'corrupt-secrets' });
    expect(seen.length).toBe(1);
    expect(seen.every((s) => s.every((b) => b === 0))).toBe(true);
  });

});
