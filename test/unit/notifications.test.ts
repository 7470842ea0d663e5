// Desktop notifications of due periods (electron/core/services/notifications.ts; docs/convention.md
// 12): the decision at an injected time, as `pli due --at` — before, on and after the 8th, twice
// the same day, the next morning, after a restart (the memory is in the profile), nothing before
// 08:00 local (also across the daylight-saving changes, in Europe/Paris), and never for a person
// outside the nominative list nor for a terminated convention.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { initProfile, openProfile, type Profile } from '../../electron/core/profile/profile.js';
import { createIdentity, newPersonCard, unlockIdentity } from '../../electron/core/profile/identities.js';
import { certifyCard, initAuthority } from '../../electron/core/authority/authority.js';
import { createConvention, terminateConvention } from '../../electron/core/authority/convention.js';
import { conventionChoices } from '../../electron/core/services/convention-choices.js';
import { NOTIFIED_KEY, NOTIFY_FROM_HOUR, notificationsDue, takeNotifications } from '../../electron/core/services/notifications.js';
import { setMeta } from '../../electron/core/profile/profile.js';
import type { Context } from '../../electron/core/context.js';
import { createNotifier } from '../../electron/ipc/notifier.js';
import type { DesktopNotification } from '../../electron/ipc/ports.js';
import type { Session } from '../../electron/ipc/session.js';

const PASS = 'une phrase de passe de test';
const LIGHT = { opslimit: 1, memlimitKib: 8 };
const root = mkdtempSync(path.join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'pli-notifications-unit-'));
const home = path.join(root, 'officer');
let station: Profile;
let ctx: Context;
let officerId = '';
let outsiderId = '';
let conventionId = '';
afterAll(() => {
  station.close();
  rmSync(root, { recursive: true, force: true });
});

/** A local time on this workstation's calendar (« le 8 » is the 8th where the person is). */
const at = (day: string, hour = 9, minute = 0) => {
  const [y, m, d] = day.split('-').map(Number) as [number, number, number];
  return new Date(y, m - 1, d, hour, minute).getTime();
};
const plain = (text: string) => text.replace(/[\u00a0\u202f]/g, ' ');
const takeAt = async (now: number) => (await takeNotifications(station.db, officerId, now))
  .map((n) => ({ period: n.period, kind: n.kind, documents: n.documents, body: plain(n.body) }));
const take = async (day: string, hour = 9, minute = 0) => takeAt(at(day, hour, minute));
const periodsAt = async (now: number) => (await takeAt(now)).map((n) => [n.period, n.kind]);

beforeAll(async () => {
  // The profile, its certificates and the convention are made on a fixed day before the convention's
  // start, as they would be in life: the times injected below (2026-09 to 2027-04) are then inside
  // the certificates' validity whatever day the tests run (made at the real date, a run after
  // 2027-01-01 had certificates issued after the times asked about, and nobody habilitated).
  vi.useFakeTimers({ toFake: ['Date'], now: at('2026-09-15') });
  station = initProfile(home).profile;
  ctx = { profile: station, unlocker: { unlock: (row) => unlockIdentity(station.db, row.id, PASS) } };
  const officer = await createIdentity(station.db, { name: 'Paul Lefebvre', email: 'cpn-arras@interieur.gouv.fr', org: "CPN d'Arras" }, PASS, LIGHT);
  officerId = officer.id;
  await initAuthority(ctx, 'SSI DIPN 62', officer.id);
  const claire = await newPersonCard({ name: 'Claire Dumont', email: 'mairie@saint-laurent-blangy.fr', org: 'Mairie de Saint-Laurent-Blangy' });
  await certifyCard(ctx, claire.card, 'operator');
  const outsider = await newPersonCard({ name: 'Marc Petit', email: 'mairie@saint-laurent-blangy.fr', org: 'Mairie de Saint-Laurent-Blangy' });
  await certifyCard(ctx, outsider.card, 'operator');
  outsiderId = outsider.id;
  const made = await createConvention(ctx, {
    title: 'Saint-Laurent-Blangy', parties: [{ org: "CPN d'Arras", address: 'cpn-arras@interieur.gouv.fr' }, { org: 'Mairie de Saint-Laurent-Blangy', address: 'mairie@saint-laurent-blangy.fr' }],
    people: [{ id: officer.id, function: 'Chargé des statistiques' }, { id: claire.id, function: 'Directrice générale des services' }],
    types: '.xls,.csv,.pdf', schedule: 'quarterly:8', expect: ['IS 101', 'IST'], start: '2026-10-01', years: 1, renewMax: 4,
  });
  conventionId = made.body.id;
  vi.useRealTimers();
});

describe('desktop notifications of due periods', () => {
  it('nothing more than seven days before the 8th', async () => {
    expect(await take('2026-12-31')).toEqual([]);
  });

  it('from seven days before: the banner’s words, once (not again the same day nor the next days)', async () => {
    expect(await take('2027-01-01')).toEqual([{
      period: '2026-T4', kind: 'soon', documents: ['IS 101', 'IST'], body: 'IS 101 et IST du 4e trimestre à envoyer avant le 8 janvier',
    }]);
    expect(await take('2027-01-01', 16)).toEqual([]);
    expect(await take('2027-01-04')).toEqual([]);
  });

  it('on the 8th: « à envoyer aujourd’hui », once that day, from 08:00 (a sign-in at 07:00 waits for it)', async () => {
    expect(NOTIFY_FROM_HOUR).toBe(8);
    expect(await take('2027-01-08', 7)).toEqual([]);
    expect(await take('2027-01-08', 8)).toEqual([{ period: '2026-T4', kind: 'today', documents: ['IS 101', 'IST'], body: 'IS 101 et IST du 4e trimestre à envoyer aujourd’hui, 8 janvier' }]);
    expect(await take('2027-01-08', 17)).toEqual([]);
  });

  it('after the 8th: late, once a day, again the next morning, and not repeated by a restart', async () => {
    const late = await take('2027-01-09', 8);
    expect(late).toHaveLength(1);
    expect(late[0]).toMatchObject({ period: '2026-T4', kind: 'late' });
    expect(late[0]!.body).toContain('IS 101 et IST du 4e trimestre 2026 en retard');
    expect(late[0]!.body).toContain('8 janvier 2027');
    expect(await take('2027-01-09', 14)).toEqual([]);
    // A restart: the profile closed and opened again remembers today's notification.
    station.close();
    station = openProfile(home);
    ctx = { profile: station, unlocker: { unlock: (row) => unlockIdentity(station.db, row.id, PASS) } };
    expect(await take('2027-01-09', 18)).toEqual([]);
    expect((await take('2027-01-10', 8)).map((n) => [n.period, n.kind])).toEqual([['2026-T4', 'late']]);
  });

  it('the decision alone writes nothing', async () => {
    const first = await notificationsDue(station.db, officerId, at('2027-01-11'));
    expect(first.map((n) => n.kind)).toEqual(['late']);
    expect((await notificationsDue(station.db, officerId, at('2027-01-11'))).map((n) => n.kind)).toEqual(['late']);
  });

  it('never for a certified person outside the nominative list', async () => {
    expect(await notificationsDue(station.db, outsiderId, at('2027-01-08'))).toEqual([]);
    expect(await notificationsDue(station.db, outsiderId, at('2027-01-12'))).toEqual([]);
  });

  it('a memory made unreadable in the database only repeats today’s notification', async () => {
    // The attacker of docs/profile.md writes the meta row: no failure, no false state.
    setMeta(station.db, NOTIFIED_KEY, '{"broken":');
    expect((await take('2027-01-10', 12)).map((n) => [n.period, n.kind])).toEqual([['2026-T4', 'late']]);
    setMeta(station.db, NOTIFIED_KEY, '[1,2]');
    expect((await take('2027-01-10', 13)).map((n) => [n.period, n.kind])).toEqual([['2026-T4', 'late']]);
  });

  it('the New container screen: recipients of the other party, the periods begun and not sent, the current one first, then the late ones', async () => {
    const jan = await conventionChoices(station.db, officerId, at('2027-01-04'));
    expect(jan.today).toBe('2027-01-04');
    expect(jan.conventions).toHaveLength(1);
    const c = jan.conventions[0]!;
    expect(c).toMatchObject({ id: conventionId, habilitated: true, types: ['.csv', '.pdf', '.xls'], expect: ['IS 101', 'IST'] });
    // The CPN's clerk sends to the town hall's habilitated person; Marc Petit is certified but not listed.
    expect(c.recipients.map((r) => [r.name, r.function])).toEqual([['Claire Dumont', 'Directrice générale des services']]);
    expect(c.periods.map((p) => [p.period, p.late])).toEqual([['2026-T4', false], ['2027-T1', false]]);
    const april = (await conventionChoices(station.db, officerId, at('2027-04-20'))).conventions[0]!;
    expect(april.periods.map((p) => [p.period, p.late])).toEqual([['2027-T2', false], ['2027-T1', true], ['2026-T4', true]]);
    expect(april.periods[1]!.documents).toEqual([{ document: 'IS 101', state: 'late' }, { document: 'IST', state: 'late' }]);
    // Outside the list: the convention is shown as not open to them, with nothing to choose.
    const outsider = (await conventionChoices(station.db, outsiderId, at('2027-01-04'))).conventions[0]!;
    expect(outsider).toMatchObject({ habilitated: false, recipients: [], periods: [] });
    // Before its start nothing is offered.
    expect((await conventionChoices(station.db, officerId, at('2026-09-30'))).conventions).toEqual([]);
  });

  it('the IPC table’s notifier: two checks at once show a notification once; nobody signed in, none', async () => {
    const shown: DesktopNotification[] = [];
    let person: { id: string } | null = { id: officerId };
    const session = { active: () => person, opened: () => station } as unknown as Session;
    const check = createNotifier(session, (n) => void shown.push(n));
    const counts = await Promise.all([check(at('2027-01-13')), check(at('2027-01-13')), check(at('2027-01-13', 10))]);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(1);
    expect(shown.map((n) => [n.period, n.kind])).toEqual([['2026-T4', 'late']]);
    person = null;
    expect(await check(at('2027-01-14'))).toBe(0);
    expect(await createNotifier({ active: () => ({ id: officerId }), opened: () => station } as unknown as Session, undefined)(at('2027-01-14'))).toBe(0);
    expect(shown).toHaveLength(1);
  });

  it('nothing in the night: none at 00:05 nor 07:59, at 08:00 once, at 08:15 nothing more', async () => {
    expect(await take('2027-02-01', 0, 5)).toEqual([]);
    expect(await take('2027-02-01', 7, 59)).toEqual([]);
    // A check before 08:00 remembers nothing: the 08:00 one still shows the day's notification.
    expect((await take('2027-02-01', 8)).map((n) => [n.period, n.kind])).toEqual([['2026-T4', 'late']]);
    expect(await take('2027-02-01', 8, 15)).toEqual([]);
    expect(await take('2027-02-01', 23, 59)).toEqual([]);
  });

  it('late on day D at 08:00: again on D+1 at 08:00, not at 00:05 (an app left open overnight)', async () => {
    expect(await take('2027-02-02', 0, 5)).toEqual([]);
    expect(await take('2027-02-02', 3)).toEqual([]);
    expect((await take('2027-02-02', 8)).map((n) => [n.period, n.kind])).toEqual([['2026-T4', 'late']]);
  });

  it('a day with no check from 08:00 until 23:59 still shows it then, once', async () => {
    expect(await take('2027-02-03', 7)).toEqual([]);
    expect((await take('2027-02-03', 23, 59)).map((n) => [n.period, n.kind])).toEqual([['2026-T4', 'late']]);
    expect(await take('2027-02-04', 0, 5)).toEqual([]);
  });

  describe('across the daylight-saving changes, Europe/Paris: the hour is the local one', () => {
    const zone = process.env.TZ;
    // Node reads TZ again when it changes: Dates below are Paris's, whatever the machine's zone.
    beforeAll(() => { process.env.TZ = 'Europe/Paris'; });
    afterAll(() => {
      if (zone === undefined) delete process.env.TZ;
      else process.env.TZ = zone;
    });

    it('2027-03-28 (summer time from 02:00, UTC+2): 08:00 local is 06:00 UTC', async () => {
      const eight = Date.UTC(2027, 2, 28, 6, 0);
      // The zone took effect (else this test would prove nothing).
      expect([new Date(eight).getHours(), at('2027-03-28', 8)]).toEqual([8, eight]);
      // 07:30 local (06:30 on the winter clock of the day before): nothing yet.
      expect(await periodsAt(Date.UTC(2027, 2, 28, 5, 30))).toEqual([]);
      expect(await periodsAt(Date.UTC(2027, 2, 28, 5, 59))).toEqual([]);
      expect(await periodsAt(eight)).toEqual([['2026-T4', 'late']]);
      expect(await periodsAt(Date.UTC(2027, 2, 28, 6, 15))).toEqual([]);
    });

    it('2027-10-31 (winter time from 03:00, UTC+1): 08:00 local is 07:00 UTC', async () => {
      const eight = Date.UTC(2027, 9, 31, 7, 0);
      expect([new Date(eight).getHours(), at('2027-10-31', 8)]).toEqual([8, eight]);
      // 06:30 UTC is 07:30 local (08:30 on the summer clock of the day before): nothing yet.
      expect(await periodsAt(Date.UTC(2027, 9, 31, 6, 30))).toEqual([]);
      expect(await periodsAt(Date.UTC(2027, 9, 31, 6, 59))).toEqual([]);
      expect((await periodsAt(eight)).sort()).toEqual([['2026-T4', 'late'], ['2027-T1', 'late'], ['2027-T2', 'late'], ['2027-T3', 'late']]);
      expect(await periodsAt(Date.UTC(2027, 9, 31, 7, 15))).toEqual([]);
      // The next morning, local again: not at 00:05, at 08:00.
      expect(await periodsAt(Date.UTC(2027, 9, 31, 23, 5))).toEqual([]);
      expect(await periodsAt(Date.UTC(2027, 10, 1, 6, 59))).toEqual([]);
      expect(await periodsAt(Date.UTC(2027, 10, 1, 7, 0))).toHaveLength(4);
    });
  });

  it('nothing once the convention is terminated', async () => {
    await terminateConvention(ctx, conventionId, '2027-01-09', 'fin de la convention');
    expect(await notificationsDue(station.db, officerId, at('2027-01-12'))).toEqual([]);
  });
});
