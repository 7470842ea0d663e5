#!/usr/bin/env node
// Where the fixed cost goes: CPU profiles (node --cpu-prof) of one command, summed by kind of work.
//   node bench/where.mjs --home DIR [--runs N] [--pli bin/pli.js] -- encrypt --no-self --to ID ... --out X FILE
// The main thread's samples are put in the first category whose marker is on their stack (below);
// `--out` gets a fresh name per run. Prints the median milliseconds per category over the runs,
// the wall time and the process's CPU time (user + system, every thread: Argon2id included).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const argv = process.argv.slice(2);
const split = argv.indexOf('--');
const own = split >= 0 ? argv.slice(0, split) : argv;
const command = split >= 0 ? argv.slice(split + 1) : ['--help'];
const opt = (name, fallback) => (own.includes(name) ? own[own.indexOf(name) + 1] : fallback);
const RUNS = Number(opt('--runs', 5));
const PLI = path.resolve(opt('--pli', path.join(ROOT, 'bin/pli.js')));
const HOME = opt('--home');

// First match wins, from the sample's own frame up to the root.
const CATEGORIES = [
  ['waiting (Argon2id on another thread, I/O)', (f) => f.functionName === '(idle)'],
  ['garbage collection', (f) => f.functionName === '(garbage collector)'],
  // By file for the modules of dist/electron, by function name inside the bundle (dist/cli).
  ['X-Wing (ML-KEM-768, X25519)', (f) => /post-quantum|@noble|xwing/.test(f.url) || /^xwing|post-quantum|@noble/.test(f.functionName)],
  ['zod (load and parse)', (f) => /zod/.test(f.url) || /zod|safeParse/.test(f.functionName)],
  ['libsodium (load, Ed25519, keys at rest)', (f) => /libsodium|^wasm:/.test(f.url) || /libsodium/.test(f.functionName)],
  ['SQLite (open, checks, queries)', (f) => /better-sqlite3/.test(f.url) || /openProfile|migrat/i.test(f.functionName)],
  ['module loading (resolve, read, compile)', (f) => /internal\/modules\/(esm|cjs)|node:internal\/modules/.test(f.url) || /^(compileFunction|wrapSafe|\(parse\))$/.test(f.functionName)],
  ['Node start-up', (f) => /internal\/(bootstrap|main|process\/pre_execution)/.test(f.url)],
];
const OTHER = 'other (Pli: checks, audit, signature, files)';

function categorise(file) {
  const p = JSON.parse(readFileSync(file, 'utf8'));
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const memo = new Map();
  const categoryOf = (id) => {
    if (memo.has(id)) return memo.get(id);
    let found = OTHER;
    for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
      const f = byId.get(cur).callFrame;
      const hit = CATEGORIES.find(([, test]) => test(f));
      if (hit) {
        found = hit[0];
        break;
      }
    }
    memo.set(id, found);
    return found;
  };
  const totals = new Map();
  p.samples.forEach((id, i) => totals.set(categoryOf(id), (totals.get(categoryOf(id)) ?? 0) + (p.timeDeltas[i] ?? 0) / 1000));
  return totals;
}

const work = mkdtempSync(path.join(os.tmpdir(), 'pli-where-'));
const perRun = [];
for (let i = 0; i < RUNS; i++) {
  const dir = path.join(work, `run${i}`);
  const args = command.map((a) => (a === '@OUT' ? path.join(work, `out-${i}`) : a));
  const r = spawnSync('/usr/bin/time', ['-f', '%e %U %S', 'node', '--cpu-prof', '--cpu-prof-dir', dir, PLI, ...(HOME ? ['--home', HOME] : []), ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`pli failed: ${r.stderr}`);
  const [wall, user, sys] = r.stderr.trim().split('\n').pop().split(' ').map(Number);
  const totals = categorise(path.join(dir, readdirSync(dir)[0]));
  perRun.push({ wall, cpu: user + sys, totals });
}
rmSync(work, { recursive: true, force: true });
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(`${PLI} ${command.join(' ')}  (${RUNS} runs, median)`);
console.log(`wall ${median(perRun.map((r) => r.wall)).toFixed(2)} s, CPU (user + sys, all threads) ${median(perRun.map((r) => r.cpu)).toFixed(2)} s`);
for (const name of [...CATEGORIES.map(([n]) => n), OTHER]) {
  console.log(`  ${name.padEnd(46)} ${median(perRun.map((r) => r.totals.get(name) ?? 0)).toFixed(0).padStart(6)} ms`);
}
