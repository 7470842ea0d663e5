// Issue 16's interface, in the core (docs/indicators.md 3.1, 4.2, 7.1): a correction shown with who
// made it, when, why and the value it replaced; the sources of every figure with who signed them
// (the signer recorded at import, kept when the container leaves the inbox), or who imported the
// file by hand; the labels of a state that was not recognised, as read (a formula never evaluated),
// a draft mapping's preview, and the state read again once the mapping is saved.
// The attacker of docs/profile.md edits the inbox and the identities with better-sqlite3: the
// signer shown is still the one the audit log recorded at import.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import * as XLSX from '@e965/xlsx';
import type { Profile } from '../../electron/core/profile/profile.js';
import { listEvents } from '../../electron/core/profile/events.js';
import { actorOf, audit, type Context } from '../../electron/core/context.js';
import { correctFigure, currentFigures, figureSources, importState, previewMapping, readLabels, setMapping } from '../../electron/core/indicators/store.js';
import { labelsOf } from '../../electron/core/indicators/mapping.js';
import { stopReading } from '../../electron/core/indicators/read.js';
import { istRows, toCsv } from './indicators-fixtures.js';
import { observatoryProfile } from './observatory.js';

const PASS = 'une phrase de passe de test';
const root = mkdtempSync(path.join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'pli-indicators-edit-'));
const db = () => new Database(path.join(root, 'observatoire', 'profile.sqlite'));
let profile: Profile;
let ctx: Context;
let convention = '';
let paul = '';

function file(name: string, bytes: Buffer): string {
  const target = path.join(root, name);
  writeFileSync(target, bytes);
  return target;
}

beforeAll(async () => {
  ({ profile, ctx, convention, paul } = await observatoryProfile(path.join(root, 'observatoire'), PASS, { party: { org: "Communauté urbaine d'Arras", address: 'obs@cu-arras.fr' } }));
}, 60_000);
afterAll(async () => {
  await stopReading();
  profile?.close();
  rmSync(root, { recursive: true, force: true });
});

describe('a correction as the screen shows it', () => {
  it('names when, by whom and why, and keeps the value it replaced', async () => {
    await importState(ctx, { convention, period: '2026-T3', commune: 'Achicourt', file: file('ist-t3.csv', toCsv(istRows({ integrite: 120, biens: 340, ordre: 7 }), ';', 'utf-8')) });
    const before = Date.now();
    await correctFigure(ctx, { convention, commune: 'Achicourt', period: '2026-T3', indicator: 'ist.biens', value: 314, reason: 'doublon dans l’état du CPN' });
    const shown = currentFigures(ctx).figures.find((f) => f.commune === 'Achicourt' && f.period === '2026-T3' && f.indicator === 'ist.biens')!;
    expect(shown.value).toBe(314);
    expect(shown.correction).toMatchObject({ by: 'Nadia Observatoire', reason: 'doublon dans l’état du CPN', original: 340 });
    expect(shown.correction!.at).toBeGreaterThanOrEqual(before);
    // A figure never corrected has none.
    expect(currentFigures(ctx).figures.find((f) => f.period === '2026-T3' && f.indicator === 'ist.integrite')!.correction).toBeNull();
    // Corrected twice: the value the state gave is still the original.
    await correctFigure(ctx, { convention, commune: 'Achicourt', period: '2026-T3', indicator: 'ist.biens', value: 315, reason: 'second contrôle' });
    const again = currentFigures(ctx).figures.find((f) => f.commune === 'Achicourt' && f.period === '2026-T3' && f.indicator === 'ist.biens')!;
    expect(again.correction).toMatchObject({ reason: 'second contrôle', original: 340 });
  });

  it('a reason the attacker rewrites in the table is not shown: the reason is the audit log’s', async () => {
    // The figures table holds no reason at all: nothing there to rewrite. The log's reason is the one shown,
    // and a planted correction row (no event) is "modifié", with no correction note.
    const h = db();
    const row = h.prepare("SELECT * FROM indicator_figures WHERE source_file = 'correction manuelle' ORDER BY id DESC LIMIT 1").get() as Record<string, unknown>;
    h.prepare('INSERT INTO indicator_figures (convention, commune, period, indicator, value, source_container, source_file, write_id, written_at, mac) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)')
      .run(row.convention, row.commune, '2026-T2', row.indicator, 1, null, 'correction manuelle', 'ind-0000000000000000', row.written_at, row.mac);
    h.close();
    const planted = currentFigures(ctx).figures.find((f) => f.period === '2026-T2' && f.indicator === 'ist.biens')!;
    expect(planted.state).toBe('modified');
    expect(planted.correction).toBeNull();
    const h2 = db();
    h2.prepare("DELETE FROM indicator_figures WHERE period = '2026-T2'").run();
    h2.close();
  });
});

describe('sources: signed by whom, for every figure', () => {
  it('a file imported by hand says so, with the date and the person', async () => {
    const figures = currentFigures(ctx, { commune: 'Achicourt' }).figures.filter((f) => f.period === '2026-T3' && f.sourceFile === 'ist-t3.csv');
    const [source] = figureSources(ctx.profile.db, figures);
    expect(source).toMatchObject({ kind: 'hand', file: 'ist-t3.csv', importedBy: 'Nadia Observatoire', signedBy: null, container: null });
  });

  it('a container’s signer is recorded at import and kept when the container leaves the inbox', async () => {
    // The open path wrote container.opened (naming the sender) before reading the state.
    audit(ctx, { actor: actorOf(ctx), action: 'container.opened', object: 'pli-cpn-2026-t4', detail: { sender: paul, files: 1 } });
    const r = await importState(ctx, { convention, period: '2026-T4', commune: 'Achicourt', file: file('ist-t4.csv', toCsv(istRows({ integrite: 130, biens: 350, ordre: 8 }), ';', 'utf-8')), container: 'pli-cpn-2026-t4' });
    expect(r.recognised).toBe(true);
    const event = listEvents(profile.db).filter((e) => e.action === 'indicators.imported').at(-1)!;
    expect(JSON.parse(event.detail!)).toMatchObject({ signer: 'Paul Lefebvre', signerId: paul });
    // The attacker renames the sender in the identities table and plants an inbox row naming someone else.
    const h = db();
    h.prepare('UPDATE identities SET name = ? WHERE id = ?').run('Faux Signataire', paul);
    h.prepare("INSERT INTO inbox (container_id, sha256, size, state, sender_id, arrived_at, source, path) VALUES ('pli-cpn-2026-t4', 'aa', 1, 'opened', ?, 1, 'folder', 'x.pli')").run(actorOf(ctx));
    h.close();
    const figures = currentFigures(ctx, { commune: 'Achicourt' }).figures.filter((f) => f.period === '2026-T4');
    const [source] = figureSources(ctx.profile.db, figures);
    expect(source).toMatchObject({ kind: 'container', container: 'pli-cpn-2026-t4', signedBy: 'Paul Lefebvre', file: 'ist-t4.csv' });
  });

  it('a correction is a source of its own: by whom, when, why', () => {
    const figures = currentFigures(ctx, { commune: 'Achicourt' }).figures.filter((f) => f.period === '2026-T3');
    const sources = figureSources(ctx.profile.db, figures);
    expect(sources.find((s) => s.kind === 'correction')).toMatchObject({ importedBy: 'Nadia Observatoire', reason: 'second contrôle' });
  });
});

describe('the mapping editor’s core', () => {
  const odd = [
    ['Tableau trimestriel', null],
    ['Rubrique', 'Achicourt'],
    ['Rixes sur la voie publique', 14],
    ['Dégradations de biens', 52],
    ['Troubles à la tranquillité', 3],
  ];

  it('labels: the texts with a count beside them (rows) or under them (columns)', () => {
    expect(labelsOf([odd as (string | number | null)[][]])).toEqual({
      rows: ['Rixes sur la voie publique', 'Dégradations de biens', 'Troubles à la tranquillité'],
      columns: ['Achicourt'],
    });
  });

  it('a workbook’s formula is never evaluated: its label is the cached text, its count the cached value', async () => {
    const sheet = XLSX.utils.aoa_to_sheet([['Rubrique', 'Achicourt'], ['Rixes', 4], ['Dégradations', 9]]);
    sheet.A2 = { t: 's', v: 'Rixes', f: 'CONCATENATE("Ri","xes")' };
    sheet.B3 = { t: 'n', v: 9, f: 'HYPERLINK("http://exemple.invalid/x",1+1)' };
    const book = XLSX.utils.book_new();
    XLSX.utils.book_append_sheet(book, sheet, 'État');
    const labels = await readLabels(file('formules.xlsx', XLSX.write(book, { type: 'buffer', bookType: 'xlsx' }) as Buffer));
    expect(labels).toEqual({ readable: true, rows: ['Rixes', 'Dégradations'], columns: ['Achicourt'] });
    const preview = await previewMapping(file('formules2.xlsx', XLSX.write(book, { type: 'buffer', bookType: 'xlsx' }) as Buffer),
      { 'ist.integrite': 'Rixes', 'ist.biens': 'Dégradations' }, 'Achicourt');
    expect(preview).toEqual({ recognised: true, figures: [{ commune: 'Achicourt', indicator: 'ist.integrite', value: 4 }, { commune: 'Achicourt', indicator: 'ist.biens', value: 9 }] });
  });

  it('a state not recognised: its labels, a preview, the mapping saved, the state read again', async () => {
    const state = file('cpn-maison.csv', toCsv(odd.map((r) => r.map((c) => c ?? '')), ';', 'windows-1252'));
    const first = await importState(ctx, { convention, period: '2027-T1', file: state });
    expect(first.recognised).toBe(false);
    const labels = await readLabels(state);
    expect(labels).toMatchObject({ readable: true, rows: ['Rixes sur la voie publique', 'Dégradations de biens', 'Troubles à la tranquillité'] });
    const choice = { 'ist.integrite': 'Rixes sur la voie publique', 'ist.biens': 'Dégradations de biens', 'ist.ordre-public': 'Troubles à la tranquillité' };
    expect(await previewMapping(state, choice, 'Achicourt')).toEqual({
      recognised: true, figures: [
        { commune: 'Achicourt', indicator: 'ist.integrite', value: 14 }, { commune: 'Achicourt', indicator: 'ist.biens', value: 52 }, { commune: 'Achicourt', indicator: 'ist.ordre-public', value: 3 },
      ],
    });
    // The preview wrote nothing.
    expect(currentFigures(ctx).figures.filter((f) => f.period === '2027-T1')).toEqual([]);
    await setMapping(ctx, { text: JSON.stringify({ format: 'pli-indicateurs-correspondance', version: 1, name: 'CPN maison', labels: Object.fromEntries(Object.entries(choice).map(([k, v]) => [k, [v]])) }) });
    const again = await importState(ctx, { convention, period: '2027-T1', commune: 'Achicourt', file: state });
    expect(again).toMatchObject({ recognised: true, mapping: 'CPN maison', rows: 3 });
  });

  it('a preview of a bad choice is "non reconnu" with a reason, and an unknown indicator is refused', async () => {
    const state = file('cpn-maison2.csv', Buffer.from('Rixes;x\nDégradations;2\n'));
    expect(await previewMapping(state, { 'ist.integrite': 'Rixes', 'ist.biens': 'Dégradations' }, 'Achicourt')).toMatchObject({ recognised: false });
    await expect(previewMapping(state, { 'pas.un.indicateur': 'Rixes' }, 'Achicourt')).rejects.toMatchObject({ code: 'bad-mapping' });
  });

  it('a file that is no spreadsheet gives no labels, and says why', async () => {
    expect(await readLabels(file('image.bin', Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 0, 0])))).toMatchObject({ readable: false });
  });
});
