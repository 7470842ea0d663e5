// From a state's bytes to grids of cells (docs/indicators.md 5), inside the reading worker only:
// CSV read here (separator and encoding detected), XLSX, ODS and legacy XLS with SheetJS
// (@e965/xlsx). Untrusted input: formulas are never evaluated (the value the spreadsheet cached,
// else nothing), no external link is followed and no macro is read (SheetJS runs none; the options
// below keep their text out too), and the cell count is bounded. A ZIP (XLSX, ODS) is opened by
// zip.ts first, under a budget of decompressed bytes: SheetJS gets its entries stored, never
// compressed; an ODS's content.xml is measured by ods.ts before SheetJS unfolds its repeated cells.
// No number format is read or applied (only values are): SheetJS builds no cell's formatted text
// (cellText false) and is given no ODS number style (ods.ts). Hidden sheets are not read.
import * as XLSX from '@e965/xlsx';
import type { Cell, Grid } from './mapping.js';
import { checkNoCdata, checkUnfolded, isOdsContent, isOdsPackage, isOdsStyles, NO_STYLES, UnfoldRefused, withoutNumberStyles } from './ods.js';
import { restoredZip, ZipRefused } from './zip.js';

/** Rows read of each sheet (SheetJS's sheetRows; docs/indicators.md 5). */
export const SHEET_ROWS = 5000;

/** How SheetJS reads a workbook here (the tests read with the same). cellText false: SheetJS
 * formats no cell's text (`w`, never read here) with its number format, which a file may make a
 * million characters long for each of its cells (XLSX numFmt, XLS FORMAT record). */
export const SHEETJS_OPTIONS = {
  dense: true, cellFormula: false, cellHTML: false, cellStyles: false, cellDates: false, cellNF: false, cellText: false,
  bookVBA: false, bookDeps: false, bookFiles: false, bookProps: false, WTF: false, sheetRows: SHEET_ROWS,
} as const satisfies XLSX.ParsingOptions;

export interface SheetLimits {
  maxCells: number;
  /** Bytes of a ZIP's entries once decompressed, all together (XLSX, ODS). */
  maxUnzippedBytes: number;
}
export class NotRecognised extends Error {}

/** A grid and the name of the sheet it was read from (a CSV has one, unnamed). */
export interface NamedGrid { name: string | null; grid: Grid }

export type Kind = 'csv' | 'xlsx-or-ods' | 'xls';

/** The format from the first bytes (never from the name alone): a ZIP is XLSX or ODS, an OLE2
 * compound file is a legacy XLS, text is CSV; anything else is not a state. */
export function kindOf(bytes: Uint8Array): Kind | null {
  const starts = (...b: number[]) => b.every((x, i) => bytes[i] === x);
  if (starts(0x50, 0x4b, 0x03, 0x04)) return 'xlsx-or-ods';
  if (starts(0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1)) return 'xls';
  // Text: no NUL byte in the first 8 KiB.
  const head = bytes.subarray(0, 8192);
  if (head.length > 0 && !head.includes(0)) return 'csv';
  return null;
}

/** UTF-8 when the bytes are valid UTF-8 (BOM or not), else Windows-1252 (Excel's "CSV" on a
 * French Windows). */
export function decodeText(bytes: Uint8Array): { text: string; encoding: 'utf-8' | 'windows-1252' } {
  try {
    const text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
    return { text, encoding: 'utf-8' };
  } catch {
    return { text: new TextDecoder('windows-1252').decode(bytes), encoding: 'windows-1252' };
  }
}

/** `;` or `,`: the one found more often outside quotes in the first lines (`;` on a tie: a French
 * CSV writes decimals with commas). */
export function separatorOf(text: string): ';' | ',' {
  let semi = 0;
  let comma = 0;
  let quoted = false;
  let lines = 0;
  for (const ch of text) {
    if (ch === '"') quoted = !quoted;
    else if (!quoted && ch === ';') semi++;
    else if (!quoted && ch === ',') comma++;
    else if (!quoted && ch === '\n' && ++lines >= 50) break;
  }
  return comma > semi ? ',' : ';';
}

/** RFC 4180 CSV (quotes doubled inside quoted fields), every cell as text. */
export function parseCsv(text: string, limits: SheetLimits): Grid {
  const sep = separatorOf(text);
  const rows: Grid = [];
  let row: Cell[] = [];
  let field = '';
  let quoted = false;
  let cells = 0;
  const push = () => {
    if (++cells > limits.maxCells) throw new NotRecognised('trop de cellules');
    row.push(field);
    field = '';
  };
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"' && field === '') quoted = true;
    else if (ch === sep) push();
    else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      push();
      rows.push(row);
      row = [];
    } else field += ch;
  }
  if (field !== '' || row.length > 0) {
    push();
    rows.push(row);
  }
  return rows;
}

/** An XLSX or ODS as SheetJS gets it (zip.ts, ods.ts): its parts inflated under the budget and
 * stored; no part with a CDATA section (checkNoCdata); an ODS's content.xml measured, then
 * without number styles, its styles.xml empty. Throws ZipRefused or UnfoldRefused. */
export function forSheetJS(bytes: Uint8Array, limits: SheetLimits): Buffer {
  return restoredZip(bytes, limits.maxUnzippedBytes, (name, data, names) => {
    checkNoCdata(data);
    if (isOdsContent(name)) {
      const text = checkUnfolded(data, limits.maxCells, SHEET_ROWS);
      return isOdsPackage(names) ? withoutNumberStyles(data, text) : undefined;
    }
    return isOdsPackage(names) && isOdsStyles(name) ? NO_STYLES : undefined;
  });
}

/** Every visible sheet of a workbook as a grid: numbers stay numbers, text stays text, a formula
 * cell gives its cached value (none: an empty cell), errors and booleans are empty. A sheet the
 * workbook marks hidden or very hidden is not read (XLSX, XLS; an ODS's hidden sheets are not
 * told apart by SheetJS: mapping.ts refuses a state whose sheets disagree). */
export function parseWorkbook(bytes: Uint8Array, limits: SheetLimits, kind: 'xlsx-or-ods' | 'xls'): NamedGrid[] {
  let input: Uint8Array = bytes;
  if (kind === 'xlsx-or-ods') {
    try {
      input = forSheetJS(bytes, limits);
    } catch (error) {
      if (error instanceof ZipRefused || error instanceof UnfoldRefused) throw new NotRecognised(error.message);
      throw new NotRecognised('fichier illisible (tableur abîmé ou d’un autre type)');
    }
  }
  let book: XLSX.WorkBook;
  try {
    book = XLSX.read(input, { type: 'array', ...SHEETJS_OPTIONS });
  } catch {
    throw new NotRecognised('fichier illisible (tableur abîmé ou d’un autre type)');
  }
  let cells = 0;
  const shown = book.SheetNames.filter((_, i) => (book.Workbook?.Sheets?.[i]?.Hidden ?? 0) === 0);
  return shown.map((name): NamedGrid => {
    const sheet = book.Sheets[name];
    const data = (sheet as { '!data'?: (XLSX.CellObject | undefined)[][] } | undefined)?.['!data'] ?? [];
    // Array.from, not map: a sheet's rows and cells are sparse arrays, whose holes map skips.
    // SHEET_ROWS rows at most: SheetJS still writes an ODS's empty-string cell (`<table:table-cell
    // office:value-type="string"/>`) past sheetRows, e.g. at row 1,000,000,000 after a repeat of
    // empty rows, and the billion holes before it were walked here until the heap gave out.
    const grid = Array.from({ length: Math.min(data.length, SHEET_ROWS) }, (_, r) => Array.from(data[r] ?? [], (cell): Cell => {
      if (++cells > limits.maxCells) throw new NotRecognised('trop de cellules');
      if (!cell) return null;
      if (cell.t === 'n' && typeof cell.v === 'number') return cell.v;
      if (cell.t === 's' && typeof cell.v === 'string') return cell.v;
      return null;
    }));
    return { name, grid };
  });
}

export function gridsOf(bytes: Uint8Array, limits: SheetLimits): { grids: NamedGrid[]; kind: Kind; encoding?: string } {
  const kind = kindOf(bytes);
  if (kind === null) throw new NotRecognised("ni CSV, ni XLSX, ni ODS, ni XLS");
  if (kind === 'csv') {
    const { text, encoding } = decodeText(bytes);
    return { grids: [{ name: null, grid: parseCsv(text, limits) }], kind, encoding };
  }
  return { grids: parseWorkbook(bytes, limits, kind), kind };
}
