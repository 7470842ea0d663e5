// The Calendrier (issue 14 §6): the year of each convention, every expected document of every
// period with its due date and its state, in words and with an icon (never colour alone), and a
// banner from seven days before a due day (« IS 101 et IST du 4e trimestre à envoyer avant le
// 8 janvier »). The day can be changed for a check or a rehearsal, as `pli due --at`.
// Each « à envoyer » entry (the banner, a period due today or late) links to New container with the
// convention and the period chosen (onSend).
import { useCallback, useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { call, errorMessage } from '../api';
import { DayField, ErrorBox, Heading, Outside, useNewest } from '../components/common';
import type { DueStateView, ResponseOf } from '../../shared/ipc';
import { frenchDay, frenchList, frenchPeriod, frenchPeriodShort } from '../../shared/french';
import type { ErrorText } from '../errors';

type CalendarData = ResponseOf<'conventions:calendar'>;

/** The icon of a state, beside its words (aria-hidden: the words say it). */
// Glyphs of DejaVu Sans (the fonts every workstation has): no emoji, which may show as empty boxes.
export const STATE_ICON: Record<DueStateView, string> = { upcoming: '◷', due: '⚑', late: '⚠', sent: '✉', delivered: '✔', opened: '✔✔' };

const EN_MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

/** Words for calendar days and periods in the interface's language (French first). */
export function useCalendarWords() {
  const { t, i18n } = useTranslation();
  const english = i18n.language === 'en';
  // Calendar days are words, never Dates: no time zone moves « le 8 » (and no Date in the renderer).
  const enDay = (day: string, withYear: boolean) => {
    const [y, m, d] = day.split('-').map(Number) as [number, number, number];
    return `${d} ${EN_MONTHS[m - 1] ?? m}${withYear ? ` ${y}` : ''}`;
  };
  const enPeriod = (period: string, withYear = true) => {
    const m = /^(\d{4})-(?:([TS])([1-4])|(\d{2}))$/.exec(period);
    if (!m) return period;
    const year = withYear ? ` ${m[1]}` : '';
    if (m[4]) return `${EN_MONTHS[Number(m[4]) - 1] ?? m[4]}${year}`;
    return `${m[2] === 'T' ? `Q${m[3]}` : `H${m[3]}`}${year}`;
  };
  return {
    day: (day: string, withYear = true) => (english ? enDay(day, withYear) : frenchDay(day, withYear)),
    period: (period: string) => (english ? enPeriod(period) : frenchPeriod(period)),
    periodShort: (period: string) => (english ? enPeriod(period, false) : frenchPeriodShort(period)),
    list: (items: string[]) => (english ? items.join(' and ') : frenchList(items)),
    state: (state: DueStateView) => t(`calendar.states.${state}`),
  };
}

export function Calendar({ onSend }: { onSend?: (convention: string, period: string) => void } = {}) {
  const { t } = useTranslation();
  const words = useCalendarWords();
  // Both null until main answers: today is main's calendar day, the year the one of that day.
  const [at, setAt] = useState<string | null>(null);
  const [year, setYear] = useState<number | null>(null);
  const [data, setData] = useState<CalendarData | null>(null);
  const [error, setError] = useState<ErrorText>(null);

  // An older answer (« Année suivante » clicked twice) would set its year back, and ask for it again.
  const newest = useNewest();
  const load = useCallback(() => {
    setError(null);
    const isNewest = newest();
    call('conventions:calendar', { ...(year !== null ? { year } : {}), ...(at !== null ? { at } : {}) }).then((r) => {
      if (!isNewest()) return;
      setData(r);
      setAt(r.at);
      setYear(r.year);
    }, (e: unknown) => { if (isNewest()) setError(errorMessage(e)); });
  }, [year, at, newest]);
  useEffect(load, [load]);
  const shown = year ?? data?.year ?? 0;

  return (
    <main>
      <Heading>{t('calendar.title')}</Heading>
      <p>{t('calendar.intro')}</p>
      {data?.soon.map((s) => (
        <p key={`${s.convention}-${s.period}`} className="warning" role="note" data-testid="due-banner">
          <span aria-hidden="true">⚑ </span>
          <strong>{t(s.days === 0 ? 'calendar.bannerToday' : 'calendar.banner', {
            documents: words.list(s.documents), period: words.periodShort(s.period), due: words.day(s.due, false),
          })}</strong>
          {' '}<span className="muted">— <Outside text={s.title} /></span>
          {onSend && <>{' '}<button type="button" className="link" onClick={() => onSend(s.convention, s.period)}
            aria-label={t('conventionSend.prepareNamed', { documents: words.list(s.documents), period: words.period(s.period) })}>{t('conventionSend.prepare')}</button></>}
        </p>
      ))}
      <div className="actions">
        <button type="button" className="secondary" disabled={year === null} onClick={() => setYear(shown - 1)} aria-label={t('calendar.previous')}>◀ {shown - 1}</button>
        <strong aria-live="polite">{t('calendar.year', { year: shown })}</strong>
        <button type="button" className="secondary" disabled={year === null} onClick={() => setYear(shown + 1)} aria-label={t('calendar.next')}>{shown + 1} ▶</button>
        <label htmlFor="calendar-at">{t('calendar.at')}</label>
        <DayField id="calendar-at" day={at} onDay={(day) => { if (day !== null) setAt(day); }} hint={t('calendar.atHint')} />
      </div>
      {data === null && !error && <p>{t('common.loading')}</p>}
      {data !== null && data.conventions.length === 0 && <p className="empty">{t('calendar.none')}</p>}
      {data?.conventions.map((c) => (
        <section key={c.id} className="panel" aria-labelledby={`cal-${c.id}`}>
          <h2 id={`cal-${c.id}`}><Outside text={c.title} /></h2>
          {c.state === 'terminated' && <p className="warning-text">{t('calendar.terminated', { day: words.day(c.lastDay) })}</p>}
          {c.items.length === 0 ? <p className="empty">{t('calendar.noItems', { year: shown })}</p> : (
            <table>
              <caption className="visually-hidden">{t('calendar.caption', { title: c.title, year: shown })}</caption>
              <thead>
                <tr><th scope="col">{t('calendar.period')}</th><th scope="col">{t('calendar.document')}</th><th scope="col">{t('calendar.due')}</th><th scope="col">{t('calendar.state')}</th></tr>
              </thead>
              <tbody>
                {c.items.map((item) => (
                  <tr key={`${item.period}-${item.document}`} className={item.state === 'late' ? 'refused' : undefined}>
                    <td>{words.period(item.period)}</td>
                    <td><Outside text={item.document} /></td>
                    <td>{words.day(item.due)}</td>
                    <td><span className={`badge due-${item.state}`}><span aria-hidden="true">{STATE_ICON[item.state]} </span>{words.state(item.state)}</span>
                      {onSend && (item.state === 'due' || item.state === 'late') && <>{' '}<button type="button" className="link" onClick={() => onSend(c.id, item.period)}
                        aria-label={t('conventionSend.prepareNamed', { documents: item.document, period: words.period(item.period) })}>{t('conventionSend.prepare')}</button></>}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </section>
      ))}
      <ErrorBox message={error} />
    </main>
  );
}
