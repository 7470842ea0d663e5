// What the New container screen offers under a convention (issue 14 §6, docs/convention.md 12):
// for the person signed in, each convention running today, whether they are on its nominative
// list, the recipients a send under it goes to (the other parties' habilitated people, as
// planConventionSend decides), and the periods they can send for: begun, not all sent (or
// received), the current one first, then the late ones (most recent first), then the others.
// Only a help to choose: planConventionSend (convention-exchange.ts) stays the authority at the
// send, and checks everything again before anything is sealed.
import type { DB } from '../profile/profile.js';
import { dueAt, type DueState } from '../authority/convention.js';
import { endOf, storedConventions, today } from '../authority/convention-object.js';
import { habilitation } from '../authority/convention-exchange.js';

export interface ChoicePeriod { period: string; due: string; late: boolean; documents: { document: string; state: DueState }[] }
export interface ConventionChoice {
  id: string;
  title: string;
  types: string[];
  expect: string[];
  /** On the list with a valid certificate of the listed organisation: may send under it. */
  habilitated: boolean;
  recipients: { id: string; name: string; org: string; function: string }[];
  periods: ChoicePeriod[];
}

const OPEN: readonly DueState[] = ['upcoming', 'due', 'late'];

export async function conventionChoices(db: DB, personId: string, now = Date.now()): Promise<{ today: string; conventions: ConventionChoice[] }> {
  const day = today(new Date(now));
  const states = await dueAt(db, day);
  const out: ConventionChoice[] = [];
  for (const { body } of await storedConventions(db)) {
    if (day < body.start || day >= endOf(body)) continue; // nothing can be sent under it today
    const own = habilitation(db, body, personId, now);
    const recipients = own
      ? body.people.filter((p) => p.org !== own.org && habilitation(db, body, p.id, now)).map((p) => ({ id: p.id, name: p.name, org: p.org, function: p.function }))
      : [];
    const byPeriod = new Map<string, ChoicePeriod>();
    for (const s of states) {
      if (s.convention !== body.id) continue;
      const entry = byPeriod.get(s.period) ?? { period: s.period, due: s.due, late: false, documents: [] };
      entry.documents.push({ document: s.document, state: s.state });
      byPeriod.set(s.period, entry);
    }
    const periods = [...byPeriod.values()]
      .filter((p) => p.documents.some((d) => OPEN.includes(d.state)))
      .map((p) => ({ ...p, late: p.documents.some((d) => d.state === 'late') }));
    const current = periods.filter((p) => !p.late).sort((a, b) => a.due.localeCompare(b.due));
    const late = periods.filter((p) => p.late).sort((a, b) => b.due.localeCompare(a.due));
    out.push({
      id: body.id, title: body.title, types: body.types, expect: body.expect, habilitated: own !== null, recipients,
      // The current one first (the nearest due day not passed), then the late ones, then the rest.
      periods: own ? [...current.slice(0, 1), ...late, ...current.slice(1)] : [],
    });
  }
  return { today: day, conventions: out };
}
