#!/usr/bin/env node
// Pli vs age vs gpg, whole commands from the command line, file to file (see bench/README.md).
//   node bench/crypto.mjs [--quick] [--reps N]     (after `npm run build`; `npm run bench` does both)
// Every timed command runs under /usr/bin/time (wall time measured here, peak RSS from %M). Tools
// alternate run by run (pli, age, gpg, pli, ...); each cell is the median of its repetitions.
// Decryptions are checked byte for byte against the input (cmp). Work files live in a temporary
// folder under /tmp, removed at the end; raw results go to bench/out/crypto-<date>.json.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync, closeSync } from 'node:fs';
import { randomFillSync } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const TIME = '/usr/bin/time';
const MiB = 1024 * 1024;

const argv = process.argv.slice(2);
const pliIndex = argv.indexOf('--pli'); // another build's bin/pli.js, to compare two builds
const PLI = path.resolve(pliIndex >= 0 ? argv[pliIndex + 1] : path.join(ROOT, 'bin', 'pli.js'));
const QUICK = argv.includes('--quick');
const repsIndex = argv.indexOf('--reps');
const REPS = repsIndex >= 0 ? Number(argv[repsIndex + 1]) : QUICK ? 3 : 7;
const BIG_REPS = QUICK ? 0 : 3; // 1 GiB runs (Pli only, for peak RSS); skipped by --quick
if (!Number.isInteger(REPS) || REPS < 1) fail('--reps expects a positive integer');

const TOOLS = ['pli', 'age', 'gpg'];
const CASES = [
  { size: 0, recipients: 1 }, { size: 0, recipients: 10 },
  { size: 1 * MiB, recipients: 1 }, { size: 1 * MiB, recipients: 10 },
  { size: 256 * MiB, recipients: 1 }, { size: 256 * MiB, recipients: 10 },
];
const BIG = { size: 1024 * MiB, recipients: 1 };
const STREAMING_MIN = 64 * MiB;
const TARGETS = { streamingVsAge: 1.5, fixedSeconds: 0.8, rssMiB: 150, small10Seconds: 1.0 };
const PASSPHRASE = 'phrase de passe du banc d’essai';

function fail(message) {
  process.stderr.write(`bench: ${message}\n`);
  process.exit(1);
}

for (const tool of [TIME, '/usr/bin/age', '/usr/bin/age-keygen', '/usr/bin/gpg', '/usr/bin/cmp']) {
  if (!existsSync(tool)) fail(`${tool} is missing (Debian packages: time, age, gnupg, diffutils)`);
}
if (!existsSync(path.join(path.dirname(PLI), '..', 'dist', 'electron', 'cli', 'run.js'))) fail('Pli is not built: run `npm run build` first');

const work = mkdtempSync(path.join(os.tmpdir(), 'pli-bench-'));
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

/** Runs one timed command under /usr/bin/time: wall seconds measured here, peak RSS in KiB. */
function timed(cmd, args) {
  spawnSync('sync'); // earlier runs' dirty pages are flushed outside the measurement
  const rssFile = path.join(work, 'rss.txt');
  const start = process.hrtime.bigint();
  const r = spawnSync(TIME, ['-f', '%M', '-o', rssFile, cmd, ...args], { env, encoding: 'utf8', maxBuffer: 16 * MiB });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status ?? r.signal}):\n${r.stderr}`);
  const rssKiB = Number(readFileSync(rssFile, 'utf8').trim().split('\n').pop());
  return { seconds, rssKiB };
}

function makeFile(file, size) {
  const fd = openSync(file, 'w');
  const block = Buffer.alloc(8 * MiB);
  for (let done = 0; done < size; done += block.length) {
    const n = Math.min(block.length, size - done);
    randomFillSync(block, 0, n);
    writeSync(fd, block, 0, n);
  }
  closeSync(fd);
}

// ---------------------------------------------------------------- set-up (untimed)
const pli = (home, ...args) => run('node', [PLI, '--home', home, ...args]).trim();
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
      encrypt: (input, n) => ['node', [PLI, '--home', homes.sender, 'encrypt', '--no-self', ...keys.pliIds.slice(0, n).flatMap((id) => ['--to', id]), '--out', out('c.pli'), input]],
      decrypt: () => ['node', [PLI, '--home', homes.recipients[0], 'decrypt', '--out', out('pli-out'), out('c.pli')]],
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

const results = []; // { tool, op, size, recipients, seconds[], rssKiB[] }
function cell(tool, op, size, recipients) {
  let c = results.find((r) => r.tool === tool && r.op === op && r.size === size && r.recipients === recipients);
  if (!c) results.push(c = { tool, op, size, recipients, seconds: [], rssKiB: [] });
  return c;
}

function runCase(cmds, tools, { size, recipients }, input, record = true) {
  for (const op of ['encrypt', 'decrypt']) {
    for (const tool of tools) {
      const t = cmds[tool];
      t.clean();
      const [cmd, args] = op === 'encrypt' ? t.encrypt(input, recipients) : t.decrypt();
      const m = timed(cmd, args);
      if (op === 'decrypt') {
        const output = t.decrypted(input);
        // age -o creates no file at all for an empty plaintext: that counts as empty.
        const same = size === 0 && !existsSync(output) ? tool === 'age' : spawnSync('cmp', ['-s', input, output]).status === 0;
        if (!same) throw new Error(`${tool}: decrypted output differs from ${path.basename(input)}`);
        t.clean();
      }
      if (record) {
        const c = cell(tool, op, size, recipients);
        c.seconds.push(m.seconds);
        c.rssKiB.push(m.rssKiB);
      }
    }
  }
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

function summarise() {
  const rows = results.map((c) => ({ ...c, median: median(c.seconds), peakRssMiB: Math.max(...c.rssKiB) / 1024 }));
  const find = (tool, op, size, recipients) => rows.find((r) => r.tool === tool && r.op === op && r.size === size && r.recipients === recipients);
  for (const r of rows) {
    const fixed = find(r.tool, r.op, 0, r.recipients) ?? find(r.tool, r.op, 0, 1);
    r.fixed = fixed.median;
    // Below STREAMING_MIN the difference is lost in the run-to-run noise of the fixed cost.
    r.streaming = r.size >= STREAMING_MIN ? r.median - fixed.median : null;
    r.mbps = r.size > 0 ? r.size / 1e6 / r.median : null;
    r.streamingMbps = r.streaming > 0 ? r.size / 1e6 / r.streaming : null;
  }
  for (const r of rows) {
    const age = find('age', r.op, r.size, r.recipients);
    r.streamingVsAge = age && r.streaming > 0 && age.streaming > 0 ? r.streaming / age.streaming : null;
  }
  return { rows, find };
}

function sizeLabel(size) {
  return size === 0 ? '0' : size >= 1024 * MiB ? `${size / 1024 / MiB} GiB` : `${size / MiB} MiB`;
}

function printTable(rows) {
  const head = ['tool', 'op', 'size', 'rcpt', 'median s', 'MB/s', 'stream MB/s', 'stream/age', 'peak RSS MiB'];
  const fmt = (x, d) => (x === null || x === undefined ? '-' : x.toFixed(d));
  const order = (r) => [r.size, r.recipients, r.op === 'encrypt' ? 0 : 1, TOOLS.indexOf(r.tool)];
  const sorted = [...rows].sort((a, b) => {
    const x = order(a), y = order(b);
    for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return x[i] - y[i];
    return 0;
  });
  const lines = sorted.map((r) => [r.tool, r.op, sizeLabel(r.size), String(r.recipients), fmt(r.median, 3), fmt(r.mbps, 0), fmt(r.streamingMbps, 0), fmt(r.streamingVsAge, 2), fmt(r.peakRssMiB, 0)]);
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
  const checks = [];
  const add = (name, value, limit, pass, detail) => checks.push({ name, value, limit, pass, detail });
  for (const op of ['encrypt', 'decrypt']) {
    for (const n of [1, 10]) {
      const r = find('pli', op, 256 * MiB, n);
      const v = r?.streamingVsAge ?? null;
      add(`streaming ${op} 256 MiB, ${n} rcpt <= ${TARGETS.streamingVsAge}x age`, v, TARGETS.streamingVsAge, v !== null && v <= TARGETS.streamingVsAge, v === null ? 'n/a' : `${v.toFixed(2)}x (aim 1.0)`);
    }
  }
  for (const op of ['encrypt', 'decrypt']) {
    for (const n of [1, 10]) {
      const v = find('pli', op, 0, n).median;
      add(`fixed cost ${op}, ${n} rcpt <= ${TARGETS.fixedSeconds} s`, v, TARGETS.fixedSeconds, v <= TARGETS.fixedSeconds, `${v.toFixed(3)} s`);
    }
  }
  for (const op of ['encrypt', 'decrypt']) {
    const r = find('pli', op, BIG.size, BIG.recipients);
    if (!r) add(`peak RSS ${op} 1 GiB <= ${TARGETS.rssMiB} MiB`, null, TARGETS.rssMiB, null, 'SKIP (--quick)');
    else add(`peak RSS ${op} 1 GiB <= ${TARGETS.rssMiB} MiB`, r.peakRssMiB, TARGETS.rssMiB, r.peakRssMiB <= TARGETS.rssMiB, `${r.peakRssMiB.toFixed(0)} MiB (256 MiB: ${find('pli', op, 256 * MiB, 1).peakRssMiB.toFixed(0)}, empty: ${find('pli', op, 0, 1).peakRssMiB.toFixed(0)})`);
  }
  const small = find('pli', 'encrypt', MiB, 10).median;
  add(`encrypt 1 MiB to 10 rcpt < ${TARGETS.small10Seconds} s end to end`, small, TARGETS.small10Seconds, small < TARGETS.small10Seconds, `${small.toFixed(3)} s`);
  console.log('\nTargets');
  for (const c of checks) console.log(`  ${c.pass === null ? 'SKIP' : c.pass ? 'PASS' : 'FAIL'}  ${c.name}: ${c.detail}`);
  return checks;
}

function versions() {
  const first = (cmd, args) => {
    const r = spawnSync(cmd, args, { env, encoding: 'utf8' });
    return `${r.stdout}${r.stderr}`.split('\n')[0].trim();
  };
  return { node: process.version, age: first('age', ['--version']), gpg: first('gpg', ['--version']), cpus: os.cpus().length, cpu: os.cpus()[0]?.model, memGiB: Math.round(os.totalmem() / 2 ** 30) };
}

// ---------------------------------------------------------------- main
let exitCode = 0;
try {
  const keys = setUp();
  const cmds = commands(keys);
  const inputs = new Map();
  for (const size of [...new Set(CASES.map((c) => c.size)), ...(BIG_REPS ? [BIG.size] : [])]) {
    const file = path.join(work, `input-${sizeLabel(size).replace(' ', '')}.bin`);
    makeFile(file, size);
    inputs.set(size, file);
  }
  // One untimed warm-up of every command (starts gpg-agent, fills the page cache).
  for (const c of CASES) runCase(cmds, TOOLS, c, inputs.get(c.size), false);
  const started = Date.now();
  const loadBefore = os.loadavg()[0];
  for (let rep = 1; rep <= REPS; rep++) {
    process.stderr.write(`bench: repetition ${rep}/${REPS} (${((Date.now() - started) / 1000).toFixed(0)} s)\n`);
    for (const c of CASES) runCase(cmds, TOOLS, c, inputs.get(c.size));
  }
  for (let rep = 1; rep <= BIG_REPS; rep++) {
    process.stderr.write(`bench: 1 GiB, Pli, ${rep}/${BIG_REPS}\n`);
    runCase(cmds, ['pli'], BIG, inputs.get(BIG.size));
  }
  for (const tool of TOOLS) cmds[tool].clean();

  const loadAfter = os.loadavg()[0];
  const { rows, find } = summarise();
  console.log(`\nPli (${path.relative(process.cwd(), PLI)}) vs age vs gpg, file to file in ${os.tmpdir()}, median of ${REPS} runs (1 GiB: ${BIG_REPS || 'skipped'}); MB = 10^6 bytes.`);
  console.log('streaming = median total - median total of the same command on an empty file (its fixed cost),');
  console.log('shown from 64 MiB up (for 1 MiB it is lost in the noise of the fixed cost);');
  console.log("Pli's fixed cost includes unlocking the private key (Argon2id, 64 MiB, 3 passes) and its audit log.");
  console.log(`Load average (1 min) ${loadBefore.toFixed(1)} before, ${loadAfter.toFixed(1)} after, on ${os.cpus().length} CPUs${Math.max(loadBefore, loadAfter) > os.cpus().length / 2 ? ': the machine was busy, expect noise' : ''}.\n`);
  printTable(rows);
  const checks = checkTargets(find);
  if (checks.some((c) => c.pass === false)) exitCode = 2;

  const outDir = path.join(ROOT, 'bench', 'out');
  mkdirSync(outDir, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const outFile = path.join(outDir, `crypto-${stamp}.json`);
  writeFileSync(outFile, JSON.stringify({ date: new Date().toISOString(), quick: QUICK, reps: REPS, bigReps: BIG_REPS, machine: versions(), loadavg: { before: loadBefore, after: loadAfter }, targets: TARGETS, cells: rows, checks }, null, 2));
  console.log(`\nRaw results: ${path.relative(process.cwd(), outFile)}`);
} catch (error) {
  process.stderr.write(`bench: ${error.stack ?? error}\n`);
  exitCode = 1;
} finally {
  cleanUp();
}
process.exitCode = exitCode;
