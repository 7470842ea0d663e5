// Hostile states imported into a profile (docs/indicators.md 4, 5, 6, 7; security review of the
// reading): an observatory's state of many communes names the first ones in its event and counts
// them; a state whose one column is headed with another known commune is that commune's, not the
// one given; a commune header with an invisible character is "non reconnu" with its event; a
// commune header shaped as a formula cannot become one in the CSV export, whatever the list
// separator of the spreadsheet; and the rows of an import or a correction are written in the same
// transaction as their event: if the event cannot be written, no row is left behind.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { Profile } from '../../electron/core/profile/profile.js';
import { listEvents } from '../../electron/core/profile/events.js';
import type { Context } from '../../electron/core/context.js';
import { correctFigure, currentFigures, EVENT_COMMUNES, importFromOpenedFile, importState } from '../../electron/core/indicators/store.js';
import { exportCsv } from '../../electron/core/indicators/output.js';
import { stopReading } from '../../electron/core/indicators/read.js';
import { istRows, toCsv, toWorkbook } from './indicators-fixtures.js';
import { observatoryProfile } from './observatory.js';

const PASS = 'une phrase de passe de test';
const root = mkdtempSync(path.join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'pli-indicators-hostile-'));
let profile: Profile;
let ctx: Context;
let convention = '';

function file(name: string, bytes: Buffer): string {
  const target = path.join(root, name);
  writeFileSync(target, bytes);
  return target;
}
const lastImport = () => {
  const e = listEvents(profile.db).filter((x) => x.action === 'indicators.imported').at(-1)!;
  return JSON.parse(e.detail!) as Record<string, unknown>;
};
const rowCount = () => profile.db.prepare('SELECT count(*) FROM indicator_figures').pluck().get() as number;

beforeAll(async () => {
  // The communes this profile knows: the town halls of its directory and of its conventions.
  ({ profile, ctx, convention } = await observatoryProfile(path.join(root, 'observatoire'), PASS, {
    party: { org: "Mairie d'Achicourt", address: 'mairie@achicourt.fr' },
    certify: [
      { name: 'Claire Dumont', email: 'mairie@slb.fr', org: 'Mairie de Saint-Laurent-Blangy' },
      { name: 'Marc Petit', email: 'mairie@achicourt.fr', org: "Mairie d'Achicourt" },
    ],
  }));
}, 60_000);
afterAll(async () => {
  await stopReading();
  profile?.close();
  rmSync(root, { recursive: true, force: true });
});

const oneColumn = (header: string, v: number): (string | number)[][] => [
  ['IST'], ['Famille', header], ["Atteintes à l'intégrité physique", v], ['Atteintes aux biens', v + 1], ['Atteintes à la paix et à la santé publiques', v + 2],
];

describe('many communes', () => {
  it('the event names the first communes and counts them all; every figure is stored', async () => {
    const n = 60;
    const rows = [
      ['Famille', ...Array.from({ length: n }, (_, i) => `Commune ${String(i).padStart(2, '0')}`)],
      ["Atteintes à l'intégrité physique", ...Array.from({ length: n }, (_, i) => i)],
      ['Atteintes aux biens', ...Array.from({ length: n }, (_, i) => i + 1)],
    ];
    const r = await importState(ctx, { convention, period: '2026-T1', file: file('agglo.xlsx', toWorkbook(rows, 'xlsx')) });
    expect(r).toMatchObject({ recognised: true, rows: 2 * n });
    expect(r.recognised && r.communes).toHaveLength(n);
    const detail = lastImport();
    expect(detail.communes).toHaveLength(EVENT_COMMUNES);
    expect(detail).toMatchObject({ communeCount: n, rows: 2 * n });
  });
});

describe('a state for another commune', () => {
  it('one column headed with another commune the profile knows: non reconnu, its event says why', async () => {
    const before = rowCount();
    const r = await importState(ctx, { convention, period: '2026-T2', commune: 'Saint-Laurent-Blangy', file: file('ist-achicourt.xlsx', toWorkbook(oneColumn('ACHICOURT', 10), 'xlsx')) });
    expect(r).toMatchObject({ recognised: false, reason: 'la colonne des chiffres est intitulée « Achicourt », pas « Saint-Laurent-Blangy » : importez-le pour la commune « Achicourt » (si c’est la même que « Saint-Laurent-Blangy », écrite autrement, choisissez ce nom-là)' });
    expect(rowCount()).toBe(before);
    expect(lastImport()).toMatchObject({ recognised: false, file: 'ist-achicourt.xlsx' });
    // The same on the open path (a container filed under the convention).
    const opened = await importFromOpenedFile(ctx, { convention, period: '2026-T2', commune: 'Achicourt', file: file('ist-slb.csv', toCsv(oneColumn('Saint-Laurent-Blangy', 10), ';', 'utf-8')), container: 'plihostile1' });
    expect(opened).toMatchObject({ recognised: false, reason: expect.stringMatching(/intitulée « Saint-Laurent-Blangy », pas « Achicourt »/) });
  });

  it('its own name, a count, a total, a police service or a commune Pli does not know: read', async () => {
    for (const header of ['Saint-Laurent-Blangy', 'saint laurent blangy', 'Nombre', 'Faits constatés', 'Valeur', 'CSP d’Arras', 'Circonscription de police nationale d’Arras', 'Arras', '']) {
      const r = await importState(ctx, { convention, period: '2026-T3', commune: 'Saint-Laurent-Blangy', file: file('ist-slb.xlsx', toWorkbook(oneColumn(header, 20), 'xlsx')) });
      expect(r, header).toMatchObject({ recognised: true, rows: 3 });
    }
  });
});

describe('a commune header with an invisible character', () => {
  it('is "non reconnu", not an error the person cannot correct, and its event is written', async () => {
    const events = listEvents(profile.db).length;
    const before = rowCount();
    const rows = [['Famille', 'Arr\u200bas', 'Achicourt'], ["Atteintes à l'intégrité physique", 1, 2], ['Atteintes aux biens', 3, 4]];
    const r = await importState(ctx, { convention, period: '2026-T4', file: file('invisible.csv', toCsv(rows, ';', 'utf-8')) });
    expect(r).toMatchObject({ recognised: false, reason: expect.stringMatching(/^en-tête de commune illisible/) });
    expect(rowCount()).toBe(before);
    expect(listEvents(profile.db).length).toBe(events + 1);
    expect(lastImport()).toMatchObject({ recognised: false, file: 'invisible.csv', reason: expect.stringMatching(/^en-tête de commune illisible/) });
  });
});

describe('the CSV export', () => {
  it('a commune or file name shaped as a formula stays text in a spreadsheet splitting on commas or semicolons', async () => {
    const evil = "A,=cmd|' /C calc'!A0,";
    const rows = [['Famille', evil, 'B;+1+1'], ["Atteintes à l'intégrité physique", 1, 2], ['Atteintes aux biens', 3, 4]];
    expect(await importState(ctx, { convention, period: '2027-T1', file: file('x,@SUM(1).xlsx', toWorkbook(rows, 'xlsx')) })).toMatchObject({ recognised: true });
    const { text } = await exportCsv(ctx, { from: '2027-T1', to: '2027-T1' });
    const lines = text.replace(/^\ufeff/, '').split('\r\n').filter(Boolean);
    expect(lines).toHaveLength(1 + 4);
    for (const line of lines) {
      // Every field a spreadsheet could make of the line, whichever separator it splits on.
      for (const field of line.split(/[,;\t]/)) expect(field, line).not.toMatch(/^[\s"]*[=+\-@]/);
    }
    expect(text).toContain(`"A,'=cmd|' /C calc'!A0,"`);
  });
});

describe('rows and their event in one transaction', () => {
  it('when the event cannot be written, the import and the correction leave no row', async () => {
    await importState(ctx, { convention, period: '2027-T2', commune: 'Achicourt', file: file('ist-ok.csv', toCsv(istRows({ integrite: 1, biens: 2, ordre: 3 }), ';', 'utf-8')) });
    const before = rowCount();
    // The log refuses any new event (as a full disk or a busy database would, between the two writes).
    const other = new Database(path.join(root, 'observatoire', 'profile.sqlite'));
    other.exec("CREATE TRIGGER no_event BEFORE INSERT ON events BEGIN SELECT RAISE(ABORT, 'journal indisponible'); END");
    try {
      await expect(importState(ctx, { convention, period: '2027-T3', commune: 'Achicourt', file: file('ist-t3.csv', toCsv(istRows({ integrite: 4, biens: 5, ordre: 6 }), ';', 'utf-8')) })).rejects.toThrow(/journal indisponible/);
      await expect(correctFigure(ctx, { convention, commune: 'Achicourt', period: '2027-T2', indicator: 'ist.biens', value: 9, reason: 'essai' })).rejects.toThrow(/journal indisponible/);
      expect(rowCount()).toBe(before);
    } finally {
      other.exec('DROP TRIGGER no_event');
      other.close();
    }
    const { figures, missing } = currentFigures(ctx);
    expect(missing).toEqual([]);
    expect(figures.filter((f) => f.state === 'modified')).toEqual([]);
  });
});
