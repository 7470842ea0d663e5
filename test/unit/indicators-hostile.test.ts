// Hostile states read in the worker (docs/indicators.md 5, security review of the reading): a ZIP
// bomb refused under a budget of decompressed bytes with bounded memory, ZIPs out of shape refused,
// hidden sheets not read, sheets that disagree refused, two columns of one commune refused, too
// many communes refused, one cap for numbers and text, the mapping editor's labels in linear
// time, ODS repeat bombs refused before SheetJS unfolds them, and number formats (ODS number
// styles, XLSX and XLS formats) that SheetJS no longer builds. Every state here is made by the
// test (never real data).
import { describe, expect, it } from 'vitest';
import { constants, crc32, deflateRawSync } from 'node:zlib';
import * as XLSX from '@e965/xlsx';
import { readState, READ_LIMITS } from '../../electron/core/indicators/read.js';
import { BUILT_IN_MAPPINGS, labelsOf, MAX_COMMUNES, type Grid } from '../../electron/core/indicators/mapping.js';
import { MAX_ENTRIES, restoredZip, ZipRefused } from '../../electron/core/indicators/zip.js';
import { checkNoCdata, checkUnfolded, MAX_DEPTH, MAX_STUBS, MAX_TABLES, MAX_UNFOLDED_TEXT, UnfoldRefused, unfoldedSize } from '../../electron/core/indicators/ods.js';
import { forSheetJS, SHEETJS_OPTIONS } from '../../electron/core/indicators/sheet.js';
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

/** The namespaces LibreOffice declares that the ODS parts here use. */
const ODS_NAMESPACES = 'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0"'
  + ' xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"'
  + ' xmlns:number="urn:oasis:names:tc:opendocument:xmlns:datastyle:1.0" xmlns:fo="urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0"'
  + ' xmlns:calcext="urn:org:documentfoundation:names:experimental:calc:xmlns:calcext:1.0" xmlns:dc="http://purl.org/dc/elements/1.1/"';

/** Styles of an ODS made by odsOf: `common`, the XML in styles.xml's office:styles; `automatic`,
 * in content.xml's office:automatic-styles; `stylesName`, the name of the styles part; `prolog`,
 * what content.xml has between its XML declaration and its root. */
interface OdsStyles { common?: string; automatic?: string; stylesName?: string; prolog?: string }

/** An ODS as LibreOffice packs one: mimetype first and stored, then manifest, styles and content
 * deflated, `rows` the XML of its one table's rows. */
function odsOf(rows: string, name = 'État', styles: OdsStyles = {}): Buffer {
  const content = `<?xml version="1.0" encoding="UTF-8"?>\n${styles.prolog ?? ''}<office:document-content ${ODS_NAMESPACES} office:version="1.3">`
    + `${styles.automatic === undefined ? '' : `<office:automatic-styles>${styles.automatic}</office:automatic-styles>`}`
    + `<office:body><office:spreadsheet><table:table table:name="${name}" table:style-name="ta1">`
    + '<table:table-column table:style-name="co1" table:number-columns-repeated="16384" table:default-cell-style-name="Default"/>'
    + `${rows}</table:table></office:spreadsheet></office:body></office:document-content>`;
  const part = (name: string, text: string | Buffer, method: 0 | 8 = 8): RawEntry => {
    const data = Buffer.from(text);
    return { name, data: method === 8 ? deflateRawSync(data) : data, method, crc: crc32(data), usz: data.length };
  };
  return zipOf([
    part('mimetype', 'application/vnd.oasis.opendocument.spreadsheet', 0),
    part('META-INF/manifest.xml', '<?xml version="1.0" encoding="UTF-8"?>\n<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.3">'
      + '<manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
      + '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/></manifest:manifest>'),
    part(styles.stylesName ?? 'styles.xml', styles.common === undefined
      ? '<?xml version="1.0" encoding="UTF-8"?>\n<office:document-styles xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" office:version="1.3"/>'
      : `<?xml version="1.0" encoding="UTF-8"?>\n<office:document-styles ${ODS_NAMESPACES} office:version="1.3"><office:styles>${styles.common}</office:styles></office:document-styles>`),
    part('content.xml', content),
  ]);
}

/** The content.xml of an ODS made by odsOf. */
const contentOf = (ods: Buffer) => restoredZipPart(ods, 'content.xml');
function restoredZipPart(zip: Buffer, wanted: string): Buffer {
  let found: Buffer | undefined;
  restoredZip(zip, READ_LIMITS.maxUnzippedBytes, (name, data) => { if (name === wanted) found = data; });
  return found!;
}

/** The cells SheetJS makes of an ODS (every one it keeps, in every sheet, wherever it put it), and
 * the characters of their text (value or shown text: the same string, twice; comments). */
function sheetjsMade(ods: Buffer, options: XLSX.ParsingOptions = SHEETJS_OPTIONS): { cells: number; slots: number; text: number } {
  const book = XLSX.read(ods, { type: 'buffer', ...options });
  let cells = 0;
  let slots = 0;
  let text = 0;
  for (const sheet of new Set(Object.values(book.Sheets))) {
    for (const row of Object.values((sheet as { '!data'?: object })['!data'] ?? {}) as object[]) {
      if (Array.isArray(row)) slots += row.length;
      for (const cell of Object.values(row ?? {}) as XLSX.CellObject[]) {
        cells++;
        text += Math.max(typeof cell.v === 'string' ? cell.v.length : 0, cell.w?.length ?? 0);
        for (const comment of cell.c ?? []) text += (comment.t?.length ?? 0) + (comment.a?.length ?? 0);
      }
    }
  }
  return { cells, slots, text };
}

const FLOAT = 'office:value-type="float" office:value="7" calcext:value-type="float"';
/** A row of `n` figures « 7 » repeated `rows` times, as one cell element repeated. */
const sevens = (rows: string, columns: string) => `<table:table-row table:style-name="ro1" table:number-rows-repeated="${rows}"><table:table-cell ${FLOAT} table:number-columns-repeated="${columns}"><text:p>7</text:p></table:table-cell></table:table-row>`;
/** A cell SheetJS closes first, so that the stray closing tags below have a cell before them. */
const FIRST = `<table:table-row><table:table-cell ${FLOAT}><text:p>7</text:p></table:table-cell></table:table-row>`;
/** The IST state as LibreOffice 7 writes it: each row padded with empty cells to column 16,384,
 * a figure repeated in the cells next to it, the trailing empty rows folded into one. */
const LIBREOFFICE_IST = [
  '<table:table-row table:style-name="ro1"><table:table-cell office:value-type="string" calcext:value-type="string"><text:p>Famille</text:p></table:table-cell>',
  '<table:table-cell office:value-type="string" calcext:value-type="string"><text:p>Arras</text:p></table:table-cell><table:table-cell office:value-type="string" calcext:value-type="string"><text:p>Achicourt</text:p></table:table-cell>',
  '<table:table-cell table:number-columns-repeated="16381"/></table:table-row>',
  '<table:table-row table:style-name="ro1"><table:table-cell office:value-type="string" calcext:value-type="string"><text:p>Atteintes à l’intégrité<text:s text:c="2"/>physique</text:p></table:table-cell>',
  `<table:table-cell ${FLOAT} table:number-columns-repeated="2"><text:p>7</text:p></table:table-cell><table:table-cell table:style-name="ce1" table:number-columns-repeated="16370"/><table:table-cell table:number-columns-repeated="11"/></table:table-row>`,
  '<table:table-row table:style-name="ro1"><table:table-cell office:value-type="string" calcext:value-type="string"><text:p>Atteintes aux biens</text:p></table:table-cell>',
  '<table:table-cell office:value-type="float" office:value="12" calcext:value-type="float"><office:annotation><dc:creator>Agent</dc:creator><text:p>vérifié</text:p></office:annotation><text:p>12</text:p></table:table-cell>',
  '<table:table-cell office:value-type="float" office:value="0" calcext:value-type="float"><text:p>0</text:p></table:table-cell><table:table-cell table:number-columns-repeated="16381"/></table:table-row>',
  '<table:table-row table:style-name="ro1" table:number-rows-repeated="1048553"><table:table-cell table:style-name="ce1" table:number-columns-repeated="16370"></table:table-cell><table:table-cell table:number-columns-repeated="14"><text:p/></table:table-cell></table:table-row>',
  '<table:table-row table:style-name="ro1"><table:table-cell table:number-columns-repeated="16384"/></table:table-row>',
].join('');

describe('ODS repeat bombs', () => {
  it('the measure is written after SheetJS 0.20.3: on an upgrade, electron/core/indicators/ods.ts is read again against parse_content_xml', () => {
    expect(XLSX.version).toBe('0.20.3');
  });

  it('a 1 KB ODS whose one figure repeats 16,384 × 1,048,576 times: non reconnu at once, in its words (before: the worker died at its heap limit after 5 to 8 s)', async () => {
    const bomb = odsOf(sevens('1048576', '16384'));
    expect(bomb.length).toBeLessThan(1500);
    const started = Date.now();
    const r = await readState(bomb, BUILT_IN_MAPPINGS, 'Arras');
    expect(r).toEqual(expect.objectContaining({ recognised: false, reason: 'fichier trop gros une fois ouvert (plus de 200\u202f000 cellules remplies)' }));
    expect(Date.now() - started).toBeLessThan(2000);
    // The next state reads as ever, and so does an ODS as LibreOffice writes it.
    expect(values(await readState(toWorkbook(istRows({ integrite: 1, biens: 2, ordre: 3 }), 'ods'), BUILT_IN_MAPPINGS, null))).toEqual({ '|ist.integrite': 1, '|ist.biens': 2, '|ist.ordre-public': 3 });
  }, 30_000);

  it('LibreOffice’s millions of repeated EMPTY cells and rows cost nothing and are read; its repeated figures count once each', async () => {
    const ods = odsOf(LIBREOFFICE_IST);
    expect(unfoldedSize(contentOf(ods))).toEqual({ cells: expect.any(Number), slots: 9, others: 1, tables: 1, stubs: 0, depth: 3, text: expect.any(Number) });
    expect(unfoldedSize(contentOf(ods)).cells).toBe(sheetjsMade(ods).cells); // 9 filled cells, 16,384 × 1,048,576 in all
    expect(unfoldedSize(contentOf(ods)).cells).toBe(9);
    expect(values(await readState(ods, BUILT_IN_MAPPINGS, null))).toEqual({
      'Arras|ist.integrite': 7, 'Achicourt|ist.integrite': 7, 'Arras|ist.biens': 12, 'Achicourt|ist.biens': 0,
    });
  });

  // Each hostile way of asking SheetJS for many copies, small enough for SheetJS to make them here:
  // the measure is never below what SheetJS makes, and the same file at full size is refused.
  const hostile: [string, (rows: string, columns: string) => string][] = [
    ['plain repeats', sevens],
    ['leading zeros, an exponent for the rows', (r, c) => sevens(`${Number(r) / 10}e1`, `000${c}`)],
    ['hexadecimal rows', (r, c) => sevens(`0x${Number(r).toString(16)}`, c)],
    ['attribute names in capitals, without prefix, with a suffix', (r, c) => `<table:table-row TABLE:NUMBER-ROWS-REPEATED="${r}"><table:table-cell ${FLOAT} number-columns-repeated_x="${c}"><text:p>7</text:p></table:table-cell></table:table-row>`],
    ['a repeat read by SheetJS from inside another attribute’s value', (r, c) => `<table:table-row table:number-rows-repeated="${r}"><table:table-cell ${FLOAT} x/y=" table:number-columns-repeated=${c}"><text:p>7</text:p></table:table-cell></table:table-row>`],
    ['a repeated covered cell, then a stray closing tag', (r, c) => `${FIRST}<table:table-row table:number-rows-repeated="${r}"><table:covered-table-cell table:number-columns-repeated="${c}"/></table:table-cell></table:table-row>`],
    ['a repeated empty cell, then a stray closing tag', (r, c) => `${FIRST}<table:table-row table:number-rows-repeated="${r}"><table:table-cell table:number-columns-repeated="${c}"/></table:table-cell></table:table-row>`],
    ['a tag cut by a comment', (r, c) => sevens(r, c).replace('<table:table-cell', '<table:table-<!-- x -->cell')],
    ['cells inside CDATA', (r, c) => `<table:table-row table:number-rows-repeated="${r}"><![CDATA[<table:table-cell ${FLOAT} table:number-columns-repeated="${c}"><text:p>7</text:p></table:table-cell>]]></table:table-row>`],
    ['a self-closed repeated row, cells after it', (r, c) => `<table:table-row table:number-rows-repeated="${r}"/><table:table-cell ${FLOAT} table:number-columns-repeated="${c}"><text:p>7</text:p></table:table-cell>`],
    ['tables nested in a repeated cell', (r, c) => `<table:table-row table:number-rows-repeated="${r}"><table:table-cell ${FLOAT} table:number-columns-repeated="${c}"><table:table table:name="In">${sevens(r, c)}</table:table><table:table table:name="In2"><text:p>7</text:p></table:table></table:table-cell></table:table-row>`],
    ['text cells, with and without a type', (r, c) => `<table:table-row table:number-rows-repeated="${r}"><table:table-cell table:number-columns-repeated="${c}"><text:p>a</text:p></table:table-cell><table:table-cell office:value-type="string" table:number-columns-repeated="${c}"><text:p>b</text:p></table:table-cell></table:table-row>`],
    ['an error cell without a paragraph', (r, c) => `<table:table-row table:number-rows-repeated="${r}"><table:table-cell office:value-type="string" calcext:value-type="error" office:string-value="#N/A" table:number-columns-repeated="${c}"></table:table-cell></table:table-row>`],
    ['entities in the repeat (SheetJS reads none: one copy)', (r, c) => `${sevens(r, c)}${sevens(r, `&#49;${c}`)}`],
  ];
  for (const [name, make] of hostile) {
    it(`${name}: measured at least as SheetJS makes it, refused at full size`, () => {
      const small = odsOf(make('30', '40'));
      const made = sheetjsMade(small);
      const measured = unfoldedSize(contentOf(small));
      expect(made.cells, 'SheetJS makes the copies').toBeGreaterThanOrEqual(30 * 40);
      expect(measured.cells).toBeGreaterThanOrEqual(made.cells);
      expect(measured.slots).toBeGreaterThanOrEqual(made.slots);
      expect(measured.text).toBeGreaterThanOrEqual(made.text);
      expect(() => checkUnfolded(contentOf(odsOf(make('1048576', '16384'))), READ_LIMITS.maxCells)).toThrow(UnfoldRefused);
    });
  }

  it('tag soup (seeded): whatever the order of cells, rows, paragraphs, comments and stray tags, the measure is never below what SheetJS makes', () => {
    const soup = [
      '<table:table-row table:number-rows-repeated="3">', '<table:table-row>', '</table:table-row>', '<table:table-row table:number-rows-repeated="2"/>', '<table:table-row table:number-rows-repeated="-2">',
      '<table:table-row table:number-rows-repeated="2.5">', '<行 number-rows-repeated="1e1">', '</行>', '<数据 数据类型="float" number-columns-repeated="3">', '</数据>',
      `<table:table-cell ${FLOAT} table:number-columns-repeated="4">`, '<table:table-cell table:number-columns-repeated="5">', '<table:table-cell_x table:number-columns-repeated="2">',
      '<table:table-cell office:value-type="string" table:number-columns-repeated="3">', '<table:table-cell office:value-type="string" office:string-value="abc" table:number-columns-repeated="3"/>',
      '<table:table-cell office:value-type="string" calcext:value-type="error" office:string-value="#N/A" table:number-columns-repeated="2">', '<table:table-cell X/Y=" number-columns-repeated=6" office:value-type="float">',
      '<table:table-cell table:number-columns-repeated="6"/>', '</table:table-cell>', '<table:covered-table-cell table:number-columns-repeated="7"/>', '</table:covered-table-cell>',
      '<text:p>', '</text:p>', '<text:p/>', '<p>', '</p>', 'hello', ' ', '<text:s text:c="9"/>', '<text:s/>', '<text:s', 'text:c="9"/>', '<text:span>', '</text:span>', '<office:annotation>', '</office:annotation>',
      '<dc:creator>', '</dc:creator>', 'me', '<draw:frame>', '</draw:frame>', '<office:meta>', '</office:meta>', '<!-- c -->', '<![CDATA[', ']]>',
      '<table:table table:name="T">', '</table:table>', '<office:master-styles>', '</office:master-styles>',
      '<table:table-cell table:number-columns-spanned="2">', '<table:table-row-group>', '</table:table-row-group>',
      // Empty text cells written self-closed (LibreOffice's formula whose result is ""), one repeated.
      '<table:table-cell table:formula="of:=&quot;&quot;" office:value-type="string" office:string-value="" calcext:value-type="string"/>',
      '<table:table-cell office:value-type="string" table:number-columns-repeated="2"/>', '<数据 数据类型="string"/>',
    ];
    let seed = 12345;
    const random = (n: number) => { seed = (seed * 1103515245 + 12345) % 2 ** 31; return Math.floor((seed / 2 ** 31) * n); };
    // Every other soup without the tags SheetJS keeps a stack of (it stops when they do not pair).
    const flat = soup.filter((t) => !/annotation|master-styles|frame|meta|table:table[ >]/.test(t));
    let compared = 0;
    for (let i = 0; i < 2000; i++) {
      const tags = i % 2 ? flat : soup;
      const ods = odsOf(FIRST + Array.from({ length: 3 + random(25) }, () => tags[random(tags.length)]).join(''));
      // One soup in three read with sheetRows 2 (both SheetJS and the measure), so that the rows
      // it skips are followed too.
      const sheetRows = i % 3 === 0 ? 2 : SHEETJS_OPTIONS.sheetRows;
      let made: { cells: number; slots: number; text: number };
      try {
        made = sheetjsMade(ods, { ...SHEETJS_OPTIONS, sheetRows });
      } catch {
        continue; // SheetJS stops at a tag out of place: nothing to compare
      }
      const measured = unfoldedSize(contentOf(ods), { sheetRows });
      // Empty text cells past sheetRows, and their rows' places, are counted apart (stubs).
      expect(measured.cells + measured.stubs, String(i)).toBeGreaterThanOrEqual(made.cells);
      expect(measured.slots + measured.stubs, String(i)).toBeGreaterThanOrEqual(made.slots);
      expect(measured.text, String(i)).toBeGreaterThanOrEqual(made.text);
      compared++;
    }
    expect(compared).toBeGreaterThan(1000);
  });

  it('text SheetJS would build: spaces spelled out, a paragraph taken from the start of the file, copies of a long text', async () => {
    const long = (text: string, r = '30', c = '40', type = 'office:value-type="string"') => `<table:table-row table:number-rows-repeated="${r}"><table:table-cell ${type} table:number-columns-repeated="${c}">${text}</table:table-cell></table:table-row>`;
    const before = `<table:table-row><table:table-cell><text:p>${'x'.repeat(5000)}</text:p></table:table-cell></table:table-row>`;
    for (const rows of [
      long('<text:p>a<text:s\n\ttext:c="1000"/>b</text:p>'),
      `${before}${long('</text:p>', '30', '40', FLOAT)}`, // no paragraph opened: its text is the file up to here
      `${before}${long('<text:p>a<draw:frame/>b</text:p>', '30', '40', FLOAT)}`, // a frame sends it back to the start too
      `${before}${long('<office:annotation></dc:creator><text:p>b</text:p></office:annotation>', '30', '40', FLOAT)}`, // so does a comment's author without its opening tag
    ]) {
      const small = odsOf(rows);
      // With each cell's shown text (cellText, now off: SheetJS still builds a figure's text
      // once per cell element, and keeps it on none of its copies), the most SheetJS could keep.
      const made = sheetjsMade(small, { ...SHEETJS_OPTIONS, cellText: true });
      expect(made.text).toBeGreaterThan(1200 * 1000);
      expect(unfoldedSize(contentOf(small)).text).toBeGreaterThanOrEqual(made.text);
    }
    // 400 million spaces in one cell (before: read, with 400 MiB more memory), or a 200-character
    // text 200 times in 400 cells: non reconnu.
    for (const rows of [long('<text:p>a<text:s text:c="400000000"/>b</text:p>', '1', '1'), long(`<text:p>${'x'.repeat(200)}</text:p>`, '200', '400')]) {
      expect(await readState(odsOf(rows), BUILT_IN_MAPPINGS, 'Arras')).toEqual(expect.objectContaining({
        recognised: false, reason: `fichier trop gros une fois ouvert (plus de ${String(MAX_UNFOLDED_TEXT).replace(/\B(?=(\d{3})+(?!\d))/g, '\u202f')} caractères de texte)`,
      }));
    }
  });

  it('a content.xml in UTF-16 (SheetJS would read it so; no office suite writes it): non reconnu', () => {
    const text = `<?xml version="1.0" encoding="UTF-16"?><office:document-content><office:body><office:spreadsheet><table:table table:name="a">${sevens('1048576', '16384')}</table:table></office:spreadsheet></office:body></office:document-content>`;
    const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]);
    expect(() => checkUnfolded(utf16, READ_LIMITS.maxCells)).toThrow(/UTF-16/);
  });

  it('a text cell a billion rows down, after a repeat of empty rows, is not walked to (before: the worker died at its heap limit)', async () => {
    const ist = [["Atteintes à l'intégrité physique", 1], ['Atteintes aux biens', 2]].map(([label, n]) =>
      `<table:table-row><table:table-cell office:value-type="string"><text:p>${label}</text:p></table:table-cell><table:table-cell office:value-type="float" office:value="${n}"><text:p>${n}</text:p></table:table-cell></table:table-row>`).join('');
    const far = `${ist}<table:table-row table:number-rows-repeated="1000000000"><table:table-cell/></table:table-row><table:table-row><table:table-cell office:value-type="string" office:string-value="x"/></table:table-row>`;
    const started = Date.now();
    expect(values(await readState(odsOf(far), BUILT_IN_MAPPINGS, 'Arras'))).toEqual({ 'Arras|ist.integrite': 1, 'Arras|ist.biens': 2 });
    expect(Date.now() - started).toBeLessThan(3000);
  }, 30_000);
});

describe('ODS: what SheetJS builds is bounded before it runs (second review)', () => {
  const tooBig = (what: string) => expect.objectContaining({ recognised: false, reason: `fichier trop gros une fois ouvert (plus de ${what})` });
  const textCell = (p: string) => `<table:table-row><table:table-cell office:value-type="string"><text:p>${p}</text:p></table:table-cell></table:table-row>`;
  const figure = (n: number) => `<table:table-cell office:value-type="float" office:value="${n}" calcext:value-type="float"><text:p>${n}</text:p></table:table-cell>`;

  it('spaces spelled out by a `<text:s text:c>` that SheetJS puts together itself, removing a `<text:s/>` inside it first: counted; 500 million of them: non reconnu (before: read with 380 MiB more; four such cells aborted the whole process)', async () => {
    for (const spelling of ['a<text:s<text:s/>text:c="1000"/>b', 'a<text:s\r\n<text:s/>text:c="1000"/><text:s text:c="1000"/>b', '<text:s<text:s/>text:c="1000"/>']) {
      const small = odsOf(IST_STYLED + textCell(spelling));
      const made = sheetjsMade(small);
      expect(made.text).toBeGreaterThan(1000);
      expect(unfoldedSize(contentOf(small)).text, spelling).toBeGreaterThanOrEqual(made.text);
    }
    const bomb = odsOf(IST_STYLED + textCell('a<text:s<text:s/>text:c="500000000"/>b'));
    expect(bomb.length).toBeLessThan(2000);
    const started = Date.now();
    expect(await readState(bomb, BUILT_IN_MAPPINGS, 'Arras')).toEqual(tooBig('16\u202f000\u202f000 caractères de texte'));
    expect(Date.now() - started).toBeLessThan(2000);
  }, 30_000);

  it('rows SheetJS does not build (from the 5,000th of each table, sheetRows) are not counted: an IST sheet and a data sheet of 8,500 rows × 25 figures is read (before: refused, its 212,500 figures all counted)', async () => {
    const data = Array.from({ length: 8500 }, (_, r) => `<table:table-row>${Array.from({ length: 25 }, (_, c) => figure(r * 25 + c)).join('')}</table:table-row>`).join('');
    const ods = odsOf(`${IST_STYLED}</table:table><table:table table:name="Données">${data}`);
    const measured = unfoldedSize(contentOf(ods), { sheetRows: SHEETJS_OPTIONS.sheetRows });
    expect(measured.cells).toBe(sheetjsMade(ods).cells); // 4 + 5,000 × 25
    expect(measured.cells).toBe(125_004);
    // 28 MiB of content.xml: more time than the 10 s limit when the machine is loaded.
    expect(values(await readState(ods, BUILT_IN_MAPPINGS, 'Arras', { ...READ_LIMITS, timeMs: 50_000 }))).toEqual(ARRAS_1_2);
    // A repeat that starts below row 5,000 is built whole, one that starts there is not; each table
    // counts its rows from 0.
    const repeats = odsOf(`${IST_STYLED}<table:table-row table:number-rows-repeated="4996"/><table:table-row table:number-rows-repeated="4993"/></table:table-row>`
      + `<table:table-row table:number-rows-repeated="10">${figure(1)}${figure(2)}</table:table-row><table:table-row>${figure(3)}</table:table-row>`
      + `</table:table><table:table table:name="Autre"><table:table-row table:number-rows-repeated="4999"></table:table-row><table:table-row table:number-rows-repeated="3">${figure(4)}</table:table-row>${textCell('x')}`);
    const made = sheetjsMade(repeats);
    const counted = unfoldedSize(contentOf(repeats), { sheetRows: SHEETJS_OPTIONS.sheetRows });
    expect(made.cells).toBe(4 + 20 + 3);
    expect(counted.cells).toBe(made.cells);
    expect(counted.slots).toBe(made.slots);
  }, 60_000);

  it('a figure after 1,000 empty cells, its row repeated 199,000 times (1 KB): non reconnu at once (SheetJS gives each copy a row of 1,001 places; before: the worker died at its heap limit, +263 MiB)', async () => {
    const after = (rows: string, empty: string) => `${IST_STYLED}<table:table-row table:number-rows-repeated="${rows}"><table:table-cell table:number-columns-repeated="${empty}"/>${figure(7)}</table:table-row>`;
    const small = odsOf(after('30', '40'));
    const made = sheetjsMade(small);
    expect(made.slots).toBe(4 + 30 * 41);
    expect(unfoldedSize(contentOf(small)).slots).toBeGreaterThanOrEqual(made.slots);
    const started = Date.now();
    expect(await readState(odsOf(after('199000', '1000')), BUILT_IN_MAPPINGS, 'Arras')).toEqual(tooBig('200\u202f000 cellules, vides comprises'));
    expect(Date.now() - started).toBeLessThan(2000);
  }, 30_000);

  // About 45 MB of content.xml each, compressed to a few hundred KB: under the 50 MiB budget.
  const fill = (unit: string) => unit.repeat(Math.floor(45 * 2 ** 20 / unit.length));
  const floods: [string, string, string][] = [
    ['1.5 million empty tables', `</table:table>${fill('<table:table table:name="x"></table:table>')}<table:table table:name="y">`, '1\u202f000 feuilles'],
    ['a million empty rows repeated 9 times in a row group (9 outline entries each)', `<table:table-row-group>${fill('<table:table-row table:number-rows-repeated="9"></table:table-row>')}</table:table-row-group>`, '200\u202f000 fusions, lignes groupées ou commentaires'],
    ['700,000 merged empty cells', `<table:table-row>${fill('<table:table-cell table:number-columns-spanned="2"></table:table-cell>')}</table:table-row>`, '200\u202f000 fusions, lignes groupées ou commentaires'],
  ];
  for (const [name, rows, what] of floods) {
    // Refused by the measure, before SheetJS runs: that answer names what was counted, where the
    // reader's time or heap limit would answer « lecture trop longue » or « fichier illisible ».
    // No wall-clock bound here (2 s on a quiet machine, 7 s under a loaded CI: not a unit test's to judge).
    it(`${name} (45 MB of content.xml): non reconnu by the measure (before: the worker's time or heap limit)`, async () => {
      expect(await readState(odsOf(IST_STYLED + rows), BUILT_IN_MAPPINGS, 'Arras')).toEqual(tooBig(what));
    }, 60_000);
  }

  it('a comment in a repeated cell is copied with it (SheetJS copies a cell\'s comments, the last one as many times as there were): counted', () => {
    const noted = (rows: string, columns: string, notes: number) => `${IST_STYLED}<table:table-row table:number-rows-repeated="${rows}"><table:table-cell ${FLOAT} table:number-columns-repeated="${columns}">`
      + `${'<office:annotation><dc:creator>a</dc:creator><text:p>b</text:p></office:annotation>'.repeat(notes - 1)}<office:annotation><dc:creator>${'c'.repeat(100)}</dc:creator><text:p>${'d'.repeat(100)}</text:p></office:annotation><text:p>7</text:p></table:table-cell></table:table-row>`;
    const small = odsOf(noted('3', '4', 50));
    const made = sheetjsMade(small);
    const measured = unfoldedSize(contentOf(small));
    expect(made.text).toBeGreaterThan(12 * 50 * 200);
    expect(measured.text).toBeGreaterThanOrEqual(made.text);
    expect(measured.others).toBeGreaterThanOrEqual(12 * 50);
    expect(() => checkUnfolded(contentOf(odsOf(noted('100', '100', 1000))), READ_LIMITS.maxCells)).toThrow(UnfoldRefused);
  });
});

/** Every cell SheetJS made of `book`, as its type and value only (all that sheet.ts reads), holes
 * as null. */
const typesAndValues = (book: XLSX.WorkBook) => book.SheetNames.map((name) => Array.from(
  (book.Sheets[name] as { '!data'?: (XLSX.CellObject | undefined)[][] })['!data'] ?? [],
  (row) => Array.from(row ?? [], (c) => (c ? [c.t, c.v] : null)),
));
/** The number formats SheetJS attached to the cells of `book`. */
const formatsOf = (book: XLSX.WorkBook) => new Set(book.SheetNames.flatMap((name) =>
  ((book.Sheets[name] as { '!data'?: (XLSX.CellObject | undefined)[][] })['!data'] ?? []).flatMap((row) => Array.from(row ?? [], (c) => c?.z)).filter((z) => z !== undefined)));
/** As HEAD read a workbook: the bytes as they came (SheetJS reads a ZIP the same stored or not),
 * each cell's text formatted. */
const readBefore = (bytes: Buffer) => XLSX.read(bytes, { type: 'buffer', ...SHEETJS_OPTIONS, cellText: true });
/** As sheet.ts reads it now. */
const readNow = (bytes: Buffer) => XLSX.read(forSheetJS(bytes, { maxCells: READ_LIMITS.maxCells, maxUnzippedBytes: READ_LIMITS.maxUnzippedBytes }), { type: 'buffer', ...SHEETJS_OPTIONS });

/** The two IST rows, their figures in cells of style ce1. */
const IST_STYLED = [["Atteintes à l'intégrité physique", 1], ['Atteintes aux biens', 2]].map(([label, n]) => '<table:table-row table:style-name="ro1">'
  + `<table:table-cell office:value-type="string" calcext:value-type="string"><text:p>${label}</text:p></table:table-cell>`
  + `<table:table-cell table:style-name="ce1" office:value-type="float" office:value="${n}" calcext:value-type="float"><text:p>${n}</text:p></table:table-cell></table:table-row>`).join('');
/** The cell style ce1, showing its figures with the number style N1. */
const CE1 = '<style:style style:name="ce1" style:family="table-cell" style:parent-style-name="Default" style:data-style-name="N1"/>';
const ARRAS_1_2 = { 'Arras|ist.integrite': 1, 'Arras|ist.biens': 2 };

/** An IST state as LibreOffice 25 (French) writes one with number styles: a thousands separator,
 * a percentage, a currency in red when negative (a style:map to its positive part, in
 * styles.xml), a date, a time, a boolean, a text style, a scientific number, a fraction. */
const LIBREOFFICE_STYLES: OdsStyles = {
  common: [
    '<style:default-style style:family="table-cell"><style:paragraph-properties style:tab-stop-distance="1.25cm"/><style:text-properties style:font-name="Liberation Sans" fo:language="fr" fo:country="FR"/></style:default-style>',
    '<number:number-style style:name="N0"><number:number number:min-integer-digits="1"/></number:number-style>',
    '<number:currency-style style:name="N121P0" style:volatile="true"><number:number number:decimal-places="2" number:min-decimal-places="2" number:min-integer-digits="1" number:grouping="true"/>',
    '<number:text> </number:text><number:currency-symbol number:language="fr" number:country="FR">€</number:currency-symbol></number:currency-style>',
    '<number:currency-style style:name="N121"><style:text-properties fo:color="#ff0000"/><number:text>-</number:text>',
    '<number:number number:decimal-places="2" number:min-decimal-places="2" number:min-integer-digits="1" number:grouping="true"/><number:text> </number:text>',
    '<number:currency-symbol number:language="fr" number:country="FR">€</number:currency-symbol><style:map style:condition="value()&gt;=0" style:apply-style-name="N121P0"/></number:currency-style>',
    '<style:style style:name="Default" style:family="table-cell"/>',
    '<style:style style:name="Heading" style:family="table-cell" style:parent-style-name="Default"><style:text-properties fo:font-size="24pt" fo:font-weight="bold"/></style:style>',
  ].join('\n'),
  automatic: [
    '<style:style style:name="co1" style:family="table-column"><style:table-column-properties fo:break-before="auto" style:column-width="2.258cm"/></style:style>',
    '<style:style style:name="ro1" style:family="table-row"><style:table-row-properties style:row-height="0.452cm" fo:break-before="auto" style:use-optimal-row-height="true"/></style:style>',
    '<style:style style:name="ta1" style:family="table" style:master-page-name="Default"><style:table-properties table:display="true" style:writing-mode="lr-tb"/></style:style>',
    '<number:number-style style:name="N3"><number:number number:decimal-places="0" number:min-decimal-places="0" number:min-integer-digits="1" number:grouping="true"/></number:number-style>',
    '<number:percentage-style style:name="N11"><number:number number:decimal-places="2" number:min-decimal-places="2" number:min-integer-digits="1"/><number:text> %</number:text></number:percentage-style>',
    '<number:date-style style:name="N37" number:automatic-order="true"><number:day number:style="long"/><number:text>/</number:text><number:month number:style="long"/><number:text>/</number:text><number:year number:style="long"/></number:date-style>',
    '<number:time-style style:name="N41"><number:hours number:style="long"/><number:text>:</number:text><number:minutes number:style="long"/></number:time-style>',
    '<number:boolean-style style:name="N99"><number:boolean/></number:boolean-style>',
    '<number:text-style style:name="N100"><number:text-content/></number:text-style>',
    '<number:number-style style:name="N5"><number:scientific-number number:decimal-places="2" number:min-decimal-places="2" number:min-integer-digits="1" number:min-exponent-digits="2" number:forced-exponent-sign="true"/></number:number-style>',
    '<number:number-style style:name="N7"><number:fraction number:min-integer-digits="0" number:min-numerator-digits="1" number:min-denominator-digits="1"/></number:number-style>',
    ...[['ce1', 'N3'], ['ce2', 'N11'], ['ce3', 'N121'], ['ce4', 'N37'], ['ce5', 'N41'], ['ce6', 'N99'], ['ce7', 'N100'], ['ce8', 'N5'], ['ce9', 'N7']]
      .map(([name, data]) => `<style:style style:name="${name}" style:family="table-cell" style:parent-style-name="Default" style:data-style-name="${data}"/>`),
    '<style:style style:name="ce10" style:family="table-cell" style:parent-style-name="Heading"/>',
  ].join('\n'),
};
const text = (t: string, style = '') => `<table:table-cell${style && ` table:style-name="${style}"`} office:value-type="string" calcext:value-type="string"><text:p>${t}</text:p></table:table-cell>`;
const valued = (style: string, type: string, value: string, shown: string) => `<table:table-cell table:style-name="${style}" office:value-type="${type}" ${value} calcext:value-type="${type}"><text:p>${shown}</text:p></table:table-cell>`;
const LIBREOFFICE_STYLED_ROWS = [
  `<table:table-row table:style-name="ro1">${text('Famille', 'ce10')}${text('Arras', 'ce10')}${text('Achicourt', 'ce7')}<table:table-cell table:number-columns-repeated="16381"/></table:table-row>`,
  `<table:table-row table:style-name="ro1">${text("Atteintes à l'intégrité physique")}${valued('ce1', 'float', 'office:value="1234"', '1 234')}${valued('ce1', 'float', 'office:value="7"', '7')}</table:table-row>`,
  `<table:table-row table:style-name="ro1">${text('Atteintes aux biens')}${valued('ce3', 'currency', 'office:currency="EUR" office:value="12"', '12,00 €')}${valued('ce9', 'float', 'office:value="0"', '0')}</table:table-row>`,
  `<table:table-row table:style-name="ro1">${text('Atteintes à la paix et à la santé publiques')}${valued('ce8', 'float', 'office:value="5"', '5,00E+00')}${valued('ce1', 'float', 'office:value="2"', '2')}</table:table-row>`,
  '<table:table-row table:style-name="ro1" table:number-rows-repeated="1048572"><table:table-cell table:number-columns-repeated="16384"/></table:table-row>',
  '</table:table><table:table table:name="Détails" table:style-name="ta1"><table:table-column table:style-name="co1" table:number-columns-repeated="2" table:default-cell-style-name="Default"/>',
  `<table:table-row table:style-name="ro1">${text('Taux')}${valued('ce2', 'percentage', 'office:value="0.1403"', '14,03 %')}</table:table-row>`,
  `<table:table-row table:style-name="ro1">${text('Budget')}${valued('ce3', 'currency', 'office:currency="EUR" office:value="-1.5"', '-1,50 €')}</table:table-row>`,
  `<table:table-row table:style-name="ro1">${text('Relevé')}${valued('ce4', 'date', 'office:date-value="2026-02-01"', '01/02/2026')}</table:table-row>`,
  `<table:table-row table:style-name="ro1">${text('Heure')}${valued('ce5', 'time', 'office:time-value="PT02H02M00S"', '02:02')}</table:table-row>`,
  `<table:table-row table:style-name="ro1">${text('Vérifié')}${valued('ce6', 'boolean', 'office:boolean-value="true"', 'VRAI')}</table:table-row>`,
  `<table:table-row table:style-name="ro1">${text('Note')}${text('à revoir', 'ce7')}</table:table-row>`,
].join('\n');

describe('number formats: none is built', () => {
  it('an ODS whose number style asks for 300 million digits (in styles.xml, or in content.xml): read at once (before: the worker died at its heap limit after ~5 s)', async () => {
    const digits = '<number:number-style style:name="N1"><number:number number:min-integer-digits="300000000"/></number:number-style>';
    for (const styles of [{ common: digits, automatic: CE1 }, { automatic: `${digits}${CE1}` }]) {
      const bomb = odsOf(IST_STYLED, 'État', styles);
      expect(bomb.length).toBeLessThan(1500);
      const started = Date.now();
      expect(values(await readState(bomb, BUILT_IN_MAPPINGS, 'Arras')), JSON.stringify(styles)).toEqual(ARRAS_1_2);
      expect(Date.now() - started).toBeLessThan(2000);
    }
  }, 30_000);

  it('an ODS whose style:map chain doubles a format 24 times, copied flat (truncate-on-overflow): read at once (before: a 1.4 KB file aborted the whole process, not only the worker)', async () => {
    let chain = '<number:number-style style:name="M0"><number:number number:min-integer-digits="20"/></number:number-style>';
    for (let i = 1; i <= 24; i++) {
      chain += `<number:number-style style:name="M${i}" number:truncate-on-overflow="false"><number:number/>`
        + `<style:map style:condition="value()&gt;=0" style:apply-style-name="M${i - 1}"/><style:map style:condition="value()&gt;=0" style:apply-style-name="M${i - 1}"/></number:number-style>`;
    }
    const bomb = odsOf(IST_STYLED, 'État', { common: chain, automatic: CE1.replace('"N1"', '"M24"') });
    expect(bomb.length).toBeLessThan(2000);
    const started = Date.now();
    expect(values(await readState(bomb, BUILT_IN_MAPPINGS, 'Arras'))).toEqual(ARRAS_1_2);
    expect(Date.now() - started).toBeLessThan(2000);
  }, 30_000);

  it('an ODS as LibreOffice writes it with number styles: every cell of every sheet reads the same type and value as with the formats SheetJS built before', async () => {
    const ods = odsOf(LIBREOFFICE_STYLED_ROWS, 'État', LIBREOFFICE_STYLES);
    const before = readBefore(ods);
    const now = readNow(ods);
    // SheetJS built every format before (percentage, currency with its map, date, time...)...
    expect([...formatsOf(before)].sort()).toEqual(['General', '#,##0', '# ?/?', '#,##0.00" ""€";[Red]"-"#,##0.00" ""€"', '0.00" %"', '0.00E+00', '@', 'dd"/"mm"/"yyyy', 'hh":"mm'].sort());
    // ...and now none: only SheetJS's own defaults for a date and a time.
    expect([...formatsOf(now)].sort()).toEqual(['HH:MM:SS', 'm/d/yy']);
    expect(typesAndValues(now)).toEqual(typesAndValues(before));
    expect(typesAndValues(now)[1]).toEqual([[['s', 'Taux'], ['n', 0.1403]], [['s', 'Budget'], ['n', -1.5]], [['s', 'Relevé'], ['n', 46054]], [['s', 'Heure'], ['n', expect.closeTo(2 / 24 + 2 / 1440, 12)]], [['s', 'Vérifié'], ['b', true]], [['s', 'Note'], ['s', 'à revoir']]]);
    expect(values(await readState(ods, BUILT_IN_MAPPINGS, null))).toEqual({
      'Arras|ist.integrite': 1234, 'Achicourt|ist.integrite': 7, 'Arras|ist.biens': 12, 'Achicourt|ist.biens': 0, 'Arras|ist.ordre-public': 5, 'Achicourt|ist.ordre-public': 2,
    });
  });

  // Each way SheetJS reads a number style: it read it before (the figure got its format), it reads
  // none now, and every cell reads the same.
  const small = '<number:number number:min-integer-digits="7"/>';
  const spellings: [string, OdsStyles][] = [
    ...['number-style', 'currency-style', 'percentage-style', 'date-style', 'time-style', 'text-style', 'boolean-style']
      .map((name): [string, OdsStyles] => [`number:${name} in content.xml`, { automatic: `<number:${name} style:name="N1">${small}</number:${name}>${CE1}` }]),
    ['no prefix', { automatic: `<number-style style:name="N1">${small}</number-style>${CE1}` }],
    ['another prefix', { automatic: `<x:number-style style:name="N1">${small}</x:number-style>${CE1}` }],
    ['a suffix SheetJS drops', { automatic: `<number:number-style_x style:name="N1">${small}</number:number-style_x>${CE1}` }],
    ['a name cut by a comment', { automatic: `<number:number-<!-- x -->style style:name="N1">${small}</number:number-<!-- y -->style>${CE1}` }],
    ['after a DOCTYPE', { prolog: '<!DOCTYPE office:document-content [ <!ENTITY e "f"> ]>', automatic: `<number:number-style style:name="N1">${small}</number:number-style>${CE1}` }],
    ['inside a DOCTYPE', { prolog: `<!DOCTYPE office:document-content [ <number:number-style style:name="N1">${small}</number:number-style> ]>`, automatic: CE1 }],
    ['in styles.xml', { common: `<number:number-style style:name="N1">${small}</number:number-style>`, automatic: CE1 }],
    ['in styles.xml named in capitals', { common: `<number:number-style style:name="N1">${small}</number:number-style>`, automatic: CE1, stylesName: 'STYLES.XML' }],
    ['in styles.xml, opened as a date style and closed as a number style', { common: `<number:date-style style:name="N1">${small}</number:number-style>`, automatic: CE1 }],
  ];
  for (const [name, styles] of spellings) {
    it(`a number style spelled ${name}: SheetJS built its format before, none now, and the figures read the same`, () => {
      const ods = odsOf(IST_STYLED, 'État', styles);
      const before = readBefore(ods);
      expect(formatsOf(before).size, 'SheetJS read the style').toBeGreaterThan(0);
      const now = readNow(ods);
      expect(formatsOf(now)).toEqual(new Set());
      expect(typesAndValues(now)).toEqual(typesAndValues(before));
    });
  }

  it('a number style spelled inside CDATA: SheetJS built its format before; the file is now non reconnu (no part may hold CDATA)', async () => {
    const ods = odsOf(IST_STYLED, 'État', { automatic: `<![CDATA[<number:number-style style:name="N1">${small}</number:number-style>]]>${CE1}` });
    expect(formatsOf(readBefore(ods)).size, 'SheetJS read the style').toBeGreaterThan(0);
    expect(() => readNow(ods)).toThrow(UnfoldRefused);
    expect(await readState(ods, BUILT_IN_MAPPINGS, 'Arras')).toEqual(expect.objectContaining({ recognised: false, reason: 'fichier illisible (tableur abîmé\u00a0: section CDATA)' }));
  });

  it('a content.xml whose comments, once removed, make a new comment around a number style: non reconnu (SheetJS would read it otherwise than measured)', async () => {
    const ods = odsOf(IST_STYLED, 'État', { automatic: `<!<!-- a -->-- b --><number:number-style style:name="N1">${small}</number:number-style>${CE1}` });
    expect(() => readNow(ods)).toThrow(UnfoldRefused);
    expect(await readState(ods, BUILT_IN_MAPPINGS, 'Arras')).toEqual(expect.objectContaining({ recognised: false, reason: 'fichier illisible (tableur abîmé\u00a0: commentaires mal formés)' }));
  });

  /** SheetJS writes `book` with its own formats only: its table of formats is global, and keeps
   * the previous test's million zeros otherwise. */
  const withOwnFormats = (book: XLSX.WorkBook) => { (book as { SSF?: Record<number, string> }).SSF = {}; };

  /** A workbook whose two IST figures and `cells` more figures are shown with the format `z`. */
  const formatted = (z: string, cells: number, bookType: 'xlsx' | 'biff8') => {
    const sheet = XLSX.utils.aoa_to_sheet([["Atteintes à l'intégrité physique", 1], ['Atteintes aux biens', 2]]);
    sheet.B1!.z = z;
    sheet.B2!.z = z;
    for (let i = 0; i < cells; i++) sheet[XLSX.utils.encode_cell({ r: 3 + Math.floor(i / 200), c: i % 200 })] = { t: 'n', v: 1, z };
    sheet['!ref'] = XLSX.utils.encode_range({ s: { r: 0, c: 0 }, e: { r: 3 + Math.ceil(cells / 200), c: 199 } });
    const book = XLSX.utils.book_new();
    XLSX.utils.book_append_sheet(book, sheet, 'État');
    withOwnFormats(book);
    return XLSX.write(book, { type: 'buffer', bookType, compression: true }) as Buffer;
  };

  it('an XLSX whose number format is a million zeros, on 20,000 figures: read at once (before: stopped at the 10 s time limit; 100,000 zeros on 2,000 figures took 8 s and 250 MiB)', async () => {
    const xlsx = formatted('0'.repeat(1_000_000), 20_000, 'xlsx');
    expect(xlsx.length).toBeLessThan(200_000);
    const started = Date.now();
    expect(values(await readState(xlsx, BUILT_IN_MAPPINGS, 'Arras'))).toEqual(ARRAS_1_2);
    expect(Date.now() - started).toBeLessThan(3000);
  }, 30_000);

  it('a legacy XLS whose FORMAT record is 30,000 zeros, on 20,000 figures: read at once (before: the worker died at its heap limit after ~7 s)', async () => {
    const xls = formatted('0'.repeat(30_000), 20_000, 'biff8');
    const started = Date.now();
    expect(values(await readState(xls, BUILT_IN_MAPPINGS, 'Arras'))).toEqual(ARRAS_1_2);
    expect(Date.now() - started).toBeLessThan(3000);
  }, 30_000);

  for (const bookType of ['xlsx', 'biff8'] as const) {
    it(`an ${bookType === 'xlsx' ? 'XLSX' : 'XLS'} with a thousands separator, a percentage, a currency, a date and a time: every cell reads the same type and value as with its text formatted`, () => {
      const rows: [string, number, string][] = [["Atteintes à l'intégrité physique", 1234, '#,##0'], ['Taux', 0.1403, '0.00%'], ['Budget', -1.5, '#,##0.00 "€";[Red]-#,##0.00 "€"'], ['Relevé', 46054, 'dd/mm/yyyy'], ['Heure', 2 / 24, 'hh:mm'], ['Atteintes aux biens', 2, '0']];
      const sheet = XLSX.utils.aoa_to_sheet(rows.map(([label, v]) => [label, v]));
      rows.forEach(([, , z], r) => { sheet[XLSX.utils.encode_cell({ r, c: 1 })]!.z = z; });
      const book = XLSX.utils.book_new();
      XLSX.utils.book_append_sheet(book, sheet, 'État');
      withOwnFormats(book);
      const bytes = XLSX.write(book, { type: 'buffer', bookType }) as Buffer;
      const before = XLSX.read(bytes, { type: 'buffer', ...SHEETJS_OPTIONS, cellText: true });
      const now = XLSX.read(bytes, { type: 'buffer', ...SHEETJS_OPTIONS });
      expect((before.Sheets['État']!['!data'] as XLSX.CellObject[][])[2]![1]!.w).toBe('-1.50 €'); // formatted before
      expect((now.Sheets['État']!['!data'] as XLSX.CellObject[][])[2]![1]!.w).toBeUndefined();
      expect(typesAndValues(now)).toEqual(typesAndValues(before));
    });
  }

  it('zip.ts: bytes an inspection gives back are written instead, with their CRC, and any growth is counted in the budget', () => {
    const text = Buffer.from('<x/>');
    const zip = zipOf([{ name: 'a.xml', data: text, crc: crc32(text) }]);
    const longer = Buffer.from('<x>longer</x>');
    const restored = restoredZip(zip, 1000, () => longer);
    let seen: Buffer | undefined;
    restoredZip(restored, 1000, (_, data) => { seen = data; }); // its CRC checked on the way
    expect(seen?.toString()).toBe('<x>longer</x>');
    expect(() => restoredZip(zip, longer.length - 1, () => longer)).toThrow(/trop gros une fois décompressé/);
  });
});

describe('ODS: what SheetJS builds is bounded before it runs (third review)', () => {
  const tooBig = (what: string) => expect.objectContaining({ recognised: false, reason: `fichier trop gros une fois ouvert (plus de ${what})` });
  const figure = (n: number) => `<table:table-cell office:value-type="float" office:value="${n}" calcext:value-type="float"><text:p>${n}</text:p></table:table-cell>`;
  /** A formula whose result is "", as LibreOffice saves it: an empty text cell, self-closed. */
  const emptyResult = (r: number) => `<table:table-cell table:formula="of:=IF([.A${r + 1}]&gt;1000000;1;&quot;&quot;)" office:value-type="string" office:string-value="" calcext:value-type="string"/>`;
  const dataSheet = (rows: number, figures: number, empties: number) => `${IST_STYLED}</table:table><table:table table:name="Données">${Array.from({ length: rows }, (_, r) => '<table:table-row table:style-name="ro1">'
    + `${Array.from({ length: figures }, (_, c) => figure(r * 25 + c)).join('')}${Array.from({ length: empties }, () => emptyResult(r)).join('')}`
    + `<table:table-cell table:number-columns-repeated="${16384 - figures - empties}"/></table:table-row>`).join('')}`;

  it('empty text cells (formulas whose result is "") make a row as long as SheetJS makes it: 1,000 rows × (15 figures + 10 of them) are read (before: refused, 220,004 places counted for 25,004)', async () => {
    const ods = odsOf(dataSheet(1000, 15, 10));
    const made = sheetjsMade(ods);
    const measured = unfoldedSize(contentOf(ods), { sheetRows: SHEETJS_OPTIONS.sheetRows });
    expect(made).toEqual(expect.objectContaining({ cells: 25_004, slots: 25_004 }));
    expect(measured).toEqual(expect.objectContaining({ cells: 25_004, slots: 25_004, stubs: 0 }));
    expect(values(await readState(ods, BUILT_IN_MAPPINGS, 'Arras', { ...READ_LIMITS, timeMs: 50_000 }))).toEqual(ARRAS_1_2);
    // In a repeated row, SheetJS writes such a cell in the first copy only.
    const repeated = odsOf(`${IST_STYLED}<table:table-row table:number-rows-repeated="5">${figure(1)}<table:table-cell table:number-columns-repeated="8"/>${emptyResult(0)}${figure(2)}</table:table-row>`);
    const once = sheetjsMade(repeated);
    expect(once).toEqual(expect.objectContaining({ cells: 4 + 5 * 2 + 1, slots: 4 + 5 * 11 }));
    expect(unfoldedSize(contentOf(repeated), { sheetRows: SHEETJS_OPTIONS.sheetRows })).toEqual(expect.objectContaining({ cells: once.cells, slots: once.slots + 9 })); // its 9 places counted for every copy, once more
  }, 60_000);

  it(`empty text cells in rows SheetJS does not read count apart, up to ${MAX_STUBS} with their places: 10,000 rows of 20 are read (before: refused as 200,000 filled cells); past the bound, non reconnu`, async () => {
    const ods = odsOf(dataSheet(10_000, 2, 20));
    const made = sheetjsMade(ods);
    const measured = unfoldedSize(contentOf(ods), { sheetRows: SHEETJS_OPTIONS.sheetRows });
    expect(made.cells).toBe(4 + 10_000 * 20 + 5000 * 2);
    expect(measured).toEqual(expect.objectContaining({ cells: 4 + 5000 * 22, slots: 4 + 5000 * 22, stubs: 5000 * (20 + 22) }));
    expect(measured.cells + measured.stubs).toBeGreaterThanOrEqual(made.cells);
    expect(measured.slots + measured.stubs).toBeGreaterThanOrEqual(made.slots);
    expect(values(await readState(ods, BUILT_IN_MAPPINGS, 'Arras', { ...READ_LIMITS, timeMs: 50_000 }))).toEqual(ARRAS_1_2);
    // 500,001 of them in a row past the 5,000th: 1,000,002 cells and places.
    const far = `${IST_STYLED}<table:table-row table:number-rows-repeated="5000"></table:table-row><table:table-row>${'<数据 数据类型="string"/>'.repeat(500_001)}</table:table-row>`;
    expect(() => checkUnfolded(contentOf(odsOf(far)), READ_LIMITS.maxCells, SHEETJS_OPTIONS.sheetRows)).toThrow('plus de 1\u202f000\u202f000 cellules de texte vide hors des lignes lues');
  }, 60_000);

  it(`tables count once each: ${MAX_TABLES} are measured ${MAX_TABLES} and pass, one more is refused (before: counted at start and end, 501 were refused)`, () => {
    // odsOf's table, n - 2 empty ones, and one odsOf closes.
    const tables = (n: number) => contentOf(odsOf(`${IST_STYLED}</table:table>${'<table:table table:name="x"></table:table>'.repeat(n - 2)}<table:table table:name="y">`));
    expect(unfoldedSize(tables(MAX_TABLES)).tables).toBe(MAX_TABLES);
    expect(() => checkUnfolded(tables(MAX_TABLES), READ_LIMITS.maxCells, SHEETJS_OPTIONS.sheetRows)).not.toThrow();
    expect(() => checkUnfolded(tables(MAX_TABLES + 1), READ_LIMITS.maxCells, SHEETJS_OPTIONS.sheetRows)).toThrow('plus de 1\u202f000 feuilles');
    // Stray ends count too (SheetJS names a sheet at each).
    expect(unfoldedSize(contentOf(odsOf(`${IST_STYLED}${'</table:table>'.repeat(5)}`))).tables).toBe(6);
  });

  const floods: [string, string, number][] = [
    ['an unclosed draw:frame', '<draw:frame>', 3_700_000],
    ['an unclosed office:annotation in a cell', '<office:annotation>', 2_300_000],
    ['an unclosed office:meta, short prefix', '<o:meta>', 5_600_000],
  ];
  for (const [name, tag, n] of floods) {
    it(`${name} repeated ${n} times (under 110 KB): non reconnu at once (SheetJS stacks each; before: out of memory after ~3.5 s)`, async () => {
      const ods = odsOf(`${IST_STYLED}<table:table-row><table:table-cell office:value-type="float" office:value="3">${tag.repeat(n)}</table:table-cell></table:table-row>`);
      expect(ods.length).toBeLessThan(110_000);
      const started = Date.now();
      expect(await readState(ods, BUILT_IN_MAPPINGS, 'Arras')).toEqual(tooBig(`${String(MAX_DEPTH).replace(/\B(?=(\d{3})+(?!\d))/g, '\u202f')} éléments imbriqués`));
      expect(Date.now() - started).toBeLessThan(3000);
    }, 30_000);
  }

  it(`the stack is followed as SheetJS pushes and pops it: ${MAX_DEPTH} levels pass, closed ones cost nothing`, () => {
    const nested = (n: number) => contentOf(odsOf(`${IST_STYLED}<table:table-row><table:table-cell office:value-type="float" office:value="3">${'<draw:frame>'.repeat(n)}${'</draw:frame>'.repeat(n)}</table:table-cell></table:table-row>`));
    expect(unfoldedSize(nested(MAX_DEPTH - 2)).depth).toBe(MAX_DEPTH); // document-content, spreadsheet, and the frames
    expect(() => checkUnfolded(nested(MAX_DEPTH - 2), READ_LIMITS.maxCells)).not.toThrow();
    expect(() => checkUnfolded(nested(MAX_DEPTH - 1), READ_LIMITS.maxCells)).toThrow(UnfoldRefused);
    expect(unfoldedSize(contentOf(odsOf(`${IST_STYLED}${'<draw:frame></draw:frame><office:meta/>'.repeat(100_000)}`))).depth).toBe(3);
  });

  it('a table name of 45 million control characters (45 KB): non reconnu at once (SheetJS JSON.stringify\'s it, 6 characters each; before: it passed the measure)', async () => {
    const ods = odsOf(IST_STYLED, '\u0001'.repeat(45_000_000));
    expect(ods.length).toBeLessThan(60_000);
    const started = Date.now();
    expect(await readState(ods, BUILT_IN_MAPPINGS, 'Arras')).toEqual(tooBig(`${String(MAX_UNFOLDED_TEXT).replace(/\B(?=(\d{3})+(?!\d))/g, '\u202f')} caractères de texte`));
    expect(Date.now() - started).toBeLessThan(5000);
  }, 30_000);
});

describe('CDATA: none reaches SheetJS', () => {
  // SheetJS's unescapexml reads an unclosed <![CDATA[ by adding the rest of the text again at each
  // opener: 1,500 openers before 60,000 characters make 450 million characters from a 1.7 KB file.
  const bomb = `${'<![CDATA['.repeat(1500)}${'é'.repeat(60_000)}`;

  it('an ODS whose cell text opens CDATA sections is non reconnu before SheetJS reads it', async () => {
    const rows = `<table:table-row><table:table-cell office:value-type="string"><text:p>${bomb}</text:p></table:table-cell></table:table-row>`;
    const file = odsOf(rows.repeat(2));
    expect(file.length).toBeLessThan(4096);
    const started = Date.now();
    expect(await readState(file, BUILT_IN_MAPPINGS, null)).toEqual({ recognised: false, reason: 'fichier illisible (tableur abîmé\u00a0: section CDATA)' });
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('an XLSX whose shared strings open CDATA sections is non reconnu; genuine workbooks hold none', async () => {
    // Shared strings, as Excel writes them (SheetJS writes inline strings unless asked).
    const book = XLSX.utils.book_new();
    XLSX.utils.book_append_sheet(book, XLSX.utils.aoa_to_sheet(istRows({ integrite: 1, biens: 2, ordre: 3 })), 'État');
    const genuine = XLSX.write(book, { type: 'buffer', bookType: 'xlsx', bookSST: true }) as Buffer;
    expect(values(await readState(genuine, BUILT_IN_MAPPINGS, null))).toEqual({ '|ist.integrite': 1, '|ist.biens': 2, '|ist.ordre-public': 3 });
    expect(() => forSheetJS(genuine, { maxCells: READ_LIMITS.maxCells, maxUnzippedBytes: READ_LIMITS.maxUnzippedBytes })).not.toThrow();
    const parts: { name: string; data: Buffer }[] = [];
    restoredZip(genuine, READ_LIMITS.maxUnzippedBytes, (name, data) => { parts.push({ name, data }); });
    const shared = parts.find((p) => p.name === 'xl/sharedStrings.xml');
    expect(shared).toBeDefined();
    const text = shared!.data.toString('utf8');
    const hostile = text.replace(/<t([^>]*)>/, (tag) => `${tag}${bomb}`);
    expect(hostile).not.toBe(text);
    const file = zipOf(parts.map((p) => {
      const data = p === shared ? Buffer.from(hostile) : p.data;
      return { name: p.name, data: deflateRawSync(data), method: 8 as const, crc: crc32(data), usz: data.length };
    }));
    expect(await readState(file, BUILT_IN_MAPPINGS, null)).toEqual({ recognised: false, reason: 'fichier illisible (tableur abîmé\u00a0: section CDATA)' });
  });

  it('is found in UTF-8 and in UTF-16, either byte order', () => {
    for (const encoding of ['utf8', 'utf16le'] as const) {
      const data = Buffer.from(`<a>x<![CDATA[y]]></a>`, encoding);
      expect(() => checkNoCdata(data)).toThrow(UnfoldRefused);
      if (encoding === 'utf16le') expect(() => checkNoCdata(Buffer.from(data).swap16())).toThrow(UnfoldRefused);
    }
    expect(() => checkNoCdata(Buffer.from('<a>x &lt;![CDATA[ y</a>'))).not.toThrow();
  });
});
