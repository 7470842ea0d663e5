// Reading the states (docs/indicators.md 5): synthetic IS 101 and IST states made here, as CSV
// (both separators, both encodings), XLSX, ODS and XLS, read back exactly in the worker; a
// malformed, an oversized, a too-large and a slow spreadsheet set aside as "non reconnu"; a
// formula cell read as its cached value, never evaluated.
import { describe, expect, it } from 'vitest';
import * as XLSX from '@e965/xlsx';
import { readState, READ_LIMITS } from '../../electron/core/indicators/read.js';
import { BUILT_IN_MAPPINGS, normaliseLabel, parseMapping } from '../../electron/core/indicators/mapping.js';
import { is101Rows, istRows, toCsv, toWorkbook } from './indicators-fixtures.js';

const values = (r: Awaited<ReturnType<typeof readState>>) =>
  r.recognised ? Object.fromEntries(r.figures.map((f) => [`${f.commune ?? ''}|${f.indicator}`, f.value])) : r.reason;

const IS101 = { homicides: 2, armes: 1, violents: 14, sansViolence: 1234, coups: 87, cambriolages: 56, vehicules: 23, dans: 41, accessoires: 9 };
const expected101 = (commune = '') => ({
  [`${commune}|is101.homicides`]: 2, [`${commune}|is101.vols-armes`]: 1, [`${commune}|is101.vols-violents`]: 14,
  [`${commune}|is101.vols-sans-violence`]: 1234, [`${commune}|is101.coups`]: 87, [`${commune}|is101.cambriolages`]: 56,
  [`${commune}|is101.vols-vehicules`]: 23, [`${commune}|is101.vols-dans-vehicules`]: 41, [`${commune}|is101.vols-accessoires`]: 9,
});

describe('reading states', () => {
  it('normalises labels: accents, case, spacing and apostrophes ignored', () => {
    expect(normaliseLabel("  VOLS  d’Accessoires   sur VÉHICULES ")).toBe(normaliseLabel("Vols d'accessoires sur véhicules"));
  });

  for (const sep of [';', ','] as const) {
    for (const encoding of ['utf-8', 'windows-1252'] as const) {
      it(`IS 101 as CSV (${sep}, ${encoding})`, async () => {
        const bytes = toCsv(is101Rows(IS101), sep, encoding);
        if (encoding === 'windows-1252') expect(bytes.includes(0xe9)).toBe(true); // é as one byte: really not UTF-8
        const r = await readState(bytes, BUILT_IN_MAPPINGS, null);
        expect(values(r)).toEqual(expected101());
        expect(r.recognised && r.mapping).toBe('IS 101');
        expect(r.encoding).toBe(encoding);
      });
      it(`IST as CSV (${sep}, ${encoding})`, async () => {
        const r = await readState(toCsv(istRows({ integrite: 1201, biens: 3456, ordre: 78 }), sep, encoding), BUILT_IN_MAPPINGS, null);
        expect(values(r)).toEqual({ '|ist.integrite': 1201, '|ist.biens': 3456, '|ist.ordre-public': 78 });
      });
    }
  }

  for (const bookType of ['xlsx', 'ods', 'xls'] as const) {
    it(`IS 101 as ${bookType.toUpperCase()}`, async () => {
      const r = await readState(toWorkbook(is101Rows(IS101), bookType), BUILT_IN_MAPPINGS, null);
      expect(values(r)).toEqual(expected101());
      expect(r.kind).toBe(bookType === 'xls' ? 'xls' : 'xlsx-or-ods');
    });
  }

  it('a state of two communes side by side gives each its figures; --commune keeps one', async () => {
    const rows: (string | number)[][] = [['Indicateur', 'Arras', 'Saint-Laurent-Blangy', 'Total'], ['Atteintes aux biens', 300, 40, 340], ["Atteintes à l'intégrité physique", 100, 12, 112]];
    expect(values(await readState(toWorkbook(rows, 'xlsx'), BUILT_IN_MAPPINGS, null))).toEqual({
      'Arras|ist.biens': 300, 'Arras|ist.integrite': 100, 'Saint-Laurent-Blangy|ist.biens': 40, 'Saint-Laurent-Blangy|ist.integrite': 12,
    });
    expect(values(await readState(toWorkbook(rows, 'xlsx'), BUILT_IN_MAPPINGS, 'saint laurent blangy'))).toEqual({ 'saint laurent blangy|ist.biens': 40, 'saint laurent blangy|ist.integrite': 12 });
  });

  it('the transposed layout (labels across a row) is read too', async () => {
    const rows = [['', 'Atteintes aux biens', "Atteintes à l'intégrité physique"], ['Arras', '1 234', 5]];
    expect(values(await readState(toCsv(rows, ';', 'utf-8'), BUILT_IN_MAPPINGS, null))).toEqual({ '|ist.biens': 1234, '|ist.integrite': 5 });
  });

  it('a formula cell gives its cached value and is never evaluated', async () => {
    const sheet = XLSX.utils.aoa_to_sheet([['Atteintes aux biens', 10], ["Atteintes à l'intégrité physique", 0]]);
    // The cached value says 7; the formula would say 2 (1+1): only the cached one may be read.
    sheet.B2 = { t: 'n', v: 7, f: '1+1' };
    sheet.B1 = { t: 'n', v: 10, f: 'WEBSERVICE("http://127.0.0.1:9/")' };
    const book = XLSX.utils.book_new();
    XLSX.utils.book_append_sheet(book, sheet, 'État');
    const bytes = new Uint8Array(XLSX.write(book, { type: 'buffer', bookType: 'xlsx' }) as Buffer);
    expect(values(await readState(bytes, BUILT_IN_MAPPINGS, null))).toEqual({ '|ist.biens': 10, '|ist.integrite': 7 });
    // And a formula typed into a CSV is text, never a value.
    const csv = await readState(Buffer.from('Atteintes aux biens;=1+1\nAtteintes à l’intégrité physique;3\n'), BUILT_IN_MAPPINGS, null);
    expect(csv.recognised).toBe(false);
    expect(!csv.recognised && csv.reason).toMatch(/nombre entier/);
  });

  it('a person’s mapping recognises a state the ready-made ones do not', async () => {
    const rows = [['Rixes sur la voie publique', 4], ['Dégradations de biens', 19]];
    expect((await readState(toCsv(rows, ';', 'utf-8'), BUILT_IN_MAPPINGS, null)).recognised).toBe(false);
    const mine = parseMapping(JSON.stringify({ format: 'pli-indicateurs-correspondance', version: 1, name: 'CPN Arras', labels: { 'ist.integrite': ['Rixes sur la voie publique'], 'ist.biens': ['Dégradations de biens'] } }));
    expect(values(await readState(toCsv(rows, ';', 'utf-8'), [mine, ...BUILT_IN_MAPPINGS], null))).toEqual({ '|ist.integrite': 4, '|ist.biens': 19 });
  });

  it('malformed, unrelated, oversized, too many cells and too slow: "non reconnu", never an error', async () => {
    const zipHeader = Buffer.concat([Buffer.from([0x50, 0x4b, 0x03, 0x04]), Buffer.alloc(200, 7)]);
    for (const bytes of [zipHeader, Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1, 1, 2, 3]), Buffer.from('%PDF-1.7\0\0'), Buffer.from('bonjour;au revoir\n1;2\n'), Buffer.alloc(0)]) {
      const r = await readState(bytes, BUILT_IN_MAPPINGS, null);
      expect(r.recognised, String(bytes.subarray(0, 8))).toBe(false);
    }
    const big = await readState(Buffer.alloc(READ_LIMITS.maxBytes + 1, 0x41), BUILT_IN_MAPPINGS, null);
    expect(!big.recognised && big.reason).toMatch(/trop gros/);
    const many = await readState(toCsv(is101Rows(IS101), ';', 'utf-8'), BUILT_IN_MAPPINGS, null, { ...READ_LIMITS, maxCells: 10 });
    expect(!many.recognised && many.reason).toMatch(/trop de cellules/);
    // A big sheet with a time limit it cannot meet: the worker is ended, the answer comes at once.
    const rows = Array.from({ length: 60_000 }, (_, i) => [`ligne ${i}`, i, i, i]);
    const book = toWorkbook(rows, 'xlsx');
    const started = Date.now();
    const slow = await readState(book, BUILT_IN_MAPPINGS, null, { ...READ_LIMITS, maxBytes: 64 * 1024 * 1024, timeMs: 50 });
    expect(!slow.recognised && slow.reason).toMatch(/trop longue/);
    expect(Date.now() - started).toBeLessThan(3000);
    // The next state is read by a new worker, as if nothing had happened.
    expect(values(await readState(toCsv(istRows({ integrite: 1, biens: 2, ordre: 3 }), ';', 'utf-8'), BUILT_IN_MAPPINGS, null))).toEqual({ '|ist.integrite': 1, '|ist.biens': 2, '|ist.ordre-public': 3 });
  }, 60_000);
});
