// An ODS's content.xml, measured before SheetJS reads it (docs/indicators.md 5), inside the reading
// worker. ODS folds identical neighbouring cells into one element with `number-columns-repeated`
// and identical rows with `number-rows-repeated`; SheetJS unfolds every repeat of a cell that holds
// something into its own object (the row's repeats times the cell's), so a 1 KB file asking for
// 16,384 × 1,048,576 copies of « 7 » ran the worker to its heap limit (5 to 8 s, over 300 MiB)
// before it was refused. Repeats of EMPTY cells cost nothing there AFTER the last filled cell of
// a row (SheetJS only moves its column or row counter): LibreOffice writes them by the million
// (`number-columns-repeated="16370"` on an empty cell, `number-rows-repeated="1048553"` on the
// trailing rows) and they stay accepted. Empty cells BEFORE a filled one do cost: SheetJS (dense)
// gives each copy of the row an array as long as the filled cell's column + 1 (a 1 KB file of
// 199,000 rows, each a figure after 1,000 empty cells, ran the worker to its heap limit).
//
// Here, in linear time, the same tokens as SheetJS 0.20.3's parse_content_xml (its tag regex, its
// attribute reader, its comment and DOCTYPE removal, copied below) go through the part of its
// state machine that decides what is built (its row R and column C moved exactly as it moves
// them), and upper bounds are added up:
//   - cells: every copy SheetJS would make of a cell that is not an empty stub (repeats as
//     SheetJS reads them: the row's by Number(), the cell's by parseInt(), whatever the leading
//     zeros, signs, exponents or digits), in every table, hidden or not, but only in rows SheetJS
//     builds: with sheetRows (SHEET_ROWS), none whose row starts at or past it in its table (a
//     repeat that starts before it is built whole); an empty text cell written self-closed (a
//     formula whose result is "") is kept once (in the row's first copy) in any row: from
//     sheetRows on, it and its row's places are `stubs` (at most MAX_STUBS), not cells;
//   - slots: the places of the rows those copies go to (each copy of a row as long as its last
//     filled cell's column + 1), as sheet.ts walks them; both at most maxCells;
//   - others: merges, grouped rows' outline entries (SheetJS keeps one per row of a repeat under
//     10, in every row), named ranges, and each copy of a cell's comments: at most maxCells; and
//     tables (SheetJS makes a sheet at each start and names one at each end: each table once, the
//     more of starts and ends): at most MAX_TABLES; the depth of SheetJS's stack of open elements
//     (document, styles, annotation, meta, frame, chart...: 87 KB of one unclosed tag repeated
//     ran the worker out of memory): at most MAX_DEPTH.
//     A 45 MB content.xml (150 KB compressed: under the ZIP budget) of 1.5 million empty tables,
//     of a million grouped rows or of 700,000 merged empty cells ran out the worker's time or heap;
//   - text: the characters SheetJS builds for cells (each paragraph's slice as it takes it, the
//     spaces its parse_text_p spells out for every `text:c="N"` in that slice, however the tag
//     around it is put together, an attribute's text), and again for each extra copy of a cell
//     (with its comments: SheetJS pushes one comment object per annotation, the same one, so a
//     copy carries the last one's text as many times), and 12 characters a character of a table's
//     start tag at each table end (SheetJS JSON.stringify's its attributes, a control character
//     spelled in 6): at most MAX_UNFOLDED_TEXT. A single string
//     can be too big for the WHOLE process (V8 aborts, not only the worker): 500 million spaces
//     put together by parse_text_p (`<text:s<text:s/>text:c="500000000"/>`, the inner tag
//     removed first) in four cells of a 1 KB file did so.
// Where the state machine is not followed exactly, the count errs upwards (a tag SheetJS would
// stop at is still counted), never downwards. A genuine file's count is its own filled cells (of
// its first 5,000 rows) and its own text: a state has a few thousand of them. Past a bound: non
// reconnu, nothing parsed. The worker's time and heap limits stay the last line.
//
// Number formats (withoutNumberStyles, NO_STYLES below): SheetJS builds a format string for every
// ODS number style it meets (parse_ods_styles: styles.xml whole, and each number-style element of
// content.xml), and none is bounded: `number:min-integer-digits="300000000"` is 300 million zeros
// built one character at a time (a 1 KB file ran the worker to its heap limit), each `style:map`
// prepends the style it names (two maps a style, 24 styles: 385 million characters, which
// `number:truncate-on-overflow="false"` then copies flat: the whole process aborted), a stray
// closing tag re-reads the part from its start. Pli reads no format (only the values, which
// SheetJS takes from office:value, office:date-value..., never from a style: cellDates is off), so
// SheetJS is given no number style at all: in an ODS package styles.xml is replaced by an empty
// document (SheetJS reads nothing else in it), and in content.xml the tag name of each number-style
// element, as SheetJS's tag reader sees it, loses its first letter to `_`, which SheetJS reads as
// no tag it knows. `_` and a letter are alike to every character class of that reader, so every
// tag stays where it was and the cells read the same.
//
// On an upgrade of @e965/xlsx, parse_content_xml and parse_ods_styles are read again against
// this file (the test pins the version).
import { formatCount } from '../../../shared/indicators.js';

/** A content.xml refused, and why (French words, given as the reason). */
export class UnfoldRefused extends Error {}

/** Characters of cell text SheetJS may build from one content.xml (a state has a few thousand). */
export const MAX_UNFOLDED_TEXT = 16_000_000;


/** A part SheetJS may read as an ODS's content: `content.xml` in any case, in any folder (it
 * compares lower-cased names, `\` as `/`; a chart's own content.xml is measured too). */
export function isOdsContent(name: string): boolean {
  return isPart(name, 'content.xml');
}

// ---- SheetJS 0.20.3, copied (xlmlregex, attregexg, parsexmltag, str_remove_ng, remove_doctype) ----

const TAG = /<([/]?)([^\s?><!/:"]*:|)([^\s?<>:/"]+)(?:\s+[^<>=?"'\s]+="[^"]*?")*\s*[/]?>/gm;
const ATTRIBUTE = /\s([^"\s?>/]+)\s*=\s*((?:")([^"]*)(?:")|(?:')([^']*)(?:')|([^'">\s]+))/g;

type Attributes = Record<string, string | undefined>;

/** parsexmltag(tag, skip_root) (`raw`: parsexmltagraw), the root's name left out. */
function attributesOf(tag: string, raw = false): Attributes {
  const z: Attributes = Object.create(null) as Attributes;
  let eq = 0;
  for (; eq !== tag.length; ++eq) {
    const c = tag.charCodeAt(eq);
    if (c === 32 || c === 10 || c === 13) break;
  }
  if (eq === tag.length) return z;
  for (const m of tag.match(ATTRIBUTE) ?? []) {
    const cc = m.slice(1);
    let c = 0;
    for (; c !== cc.length; ++c) if (cc.charCodeAt(c) === 61) break;
    let q = cc.slice(0, c).trim();
    while (cc.charCodeAt(c + 1) === 32) ++c;
    const quote = cc.charCodeAt(c + 1);
    const quot = quote === 34 || quote === 39 ? 1 : 0;
    const v = cc.slice(c + 1 + quot, cc.length - quot);
    let j = 0;
    for (; j !== q.length; ++j) if (q.charCodeAt(j) === 58) break;
    if (raw || j === q.length) {
      if (q.indexOf('_') > 0) q = q.slice(0, q.indexOf('_'));
      z[q] = v;
      z[q.toLowerCase()] = v;
    } else {
      const k = (j === 5 && q.slice(0, 5) === 'xmlns' ? 'xmlns' : '') + q.slice(j + 1);
      if (z[k] && q.slice(j - 3, j) === 'ext') continue;
      z[k] = v;
      z[k.toLowerCase()] = v;
    }
  }
  return z;
}

/** str_remove_ng(str, "<!--", "-->"): comments out (and, as SheetJS, all after an unclosed one). */
function withoutComments(str: string): string {
  const out: string[] = [];
  let last = 0;
  let si = str.indexOf('<!--');
  if (si === -1) return str;
  while (si > -1) {
    out.push(str.slice(last, si));
    const ei = str.indexOf('-->', si + 4);
    if (ei === -1) break;
    last = ei + 3;
    si = str.indexOf('<!--', last);
    if (si === -1) out.push(str.slice(last));
  }
  return out.join('');
}

/** remove_doctype. */
function withoutDoctype(str: string): string {
  const si = str.slice(0, 1024).indexOf('<!DOCTYPE');
  if (si === -1) return str;
  const m = /<[\w]/.exec(str);
  if (!m) return str;
  return str.slice(0, si) + str.slice(m.index);
}

// ---- the measure ----

/** Tags after which SheetJS takes a paragraph's text from the start of the document again
 * (textpidx = 0 in its "ignore state" case). */
const RESETS_TEXT = new Set(['meta', '元数据', 'settings', 'config-item-set', 'config-item-map-indexed', 'config-item-map-entry',
  'config-item-map-named', 'shapes', 'frame', 'text-box', 'image', 'data-pilot-tables', 'list-style', 'form', 'dde-links', 'event-listeners', 'chart']);
/** Elements SheetJS keeps a stack of (`state` in parse_content_xml: its "pure state" and
 * "ignore state" cases, and annotations). */
const STACKED = new Set([...RESETS_TEXT, 'document', 'document-content', '电子表格文档', 'spreadsheet', '主体', 'scripts', 'styles', 'font-face-decls', 'master-styles', 'annotation']);
/** What parse_text_p spells out into N spaces: `<text:s text:c="N"/>` once it has turned tabs and
 * line breaks into spaces, collapsed them, and replaced each `<text:s/>` by a space, so that such a
 * tag may be put together by parse_text_p itself (`<text:s<text:s/>text:c="N"/>`). Its
 * `text:c="N"` holds no space, so it is in the raw text as such: every one is counted wherever it
 * is. Nothing else there makes the text longer (tabs, line breaks, entities: shorter). */
const SPELLED = /text:c="(\d+)"/g;
/** A count of spaces that SheetJS could not build anyway (Array(n) past 2^32 throws; a string
 * stops at 2^29 characters): past a bound, and small enough that sums stay exact. */
const SPELLED_CAP = 1e9;

/** How an ODS content.xml may be measured (sheet.ts: its cell budget and SHEET_ROWS). */
export interface UnfoldLimits {
  /** Filled cells SheetJS makes, and places in its rows (empty ones before a filled one). */
  maxCells?: number;
  /** Characters of cell text. */
  maxText?: number;
  /** SheetJS's sheetRows (0: none): a cell is built only in a row before it (counted from 0 in
   * each table). */
  sheetRows?: number;
  /** Tables (sheets) SheetJS makes. */
  maxTables?: number;
  /** Empty text cells SheetJS makes in rows it does not read (from sheetRows on). */
  maxStubs?: number;
  /** Depth of SheetJS's stack of open elements. */
  maxDepth?: number;
}

/** Tables SheetJS may make of one content.xml (a state has a few sheets). */
export const MAX_TABLES = 1000;

/** Empty text cells (`<table:table-cell office:value-type="string" office:string-value=""/>`, a
 * formula whose result is "") SheetJS makes in rows it does not read (from sheetRows on), and the
 * places of the rows they go to: SheetJS makes them anyway, sheet.ts never reads them. 1.8 million
 * such cells in one row (50 MiB of content.xml, the budget) took SheetJS 1.8 s and 200 MiB of
 * heap; 200,000 of them (10,000 rows of 20 formula cells) 0.5 s and 47 MiB. */
export const MAX_STUBS = 1_000_000;

/** Depth of SheetJS's stack of open elements (`state`: document, styles, annotation, meta,
 * frame, chart...): one entry per level, never bounded; a real content.xml nests fewer than 10. */
export const MAX_DEPTH = 1000;

/**
 * Throws UnfoldRefused when SheetJS (read with sheetRows `sheetRows`) would unfold `data` (a
 * content.xml's bytes) into more than `maxCells` filled cells, row places or other objects (merges,
 * grouped rows, comments), more than MAX_TABLES tables, MAX_STUBS empty text cells in rows it
 * does not read, MAX_DEPTH levels of open elements or more than MAX_UNFOLDED_TEXT characters of
 * cell text. Returns the text SheetJS reads (contentText), for withoutNumberStyles.
 */
export function checkUnfolded(data: Uint8Array, maxCells: number, sheetRows = 0): string {
  const str = contentText(data);
  measured(str, { maxCells, sheetRows, maxText: MAX_UNFOLDED_TEXT, maxTables: MAX_TABLES, maxStubs: MAX_STUBS, maxDepth: MAX_DEPTH });
  return str;
}

/** The upper bounds themselves (tests), counted until one passes its limit (then UnfoldRefused):
 * `cells`, the filled cells SheetJS makes (each copy); `slots`, the places of the rows it makes
 * them in (a row array is as long as its last filled cell's column + 1, each copy of the row);
 * `others`, merges, grouped rows' outline entries and comments (each copy); `tables` (each table
 * once: the more of its starts and of its ends); `stubs`, the empty text cells in rows SheetJS does
 * not read (from sheetRows on) and the places of their rows; `depth`, the deepest of SheetJS's stack of open elements; `text`. */
export function unfoldedSize(data: Uint8Array, limits: UnfoldLimits = {}): { cells: number; slots: number; others: number; tables: number; stubs: number; depth: number; text: number } {
  return measured(contentText(data), limits);
}

/** A content.xml's text as SheetJS reads it: UTF-8, comments and DOCTYPE removed. SheetJS reads a
 * part starting FF FE or FE FF (or with FE FF at 1) as UTF-16: never a real ODS's, refused here. */
function contentText(data: Uint8Array): string {
  if ((data[0] === 0xff && data[1] === 0xfe) || (data[0] === 0xfe && data[1] === 0xff) || (data[1] === 0xfe && data[2] === 0xff)) {
    throw new UnfoldRefused('fichier illisible (tableur abîmé\u00a0: contenu en UTF-16)');
  }
  return withoutDoctype(withoutComments(Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8')));
}

/** unfoldedSize over `str`, a content.xml's text as contentText gives it. */
function measured(str: string, limits: UnfoldLimits): ReturnType<typeof unfoldedSize> {
  const { maxCells = Infinity, maxText = Infinity, sheetRows = 0, maxTables = Infinity, maxStubs = Infinity, maxDepth = Infinity } = limits;
  let cells = 0;
  let slots = 0;
  let others = 0;
  let tables = 0;
  let starts = 0;
  let ends = 0;
  let stubs = 0;
  let depth = 0;
  let deepest = 0;
  let text = 0;
  const tooMany = (what: string) => new UnfoldRefused(`fichier trop gros une fois ouvert (plus de ${what})`);
  const addCells = (n: number) => {
    cells += n;
    if (!(cells <= maxCells)) throw tooMany(`${formatCount(maxCells)} cellules remplies`);
  };
  const addSlots = (n: number) => {
    slots += n;
    if (!(slots <= maxCells)) throw tooMany(`${formatCount(maxCells)} cellules, vides comprises`);
  };
  const addOthers = (n: number) => {
    others += n;
    if (!(others <= maxCells)) throw tooMany(`${formatCount(maxCells)} fusions, lignes groupées ou commentaires`);
  };
  // SheetJS makes a sheet at each table's start and names one (a new entry) at each end, stray or
  // not: a table counts once, as the more of the two.
  const addTable = (end: boolean) => {
    if (end) ends += 1;
    else starts += 1;
    tables = Math.max(starts, ends);
    if (!(tables <= maxTables)) throw tooMany(`${formatCount(maxTables)} feuilles`);
  };
  const addStubs = (n: number) => {
    stubs += n;
    if (!(stubs <= maxStubs)) throw tooMany(`${formatCount(maxStubs)} cellules de texte vide hors des lignes lues`);
  };
  const addText = (n: number) => {
    text += n;
    if (!(text <= maxText)) throw tooMany(`${formatCount(maxText)} caractères de texte`);
  };

  // Spaces parse_text_p may spell out, by position: spelledBefore(i), all those of matches
  // starting before i (a paragraph's share: the difference at its two ends, erring upwards).
  const spelledAt: number[] = [];
  const spelledSum: number[] = [0];
  for (const m of str.matchAll(SPELLED)) {
    spelledAt.push(m.index);
    spelledSum.push(spelledSum[spelledSum.length - 1]! + Math.min(SPELLED_CAP, parseInt(m[1]!, 10)));
  }
  const spelledBefore = (i: number) => {
    let lo = 0;
    let hi = spelledAt.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (spelledAt[mid]! < i) lo = mid + 1;
      else hi = mid;
    }
    return spelledSum[lo]!;
  };

  // SheetJS's state, as far as it decides what is built: its row R and column C (exactly as it
  // moves them: Number arithmetic, NaN and all), the row's repeats, the row-group depth.
  let R = -1;
  let C = -1;
  let rowpeat = 1; // of the last row opened, 1 after a row's end
  let rowOutline = 0; // SheetJS's row_ol
  /** How long the row arrays that the current row's cells go to are known to be (each copy):
   * 0 whenever they may be others. */
  let rowLength = 0;
  let ctag: Attributes = { value: '' }; // of the last cell (opened, empty or covered)
  /** What a closing cell tag finds: 'text', a text cell (SheetJS 's'), which SheetJS drops when
   * no paragraph opened in it (an empty cell); 'kept', anything else, even a state not known. */
  let cell: 'text' | 'kept' = 'kept';
  let paragraph = false; // a paragraph opened since the last cell opened (SheetJS textpidx != 0)
  let error = false; // the last cell opened says calcext:value-type="error"
  // Where SheetJS starts a paragraph's text (textpidx); ours is never after SheetJS's: a
  // paragraph inside office:master-styles does not move it.
  let textStart = 0;
  let oldStart = 0;
  let masterStyles = 0;
  let creatorStart = 0;
  let creator = 0;
  let tableTag = 0; // length of the last table start (SheetJS's sheetag, JSON.stringify'd at each end)
  let cellText = 0; // characters each copy of the current cell carries (text, comments, link)
  // The current cell's comments (SheetJS pushes ONE object per cell as many times as there are
  // annotations: each copy of the cell carries the last one's text that many times).
  let notes = 0;
  let noteText = 0; // at least the text of any one of them (all of them added up)

  TAG.lastIndex = 0;
  for (let m = TAG.exec(str); m; m = TAG.exec(str)) {
    const tag = m[0];
    const closing = m[1] === '/';
    const empty = tag.charAt(tag.length - 2) === '/';
    const at = m.index;
    const name = m[3]!.replace(/_[\s\S]*$/, '');
    // SheetJS's stack of open elements: a push at each opening tag not self-closed, a pop at each
    // closing one (which stops SheetJS when it pops another name or nothing: never below 0 here).
    if (STACKED.has(name)) {
      if (closing) depth = Math.max(0, depth - 1);
      else if (!empty) {
        depth += 1;
        deepest = Math.max(deepest, depth);
        if (!(depth <= maxDepth)) throw tooMany(`${formatCount(maxDepth)} éléments imbriqués`);
      }
    }
    switch (name) {
      case 'table': case '工作表':
        // SheetJS names a sheet at its end (even a stray one) and starts one at its start. At each
        // end it JSON.stringify's the last start's attributes (each value under up to two names,
        // a control character spelled in 6): 12 characters a character of that tag, at most.
        if (closing) {
          addTable(true);
          addText(12 * tableTag);
        } else if (!empty) {
          addTable(false);
          tableTag = tag.length;
          R = C = -1;
          rowLength = 0;
        }
        break;
      case 'table-row-group':
        if (closing) rowOutline -= 1;
        else ++rowOutline;
        break;
      case 'table-row': case '行':
        rowLength = 0;
        if (closing) {
          R += rowpeat;
          rowpeat = 1;
          break;
        }
        {
          const row = attributesOf(tag);
          if (row['行号']) R = Number(row['行号']) - 1;
          else if (R === -1) R = 0;
          rowpeat = Number(row['number-rows-repeated']) || 1;
          // An outline entry per row of a repeat under 10, in a row group, wherever the row is.
          if (rowpeat < 10 && rowOutline > 0 && rowpeat > 0) addOthers(Math.ceil(rowpeat));
          C = -1;
        }
        break;
      case 'covered-table-cell':
        if (!closing) {
          ++C;
          ctag = attributesOf(tag);
          C += (parseInt(ctag['number-columns-repeated'] || '1', 10) || 1) - 1;
        }
        break;
      case 'table-cell': case '数据':
        if (empty) {
          ++C;
          ctag = attributesOf(tag);
          const type = ctag['数据类型'] || ctag['value-type'];
          // A text cell written empty (a formula whose result is ""): kept once, in the row's
          // first copy only (row R), sheetRows or not, its string-value as its text, its row
          // then as long as its column + 1 (each copy, when the row has one). In a row SheetJS
          // reads, a filled cell and its places; past it, the cell and its places count against
          // MAX_STUBS (sheet.ts never reads them, but SheetJS makes them).
          cell = type === 'string' ? 'text' : 'kept';
          if (type === 'string') {
            const read = !(sheetRows && sheetRows <= R);
            const places = C >= 0 && C + 1 > rowLength ? C + 1 - rowLength : 0;
            if (read) {
              addCells(1);
              addSlots(places);
            } else addStubs(1 + places);
            if (places > 0 && rowpeat === 1) rowLength = C + 1;
            addText((ctag['string-value'] ?? '').length);
          }
          C += (parseInt(ctag['number-columns-repeated'] || '1', 10) || 1) - 1;
        } else if (!closing) {
          ++C;
          ctag = attributesOf(tag);
          const type = ctag['数据类型'] || ctag['value-type'];
          cell = !type || type === 'string' || type === 'text' ? 'text' : 'kept';
          error = tag.includes('error') && attributesOf(tag, true)['calcext:value-type'] === 'error';
          paragraph = false;
          textStart = oldStart = 0;
          notes = noteText = 0;
          cellText = (ctag['string-value'] ?? '').length;
          addText(cellText);
          // A merge (rows × columns spanned above 1): one object, wherever the cell is.
          if (ctag['number-columns-spanned'] || ctag['number-rows-spanned']) {
            const spanned = (parseInt(ctag['number-rows-spanned'] || '1', 10) || 1) * (parseInt(ctag['number-columns-spanned'] || '1', 10) || 1);
            if (spanned > 1) addOthers(1);
          }
        } else {
          const columns = parseInt(ctag['number-columns-repeated'] || '1', 10);
          // SheetJS builds nothing from the sheetRows-th row of the table on (R, where the row
          // starts: a repeat that starts before it is built whole).
          if ((cell !== 'text' || paragraph || error) && !(sheetRows && sheetRows <= R)) {
            // Each of the row's repeats, each of the cell's: SheetJS's own loops.
            const rows = rowpeat > 0 ? Math.ceil(rowpeat) : 1;
            const copies = rows * (columns > 1 ? columns : 1);
            addCells(copies);
            // Each copy of the row is as long as its last cell's column + 1 (the empty cells
            // before it cost a place each).
            const length = C + (columns > 1 ? columns : 1);
            if (length > rowLength) {
              addSlots(rows * (length - rowLength));
              rowLength = length;
            }
            if (notes > 0) addOthers(copies * notes);
            const carried = cellText + notes * noteText;
            if (carried > 0 && copies > 1) addText((copies - 1) * carried);
          }
          C += columns - 1;
          cell = 'kept'; // SheetJS's next closing tag keeps an empty object
          cellText = 0;
          notes = noteText = 0;
        }
        break;
      case 'p': case '文本串':
        // As SheetJS: after a cell with a string-value, a closing tag opens a paragraph. Its text,
        // at most its raw slice and the spaces spelled out in it, and a line break.
        if (closing && !ctag['string-value']) {
          const piece = Math.max(0, at - textStart) + Math.max(0, spelledBefore(at) - spelledBefore(textStart)) + 1;
          cellText += piece;
          noteText += piece;
          addText(piece);
        } else if (empty) {
          cellText += 1;
          noteText += 1;
          addText(1);
        } else {
          paragraph = true;
          if (masterStyles === 0) textStart = at + tag.length;
        }
        break;
      case 'annotation':
        if (closing) {
          textStart = oldStart;
          cellText += creator;
          noteText += creator;
          addText(creator);
          notes += 1;
        } else if (!empty) {
          oldStart = textStart;
          textStart = 0;
        }
        creator = creatorStart = 0;
        break;
      case 'creator':
        if (closing) creator = Math.max(0, at - creatorStart);
        else creatorStart = at + tag.length;
        break;
      case 'a':
        if (!closing) {
          cellText += tag.length;
          addText(tag.length);
        }
        break;
      case 'named-range':
        addOthers(1);
        break;
      case 'master-styles':
        if (closing) masterStyles = Math.max(0, masterStyles - 1);
        else if (!empty) masterStyles++;
        break;
      default:
        if (RESETS_TEXT.has(name)) textStart = 0;
    }
  }
  return { cells, slots, others, tables, stubs, depth: deepest, text };
}

// ---- CDATA: none reaches SheetJS ----

/** `<![CDATA[` as SheetJS may read it: UTF-8 (and any single-byte text), UTF-16 little and big endian. */
const CDATA = ['utf8', 'utf16le'].flatMap((encoding) => {
  const le = Buffer.from('<![CDATA[', encoding as BufferEncoding);
  return encoding === 'utf16le' ? [le, Buffer.from(le).swap16()] : [le];
});

/**
 * Throws UnfoldRefused when a part of an XLSX or ODS holds a CDATA section. SheetJS's unescapexml
 * (cell text, string-value, shared strings, link targets) reads an unclosed `<![CDATA[` by adding the
 * rest of the text again at each opener: 1,500 openers before 60,000 characters made a string of 450
 * million characters from a 1.7 KB file, past any bound above and fatal to the whole process where
 * the reader is a worker thread (read.ts). No office suite writes CDATA in a spreadsheet's parts.
 */
export function checkNoCdata(data: Buffer): void {
  if (CDATA.some((marker) => data.includes(marker))) throw new UnfoldRefused('fichier illisible (tableur abîmé\u00a0: section CDATA)');
}

// ---- number styles: none reaches SheetJS ----

/** The elements parse_content_xml hands to parse_ods_styles (its local name, after SheetJS drops
 * what follows a `_`). */
const NUMBER_STYLES = ['number-style', 'currency-style', 'percentage-style', 'date-style', 'time-style', 'text-style', 'boolean-style'];

/** An ODS's styles.xml as SheetJS gets it: SheetJS reads only number styles there
 * (parse_ods: parse_ods_styles), and cannot read an ODS without the part. */
export const NO_STYLES: Buffer = Buffer.from('<?xml version="1.0" encoding="UTF-8"?>\n<office:document-styles xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" office:version="1.3"/>');

/** `name` lower-cased, `\` as `/`, is `part` or ends with `/part` (SheetJS compares lower-cased
 * names, either separator; any folder here, which is wider). */
const isPart = (name: string, part: string) => {
  const n = name.toLowerCase().replace(/\\/g, '/');
  return n === part || n.endsWith(`/${part}`);
};

/** An archive SheetJS reads as ODS (or UOF, read alike): one with a META-INF/manifest.xml or an
 * objectdata.xml (parse_zip). */
export const isOdsPackage = (names: readonly string[]): boolean => names.some((n) => isPart(n, 'meta-inf/manifest.xml') || isPart(n, 'objectdata.xml'));

/** A part SheetJS may read as an ODS's styles.xml. */
export const isOdsStyles = (name: string): boolean => isPart(name, 'styles.xml');

/**
 * `data` (a content.xml) with every number-style element renamed so that SheetJS skips it, or
 * `data` itself when it has none. What SheetJS gets is the text it would have read (comments and
 * DOCTYPE already removed, as it removes them), each such tag's name starting with `_` instead of
 * its first letter; when removing comments again would change that text (a comment put together
 * from pieces), UnfoldRefused. `str`: that text as checkUnfolded returned it (read once).
 */
export function withoutNumberStyles(data: Buffer, str: string): Buffer {
  if (!NUMBER_STYLES.some((name) => str.includes(name))) return data;
  const out: string[] = [];
  let last = 0;
  TAG.lastIndex = 0;
  for (let m = TAG.exec(str); m; m = TAG.exec(str)) {
    if (!NUMBER_STYLES.includes(m[3]!.replace(/_[\s\S]*$/, ''))) continue;
    // The first letter of the name, after `<`, the `/` of a closing tag and the prefix.
    const at = m.index + 1 + m[1]!.length + m[2]!.length;
    out.push(str.slice(last, at), '_');
    last = at + 1;
  }
  if (out.length === 0) return data;
  out.push(str.slice(last));
  const renamed = out.join('');
  if (withoutDoctype(withoutComments(renamed)) !== renamed) throw new UnfoldRefused('fichier illisible (tableur abîmé\u00a0: commentaires mal formés)');
  return Buffer.from(renamed, 'utf8');
}
