// The indicators (docs/indicators.md): the IS 101's nine categories and the IST's three families,
// the periods figures are given for, the trends shown per quarter, and French number formatting.
// Pure functions, used by the core, the CLI and the renderer: no Node, DOM or Electron import.

export const INDICATORS = [
  { id: 'is101.homicides', family: 'is101', label: 'Homicides' },
  { id: 'is101.vols-armes', family: 'is101', label: 'Vols à main armée' },
  { id: 'is101.vols-violents', family: 'is101', label: 'Vols violents sans arme' },
  { id: 'is101.vols-sans-violence', family: 'is101', label: 'Vols sans violence contre des personnes' },
  { id: 'is101.coups', family: 'is101', label: 'Coups et blessures volontaires sur personnes de 15 ans et plus' },
  { id: 'is101.cambriolages', family: 'is101', label: 'Cambriolages de logements' },
  { id: 'is101.vols-vehicules', family: 'is101', label: 'Vols de véhicules' },
  { id: 'is101.vols-dans-vehicules', family: 'is101', label: 'Vols dans les véhicules' },
  { id: 'is101.vols-accessoires', family: 'is101', label: "Vols d'accessoires sur véhicules" },
  { id: 'ist.integrite', family: 'ist', label: "Atteintes à l'intégrité physique" },
  { id: 'ist.biens', family: 'ist', label: 'Atteintes aux biens' },
  { id: 'ist.ordre-public', family: 'ist', label: "Atteintes à la paix et à la santé publiques" },
] as const;
export type IndicatorId = (typeof INDICATORS)[number]['id'];
export const INDICATOR_IDS: readonly string[] = INDICATORS.map((i) => i.id);
export const indicatorLabel = (id: string): string => INDICATORS.find((i) => i.id === id)?.label ?? id;

// ---- periods ----------------------------------------------------------------------------------
// 2026 (year), 2026-S2 (half-year), 2026-T4 (quarter), 2026-11 (month): docs/convention.md 6.
export const PERIOD_PATTERN = /^(\d{4})(?:-(T[1-4]|S[12]|0[1-9]|1[0-2]))?$/;
export type PeriodKind = 'year' | 'half' | 'quarter' | 'month';
export interface ParsedPeriod { year: number; kind: PeriodKind; index: number }

export function parsePeriod(text: string): ParsedPeriod | null {
  const m = PERIOD_PATTERN.exec(text);
  if (!m) return null;
  const year = Number(m[1]);
  if (year < 1990 || year > 2200) return null;
  const part = m[2];
  if (part === undefined) return { year, kind: 'year', index: 1 };
  if (part.startsWith('T')) return { year, kind: 'quarter', index: Number(part.slice(1)) };
  if (part.startsWith('S')) return { year, kind: 'half', index: Number(part.slice(1)) };
  return { year, kind: 'month', index: Number(part) };
}

export const quarterLabel = (year: number, q: number): string => `${year}-T${q}`;
/** The quarter a period lies in, when it lies in one (a month or a quarter). */
export function quarterOf(period: string): string | null {
  const p = parsePeriod(period);
  if (!p) return null;
  if (p.kind === 'quarter') return period;
  if (p.kind === 'month') return quarterLabel(p.year, Math.ceil(p.index / 3));
  return null;
}
/** A quarter `n` quarters after (negative: before) `quarter`. */
export function shiftQuarter(quarter: string, n: number): string {
  const p = parsePeriod(quarter)!;
  const k = p.year * 4 + (p.index - 1) + n;
  return quarterLabel(Math.floor(k / 4), (k % 4) + 1);
}
export const compareQuarters = (a: string, b: string): number => {
  const pa = parsePeriod(a)!;
  const pb = parsePeriod(b)!;
  return pa.year * 4 + pa.index - (pb.year * 4 + pb.index);
};

/** "4e trimestre 2026", "2e semestre 2026", "novembre 2026", "2026". */
const MONTHS = ['janvier', 'février', 'mars', 'avril', 'mai', 'juin', 'juillet', 'août', 'septembre', 'octobre', 'novembre', 'décembre'];
export function periodFr(period: string): string {
  const p = parsePeriod(period);
  if (!p) return period;
  const ord = (n: number) => (n === 1 ? '1er' : `${n}e`);
  if (p.kind === 'quarter') return `${ord(p.index)} trimestre ${p.year}`;
  if (p.kind === 'half') return `${ord(p.index)} semestre ${p.year}`;
  if (p.kind === 'month') return `${MONTHS[p.index - 1]} ${p.year}`;
  return String(p.year);
}

// ---- French numbers ---------------------------------------------------------------------------
/** U+202F (espace fine insécable) between thousands; U+00A0 before % (typographie française). */
export const THIN = '\u202f';
export const NBSP = '\u00a0';

export function formatCount(n: number): string {
  const sign = n < 0 ? '-' : '';
  const digits = String(Math.abs(Math.trunc(n)));
  return sign + digits.replace(/\B(?=(\d{3})+(?!\d))/g, THIN);
}
/** A signed change: "+1 234", "−12", "0" (U+2212 for minus, as typeset). */
export function formatChange(n: number): string {
  if (n === 0) return '0';
  return `${n > 0 ? '+' : '\u2212'}${formatCount(Math.abs(n))}`;
}
/** A signed percentage with one decimal and a comma: "+12,5 %", "−3,0 %". */
export function formatPercent(p: number): string {
  const fixed = Math.abs(p).toFixed(1).replace('.', ',');
  const [int, dec] = fixed.split(',') as [string, string];
  const body = `${formatCount(Number(int))},${dec}`;
  return `${p > 0 ? '+' : p < 0 ? '\u2212' : ''}${body}${NBSP}%`;
}

// ---- trends -----------------------------------------------------------------------------------
/** A figure as the core keeps it (one row per convention, commune, period and indicator). */
export interface FigureLike { commune: string; period: string; indicator: string; value: number }

export interface Change { delta: number; percent: number | null }
export interface QuarterTrend {
  quarter: string;
  value: number;
  /** From the quarter before; null when that quarter has no figure. */
  previous: Change | null;
  /** From the same quarter a year before; null when it has no figure. */
  yearAgo: Change | null;
  /** Sum of the year's quarters up to this one; `complete` false when one of them is missing. */
  yearToDate: { value: number; complete: boolean };
}

const change = (now: number, before: number | undefined): Change | null =>
  before === undefined ? null : { delta: now - before, percent: before === 0 ? null : ((now - before) / before) * 100 };

/** Quarter values of one commune and indicator: a quarter's own figure, else the sum of its three
 * months when all three are there. */
export function quarterValues(figures: readonly FigureLike[]): Map<string, number> {
  const direct = new Map<string, number>();
  const months = new Map<string, Map<number, number>>();
  for (const f of figures) {
    const p = parsePeriod(f.period);
    if (!p) continue;
    if (p.kind === 'quarter') direct.set(f.period, f.value);
    else if (p.kind === 'month') {
      const q = quarterOf(f.period)!;
      const m = months.get(q) ?? new Map<number, number>();
      m.set(p.index, f.value);
      months.set(q, m);
    }
  }
  for (const [q, m] of months) if (!direct.has(q) && m.size === 3) direct.set(q, [...m.values()].reduce((a, b) => a + b, 0));
  return direct;
}

/** Per quarter (oldest first): value, both changes and the year to date. */
export function trendsOf(values: ReadonlyMap<string, number>): QuarterTrend[] {
  const quarters = [...values.keys()].sort(compareQuarters);
  return quarters.map((quarter) => {
    const value = values.get(quarter)!;
    const p = parsePeriod(quarter)!;
    let ytd = 0;
    let complete = true;
    for (let q = 1; q <= p.index; q++) {
      const v = values.get(quarterLabel(p.year, q));
      if (v === undefined) complete = false;
      else ytd += v;
    }
    return {
      quarter, value,
      previous: change(value, values.get(shiftQuarter(quarter, -1))),
      yearAgo: change(value, values.get(shiftQuarter(quarter, -4))),
      yearToDate: { value: ytd, complete },
    };
  });
}
