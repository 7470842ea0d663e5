// Conventions in process (docs/convention.md): the calendar of periods and due dates, the seal's
// text unchanged for a profile without conventions, and the directory rules that no command can
// reach (an older version of a convention, a v1 body carrying conventions). The CLI flow, the
// attacker on the stored rows and a bad signature are in test/cli/convention.test.ts.
import { beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { createIdentity, newPersonCard, unlockIdentity } from '../../electron/core/profile/identities.js';
import { trustCanonical } from '../../electron/core/profile/integrity.js';
import { certifyCard, exportDirectory, initAuthority, unlockAuthority } from '../../electron/core/authority/authority.js';
import { importDirectory } from '../../electron/core/authority/directory.js';
import { makeEnvelope } from '../../electron/core/authority/signed.js';
import { createConvention, dueAt, listConventions, normaliseTypes, parseSchedule, terminateConvention } from '../../electron/core/authority/convention.js';
import { endOf, periodsOf, type ConventionBody } from '../../electron/core/authority/convention-object.js';
import type { Context } from '../../electron/core/context.js';
import { scratchProfiles } from './scratch.js';

const PASS = 'une phrase de passe de test';
const LIGHT = { opslimit: 1, memlimitKib: 8 };
const { profile } = scratchProfiles('pli-convention-unit-');

const body = (over: Partial<ConventionBody>): ConventionBody => ({
  v: 1, authority: '', id: 'conv-0000000000000000', version: 1, issued: 0, title: 'Essai',
  parties: [{ org: 'A', address: 'a@a.fr' }, { org: 'B', address: 'b@b.fr' }], people: [], types: ['.csv'],
  schedule: { every: 'quarterly', day: 8 }, expect: ['IS 101'], start: '2026-01-01', years: 1, renewMax: null,
  retentionDays: 15, openReceipts: false, status: { state: 'active' }, ...over,
});

describe('periods and due dates', () => {
  it('quarterly on the 8th: T1..T4, the fourth due on the 8th of January of the next year', () => {
    expect(periodsOf(body({}))).toEqual([
      { period: '2026-T1', begins: '2026-01-01', due: '2026-04-08' },
      { period: '2026-T2', begins: '2026-04-01', due: '2026-07-08' },
      { period: '2026-T3', begins: '2026-07-01', due: '2026-10-08' },
      { period: '2026-T4', begins: '2026-10-01', due: '2027-01-08' },
    ]);
  });

  it('half-yearly and monthly: 2026-S2 due in January, 2026-11 due in December', () => {
    expect(periodsOf(body({ schedule: { every: 'half-yearly', day: 15 } })).map((p) => [p.period, p.due])).toEqual([['2026-S1', '2026-07-15'], ['2026-S2', '2027-01-15']]);
    const monthly = periodsOf(body({ schedule: { every: 'monthly', day: 5 }, start: '2026-10-20' }));
    expect(monthly.slice(0, 3).map((p) => [p.period, p.due])).toEqual([['2026-10', '2026-11-05'], ['2026-11', '2026-12-05'], ['2026-12', '2027-01-05']]);
    // Started on 20 October for one year: the last whole month is September 2027.
    expect(monthly.at(-1)?.period).toBe('2027-09');
  });

  it('tacit renewal runs to the maximum; a termination cuts the period it falls in', () => {
    expect(periodsOf(body({ renewMax: 4 }))).toHaveLength(16);
    expect(endOf(body({ renewMax: 4 }))).toBe('2030-01-01');
    const ended = body({ renewMax: 4, status: { state: 'terminated', date: '2026-11-15', reason: 'fin' } });
    expect(endOf(ended)).toBe('2026-11-16');
    expect(periodsOf(ended).map((p) => p.period)).toEqual(['2026-T1', '2026-T2', '2026-T3']);
  });

  it('normalises extensions and reads schedules', () => {
    expect(normaliseTypes(' .PDF, doc,.xls,csv,.pdf ')).toEqual(['.csv', '.doc', '.pdf', '.xls']);
    expect(() => normaliseTypes('.exe;.bat')).toThrow(/Types de fichiers admis/);
    expect(parseSchedule('half-yearly:1')).toEqual({ every: 'half-yearly', day: 1 });
    for (const bad of ['quarterly:0', 'quarterly:29', 'yearly:8', 'quarterly', '8']) expect(() => parseSchedule(bad)).toThrow(/Calendrier : quarterly:J/);
  });
});

describe('the trust seal without conventions', () => {
  it('covers exactly the bytes it covered before migration 9 (older seals still verify)', () => {
    const p = profile();
    const field = (b: Buffer) => {
      const length = Buffer.alloc(4);
      length.writeUInt32BE(b.length);
      return Buffer.concat([length, b]);
    };
    const u64 = (n: number) => {
      const b = Buffer.alloc(8);
      b.writeBigInt64BE(BigInt(n));
      return b;
    };
    // docs/profile.md, "The seal": label, counter, "no trust", SHA-256 over no revocation.
    const documented = Buffer.concat([field(Buffer.from('pli/v1/integrity/trust')), field(u64(7)), field(Buffer.from('no trust')), field(createHash('sha256').digest())]);
    expect(trustCanonical(p.db, 7).equals(documented)).toBe(true);
    p.db.prepare("INSERT INTO conventions (id, authority, version, text, imported_at) VALUES ('conv-x', x'00', 1, 't', 0)").run();
    expect(trustCanonical(p.db, 7).equals(documented)).toBe(false);
  });
});

describe('the directory rules for conventions', () => {
  const officerProfile = profile();
  const ctx: Context = { profile: officerProfile, unlocker: { unlock: (row) => unlockIdentity(officerProfile.db, row.id, PASS) } };
  const station = profile();
  let pin = '';
  let first = { text: '', serial: 0 };
  beforeAll(async () => {
    const officer = await createIdentity(officerProfile.db, { name: 'Olivier Ssi', email: 'ssi@interieur.gouv.fr', org: 'DIPN du Pas-de-Calais' }, PASS, LIGHT);
    pin = (await initAuthority(ctx, 'SSI DIPN 62', officer.id)).fingerprint;
    for (const [name, org] of [['Paul Lefebvre', "CPN d'Arras"], ['Claire Dumont', 'Mairie de Saint-Laurent-Blangy']] as const) {
      await certifyCard(ctx, (await newPersonCard({ name, email: 'x@exemple.fr', org })).card, 'operator');
    }
    first = await exportDirectory(ctx);
  });

  it('a directory without convention is still v1; with one it is v2', async () => {
    expect(JSON.parse(JSON.parse(first.text).body)).toMatchObject({ v: 1 });
    expect(JSON.parse(JSON.parse(first.text).body)).not.toHaveProperty('conventions');
    await importDirectory(station.db, first.text, pin);
    await createConvention(ctx, {
      title: 'Saint-Laurent-Blangy', parties: [{ org: "CPN d'Arras", address: 'cpn@interieur.gouv.fr' }, { org: 'Mairie de Saint-Laurent-Blangy', address: 'mairie@slb.fr' }],
      people: [], types: 'pdf', schedule: 'monthly:8', expect: ['IST'], start: '2026-01-01', years: 2,
    });
    const second = await exportDirectory(ctx);
    expect(JSON.parse(JSON.parse(second.text).body)).toMatchObject({ v: 2, conventions: [expect.any(String)] });
    const result = await importDirectory(station.db, second.text);
    expect(result.conventions).toBe(1);
    expect((await dueAt(station.db, '2026-02-08')).map((d) => [d.period, d.state])).toEqual([['2026-01', 'due'], ['2026-02', 'upcoming']]);
  });

  it('refuses an older version of a stored convention, and a v1 body that carries conventions', async () => {
    const [convention] = await listConventions(officerProfile.db);
    const oldText = (officerProfile.db.prepare('SELECT text FROM conventions').pluck().get() as string);
    await terminateConvention(ctx, convention!.id, '2026-06-30', 'fin');
    await importDirectory(station.db, (await exportDirectory(ctx)).text);
    expect((await listConventions(station.db))[0]?.status.state).toBe('terminated');
    const authority = await unlockAuthority(ctx);
    try {
      const latest = JSON.parse(JSON.parse((await exportDirectory(ctx)).text).body) as { serial: number; v: number; conventions?: string[] };
      const older = await makeEnvelope('directory', { ...latest, conventions: [oldText] }, authority.secretKey);
      await expect(importDirectory(station.db, older)).rejects.toMatchObject({ code: 'convention-rollback', kind: 'security' });
      const v1 = await makeEnvelope('directory', { ...latest, v: 1, serial: latest.serial + 1 }, authority.secretKey);
      await expect(importDirectory(station.db, v1)).rejects.toMatchObject({ code: 'bad-directory' });
    } finally {
      authority.wipe();
    }
    expect((await listConventions(station.db))[0]?.status.state).toBe('terminated');
  });
});
