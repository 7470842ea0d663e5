// The indicators (docs/indicators.md): the figures per commune and quarter, a state imported by
// hand, the report and the CSV export (saved where main's dialog says, never over a file), and a
// manual correction; the mapping editor of a state not recognised (its labels, a preview, the
// mapping saved, the state read again). The core writes the events; requests were parsed by the
// contract.
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { listConventions } from '../../core/authority/convention.js';
import { checkPeriod, correctFigure, currentFigures, figureSources, importState, previewMapping, readLabels, setMapping, stateGone, type ImportResult } from '../../core/indicators/store.js';
import { MAPPING_FORMAT } from '../../core/indicators/mapping.js';
import { communeViews, withinPeriods } from '../../core/indicators/view.js';
import { refuseExisting, writeNewFile } from '../files.js';
import { day, type Deps, type Impl } from './deps.js';

const STATES = [{ name: 'États statistiques', extensions: ['csv', 'xlsx', 'ods', 'xls'] }];

/** How many states main keeps for the mapping editor (the latest ones). */
const KEPT_STATES = 20;

export function indicatorChannels({ session: s, shell, revealable }: Deps) {
  // The renderer never names a path: a state chosen in main's dialog is kept here under a random
  // token, which the mapping editor sends back (security invariant: the editor reads only files
  // the person chose in a dialog).
  const states = new Map<string, string>();
  // Chosen by the person signed in, for them only: the next person never reads these files.
  s.onSignOut(() => states.clear());
  const keep = (file: string): string => {
    const token = randomBytes(12).toString('hex');
    states.set(token, file);
    while (states.size > KEPT_STATES) states.delete(states.keys().next().value!);
    return token;
  };
  const stateOf = (token: string): string => {
    const file = states.get(token);
    if (file === undefined) throw stateGone();
    return file;
  };
  const answer = (file: string, result: ImportResult) => (result.recognised
    ? { status: 'done' as const, recognised: true, reason: null, rows: result.rows, communes: result.communes, file: path.basename(file), token: null }
    : { status: 'done' as const, recognised: false, reason: result.reason, rows: 0, communes: [], file: path.basename(file), token: keep(file) });
  /** A new file only: never over a file, never through a planted link, no partial file. */
  const writeNew = async (target: string, data: string | Buffer) => {
    await writeNewFile(target, data, 0o600);
    revealable.add(target);
  };
  return {
    async 'indicators:list'(request) {
      s.require();
      const scope = s.scope();
      const all = currentFigures(scope);
      // The trends use every quarter of the commune; the period filter only chooses those shown.
      if (request.from) checkPeriod(request.from);
      if (request.to) checkPeriod(request.to);
      const found = currentFigures(scope, { commune: request.commune });
      const conventions = (await listConventions(scope.profile.db)).map((c) => ({ id: c.id, title: c.title }));
      // The sources of the figures shown (one commune's, within the periods chosen).
      const sources = request.commune === undefined ? [] : figureSources(scope.profile.db, currentFigures(scope, { commune: request.commune, from: request.from, to: request.to }).figures)
        .sort((a, b) => b.period.localeCompare(a.period) || b.importedAt - a.importedAt);
      const corrections = found.figures.flatMap((f) => (f.correction === null ? [] : [{ commune: f.commune, period: f.period, indicator: f.indicator, value: f.value, ...f.correction }]));
      return {
        communes: [...new Set(all.figures.map((f) => f.commune))].sort((a, b) => a.localeCompare(b, 'fr')),
        conventions, views: withinPeriods(communeViews(found.figures), request.from, request.to), checked: found.checked,
        modified: found.figures.filter((f) => f.state === 'modified').length, missing: found.missing.map(({ convention, period, expected, found: n }) => ({ convention, period, expected, found: n })),
        corrections, sources,
      };
    },

    async 'indicators:import'(request) {
      const active = s.require();
      const file = await shell.openFile({ title: 'État statistique à importer (IS 101, IST)', filters: STATES });
      if (!file) return { status: 'cancelled' };
      s.still(active);
      const result = await importState(s.context(), { convention: request.convention, period: request.period, commune: request.commune ?? null, file });
      return answer(file, result);
    },

    async 'indicators:report'(request) {
      const active = s.require();
      const { indicatorReport, reportQuarter } = await import('../../core/indicators/output.js');
      const quarter = reportQuarter(request.period);
      const target = await shell.saveFile({ title: 'Enregistrer le rapport des indicateurs', defaultName: `indicateurs-${request.agglomeration ? 'agglomeration' : 'commune'}-${quarter}.pdf`, filters: [{ name: 'PDF', extensions: ['pdf'] }] });
      if (!target) return { status: 'cancelled' };
      s.still(active);
      await refuseExisting(target);
      const report = await indicatorReport(s.context(), { commune: request.commune ?? null, agglomeration: request.agglomeration ?? false, period: request.period });
      await writeNew(target, report.pdf);
      return { status: 'done', path: target, quarter: report.quarter };
    },

    async 'indicators:export'(request) {
      const active = s.require();
      const { exportCsv } = await import('../../core/indicators/output.js');
      const target = await shell.saveFile({ title: 'Exporter les indicateurs (CSV)', defaultName: `indicateurs-${day()}.csv`, filters: [{ name: 'CSV', extensions: ['csv'] }] });
      if (!target) return { status: 'cancelled' };
      s.still(active);
      await refuseExisting(target);
      const result = await exportCsv(s.context(), { commune: request.commune, from: request.from, to: request.to });
      await writeNew(target, result.text);
      return { status: 'done', path: target, rows: result.rows };
    },

    async 'indicators:correct'(request) {
      s.require();
      const figure = await correctFigure(s.context(), request);
      return { value: figure.value, state: figure.state };
    },

    async 'indicators:labels'(request) {
      const active = s.require();
      let file: string;
      let token: string;
      if (request.token) {
        file = stateOf(request.token);
        token = request.token;
      } else {
        const chosen = await shell.openFile({ title: 'État dont établir la correspondance', filters: STATES });
        if (!chosen) return { status: 'cancelled' };
        s.still(active);
        file = chosen;
        token = keep(file);
      }
      const labels = await readLabels(file);
      return labels.readable
        ? { status: 'done', token, file: path.basename(file), readable: true, reason: null, rows: labels.rows, columns: labels.columns }
        : { status: 'done', token, file: path.basename(file), readable: false, reason: labels.reason, rows: [], columns: [] };
    },

    async 'indicators:preview'(request) {
      s.require();
      const preview = await previewMapping(stateOf(request.token), request.choice, request.commune ?? null);
      return preview.recognised ? { recognised: true, reason: null, figures: preview.figures } : { recognised: false, reason: preview.reason, figures: [] };
    },

    async 'indicators:mapping'(request) {
      s.require();
      const labels = Object.fromEntries(Object.entries(request.choice).map(([id, label]) => [id, [label]]));
      const mapping = await setMapping(s.context(), { text: JSON.stringify({ format: MAPPING_FORMAT, version: 1, name: request.name, labels }) });
      return { name: mapping.name, indicators: Object.keys(mapping.labels).length };
    },

    async 'indicators:reread'(request) {
      s.require();
      const file = stateOf(request.token);
      const result = await importState(s.context(), { convention: request.convention, period: request.period, commune: request.commune ?? null, file });
      return answer(file, result);
    },
  } satisfies Partial<Impl>;
}
