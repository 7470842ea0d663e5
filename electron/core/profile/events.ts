// The append-only event log that every command writes (the audit log's history starts here).
// Each row stores its canonical bytes and a hash chained to the previous row, so that
// verification hashes exactly what is stored. Never put a key, passphrase, password or file
// content in an event: ids, names, fingerprints, paths, hashes and reasons only.
import { createHash } from 'node:crypto';
import type { DB } from './profile.js';
import { securityError } from '../errors.js';

export type Outcome = 'ok' | 'refused' | 'failed';

export interface EventInput {
  actor?: string | null;
  action: string;
  object?: string | null;
  outcome?: Outcome;
  detail?: Record<string, unknown> | null;
}

export interface EventRow {
  seq: number;
  at: number;
  actor: string | null;
  workstation: string;
  action: string;
  object: string | null;
  outcome: Outcome;
  detail: string | null;
  canonical: Buffer;
  hash: Buffer;
}

export const GENESIS = Buffer.alloc(32);

export function canonicalEvent(e: Omit<EventRow, 'canonical' | 'hash'>): Buffer {
  return Buffer.from(JSON.stringify([1, e.seq, e.at, e.actor, e.workstation, e.action, e.object, e.outcome, e.detail]), 'utf8');
}

export function chainHash(previous: Buffer, canonical: Buffer): Buffer {
  return createHash('sha256').update(previous).update(canonical).digest();
}

export function appendEvent(db: DB, workstation: string, input: EventInput, at = Date.now()): EventRow {
  // IMMEDIATE: two processes sharing a profile cannot both read the same chain head.
  return db.transaction((): EventRow => {
    const last = db.prepare('SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1').get() as { seq: number; hash: Buffer } | undefined;
    const base = {
      seq: (last?.seq ?? 0) + 1,
      at,
      actor: input.actor ?? null,
      workstation,
      action: input.action,
      object: input.object ?? null,
      outcome: input.outcome ?? 'ok',
      detail: input.detail ? JSON.stringify(input.detail) : null,
    };
    const canonical = canonicalEvent(base);
    const hash = chainHash(last?.hash ?? GENESIS, canonical);
    db.prepare('INSERT INTO events (seq, at, canonical, hash) VALUES (?, ?, ?, ?)').run(base.seq, base.at, canonical, hash);
    return { ...base, canonical, hash };
  }).immediate();
}

/** An event's fields, as its canonical bytes say them (what the audit log shows). */
export type EventFields = Omit<EventRow, 'canonical' | 'hash'>;

function fieldsOf(text: string): EventFields {
  const [, seq, at, actor, workstation, action, object, outcome, detail] = JSON.parse(text) as
    [number, number, number, string | null, string, string, string | null, Outcome, string | null];
  return { seq, at, actor, workstation, action, object, outcome, detail };
}

/** Decodes an event from its canonical bytes: what is shown is always what the chain covers. */
export function decodeEvent(canonical: Buffer, hash: Buffer): EventRow {
  return { ...fieldsOf(canonical.toString('utf8')), canonical, hash };
}

/** Every event since `since` at once: for small logs and tests. A reader of the whole log uses
 * eachEvent (a million events decoded here hold about 1.7 GB). */
export function listEvents(db: DB, since = 0): EventRow[] {
  // As eachEvent: no condition on `at` unless asked (a NULL there would hide the row).
  const rows = since > 0
    ? db.prepare('SELECT canonical, hash FROM events WHERE at >= ? ORDER BY seq').raw().all(since)
    : db.prepare('SELECT canonical, hash FROM events ORDER BY seq').raw().all();
  return (rows as [Buffer, Buffer][]).map(([canonical, hash]) => decodeEvent(canonical, hash));
}

/** What eachEventLine gives: the fields, and the chain hash in hex (as the signed export prints it). */
export interface EventLine extends EventFields { hashHex: string }

/** Events read per query (eachEvent): about 1 MB of text. */
const PAGE = 4096;

/**
 * The events since `since` (0: all, whatever their `at` column holds), in order, one at a time:
 * memory stays flat whatever the log's length. The same fields as decodeEvent: SQLite's CAST hands
 * JS the canonical bytes as the same string as Buffer.toString('utf8'), invalid or NUL bytes
 * included (test/unit/audit-scale.test.ts); no Buffer is made per row (that doubles the time).
 * Read in pages by `seq` (read exactly, as BigInt): no query stays open between two events, so a
 * caller may await between them and use the connection meanwhile.
 *
 * `mentioning` (ASCII, without `\` or `"`) skips, in SQL, the events whose bytes contain neither
 * it nor `\u00`: exact for a caller that keeps only events where a field EQUALS a string containing
 * it, since JSON can spell such a string only with those bytes or with \u00hh escapes of its ASCII
 * characters (a profile's attacker may write either; both reach the caller). An event that no
 * longer reads and holds neither is skipped unread: that caller would not have kept it.
 *
 * An event that no longer reads as JSON (only the profile's attacker writes such bytes) ends the
 * loop with « Journal d'audit altéré : l'entrée n° N ne se lit plus »: nothing built on the log
 * goes on past it.
 */
export function eachEvent(db: DB, { since = 0, mentioning }: { since?: number; mentioning?: string } = {}): Generator<EventFields> {
  // printable ASCII but `"` and `\`: the argument above holds only for those
  if (mentioning !== undefined && !/^[\x20\x21\x23-\x5b\x5d-\x7e]+$/.test(mentioning)) throw new Error('eachEvent: mentioning must be plain ASCII');
  return scan(db, since, mentioning === undefined ? null : Buffer.from(mentioning, 'ascii'), false);
}

/** eachEvent with each event's chain hash, in hex (the export's last column). */
export function eachEventLine(db: DB, since = 0): Generator<EventLine> {
  return scan(db, since, null, true);
}

function* scan(db: DB, since: number, mention: Buffer | null, withHash: boolean): Generator<EventLine> {
  // No condition on `at` unless asked: a row whose `at` was made NULL (a table rebuilt by the
  // attacker) would fall out of `at >= 0`; verify reports such a row (audit-segment.ts).
  const conditions = [...(since > 0 ? ['at >= ?'] : []), ...(mention ? ["(instr(canonical, ?) > 0 OR instr(canonical, X'5c753030') > 0)"] : [])];
  const params = [...(since > 0 ? [since] : []), ...(mention ? [mention] : [])];
  const columns = `seq, CAST(canonical AS TEXT)${withHash ? ', lower(hex(hash))' : ''}`;
  const query = (first: boolean) => db.prepare(`SELECT ${columns} FROM events
    WHERE ${[...(first ? [] : ['seq > ?']), ...conditions].join(' AND ') || '1'} ORDER BY seq LIMIT ${PAGE}`).raw().safeIntegers(true);
  const firstPage = query(true);
  const nextPage = query(false);
  let rows = firstPage.all(...params) as [bigint, string, string?][];
  for (;;) {
    for (const [seq, text, hashHex] of rows) {
      let e: EventLine;
      try {
        e = fieldsOf(text) as EventLine;
      } catch {
        throw securityError('audit-unreadable', `Journal d'audit altéré : l'entrée n° ${seq} ne se lit plus. Conservez ce poste en l'état et prévenez l'officier SSI.`);
      }
      if (withHash) e.hashHex = hashHex!;
      yield e;
    }
    if (rows.length < PAGE) return;
    rows = nextPage.all(rows.at(-1)![0], ...params) as [bigint, string, string?][];
  }
}
