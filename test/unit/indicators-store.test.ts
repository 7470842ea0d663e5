// The figures in the profile (docs/indicators.md 4, 6): eight quarters of IS 101 and IST for two
// communes imported and read back exactly, with their trends; a correction; and the attacker of
// docs/profile.md, who edits the figures table with better-sqlite3 (a value changed, a row planted,
// a correction deleted to bring the old value back): each edit is shown, never silently used.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { initProfile, type Profile } from '../../electron/core/profile/profile.js';
import { createIdentity, getIdentity, newPersonCard } from '../../electron/core/profile/identities.js';
import { detachIntegrityKey } from '../../electron/core/profile/integrity.js';
import { listEvents } from '../../electron/core/profile/events.js';
import { signIn } from '../../electron/core/services/session.js';
import { certifyCard, initAuthority } from '../../electron/core/authority/authority.js';
import { createConvention } from '../../electron/core/authority/convention.js';
import type { Context } from '../../electron/core/context.js';
import { correctFigure, currentFigures, importFromOpenedFile, importState, setMapping } from '../../electron/core/indicators/store.js';
import { agglomerationView, communeViews, withinPeriods } from '../../electron/core/indicators/view.js';
import { formatChange, formatCount, formatPercent } from '../../shared/indicators.js';
import { COMMUNES, QUARTERS, is101Of, is101Rows, istOf, istRows, toCsv, toWorkbook } from './indicators-fixtures.js';

const PASS = 'une phrase de passe de test';
const LIGHT = { opslimit: 1, memlimitKib: 8 };
const root = mkdtempSync(path.join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'pli-indicators-unit-'));
let profile: Profile;
let ctx: Context;
let actor: string | null = null;
let convention = '';
afterAll(() => {
  profile?.close();
  rmSync(root, { recursive: true, force: true });
});

function file(name: string, bytes: Buffer): string {
  const target = path.join(root, name);
  writeFileSync(target, bytes);
  return target;
}

beforeAll(async () => {
  ({ profile } = initProfile(path.join(root, 'observatoire')));
  const person = await createIdentity(profile.db, { name: 'Olivier Ssi', email: 'ssi@interieur.gouv.fr', org: 'DIPN du Pas-de-Calais' }, PASS, LIGHT);
  ctx = {
    profile, actor: () => actor,
    unlocker: { unlock: async (row) => {
      const unlocked = await signIn(profile, row, PASS);
      actor = unlocked.id;
      return unlocked;
    } },
  };
  await initAuthority(ctx, 'SSI DIPN 62', person.id);
  for (const [name, org] of [['Paul Lefebvre', "CPN d'Arras"], ['Claire Dumont', 'Mairie de Saint-Laurent-Blangy']] as const) {
    await certifyCard(ctx, (await newPersonCard({ name, email: 'x@exemple.fr', org })).card, 'operator');
  }
  convention = (await createConvention(ctx, {
    title: 'Saint-Laurent-Blangy', parties: [{ org: "CPN d'Arras", address: 'cpn@interieur.gouv.fr' }, { org: 'Mairie de Saint-Laurent-Blangy', address: 'mairie@slb.fr' }],
    people: [], types: 'csv,xls,ods,xlsx', schedule: 'quarterly:8', expect: ['IS 101', 'IST'], start: '2025-01-01', years: 3,
  })).body.id;
  actor = null; // each test's first write signs in again, as a CLI command would
  expect(getIdentity(profile.db, person.id)).toBeDefined();
  // Eight quarters for two communes, in every format the tests cover.
  const formats = [
    (rows: (string | number)[][]) => ['csv', toCsv(rows, ';', 'utf-8')] as const,
    (rows: (string | number)[][]) => ['csv', toCsv(rows, ',', 'windows-1252')] as const,
    (rows: (string | number)[][]) => ['xlsx', toWorkbook(rows, 'xlsx')] as const,
    (rows: (string | number)[][]) => ['ods', toWorkbook(rows, 'ods')] as const,
  ];
  let n = 0;
  for (const [c, commune] of COMMUNES.entries()) {
    for (const [q, period] of QUARTERS.entries()) {
      const [ext1, is101] = formats[n++ % formats.length]!(is101Rows(is101Of(c, q), commune));
      const [ext2, ist] = formats[n++ % formats.length]!(istRows(istOf(c, q)));
      for (const [name, bytes] of [[`is101-${c}-${period}.${ext1}`, is101], [`ist-${c}-${period}.${ext2}`, ist]] as const) {
        const result = await importState(ctx, { convention, period, commune, file: file(name, bytes), container: `pli${c}${q}` });
        expect(result.recognised, name).toBe(true);
      }
    }
  }
}, 120_000);

describe('figures in the profile', () => {
  it('read back exactly, sealed, for every quarter, commune and indicator', () => {
    const { figures, missing, checked } = currentFigures(ctx);
    expect(checked).toBe(true);
    expect(missing).toEqual([]);
    expect(figures).toHaveLength(2 * 8 * 12);
    for (const [c, commune] of COMMUNES.entries()) {
      for (const [q, period] of QUARTERS.entries()) {
        const of = (id: string) => figures.find((f) => f.commune === commune && f.period === period && f.indicator === id);
        expect(of('is101.vols-sans-violence')?.value).toBe(is101Of(c, q).sansViolence);
        expect(of('is101.homicides')?.value).toBe(is101Of(c, q).homicides);
        expect(of('ist.biens')?.value).toBe(istOf(c, q).biens);
        expect(of('ist.ordre-public')?.value).toBe(istOf(c, q).ordre);
      }
    }
    expect(new Set(figures.map((f) => f.state))).toEqual(new Set(['ok']));
  });

  it('trends: value, change from the previous quarter and a year before, year to date, French format', () => {
    const view = communeViews(currentFigures(ctx, { commune: 'saint laurent blangy' }).figures);
    expect(view.map((v) => v.commune)).toEqual(['Saint-Laurent-Blangy']);
    const theft = view[0]!.indicators.find((s) => s.indicator === 'is101.vols-sans-violence')!;
    expect(theft.quarters.map((q) => q.quarter)).toEqual(QUARTERS);
    const t4 = theft.quarters.at(-1)!;
    expect(t4.value).toBe(1000 + 37 * 7);
    expect(t4.previous).toEqual({ delta: 37, percent: (37 / (1000 + 37 * 6)) * 100 });
    expect(t4.yearAgo?.delta).toBe(37 * 4);
    expect(t4.yearToDate).toEqual({ value: [4, 5, 6, 7].reduce((s, q) => s + 1000 + 37 * q, 0), complete: true });
    expect(theft.quarters[0]!.previous).toBeNull();
    expect(formatCount(t4.yearToDate.value)).toBe('4\u202f814');
    expect(formatChange(-1234)).toBe('\u22121\u202f234');
    expect(formatPercent(t4.previous!.percent!)).toBe('+3,0\u00a0%');
  });

  it('the period filter chooses the quarters shown; their changes still use the quarters before', () => {
    const views = withinPeriods(communeViews(currentFigures(ctx, { commune: 'Achicourt' }).figures), '2026-S2', '2026');
    const biens = views[0]!.indicators.find((s) => s.indicator === 'ist.biens')!;
    expect(biens.quarters.map((q) => q.quarter)).toEqual(['2026-T3', '2026-T4']);
    expect(biens.quarters[0]!.yearAgo?.delta).toBe(istOf(1, 6).biens - istOf(1, 2).biens);
    expect(biens.quarters[1]!.yearToDate).toEqual({ value: [4, 5, 6, 7].reduce((s, q) => s + istOf(1, q).biens, 0), complete: true });
  });

  it('the agglomeration sums the communes and names none', () => {
    const agglo = agglomerationView(currentFigures(ctx).figures);
    expect(agglo.commune).toBeNull();
    const biens = agglo.indicators.find((s) => s.indicator === 'ist.biens')!;
    expect(biens.quarters.at(-1)!.value).toBe(istOf(0, 7).biens + istOf(1, 7).biens);
    expect(JSON.stringify(agglo)).not.toMatch(/Blangy|Achicourt/);
  });

  it('a state not recognised writes no figure and one event saying why', async () => {
    const before = currentFigures(ctx).figures.length;
    const result = await importState(ctx, { convention, period: '2026-T4', commune: 'Achicourt', file: file('note.csv', Buffer.from('Compte rendu;réunion\n')) });
    expect(result).toMatchObject({ recognised: false, reason: expect.stringMatching(/aucun libellé/) });
    expect(currentFigures(ctx).figures.length).toBe(before);
    const last = listEvents(profile.db).at(-1)!;
    expect(last.action).toBe('indicators.imported');
    expect(JSON.parse(last.detail!)).toMatchObject({ recognised: false, file: 'note.csv' });
  });

  it('bad input changes nothing: unknown convention, bad period, no commune for a state that names none', async () => {
    const events = listEvents(profile.db).length;
    const state = file('is101.csv', toCsv(is101Rows(is101Of(0, 0)), ';', 'utf-8'));
    await expect(importState(ctx, { convention: 'conv-zzzzzzzzzzzzzzzz', period: '2026-T4', commune: 'X', file: state })).rejects.toMatchObject({ code: 'unknown-convention' });
    await expect(importState(ctx, { convention, period: '2026-T5', commune: 'X', file: state })).rejects.toMatchObject({ code: 'bad-period' });
    await expect(importState(ctx, { convention, period: '2026-T4', file: state })).rejects.toMatchObject({ code: 'commune-required' });
    expect(listEvents(profile.db).length).toBe(events);
  });

  it('the open path reads a state and never throws', async () => {
    const ok = await importFromOpenedFile(ctx, { convention, period: '2027-T1', commune: 'Achicourt', file: file('ist-open.csv', toCsv(istRows(istOf(1, 8)), ';', 'utf-8')), container: 'pliopen1' });
    expect(ok).toMatchObject({ recognised: true, rows: 3 });
    const bad = await importFromOpenedFile(ctx, { convention: 'conv-inconnue00000000', period: '2027-T1', commune: 'Achicourt', file: file('x.csv', Buffer.from('a')), container: 'pliopen2' });
    expect(bad.recognised).toBe(false);
    expect(currentFigures(ctx, { from: '2027-T1' }).figures.find((f) => f.indicator === 'ist.biens')?.sourceContainer).toBe('pliopen1');
  });

  it('a person’s mapping is stored and used; its event names it', async () => {
    await setMapping(ctx, { text: JSON.stringify({ format: 'pli-indicateurs-correspondance', version: 1, name: 'CPN Arras', labels: { 'ist.integrite': ['Rixes'], 'ist.biens': ['Dégradations'] } }) });
    const r = await importState(ctx, { convention, period: '2027-T2', commune: 'Achicourt', file: file('maison.csv', Buffer.from('Rixes;4\nDégradations;19\n')) });
    expect(r).toMatchObject({ recognised: true, mapping: 'CPN Arras', rows: 2 });
    expect(listEvents(profile.db).some((e) => e.action === 'indicators.mapping-set' && e.object === 'CPN Arras')).toBe(true);
  });

  it('a correction is a new sealed row, the current value from then on, its reason in the log', async () => {
    const fixed = await correctFigure(ctx, { convention, commune: 'Achicourt', period: '2026-T4', indicator: 'is101.homicides', value: 3, reason: 'erreur de saisie du CPN' });
    expect(fixed).toMatchObject({ value: 3, state: 'ok', sourceFile: 'correction manuelle' });
    const event = listEvents(profile.db).at(-1)!;
    expect(event.action).toBe('indicators.corrected');
    expect(JSON.parse(event.detail!)).toMatchObject({ reason: 'erreur de saisie du CPN', indicator: 'is101.homicides' });
    expect(event.detail).not.toMatch(/"value"/);
  });
});

describe('the attacker of docs/profile.md edits the figures table', () => {
  const attacker = () => new Database(path.join(root, 'observatoire', 'profile.sqlite'));
  const figure = (commune: string, period: string, indicator: string) =>
    currentFigures(ctx).figures.find((f) => f.commune === commune && f.period === period && f.indicator === indicator)!;

  it('a value changed with better-sqlite3 is shown as modified, and left out of the trends', () => {
    const db = attacker();
    db.prepare("UPDATE indicator_figures SET value = 1 WHERE commune = 'Saint-Laurent-Blangy' AND period = '2026-T3' AND indicator = 'is101.cambriolages'").run();
    db.close();
    expect(figure('Saint-Laurent-Blangy', '2026-T3', 'is101.cambriolages')).toMatchObject({ value: 1, state: 'modified' });
    const series = communeViews(currentFigures(ctx, { commune: 'Saint-Laurent-Blangy' }).figures)[0]!.indicators.find((s) => s.indicator === 'is101.cambriolages')!;
    expect(series.modified).toEqual(['2026-T3']);
    expect(series.quarters.map((q) => q.quarter)).not.toContain('2026-T3');
    // Without the key in hand the seal cannot be checked, but nothing is said to be verified either.
    detachIntegrityKey(profile.db);
    try {
      expect(figure('Achicourt', '2026-T3', 'is101.cambriolages').state).toBe('unverified');
      expect(currentFigures(ctx).checked).toBe(false);
    } finally {
      actor = null;
    }
  });

  it('a row planted under a made-up write, or copied without its seal, is shown as modified', async () => {
    await importState(ctx, { convention, period: '2027-T3', commune: 'Achicourt', file: file('ist-27t3.csv', toCsv(istRows(istOf(1, 9)), ';', 'utf-8')) }); // signs in again
    const db = attacker();
    const writeId = db.prepare("SELECT write_id FROM indicator_figures WHERE period = '2027-T3' LIMIT 1").pluck().get() as string;
    db.prepare("INSERT INTO indicator_figures (convention, commune, period, indicator, value, source_container, source_file, write_id, written_at, mac) VALUES (?, 'Achicourt', '2027-T3', 'ist.ordre-public', 0, NULL, 'x.csv', 'ind-0000000000000000', 1, NULL)").run(convention);
    db.prepare("INSERT INTO indicator_figures (convention, commune, period, indicator, value, source_container, source_file, write_id, written_at, mac) VALUES (?, 'Achicourt', '2027-T3', 'ist.biens', 1, NULL, 'x.csv', ?, 1, NULL)").run(convention, writeId);
    db.close();
    expect(figure('Achicourt', '2027-T3', 'ist.ordre-public')).toMatchObject({ value: 0, state: 'modified' });
    expect(figure('Achicourt', '2027-T3', 'ist.biens')).toMatchObject({ value: 1, state: 'modified' });
    expect(figure('Achicourt', '2027-T3', 'ist.integrite').state).toBe('ok');
  });

  it('a correction deleted to bring the old value back is reported missing', () => {
    const db = attacker();
    db.prepare("DELETE FROM indicator_figures WHERE source_file = 'correction manuelle'").run();
    db.close();
    const { figures, missing } = currentFigures(ctx);
    expect(figures.find((f) => f.commune === 'Achicourt' && f.period === '2026-T4' && f.indicator === 'is101.homicides')?.value).toBe(is101Of(1, 7).homicides);
    expect(missing).toEqual([expect.objectContaining({ period: '2026-T4', expected: 1, found: 0, convention })]);
  });
});
