// The seal of an outbox row's time (docs/profile.md, "Outbox rows: the time sent"), in process: a
// real profile in a temporary folder, the attacker of the threat model played with direct SQL on
// the same database (no passphrase). The MAC covers every field the register dates and groups a
// sent container by, NULL apart from 0; its writers seal a new row with the key, NULL without, and
// carry the seal across an update only from a MAC that verified; the register dates a container
// from the sealed columns alone, so flipping `state` cannot move it into another year. The CLI
// side (`pli register` on an edited profile) is in test/cli/convention-print.test.ts.
import { describe, expect, it } from 'vitest';
import type { Profile } from '../../electron/core/profile/profile.js';
import { checkOutboxTimeMac, detachIntegrityKey, outboxTimeCanonical, outboxTimeMac, type OutboxTimeFields } from '../../electron/core/profile/integrity.js';
import { sealNewOutboxRows, updateOutboxTimed } from '../../electron/core/mail/outbox-time.js';
import { registerRows } from '../../electron/core/mail/register.js';
import { tamperedRefusal } from './refused.js';
import { stations } from './stations.js';

const newStation = stations('pli-outbox-time-');
/** A profile with one holder, the sender of its rows; `signedIn`: the integrity key attached. */
const station = async (signedIn: boolean) => {
  const { p, id } = await newStation(signedIn);
  return { p, sender: id };
};
let counter = 0;

// Local noon, two days across a new year: a container queued on 31 December, sent on 1 January.
const DEC31 = new Date(2026, 11, 31, 12).getTime();
const JAN1 = new Date(2027, 0, 1, 12).getTime();

/** A row as queueSend writes it (then sealed in the same transaction, as Pli does). */
function insertRow(p: Profile, sender: string, values: { container?: string; destination?: string; queued: number; sent: number | null; kind?: string | null }): number {
  return p.db.transaction(() => {
    const id = Number(p.db.prepare(`INSERT INTO outbox (container_id, sender_id, transport, destination, message_id, path, size, state, attempts, next_attempt_at, queued_at, sent_at, object_kind)
      VALUES (?, ?, 'mail', ?, ?, '/nulle/part.pli', 1000, ?, 0, 0, ?, ?, ?)`)
      .run(values.container ?? 'c'.repeat(32), sender, values.destination ?? 'mairie@saint-laurent-blangy.fr', `<pli.${counter++}.${Math.random()}@test>`,
        values.sent === null ? 'queued' : 'sent', values.queued, values.sent, values.kind ?? null).lastInsertRowid);
    sealNewOutboxRows(p.db, [id]);
    return id;
  })();
}
const macOf = (p: Profile, id: number) => p.db.prepare('SELECT time_mac FROM outbox WHERE id = ?').pluck().get(id) as Buffer | null;
const row = (p: Profile, id: number) => p.db.prepare('SELECT * FROM outbox WHERE id = ?').get(id) as OutboxTimeFields & { time_mac: Buffer | null };
const expectTampered = (action: () => unknown) =>
  expect(tamperedRefusal(action).message).toMatch(/modifié en dehors de Pli \(envoi n° \d+ de la file d'envoi/);

describe('outbox row time MAC: the canonical bytes', () => {
  const base: OutboxTimeFields = {
    id: 7, container_id: 'a'.repeat(32), sender_id: 'id-alice', transport: 'mail', destination: 'mairie@saint-laurent-blangy.fr',
    queued_at: DEC31, sent_at: JAN1, object_kind: null,
  };

  it('change with every covered field; NULL and 0 (or an empty kind) differ', async () => {
    const { p } = await station(true);
    const mac = (fields: OutboxTimeFields) => outboxTimeMac(p.db, fields)!.toString('hex');
    const variants: OutboxTimeFields[] = [
      { ...base, id: 8 }, { ...base, container_id: 'b'.repeat(32) }, { ...base, sender_id: 'id-bruno' }, { ...base, transport: 'folder' },
      { ...base, destination: 'cpn@arras.fr' }, { ...base, queued_at: DEC31 - 1 }, { ...base, sent_at: JAN1 - 366 * 86_400_000 },
      { ...base, sent_at: null }, { ...base, sent_at: 0 }, { ...base, object_kind: 'receipt' }, { ...base, object_kind: '' },
    ];
    const macs = [base, ...variants].map(mac);
    expect(new Set(macs).size).toBe(macs.length);
    expect(outboxTimeMac(p.db, { ...base })!.toString('hex')).toBe(macs[0]);
    expect(macs[0]).toHaveLength(64);
    // NULL and 0 are told apart in the bytes themselves, not only by the key.
    expect(outboxTimeCanonical({ ...base, sent_at: null }).equals(outboxTimeCanonical({ ...base, sent_at: 0 }))).toBe(false);
    // Fields run together cannot be re-cut: each is length-prefixed.
    expect(mac({ ...base, sender_id: 'ab', destination: 'c' })).not.toBe(mac({ ...base, sender_id: 'a', destination: 'bc' }));
  });

  it('is keyed: no key attached, no MAC; another profile\'s key, another MAC', async () => {
    const { p: off } = await station(false);
    expect(outboxTimeMac(off.db, base)).toBeNull();
    const { p: one } = await station(true);
    const { p: two } = await station(true);
    expect(outboxTimeMac(one.db, base)!.equals(outboxTimeMac(two.db, base)!)).toBe(false);
  });
});

describe('outbox row time MAC: the writers', () => {
  it('a new row is sealed with the key, NULL without it', async () => {
    const { p, sender } = await station(true);
    const id = insertRow(p, sender, { queued: DEC31, sent: null });
    expect(macOf(p, id)).toHaveLength(32);
    expect(checkOutboxTimeMac(p.db, row(p, id))).toBe('sealed');
    const { p: off, sender: other } = await station(false);
    expect(macOf(off, insertRow(off, other, { queued: DEC31, sent: null }))).toBeNull();
  });

  it('an update of a sealed row re-seals it over the new values; without the key it becomes NULL, never the old MAC', async () => {
    const { p, sender } = await station(true);
    const id = insertRow(p, sender, { queued: DEC31, sent: null });
    const before = macOf(p, id)!;
    updateOutboxTimed(p.db, id, () => p.db.prepare("UPDATE outbox SET state = 'sent', sent_at = ? WHERE id = ?").run(JAN1, id));
    expect(macOf(p, id)!.equals(before)).toBe(false);
    expect(checkOutboxTimeMac(p.db, row(p, id))).toBe('sealed');
    // A compare-and-set that did not apply changes nothing covered: the MAC stays.
    const sealed = macOf(p, id)!;
    updateOutboxTimed(p.db, id, () => p.db.prepare("UPDATE outbox SET sent_at = 1 WHERE id = ? AND state = 'queued'").run(id));
    expect(macOf(p, id)!.equals(sealed)).toBe(true);
    detachIntegrityKey(p.db);
    updateOutboxTimed(p.db, id, () => p.db.prepare('UPDATE outbox SET sent_at = ? WHERE id = ?').run(JAN1 + 1, id));
    expect(macOf(p, id)).toBeNull();
  });

  it('an unsealed row is never sealed afterwards; a wrong MAC is left as found', async () => {
    const { p, sender } = await station(true);
    const unsealed = insertRow(p, sender, { queued: DEC31, sent: null });
    p.db.prepare('UPDATE outbox SET time_mac = NULL, queued_at = ? WHERE id = ?').run(DEC31 - 366 * 86_400_000, unsealed); // the attacker's
    updateOutboxTimed(p.db, unsealed, () => p.db.prepare("UPDATE outbox SET state = 'sent', sent_at = ? WHERE id = ?").run(JAN1, unsealed));
    expect(macOf(p, unsealed)).toBeNull();
    const wrong = insertRow(p, sender, { queued: DEC31, sent: null });
    p.db.prepare('UPDATE outbox SET queued_at = ? WHERE id = ?').run(DEC31 - 366 * 86_400_000, wrong); // the attacker's
    const found = macOf(p, wrong)!;
    updateOutboxTimed(p.db, wrong, () => p.db.prepare("UPDATE outbox SET state = 'sent', sent_at = ? WHERE id = ?").run(JAN1, wrong));
    expect(macOf(p, wrong)!.equals(found)).toBe(true);
    expectTampered(() => checkOutboxTimeMac(p.db, row(p, wrong)));
  });
});

describe('outbox row time MAC: the register', () => {
  it('dates a sent container by its sealed times: a state flipped outside Pli does not move it into another year', async () => {
    const { p, sender } = await station(true);
    const id = insertRow(p, sender, { queued: DEC31, sent: JAN1 });
    const listed = (year: number) => registerRows(p.db, year).filter((r) => r.direction === 'sent');
    expect(listed(2027).map((r) => [r.at, r.proven])).toEqual([[JAN1, true]]);
    expect(listed(2026)).toEqual([]);
    // Unsealed, the old register took the queue time of a row no longer 'sent': the year before.
    p.db.prepare("UPDATE outbox SET state = 'failed' WHERE id = ?").run(id);
    expect(listed(2027).map((r) => [r.at, r.state])).toEqual([[JAN1, 'échec d’envoi']]);
    expect(listed(2026)).toEqual([]);
  });

  it('refuses the register when a row\'s time, container or kind was changed; lists an unsealed row as not proven', async () => {
    const { p, sender } = await station(true);
    const id = insertRow(p, sender, { queued: JAN1, sent: JAN1 });
    const edits = [
      'UPDATE outbox SET sent_at = sent_at - 366 * 86400000, queued_at = queued_at - 366 * 86400000',
      `UPDATE outbox SET container_id = '${'d'.repeat(32)}'`,
      "UPDATE outbox SET object_kind = 'receipt'",
    ];
    for (const edit of edits) {
      const saved = row(p, id);
      p.db.prepare(`${edit} WHERE id = ?`).run(id);
      expectTampered(() => registerRows(p.db, 2027));
      expectTampered(() => registerRows(p.db, 2026));
      p.db.prepare('UPDATE outbox SET sent_at = ?, queued_at = ?, container_id = ?, object_kind = ? WHERE id = ?').run(saved.sent_at, saved.queued_at, saved.container_id, saved.object_kind, id);
    }
    expect(registerRows(p.db, 2027).map((r) => r.proven)).toEqual([true]);
    p.db.prepare('UPDATE outbox SET time_mac = NULL WHERE id = ?').run(id);
    expect(registerRows(p.db, 2027).map((r) => [r.direction, r.proven])).toEqual([['sent', false]]);
  });
});
