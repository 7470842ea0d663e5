// One segment of the audit chain (docs/audit.md 2), verified against the stored hashes: run in
// this thread for a small log, or in audit-segment.worker.ts, one per segment, for a large one.
// Pure over the database it is given: no import beyond node:crypto, so that the worker's bundle
// (workers.ts) stays small.
import { hash } from 'node:crypto';
import type { DB } from '../profile/profile.js';

export interface SegmentJob { file: string; from: number; to: number; start: Uint8Array; checkpoints: number[] }
export interface SegmentResult { bad: { seq: number; kind: 'inserted' | 'deleted' | 'chain' } | null; marks: [number, Uint8Array][] }

/** Verifies events from..to of `conn` against their stored hashes, starting from `job.start`
 * (the stored hash before `from`), and returns the stored hashes at the checkpoints' numbers. */
export function verifySegment(job: SegmentJob, conn: DB): SegmentResult {
  let previous: Buffer = Buffer.from(job.start);
  let expected = job.from;
  const wanted = new Set(job.checkpoints);
  const marks: [number, Uint8Array][] = [];
  let bad: SegmentResult['bad'] = null;
  // Numbering (gaps, inserts) is checked in SQL by the caller, concurrently: here the chain only,
  // and the row's number is its position.
  const rows = conn.prepare('SELECT canonical, hash FROM events WHERE seq >= ? AND seq <= ? ORDER BY seq').raw().iterate(job.from, job.to) as IterableIterator<[Buffer, Buffer]>;
  for (const [canonical, stored] of rows) {
    const seq = expected;
    const computed = hash('sha256', Buffer.concat([previous, canonical]), 'buffer') as Buffer;
    if (!computed.equals(stored)) {
      bad = { seq, kind: 'chain' };
      break;
    }
    if (wanted.has(seq)) marks.push([seq, stored]);
    previous = stored;
    expected++;
  }
  if (!bad && expected !== job.to + 1) bad = { seq: expected, kind: 'deleted' };
  return { bad, marks };
}
