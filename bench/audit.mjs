// Benchmark: verify an audit log of 1 million events (issue 13's target: at most 2 s), as
// `pli audit verify` does it, on a real profile database.
//   npm run build && node bench/audit.mjs [events]     (default 1 000 000; fewer to measure little)
// With fewer events the target is "not measured" (a larger database no longer sits in the same
// caches, so a rate measured on fewer events only estimates it; the estimate is printed).
// Exit 0 when the target passes or is not measured, 2 when it fails, 1 on an error (including a
// chain that does not verify). Raw figures go to bench/out/audit-<date>.json.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { machine, printHeader, Targets, writeJson } from './machine.mjs';
import { initProfile } from '../dist/electron/core/profile/profile.js';
import { canonicalEvent, chainHash, GENESIS } from '../dist/electron/core/profile/events.js';
import { createIdentity, unlockIdentity } from '../dist/electron/core/profile/identities.js';
import { verifyAudit, writeCheckpoint, signerOf } from '../dist/electron/core/services/audit.js';

const TARGET = { events: 1_000_000, seconds: 2 };
const total = Number(process.argv[2] ?? TARGET.events);
if (!Number.isInteger(total) || total < 1) {
  process.stderr.write('bench: the number of events must be a positive integer\n');
  process.exit(1);
}

const box = await machine();
printHeader(`Audit log: verify ${total.toLocaleString('en-US')} events (median of 3 runs)`, box);
const home = mkdtempSync(path.join(os.tmpdir(), 'pli-bench-audit-'));
let exitCode = 0;
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
  const fill = (performance.now() - t0) / 1000;
  const runs = [];
  let result;
  for (let i = 0; i < 3; i++) {
    const t = performance.now();
    result = await verifyAudit(profile.db);
    runs.push((performance.now() - t) / 1000);
  }
  unlocked.wipe();
  profile.close();
  // A chain that does not verify is an error of the benchmark (or of Pli), not a figure.
  if (!result.ok || result.events !== total) throw new Error(`the log did not verify: ${JSON.stringify(result)}`);
  const median = [...runs].sort((a, b) => a - b)[1];
  const rate = result.events / median;
  console.log(`events: ${result.events}, checkpoints: ${result.checkpoints}, intact: ${result.ok}`);
  console.log(`fill: ${fill.toFixed(1)} s; verify runs: ${runs.map((r) => r.toFixed(2)).join(', ')} s; median ${median.toFixed(2)} s (${Math.round(rate).toLocaleString('en-US')} events/s)`);

  const targets = new Targets();
  const name = `verify ${TARGET.events.toLocaleString('en-US')} events <= ${TARGET.seconds} s`;
  if (total >= TARGET.events) targets.check(name, median, TARGET.seconds, median <= TARGET.seconds, `${median.toFixed(2)} s for ${total.toLocaleString('en-US')} events`);
  else targets.skip(name, TARGET.seconds, `only ${total.toLocaleString('en-US')} events: ${median.toFixed(2)} s, about ${(TARGET.events / rate).toFixed(1)} s for 1 million if it scaled linearly (an estimate, not the target)`);
  targets.print();
  exitCode = targets.exitCode();
  const outFile = writeJson('audit', { machine: box, events: total, checkpoints: result.checkpoints, fillSeconds: fill, verifySeconds: runs, median, eventsPerSecond: rate, targets });
  console.log(`\nRaw results: ${outFile}`);
} catch (error) {
  process.stderr.write(`bench: ${error.stack ?? error}\n`);
  exitCode = 1;
} finally {
  rmSync(home, { recursive: true, force: true });
}
process.exitCode = exitCode;
