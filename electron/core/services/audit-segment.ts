// One segment of the audit chain (docs/audit.md 2), verified against the stored hashes: run in
// this thread for a small log, or in audit-segment.worker.ts, one per segment, for a large one.
// Pure over the database it is given: no import beyond Node's own modules, so that the worker's
// bundle (workers.ts) stays small. The walk over a page's events runs in the pli-native addon
// (native/chain.c) where it loads, in JavaScript otherwise: same checks, same answers.
import { hash } from 'node:crypto';
import { createRequire } from 'node:module';
import type { DB } from '../profile/profile.js';

/** native/chain.c's walk over one page (see there): result = [events listed (-1: malformed),
 * events verified, offset after the last verified]; ends[i] = where event i's stored hash starts. */
export type ChainCheck = (bytes: Uint8Array, lengths: string, previous: Uint8Array, ends: Uint32Array, result: Float64Array) => void;

export interface SegmentJob { file: string; from: number; to: number; start: Uint8Array; checkpoints: number[] }
/** `renumbered`: the indexed columns (seq, at) no longer agree with the canonical bytes. */
export interface SegmentResult { bad: { seq: number; kind: 'inserted' | 'deleted' | 'chain' | 'renumbered' } | null; marks: [number, Uint8Array][] }

/** Events read per query: one blob of about 2 MB for 8192 typical events. */
export const SEGMENT_PAGE = 8192;
const HASH_BYTES = 32;

/**
 * One page of events in a single row, so that SQLite, not JavaScript, walks the rows: every event's
 * stored canonical bytes then its stored hash, back to back, in the order of their numbers (the
 * primary key's own order: the ORDER BY costs no sort, and an aggregate over an ordered subquery
 * takes its rows in that order), and the canonical lengths in bytes. SQLite's || and group_concat copy a blob's bytes as they are
 * (NUL and invalid UTF-8 included) and CAST AS BLOB keeps them: what is hashed is exactly what
 * is stored. `odd` is the first number in the page whose row could not be laid out that way (a
 * hash that is not 32 bytes, a column that is not a blob): it is reported as a broken chain.
 * `renumbered` is the first whose indexed columns (seq, at) disagree with its canonical bytes,
 * which start "[1,seq,at,": checked in the same pass over the rows, inside SQLite. An `at` that is
 * no integer counts (NULL in a table rebuilt without NOT NULL: the comparison would be NULL, and
 * the row would fall out of every `at >= ?`, unseen).
 */
const PAGE_SQL = `SELECT CAST(group_concat(canonical || hash, '') AS BLOB) AS bytes,
    group_concat(octet_length(canonical)) AS lengths,
    min(CASE WHEN typeof(canonical) != 'blob' OR typeof(hash) != 'blob' OR octet_length(hash) != ${HASH_BYTES} THEN seq END) AS odd,
    min(CASE WHEN typeof(at) != 'integer' OR CAST(substr(canonical, 1, length('[1,' || seq || ',' || at || ',')) AS TEXT) != '[1,' || seq || ',' || at || ',' THEN seq END) AS renumbered
  FROM (SELECT seq, at, canonical, hash FROM events WHERE seq >= ? AND seq <= ? ORDER BY seq)`;

/**
 * The addon's chain walk from its file (gcmAddonFile: the caller resolves it, as a worker may run
 * from a bundle), or null when there is none, it does not load, or it does not give the
 * JavaScript walk's answers on a page made here (three events, then the second one changed).
 */
export function loadChainCheck(file: string | null): ChainCheck | null {
  if (!file) return null;
  try {
    const check = (createRequire(file)(file) as { chainCheck?: ChainCheck }).chainCheck;
    if (typeof check !== 'function') return null;
    const page: Buffer[] = [];
    let previous = Buffer.alloc(HASH_BYTES);
    const lengths: number[] = [];
    for (const text of ['[1,1,0,"a"]', '[1,2,0,"bb"]', '[1,3,0,"ccc"]']) {
      const canonical = Buffer.from(text);
      previous = hash('sha256', Buffer.concat([previous, canonical]), 'buffer');
      page.push(canonical, previous);
      lengths.push(canonical.length);
    }
    const bytes = Buffer.concat(page);
    const ends = new Uint32Array(SEGMENT_PAGE);
    const result = new Float64Array(3);
    check(bytes, lengths.join(','), Buffer.alloc(HASH_BYTES), ends, result);
    const whole = result[0] === 3 && result[1] === 3 && result[2] === bytes.length && ends[2] === bytes.length - HASH_BYTES;
    const changed = lengths[0]! + HASH_BYTES + 3; // in the second event's canonical bytes
    bytes[changed] = bytes[changed]! ^ 1;
    check(bytes, lengths.join(','), Buffer.alloc(HASH_BYTES), ends, result);
    return whole && result[0] === 3 && result[1] === 1 ? check : null;
  } catch {
    return null; // not built for this Node, or no such function: the JavaScript walk serves
  }
}

/** The walk over one page in JavaScript, for where the addon's (ChainCheck) does not load: the
 * same answers, through the same `ends` and `result`. */
export const walkInJavaScript: ChainCheck = (bytes, lengths, previous, ends, result) => {
  const list = lengths === '' ? [] : lengths.split(','); // '' (no event) as the addon reads it
  const page = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  result[0] = list.length;
  result[1] = 0;
  result[2] = 0;
  let offset = 0; // where this event's canonical bytes start in `bytes`
  for (let i = 0; i < list.length; i++) {
    const end = offset + Number(list[i]);
    if (end + HASH_BYTES > page.length) return;
    // SHA-256(previous stored hash || canonical): from the second event of a page on, the
    // previous stored hash sits right before the canonical bytes, and is hashed in place.
    const input = i === 0 ? Buffer.concat([previous, page.subarray(offset, end)]) : page.subarray(offset - HASH_BYTES, end);
    // Compared as one-byte strings: no buffer allocated per event.
    if (hash('sha256', input, 'binary') !== page.toString('binary', end, end + HASH_BYTES)) return;
    ends[i] = end;
    offset = end + HASH_BYTES;
    result[1] = i + 1;
    result[2] = offset;
  }
};

/** Verifies events from..to of `conn` against their stored hashes, starting from `job.start`
 * (the stored hash before `from`), and returns the stored hashes at the checkpoints' numbers.
 * `check`: the addon's walk (loadChainCheck), else walkInJavaScript. */
export function verifySegment(job: SegmentJob, conn: DB, check: ChainCheck | null = null): SegmentResult {
  let previous: Buffer = Buffer.from(job.start);
  let expected = job.from;
  const wanted = new Set(job.checkpoints);
  const marks: [number, Uint8Array][] = [];
  // Numbering (gaps, inserts) is checked in SQL by the caller, concurrently: here the chain only,
  // and the row's number is its position.
  const page = conn.prepare(PAGE_SQL);
  const ends = new Uint32Array(SEGMENT_PAGE);
  const result = new Float64Array(3);
  for (let first = job.from; first <= job.to; first += SEGMENT_PAGE) {
    const last = Math.min(job.to, first + SEGMENT_PAGE - 1);
    const row = page.get(first, last) as { bytes: Buffer | null; lengths: string | null; odd: number | null; renumbered: number | null };
    // The first problem of the page, whichever check sees it (the chain's, below, may be earlier).
    const pageBad: SegmentResult['bad'] = row.odd !== null && (row.renumbered === null || row.odd <= row.renumbered)
      ? { seq: row.odd, kind: 'chain' }
      : row.renumbered !== null ? { seq: row.renumbered, kind: 'renumbered' } : null;
    const broken = (seq: number): SegmentResult => ({ bad: pageBad && pageBad.seq <= seq ? pageBad : { seq, kind: 'chain' }, marks });
    if (row.bytes === null || row.lengths === null) break; // no row in this page: counted as deleted below
    const bytes = row.bytes;
    (check ?? walkInJavaScript)(bytes, row.lengths, previous, ends, result);
    const [listed, verified, after] = [result[0]!, result[1]!, result[2]!];
    for (let i = 0; i < verified; i++) {
      // a copy: a view would send the whole page
      if (wanted.has(expected + i)) marks.push([expected + i, Buffer.from(bytes.subarray(ends[i]!, ends[i]! + HASH_BYTES))]);
    }
    if (listed < 0 || verified < listed) return broken(expected + Math.max(verified, 0));
    expected += verified;
    if (after !== bytes.length) return broken(expected);
    if (pageBad) return { bad: pageBad, marks };
    previous = bytes.subarray(after - HASH_BYTES, after);
  }
  const bad: SegmentResult['bad'] = expected !== job.to + 1 ? { seq: expected, kind: 'deleted' } : null;
  return { bad, marks };
}
