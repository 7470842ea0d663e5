// Benchmark: verify an audit log of 1 million events (issue 13's target: at most 2 s), as
// `pli audit verify` does it, on a real profile database.
//   npm run build && node bench/audit.mjs [events] [--no-readers] [--base DIR]     (default 1 000 000; fewer to measure little)
// Then, unless --no-readers, the log's other readers (bench/audit-reader.mjs), each in a process
// of its own: the Journal page, the signed export and its verification, `pli audit list`, the
// indicators' read; against this stop's bounds at a million events: 150 MiB peak RSS each, 2 s
// for those a person waits on (READERS below).
// With fewer events the target is "not measured" (a larger database no longer sits in the same
// caches, so a rate measured on fewer events only estimates it; the estimate is printed).
// Exit 0 when the target passes or is not measured, 2 when it fails, 1 on an error (including a
// chain that does not verify). Raw figures go to bench/out/audit-<date>.json.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { machine, median, printHeader, Targets, writeJson } from './machine.mjs';
import { initProfile } from '../dist/electron/core/profile/profile.js';
import { canonicalEvent, chainHash, GENESIS } from '../dist/electron/core/profile/events.js';
import { createIdentity, unlockIdentity } from '../dist/electron/core/profile/identities.js';
import { verifyAudit, writeCheckpoint, signerOf } from '../dist/electron/core/services/audit.js';

const TARGET = { events: 1_000_000, seconds: 2 };
/** This stop's bounds for the log's other readers (not issue 13's targets): issue 13's peak RSS
 * for the streams ("whatever the size") for each; the verify's time for those a person waits on
 * (a screen, a check). The export and `audit list` write 300 and 250 MB of text: their time is
 * printed, against --base's when given, with no bound claimed. */
const READERS = { seconds: 2, rssMiB: 150, names: ['journal', 'journal-filtered', 'export', 'verify-export', 'list', 'indicators'], timed: ['journal', 'journal-filtered', 'verify-export', 'indicators'] };
const args = process.argv.slice(2);
const readersToo = !args.includes('--no-readers');
// --base DIR: another build of Pli (its root, built: DIR/dist), whose readers run on the same log
// after each of this build's (the figures before a change; no target is checked on them).
const baseAt = args.indexOf('--base');
const BASE = baseAt === -1 ? null : path.resolve(args[baseAt + 1] ?? '');
const positional = args.filter((a, i) => !a.startsWith('--') && (baseAt === -1 || i !== baseAt + 1));
const total = Number(positional[0] ?? TARGET.events);
if (!Number.isInteger(total) || total < 1 || (BASE && !existsSync(path.join(BASE, 'dist')))) {
  process.stderr.write(BASE && !existsSync(path.join(BASE, 'dist')) ? `bench: --base expects a built Pli's folder (no ${path.join(BASE, 'dist')})\n` : 'bench: the number of events must be a positive integer\n');
  process.exit(1);
}

const box = await machine();
printHeader(`Audit log: verify ${total.toLocaleString('en-US')} events (median of 3 runs)`, box);
const base = mkdtempSync(path.join(os.tmpdir(), 'pli-bench-audit-'));
const home = path.join(base, 'profile'); // the export goes next to it (never in a profile's folder)
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
  const readers = readersToo ? measureReaders(home, targets) : null;
  targets.print();
  exitCode = targets.exitCode();
  const outFile = writeJson('audit', { machine: box, events: total, checkpoints: result.checkpoints, fillSeconds: fill, verifySeconds: runs, median, eventsPerSecond: rate, readers, targets });
  console.log(`\nRaw results: ${outFile}`);
} catch (error) {
  process.stderr.write(`bench: ${error.stack ?? error}\n`);
  exitCode = 1;
} finally {
  rmSync(base, { recursive: true, force: true });
}
process.exitCode = exitCode;

/** Each reader of bench/audit-reader.mjs three times, each run in a process of its own: the
 * median time, and the largest peak RSS of the three. The bounds are checked at a million events. */
function measureReaders(home, targets) {
  console.log(`\nReaders of the log (each run a new process; median of 3 times, largest peak RSS of 3):`);
  const figures = {};
  for (const name of READERS.names) {
    const run = (dist) => {
      const argv = [process.execPath, path.join(import.meta.dirname, 'audit-reader.mjs'), home, name, ...(dist ? ['--dist', dist] : [])];
      // `audit list` prints into a pipe, as `pli audit list | less` (a file takes its writes at
      // once; a pipe makes them wait, and a listing that does not wait for them piles them up).
      const quoted = argv.map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(' ');
      const child = name === 'list'
        ? spawnSync('bash', ['-o', 'pipefail', '-c', `${quoted} | cat > /dev/null`], { stdio: ['ignore', 'ignore', 'inherit', 'pipe'], encoding: 'utf8' })
        : spawnSync(argv[0], argv.slice(1), { stdio: ['ignore', 'ignore', 'inherit', 'pipe'], encoding: 'utf8' });
      if (child.status !== 0) throw new Error(`reader ${name}${dist ? ' (base)' : ''} exited with ${child.status}`);
      return JSON.parse(child.output[3]);
    };
    const runs = [];
    const baseRuns = [];
    for (let i = 0; i < 3; i++) {
      runs.push(run(null));
      if (BASE) baseRuns.push(run(path.join(BASE, 'dist')));
    }
    const seconds = median(runs.map((r) => r.seconds));
    const rss = Math.max(...runs.map((r) => r.maxRssMiB));
    figures[name] = { seconds: runs.map((r) => r.seconds), maxRssMiB: runs.map((r) => r.maxRssMiB), detail: runs[0].detail };
    let before = '';
    if (BASE) {
      figures[name].base = { seconds: baseRuns.map((r) => r.seconds), maxRssMiB: baseRuns.map((r) => r.maxRssMiB), detail: baseRuns[0].detail };
      before = `  (base: ${median(baseRuns.map((r) => r.seconds)).toFixed(2)} s, ${Math.max(...baseRuns.map((r) => r.maxRssMiB)).toFixed(0)} MiB, ${baseRuns[0].detail})`;
    }
    console.log(`  ${name.padEnd(17)} ${seconds.toFixed(2)} s  peak RSS ${rss.toFixed(0)} MiB  ${runs[0].detail}${before}`);
    const timed = READERS.timed.includes(name);
    const what = `${name}: ${timed ? `at most ${READERS.seconds} s and ` : 'peak RSS '}${timed ? '' : 'at most '}${READERS.rssMiB} MiB (this stop's bound)`;
    if (total >= TARGET.events) targets.check(what, seconds, READERS.seconds, (!timed || seconds <= READERS.seconds) && rss <= READERS.rssMiB, `${seconds.toFixed(2)} s, ${rss.toFixed(0)} MiB`);
    else targets.skip(what, READERS.seconds, `only ${total.toLocaleString('en-US')} events: ${seconds.toFixed(2)} s, ${rss.toFixed(0)} MiB`);
  }
  return figures;
}
