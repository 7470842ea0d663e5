// What the screen, `pli indicators` and the report show (docs/indicators.md 2): per commune (or
// for the agglomeration, summed over the communes), each indicator per quarter with its changes
// and the year to date. A figure "modifié hors de Pli" is shown with that state and never enters
// a value, a change or a total.
import { INDICATORS, compareQuarters, parsePeriod, quarterOf, quarterValues, trendsOf, type QuarterTrend } from '../../../shared/indicators.js';
import type { Figure, FigureState } from './store.js';

export interface SeriesQuarter extends QuarterTrend { state: FigureState }
export interface IndicatorSeries {
  indicator: string;
  label: string;
  quarters: SeriesQuarter[];
  /** Quarters whose figure is modified outside Pli: shown, not counted. */
  modified: string[];
}
export interface CommuneView { commune: string | null; indicators: IndicatorSeries[] }

function seriesOf(figures: Figure[], indicator: string, label: string): IndicatorSeries | null {
  const own = figures.filter((f) => f.indicator === indicator);
  if (own.length === 0) return null;
  const usable = own.filter((f) => f.state !== 'modified');
  const modified = [...new Set(own.filter((f) => f.state === 'modified').map((f) => f.period))].sort();
  const values = quarterValues(usable);
  const stateOf = (quarter: string): FigureState =>
    usable.some((f) => f.state === 'unverified' && quarterOf(f.period) === quarter) ? 'unverified' : 'ok';
  return { indicator, label, quarters: trendsOf(values).map((t) => ({ ...t, state: stateOf(t.quarter) })), modified };
}

/** One view per commune, communes in alphabetical order (French collation). */
export function communeViews(figures: Figure[]): CommuneView[] {
  const communes = [...new Set(figures.map((f) => f.commune))].sort((a, b) => a.localeCompare(b, 'fr'));
  return communes.map((commune) => {
    const own = figures.filter((f) => f.commune === commune);
    return { commune, indicators: INDICATORS.map((i) => seriesOf(own, i.id, i.label)).filter((s): s is IndicatorSeries => s !== null) };
  });
}

/** The agglomeration: per indicator and quarter, the sum over the communes that have that quarter
 * (each commune's quarter computed first). Names no commune. */
export function agglomerationView(figures: Figure[]): CommuneView {
  const communes = [...new Set(figures.map((f) => f.commune))];
  const indicators = INDICATORS.flatMap((i): IndicatorSeries[] => {
    const own = figures.filter((f) => f.indicator === i.id);
    if (own.length === 0) return [];
    const usable = own.filter((f) => f.state !== 'modified');
    const sum = new Map<string, number>();
    for (const commune of communes) {
      for (const [q, v] of quarterValues(usable.filter((f) => f.commune === commune))) sum.set(q, (sum.get(q) ?? 0) + v);
    }
    const unverified = usable.some((f) => f.state === 'unverified');
    return [{
      indicator: i.id, label: i.label,
      quarters: trendsOf(sum).map((t) => ({ ...t, state: unverified ? 'unverified' as const : 'ok' as const })),
      modified: [...new Set(own.filter((f) => f.state === 'modified').map((f) => f.period))].sort(),
    }];
  });
  return { commune: null, indicators };
}

/** The last `n` quarters of a series up to `last` (inclusive), oldest first. */
export function lastQuarters(series: IndicatorSeries, last: string, n: number): SeriesQuarter[] {
  return series.quarters.filter((q) => compareQuarters(q.quarter, last) <= 0).slice(-n);
}

/** Keeps the quarters from `from` to `to` (periods; a year or half-year from its first quarter, to
 * its last). Applied after the trends are computed, so that a quarter shown keeps its changes and
 * year to date even when the quarters they use are not shown. */
export function withinPeriods(views: CommuneView[], from?: string, to?: string): CommuneView[] {
  const first = from ? firstQuarterOf(from) : null;
  const last = to ? lastQuarterOf(to) : null;
  if (!first && !last) return views;
  const keep = (q: string) => (!first || compareQuarters(q, first) >= 0) && (!last || compareQuarters(q, last) <= 0);
  return views.map((v) => ({
    ...v,
    indicators: v.indicators.map((s) => ({ ...s, quarters: s.quarters.filter((q) => keep(q.quarter)), modified: s.modified.filter((p) => { const q = quarterOf(p); return q === null || keep(q); }) }))
      .filter((s) => s.quarters.length > 0 || s.modified.length > 0),
  }));
}
function firstQuarterOf(period: string): string | null {
  const p = parsePeriod(period);
  if (!p) return null;
  const month = p.kind === 'quarter' ? (p.index - 1) * 3 + 1 : p.kind === 'half' ? (p.index - 1) * 6 + 1 : p.kind === 'month' ? p.index : 1;
  return `${p.year}-T${Math.ceil(month / 3)}`;
}
function lastQuarterOf(period: string): string | null {
  const p = parsePeriod(period);
  if (!p) return null;
  const month = p.kind === 'quarter' ? p.index * 3 : p.kind === 'half' ? p.index * 6 : p.kind === 'month' ? p.index : 12;
  return `${p.year}-T${Math.ceil(month / 3)}`;
}
