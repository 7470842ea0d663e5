// The report and the CSV export (docs/indicators.md 7). Neither is made from a figure changed or
// deleted outside Pli: both refuse (security) while the check of docs/indicators.md 4.1 finds one.
import { inputError, securityError } from '../errors.js';
import type { Context } from '../context.js';
import { indicatorLabel, parsePeriod, quarterLabel, compareQuarters, shiftQuarter } from '../../../shared/indicators.js';
import { checkCommune, checkPeriod, currentFigures, figureSources, signInToRead, type Figure, type FigureFilter } from './store.js';
import { agglomerationView, communeViews } from './view.js';
import { renderReport } from './report.js';
import { plural } from '../../../shared/french.js';

/** The quarter a report covers: a quarter itself, a month's quarter, the last quarter of a
 * half-year or a year. */
export function reportQuarter(period: string): string {
  const p = parsePeriod(checkPeriod(period))!;
  if (p.kind === 'quarter') return period;
  if (p.kind === 'month') return quarterLabel(p.year, Math.ceil(p.index / 3));
  if (p.kind === 'half') return quarterLabel(p.year, p.index * 2);
  return quarterLabel(p.year, 4);
}

function refuseTampered(found: ReturnType<typeof currentFigures>, figures: Figure[]): void {
  const modified = figures.filter((f) => f.state === 'modified').length;
  if (modified > 0 || found.missing.length > 0) {
    throw securityError('indicators-tampered', `Des chiffres des indicateurs ont été modifiés ou supprimés en dehors de Pli (${plural(modified, 'chiffre modifié', 'chiffres modifiés')}, ${plural(found.missing.length, 'import incomplet', 'imports incomplets')}) : aucun document n'est produit à partir d'eux. Prévenez l'officier SSI, puis importez à nouveau les états concernés.`, { modified, missing: found.missing.length });
  }
}

export interface ReportRequest { as?: string; commune?: string | null; agglomeration?: boolean; period: string; now?: number }

export async function indicatorReport(ctx: Context, request: ReportRequest): Promise<{ pdf: Buffer; quarter: string; indicators: number }> {
  const quarter = reportQuarter(request.period);
  if (!request.agglomeration && !request.commune) throw inputError('commune-required', "Indiquez la commune du rapport, ou demandez le rapport d'agglomération.");
  const commune = request.agglomeration ? null : checkCommune(request.commune!);
  await signInToRead(ctx, request.as);
  const found = currentFigures(ctx, commune === null ? {} : { commune });
  // The eight quarters the charts show: the figures of older quarters are not the report's.
  const first = shiftQuarter(quarter, -7);
  const figures = found.figures.filter((f) => {
    const p = parsePeriod(f.period)!;
    const q = p.kind === 'quarter' ? f.period : p.kind === 'month' ? quarterLabel(p.year, Math.ceil(p.index / 3)) : null;
    return q !== null && compareQuarters(q, first) >= 0 && compareQuarters(q, quarter) <= 0;
  });
  refuseTampered(found, figures);
  if (figures.length === 0) {
    throw inputError('no-figures', commune === null ? `Aucun chiffre pour la période ${quarter} ni les sept trimestres d'avant.` : `Aucun chiffre pour ${commune} à la période ${quarter} ni les sept trimestres d'avant. Vérifiez le nom de la commune, ou importez ses états.`, { quarter });
  }
  const view = commune === null ? agglomerationView(figures) : communeViews(figures)[0]!;
  const db = ctx.profile.db;
  const sources = commune === null
    ? { states: new Set(figures.map((f) => `${f.sourceContainer ?? ''}\0${f.sourceFile}\0${f.period}\0${f.commune}`)).size, partners: new Set(figures.map((f) => f.commune)).size }
    : figureSources(db, figures)
      .sort((a, b) => compareQuarters(reportQuarter(a.period), reportQuarter(b.period)) || a.importedAt - b.importedAt || a.file.localeCompare(b.file, 'fr'));
  const pdf = await renderReport({
    commune: commune === null ? null : view.commune, quarter, view, sources,
    unverified: figures.some((f) => f.state === 'unverified'), generatedAt: request.now ?? Date.now(),
  });
  return { pdf, quarter, indicators: view.indicators.length };
}

const CSV_HEAD = ['convention', 'commune', 'periode', 'indicateur', 'libelle', 'valeur', 'pli_source', 'fichier_source', 'etat'];
/** A cell a spreadsheet would read as a formula gets a quote before it (docs/indicators.md 7): at
 * its start, and after every `,`, `;` or tab inside it (spaces and quotes between them skipped: a
 * spreadsheet whose list separator is the comma splits the line there, quotes or not). A cell holding `;`, `,`, a tab, a quote or a line break
 * is quoted. */
export const csvCell = (value: string | number): string => {
  let s = String(value);
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  s = s.replace(/([,;\t][\s"]*)([=+\-@])/g, "$1'$2");
  return /[;,\t"\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};
const STATE_FR = { ok: 'vérifié', unverified: 'non vérifié', modified: 'modifié hors de Pli' } as const;

export async function exportCsv(ctx: Context, filter: FigureFilter & { as?: string }): Promise<{ text: string; rows: number }> {
  if (filter.commune !== undefined) checkCommune(filter.commune);
  await signInToRead(ctx, filter.as);
  const found = currentFigures(ctx, filter);
  refuseTampered(found, found.figures);
  const lines = [CSV_HEAD.join(';'), ...found.figures.map((f) => [f.convention, f.commune, f.period, f.indicator, indicatorLabel(f.indicator), f.value, f.sourceContainer ?? '', f.sourceFile, STATE_FR[f.state]].map(csvCell).join(';'))];
  return { text: `\ufeff${lines.join('\r\n')}\r\n`, rows: found.figures.length };
}
