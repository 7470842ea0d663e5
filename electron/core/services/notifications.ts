// Desktop notifications of due periods (issue 14 §6, docs/convention.md 12): which ones are due at
// a given time, for the person signed in. A plain Node module (no Electron): main only shows what
// this returns (a thin shell), the test bridge records it, and the tests move the clock.
//
// The rule, per convention and period, for the documents not yet sent (or received):
//   - from seven days before the due day, once: the banner's words (« IS 101 et IST du
//     4e trimestre à envoyer avant le 8 janvier »);
//   - on the due day, once: « … à envoyer aujourd’hui »;
//   - after it, each day while late (the first check of the morning).
// Nothing before NOTIFY_FROM_HOUR on the workstation's local clock: an app left open overnight
// would otherwise notify just after midnight; the first check from that hour (and any later one
// that day if none was shown yet, at 23:59 too: the person is there) shows what is due that day.
// Never more than one a day per period, remembered in the profile (table meta) so that a restart
// does not repeat it. Only for a convention that runs on that day and whose nominative list holds
// the person with a valid certificate: nobody else can send under it.
//
// The memory is only a reminder's: whoever writes the database can suppress or repeat a
// notification, never change a state or a due day (both recomputed from the signed convention
// and the sealed filings at every check, as the Calendrier does).
import type { DB } from '../profile/profile.js';
import { getMeta, setMeta } from '../profile/profile.js';
import { dueAt } from '../authority/convention.js';
import { endOf, storedConventions, today } from '../authority/convention-object.js';
import { habilitation } from '../authority/convention-exchange.js';
import { daysBetween, frenchDay, frenchList, frenchPeriod, frenchPeriodShort, NBSP } from '../../../shared/french.js';
import { SOON_DAYS } from './calendar.js';

export type NotificationKind = 'soon' | 'today' | 'late';

export interface DueNotification {
  convention: string;
  period: string;
  /** The documents of the period not yet sent (or received), in the convention's order. */
  documents: string[];
  due: string;
  kind: NotificationKind;
  /** What the notification shows, in French. */
  title: string;
  body: string;
}

/**
 * The local hour (workstation's clock, daylight saving included) from which the day's
 * notifications are shown: a check before it shows nothing and remembers nothing.
 */
export const NOTIFY_FROM_HOUR = 8;

/** The key in table meta; its value: { "<convention>|<period>": { day, soon } }. */
export const NOTIFIED_KEY = 'due-notifications';
/** Memory older than this is dropped (a period late that long is notified every day anyway). */
const KEEP_DAYS = 60;

interface Notified { day: string; soon: boolean }

function readMemory(db: DB): Record<string, Notified> {
  try {
    const parsed = JSON.parse(getMeta(db, NOTIFIED_KEY) ?? '{}') as unknown;
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return {};
    const out: Record<string, Notified> = {};
    for (const [key, value] of Object.entries(parsed as Record<string, unknown>)) {
      const v = value as Partial<Notified> | null;
      if (v && typeof v.day === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(v.day)) out[key] = { day: v.day, soon: v.soon === true };
    }
    return out;
  } catch {
    // Unreadable memory: notifications may repeat today, nothing worse.
    return {};
  }
}

function words(kind: NotificationKind, documents: string[], period: string, due: string): string {
  const list = frenchList(documents);
  if (kind === 'soon') return `${list} du ${frenchPeriodShort(period)} à envoyer avant le ${frenchDay(due, false)}`;
  if (kind === 'today') return `${list} du ${frenchPeriodShort(period)} à envoyer aujourd’hui, ${frenchDay(due, false)}`;
  return `${list} du ${frenchPeriod(period)} en retard${NBSP}: l’échéance était le ${frenchDay(due)}. Ouvrez le Calendrier de Pli.`;
}

/**
 * The notifications due at `now` (ms) for `personId`, not yet shown that day, none before
 * NOTIFY_FROM_HOUR local: the decision only, nothing written (recordShown does that once they are shown).
 */
export async function notificationsDue(db: DB, personId: string, now: number): Promise<DueNotification[]> {
  // Local hour, as the day below is the local day: not the night's checks of an app left open.
  if (new Date(now).getHours() < NOTIFY_FROM_HOUR) return [];
  const day = today(new Date(now));
  const memory = readMemory(db);
  const running = new Map((await storedConventions(db)).map(({ body }) => [body.id, body]));
  const groups = new Map<string, DueNotification>();
  for (const item of await dueAt(db, day)) {
    if (item.state !== 'upcoming' && item.state !== 'due' && item.state !== 'late') continue;
    const body = running.get(item.convention);
    // A convention past its last day (natural end or termination date) takes no more sends.
    if (!body || day >= endOf(body) || day < body.start) continue;
    if (!habilitation(db, body, personId, now)) continue;
    const days = daysBetween(day, item.due);
    const kind: NotificationKind | null = days > SOON_DAYS ? null : days > 0 ? 'soon' : days === 0 ? 'today' : 'late';
    if (!kind) continue;
    const key = `${item.convention}|${item.period}`;
    const seen = memory[key];
    if (seen?.day === day) continue; // at most one a day per period
    if (kind === 'soon' && seen?.soon) continue; // announced once before the due day
    const group = groups.get(key) ?? { convention: item.convention, period: item.period, documents: [], due: item.due, kind, title: '', body: '' };
    group.documents.push(item.document);
    groups.set(key, group);
  }
  return [...groups.values()].map((g) => {
    const title = running.get(g.convention)!.title;
    return { ...g, title: `Pli — ${title}`, body: words(g.kind, g.documents, g.period, g.due) };
  }).sort((a, b) => a.due.localeCompare(b.due));
}

/** Remembers that `shown` were shown at `now`: not again that day (nor the announcement again). */
export function recordShown(db: DB, shown: readonly DueNotification[], now: number): void {
  if (shown.length === 0) return;
  const day = today(new Date(now));
  const memory = readMemory(db);
  for (const n of shown) {
    const key = `${n.convention}|${n.period}`;
    memory[key] = { day, soon: (memory[key]?.soon ?? false) || n.kind === 'soon' };
  }
  for (const [key, value] of Object.entries(memory)) {
    if (daysBetween(value.day, day) > KEEP_DAYS) delete memory[key];
  }
  setMeta(db, NOTIFIED_KEY, JSON.stringify(memory));
}

/** The notifications due at `now`, remembered as shown: what main shows on each check. */
export async function takeNotifications(db: DB, personId: string, now: number): Promise<DueNotification[]> {
  const due = await notificationsDue(db, personId, now);
  recordShown(db, due, now);
  return due;
}
