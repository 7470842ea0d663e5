// French words for the convention's calendar (issue 14): days « 8 janvier 2027 », periods
// « 4e trimestre 2026 », lists « IS 101 et IST », and French typography (a no-break space before
// « : », a narrow no-break space before « ; ! ? », inside « »). Used by the core's printed documents
// and by the interface, so both say the same thing. Calendar days (`YYYY-MM-DD`) only: no time
// zone can move « le 8 » to the 7th.

export const NBSP = '\u00a0';
export const NNBSP = '\u202f';

const MONTHS = ['janvier', 'février', 'mars', 'avril', 'mai', 'juin', 'juillet', 'août', 'septembre', 'octobre', 'novembre', 'décembre'];

const DAY = /^(\d{4})-(\d{2})-(\d{2})$/;

/** « 8 janvier 2027 », « 1er avril 2026 » (no-break spaces: the date never splits); the text as
 * given when it is no day. */
export function frenchDay(day: string, withYear = true): string {
  const m = DAY.exec(day);
  const month = m ? MONTHS[Number(m[2]) - 1] : undefined;
  if (!m || !month) return day;
  const d = Number(m[3]);
  return `${d === 1 ? '1er' : d}${NBSP}${month}${withYear ? `${NBSP}${m[1]}` : ''}`;
}

/** « 1er trimestre 2026 », « 2e semestre 2026 », « novembre 2026 » for 2026-T1, 2026-S2, 2026-11. */
export function frenchPeriod(period: string): string {
  const m = /^(\d{4})-(?:([TS])([1-4])|(\d{2}))$/.exec(period);
  if (!m) return period;
  if (m[4]) return `${MONTHS[Number(m[4]) - 1] ?? m[4]}${NBSP}${m[1]}`;
  const n = Number(m[3]);
  return `${n === 1 ? '1er' : `${n}e`}${NBSP}${m[2] === 'T' ? 'trimestre' : 'semestre'}${NBSP}${m[1]}`;
}

/** The period without its year, for a sentence that names the due day: « du 4e trimestre ». */
export function frenchPeriodShort(period: string): string {
  return frenchPeriod(period).replace(/\u00a0\d{4}$/, '');
}

/** « A », « A et B », « A, B et C ». */
export function frenchList(items: readonly string[]): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} et ${items[items.length - 1]}`;
}

/** French spacing in a sentence: a no-break space before « : » and inside « », a narrow one before
 * « ; ! ? » (an existing space there becomes the right one). */
export function frenchSpacing(text: string): string {
  return text
    .replace(/[ \u00a0\u202f]?([;!?])/g, `${NNBSP}$1`)
    .replace(/[ \u00a0\u202f]?:(?=\s|$)/g, `${NBSP}:`)
    .replace(/«[ \u00a0]?/g, `«${NBSP}`)
    .replace(/[ \u00a0]?»/g, `${NBSP}»`);
}

/** The banner of the calendar, from seven days before a due day: « IS 101 et IST du 4e trimestre
 * à envoyer avant le 8 janvier ». */
export function dueBanner(documents: readonly string[], period: string, due: string): string {
  return `${frenchList(documents)} du ${frenchPeriodShort(period)} à envoyer avant le ${frenchDay(due, false)}`;
}

/** The days from `from` to `to` (calendar days, `YYYY-MM-DD`; negative when `to` is before). */
export function daysBetween(from: string, to: string): number {
  const ms = (day: string) => {
    const m = DAY.exec(day);
    return m ? Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) : NaN;
  };
  return Math.round((ms(to) - ms(from)) / 86_400_000);
}

/** A day typed the French way (« 8/1/2027 » or « 08/01/2027 ») as an ISO day (2027-01-08), or null
 * when it is not a real day. The interface asks for days in this form rather than through the
 * browser's date field, which follows the system's order (mm/dd/yyyy on an English system). */
export function dayFromFrench(text: string): string | null {
  const m = /^\s*(\d{1,2})\/(\d{1,2})\/(\d{4})\s*$/.exec(text);
  if (!m) return null;
  const [day, month, year] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1];
  if (days === undefined || day < 1 || day > days || year < 1970) return null;
  return `${m[3]}-${m[2]!.padStart(2, '0')}-${m[1]!.padStart(2, '0')}`;
}

/** An ISO day (2027-01-08) as the field shows it: 08/01/2027. */
export function dayToFrench(day: string): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day);
  return m ? `${m[3]}/${m[2]}/${m[1]}` : day;
}

// ---- counts and sizes in French (u1-outbox: no "(s)" form in the CLI's nor the core's sentences) ----

/** The word for `count` things: `one` for 0 and 1 (French), `other` from 2 (`one` + « s » by
 * default): agree(2, 'reçu') → « reçus », agree(1, 'nouveau pli', 'nouveaux plis'). */
export function agree(count: number, one: string, other = `${one}s`): string {
  return Math.abs(count) < 2 ? one : other;
}

/** The count and its word: « 0 pli », « 1 pli », « 3 plis », plural(2, 'fichier détruit',
 * 'fichiers détruits') → « 2 fichiers détruits ». */
export function plural(count: number, one: string, other = `${one}s`): string {
  return `${count} ${agree(count, one, other)}`;
}

/** A size in French: « 512 octets », « 48 Ko », « 1,5 Mo », « 2,1 Go » (1 Ko = 1 024 octets, as
 * the interface shows them; a no-break space before the unit). */
export function frenchSize(bytes: number): string {
  const number = (n: number) => (Math.round(n * 10) / 10).toString().replace('.', ',');
  if (bytes < 1024) return `${bytes}${NBSP}${agree(bytes, 'octet')}`;
  if (bytes < 1024 * 1024) return `${number(bytes / 1024)}${NBSP}Ko`;
  if (bytes < 1024 * 1024 * 1024) return `${number(bytes / 1024 / 1024)}${NBSP}Mo`;
  return `${number(bytes / 1024 / 1024 / 1024)}${NBSP}Go`;
}
