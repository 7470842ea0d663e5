// The current figures of a profile where imports pile up (docs/indicators.md 4, 4.1): the same
// quarters imported again and again, corrections, corrections replaced by a later import,
// corrections of a figure no state gave, an observatory's state of several communes; then the
// attacker of docs/profile.md edits the table (an old row, the row a correction replaced, a row
// planted, a row deleted, a commune's bytes rewritten so that they read the same). currentFigures
// finds the current rows in SQL and checks only the rows it shows (and the one a correction
// replaced): at every step its answer is compared with the figures expected, and with the answer
// of the read it replaced (every row read in id order and checked in JS, kept below as `reference`),
// in the same order, to the last field.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { Profile } from '../../electron/core/profile/profile.js';
import type { Context } from '../../electron/core/context.js';
import { listEvents } from '../../electron/core/profile/events.js';
import { attachedSubkey, detachIntegrityKey, integrityKeyOf } from '../../electron/core/profile/integrity.js';
import { KDF_INFO } from '../../electron/core/crypto/labels.js';
import { correctFigure, currentFigures, figureCanonical, figureSources, importState, type Figure, type FigureRow, type FigureState, type MissingRows } from '../../electron/core/indicators/store.js';
import { stopReading } from '../../electron/core/indicators/read.js';
import { is101Of, is101Rows, istRows, toCsv, toWorkbook } from './indicators-fixtures.js';
import { observatoryProfile } from './observatory.js';

const PASS = 'une phrase de passe de test';
const root = mkdtempSync(path.join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'pli-indicators-current-'));
const attacker = () => new Database(path.join(root, 'observatoire', 'profile.sqlite'));
let profile: Profile;
let ctx: Context;
let convention = '';
let files = 0;

function file(ext: string, bytes: Buffer): string {
  const target = path.join(root, `etat-${files++}.${ext}`);
  writeFileSync(target, bytes);
  return target;
}

/** An IST state of one commune (values from `v`), as CSV or as a workbook. */
async function ist(commune: string, period: string, v: number, container: string | null = null): Promise<void> {
  const rows = istRows({ integrite: v, biens: v + 1, ordre: v + 2 });
  const r = await importState(ctx, { convention, period, commune, container, file: v % 2 ? file('csv', toCsv(rows, ';', 'utf-8')) : file('xlsx', toWorkbook(rows, 'xlsx')) });
  expect(r.recognised).toBe(true);
}

/** An observatory's state of several communes: one column each. */
async function agglo(period: string, v: number): Promise<void> {
  const rows = [['Famille', 'Achicourt', 'Saint-Laurent-Blangy', 'Dainville'], ["Atteintes à l'intégrité physique", v, v + 10, v + 20], ['Atteintes aux biens', v + 1, v + 11, v + 21]];
  const r = await importState(ctx, { convention, period, file: file('csv', toCsv(rows, ';', 'utf-8')) });
  expect(r).toMatchObject({ recognised: true, rows: 6 });
}

const correct = (commune: string, period: string, indicator: string, value: number, reason: string) =>
  correctFigure(ctx, { convention, commune, period, indicator, value, reason });

// ---- the read as it was: every row, in id order, each checked ---------------------------------

interface Write { rows: number; sealed: boolean; convention: string; period: string; action: string; at: number; actor: string | null; by: string | null; reason: string | null }

function writesInLog(db: Database.Database): Map<string, Write> {
  const writes = new Map<string, Write>();
  for (const e of listEvents(db)) {
    if ((e.action !== 'indicators.imported' && e.action !== 'indicators.corrected') || e.outcome !== 'ok' || e.object === null || e.detail === null) continue;
    const d = JSON.parse(e.detail) as Record<string, unknown>;
    if (d.recognised === false) continue;
    const textOf = (v: unknown) => (typeof v === 'string' ? v : null);
    writes.set(e.object, {
      rows: typeof d.rows === 'number' ? d.rows : 0, sealed: d.sealed === true, convention: String(d.convention), period: String(d.period),
      action: e.action, at: e.at, actor: e.actor, by: textOf(d.by), reason: textOf(d.reason),
    });
  }
  return writes;
}

function sealHolds(db: Database.Database, row: FigureRow): boolean {
  if (!Buffer.isBuffer(row.mac) || row.mac.length !== 32) return false;
  if (!Number.isSafeInteger(row.value) || !Number.isSafeInteger(row.written_at)) return false;
  try {
    return timingSafeEqual(createHmac('sha256', attachedSubkey(db, KDF_INFO.integrityIndicators)!).update(figureCanonical(row)).digest(), row.mac);
  } catch {
    return false; // an id figureCanonical cannot write (NULL, a blob): as store.ts's sealHolds
  }
}

/** The figures and missing writes as currentFigures computed them before it read in SQL (no filter). */
function reference(db: Database.Database = profile.db): { figures: Figure[]; missing: MissingRows[]; checked: boolean } {
  const key = integrityKeyOf(db);
  const writes = writesInLog(db);
  const rows = db.prepare('SELECT * FROM indicator_figures ORDER BY id').all() as FigureRow[];
  const counts = new Map<string, number>();
  const latest = new Map<string, FigureRow & { state: FigureState }>();
  const original = new Map<string, number>();
  for (const row of rows) {
    counts.set(row.write_id, (counts.get(row.write_id) ?? 0) + 1);
    const write = writes.get(row.write_id);
    let state: FigureState;
    if (!write) state = 'modified';
    else if (row.mac === null) state = write.sealed ? 'modified' : 'unverified';
    else if (key) state = sealHolds(db, row) ? 'ok' : 'modified';
    else state = 'unverified';
    const rowKey = `${row.convention}\0${row.commune}\0${row.period}\0${row.indicator}`;
    latest.set(rowKey, { ...row, state });
    if (write?.action === 'indicators.imported') {
      if (state === 'modified') original.delete(rowKey);
      else original.set(rowKey, row.value);
    }
  }
  const missing: MissingRows[] = [];
  for (const [id, write] of writes) {
    const found = counts.get(id) ?? 0;
    if (found < write.rows) missing.push({ write: id, convention: write.convention, period: write.period, expected: write.rows, found });
  }
  const nameOf = (id: string) => db.prepare('SELECT name FROM identities WHERE id = ?').pluck().get(id) as string | undefined;
  const figures = [...latest.values()].map((r): Figure => {
    const write = writes.get(r.write_id);
    const corrected = r.state !== 'modified' && write?.action === 'indicators.corrected';
    return {
      id: r.id, convention: r.convention, commune: r.commune, period: r.period, indicator: r.indicator, value: r.value,
      sourceContainer: r.source_container, sourceFile: r.source_file, writtenAt: r.written_at, state: r.state, write: r.write_id,
      correction: corrected ? {
        at: write.at, by: write.by ?? (write.actor === null ? '' : nameOf(write.actor) ?? ''), reason: write.reason ?? '',
        original: original.get(`${r.convention}\0${r.commune}\0${r.period}\0${r.indicator}`) ?? null,
      } : null,
    };
  });
  return { figures, missing, checked: key !== undefined };
}

// ---- what is expected -------------------------------------------------------------------------

/** The current figures, briefly: `commune period indicator` → value, state, and a correction's
 * reason and original value. */
function brief(figures: Figure[]): Record<string, string> {
  return Object.fromEntries(figures.map((f) => [`${f.commune} ${f.period} ${f.indicator}`,
    `${f.value} ${f.state}${f.correction ? ` corrigé (${f.correction.reason}; ${f.correction.original ?? 'sans origine'})` : ''}`]));
}

/** The same as the read it replaced, to the last field and in the same order, then `expected`. */
function check(expected: Record<string, string>, missing: Partial<MissingRows>[] = []): Figure[] {
  const found = currentFigures(ctx);
  expect(found).toEqual(reference());
  expect(brief(found.figures)).toEqual(expected);
  expect(found.missing).toEqual(missing.map((m) => expect.objectContaining(m)));
  return found.figures;
}

beforeAll(async () => {
  ({ profile, ctx, convention } = await observatoryProfile(path.join(root, 'observatoire'), PASS, { party: { org: "Communauté urbaine d'Arras", address: 'obs@cu-arras.fr' } }));
}, 60_000);
afterAll(async () => {
  await stopReading();
  profile?.close();
  rmSync(root, { recursive: true, force: true });
});

const A = 'Achicourt';
const S = 'Saint-Laurent-Blangy';
let expected: Record<string, string> = {};
const set = (entries: Record<string, string>) => {
  expected = { ...expected, ...entries };
};
const istOf = (commune: string, period: string, v: number) => ({
  [`${commune} ${period} ist.integrite`]: `${v} ok`, [`${commune} ${period} ist.biens`]: `${v + 1} ok`, [`${commune} ${period} ist.ordre-public`]: `${v + 2} ok`,
});

describe('imports piled up: the same quarters again, corrections', () => {
  it('a quarter imported again: its latest state is current, for each figure', async () => {
    await ist(A, '2025-T1', 100);
    await ist(A, '2025-T2', 200, 'pli-cpn-a-t2');
    await ist(S, '2025-T1', 300);
    set({ ...istOf(A, '2025-T1', 100), ...istOf(A, '2025-T2', 200), ...istOf(S, '2025-T1', 300) });
    check(expected);
    await ist(A, '2025-T1', 110);
    await ist(A, '2025-T1', 120, 'pli-cpn-a-t1');
    set(istOf(A, '2025-T1', 120));
    check(expected);
  });

  it('a correction is current, with the value it replaced; a later import of that quarter replaces it', async () => {
    await correct(A, '2025-T1', 'ist.biens', 7, 'doublon');
    set({ [`${A} 2025-T1 ist.biens`]: '7 ok corrigé (doublon; 121)' });
    check(expected);
    await ist(A, '2025-T1', 130);
    set(istOf(A, '2025-T1', 130));
    check(expected);
  });

  it('corrected twice, the original is still the value the state gave; a figure no state gave has none', async () => {
    await correct(A, '2025-T1', 'ist.biens', 8, 'premier contrôle');
    await correct(A, '2025-T1', 'ist.biens', 9, 'second contrôle');
    await correct(A, '2025-T3', 'ist.ordre-public', 4, 'état manquant');
    set({ [`${A} 2025-T1 ist.biens`]: '9 ok corrigé (second contrôle; 131)', [`${A} 2025-T3 ist.ordre-public`]: '4 ok corrigé (état manquant; sans origine)' });
    check(expected);
    // A state of that quarter then gives the figure: current, no correction.
    await ist(A, '2025-T3', 400);
    set(istOf(A, '2025-T3', 400));
    check(expected);
  });

  it('another kind of state for a quarter adds its own indicators; an observatory’s state adds several communes', async () => {
    const rows = is101Rows(is101Of(0, 1), A);
    expect(await importState(ctx, { convention, period: '2025-T2', commune: A, file: file('csv', toCsv(rows, ',', 'windows-1252')) })).toMatchObject({ recognised: true, rows: 9 });
    const is = is101Of(0, 1);
    set({
      [`${A} 2025-T2 is101.homicides`]: `${is.homicides} ok`, [`${A} 2025-T2 is101.vols-armes`]: `${is.armes} ok`, [`${A} 2025-T2 is101.vols-violents`]: `${is.violents} ok`,
      [`${A} 2025-T2 is101.vols-sans-violence`]: `${is.sansViolence} ok`, [`${A} 2025-T2 is101.coups`]: `${is.coups} ok`, [`${A} 2025-T2 is101.cambriolages`]: `${is.cambriolages} ok`,
      [`${A} 2025-T2 is101.vols-vehicules`]: `${is.vehicules} ok`, [`${A} 2025-T2 is101.vols-dans-vehicules`]: `${is.dans} ok`, [`${A} 2025-T2 is101.vols-accessoires`]: `${is.accessoires} ok`,
    });
    await agglo('2025-T4', 500);
    await correct('Dainville', '2025-T4', 'ist.integrite', 1, 'commune mal lue');
    await agglo('2025-T4', 600);
    set({
      [`${A} 2025-T4 ist.integrite`]: '600 ok', [`${A} 2025-T4 ist.biens`]: '601 ok', [`${S} 2025-T4 ist.integrite`]: '610 ok', [`${S} 2025-T4 ist.biens`]: '611 ok',
      'Dainville 2025-T4 ist.integrite': '620 ok', 'Dainville 2025-T4 ist.biens': '621 ok',
    });
    const figures = check(expected);
    expect(figures).toHaveLength(Object.keys(expected).length);
    // One commune, and its sources: the filter and figureSources see the same current figures.
    const one = currentFigures(ctx, { commune: 'achicourt' }).figures;
    expect(one).toEqual(figures.filter((f) => f.commune === A));
    expect(figureSources(profile.db, one).map((s) => s.kind).sort()).toEqual(['container', 'correction', 'hand', 'hand', 'hand', 'hand']);
  });

  it('many imports and corrections in turn: the same as every row read in JS', async () => {
    for (let i = 0; i < 24; i++) {
      const commune = [A, S, 'Dainville'][i % 3]!;
      const period = `2026-T${(i % 4) + 1}`;
      await ist(commune, period, 1000 + i, i % 5 === 0 ? `pli-${i}` : null);
      set(istOf(commune, period, 1000 + i));
      if (i % 4 === 3) {
        await correct(commune, period, 'ist.integrite', i, `contrôle ${i}`);
        set({ [`${commune} ${period} ist.integrite`]: `${i} ok corrigé (contrôle ${i}; ${1000 + i})` });
      }
    }
    const all = check(expected);
    // Filtered reads (seals checked for the figures shown only) give the same figures and warnings.
    const whole = currentFigures(ctx);
    for (const commune of [A, S, 'Dainville']) {
      const one = currentFigures(ctx, { commune, from: '2026-T2', to: '2026-T3' });
      expect(one.figures).toEqual(all.filter((f) => f.commune === commune && (f.period === '2026-T2' || f.period === '2026-T3')));
      expect(one.missing).toEqual(whole.missing);
    }
  });
});

describe('the attacker of docs/profile.md edits the table', () => {
  const edit = (sql: string, ...params: unknown[]) => {
    const db = attacker();
    try {
      return db.prepare(sql).run(...params);
    } finally {
      db.close();
    }
  };
  const idOf = (commune: string, period: string, indicator: string, nth: 'first' | 'last') =>
    profile.db.prepare(`SELECT id FROM indicator_figures WHERE commune = ? AND period = ? AND indicator = ? ORDER BY id ${nth === 'first' ? 'ASC' : 'DESC'} LIMIT 1`).pluck().get(commune, period, indicator) as number;

  it('a row replaced long ago, edited: nothing shown changes', () => {
    edit('UPDATE indicator_figures SET value = 999999 WHERE id = ?', idOf(A, '2025-T1', 'ist.integrite', 'first'));
    check(expected);
  });

  it('the row a correction replaced, edited: the correction is shown without an original value', () => {
    const lastImport = profile.db.prepare("SELECT id FROM indicator_figures WHERE commune = ? AND period = '2025-T1' AND indicator = 'ist.biens' AND source_file <> 'correction manuelle' ORDER BY id DESC LIMIT 1").pluck().get(A) as number;
    edit('UPDATE indicator_figures SET value = 1 WHERE id = ?', lastImport);
    set({ [`${A} 2025-T1 ist.biens`]: '9 ok corrigé (second contrôle; sans origine)' });
    check(expected);
  });

  it('a current value edited, a row planted after the latest, a correction deleted: each shown or reported', () => {
    edit('UPDATE indicator_figures SET value = 2 WHERE id = ?', idOf(S, '2025-T1', 'ist.biens', 'last'));
    edit("INSERT INTO indicator_figures (convention, commune, period, indicator, value, source_container, source_file, write_id, written_at, mac) VALUES (?, ?, '2025-T2', 'ist.ordre-public', 3, NULL, 'x.csv', 'ind-0000000000000000', 1, NULL)", convention, A);
    const correction = idOf('Dainville', '2026-T4', 'ist.integrite', 'last');
    const write = profile.db.prepare('SELECT write_id FROM indicator_figures WHERE id = ?').pluck().get(correction) as string;
    edit('DELETE FROM indicator_figures WHERE id = ?', correction);
    set({ [`${S} 2025-T1 ist.biens`]: '2 modified', [`${A} 2025-T2 ist.ordre-public`]: '3 modified', 'Dainville 2026-T4 ist.integrite': '1023 ok' });
    check(expected, [{ write, period: '2026-T4', expected: 1, found: 0 }]);
  });

  it('rows of one key whose commune bytes differ but read the same: one figure, the latest row', async () => {
    // Two corrections of a commune whose name holds U+FFFD; the latest row's bytes then rewritten as
    // invalid UTF-8, which reads as the same name: its seal still holds over what is read.
    await correct('Arras\ufffd', '2025-T1', 'ist.biens', 5, 'un');
    await correct('Arras\ufffd', '2025-T1', 'ist.biens', 6, 'deux');
    const latest = idOf('Arras\ufffd', '2025-T1', 'ist.biens', 'last');
    edit("UPDATE indicator_figures SET commune = CAST(X'4172726173ff' AS TEXT) WHERE id = ?", latest);
    expect(profile.db.prepare('SELECT count(DISTINCT commune) FROM indicator_figures WHERE period = ? AND indicator = ? AND commune LIKE ?').pluck().get('2025-T1', 'ist.biens', 'Arras%')).toBe(2);
    // A planted row under bytes that read as another known key: the same key in every read.
    edit("INSERT INTO indicator_figures (convention, commune, period, indicator, value, source_container, source_file, write_id, written_at, mac) VALUES (?, CAST(X'4172726173fe' AS TEXT), '2025-T2', 'ist.biens', 1, NULL, 'x.csv', 'ind-0000000000000001', 1, NULL)", convention);
    await correct('Arras\ufffd', '2025-T2', 'ist.biens', 7, 'trois');
    set({ 'Arras\ufffd 2025-T1 ist.biens': '6 ok corrigé (deux; sans origine)', 'Arras\ufffd 2025-T2 ist.biens': '7 ok corrigé (trois; sans origine)' });
    check(expected, [{ period: '2026-T4', expected: 1, found: 0 }]);
  });

  it('without the integrity key in hand: every figure "non vérifié", the same as every row read in JS', () => {
    detachIntegrityKey(profile.db);
    const found = currentFigures(ctx);
    expect(found.checked).toBe(false);
    expect(found).toEqual(reference());
    expect(new Set(found.figures.map((f) => f.state))).toEqual(new Set(['unverified', 'modified']));
    expect(found.figures.filter((f) => f.state === 'modified').map((f) => `${f.commune} ${f.period} ${f.indicator}`)).toEqual([`${A} 2025-T2 ist.ordre-public`]);
  });

  it('the table rebuilt with case-insensitive columns: each key is still its own', () => {
    const db = attacker();
    try {
      db.exec(`CREATE TABLE f2 (id INTEGER PRIMARY KEY, convention TEXT NOT NULL COLLATE NOCASE, commune TEXT NOT NULL COLLATE NOCASE, period TEXT NOT NULL COLLATE NOCASE,
        indicator TEXT NOT NULL COLLATE NOCASE, value INTEGER NOT NULL, source_container TEXT, source_file TEXT NOT NULL, write_id TEXT NOT NULL COLLATE NOCASE, written_at INTEGER NOT NULL, mac BLOB) STRICT;
        INSERT INTO f2 SELECT * FROM indicator_figures; DROP TABLE indicator_figures; ALTER TABLE f2 RENAME TO indicator_figures;
        CREATE INDEX indicator_figures_key ON indicator_figures(convention, commune, period, indicator); CREATE INDEX indicator_figures_write ON indicator_figures(write_id);`);
      // A row of an import deleted, and a row planted in its place whose commune and write differ
      // from real ones only in case (the rows of that write counted without case would match).
      const write = db.prepare("SELECT write_id FROM indicator_figures WHERE commune = 'Dainville' AND period = '2026-T3' ORDER BY id DESC LIMIT 1").pluck().get() as string;
      db.prepare("DELETE FROM indicator_figures WHERE write_id = ? AND indicator = 'ist.ordre-public'").run(write);
      db.prepare("INSERT INTO indicator_figures (convention, commune, period, indicator, value, source_container, source_file, write_id, written_at, mac) VALUES (?, 'DAINVILLE', '2026-T3', 'ist.biens', 1, NULL, 'x.csv', ?, 1, NULL)").run(convention, write.toUpperCase());
    } finally {
      db.close();
    }
    const found = currentFigures(ctx);
    expect(found).toEqual(reference());
    expect(found.missing).toEqual([expect.objectContaining({ period: '2026-T3', expected: 3, found: 2 }), expect.objectContaining({ period: '2026-T4', expected: 1, found: 0 })]);
    expect(brief(found.figures)).toMatchObject({ 'Dainville 2026-T3 ist.biens': expected['Dainville 2026-T3 ist.biens']!.replace(' ok', ' unverified'), 'DAINVILLE 2026-T3 ist.biens': '1 modified' });
  });
});

describe('ids that cannot be taken at face value, rows taken out of their place (a profile each)', () => {
  // Achicourt 2025-T1 and 2025-T2 imported, then 2025-T1's ist.biens corrected (7; it replaced 101).
  let homes = 0;
  async function small() {
    const home = path.join(root, `petit-${homes++}`);
    const o = await observatoryProfile(home, PASS, { party: { org: "Communauté urbaine d'Arras", address: 'obs@cu-arras.fr' } });
    const state = async (period: string, v: number) => {
      const rows = istRows({ integrite: v, biens: v + 1, ordre: v + 2 });
      expect((await importState(o.ctx, { convention: o.convention, period, commune: A, file: file('csv', toCsv(rows, ';', 'utf-8')) })).recognised).toBe(true);
    };
    await state('2025-T1', 100);
    await state('2025-T2', 200);
    const correction = await correctFigure(o.ctx, { convention: o.convention, commune: A, period: '2025-T1', indicator: 'ist.biens', value: 7, reason: 'doublon' });
    const edit = (f: (db: Database.Database) => void) => {
      const db = new Database(path.join(home, 'profile.sqlite'));
      try {
        f(db);
      } finally {
        db.close();
      }
    };
    const read = () => currentFigures(o.ctx);
    return { ...o, state, correction, edit, read };
  }
  /** The table rebuilt as the attacker may: no STRICT, no primary key, `id` declared as given, the
   * key's columns declared `keyType` (none: any value stays as it is stored). */
  const rebuild = (db: Database.Database, id: string, keyType = 'TEXT') => db.exec(`CREATE TABLE f2 (id ${id}, convention ${keyType}, commune ${keyType}, period ${keyType}, indicator ${keyType}, value INTEGER, source_container TEXT, source_file TEXT, write_id TEXT, written_at INTEGER, mac BLOB);
    INSERT INTO f2 SELECT * FROM indicator_figures; DROP TABLE indicator_figures; ALTER TABLE f2 RENAME TO indicator_figures;
    CREATE INDEX indicator_figures_key ON indicator_figures(convention, commune, period, indicator); CREATE INDEX indicator_figures_write ON indicator_figures(write_id);`);
  const t1 = (figures: Figure[]) => Object.fromEntries(Object.entries(brief(figures)).filter(([k]) => k.includes('2025-T1')));
  const before = { [`${A} 2025-T1 ist.integrite`]: '100 ok', [`${A} 2025-T1 ist.biens`]: '7 ok corrigé (doublon; 101)', [`${A} 2025-T1 ist.ordre-public`]: '102 ok' };
  const BEYOND = 9007199254740993n; // 2^53 + 1: better-sqlite3 reads it as 2^53

  it('as written: the same as every row read in JS', async () => {
    const s = await small();
    expect(s.read()).toEqual(reference(s.profile.db));
    expect(t1(s.read().figures)).toEqual(before);
    s.profile.close();
  });

  it('S1: a row planted with id 2^53+1 in a key is its figure, "modifié" (its key never vanishes)', async () => {
    const s = await small();
    s.edit((db) => db.prepare("INSERT INTO indicator_figures SELECT ?, convention, commune, period, indicator, 999, NULL, 'x.csv', 'ind-0000000000000000', 1, NULL FROM indicator_figures WHERE id = ?").run(BEYOND, s.correction.id));
    const found = s.read();
    expect(found).toEqual(reference(s.profile.db));
    expect(t1(found.figures)).toEqual({ ...before, [`${A} 2025-T1 ist.biens`]: '999 modified' });
    expect(found.missing).toEqual([]);
    s.profile.close();
  });

  it('S2: the current row renumbered 2^53+1 is "modifié", with the key in hand or not', async () => {
    const s = await small();
    s.edit((db) => db.prepare('UPDATE indicator_figures SET id = ? WHERE id = ?').run(BEYOND, s.correction.id));
    const found = s.read();
    expect(found).toEqual(reference(s.profile.db));
    expect(t1(found.figures)).toEqual({ ...before, [`${A} 2025-T1 ist.biens`]: '7 modified' });
    // Without the key, a row is "non vérifié" at best; an id Pli never writes is "modifié" all the same.
    detachIntegrityKey(s.profile.db);
    expect(t1(s.read().figures)).toMatchObject({ [`${A} 2025-T1 ist.biens`]: '7 modified', [`${A} 2025-T1 ist.integrite`]: '100 unverified' });
    s.profile.close();
  });

  it('S3: the current row\'s id twice (table rebuilt without primary key): "modifié"', async () => {
    const s = await small();
    s.edit((db) => {
      rebuild(db, 'INTEGER');
      db.prepare('INSERT INTO indicator_figures SELECT id, convention, commune, period, indicator, 999, source_container, source_file, write_id, written_at, mac FROM indicator_figures WHERE id = ?').run(s.correction.id);
    });
    const found = s.read();
    expect(found).toEqual(reference(s.profile.db));
    expect(t1(found.figures)[`${A} 2025-T1 ist.biens`]).toMatch(/ modified$/);
    s.profile.close();
  });

  it('S4: a NULL id on every row of a key (table rebuilt): its figure is "modifié", listed first as in id order', async () => {
    const s = await small();
    s.edit((db) => {
      rebuild(db, 'INTEGER');
      db.prepare("UPDATE indicator_figures SET id = NULL WHERE period = '2025-T1' AND indicator = 'ist.ordre-public'").run();
    });
    const found = s.read();
    expect(found).toEqual(reference(s.profile.db));
    expect(t1(found.figures)).toEqual({ ...before, [`${A} 2025-T1 ist.ordre-public`]: '102 modified' });
    expect(found.figures[0]).toMatchObject({ id: null, indicator: 'ist.ordre-public', state: 'modified' });
    s.profile.close();
  });

  it('S5: a BLOB id on the current row (table rebuilt): "modifié"', async () => {
    const s = await small();
    s.edit((db) => {
      rebuild(db, 'BLOB');
      db.prepare("UPDATE indicator_figures SET id = X'01' WHERE id = ?").run(s.correction.id);
    });
    const found = s.read();
    expect(found).toEqual(reference(s.profile.db));
    expect(t1(found.figures)).toEqual({ ...before, [`${A} 2025-T1 ist.biens`]: '7 modified' });
    s.profile.close();
  });

  it('a key stored as a blob or a number (table rebuilt without STRICT): read as text, "modifié", and a read filtered by commune does not throw', async () => {
    const s = await small();
    s.edit((db) => {
      rebuild(db, 'INTEGER PRIMARY KEY', '');
      // The current correction's commune as the same bytes in a blob; another row's indicator a number.
      db.prepare('UPDATE indicator_figures SET commune = CAST(commune AS BLOB) WHERE id = ?').run(s.correction.id);
      db.prepare("UPDATE indicator_figures SET indicator = 42 WHERE period = '2025-T2' AND indicator = 'ist.integrite'").run();
    });
    for (const filter of [{}, { commune: A }, { commune: A, from: '2025-T1', to: '2025-T2' }]) {
      const found = currentFigures(s.ctx, filter);
      const biens = found.figures.find((f) => f.period === '2025-T1' && f.indicator === 'ist.biens');
      expect(biens).toMatchObject({ commune: A, value: 7, state: 'modified' });
      const number = found.figures.find((f) => f.period === '2025-T2' && f.indicator === '42');
      expect(number).toMatchObject({ commune: A, state: 'modified' });
      expect(found.figures.filter((f) => f.state !== 'modified').every((f) => typeof f.commune === 'string' && typeof f.indicator === 'string')).toBe(true);
    }
    s.profile.close();
  });

  // A correction's row taken out of its place under a later row: the key shows the value the
  // correction replaced, and the correction's row count still holds. Its event names its key and
  // row id: the key's latest row is older than that row, so the correction is reported missing.
  const outOfPlace: [string, (db: Database.Database, id: number) => void][] = [
    ['S6: moved to a key that has a later row', (db, id) => db.prepare("UPDATE indicator_figures SET period = '2025-T2' WHERE id = ?").run(id)],
    ['renumbered below the row it replaced', (db, id) => db.prepare('UPDATE indicator_figures SET id = -1 WHERE id = ?').run(id)],
    ['deleted, and a row planted under its write where an earlier one hides it', (db, id) => {
      db.prepare('INSERT INTO indicator_figures SELECT -1, convention, commune, period, indicator, value, source_container, source_file, write_id, written_at, mac FROM indicator_figures WHERE id = ?').run(id);
      db.prepare('DELETE FROM indicator_figures WHERE id = ?').run(id);
    }],
  ];
  for (const [what, attack] of outOfPlace) {
    it(`a correction's row ${what}: reported, its key shows the value it replaced`, async () => {
      const s = await small();
      await s.state('2025-T2', 300);
      s.edit((db) => attack(db, s.correction.id));
      const found = s.read();
      expect(found.figures).toEqual(reference(s.profile.db).figures);
      expect(t1(found.figures)).toEqual({ ...before, [`${A} 2025-T1 ist.biens`]: '101 ok' });
      expect(found.missing).toEqual([{ write: s.correction.write, convention: s.convention, period: '2025-T1', expected: 1, found: 0 }]);
      s.profile.close();
    });
  }

  it('what the checks do not see (docs/indicators.md 4.1): an import\'s row renumbered below an earlier row of its key', async () => {
    const s = await small();
    await s.state('2025-T2', 300);
    const latest = s.profile.db.prepare("SELECT max(id) FROM indicator_figures WHERE period = '2025-T2' AND indicator = 'ist.integrite'").pluck().get() as number;
    s.edit((db) => db.prepare('UPDATE indicator_figures SET id = -1 WHERE id = ?').run(latest));
    const found = s.read();
    expect(found).toEqual(reference(s.profile.db));
    // The key rolls back to the previous import's value, every figure "ok", nothing reported.
    expect(brief(found.figures)[`${A} 2025-T2 ist.integrite`]).toBe('200 ok');
    expect(found.missing).toEqual([]);
    s.profile.close();
  });
});
