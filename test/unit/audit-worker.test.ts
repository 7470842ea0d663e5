// The audit segment worker is a module (issue 11), like the Argon2id and block workers
// (workers.test.ts): audit-segment.worker.ts, compiled to dist/, started through workerEntry(),
// instead of a function's source text evaluated in a thread. audit-parallel.test.ts runs it from
// the sources; here the compiled program runs its compiled worker (`npm run build` first).
import { describe, it, expect, afterAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const ROOT = path.resolve(import.meta.dirname, '../..');
const temp = mkdtempSync(path.join(tmpdir(), 'pli-audit-worker-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));
const href = (file: string): string => JSON.stringify(pathToFileURL(path.join(ROOT, 'dist/electron/core', file)).href);

describe('the audit segment worker', () => {
  it('is a module of its own, and audit.ts evaluates no source text', () => {
    expect(existsSync(path.join(ROOT, 'electron/core/services/audit-segment.worker.ts'))).toBe(true);
    const starter = readFileSync(path.join(ROOT, 'electron/core/services/audit.ts'), 'utf8');
    expect(starter).not.toMatch(/eval:\s*true/);
    expect(starter).not.toMatch(/\.toString\(\)/);
    expect(starter).toMatch(/workerEntry\('audit-segment', import\.meta\.url\)/);
  });

  it('from dist/, verifies a large log on two threads and names an edited entry', () => {
    expect(existsSync(path.join(ROOT, 'dist/electron/core/services/audit-segment.worker.js')), 'run npm run build first').toBe(true);
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', `
      const { initProfile } = await import(${href('profile/profile.js')});
      const { canonicalEvent, chainHash, GENESIS } = await import(${href('profile/events.js')});
      const { verifyAudit } = await import(${href('services/audit.js')});
      const { profile } = initProfile(${JSON.stringify(path.join(temp, 'p'))});
      const insert = profile.db.prepare('INSERT INTO events (seq, at, canonical, hash) VALUES (?, ?, ?, ?)');
      let previous = GENESIS;
      profile.db.transaction(() => {
        for (let seq = 1; seq <= 60000; seq++) {
          const canonical = canonicalEvent({ seq, at: 1790000000000 + seq, actor: null, workstation: 'poste', action: 'file.written', object: String(seq), outcome: 'ok', detail: null });
          previous = chainHash(previous, canonical);
          insert.run(seq, 1790000000000 + seq, canonical, previous);
        }
      })();
      const intact = await verifyAudit(profile.db);
      profile.db.exec("DROP TRIGGER events_no_update; UPDATE events SET hash = zeroblob(32) WHERE seq = 45000");
      const edited = await verifyAudit(profile.db);
      profile.close();
      console.log(JSON.stringify({ intact: intact.ok, events: intact.events, edited: edited.ok, bad: edited.firstBad?.seq }));`], { cwd: ROOT, encoding: 'utf8' });
    expect(run.status, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({ intact: true, events: 60000, edited: false, bad: 45000 });
  }, 120_000);
});
