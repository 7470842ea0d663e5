// The audit chain is read in pages (audit-segment.ts): each page is one blob of every event's
// stored canonical bytes and stored hash, laid out by SQLite. These tests play the attacker of
// docs/profile.md on the profile's database (better-sqlite3, the append-only triggers dropped):
// the bytes hashed must be exactly the stored ones, whatever they hold, and a row that does not
// fit the layout (a hash of another length) must be named, at page boundaries as elsewhere.
import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { initProfile, type Profile } from '../../electron/core/profile/profile.js';
import { canonicalEvent, chainHash, GENESIS } from '../../electron/core/profile/events.js';
import { verifyAudit } from '../../electron/core/services/audit.js';
import { SEGMENT_PAGE, loadChainCheck, verifySegment, type SegmentJob } from '../../electron/core/services/audit-segment.js';
import { gcmAddonFile } from '../../electron/core/container/gcm.js';

// Both walks over a page, the addon's (native/chain.c) and JavaScript's, must give the same answer
// to every case below: segment() runs both and compares them.
const addonWalk = loadChainCheck(gcmAddonFile());

let home: string;
let profile: Profile;

/** `count` events chained as appendEvent does; `odd(seq)` may replace an event's canonical bytes
 * (chained all the same: a log whose stored bytes are unusual but intact). */
function fill(count: number, odd: (seq: number) => Buffer | null = () => null): void {
  const insert = profile.db.prepare('INSERT INTO events (seq, at, canonical, hash) VALUES (?, ?, ?, ?)');
  let previous: Buffer = GENESIS;
  profile.db.transaction(() => {
    for (let seq = 1; seq <= count; seq++) {
      const e = { seq, at: 1790000000000 + seq, actor: null, workstation: 'poste', action: 'file.written', object: String(seq), outcome: 'ok' as const, detail: null };
      const canonical = odd(seq) ?? canonicalEvent(e);
      previous = chainHash(previous, canonical);
      insert.run(seq, e.at, canonical, previous);
    }
  })();
}

const tamper = (sql: string): void => {
  profile.db.exec(`DROP TRIGGER IF EXISTS events_no_update; DROP TRIGGER IF EXISTS events_no_delete; ${sql}`);
};
const segment = (from: number, to: number, checkpoints: number[] = []) => {
  const job: SegmentJob = { file: profile.db.name, from, to, start: from === 1 ? GENESIS : (profile.db.prepare('SELECT hash FROM events WHERE seq = ?').pluck().get(from - 1) as Buffer), checkpoints };
  const javascript = verifySegment(job, profile.db);
  if (addonWalk) expect(verifySegment(job, profile.db, addonWalk)).toEqual(javascript);
  return javascript;
};

/** Canonical bytes a text round trip would change: NUL, invalid UTF-8, a lone surrogate's bytes. */
const unusual = (seq: number): Buffer =>
  Buffer.concat([Buffer.from(`[1,${seq},${1790000000000 + seq},`), Buffer.from([0x00, 0xff, 0xfe, 0xc3, 0x28, 0xed, 0xa0, 0x80, 0x00]), Buffer.from(']')]);

describe('the audit chain read in pages', () => {
  it('the addon\'s walk loads wherever the addon is built (else the JavaScript walk alone is tested)', () => {
    expect(addonWalk !== null).toBe(gcmAddonFile() !== null);
  });

  beforeEach(() => {
    home = mkdtempSync(path.join(os.tmpdir(), 'pli-audit-seg-'));
    profile = initProfile(home).profile;
  });
  afterEach(() => {
    profile.close();
    rmSync(home, { recursive: true, force: true });
  });

  it('hashes the stored bytes exactly: NUL and invalid UTF-8 verify, and one such byte changed is named', async () => {
    fill(3 * SEGMENT_PAGE + 5, (seq) => (seq % 1000 === 7 || seq === SEGMENT_PAGE + 1 ? unusual(seq) : null));
    expect(await verifyAudit(profile.db)).toMatchObject({ ok: true });
    // 0xff -> 0xfe: both read as U+FFFD through a text conversion, so only a byte-exact hash sees it.
    const seq = 2007;
    const changed = unusual(seq);
    changed[changed.indexOf(0xff)] = 0xfe;
    tamper(`UPDATE events SET canonical = x'${changed.toString('hex')}' WHERE seq = ${seq}`);
    expect(segment(1, 3 * SEGMENT_PAGE + 5).bad).toEqual({ seq, kind: 'chain' });
    expect((await verifyAudit(profile.db)).firstBad?.seq).toBe(seq);
  });

  it('a stored hash one byte longer (its first 32 bytes right) is named, not read across', () => {
    fill(SEGMENT_PAGE + 10);
    tamper(`UPDATE events SET hash = CAST(hash || x'00' AS BLOB) WHERE seq = 300`);
    expect(segment(1, SEGMENT_PAGE + 10).bad).toEqual({ seq: 300, kind: 'chain' });
  });

  it('a stored hash one byte shorter is named', () => {
    fill(50);
    tamper(`UPDATE events SET hash = substr(hash, 1, 31) WHERE seq = 20`);
    expect(segment(1, 50).bad).toEqual({ seq: 20, kind: 'chain' });
  });

  it('an edit on either side of a page boundary is named at its number', () => {
    for (const seq of [SEGMENT_PAGE, SEGMENT_PAGE + 1, 2 * SEGMENT_PAGE + 1]) {
      profile.close();
      rmSync(home, { recursive: true, force: true });
      profile = initProfile(home).profile;
      fill(2 * SEGMENT_PAGE + 3);
      tamper(`UPDATE events SET canonical = CAST(replace(CAST(canonical AS TEXT), 'poste', 'autre') AS BLOB) WHERE seq = ${seq}`);
      expect(segment(1, 2 * SEGMENT_PAGE + 3).bad, `seq ${seq}`).toEqual({ seq, kind: 'chain' });
    }
  });

  it('the last event of a page deleted: the chain breaks at its number; the last of the log: deleted', () => {
    fill(SEGMENT_PAGE + 3);
    tamper(`DELETE FROM events WHERE seq = ${SEGMENT_PAGE}`);
    expect(segment(1, SEGMENT_PAGE + 3).bad).toEqual({ seq: SEGMENT_PAGE, kind: 'chain' });
    tamper(`DELETE FROM events WHERE seq = ${SEGMENT_PAGE + 3}`);
    expect(segment(SEGMENT_PAGE + 2, SEGMENT_PAGE + 3).bad).toEqual({ seq: SEGMENT_PAGE + 3, kind: 'deleted' });
  });

  it('a second segment starting mid-page verifies from the stored hash before it, and returns the checkpoints\' hashes', () => {
    fill(2 * SEGMENT_PAGE);
    const from = SEGMENT_PAGE - 100;
    const result = segment(from, 2 * SEGMENT_PAGE, [SEGMENT_PAGE, 2 * SEGMENT_PAGE, 5]);
    expect(result.bad).toBeNull();
    const stored = (seq: number) => profile.db.prepare('SELECT hash FROM events WHERE seq = ?').pluck().get(seq) as Buffer;
    expect(result.marks.map(([seq, h]) => [seq, Buffer.from(h).toString('hex')])).toEqual([
      [SEGMENT_PAGE, stored(SEGMENT_PAGE).toString('hex')], [2 * SEGMENT_PAGE, stored(2 * SEGMENT_PAGE).toString('hex')]]);
  });

  it('a date changed in the indexed column only is named as such, by the same pass, in either segment', async () => {
    fill(60_000); // two segments on two threads (PARALLEL_FROM = 50 000)
    tamper('UPDATE events SET at = at + 1 WHERE seq = 45678');
    expect(segment(30_001, 60_000).bad).toEqual({ seq: 45678, kind: 'renumbered' });
    const result = await verifyAudit(profile.db);
    expect(result.firstBad).toEqual({ seq: 45678, problem: expect.stringContaining('son numéro ou sa date ne correspondent plus') });
  });
});
