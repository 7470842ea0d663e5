// The chain of a large log is verified in two segments on two threads (services/audit.ts):
// the same verdicts as the single-thread pass, wherever the damage is.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { initProfile, type Profile } from '../../electron/core/profile/profile.js';
import { canonicalEvent, chainHash, GENESIS } from '../../electron/core/profile/events.js';
import { verifyAudit } from '../../electron/core/services/audit.js';

const EVENTS = 60_000; // above the parallel threshold (50 000)
let home: string;
let profile: Profile;

function fill(db: Profile['db'], count: number): void {
  const insert = db.prepare('INSERT INTO events (seq, at, canonical, hash) VALUES (?, ?, ?, ?)');
  let previous: Buffer = GENESIS;
  db.transaction(() => {
    for (let seq = 1; seq <= count; seq++) {
      const e = { seq, at: 1790000000000 + seq, actor: null, workstation: 'poste', action: 'file.written', object: String(seq), outcome: 'ok' as const, detail: null };
      const canonical = canonicalEvent(e);
      previous = chainHash(previous, canonical);
      insert.run(seq, e.at, canonical, previous);
    }
  })();
}

/** Applies a change with the append-only triggers dropped, verifies, then restores a fresh log. */
async function afterTampering(sql: string): Promise<Awaited<ReturnType<typeof verifyAudit>>> {
  profile.db.exec(`DROP TRIGGER events_no_update; DROP TRIGGER events_no_delete; ${sql}`);
  return verifyAudit(profile.db);
}

describe('parallel verification of a large audit log', () => {
  beforeAll(() => {
    home = mkdtempSync(path.join(os.tmpdir(), 'pli-audit-par-'));
  });
  afterAll(() => {
    profile?.close();
    rmSync(home, { recursive: true, force: true });
  });

  const fresh = (): void => {
    profile?.close();
    rmSync(home, { recursive: true, force: true });
    profile = initProfile(home).profile;
    fill(profile.db, EVENTS);
  };

  it('an intact log of 60 000 events verifies', async () => {
    fresh();
    expect(await verifyAudit(profile.db)).toMatchObject({ ok: true, events: EVENTS });
  });

  it('an edit in the first segment is named', async () => {
    fresh();
    const result = await afterTampering("UPDATE events SET canonical = CAST(replace(CAST(canonical AS TEXT), 'poste', 'autre') AS BLOB) WHERE seq = 1234");
    expect(result.ok).toBe(false);
    expect(result.firstBad?.seq).toBe(1234);
  });

  it('an edit in the second segment is named', async () => {
    fresh();
    const result = await afterTampering("UPDATE events SET canonical = CAST(replace(CAST(canonical AS TEXT), 'poste', 'autre') AS BLOB) WHERE seq = 45678");
    expect(result.firstBad?.seq).toBe(45678);
  });

  it('a stored hash edited at the boundary between the segments is caught', async () => {
    fresh();
    const result = await afterTampering(`UPDATE events SET hash = randomblob(32) WHERE seq = ${EVENTS / 2}`);
    expect(result.firstBad?.seq).toBe(EVENTS / 2);
  });

  it('two rows swapped across the segments are caught at the first of them', async () => {
    fresh();
    const result = await afterTampering(`UPDATE events SET seq = -1 WHERE seq = 100; UPDATE events SET seq = 100 WHERE seq = 50000; UPDATE events SET seq = 50000 WHERE seq = -1;`);
    expect(result.firstBad?.seq).toBe(100);
  });
});
