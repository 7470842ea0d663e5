// Benchmark: import 40 states (IS 101 and IST, CSV and XLSX, 20 quarters of two communes) and
// compute the Indicateurs screen's data (issue 16's target: under a second), as `pli indicators
// import` and the screen do it, on a real profile database with sealed rows.
//   npm run build && node bench/indicators.mjs
// Prints the machine (CPU model) first; figures taken on a loaded machine say so (load average).
// Exit 0 when the target passes, 2 when it fails, 1 on an error. Raw figures: bench/out/.
//
// --imports N[,N...] (e.g. --imports 40,200,1000): how the reads scale with the imports piled up
// in one profile (the figures table keeps every row written; a later row replaces an earlier one).
// The same 40 (commune, quarter) states as above are imported again and again (each import a new
// state of the same quarter: the current figures stay 40 states' worth), one import in four comes
// in a container (its `container.opened` event first, as the open path writes it), and after
// every tenth import from the 40th on a figure is corrected (some corrections are then replaced
// by a later import). At each count given, the median of 5 calls of: currentFigures (every
// commune, one commune), figureSources and communeViews of one commune, and the screen's whole
// `indicators:list` (three currentFigures, the views and the sources); the import time a state
// over the last stretch. Every answer is checked (every figure "ok", nothing missing). No target.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import * as XLSX from '@e965/xlsx';
import { machine, median, printHeader, Targets, writeJson } from './machine.mjs';
import { initProfile } from '../dist/electron/core/profile/profile.js';
import { createIdentity, newPersonCard } from '../dist/electron/core/profile/identities.js';
import { signIn } from '../dist/electron/core/services/session.js';
import { certifyCard, initAuthority } from '../dist/electron/core/authority/authority.js';
import { createConvention } from '../dist/electron/core/authority/convention.js';
import { importState, currentFigures, figureSources, correctFigure } from '../dist/electron/core/indicators/store.js';
import { communeViews, withinPeriods } from '../dist/electron/core/indicators/view.js';
import { audit } from '../dist/electron/core/context.js';
import { readerPidForTests } from '../dist/electron/core/indicators/read.js';

/** The reading child process's CPU time so far, ms (Linux, /proc; 0 elsewhere or when none runs):
 * the states are parsed there, not in this process (read.ts). */
function readerCpu() {
  const pid = readerPidForTests();
  if (pid === undefined) return { pid, ms: 0 };
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const [utime, stime] = stat.slice(stat.lastIndexOf(')') + 2).split(' ').slice(11, 13).map(Number);
    return { pid, ms: ((utime + stime) * 1000) / 100 };
  } catch {
    return { pid, ms: 0 };
  }
}

const TARGET = { states: 40, seconds: 1 };
/** --imports N[,N...]: the scaling run (counts in increasing order), or null for issue 16's target. */
function importsOption(argv) {
  const at = argv.findIndex((a) => a === '--imports' || a.startsWith('--imports='));
  if (at < 0) return null;
  const value = argv[at].includes('=') ? argv[at].slice(argv[at].indexOf('=') + 1) : argv[at + 1];
  const counts = String(value ?? '').split(',').map(Number);
  if (counts.some((n) => !Number.isSafeInteger(n) || n < 1)) throw new Error('--imports: one or more counts of imports, e.g. --imports 40,200,1000');
  return [...new Set(counts)].sort((a, b) => a - b);
}
const scaling = importsOption(process.argv.slice(2));
const box = await machine();
printHeader(scaling
  ? `Indicators: the reads against the number of imports (${scaling.join(', ')}; re-imports of the same quarters and corrections included; median of 5 calls)`
  : `Indicators: import ${TARGET.states} states and compute the screen's data (median of 3 runs)`, box);

const LABELS_101 = ['Homicides', 'Vols à main armée', 'Vols violents sans arme', 'Vols sans violence contre des personnes',
  'Coups et blessures volontaires sur personnes de 15 ans et plus', 'Cambriolages de logements', 'Vols de véhicules', 'Vols dans les véhicules', "Vols d'accessoires sur véhicules"];
const LABELS_IST = ["Atteintes à l'intégrité physique", 'Atteintes aux biens', 'Atteintes à la paix et à la santé publiques'];
const rows = (labels, seed) => [['État statistique (synthétique)'], ['Catégorie', 'Faits constatés'], ...labels.map((l, i) => [l, (seed * 7 + i * 13) % 500])];
const xlsx = (data) => {
  const book = XLSX.utils.book_new();
  XLSX.utils.book_append_sheet(book, XLSX.utils.aoa_to_sheet(data), 'État');
  return XLSX.write(book, { type: 'buffer', bookType: 'xlsx' });
};
const csv = (data) => Buffer.from(data.map((r) => r.join(';')).join('\r\n'), 'utf8');

/** A profile with its authority, a CPN certified and one convention; the person signed in. */
async function benchProfile(home) {
  const { profile } = initProfile(home);
  const pass = 'une phrase de passe de banc';
  const person = await createIdentity(profile.db, { name: 'Banc', email: 'banc@exemple.fr', org: 'Observatoire' }, pass, { opslimit: 1, memlimitKib: 8 });
  let actor = null;
  const ctx = { profile, actor: () => actor, unlocker: { unlock: async (row) => { const u = await signIn(profile, row, pass); actor = u.id; return u; } } };
  await initAuthority(ctx, 'SSI', person.id);
  const cpn = (await certifyCard(ctx, (await newPersonCard({ name: 'CPN', email: 'cpn@exemple.fr', org: 'CPN' })).card, 'operator')).id;
  const convention = (await createConvention(ctx, { title: 'Banc', parties: [{ org: 'CPN', address: 'c@x.fr' }, { org: 'Observatoire', address: 'o@x.fr' }], people: [], types: 'csv,xlsx', schedule: 'quarterly:8', expect: ['IS 101'], start: '2020-01-01', years: 6 })).body.id;
  (await ctx.unlocker.unlock(person)).wipe(); // signed in before the clock starts, as on the screen
  return { profile, ctx, convention, cpn };
}

/** The i-th state: the 40 (commune, quarter) of issue 16's target, in turn, then again (seed i). */
function stateOf(home, convention, i) {
  const q = i % 20;
  const period = `${2021 + Math.floor(q / 4)}-T${(q % 4) + 1}`;
  const commune = i % 40 < 20 ? 'Commune A' : 'Commune B';
  const data = rows(i % 2 === 0 ? LABELS_101 : LABELS_IST, i);
  const file = path.join(home, `etat-${i}.${i % 4 < 2 ? 'xlsx' : 'csv'}`);
  writeFileSync(file, i % 4 < 2 ? xlsx(data) : csv(data));
  return { convention, period, commune, file };
}

async function once(run) {
  const home = mkdtempSync(path.join(os.tmpdir(), 'pli-bench-indicators-'));
  const { profile, ctx, convention } = await benchProfile(home);
  try {
    const states = [];
    for (let i = 0; i < TARGET.states; i++) states.push(stateOf(home, convention, i));
    const cpu = process.cpuUsage();
    const readerBefore = readerCpu();
    const started = performance.now();
    for (const s of states) {
      const result = await importState(ctx, s);
      if (!result.recognised) throw new Error(`state not recognised: ${result.reason}`);
    }
    const imported = performance.now();
    const found = currentFigures(ctx, { commune: 'Commune A' });
    const views = communeViews(found.figures);
    // The screen lists the sources of its figures too (who signed each container or imported each file).
    const sources = figureSources(profile.db, found.figures);
    const done = performance.now();
    const used = process.cpuUsage(cpu);
    const readerAfter = readerCpu();
    // A reader started during the run counts whole (USER_HZ = 100: 10 ms steps).
    const readerMs = readerAfter.ms - (readerAfter.pid === readerBefore.pid ? readerBefore.ms : 0);
    if (sources.length !== 20) throw new Error(`unexpected sources: ${sources.length}`);
    if (views[0].indicators.length !== 12 || found.figures.some((f) => f.state !== 'ok')) throw new Error('unexpected screen data');
    run.push({ importMs: imported - started, screenMs: done - imported, totalMs: done - started, cpuMs: (used.user + used.system) / 1000 + readerMs });
  } finally {
    profile.close();
    rmSync(home, { recursive: true, force: true });
  }
}

/** The median of 5 calls of `f`: wall time, and CPU time (this process: on a shared machine, the
 * wall time counts the others' turns too). */
const median5 = (f) => {
  const times = [];
  const cpus = [];
  let out;
  for (let r = 0; r < 5; r++) {
    const cpu = process.cpuUsage();
    const started = performance.now();
    out = f();
    times.push(performance.now() - started);
    const used = process.cpuUsage(cpu);
    cpus.push((used.user + used.system) / 1000);
  }
  return { ms: median(times), cpuMs: median(cpus), out };
};

/** The scaling run: one profile, imports piled up to the largest count, the reads timed at each. */
async function scale(counts) {
  const home = mkdtempSync(path.join(os.tmpdir(), 'pli-bench-indicators-'));
  const { profile, ctx, convention, cpn } = await benchProfile(home);
  const db = profile.db;
  const points = [];
  try {
    let i = 0;
    let corrections = 0;
    const width = [8, 7, 7, 11, 11, 12, 12, 12, 13, 12];
    const line = (cells) => console.log(cells.map((c, k) => String(c).padStart(width[k])).join(' '));
    line(['imports', 'rows', 'events', 'import/st', 'current', 'current CPU', 'current 1c', 'sources 1c', 'views 1c', 'screen']);
    for (const count of counts) {
      const started = performance.now();
      const from = i;
      for (; i < count; i++) {
        const s = stateOf(home, convention, i);
        let container = null;
        if (i % 4 === 1) {
          container = `pli-banc-${i}`;
          audit(ctx, { actor: ctx.actor(), action: 'container.opened', object: container, detail: { sender: cpn, files: 1 } });
        }
        const result = await importState(ctx, { ...s, container });
        if (!result.recognised) throw new Error(`state not recognised: ${result.reason}`);
        if (i >= TARGET.states && i % 10 === 9) {
          await correctFigure(ctx, { convention, commune: s.commune, period: s.period, indicator: i % 2 === 0 ? 'is101.homicides' : 'ist.biens', value: i, reason: `contrôle ${i}` });
          corrections++;
        }
      }
      const importMs = (performance.now() - started) / Math.max(1, i - from);
      const all = median5(() => currentFigures(ctx));
      const one = median5(() => currentFigures(ctx, { commune: 'Commune A' }));
      const sources = median5(() => figureSources(db, one.out.figures));
      const views = median5(() => communeViews(one.out.figures));
      // The screen's `indicators:list` (electron/ipc/channels/indicators.ts): every commune, the
      // commune chosen, and its figures within the periods for the sources.
      const screen = median5(() => {
        const every = currentFigures(ctx);
        const found = currentFigures(ctx, { commune: 'Commune A' });
        const within = currentFigures(ctx, { commune: 'Commune A', from: '2021-T1', to: '2025-T4' });
        return { every, views: withinPeriods(communeViews(found.figures), '2021-T1', '2025-T4'), sources: figureSources(db, within.figures) };
      });
      if (all.out.figures.length !== 240 || all.out.missing.length !== 0 || all.out.figures.some((f) => f.state !== 'ok')) throw new Error(`unexpected figures at ${count} imports`);
      if (views.out[0].indicators.length !== 12 || sources.out.length !== new Set(one.out.figures.map((f) => f.write)).size) throw new Error(`unexpected screen data at ${count} imports`);
      const rowsNow = db.prepare('SELECT count(*) FROM indicator_figures').pluck().get();
      const eventsNow = db.prepare('SELECT count(*) FROM events').pluck().get();
      const point = { imports: count, corrections, rows: rowsNow, events: eventsNow, importMsPerState: importMs, currentMs: all.ms, currentCpuMs: all.cpuMs, currentOneCommuneMs: one.ms, sourcesMs: sources.ms, viewsMs: views.ms, screenMs: screen.ms };
      points.push(point);
      line([count, rowsNow, eventsNow, `${importMs.toFixed(1)} ms`, `${all.ms.toFixed(1)} ms`, `${all.cpuMs.toFixed(1)} ms`, `${one.ms.toFixed(1)} ms`, `${sources.ms.toFixed(1)} ms`, `${views.ms.toFixed(2)} ms`, `${screen.ms.toFixed(1)} ms`]);
    }
    console.log(`\n(rows: the figures table; events: the audit log; import/st: the mean time a state (and its correction) took over the stretch since the count before; current: every figure (240), wall time, and its CPU time; 1c: Commune A (120 figures); screen: indicators:list's reads; ${corrections} corrections in all)`);
    return points;
  } finally {
    profile.close();
    rmSync(home, { recursive: true, force: true });
  }
}

/** Issue 16's target: 40 states imported and the screen computed, under a second. */
async function target() {
  const runs = [];
  for (let i = 0; i < 3; i++) await once(runs);
  const median = (key) => runs.map((r) => r[key]).sort((a, b) => a - b)[1];
  const total = median('totalMs') / 1000;
  process.stdout.write(`import of ${TARGET.states} states: ${median('importMs').toFixed(0)} ms (${(median('importMs') / TARGET.states).toFixed(1)} ms a state); screen data: ${median('screenMs').toFixed(1)} ms; CPU time (all threads, and the reading process's): ${median('cpuMs').toFixed(0)} ms\n`);
  const targets = new Targets();
  targets.check(`${TARGET.states} states imported and the screen computed`, total, TARGET.seconds, total <= TARGET.seconds, `${total.toFixed(2)} s`);
  targets.print();
  writeJson('indicators', { machine: box, runs });
  return targets.exitCode();
}

let exitCode = 0;
try {
  if (scaling) writeJson('indicators-imports', { machine: box, points: await scale(scaling) });
  else exitCode = await target();
} catch (error) {
  process.stderr.write(`bench: ${error.stack ?? error}\n`);
  exitCode = 1;
}
process.exitCode = exitCode;
