// One reader of the audit log, run once on an existing profile, in a process of its own so that
// its peak memory is its own (bench/audit.mjs runs each three times on its million-event log).
//   node bench/audit-reader.mjs HOME READER [--dist DIR]
// READER: journal (the Journal screen's page: events:list, no filter), journal-filtered (one
// action), export (the signed CSV export, signing included: it appends two events and a
// checkpoint), verify-export (of export.csv next to HOME), list (`pli audit list`, printed to stdout:
// bench/audit.mjs pipes it to `cat > /dev/null`),
// indicators (the Indicateurs screen's read of the log: currentFigures on a profile without figures).
// --dist: another build's dist/ (a worktree of an earlier commit), to measure the code before; a
// build without journalPage gets the events:list handler of that time (listEvents, whole).
// Writes one JSON line to fd 3: { seconds, maxRssMiB, detail }. Nothing here prints the log.
import { rmSync, writeSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';

const [home, reader, ...rest] = process.argv.slice(2);
const dist = rest[0] === '--dist' ? path.resolve(rest[1]) : path.resolve(import.meta.dirname, '../dist');
const load = (file) => import(pathToFileURL(path.join(dist, file)).href);

const { openProfile } = await load('electron/core/profile/profile.js');
const audit = await load('electron/core/services/audit.js');
const { listEvents } = await load('electron/core/profile/events.js');
const { signIn } = await load('electron/core/services/session.js');
const { listIdentities } = await load('electron/core/profile/identities.js');
const PASS = 'phrase de passe du banc';

/** The events:list handler before journalPage (11b42ee), for a build that lacks it. */
function oldPage(db, request) {
  const all = listEvents(db, request.since);
  const actors = [...new Set(all.map((e) => e.actor).filter((a) => a !== null))];
  const actions = [...new Set(all.map((e) => e.action))].sort();
  const matching = all.filter((e) => (request.action === undefined || e.action === request.action));
  return { events: matching.slice(-(request.limit ?? 500)).reverse(), total: matching.length, actors, actions };
}

const profile = openProfile(home);
const db = profile.db;
const page = audit.journalPage ?? oldPage;
const exportFile = path.join(path.dirname(home), 'export.csv'); // never in the profile's folder
let detail = '';
const t0 = performance.now();
if (reader === 'journal' || reader === 'journal-filtered') {
  const result = page(db, reader === 'journal' ? {} : { action: 'file.written' });
  detail = `${result.events.length} shown of ${result.total}`;
} else if (reader === 'export') {
  rmSync(exportFile, { force: true });
  rmSync(`${exportFile}.sig`, { force: true });
  const [person] = listIdentities(db);
  const ctx = { profile, unlocker: { unlock: (row) => signIn(profile, row, PASS) } };
  const result = await audit.exportAudit(ctx, person.id, exportFile);
  detail = `${result.events} events`;
} else if (reader === 'verify-export') {
  const result = await audit.verifyAuditExport(db, exportFile);
  detail = `signed by ${result.name}`;
} else if (reader === 'list') {
  const { auditCommands } = await load('electron/cli/audit.js');
  await auditCommands['audit list'](['--home', home]);
} else if (reader === 'indicators') {
  const { currentFigures } = await load('electron/core/indicators/store.js');
  detail = `${currentFigures({ profile }).figures.length} figures`;
} else {
  throw new Error(`unknown reader: ${reader}`);
}
const seconds = (performance.now() - t0) / 1000;
profile.close();
writeSync(3, `${JSON.stringify({ seconds, maxRssMiB: process.resourceUsage().maxRSS / 1024, detail })}\n`);
