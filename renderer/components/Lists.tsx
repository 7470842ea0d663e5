// What the inbox and the outbox share (issue 15, "recognisable containers"; issue 14 §6): the
// header of search and filters with its « n plis sur m » count, the words of a row's filing
// (« IS 101 et IST – 4e trimestre 2026 »), and the banner of late periods with its link to the
// Calendrier. Every text from a row is outside text (forScreen): the profile's attacker writes rows.
import { useEffect, useId, useState, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { call, errorMessage } from '../api';
import { forScreen } from '../../shared/text';
import type { LatePeriodView, ListFilingView } from '../../shared/ipc';
import { useCalendarWords } from '../screens/Calendar';
import type { ErrorText } from '../errors';

export interface ListFilter { text: string; period: string; partner: string; state: string }
export const NO_FILTER: ListFilter = { text: '', period: '', partner: '', state: '' };
export interface FilterChoice { value: string; label: string }

/** Lower case, accents off: « etats » finds « États ». */
export const searchable = (text: string): string => text.normalize('NFD').replace(/[\u0300-\u036f]/g, '').toLowerCase();

/** Whether every word typed is found in one of the row's texts. */
export function matches(query: string, texts: readonly (string | null | undefined)[]): boolean {
  const words = searchable(query).split(/\s+/).filter(Boolean);
  if (words.length === 0) return true;
  const haystack = searchable(texts.filter(Boolean).join(' \u0000 '));
  return words.every((w) => haystack.includes(w));
}

/** Distinct choices, sorted the French way. */
export function choices(list: readonly FilterChoice[]): FilterChoice[] {
  const seen = new Map<string, FilterChoice>();
  for (const c of list) if (c.value && !seen.has(c.value)) seen.set(c.value, c);
  return [...seen.values()].sort((a, b) => a.label.localeCompare(b.label, 'fr'));
}

/** The search field, the three filters and the count, above a list; keyboard-usable (labels, no mouse-only control). */
export function ListFilters({ filter, onChange, periods, partners, states, shown, total, partnerLabel }: {
  filter: ListFilter; onChange: (f: ListFilter) => void; periods: FilterChoice[]; partners: FilterChoice[]; states: FilterChoice[];
  shown: number; total: number; partnerLabel: string;
}) {
  const { t } = useTranslation();
  const id = useId();
  const active = filter.text !== '' || filter.period !== '' || filter.partner !== '' || filter.state !== '';
  const select = (key: 'period' | 'partner' | 'state', label: string, list: FilterChoice[]) => (
    <div>
      <label htmlFor={`${id}-${key}`}>{label}</label>
      <select id={`${id}-${key}`} value={filter[key]} onChange={(e) => onChange({ ...filter, [key]: e.currentTarget.value })}>
        <option value="">{t('lists.all')}</option>
        {list.map((c) => <option key={c.value} value={c.value}>{forScreen(c.label)}</option>)}
      </select>
    </div>
  );
  return (
    <form className="filters list-filters" role="search" aria-label={t('lists.filters')} onSubmit={(e) => e.preventDefault()}>
      <div>
        <label htmlFor={`${id}-text`}>{t('lists.search')}</label>
        <input id={`${id}-text`} type="search" value={filter.text} placeholder={t('lists.searchHint')}
          onChange={(e) => onChange({ ...filter, text: e.currentTarget.value })} />
      </div>
      {select('period', t('lists.period'), periods)}
      {select('partner', partnerLabel, partners)}
      {select('state', t('lists.state'), states)}
      <p className="list-count" role="status" aria-live="polite" data-testid="list-count">{t('lists.count', { count: shown, total })}</p>
      {active && <button type="button" className="secondary" onClick={() => onChange(NO_FILTER)}>{t('lists.clear')}</button>}
    </form>
  );
}

/** A filing in words: the subject, then « IS 101 et IST – 4e trimestre 2026 » and the convention's title. */
export function useFilingWords() {
  const { t } = useTranslation();
  const words = useCalendarWords();
  return {
    /** « IS 101 et IST – 4e trimestre 2026 », or null when the row has no period. */
    period: (f: ListFilingView): string | null => (f.state === 'filed'
      ? `${f.documents.length > 0 ? `${words.list(f.documents.map(forScreen))} – ` : ''}${words.period(forScreen(f.period))}` : null),
    periodLabel: (period: string): string => words.period(forScreen(period)),
    /** The texts a search looks into. */
    texts: (f: ListFilingView): string[] => (f.state === 'filed'
      ? [f.subject ?? '', f.title ?? '', ...f.documents, words.period(f.period), f.period] : [f.state === 'none' ? t('lists.noConvention') : '']),
  };
}

/** The filing's block in a row: subject (or its absence), period and documents, convention. */
export function FilingCell({ filing, unopened, children }: { filing: ListFilingView; unopened: ReactNode; children?: ReactNode }) {
  const { t } = useTranslation();
  const words = useFilingWords();
  if (filing.state === 'unopened') return <>{unopened}{children}</>;
  if (filing.state === 'tampered') return <><span className="warning-text" role="note">{t('lists.tampered')}</span>{children}</>;
  if (filing.state === 'none') return <><strong>{t('lists.noSubject')}</strong> <span className="muted">— {t('lists.noConvention')}</span>{children}</>;
  return (
    <>
      <strong className="subject">{filing.subject ? forScreen(filing.subject) : t('lists.noSubject')}</strong>
      <span className="period-line">{words.period(filing)}</span>
      {filing.title && <span className="muted convention-line">{forScreen(filing.title)}</span>}
      {children}
    </>
  );
}

/** The banner of late periods at the top of the inbox (nothing received) or of the outbox (nothing sent). */
export function LateBanner({ side, onCalendar }: { side: 'inbox' | 'outbox'; onCalendar?: (() => void) | undefined }) {
  const { t } = useTranslation();
  const words = useCalendarWords();
  const [late, setLate] = useState<LatePeriodView[] | null>(null);
  const [error, setError] = useState<ErrorText>(null);
  useEffect(() => {
    let live = true;
    call('lists:late', {}).then((r) => { if (live) setLate(r[side]); }, (e: unknown) => { if (live) setError(errorMessage(e)); });
    return () => { live = false; };
  }, [side]);
  if (error) return <p className="warning" role="note" data-testid="late-banner">{t('lists.late.unreadable')} {forScreen(typeof error === 'string' ? error : error.message)}</p>;
  if (!late || late.length === 0) return null;
  const SHOWN = 3;
  return (
    <div className="notice late" role="note" data-testid="late-banner">
      <p><span aria-hidden="true">⚠ </span><strong>{t(`lists.late.${side}Title`, { count: late.length })}</strong></p>
      <ul>
        {late.slice(0, SHOWN).map((l) => (
          <li key={`${l.convention}-${l.period}`}>
            {t(`lists.late.${side}`, { documents: words.list(l.documents.map(forScreen)), period: words.period(l.period), due: words.day(l.due) })}
            {' '}<span className="muted">— {forScreen(l.title)}</span>
          </li>
        ))}
      </ul>
      {late.length > SHOWN && <p>{t('lists.late.more', { count: late.length - SHOWN })}</p>}
      {onCalendar && <p><button type="button" className="link" onClick={onCalendar}>{t('lists.late.calendar')}</button></p>}
    </div>
  );
}
