// Benchmark: verify an audit log of 1 million events (target: at most 3 s), as `pli audit verify`
// does it, on a real profile database. Usage: npm run build && node bench/audit.mjs [events]
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { initProfile } from '../dist/electron/core/profile/profile.js';
import { canonicalEvent, chainHash, GENESIS } from '../dist/electron/core/profile/events.js';
import { createIdentity, unlockIdentity } from '../dist/electron/core/profile/identities.js';
import { verifyAudit, writeCheckpoint, signerOf } from '../dist/electron/core/services/audit.js';

const total = Number(process.argv[2] ?? 1_000_000);
const home = mkdtempSync(path.join(os.tmpdir(), 'pli-bench-audit-'));
try {
  const { profile } = initProfile(home);
  const person = await createIdentity(profile.db, { name: 'Banc Essai', email: 'banc@essai.test', org: 'Essai' }, 'phrase de passe du banc');
  const unlocked = await unlockIdentity(profile.db, person.id, 'phrase de passe du banc');
  // Fill quickly in large transactions, with the same canonical form and chain as appendEvent,
  // and a signed checkpoint every 100 000 events (sparse, as in real use).
  const insert = profile.db.prepare('INSERT INTO events (seq, at, canonical, hash) VALUES (?, ?, ?, ?)');
  let previous = GENESIS;
  const t0 = performance.now();
  const batch = 50_000;
  for (let start = 1; start <= total; start += batch) {
    profile.db.transaction(() => {
      for (let seq = start; seq < Math.min(start + batch, total + 1); seq++) {
        const e = { seq, at: 1790000000000 + seq, actor: person.id, workstation: 'poste-dedie', action: seq % 3 ? 'container.received' : 'file.written',
          object: seq.toString(16).padStart(32, '0'), outcome: 'ok', detail: JSON.stringify({ sha256: 'ab'.repeat(32), size: seq }) };
        const canonical = canonicalEvent(e);
        const hash = chainHash(previous, canonical);
        insert.run(seq, e.at, canonical, hash);
        previous = hash;
      }
    })();
    if ((start - 1 + batch) % 100_000 === 0) await writeCheckpoint(profile, signerOf(unlocked), 1790000000000 + start + batch);
  }
  const fill = performance.now() - t0;
  const runs = [];
  let result;
  for (let i = 0; i < 3; i++) {
    const t = performance.now();
    result = await verifyAudit(profile.db);
    runs.push((performance.now() - t) / 1000);
  }
  runs.sort((a, b) => a - b);
  const median = runs[1];
  console.log(`events: ${result.events}, checkpoints: ${result.checkpoints}, intact: ${result.ok}`);
  console.log(`fill: ${(fill / 1000).toFixed(1)} s; verify runs: ${runs.map((r) => r.toFixed(2)).join(', ')} s; median ${median.toFixed(2)} s (${Math.round(result.events / median).toLocaleString('fr-FR')} événements/s)`);
  console.log(`target (1 million events in at most 3 s): ${total >= 1_000_000 ? (median <= 3 ? 'PASS' : 'FAIL') : 'not applicable (fewer events)'}`);
  unlocked.wipe();
  profile.close();
} finally {
  rmSync(home, { recursive: true, force: true });
}
