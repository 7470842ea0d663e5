// Hostile states read in the worker (docs/indicators.md 5, security review of the reading): a ZIP
// bomb refused under a budget of decompressed bytes with bounded memory, ZIPs out of shape refused,
// hidden sheets not read, sheets that disagree refused, two columns of one commune refused, too
// many communes refused, one cap for numbers and text, and the mapping editor's labels in linear
// time. Every state here is made by the test (never real data).
import { describe, expect, it } from 'vitest';
import { constants, crc32, deflateRawSync } from 'node:zlib';
import * as XLSX from '@e965/xlsx';
import { readState, READ_LIMITS } from '../../electron/core/indicators/read.js';
import { BUILT_IN_MAPPINGS, labelsOf, MAX_COMMUNES, type Grid } from '../../electron/core/indicators/mapping.js';
import { MAX_ENTRIES, restoredZip, ZipRefused } from '../../electron/core/indicators/zip.js';
import { istRows, toWorkbook } from './indicators-fixtures.js';

const values = (r: Awaited<ReturnType<typeof readState>>) =>
  r.recognised ? Object.fromEntries(r.figures.map((f) => [`${f.commune ?? ''}|${f.indicator}`, f.value])) : r.reason;

interface RawEntry { name: string; data: Buffer; method?: 0 | 8; flags?: number; crc?: number; usz?: number }

/** A ZIP written by hand (as mkbomb.py does): each entry's method, flags, CRC and declared size
 * as given, so that they can lie. */
function zipOf(entries: RawEntry[]): Buffer {
  const local: Buffer[] = [];
  const central: Buffer[] = [];
  let at = 0;
  for (const e of entries) {
    const name = Buffer.from(e.name, 'utf8');
    const method = e.method ?? 0;
    const crc = e.crc ?? 0;
    const usz = e.usz ?? e.data.length;
    const head = Buffer.alloc(30);
    head.writeUInt32LE(0x04034b50, 0);
    head.writeUInt16LE(20, 4);
    head.writeUInt16LE(e.flags ?? 0, 6);
    head.writeUInt16LE(method, 8);
    head.writeUInt32LE(crc, 14);
    head.writeUInt32LE(e.data.length, 18);
    head.writeUInt32LE(usz, 22);
    head.writeUInt16LE(name.length, 26);
    const dir = Buffer.alloc(46);
    dir.writeUInt32LE(0x02014b50, 0);
    dir.writeUInt16LE(20, 4);
    dir.writeUInt16LE(20, 6);
    dir.writeUInt16LE(e.flags ?? 0, 8);
    dir.writeUInt16LE(method, 10);
    dir.writeUInt32LE(crc, 16);
    dir.writeUInt32LE(e.data.length, 20);
    dir.writeUInt32LE(usz, 24);
    dir.writeUInt16LE(name.length, 28);
    dir.writeUInt32LE(at, 42);
    local.push(head, name, e.data);
    central.push(dir, name);
    at += 30 + name.length + e.data.length;
  }
  const cd = Buffer.concat(central);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(at, 16);
  return Buffer.concat([...local, cd, end]);
}

/** A raw deflate stream of `mib` MiB of zeros, about 1 KiB per MiB, made without ever holding
 * them: one sync-flushed block of 1 MiB repeated, then an empty final block. */
function zeros(mib: number): Buffer {
  const block = deflateRawSync(Buffer.alloc(1 << 20), { finishFlush: constants.Z_SYNC_FLUSH });
  return Buffer.concat([...Array.from({ length: mib }, () => block), Buffer.from([0x03, 0x00])]);
}

describe('ZIP-based states (XLSX, ODS) are opened under a budget', () => {
  it('a ZIP bomb is refused quickly, in its words, and the process stays within bounded memory', async () => {
    // Eight parts of 64 MiB each (512 MiB) in about 0.5 MB, declaring size 0 as the review's bomb0.xlsx.
    const stream = zeros(64);
    const bomb = zipOf(Array.from({ length: 8 }, (_, i) => ({ name: `xl/worksheets/sheet${i + 1}.xml`, data: stream, method: 8 as const, usz: 0 })));
    expect(bomb.length).toBeLessThan(1024 * 1024);
    const before = process.memoryUsage().rss;
    let peak = before;
    const sampler = setInterval(() => { peak = Math.max(peak, process.memoryUsage().rss); }, 5);
    const started = Date.now();
    const r = await readState(bomb, BUILT_IN_MAPPINGS, 'Arras');
    clearInterval(sampler);
    peak = Math.max(peak, process.memoryUsage().rss);
    expect(r).toEqual(expect.objectContaining({ recognised: false, reason: 'fichier trop gros une fois décompressé (plus de 50 Mio)' }));
    expect(Date.now() - started).toBeLessThan(5000);
    expect((peak - before) / 1024 / 1024).toBeLessThan(300);
    // The next state reads as ever.
    expect(values(await readState(toWorkbook(istRows({ integrite: 1, biens: 2, ordre: 3 }), 'xlsx'), BUILT_IN_MAPPINGS, null))).toEqual({ '|ist.integrite': 1, '|ist.biens': 2, '|ist.ordre-public': 3 });
  }, 60_000);

  it('the budget counts the decompressed bytes, whatever sizes are declared', () => {
    const data = zeros(3);
    expect(() => restoredZip(zipOf([{ name: 'a.xml', data, method: 8, usz: 10 }]), 2 * 1024 * 1024)).toThrow(/trop gros une fois décompressé/);
    const real = Buffer.alloc(3 << 20);
    expect(restoredZip(zipOf([{ name: 'a.xml', data, method: 8, crc: crc32(real), usz: real.length }]), 4 * 1024 * 1024).length).toBeGreaterThan(3 << 20);
  });

  it('a ZIP out of shape is refused: wrong CRC or size, encrypted, too many parts, bad names, overlapping parts', () => {
    const text = Buffer.from('<x/>');
    const ok: RawEntry = { name: 'a.xml', data: text, crc: crc32(text) };
    const refused = (zip: Buffer) => {
      try {
        restoredZip(zip, READ_LIMITS.maxUnzippedBytes);
      } catch (error) {
        expect(error).toBeInstanceOf(ZipRefused);
        return (error as Error).message;
      }
      return 'accepted';
    };
    expect(refused(zipOf([ok]))).toBe('accepted');
    expect(refused(zipOf([{ ...ok, crc: 1 }]))).toMatch(/somme de contrôle/);
    expect(refused(zipOf([{ ...ok, usz: 99 }]))).toMatch(/taille/);
    expect(refused(zipOf([{ ...ok, flags: 1 }]))).toMatch(/mot de passe/);
    expect(refused(zipOf(Array.from({ length: MAX_ENTRIES + 1 }, (_, i) => ({ ...ok, name: `p${i}.xml` }))))).toMatch(/plus de 200 parties/);
    for (const name of ['../a.xml', '/etc/a.xml', 'xl/../../a.xml', 'C:/a.xml']) expect(refused(zipOf([{ ...ok, name }])), name).toMatch(/nom de partie/);
    expect(refused(zipOf([ok, ok]))).toMatch(/en double/);
    // Two central entries pointing at the same local part.
    const one = zipOf([ok, { ...ok, name: 'b.xml' }]);
    const cdStart = one.readUInt32LE(one.length - 22 + 16);
    const second = cdStart + 46 + 'a.xml'.length;
    one.writeUInt32LE(0, second + 42);
    expect(refused(one)).toMatch(/chevauchent|partie/);
    // ZIP64 (the end record's fields at their maximum).
    const z64 = zipOf([ok]);
    z64.writeUInt32LE(0xffffffff, z64.length - 22 + 16);
    expect(refused(z64)).toMatch(/ZIP64/);
  });
});

describe('sheets', () => {
  const book = (sheets: [string, (string | number)[][], 0 | 1 | 2][], bookType: 'xlsx' | 'xls' = 'xlsx') => {
    const b = XLSX.utils.book_new();
    for (const [name, rows] of sheets) XLSX.utils.book_append_sheet(b, XLSX.utils.aoa_to_sheet(rows), name);
    b.Workbook = { Sheets: sheets.map(([, , Hidden]) => ({ Hidden })) };
    return XLSX.write(b, { type: 'buffer', bookType: bookType === 'xls' ? 'biff8' : bookType }) as Buffer;
  };
  const visible: (string | number)[][] = [['Famille', 'Faits'], ["Atteintes à l'intégrité physique", 1], ['Atteintes aux biens', 2]];
  const other: (string | number)[][] = [['Famille', 'Faits'], ["Atteintes à l'intégrité physique", 100], ['Atteintes aux biens', 200], ['Atteintes à la paix publique', 300]];

  for (const bookType of ['xlsx', 'xls'] as const) {
    it(`a hidden or very hidden sheet is not read (${bookType.toUpperCase()}; the review's hidden.mjs)`, async () => {
      for (const hidden of [1, 2] as const) {
        const r = await readState(book([['État', visible, 0], ['x', other, hidden]], bookType), BUILT_IN_MAPPINGS, 'Arras');
        expect(values(r), `Hidden ${hidden}`).toEqual({ 'Arras|ist.integrite': 1, 'Arras|ist.biens': 2 });
      }
    });
  }

  it('bytes after the ZIP\'s end record (a tool padded or appended to the file) are ignored, as SheetJS ignores them', async () => {
    const padded = Buffer.concat([book([['État', visible, 0]]), Buffer.alloc(4096, 0x20)]);
    expect(values(await readState(padded, BUILT_IN_MAPPINGS, 'Arras'))).toEqual({ 'Arras|ist.integrite': 1, 'Arras|ist.biens': 2 });
  });

  it('two visible sheets that give different figures: non reconnu, naming them; the same figures twice: read', async () => {
    const r = await readState(book([['État', visible, 0], ['Copie', other, 0]]), BUILT_IN_MAPPINGS, 'Arras');
    expect(r).toEqual(expect.objectContaining({ recognised: false, reason: 'plusieurs feuilles ou dispositions du fichier donnent des chiffres différents (feuilles « Copie » et « État »)' }));
    expect(values(await readState(book([['État', visible, 0], ['Copie', visible, 0]]), BUILT_IN_MAPPINGS, 'Arras'))).toEqual({ 'Arras|ist.integrite': 1, 'Arras|ist.biens': 2 });
  });
});

describe('value columns', () => {
  it('two columns of the commune named: non reconnu (before: the last one, 900, was kept)', async () => {
    const rows = [['Famille', 'Arras', 'Arras'], ["Atteintes à l'intégrité physique", 1, 900], ['Atteintes aux biens', 2, 800]];
    expect(await readState(toWorkbook(rows, 'xlsx'), BUILT_IN_MAPPINGS, 'Arras')).toEqual(expect.objectContaining({ recognised: false, reason: 'plusieurs colonnes pour la commune « Arras »' }));
    // Without a commune named, two columns of one name are refused too.
    const three = [['Famille', 'Arras', 'ARRAS', 'Achicourt'], ["Atteintes à l'intégrité physique", 1, 900, 5], ['Atteintes aux biens', 2, 800, 6]];
    expect(await readState(toWorkbook(three, 'xlsx'), BUILT_IN_MAPPINGS, null)).toEqual(expect.objectContaining({ recognised: false, reason: 'plusieurs colonnes pour la commune « ARRAS »' }));
  });

  it(`more than ${MAX_COMMUNES} communes in one state: non reconnu; ${MAX_COMMUNES} are read`, async () => {
    const wide = (n: number) => [
      ['Famille', ...Array.from({ length: n }, (_, i) => `Commune ${i}`)],
      ["Atteintes à l'intégrité physique", ...Array.from({ length: n }, (_, i) => i)],
      ['Atteintes aux biens', ...Array.from({ length: n }, (_, i) => i)],
    ];
    expect(await readState(toWorkbook(wide(MAX_COMMUNES + 1), 'xlsx'), BUILT_IN_MAPPINGS, null)).toEqual(expect.objectContaining({ recognised: false, reason: `plus de ${MAX_COMMUNES} communes dans l’état` }));
    const read = await readState(toWorkbook(wide(MAX_COMMUNES), 'xlsx'), BUILT_IN_MAPPINGS, null);
    expect(read.recognised && read.figures.length).toBe(2 * MAX_COMMUNES);
  });

  it('a commune header with an invisible character: non reconnu, "en-tête de commune illisible"', async () => {
    const rows = [['Famille', 'Arr\u200bas', 'Achicourt'], ["Atteintes à l'intégrité physique", 1, 2], ['Atteintes aux biens', 3, 4]];
    expect(await readState(toWorkbook(rows, 'xlsx'), BUILT_IN_MAPPINGS, null)).toEqual(expect.objectContaining({ recognised: false, reason: expect.stringMatching(/^en-tête de commune illisible/) }));
  });

  it('one cap for counts: a number cell above 12 digits is refused as text of 13 digits is', async () => {
    for (const big of [1e12, '1000000000000']) {
      const r = await readState(toWorkbook([["Atteintes à l'intégrité physique", big], ['Atteintes aux biens', 2]], 'xlsx'), BUILT_IN_MAPPINGS, 'Arras');
      expect(r, String(big)).toEqual(expect.objectContaining({ recognised: false, reason: expect.stringMatching(/nombre entier/) }));
    }
    expect(values(await readState(toWorkbook([["Atteintes à l'intégrité physique", 999_999_999_999], ['Atteintes aux biens', '999 999 999 999']], 'xlsx'), BUILT_IN_MAPPINGS, 'Arras')))
      .toEqual({ 'Arras|ist.integrite': 999_999_999_999, 'Arras|ist.biens': 999_999_999_999 });
  });
});

describe('the mapping editor’s labels', () => {
  it('are listed in linear time (a state of 50,000 text cells: well under a second; it took 3 s before)', () => {
    // 1,000 rows of 50 texts, a count at the end of each row and under each column.
    const grid: Grid = Array.from({ length: 1000 }, (_, r) => [...Array.from({ length: 50 }, (_, c) => `libellé ${r} ${c}`), r]);
    grid.push(Array.from({ length: 51 }, (_, c) => c));
    const started = performance.now();
    const { rows, columns } = labelsOf([grid]);
    expect(performance.now() - started).toBeLessThan(1000);
    expect(rows).toHaveLength(200);
    expect(columns).toHaveLength(200);
    expect(rows[0]).toBe('libellé 0 0');
  });
});
