// The append-only event log that every command writes (the audit log's history starts here).
// Each row stores its canonical bytes and a hash chained to the previous row, so that
// verification hashes exactly what is stored. Never put a key, passphrase, password or file
// content in an event: ids, names, fingerprints, paths, hashes and reasons only.
import { createHash } from 'node:crypto';
import type { DB } from './profile.js';

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

/** Decodes an event from its canonical bytes: what is shown is always what the chain covers. */
export function decodeEvent(canonical: Buffer, hash: Buffer): EventRow {
  const [, seq, at, actor, workstation, action, object, outcome, detail] = JSON.parse(canonical.toString('utf8')) as
    [number, number, number, string | null, string, string, string | null, Outcome, string | null];
  return { seq, at, actor, workstation, action, object, outcome, detail, canonical, hash };
}

export function listEvents(db: DB, since?: number): EventRow[] {
  return (db.prepare('SELECT canonical, hash FROM events WHERE at >= ? ORDER BY seq').raw().all(since ?? 0) as [Buffer, Buffer][])
    .map(([canonical, hash]) => decodeEvent(canonical, hash));
}
