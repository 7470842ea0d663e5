// Conventions (issue 14 §6): the Calendrier and Convention screens. The same core functions as the
// CLI (`pli convention show|annex|terminate`, `pli due`, `pli register`): the conventions are
// verified from their signed text at every read, the documents are written by the core to a new
// file chosen in main's native dialog (never over an existing one), termination is the officer's.
import { createConvention, editConvention, findConvention, lastDayOf, listConventions, terminateConvention, today, type ConventionBody, type NewConvention } from '../../core/authority/convention.js';
import { requireOfficer } from '../../core/authority/authority.js';
import { writeConventionAnnex } from '../../core/services/annex.js';
import { yearCalendar } from '../../core/services/calendar.js';
import { writeRegister } from '../../core/mail/register.js';
import { formatFingerprint } from '../../../shared/ids.js';
import type { ConventionView, NewConventionRequest } from '../../../shared/ipc.js';
import { slug } from '../views.js';
import type { Deps, Impl } from './deps.js';

function view(b: ConventionBody): ConventionView {
  return {
    id: b.id, title: b.title, version: b.version, issued: b.issued, authority: formatFingerprint(Buffer.from(b.authority, 'base64')),
    state: b.status.state, terminated: b.status.state === 'terminated' ? { date: b.status.date, reason: b.status.reason } : null,
    parties: b.parties, people: b.people, types: b.types, schedule: b.schedule, expect: b.expect,
    start: b.start, lastDay: lastDayOf(b), years: b.years, renewMax: b.renewMax, retentionDays: b.retentionDays, openReceipts: b.openReceipts,
  };
}

/** The form's fields as the core's createConvention takes them (the CLI's `convention new` text
 * forms): one function signs for both front ends. */
const asNew = (r: NewConventionRequest): NewConvention => ({
  title: r.title, parties: r.parties, people: r.people, types: r.types.join(','), schedule: `${r.schedule.every}:${r.schedule.day}`,
  expect: r.expect, start: r.start, years: r.years, renewMax: r.renewMax ?? undefined, retentionDays: r.retentionDays, openReceipts: r.openReceipts,
});

export function conventionChannels({ session: s, shell, revealable }: Deps) {
  return {
    async 'conventions:list'() {
      const ctx = s.context(); // a signed-in person: the trust seal over the conventions is checked with the key in hand
      return { conventions: (await listConventions(ctx.profile.db)).map(view), today: today() };
    },

    async 'conventions:calendar'(request) {
      const ctx = s.context();
      const at = request.at ?? today();
      const year = request.year ?? Number(at.slice(0, 4));
      return { at, year, ...(await yearCalendar(ctx.profile.db, year, at)) };
    },

    async 'conventions:annex'(request) {
      const active = s.require();
      const ctx = s.context();
      const { body } = await findConvention(ctx.profile.db, request.id); // an unknown id is refused before the dialog
      const target = await shell.saveFile({
        title: 'Enregistrer la liste nominative des personnes habilitées', defaultName: `liste-nominative-${slug(body.title)}-v${body.version}.pdf`,
        filters: [{ name: 'Document PDF', extensions: ['pdf'] }],
      });
      if (!target) return { status: 'cancelled' };
      s.still(active);
      const annex = await writeConventionAnnex(ctx, body.id, target);
      revealable.add(target);
      return { status: 'done', path: target, people: annex.parties.reduce((n, p) => n + p.people.length, 0) };
    },

    async 'conventions:register'(request) {
      const active = s.require();
      const ctx = s.context();
      const { body } = await findConvention(ctx.profile.db, request.id);
      const target = await shell.saveFile({
        title: `Enregistrer le registre ${request.year}`, defaultName: `registre-${slug(body.title)}-${request.year}.${request.format}`,
        filters: [request.format === 'pdf' ? { name: 'Document PDF', extensions: ['pdf'] } : { name: 'Tableur (CSV)', extensions: ['csv'] }],
      });
      if (!target) return { status: 'cancelled' };
      s.still(active);
      const register = await writeRegister(ctx, body.id, request.year, target);
      revealable.add(target);
      return { status: 'done', path: target, rows: register.rows.length };
    },

    async 'conventions:terminate'(request) {
      const ctx = s.context();
      // unlockAuthority (inside) refuses anyone but the officer of this profile's authority.
      const done = await terminateConvention(ctx, request.id, request.date, request.reason);
      return { convention: view(done.body) };
    },

    // Officer only, in main: requireOfficer refuses anyone else before any work (security), and
    // unlockAuthority inside the core checks it again with the authority key.
    async 'conventions:create'(request) {
      const ctx = s.context();
      requireOfficer(ctx);
      return { convention: view((await createConvention(ctx, asNew(request))).body) };
    },

    async 'conventions:edit'(request) {
      const ctx = s.context();
      requireOfficer(ctx);
      const { id, ...fields } = request;
      return { convention: view((await editConvention(ctx, id, asNew(fields))).body) };
    },
  } satisfies Partial<Impl>;
}
