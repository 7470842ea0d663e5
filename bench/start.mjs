#!/usr/bin/env node
// The fixed cost of a `pli` command, build against build (see bench/README.md, "start.mjs").
//   node bench/start.mjs [--reps N] [--base /other/build/bin/pli.js] [--keep]
// Times whole commands as a user runs them (bin/pli.js as the `pli` command): --help, id list, encrypt and
// decrypt of an empty file (1 and 10 recipients, key unlock included) and 1 MiB to 10 recipients.
// With --base, each run of this build is paired with a run of the other one next to it (same load)
// and the median of the per-pair ratios is printed: that is the figure to read on a busy machine,
// for the wall time and (with GNU time, /usr/bin/time) the CPU time of every thread.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync, mkdirSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { machine, pliCommand, printHeader } from './machine.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const argv = process.argv.slice(2);
const opt = (name) => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : undefined);
const REPS = Number(opt('--reps') ?? 7);
const PLI = path.join(ROOT, 'bin', 'pli.js');
const BASE = opt('--base') ? path.resolve(opt('--base')) : null;
const PASSPHRASE = 'phrase de passe du banc d’essai';
const work = mkdtempSync(path.join(os.tmpdir(), 'pli-start-'));
const env = { ...process.env, PLI_PASSPHRASE: PASSPHRASE };

// args[0]: a build's bin/pli.js, run as the `pli` command (machine.mjs, pliCommand).
function run(args, wrapper = []) {
  const [program, before] = pliCommand(args[0]);
  const [command, ...rest] = [...wrapper, program, ...before, ...args.slice(1)];
  const r = spawnSync(command, rest, { env, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${args.join(' ')} failed (${r.status}):\n${r.stderr}`);
  return r.stdout.trim();
}
// CPU-seconds (user + system, every thread) through GNU time where there is one: on a busy machine
// the wall time mostly measures the others' load, the CPU time much less so.
const TIME = existsSync('/usr/bin/time') ? '/usr/bin/time' : null;
const cpuFile = path.join(work, 'cpu.txt');
function timed(args) {
  const start = process.hrtime.bigint();
  run(args, TIME ? [TIME, '-o', cpuFile, '-f', '%U %S'] : []);
  const wall = Number(process.hrtime.bigint() - start) / 1e9;
  const cpu = TIME ? readFileSync(cpuFile, 'utf8').trim().split('\n').pop().split(' ').map(Number).reduce((a, b) => a + b, 0) : NaN;
  return { wall, cpu };
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

// Set-up (untimed): a sender and 10 recipients, cards imported both ways for the first.
const sender = path.join(work, 'sender');
const pli = (home, ...args) => run([PLI, '--home', home, ...args]);
pli(sender, 'init');
const senderId = pli(sender, 'id', 'new', '--name', 'Expéditeur', '--email', 'e@bench.invalid', '--org', 'Banc');
pli(sender, 'id', 'export', senderId, '--out', path.join(work, 's.card'));
const ids = [];
const r1 = path.join(work, 'r1');
for (let i = 1; i <= 10; i++) {
  const home = path.join(work, `r${i}`);
  pli(home, 'init');
  const id = pli(home, 'id', 'new', '--name', `Destinataire ${i}`, '--email', `d${i}@bench.invalid`, '--org', 'Banc');
  pli(home, 'id', 'export', id, '--out', path.join(work, `r${i}.card`));
  pli(sender, 'id', 'import', path.join(work, `r${i}.card`));
  ids.push(id);
}
pli(r1, 'id', 'import', path.join(work, 's.card'));
const empty = path.join(work, 'empty.bin');
const mib = path.join(work, 'one-mib.bin');
writeFileSync(empty, '');
writeFileSync(mib, randomBytes(1024 * 1024));
const to = (n) => ids.slice(0, n).flatMap((id) => ['--to', id]);
const decryptInput = path.join(work, 'for-decrypt.pli');
pli(sender, 'encrypt', '--no-self', ...to(1), '--out', decryptInput, empty);

let counter = 0;
const fresh = (ext) => path.join(work, `out-${counter++}${ext}`);
const CASES = [
  { name: '--help', args: () => ['--help'] },
  { name: 'id list', args: () => ['--home', sender, 'id', 'list'] },
  { name: 'encrypt 0 B, 1 rcpt', args: () => ['--home', sender, 'encrypt', '--no-self', ...to(1), '--out', fresh('.pli'), empty] },
  { name: 'encrypt 0 B, 10 rcpt', args: () => ['--home', sender, 'encrypt', '--no-self', ...to(10), '--out', fresh('.pli'), empty] },
  { name: 'decrypt 0 B, 1 rcpt', args: () => { const dir = fresh(''); mkdirSync(dir); return ['--home', r1, 'decrypt', '--out', dir, decryptInput]; } },
  { name: 'encrypt 1 MiB, 10 rcpt', args: () => ['--home', sender, 'encrypt', '--no-self', ...to(10), '--out', fresh('.pli'), mib] },
];

const m = await machine();
printHeader('Pli: fixed cost of a command (bench/start.mjs)', m, [`this build: ${PLI}${BASE ? `\nbase build: ${BASE}` : ''}`, `repetitions: ${REPS}, paired run by run`]);
const rows = [];
for (const c of CASES) {
  const ours = [];
  const theirs = [];
  timed([PLI, ...c.args()]); // warm-up (page cache)
  if (BASE) timed([BASE, ...c.args()]);
  for (let i = 0; i < REPS; i++) {
    ours.push(timed([PLI, ...c.args()]));
    if (BASE) theirs.push(timed([BASE, ...c.args()]));
  }
  const of = (runs, key) => runs.map((r) => r[key]);
  const row = {
    name: c.name, ours: median(of(ours, 'wall')), base: BASE ? median(of(theirs, 'wall')) : null, ratio: BASE ? median(ours.map((r, i) => r.wall / theirs[i].wall)) : null,
    oursCpu: median(of(ours, 'cpu')), baseCpu: BASE ? median(of(theirs, 'cpu')) : null, cpuRatio: BASE ? median(ours.map((r, i) => r.cpu / theirs[i].cpu)) : null,
  };
  rows.push(row);
  console.log(`${c.name.padEnd(24)} ${row.ours.toFixed(3)} s${BASE ? `   base ${row.base.toFixed(3)} s   ratio (median of pairs) ${row.ratio.toFixed(2)}` : ''}`
    + (TIME ? `\n${''.padEnd(24)} CPU ${row.oursCpu.toFixed(3)} s${BASE ? `   base ${row.baseCpu.toFixed(3)} s   ratio (median of pairs) ${row.cpuRatio.toFixed(2)}` : ''}` : ''));
}
if (!argv.includes('--keep')) rmSync(work, { recursive: true, force: true });
else console.log(`profiles kept in ${work}`);
if (existsSync(work) && !argv.includes('--keep')) process.exitCode = 1;
