// The PDF module (electron/core/pdf, issue 14 §6): A4, French text that pdftotext reads back with
// its accents, DejaVu Sans embedded (pdffonts), title and creation date in the metadata
// (pdfinfo), a table that breaks across pages with its header repeated, « page N sur M », the same
// bytes for the same content and date, and a writer that never replaces a file, never follows a
// planted link, and leaves nothing behind on failure. Needs poppler-utils.
import { afterAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { renderPdf } from '../../electron/core/pdf/document.js';
import { refuseExistingFile, writeNewFile } from '../../electron/core/pdf/new-file.js';
import { PliError } from '../../electron/core/errors.js';

const dir = mkdtempSync(path.join(tmpdir(), 'pli-pdf-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const run = (tool: string, ...args: string[]) => execFileSync(tool, args, { encoding: 'utf8' });
const CREATED = new Date('2026-10-08T09:30:00Z');

const ROWS = Array.from({ length: 120 }, (_, i) => [`${i + 1}`, `Agent n° ${i + 1} — Hélène Lefèvre`, 'Directrice générale des services', 'à envoyer aujourd’hui']);
const sample = () => renderPdf({ title: 'Registre d’essai — Saint-Laurent-Blangy', subject: 'Essai', created: CREATED }, (pdf) => {
  pdf.title('Registre des échanges', 'Convention Saint-Laurent-Blangy — état IS 101');
  pdf.heading('Parties');
  pdf.fields([['Organisation', 'Mairie de Saint-Laurent-Blangy'], ['Boîte fonctionnelle', 'mairie@saint-laurent-blangy.fr']]);
  pdf.heading('Personnes');
  pdf.table([{ header: 'N°', width: 1, align: 'right' }, { header: 'Nom', width: 4 }, { header: 'Fonction', width: 4 }, { header: 'État', width: 3 }], ROWS);
});

let file = '';
describe('renderPdf', () => {
  it('writes an A4 PDF with its title and creation date in the metadata', async () => {
    file = path.join(dir, 'registre.pdf');
    writeNewFile(file, await sample());
    const info = run('pdfinfo', '-isodates', file);
    expect(info).toMatch(/Title:\s+Registre d’essai — Saint-Laurent-Blangy/);
    expect(info).toMatch(/CreationDate:\s+2026-10-08T09:30:00/);
    expect(info).toMatch(/Page size:\s+595\.28 x 841\.89 pts \(A4\)/);
  });

  it('embeds DejaVu Sans and nothing else', () => {
    const fonts = run('pdffonts', file).split('\n').slice(2).filter((l) => l.trim());
    expect(fonts.length).toBeGreaterThanOrEqual(2);
    for (const line of fonts) {
      expect(line).toMatch(/DejaVuSans/);
      // columns: name type encoding emb sub uni: emb is "yes"
      expect(line).toMatch(/\byes\s+yes\s+yes\b/);
    }
    expect(fonts.some((l) => /DejaVuSans-Bold/.test(l))).toBe(true);
  });

  it('reads back its French text, breaks the table across pages with the header repeated, and numbers pages', () => {
    const pages = Number(/Pages:\s+(\d+)/.exec(run('pdfinfo', file))![1]);
    expect(pages).toBeGreaterThanOrEqual(3);
    const text = run('pdftotext', '-layout', file, '-');
    expect(text).toContain('Hélène Lefèvre');
    expect(text).toContain('à envoyer aujourd’hui');
    expect(text).toContain('Agent n° 120');
    for (let p = 1; p <= pages; p += 1) {
      const page = run('pdftotext', '-layout', '-f', String(p), '-l', String(p), file, '-');
      expect(page).toContain(`page ${p} sur ${pages}`);
      if (p > 1) expect(page).toMatch(/N°\s+Nom\s+Fonction\s+État/);
    }
  });

  it('gives the same bytes for the same content and date', async () => {
    expect((await sample()).equals(await sample())).toBe(true);
  });

  it('renders page 1 for a look (test/artifacts)', () => {
    const out = path.resolve(__dirname, '../artifacts');
    mkdirSync(out, { recursive: true });
    run('pdftoppm', '-png', '-r', '60', '-f', '1', '-l', '2', file, path.join(out, 'pdf-module'));
    expect(readdirSync(out).some((n) => n.startsWith('pdf-module'))).toBe(true);
  });
});

describe('writeNewFile (core)', () => {
  it('refuses an existing file and leaves it unchanged', () => {
    const target = path.join(dir, 'there.pdf');
    writeFileSync(target, 'avant');
    expect(() => refuseExistingFile(target)).toThrow(/existe déjà/);
    expect(() => writeNewFile(target, Buffer.from('après'))).toThrow(PliError);
    expect(readFileSync(target, 'utf8')).toBe('avant');
  });

  it('refuses a link planted at the name, even dangling, and creates nothing at its target', () => {
    const target = path.join(dir, 'link.pdf');
    const aim = path.join(dir, 'aim.pdf');
    symlinkSync(aim, target);
    expect(() => refuseExistingFile(target)).toThrow(/existe déjà/);
    expect(() => writeNewFile(target, 'x')).toThrow(/existe déjà/);
    expect(existsSync(aim)).toBe(false);
  });

  it('leaves nothing behind when the folder is missing', () => {
    const target = path.join(dir, 'absent', 'x.pdf');
    expect(() => writeNewFile(target, 'x')).toThrow(PliError);
    expect(existsSync(target)).toBe(false);
  });
});
