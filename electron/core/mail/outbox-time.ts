// The seal of an outbox row's time (migration 17, docs/profile.md "Outbox rows: the time sent"):
// every write of a column it covers (id, container, sender, transport, destination, queued_at,
// sent_at, object_kind) goes through here, in one transaction with its MAC. Invariants:
// - a row made by this process is sealed when the integrity key is attached, NULL without it;
// - an update carries the seal forward only from a MAC that verified just before it: an unsealed
//   row is never sealed afterwards (the attacker could have edited it), and a wrong MAC is left as
//   found, for the register to refuse; without the key the MAC becomes NULL, never a stale one.
import type { DB } from '../profile/profile.js';
import { checkOutboxTimeMac, outboxTimeMac, type OutboxTimeFields } from '../profile/integrity.js';
import { PliError } from '../errors.js';
import { prepared } from './statements.js';

type Sealed = OutboxTimeFields & { time_mac: Buffer | null };
const COVERED = ['id', 'container_id', 'sender_id', 'transport', 'destination', 'queued_at', 'sent_at', 'object_kind'] as const;
const read = (db: DB, id: number): Sealed | undefined =>
  prepared(db, 'SELECT id, container_id, sender_id, transport, destination, queued_at, sent_at, object_kind, time_mac FROM outbox WHERE id = ?').get(id) as Sealed | undefined;
const store = (db: DB, id: number, mac: Buffer | null): void => {
  prepared(db, 'UPDATE outbox SET time_mac = ? WHERE id = ?').run(mac, id);
};

/** Seals rows this process has just inserted (call inside the insert's transaction). */
export function sealNewOutboxRows(db: DB, ids: readonly number[]): void {
  for (const id of ids) {
    const row = read(db, id);
    if (row) store(db, id, outboxTimeMac(db, row));
  }
}

/** Whether the row's MAC verifies now: 'wrong' instead of throwing (a send is not stopped by it). */
function stateOf(db: DB, row: Sealed): 'sealed' | 'unproven' | 'wrong' {
  try {
    return checkOutboxTimeMac(db, row);
  } catch (error) {
    if (error instanceof PliError && error.code === 'profile-tampered') return 'wrong';
    throw error;
  }
}

/** Runs `write` (an UPDATE of row `id` touching covered columns) and its MAC in one transaction;
 * returns what `write` returned. */
export function updateOutboxTimed<T>(db: DB, id: number, write: () => T): T {
  return db.transaction(() => {
    const before = read(db, id);
    const was = before ? stateOf(db, before) : 'unproven';
    const result = write();
    const after = read(db, id);
    // Nothing covered changed (a compare-and-set that did not apply): the MAC stays as it is.
    if (!after || !before || was === 'wrong' || COVERED.every((column) => before[column] === after[column])) return result;
    store(db, id, was === 'sealed' ? outboxTimeMac(db, after) : null);
    return result;
  })();
}
