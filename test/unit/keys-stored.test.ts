// Issue 13: the unlock takes an own identity's X-Wing public keys from the profile (table `keys`)
// instead of deriving them from the private seeds (one ML-KEM-768 key generation per key set, the
// largest part of the fixed cost left in JavaScript). The attacker of docs/profile.md can write
// that table: a stored public key is used only when its fingerprint is the one sealed with the
// private keys (secrets.enc_fpr, authenticated as AAD under the passphrase's master key); any other
// is ignored and the key derived. Each test below plays that attacker with better-sqlite3 on the
// profile's own database, and loses: the key in use is always the one the seed gives.
import { afterAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { initProfile, type Profile } from '../../electron/core/profile/profile.js';
import { createIdentity, rotateIdentity, storeOwnIdentity, unlockIdentity, generateKeys } from '../../electron/core/profile/identities.js';
import { xwingKeygen } from '../../electron/core/crypto/keys.js';
import { fingerprint } from '../../electron/core/crypto/primitives.js';

// Counts the public-key derivations (ML-KEM-768 key generations) the code under test asks for.
const derived: Uint8Array[] = [];
vi.mock('../../electron/core/crypto/keys.js', async (importOriginal) => {
  const original = await importOriginal<typeof import('../../electron/core/crypto/keys.js')>();
  return { ...original, xwingPublicFromSecret: (secret: Uint8Array) => { derived.push(secret); return original.xwingPublicFromSecret(secret); } };
});

const PASS = 'une phrase de passe de test';
const LIGHT = { opslimit: 1, memlimitKib: 8 };
const PERSON = { name: 'Agent Test', email: 'agent@example.fr', org: 'Mairie' };
const root = mkdtempSync(path.join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'pli-keys-stored-'));
const opened: Profile[] = [];
afterAll(() => {
  opened.forEach((p) => p.close());
  rmSync(root, { recursive: true, force: true });
});
beforeEach(() => {
  derived.length = 0;
});

async function person(rotations = 0): Promise<{ p: Profile; id: string; publics: Buffer[] }> {
  const { profile: p } = initProfile(path.join(root, `profile-${opened.length}`));
  opened.push(p);
  const { id } = await createIdentity(p.db, PERSON, PASS, LIGHT);
  for (let i = 0; i < rotations; i++) await rotateIdentity(p.db, id, PASS);
  const publics = p.db.prepare("SELECT public_key FROM keys WHERE identity_id = ? AND kind = 'xwing' ORDER BY key_set").pluck().all(id) as Buffer[];
  derived.length = 0;
  return { p, id, publics };
}

const xwingRow = (p: Profile, id: string, keySet: number) =>
  p.db.prepare("SELECT fpr, public_key FROM keys WHERE identity_id = ? AND kind = 'xwing' AND key_set = ?").get(id, keySet) as { fpr: Buffer; public_key: Buffer };

describe('the unlock reads the own public keys from the profile', () => {
  it('derives none of them when the stored keys are intact (one ML-KEM key generation less per key set)', async () => {
    const { p, id, publics } = await person(1);
    const unlocked = await unlockIdentity(p.db, id, PASS);
    expect(derived).toHaveLength(0);
    expect(unlocked.keySets.map((k) => Buffer.from(k.encPublic))).toEqual(publics);
    unlocked.wipe();
  });

  it('a stored key that is missing is derived again from the private seed (the same key)', async () => {
    const { p, id, publics } = await person(1);
    p.db.prepare('DELETE FROM keys WHERE fpr = ?').run(xwingRow(p, id, 1).fpr);
    const unlocked = await unlockIdentity(p.db, id, PASS);
    expect(derived).toHaveLength(1);
    expect(unlocked.keySets.map((k) => Buffer.from(k.encPublic))).toEqual(publics);
    unlocked.wipe();
  });
});

describe('the attacker of docs/profile.md plants a public key of their own', () => {
  it('in place of the current one, fingerprint left as it was: it does not hash to the sealed fingerprint, the real key is derived and used', async () => {
    const { p, id, publics } = await person();
    const planted = Buffer.from((await xwingKeygen()).publicKey);
    p.db.prepare('UPDATE keys SET public_key = ? WHERE fpr = ?').run(planted, xwingRow(p, id, 1).fpr);
    const unlocked = await unlockIdentity(p.db, id, PASS);
    expect(derived).toHaveLength(1);
    expect(Buffer.from(unlocked.current.encPublic)).toEqual(publics[0]);
    unlocked.wipe();
  });

  it('a key one bit away from the real one, fingerprint left as it was: not used either', async () => {
    const { p, id, publics } = await person();
    const planted = Buffer.from(publics[0]!);
    planted[100] = planted[100]! ^ 1;
    p.db.prepare('UPDATE keys SET public_key = ? WHERE fpr = ?').run(planted, xwingRow(p, id, 1).fpr);
    const unlocked = await unlockIdentity(p.db, id, PASS);
    expect(Buffer.from(unlocked.current.encPublic)).toEqual(publics[0]);
    unlocked.wipe();
  });

  it('with a fingerprint to match: the row no longer has the sealed fingerprint, so the real key is derived and the planted one never used', async () => {
    const { p, id, publics } = await person();
    const planted = Buffer.from((await xwingKeygen()).publicKey);
    p.db.prepare('UPDATE keys SET public_key = ?, fpr = ? WHERE fpr = ?').run(planted, fingerprint('xwing', planted), xwingRow(p, id, 1).fpr);
    const unlocked = await unlockIdentity(p.db, id, PASS);
    expect(Buffer.from(unlocked.current.encPublic)).toEqual(publics[0]);
    expect(Buffer.from(unlocked.current.encPublic)).not.toEqual(planted);
    expect(unlocked.current.encFpr).toEqual(fingerprint('xwing', publics[0]!));
    unlocked.wipe();
  });

  it('with the sealed fingerprint changed to match it too: the sealed keys no longer open (refused)', async () => {
    const { p, id } = await person();
    const planted = Buffer.from((await xwingKeygen()).publicKey);
    const fpr = fingerprint('xwing', planted);
    p.db.prepare('UPDATE keys SET public_key = ?, fpr = ? WHERE fpr = ?').run(planted, fpr, xwingRow(p, id, 1).fpr);
    p.db.prepare('UPDATE secrets SET enc_fpr = ? WHERE identity_id = ?').run(fpr, id);
    await expect(unlockIdentity(p.db, id, PASS)).rejects.toMatchObject({ kind: 'security', code: 'corrupt-secrets' });
  });

  it('by swapping the rows of two key sets: each key set still gets its own public key', async () => {
    const { p, id, publics } = await person(1);
    const one = xwingRow(p, id, 1);
    const two = xwingRow(p, id, 2);
    // The rows keep their fingerprints (the primary key) but trade key sets and dates.
    p.db.prepare("UPDATE keys SET key_set = 3 WHERE fpr = ?").run(one.fpr);
    p.db.prepare('UPDATE keys SET key_set = 1 WHERE fpr = ?').run(two.fpr);
    p.db.prepare('UPDATE keys SET key_set = 2 WHERE fpr = ?').run(one.fpr);
    const unlocked = await unlockIdentity(p.db, id, PASS);
    expect(unlocked.keySets.map((k) => Buffer.from(k.encPublic))).toEqual(publics);
    unlocked.wipe();
  });
});

describe('what the unlock trusts is checked when it is stored', () => {
  it('a seed and a public key that do not belong together are never stored as an own identity', async () => {
    const { profile: p } = initProfile(path.join(root, `profile-${opened.length}`));
    opened.push(p);
    const keys = await generateKeys();
    const other = await xwingKeygen();
    const body = { v: 1 as const, id: 'a'.repeat(16), name: PERSON.name, email: PERSON.email, org: PERSON.org, created: Date.now(), xwing: Buffer.from(other.publicKey).toString('base64'), ed25519: Buffer.from(keys.sigPublic).toString('base64') };
    await expect(storeOwnIdentity(p.db, body, '{}', { ...keys, encPublic: other.publicKey }, PASS, LIGHT)).rejects.toMatchObject({ kind: 'security' });
    expect(p.db.prepare('SELECT COUNT(*) FROM identities').pluck().get()).toBe(0);
    expect(p.db.prepare('SELECT COUNT(*) FROM secrets').pluck().get()).toBe(0);
  });
});
