// Issue 13: the inbox rows' MAC key HKDF(K, "pli/v1/integrity/inbox") (and the trust seal's) is
// derived once while K is attached, not once per row; it is wiped with K at sign-out, and a
// replaced K never seals with the old one's subkey. HKDF is observed through the primitives module.
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { randomBytes } from 'node:crypto';

vi.mock('../../electron/core/crypto/primitives.js', async (original) => (await import('./hkdf-spy.js')).recordingHkdf(original));

const { derivations } = await import('./hkdf-spy.js');

const { scratchProfiles } = await import('./scratch.js');
const { createIdentity, unlockIdentity } = await import('../../electron/core/profile/identities.js');
const { attachIntegrityKey, checkInboxRowMac, detachIntegrityKey, integrityKeyOf, verifyTrustSeal } = await import('../../electron/core/profile/integrity.js');
const { getInboxRow, ingest } = await import('../../electron/core/mail/inbox.js');
const { KDF_INFO } = await import('../../electron/core/crypto/labels.js');
const { sealSentFiles, sentFilesOf } = await import('../../electron/core/mail/sent-files.js');
type Profile = import('../../electron/core/profile/profile.js').Profile;
type Context = import('../../electron/core/context.js').Context;

const PASS = 'une phrase de passe de test';
const LIGHT = { opslimit: 1, memlimitKib: 8 };
const { profile } = scratchProfiles('pli-subkeys-');

async function station(): Promise<{ p: Profile; ctx: Context; id: string }> {
  const p = profile();
  const { id } = await createIdentity(p.db, { name: 'Alice Martin', email: 'mairie@nancy.fr', org: 'Mairie de Nancy' }, PASS, LIGHT);
  detachIntegrityKey(p.db);
  (await unlockIdentity(p.db, id, PASS)).wipe();
  return { p, id, ctx: { profile: p, unlocker: { unlock: (row) => unlockIdentity(p.db, row.id, PASS) } } };
}

const inboxDerivations = () => derivations.filter((d) => d.info === KDF_INFO.integrityInbox);
const sealDerivations = () => derivations.filter((d) => d.info === KDF_INFO.integrityTrust);

beforeEach(() => {
  derivations.length = 0;
});

describe('integrity subkeys', () => {
  it('the inbox MAC key is derived once for many rows, and the trust seal key once for many checks', async () => {
    const { p, ctx } = await station();
    derivations.length = 0;
    const rows = [];
    for (let i = 0; i < 4; i++) rows.push((await ingest(ctx, randomBytes(300), 'folder', `cle-usb-${i}.pli`)).row);
    for (const row of rows) expect(checkInboxRowMac(p.db, getInboxRow(p.db, row.id)!)).toBe('sealed');
    for (let i = 0; i < 4; i++) verifyTrustSeal(p.db);
    expect(inboxDerivations()).toHaveLength(1);
    expect(sealDerivations(), 'derived at the sign-in\'s own seal check, kept since').toHaveLength(0);
  });

  it('wiped at sign-out; a key attached again derives afresh, and another key never uses the old subkey', async () => {
    const { p, ctx, id } = await station();
    derivations.length = 0;
    const first = (await ingest(ctx, randomBytes(300), 'folder', 'a.pli')).row;
    const kept = inboxDerivations().map((d) => d.out);
    expect(kept).toHaveLength(1);
    expect(kept[0]!.equals(Buffer.alloc(32))).toBe(false);
    detachIntegrityKey(p.db);
    expect(kept[0]!.equals(Buffer.alloc(32)), 'the derived key is zeroed at sign-out').toBe(true);
    expect(integrityKeyOf(p.db)).toBeUndefined();

    // Another K (as a forged hand-over would bring): its MACs differ, the old row no longer verifies.
    // The seal check fails (other key) and the key stays attached: no decision reads the state unverified.
    expect(() => attachIntegrityKey(p.db, randomBytes(32))).toThrow(/modifié en dehors de Pli/);
    expect(() => checkInboxRowMac(p.db, getInboxRow(p.db, first.id)!)).toThrow(/modifié en dehors de Pli/);
    detachIntegrityKey(p.db);

    (await unlockIdentity(p.db, id, PASS)).wipe();
    derivations.length = 0;
    expect(checkInboxRowMac(p.db, getInboxRow(p.db, first.id)!)).toBe('sealed');
    expect(inboxDerivations()).toHaveLength(1);
  });

  it('the outbox names key too: derived once for many rows, zeroed at sign-out, and then no row reads', async () => {
    const { p } = await station();
    const insert = p.db.prepare(`INSERT INTO outbox (container_id, sender_id, transport, destination, message_id, path, size, state, attempts, next_attempt_at, queued_at)
      VALUES (?, 'k7m2p4', 'mail', 'mairie@x.test', ?, '/tmp/x.pli', 10, 'queued', 0, 0, 0)`);
    const ids = [1, 2, 3].map((i) => Number(insert.run(String(i).repeat(32), `<pli.${i}@x.test>`).lastInsertRowid));
    derivations.length = 0;
    sealSentFiles(p.db, ids, [{ name: 'IS101_T3_2026.xls', size: 48_128 }]);
    const rows = ids.map((id) => p.db.prepare('SELECT id, container_id, sender_id, destination, files_sealed FROM outbox WHERE id = ?').get(id) as Parameters<typeof sentFilesOf>[1]);
    for (const row of rows) expect(sentFilesOf(p.db, row)).toEqual({ state: 'known', files: [{ name: 'IS101_T3_2026.xls', size: 48_128 }] });
    const kept = derivations.filter((d) => d.info === KDF_INFO.outboxFiles).map((d) => d.out);
    expect(kept).toHaveLength(1);
    detachIntegrityKey(p.db);
    expect(kept[0]!.equals(Buffer.alloc(32)), 'the derived key is zeroed at sign-out').toBe(true);
    expect(sentFilesOf(p.db, rows[0]!)).toEqual({ state: 'locked' });
  });
});
