#!/usr/bin/env node
// Pli vs age vs gpg, whole commands from the command line, file to file (see bench/README.md).
//   node bench/crypto.mjs [--quick | --small] [--reps N] [--big-reps N] [--dir DIR] [--age-first] [--no-warm]   (after `npm run build`; `npm run bench` does both)
// Every timed command runs under /usr/bin/time (wall time measured here, peak RSS from %M). Tools
// alternate run by run (pli, age, gpg, then age, pli, gpg in the next repetition); each cell is
// the median of its repetitions, and each Pli (and gpg) run is paired with the age run next to
// it: the streaming ratio judged against the targets is the median of the per-pair ratios, which
// a load that comes and goes disturbs far less than a ratio of medians. Decryptions are checked
// byte for byte against the input (cmp).
// Work files live in a temporary folder under /tmp (or --dir: a tmpfs such as /dev/shm takes the
// disk out of the comparison, see bench/README.md), removed at the end; raw results, with the
// machine (bench/machine.mjs), go to bench/out/crypto-<date>.json.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync, closeSync } from 'node:fs';
import { randomFillSync } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { busy, cpuTimes, freedMemoryReporting, loadNow, machine, median, pliCommand, printHeader, reportedKiB, Targets, writeJson } from './machine.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const TIME = '/usr/bin/time';
const MiB = 1024 * 1024;

const argv = process.argv.slice(2);
const pliIndex = argv.indexOf('--pli'); // another build's bin/pli.js, to compare two builds
const PLI = path.resolve(pliIndex >= 0 ? argv[pliIndex + 1] : path.join(ROOT, 'bin', 'pli.js'));
const QUICK = argv.includes('--quick');
// --small: only the empty file and 1 MiB (the fixed-cost targets), a few minutes even when loaded.
const SMALL = argv.includes('--small');
const repsIndex = argv.indexOf('--reps');
const REPS = repsIndex >= 0 ? Number(argv[repsIndex + 1]) : QUICK ? 3 : 7;
// 1 GiB runs (Pli and age: streaming and peak RSS), skipped by --quick and --small: 3 pairs, or 5
// on a virtual machine that hands freed memory back to its host. There a 1 GiB write costs 0.34 s
// or up to 2.4 s at random (machine.mjs, freedMemoryReporting), to either tool of a pair, and the
// median of 3 pairs is one noisy pair; the count is decided here, before anything is measured.
const bigRepsIndex = argv.indexOf('--big-reps');
const HANDS_MEMORY_BACK = freedMemoryReporting().reporting;
const BIG_REPS = QUICK || SMALL ? 0 : bigRepsIndex >= 0 ? Number(argv[bigRepsIndex + 1]) : HANDS_MEMORY_BACK ? 5 : 3;
// On such a VM the first tool of a pair to write a large output writes into memory the host took
// back, and pays for getting it back (up to 1 s for 1 GiB); the second writes into the pages the
// first one's output just freed. So each timed run of WARM_FROM bytes or more is preceded, untimed,
// by the same warm-up: a file that size written and deleted, and every tool writes into memory
// the guest holds, as on a physical workstation. --no-warm leaves it out, to see the bias.
const WARM = HANDS_MEMORY_BACK && !argv.includes('--no-warm');
const WARM_FROM = 64 * MiB;
const WARM_SLACK = 64 * MiB; // beyond the output: the tool's own buffers
if (!Number.isInteger(REPS) || REPS < 1) fail('--reps expects a positive integer');
if (!Number.isInteger(BIG_REPS) || BIG_REPS < 0) fail('--big-reps expects a whole number (0: no 1 GiB runs)');
const dirIndex = argv.indexOf('--dir');
// Where the inputs, containers and outputs live: Pli syncs what it writes to disk (the container,
// the decrypted files), age does not, so on a slow disk the sync alone can exceed age's time.
const WORK_PARENT = dirIndex >= 0 ? path.resolve(argv[dirIndex + 1] ?? '') : os.tmpdir();
if (dirIndex >= 0 && !existsSync(WORK_PARENT)) fail(`--dir: ${WORK_PARENT} does not exist`);

const TOOLS = ['pli', 'age', 'gpg'];
// The order inside a pair alternates from one repetition to the next (Pli first in odd ones): on a
// VM the first of a pair to write a large output can pay for memory its host took back, and
// alternating shares that between the tools (bench/README.md, "Whoever writes first").
// --age-first starts with age instead, to check that the order changes nothing.
const AGE_FIRST = argv.includes('--age-first');
const swapPliAge = (tools) => tools.map((t) => (t === 'pli' ? 'age' : t === 'age' ? 'pli' : t));
const inOrder = (tools, rep) => ((rep % 2 === 0) !== AGE_FIRST ? swapPliAge(tools) : tools);
const CASES = [
  { size: 0, recipients: 1 }, { size: 0, recipients: 10 },
  { size: 1 * MiB, recipients: 1 }, { size: 1 * MiB, recipients: 10 },
  { size: 256 * MiB, recipients: 1 }, { size: 256 * MiB, recipients: 10 },
].filter((c) => !SMALL || c.size <= MiB);
// 1 GiB: Pli and age only (gpg is no target, and 1 GiB of it would double the run's length).
const BIG_SIZE = 1024 * MiB;
const BIG_CASES = [{ size: BIG_SIZE, recipients: 1 }, { size: BIG_SIZE, recipients: 10 }];
const BIG_TOOLS = ['pli', 'age'];
const STREAMING_MIN = 64 * MiB;
// Issue 13's targets. streamingVsAge: the median of the per-pair ratios (Pli/age streaming cost).
const TARGETS = { streamingVsAge: 1.0, fixedSeconds: 0.5, rssMiB: 150, small10Seconds: 0.6 };
const PASSPHRASE = 'phrase de passe du banc d’essai';

function fail(message) {
  process.stderr.write(`bench: ${message}\n`);
  process.exit(1);
}

for (const tool of [TIME, '/usr/bin/age', '/usr/bin/age-keygen', '/usr/bin/gpg', '/usr/bin/cmp']) {
  if (!existsSync(tool)) fail(`${tool} is missing (Debian packages: time, age, gnupg, diffutils)`);
}
if (!existsSync(path.join(path.dirname(PLI), '..', 'dist', 'electron', 'cli', 'run.js'))) fail('Pli is not built: run `npm run build` first');

const work = mkdtempSync(path.join(WORK_PARENT, 'pli-bench-'));
/** The file system the work files are on (ext4, tmpfs...): whether a sync to disk costs anything. */
const workFs = spawnSync('stat', ['-f', '-c', '%T', work], { encoding: 'utf8' }).stdout?.trim() || 'unknown';
const gnupgHome = path.join(work, 'gnupg');
const env = { ...process.env, PLI_PASSPHRASE: PASSPHRASE, GNUPGHOME: gnupgHome, LC_ALL: 'C' };
function cleanUp() {
  spawnSync('gpgconf', ['--kill', 'gpg-agent'], { env }); // only the agent of our temporary GNUPGHOME
  rmSync(work, { recursive: true, force: true });
}
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    cleanUp();
    process.exit(130);
  });
}

/** Runs a command, untimed; returns stdout; throws with stderr on failure. */
function run(cmd, args, options = {}) {
  const r = spawnSync(cmd, args, { env, encoding: 'utf8', maxBuffer: 16 * MiB, ...options });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status ?? r.signal}):\n${r.stderr}`);
  return r.stdout;
}

/** Runs one timed command under /usr/bin/time: wall seconds measured here, peak RSS in KiB, and
 * the CPU seconds (user + system, every thread) it used: a figure that the load of others moves
 * far less than the wall time. Also what else ran meanwhile (others: the machine's busy CPU
 * seconds minus the command's; steal: the hypervisor's), while this process only waits. */
function timed(cmd, args) {
  spawnSync('sync'); // earlier runs' dirty pages are flushed outside the measurement
  const rssFile = path.join(work, 'rss.txt');
  const cpuBefore = cpuTimes();
  const reportedBefore = HANDS_MEMORY_BACK ? reportedKiB() : null;
  const start = process.hrtime.bigint();
  const r = spawnSync(TIME, ['-f', '%M %U %S', '-o', rssFile, cmd, ...args], { env, encoding: 'utf8', maxBuffer: 16 * MiB });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const cpuAfter = cpuTimes();
  const reportedAfter = reportedBefore === null ? null : reportedKiB();
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status ?? r.signal}):\n${r.stderr}`);
  const [rss, user, system] = readFileSync(rssFile, 'utf8').trim().split('\n').pop().split(' ').map(Number);
  const others = cpuBefore && cpuAfter ? { busy: cpuAfter.busy - cpuBefore.busy - (user + system), steal: cpuAfter.steal - cpuBefore.steal } : null;
  // Memory the VM handed back to its host while the command ran (MiB; null: not such a VM).
  const handedBackMiB = reportedAfter === null ? null : (reportedAfter - reportedBefore) / 1024;
  return { seconds, rssKiB: rss, cpuSeconds: user + system, others, handedBackMiB };
}

/** What else ran during the recorded runs, summed over them (null where /proc/stat is missing). */
const elsewhere = { seconds: 0, busy: 0, steal: 0, known: true };
/** Above this share of a core taken by others, Pli's two threads no longer had two cores. */
const SHARED_CORE = 0.15;

/** The cores others kept busy, on average over the recorded runs' time (null: not known here). */
function elsewhereShare() {
  if (!elsewhere.known || elsewhere.seconds === 0) return null;
  return { busy: Math.max(0, elsewhere.busy) / elsewhere.seconds, steal: Math.max(0, elsewhere.steal) / elsewhere.seconds };
}

/** Whether others took enough (`share` from elsewhereShare) that Pli's two threads lacked a core. */
const sharedCores = (share) => share !== null && share.busy + share.steal > SHARED_CORE;

function elsewhereLine(share) {
  if (share === null) return 'Other programs during the timed runs: not known here (no /proc/stat).';
  const shared = sharedCores(share);
  return `Other programs during the timed runs (the machine's busy CPU time minus the commands' own): ${share.busy.toFixed(2)} of a core on average, ` +
    `and ${share.steal.toFixed(2)} taken by the hypervisor for other machines (steal)` +
    (shared ? ": the cores were shared, so Pli's two threads had less than two of them while age's one thread still had one; Pli's ratios then rise (bench/README.md). Measure again on a quiet machine." : ': a quiet machine.');
}

/** Writes then deletes a file of `bytes` in the work folder: the pages it held are free again,
 * in the guest, as those of the output the previous run of a pair deleted. (Anonymous memory
 * does not do it here: freed in huge pages, the VM hands it back at once.) */
function warmMemory(bytes) {
  const file = path.join(work, 'warm.bin');
  makeFile(file, bytes, 1);
  rmSync(file);
}

/** A file of `size` bytes: random ones (an input), or every byte `fill` (no CPU spent on them). */
function makeFile(file, size, fill = null) {
  const fd = openSync(file, 'w');
  const block = Buffer.alloc(8 * MiB, fill ?? 0);
  for (let done = 0; done < size; done += block.length) {
    const n = Math.min(block.length, size - done);
    if (fill === null) randomFillSync(block, 0, n);
    writeSync(fd, block, 0, n);
  }
  closeSync(fd);
}

// ---------------------------------------------------------------- set-up (untimed)
const [PLI_CMD, PLI_PRE] = pliCommand(PLI);
const pli = (home, ...args) => run(PLI_CMD, [...PLI_PRE, '--home', home, ...args]).trim();
const homes = { sender: path.join(work, 'pli-sender'), recipients: [] };
function setUp() {
  process.stderr.write(`bench: set-up in ${work}\n`);
  pli(homes.sender, 'init');
  const senderId = pli(homes.sender, 'id', 'new', '--name', 'Expéditeur', '--email', 'exp@bench.invalid', '--org', 'Banc');
  pli(homes.sender, 'id', 'export', senderId, '--out', path.join(work, 'sender.card'));
  const pliIds = [];
  for (let i = 1; i <= 10; i++) {
    const home = path.join(work, `pli-r${i}`);
    pli(home, 'init');
    const id = pli(home, 'id', 'new', '--name', `Destinataire ${i}`, '--email', `d${i}@bench.invalid`, '--org', 'Banc');
    const card = path.join(work, `r${i}.card`);
    pli(home, 'id', 'export', id, '--out', card);
    pli(homes.sender, 'id', 'import', card);
    homes.recipients.push(home);
    pliIds.push(id);
  }
  pli(homes.recipients[0], 'id', 'import', path.join(work, 'sender.card')); // the reader knows the sender

  const ageKeys = [];
  for (let i = 1; i <= 10; i++) {
    const file = path.join(work, `age${i}.key`);
    run('age-keygen', ['-o', file]);
    ageKeys.push({ file, recipient: readFileSync(file, 'utf8').match(/public key: (age1\S+)/)[1] });
  }

  mkdirSync(gnupgHome, { mode: 0o700 });
  const gpgFprs = [];
  for (let i = 1; i <= 10; i++) {
    const uid = `Destinataire ${i} <d${i}@bench.invalid>`;
    run('gpg', ['--batch', '--passphrase', '', '--quick-gen-key', uid, 'ed25519', 'sign', 'never']);
    const fpr = run('gpg', ['--batch', '--with-colons', '--list-keys', `=${uid}`]).split('\n').find((l) => l.startsWith('fpr:')).split(':')[9];
    run('gpg', ['--batch', '--passphrase', '', '--quick-add-key', fpr, 'cv25519', 'encr', 'never']);
    gpgFprs.push(fpr);
  }
  return { pliIds, ageKeys, gpgFprs };
}

// ---------------------------------------------------------------- the commands
function commands(keys) {
  const out = (name) => path.join(work, name);
  return {
    pli: {
      encrypt: (input, n) => [PLI_CMD, [...PLI_PRE, '--home', homes.sender, 'encrypt', '--no-self', ...keys.pliIds.slice(0, n).flatMap((id) => ['--to', id]), '--out', out('c.pli'), input]],
      decrypt: () => [PLI_CMD, [...PLI_PRE, '--home', homes.recipients[0], 'decrypt', '--out', out('pli-out'), out('c.pli')]],
      decrypted: (input) => path.join(out('pli-out'), path.basename(input)),
      clean: () => rmSync(out('pli-out'), { recursive: true, force: true }),
    },
    age: {
      encrypt: (input, n) => ['age', [...keys.ageKeys.slice(0, n).flatMap((k) => ['-r', k.recipient]), '-o', out('c.age'), input]],
      decrypt: () => ['age', ['-d', '-i', keys.ageKeys[0].file, '-o', out('age-out'), out('c.age')]],
      decrypted: () => out('age-out'),
      clean: () => rmSync(out('age-out'), { force: true }),
    },
    gpg: {
      encrypt: (input, n) => ['gpg', ['--batch', '--yes', '--trust-model', 'always', '--compress-algo', 'none', '-e', ...keys.gpgFprs.slice(0, n).flatMap((f) => ['-r', f]), '-o', out('c.gpg'), input]],
      decrypt: () => ['gpg', ['--batch', '--yes', '-d', '-o', out('gpg-out'), out('c.gpg')]],
      decrypted: () => out('gpg-out'),
      clean: () => rmSync(out('gpg-out'), { force: true }),
    },
  };
}

const results = []; // { tool, op, size, recipients, seconds[], rssKiB[], cpuSeconds[], handedBackMiB[] }
function cell(tool, op, size, recipients) {
  let c = results.find((r) => r.tool === tool && r.op === op && r.size === size && r.recipients === recipients);
  if (!c) results.push(c = { tool, op, size, recipients, seconds: [], rssKiB: [], cpuSeconds: [], handedBackMiB: [] });
  return c;
}

function runCase(cmds, tools, { size, recipients }, input, record = true) {
  for (const op of ['encrypt', 'decrypt']) {
    for (const tool of tools) {
      const t = cmds[tool];
      t.clean();
      // pli encrypt never replaces an existing file: each encryption writes a fresh container
      // (the same for age and gpg, so that no tool pays for truncating another's old file).
      if (op === 'encrypt') rmSync(path.join(work, `c.${tool}`), { force: true });
      const [cmd, args] = op === 'encrypt' ? t.encrypt(input, recipients) : t.decrypt();
      if (WARM && size >= WARM_FROM) warmMemory(size + WARM_SLACK);
      const m = timed(cmd, args);
      if (op === 'decrypt') {
        const output = t.decrypted(input);
        // age -o creates no file at all for an empty plaintext: that counts as empty.
        const same = size === 0 && !existsSync(output) ? tool === 'age' : spawnSync('cmp', ['-s', input, output]).status === 0;
        if (!same) throw new Error(`${tool}: decrypted output differs from ${path.basename(input)}`);
        t.clean();
      }
      if (record) {
        if (m.others) {
          elsewhere.seconds += m.seconds;
          elsewhere.busy += m.others.busy;
          elsewhere.steal += m.others.steal;
        } else elsewhere.known = false;
        const c = cell(tool, op, size, recipients);
        c.seconds.push(m.seconds);
        c.rssKiB.push(m.rssKiB);
        c.cpuSeconds.push(m.cpuSeconds);
        c.handedBackMiB.push(m.handedBackMiB);
      }
    }
  }
}

function summarise() {
  const rows = results.map((c) => ({ ...c, median: median(c.seconds), cpuMedian: median(c.cpuSeconds), peakRssMiB: Math.max(...c.rssKiB) / 1024 }));
  const find = (tool, op, size, recipients) => rows.find((r) => r.tool === tool && r.op === op && r.size === size && r.recipients === recipients);
  for (const r of rows) {
    const fixed = find(r.tool, r.op, 0, r.recipients);
    r.fixed = fixed.median;
    // Below STREAMING_MIN the difference is lost in the run-to-run noise of the fixed cost.
    r.streaming = r.size >= STREAMING_MIN ? r.median - fixed.median : null;
    r.mbps = r.size > 0 ? r.size / 1e6 / r.median : null;
    r.streamingMbps = r.streaming > 0 ? r.size / 1e6 / r.streaming : null;
  }
  for (const r of rows) {
    const age = find('age', r.op, r.size, r.recipients);
    // Today's figure, kept beside the pairs: the ratio of the two medians' streaming costs.
    r.streamingVsAge = r.tool !== 'age' && age && r.streaming > 0 && age.streaming > 0 ? r.streaming / age.streaming : null;
    // The pairs: repetition i of this tool and repetition i of age ran next to each other (the
    // tools alternate inside runCase), so both saw the same load. Each tool's fixed cost is its
    // median on an empty file, subtracted from both sides as above. A pair where either
    // streaming cost comes out at zero or below gives no ratio: that is the fixed cost's noise
    // (a slow empty-file run on a busy machine), not a speed, and a negative ratio would pass.
    r.pairRatios = null;
    if (r.tool !== 'age' && age && r.streaming !== null && age.seconds.length === r.seconds.length) {
      r.pairRatios = r.seconds.map((s, i) => {
        const ours = s - r.fixed;
        const theirs = age.seconds[i] - age.fixed;
        return ours > 0 && theirs > 0 ? ours / theirs : null;
      });
    }
    const valid = r.pairRatios?.filter((x) => x !== null) ?? [];
    r.pairRatio = valid.length ? { median: median(valid), min: Math.min(...valid), max: Math.max(...valid), pairs: valid.length, of: r.seconds.length } : null;
  }
  return { rows, find };
}

function sizeLabel(size) {
  return size === 0 ? '0' : size >= 1024 * MiB ? `${size / 1024 / MiB} GiB` : `${size / MiB} MiB`;
}

function printTable(rows) {
  const head = ['tool', 'op', 'size', 'rcpt', 'runs', 'median s', 'CPU s', 'MB/s', 'stream MB/s', 'stream/age', 'pairs: median [min-max]', 'peak RSS MiB'];
  const fmt = (x, d) => (x === null || x === undefined ? '-' : x.toFixed(d));
  const pairs = (p) => (p ? `${p.median.toFixed(2)} [${p.min.toFixed(2)}-${p.max.toFixed(2)}]` : '-');
  const order = (r) => [r.size, r.recipients, r.op === 'encrypt' ? 0 : 1, TOOLS.indexOf(r.tool)];
  const sorted = [...rows].sort((a, b) => {
    const x = order(a), y = order(b);
    for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return x[i] - y[i];
    return 0;
  });
  const lines = sorted.map((r) => [r.tool, r.op, sizeLabel(r.size), String(r.recipients), String(r.seconds.length), fmt(r.median, 3), fmt(r.cpuMedian, 2), fmt(r.mbps, 0), fmt(r.streamingMbps, 0), fmt(r.streamingVsAge, 2), pairs(r.pairRatio), fmt(r.peakRssMiB, 0)]);
  const widths = head.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const show = (cols) => cols.map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  console.log(show(head));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  let previous = null;
  sorted.forEach((r, i) => {
    const key = `${r.size}/${r.recipients}`;
    if (previous !== null && key !== previous) console.log('');
    previous = key;
    console.log(show(lines[i]));
  });
}

function checkTargets(find) {
  const targets = new Targets();
  for (const size of [256 * MiB, BIG_SIZE]) {
    for (const op of ['encrypt', 'decrypt']) {
      for (const n of [1, 10]) {
        const name = `streaming ${op} ${sizeLabel(size)}, ${n} rcpt <= ${TARGETS.streamingVsAge.toFixed(1)}x age (median of the pairs)`;
        const r = find('pli', op, size, n);
        if (!r) targets.skip(name, TARGETS.streamingVsAge, `not run (${SMALL ? '--small' : '--quick'})`);
        // Not shown is not passed: with no valid pair the target counts as failed, with why.
        else if (!r.pairRatio) targets.check(name, null, TARGETS.streamingVsAge, false, 'no valid pair (a streaming cost came out at zero or below: the fixed cost\'s noise; rerun with --reps 11 on a quieter machine)');
        else {
          const p = r.pairRatio;
          const ofMedians = r.streamingVsAge === null ? '-' : `${r.streamingVsAge.toFixed(2)}x`;
          targets.check(name, p.median, TARGETS.streamingVsAge, p.median <= TARGETS.streamingVsAge, `${p.median.toFixed(2)}x (${p.pairs} of ${p.of} pairs valid, ${p.min.toFixed(2)}-${p.max.toFixed(2)}; ratio of medians ${ofMedians})`);
        }
      }
    }
  }
  for (const op of ['encrypt', 'decrypt']) {
    for (const n of [1, 10]) {
      const v = find('pli', op, 0, n).median;
      targets.check(`fixed cost ${op}, ${n} rcpt (empty file, key unlock included) <= ${TARGETS.fixedSeconds} s`, v, TARGETS.fixedSeconds, v <= TARGETS.fixedSeconds, `${v.toFixed(3)} s`);
    }
  }
  const small = find('pli', 'encrypt', MiB, 10).median;
  targets.check(`encrypt 1 MiB to 10 rcpt, end to end <= ${TARGETS.small10Seconds} s`, small, TARGETS.small10Seconds, small <= TARGETS.small10Seconds, `${small.toFixed(3)} s`);
  // Peak RSS "whatever the size": the largest of every Pli run of that operation.
  for (const op of ['encrypt', 'decrypt']) {
    if (SMALL) {
      targets.skip(`peak RSS ${op}, every size <= ${TARGETS.rssMiB} MiB`, TARGETS.rssMiB, 'not run (--small: 0 B and 1 MiB only)');
      continue;
    }
    const runs = results.filter((c) => c.tool === 'pli' && c.op === op).map((c) => ({ c, mib: Math.max(...c.rssKiB) / 1024 }));
    const top = runs.reduce((a, b) => (b.mib > a.mib ? b : a));
    const bySize = [...new Set(runs.map((x) => x.c.size))].sort((a, b) => a - b).map((size) => `${sizeLabel(size)}: ${Math.max(...runs.filter((x) => x.c.size === size).map((x) => x.mib)).toFixed(0)}`);
    targets.check(`peak RSS ${op}, every size <= ${TARGETS.rssMiB} MiB`, top.mib, TARGETS.rssMiB, top.mib <= TARGETS.rssMiB,
      `${top.mib.toFixed(0)} MiB (${bySize.join(', ')})${BIG_REPS ? '' : '; 1 GiB not run (--quick)'}`);
  }
  targets.print();
  return targets;
}

function toolVersions() {
  const first = (cmd, args) => {
    const r = spawnSync(cmd, args, { env, encoding: 'utf8' });
    return `${r.stdout}${r.stderr}`.split('\n')[0].trim();
  };
  return { pli: `${path.relative(process.cwd(), PLI)}${PLI_PRE.length ? ' through node' : ', run as a command'}`, age: first('age', ['--version']), gpg: first('gpg', ['--version']) };
}

// ---------------------------------------------------------------- main
let exitCode = 0;
const box = await machine(); // before the set-up: the load average at start is the machine's own
const tools = toolVersions();
printHeader(`Pli vs age vs gpg, whole commands file to file; ${REPS} repetitions (1 GiB: ${BIG_REPS || `skipped, ${SMALL ? '--small' : '--quick'}`})`, box,
  [`Pli ${tools.pli}; age ${tools.age}; ${tools.gpg}`]);
try {
  const keys = setUp();
  const cmds = commands(keys);
  const inputs = new Map();
  for (const size of [...new Set(CASES.map((c) => c.size)), ...(BIG_REPS ? [BIG_SIZE] : [])]) {
    const file = path.join(work, `input-${sizeLabel(size).replace(' ', '')}.bin`);
    makeFile(file, size);
    inputs.set(size, file);
  }
  // One untimed warm-up of every command (starts gpg-agent, fills the page cache).
  for (const c of CASES) runCase(cmds, TOOLS, c, inputs.get(c.size), false);
  const started = Date.now();
  const loadBefore = loadNow();
  const handedBackBefore = reportedKiB();
  for (let rep = 1; rep <= REPS; rep++) {
    process.stderr.write(`bench: repetition ${rep}/${REPS} (${((Date.now() - started) / 1000).toFixed(0)} s)\n`);
    for (const c of CASES) runCase(cmds, inOrder(TOOLS, rep), c, inputs.get(c.size));
  }
  // The same untimed warm-up for 1 GiB, just before its pairs: the first 1 GiB pair is the first
  // to hold that much memory at once. In 52 earlier runs on a VM that hands memory back, its runs
  // were slow (over 1.3x the median of the later pairs) 22-39 % of the time for Pli's encryption
  // and decryption and age's encryption, against 5-14 % for the later pairs' (bench/README.md,
  // "Two writers, one spinning").
  if (BIG_REPS) {
    process.stderr.write(`bench: 1 GiB, Pli and age, untimed warm-up (${((Date.now() - started) / 1000).toFixed(0)} s)\n`);
    for (const c of BIG_CASES) runCase(cmds, BIG_TOOLS, c, inputs.get(BIG_SIZE), false);
  }
  for (let rep = 1; rep <= BIG_REPS; rep++) {
    process.stderr.write(`bench: 1 GiB, Pli and age, ${rep}/${BIG_REPS} (${((Date.now() - started) / 1000).toFixed(0)} s)\n`);
    for (const c of BIG_CASES) runCase(cmds, inOrder(BIG_TOOLS, rep), c, inputs.get(BIG_SIZE));
  }
  for (const tool of TOOLS) cmds[tool].clean();

  const loadAfter = loadNow();
  const handedBack = handedBackBefore === null ? null : (reportedKiB() - handedBackBefore) / 2 ** 20;
  const { rows, find } = summarise();
  console.log(`Median of ${REPS} runs (1 GiB: ${BIG_REPS || 'skipped'}), file to file in ${WORK_PARENT} (${workFs}); MB = 10^6 bytes.`);
  if (workFs !== 'tmpfs') console.log('Pli syncs what it writes to disk and age does not: on a slow disk that sync can outweigh the crypto (--dir /dev/shm: without the disk).');
  console.log('CPU s = median CPU time of the command (user + system, all threads): less moved by the load of others than the wall time.');
  console.log('streaming = total - median total of the same command on an empty file (its fixed cost), from 64 MiB up');
  console.log('(for 1 MiB it is lost in the noise of the fixed cost). stream/age = ratio of the two medians\' streaming costs;');
  console.log('pairs = each run\'s streaming cost / that of the age run next to it: their median [min-max] is what the targets judge.');
  console.log("Pli's fixed cost includes unlocking the private key (Argon2id, 64 MiB, 3 passes) and its audit log.");
  console.log(`Load average (1 min) ${loadBefore.toFixed(1)} before the timed runs, ${loadAfter.toFixed(1)} after, on ${box.cores} cores${busy(Math.max(loadBefore, loadAfter), box.cores) ? ': the machine was busy, expect noise' : ''}.`);
  const share = elsewhereShare();
  console.log(elsewhereLine(share));
  if (HANDS_MEMORY_BACK) console.log(`Freed memory handed back to the host during the timed runs: ${handedBack === null ? 'not shown by this kernel' : `${handedBack.toFixed(1)} GiB`} (1 GiB: ${BIG_REPS} pairs); ${WARM ? `memory warmed before each timed run of ${WARM_FROM / MiB} MiB or more` : 'memory NOT warmed (--no-warm): the first tool of each pair pays for memory the host took back'}.`);
  console.log(`Order in each pair: ${AGE_FIRST ? 'age first in odd repetitions, Pli first in even ones (--age-first)' : 'Pli first in odd repetitions, age first in even ones'}.`);
  console.log('');
  printTable(rows);
  // Said again next to the verdicts, which are read first.
  if (sharedCores(share)) console.log(`\nMeasured on shared cores: other programs used ${(share.busy + share.steal).toFixed(2)} of a core during the timed runs (above).`);
  const targets = checkTargets(find);
  exitCode = targets.exitCode();

  const outFile = writeJson('crypto', { quick: QUICK, reps: REPS, bigReps: BIG_REPS, workDir: WORK_PARENT, workFs, machine: box, tools, loadavg: { start: box.loadavgAtStart['1min'], beforeRuns: loadBefore, after: loadAfter }, elsewhere: share, handedBackGiB: handedBack, limits: TARGETS, warmed: WARM, ageFirst: AGE_FIRST, cells: rows, targets });
  console.log(`\nRaw results: ${outFile}`);
} catch (error) {
  process.stderr.write(`bench: ${error.stack ?? error}\n`);
  exitCode = 1;
} finally {
  cleanUp();
}
process.exitCode = exitCode;
