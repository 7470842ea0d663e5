// The indicators (docs/indicators.md): the figures per commune and quarter, a state imported by
// hand, the report and the CSV export (saved where main's dialog says, never over a file), and a
// manual correction. The core writes the events; requests were parsed by the contract.
import path from 'node:path';
import { listConventions } from '../../core/authority/convention.js';
import { checkPeriod, correctFigure, currentFigures, importState } from '../../core/indicators/store.js';
import { communeViews, withinPeriods } from '../../core/indicators/view.js';
import { refuseExisting, writeNewFile } from '../files.js';
import { day, type Deps, type Impl } from './deps.js';

const STATES = [{ name: 'États statistiques', extensions: ['csv', 'xlsx', 'ods', 'xls'] }];

export function indicatorChannels({ session: s, shell, revealable }: Deps) {
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
      return {
        communes: [...new Set(all.figures.map((f) => f.commune))].sort((a, b) => a.localeCompare(b, 'fr')),
        conventions, views: withinPeriods(communeViews(found.figures), request.from, request.to), checked: found.checked,
        modified: found.figures.filter((f) => f.state === 'modified').length, missing: found.missing.map(({ convention, period, expected, found: n }) => ({ convention, period, expected, found: n })),
      };
    },

    async 'indicators:import'(request) {
      const active = s.require();
      const file = await shell.openFile({ title: 'État statistique à importer (IS 101, IST)', filters: STATES });
      if (!file) return { status: 'cancelled' };
      s.still(active);
      const result = await importState(s.context(), { convention: request.convention, period: request.period, commune: request.commune ?? null, file });
      return result.recognised
        ? { status: 'done', recognised: true, reason: null, rows: result.rows, communes: result.communes, file: path.basename(file) }
        : { status: 'done', recognised: false, reason: result.reason, rows: 0, communes: [], file: path.basename(file) };
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
  } satisfies Partial<Impl>;
}
