// The seal of an inbox row (docs/profile.md, "Inbox rows: the arrival time"), in process: a real
// profile in a temporary folder, the attacker of the threat model played with direct SQL on the
// same database (no passphrase). A row stored with the integrity key attached carries a MAC; its
// arrival time is used only when that MAC verifies; a wrong MAC is tampering; no MAC (or no key
// in hand) means the arrival is judged now. The CLI side (revocations, `pli open`) is in
// test/cli/tamper-profile.test.ts.
import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import type { Profile } from '../../electron/core/profile/profile.js';
import { unlockIdentity } from '../../electron/core/profile/identities.js';
import { checkInboxRowMac, detachIntegrityKey, inboxRowCanonical, type InboxMacFields } from '../../electron/core/profile/integrity.js';
import { getInboxRow, ingest, provenArrival, type InboxRow } from '../../electron/core/mail/inbox.js';
import type { Context } from '../../electron/core/context.js';
import { tamperedRefusal } from './refused.js';
import { stations, STATION_PASS } from './stations.js';

const PASS = STATION_PASS;
const newStation = stations('pli-inbox-mac-');

/** A profile with one holder and its context; `signedIn`: the integrity key attached. */
async function station(signedIn: boolean): Promise<{ p: Profile; ctx: Context }> {
  const { p } = await newStation(signedIn);
  return { p, ctx: { profile: p, unlocker: { unlock: (row) => unlockIdentity(p.db, row.id, PASS) } } };
}

async function received(ctx: Context): Promise<InboxRow> {
  return (await ingest(ctx, randomBytes(300), 'folder', 'cle-usb.pli')).row;
}

function expectTampered(action: () => unknown): void {
  expect(tamperedRefusal(action).message).toMatch(/modifié en dehors de Pli \(pli n° \d+ de la boîte de réception/);
}

describe('inbox row MAC', () => {
  it('written at receipt when the key is attached, in the stored row', async () => {
    const { p, ctx } = await station(true);
    const row = await received(ctx);
    expect(row.mac).toHaveLength(32);
    expect(getInboxRow(p.db, row.id)!.mac).toEqual(row.mac);
    expect(checkInboxRowMac(p.db, getInboxRow(p.db, row.id)!)).toBe('sealed');
    expect(provenArrival(p.db, getInboxRow(p.db, row.id)!)).toBe(row.arrived_at);
  });

  it('not written without the key, and never added by a later sign-in', async () => {
    const { p, ctx } = await station(false);
    const row = await received(ctx);
    expect(row.mac).toBeNull();
    const id = p.db.prepare("SELECT identity_id FROM unlock").pluck().get() as string;
    (await unlockIdentity(p.db, id, PASS)).wipe();
    expect(getInboxRow(p.db, row.id)!.mac).toBeNull();
    expect(checkInboxRowMac(p.db, getInboxRow(p.db, row.id)!)).toBe('unproven');
  });

  it('each covered column edited with SQL: profile-tampered', async () => {
    const { p, ctx } = await station(true);
    const edits: [string, unknown][] = [
      ['arrived_at', 'arrived_at - 86400000'], ['sha256', `'${'0'.repeat(64)}'`], ['size', 'size + 1'], ['source', "'imap'"],
      ['container_id', "'00'"], ['sender_id', "'k7m3q9x2hv4tp8wz'"], ['created_ms', '1'], ['id', 'id + 1000'],
    ];
    for (const [column, value] of edits) {
      const row = await received(ctx);
      p.db.prepare(`UPDATE inbox SET ${column} = ${String(value)} WHERE id = ?`).run(row.id);
      const edited = p.db.prepare('SELECT * FROM inbox WHERE mac = ?').get(row.mac) as InboxRow;
      expect(edited, column).toBeDefined();
      expectTampered(() => provenArrival(p.db, edited));
    }
  });

  it('a MAC swapped from another row, cut short, or planted at random: profile-tampered', async () => {
    const { p, ctx } = await station(true);
    const a = await received(ctx);
    const b = await received(ctx);
    for (const mac of [b.mac!, a.mac!.subarray(0, 16), randomBytes(32), Buffer.alloc(0)]) {
      p.db.prepare('UPDATE inbox SET mac = ? WHERE id = ?').run(mac, a.id);
      expectTampered(() => provenArrival(p.db, getInboxRow(p.db, a.id)!));
    }
    // A text where the BLOB belongs: STRICT refuses it; a MAC of the wrong type is still tampering.
    expectTampered(() => checkInboxRowMac(p.db, { ...getInboxRow(p.db, a.id)!, mac: 'x' as unknown as Buffer }));
  });

  it('no MAC, or no key in hand: the arrival is not proven, judged now', async () => {
    const { p, ctx } = await station(true);
    const row = await received(ctx);
    p.db.prepare('UPDATE inbox SET mac = NULL, arrived_at = 1 WHERE id = ?').run(row.id);
    const before = Date.now();
    expect(provenArrival(p.db, getInboxRow(p.db, row.id)!)).toBeGreaterThanOrEqual(before);
    const sealed = await received(ctx);
    detachIntegrityKey(p.db);
    expect(provenArrival(p.db, sealed)).toBeGreaterThanOrEqual(before);
  });

  it('the canonical bytes tell NULL from an empty value, and cover every field', () => {
    const base: InboxMacFields = { id: 1, sha256: 'ab'.repeat(32), size: 10, arrived_at: 5, source: 'folder', container_id: null, sender_id: null, created_ms: null };
    const seen = new Set<string>([inboxRowCanonical(base).toString('hex')]);
    const variants: Partial<InboxMacFields>[] = [
      { container_id: '' }, { sender_id: '' }, { created_ms: 0 }, { id: 2 }, { sha256: 'ac'.repeat(32) }, { size: 11 }, { arrived_at: 4 }, { source: 'imap' },
    ];
    for (const variant of variants) seen.add(inboxRowCanonical({ ...base, ...variant }).toString('hex'));
    expect(seen.size).toBe(variants.length + 1);
  });
});
