// The year of each convention, for the Calendrier screen (issue 14 §6): every expected document of
// every period of the year with its due date and its state on the day `at`, computed as `pli due`
// does (docs/convention.md 6), plus what is due within seven days (the screen's banner). Periods
// that have not begun yet are listed too (à venir): the screen shows the whole year.
import type { DB } from '../profile/profile.js';
import { inputError } from '../errors.js';
import { dueAt, lastDayOf, type DueState } from '../authority/convention.js';
import { periodsOf, storedConventions, type ConventionBody } from '../authority/convention-object.js';
import { daysBetween } from '../../../shared/french.js';

export interface CalendarItem { period: string; document: string; due: string; state: DueState; container: string | null }
export interface CalendarConvention { id: string; title: string; state: 'active' | 'terminated'; lastDay: string; items: CalendarItem[] }
/** One banner line: the documents of one period due within seven days (or today), not sent. */
export interface CalendarSoon { convention: string; title: string; period: string; documents: string[]; due: string; days: number }

/** Days before a due day from which the screen announces it. */
export const SOON_DAYS = 7;

export async function yearCalendar(db: DB, year: number, at: string): Promise<{ conventions: CalendarConvention[]; soon: CalendarSoon[] }> {
  if (!Number.isInteger(year) || year < 2000 || year > 2199) throw inputError('bad-year', 'Année du calendrier : choisissez une année entre 2000 et 2199.', { field: 'year' });
  // The states of the periods begun by `at`, as `pli due` gives them (sent, delivered… with receipts).
  const known = new Map((await dueAt(db, at)).map((d) => [`${d.convention}|${d.period}|${d.document}`, d]));
  const conventions: CalendarConvention[] = [];
  const soon = new Map<string, CalendarSoon>();
  for (const { body } of await storedConventions(db)) {
    const items: CalendarItem[] = [];
    for (const p of periodsOf(body)) {
      // A period belongs to the year of its due day: the 4th quarter of 2026 is the January 2027
      // work. The banner looks at every period, whatever the year shown.
      const shown = Number(p.due.slice(0, 4)) === year;
      for (const document of body.expect) {
        const found = known.get(`${body.id}|${p.period}|${document}`);
        const state: DueState = found?.state ?? (at < p.due ? 'upcoming' : at === p.due ? 'due' : 'late');
        if (shown) items.push({ period: p.period, document, due: p.due, state, container: found?.container ?? null });
        const days = daysBetween(at, p.due);
        if ((state === 'upcoming' || state === 'due') && days >= 0 && days <= SOON_DAYS && body.status.state === 'active') {
          const key = `${body.id}|${p.period}`;
          const line = soon.get(key) ?? { convention: body.id, title: body.title, period: p.period, documents: [], due: p.due, days };
          line.documents.push(document);
          soon.set(key, line);
        }
      }
    }
    conventions.push({ id: body.id, title: body.title, state: body.status.state, lastDay: lastDayOf(body as ConventionBody), items });
  }
  return { conventions, soon: [...soon.values()].sort((a, b) => a.due.localeCompare(b.due)) };
}
