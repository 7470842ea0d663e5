// Pli's printable documents (issue 14 §6): A4 PDFs made with pdfkit, French text that can be
// selected and searched, DejaVu Sans embedded (fonts.ts), the title and creation date in the
// metadata, headings, a table that breaks across pages with its header repeated, and « page 2 sur
// 3 » at the foot of every page. Used by the convention's annex and register, and meant for the
// retention certificate and the indicators report: keep this API small.
//
//   const bytes = await renderPdf({ title: 'Registre…', created }, (pdf) => {
//     pdf.title('Registre des échanges', 'Convention …');
//     pdf.heading('Parties');
//     pdf.fields([['Organisation', 'Mairie de …']]);
//     pdf.table([{ header: 'Nom', width: 2 }, { header: 'Fonction', width: 3 }], rows);
//   });
//   writeNewFile(target, bytes);            // new-file.ts: never replaces, leaves nothing on failure
//
// Deterministic: with the same `created` date and content, the bytes are the same (pdfkit derives
// the file id from the metadata; the font subsets are built in order of use).
import path from 'node:path';
import { BOLD_FONT, REGULAR_FONT, fontsFolder } from './fonts.js';
import { frenchSpacing } from '../../../shared/french.js';

export interface PdfOptions {
  /** The document's title, in its metadata (shown by readers in their title bar). */
  title: string;
  subject?: string;
  /** Who made it (an organisation or a person's name); "Pli" when absent. */
  author?: string;
  /** The creation date written in the metadata: now by default; fixed in tests. */
  created?: Date;
  /** A4 landscape, for wide tables (a register). */
  landscape?: boolean;
}

export interface Column {
  header: string;
  /** A relative width: the columns share the page's width in these proportions. */
  width: number;
  align?: 'left' | 'right' | 'center';
}

const MARGIN = 50;
const FOOTER = 30;
const CELL_PAD = 4;
const BODY_SIZE = 10;
const TABLE_SIZE = 8.5;
const GREY = '#555555';

/** The page-writing half of renderPdf: every method writes below what came before. */
export class Pdf {
  readonly #doc: PDFKit.PDFDocument;

  constructor(doc: PDFKit.PDFDocument) {
    this.#doc = doc;
  }

  get #width(): number {
    return this.#doc.page.width - this.#doc.page.margins.left - this.#doc.page.margins.right;
  }

  get #bottom(): number {
    return this.#doc.page.height - this.#doc.page.margins.bottom;
  }

  /** The document's title (large, bold) and an optional second line. */
  title(text: string, subtitle?: string): this {
    const doc = this.#doc;
    doc.font('bold').fontSize(16).fillColor('black').text(text, { width: this.#width });
    if (subtitle) doc.moveDown(0.2).font('regular').fontSize(11).text(frenchSpacing(subtitle), { width: this.#width });
    doc.moveDown(0.8);
    return this;
  }

  /** A section heading; it starts a new page rather than stand alone at the foot of one. */
  heading(text: string): this {
    const doc = this.#doc;
    doc.font('bold').fontSize(12);
    if (doc.y + doc.heightOfString(text, { width: this.#width }) + 3 * BODY_SIZE > this.#bottom) doc.addPage();
    doc.moveDown(0.5).fillColor('black').text(text, MARGIN, doc.y, { width: this.#width });
    doc.moveDown(0.3);
    return this;
  }

  /** A paragraph of body text, with French spacing (no-break spaces before « : ; ! ? », inside
   * « »: a line never starts with a colon); `muted` for notes. */
  paragraph(text: string, options: { bold?: boolean; muted?: boolean } = {}): this {
    this.#doc.font(options.bold ? 'bold' : 'regular').fontSize(BODY_SIZE).fillColor(options.muted ? GREY : 'black')
      .text(frenchSpacing(text), MARGIN, this.#doc.y, { width: this.#width });
    this.#doc.fillColor('black').moveDown(0.3);
    return this;
  }

  /** « Label : value » lines, the label in bold (French typography: a no-break space before the colon). */
  fields(pairs: readonly (readonly [string, string])[]): this {
    const doc = this.#doc;
    doc.fontSize(BODY_SIZE).fillColor('black');
    for (const [label, value] of pairs) {
      doc.font('bold').text(`${label}\u00a0: `, MARGIN, doc.y, { width: this.#width, continued: true });
      doc.font('regular').text(value);
    }
    doc.moveDown(0.4);
    return this;
  }

  /** A table: a header row (bold, on grey), then `rows`, each cell one string (may hold line
   * breaks). A row that does not fit at the foot of the page goes to the next one, under the
   * header drawn again; a table with no rows prints `empty` under its header. */
  table(columns: readonly Column[], rows: readonly (readonly string[])[], empty = '—'): this {
    const doc = this.#doc;
    const total = columns.reduce((sum, c) => sum + c.width, 0);
    const widths = columns.map((c) => (c.width / total) * this.#width);
    const height = (cells: readonly string[], font: string) => {
      doc.font(font).fontSize(TABLE_SIZE);
      return Math.max(...cells.map((cell, i) => doc.heightOfString(cell || ' ', { width: widths[i]! - 2 * CELL_PAD }))) + 2 * CELL_PAD;
    };
    const draw = (cells: readonly string[], font: string, shade: boolean) => {
      const h = height(cells, font);
      const top = doc.y;
      let x = MARGIN;
      if (shade) doc.rect(MARGIN, top, this.#width, h).fill('#e6e6e6');
      doc.fillColor('black').font(font).fontSize(TABLE_SIZE);
      cells.forEach((cell, i) => {
        doc.text(cell, x + CELL_PAD, top + CELL_PAD, { width: widths[i]! - 2 * CELL_PAD, align: columns[i]!.align ?? 'left', lineBreak: true });
        x += widths[i]!;
      });
      doc.lineWidth(0.5).strokeColor('#999999').rect(MARGIN, top, this.#width, h).stroke();
      doc.x = MARGIN;
      doc.y = top + h;
    };
    const headers = columns.map((c) => c.header);
    const headerHeight = height(headers, 'bold');
    const body = rows.length > 0 ? rows : [[empty, ...columns.slice(1).map(() => '')]];
    // The header never stands alone: it goes to the next page with the first row.
    if (doc.y + headerHeight + height(body[0]!, 'regular') > this.#bottom) doc.addPage();
    draw(headers, 'bold', true);
    for (const row of body) {
      if (doc.y + height(row, 'regular') > this.#bottom) {
        doc.addPage();
        draw(headers, 'bold', true);
      }
      draw(row, 'regular', false);
    }
    doc.moveDown(0.6);
    return this;
  }

  /** A figure the caller draws itself (a chart), in a box `height` points high across the page's
   * width, below what came before; on the next page when it does not fit. The caller draws with
   * pdfkit inside the box, with the fonts 'regular' and 'bold' only. */
  figure(height: number, draw: (doc: PDFKit.PDFDocument, box: { left: number; top: number; width: number }) => void): this {
    const doc = this.#doc;
    if (doc.y + height > this.#bottom) doc.addPage();
    const top = doc.y;
    draw(doc, { left: MARGIN, top, width: this.#width });
    doc.x = MARGIN;
    doc.y = top + height;
    doc.font('regular').fontSize(BODY_SIZE).fillColor('black');
    return this;
  }

  /** Starts a new page. */
  newPage(): this {
    this.#doc.addPage();
    return this;
  }
}

/** Renders a whole document: `draw` writes the pages, then every page gets « page N sur M ».
 * Resolves with the PDF's bytes; writing them is the caller's (new-file.ts writeNewFile). */
export async function renderPdf(options: PdfOptions, draw: (pdf: Pdf) => void): Promise<Buffer> {
  const fonts = fontsFolder();
  // pdfkit (and its font engine) load with the first document, not at start-up: every other
  // command of the CLI starts as fast as before.
  const { default: PDFDocument } = await import('pdfkit');
  const created = options.created ?? new Date();
  const doc = new PDFDocument({
    size: 'A4',
    layout: options.landscape ? 'landscape' : 'portrait',
    margins: { top: MARGIN, left: MARGIN, right: MARGIN, bottom: MARGIN + FOOTER },
    bufferPages: true,
    lang: 'fr-FR',
    displayTitle: true,
    // The first font set is DejaVu: no standard (unembedded) font ever enters the file.
    font: path.join(fonts, REGULAR_FONT),
    info: {
      Title: options.title, Subject: options.subject, Author: options.author ?? 'Pli', Creator: 'Pli', Producer: 'Pli (pdfkit)',
      CreationDate: created, ModDate: created,
    },
  });
  doc.registerFont('regular', path.join(fonts, REGULAR_FONT));
  doc.registerFont('bold', path.join(fonts, BOLD_FONT));
  doc.font('regular');
  const chunks: Buffer[] = [];
  const done = new Promise<Buffer>((resolve, reject) => {
    doc.on('data', (chunk: Buffer) => chunks.push(chunk));
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
  });
  try {
    draw(new Pdf(doc));
    const range = doc.bufferedPageRange();
    for (let i = range.start; i < range.start + range.count; i += 1) {
      doc.switchToPage(i);
      // Written inside the bottom margin: lift it for this line, or pdfkit would add a page.
      const bottom = doc.page.margins.bottom;
      doc.page.margins.bottom = 0;
      doc.font('regular').fontSize(8).fillColor(GREY)
        .text(`page ${i - range.start + 1} sur ${range.count}`, MARGIN, doc.page.height - MARGIN, { width: doc.page.width - 2 * MARGIN, align: 'center', lineBreak: false });
      doc.page.margins.bottom = bottom;
    }
    doc.end();
  } catch (error) {
    doc.end();
    return done.then(() => Promise.reject(error as Error));
  }
  return done;
}
