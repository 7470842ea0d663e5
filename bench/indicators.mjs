// Benchmark: import 40 states (IS 101 and IST, CSV and XLSX, 20 quarters of two communes) and
// compute the Indicateurs screen's data (issue 16's target: under a second), as `pli indicators
// import` and the screen do it, on a real profile database with sealed rows.
//   npm run build && node bench/indicators.mjs
// Prints the machine (CPU model) first; figures taken on a loaded machine say so (load average).
// Exit 0 when the target passes, 2 when it fails, 1 on an error. Raw figures: bench/out/.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import * as XLSX from '@e965/xlsx';
import { machine, printHeader, Targets, writeJson } from './machine.mjs';
import { initProfile } from '../dist/electron/core/profile/profile.js';
import { createIdentity, newPersonCard } from '../dist/electron/core/profile/identities.js';
import { signIn } from '../dist/electron/core/services/session.js';
import { certifyCard, initAuthority } from '../dist/electron/core/authority/authority.js';
import { createConvention } from '../dist/electron/core/authority/convention.js';
import { importState, currentFigures, figureSources } from '../dist/electron/core/indicators/store.js';
import { communeViews } from '../dist/electron/core/indicators/view.js';

const TARGET = { states: 40, seconds: 1 };
const box = await machine();
printHeader(`Indicators: import ${TARGET.states} states and compute the screen's data (median of 3 runs)`, box);

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

async function once(run) {
  const home = mkdtempSync(path.join(os.tmpdir(), 'pli-bench-indicators-'));
  const { profile } = initProfile(home);
  try {
    const pass = 'une phrase de passe de banc';
    const person = await createIdentity(profile.db, { name: 'Banc', email: 'banc@exemple.fr', org: 'Observatoire' }, pass, { opslimit: 1, memlimitKib: 8 });
    let actor = null;
    const ctx = { profile, actor: () => actor, unlocker: { unlock: async (row) => { const u = await signIn(profile, row, pass); actor = u.id; return u; } } };
    await initAuthority(ctx, 'SSI', person.id);
    await certifyCard(ctx, (await newPersonCard({ name: 'CPN', email: 'cpn@exemple.fr', org: 'CPN' })).card, 'operator');
    const convention = (await createConvention(ctx, { title: 'Banc', parties: [{ org: 'CPN', address: 'c@x.fr' }, { org: 'Observatoire', address: 'o@x.fr' }], people: [], types: 'csv,xlsx', schedule: 'quarterly:8', expect: ['IS 101'], start: '2020-01-01', years: 6 })).body.id;
    (await ctx.unlocker.unlock(person)).wipe(); // signed in before the clock starts, as on the screen
    const states = [];
    for (let i = 0; i < TARGET.states; i++) {
      const q = i % 20;
      const period = `${2021 + Math.floor(q / 4)}-T${(q % 4) + 1}`;
      const commune = i < 20 ? 'Commune A' : 'Commune B';
      const data = rows(i % 2 === 0 ? LABELS_101 : LABELS_IST, i);
      const file = path.join(home, `etat-${i}.${i % 4 < 2 ? 'xlsx' : 'csv'}`);
      writeFileSync(file, i % 4 < 2 ? xlsx(data) : csv(data));
      states.push({ convention, period, commune, file });
    }
    const cpu = process.cpuUsage();
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
    if (sources.length !== 20) throw new Error(`unexpected sources: ${sources.length}`);
    if (views[0].indicators.length !== 12 || found.figures.some((f) => f.state !== 'ok')) throw new Error('unexpected screen data');
    run.push({ importMs: imported - started, screenMs: done - imported, totalMs: done - started, cpuMs: (used.user + used.system) / 1000 });
  } finally {
    profile.close();
    rmSync(home, { recursive: true, force: true });
  }
}

let exitCode = 0;
try {
  const runs = [];
  for (let i = 0; i < 3; i++) await once(runs);
  const median = (key) => runs.map((r) => r[key]).sort((a, b) => a - b)[1];
  const total = median('totalMs') / 1000;
  process.stdout.write(`import of ${TARGET.states} states: ${median('importMs').toFixed(0)} ms (${(median('importMs') / TARGET.states).toFixed(1)} ms a state); screen data: ${median('screenMs').toFixed(1)} ms; CPU time (all threads): ${median('cpuMs').toFixed(0)} ms\n`);
  const targets = new Targets();
  targets.check(`${TARGET.states} states imported and the screen computed`, total, TARGET.seconds, total <= TARGET.seconds, `${total.toFixed(2)} s`);
  targets.print();
  exitCode = targets.exitCode();
  writeJson('indicators', { machine: box, runs });
} catch (error) {
  process.stderr.write(`bench: ${error.stack ?? error}\n`);
  exitCode = 1;
}
process.exitCode = exitCode;
