// The report for the security council (CISPD/CLSPD), docs/indicators.md 7: an A4 PDF made with
// pdfkit, DejaVu Sans embedded. A commune's report holds that commune's figures only and their
// sources; the agglomeration report sums the communes and names none (its sources are counted,
// not listed). Self-contained on purpose: the fonts are found by one function (fontFiles) so that
// this file can move onto the shared PDF module (electron/core/pdf/) at merge time.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import PDFDocument from 'pdfkit';
import { formatChange, formatCount, formatPercent, periodFr, type Change } from '../../../shared/indicators.js';
import { temporaryError } from '../errors.js';
import { lastQuarters, type CommuneView, type SeriesQuarter } from './view.js';

export interface ReportSource { file: string; container: string | null; receivedAt: number | null; signedBy: string | null; period: string }
export interface ReportInput {
  /** The commune, or null for the agglomeration report (which must name none). */
  commune: string | null;
  /** The quarter reported (e.g. 2026-T4). */
  quarter: string;
  view: CommuneView;
  /** A commune's report: each source; the agglomeration's: only their count and the partners'. */
  sources: ReportSource[] | { states: number; partners: number };
  /** Some figures could not be checked (no integrity key in hand). */
  unverified: boolean;
  generatedAt: number;
}

/** The two DejaVu Sans files: the packaged app's resources (fonts/), else build/fonts of the
 * sources or of the compiled tree (found by walking up from this module). */
export function fontFiles(): { regular: string; bold: string } {
  const candidates: string[] = [];
  const resources = (process as { resourcesPath?: string }).resourcesPath;
  if (process.env.PLI_FONTS_DIR) candidates.push(process.env.PLI_FONTS_DIR);
  if (resources) candidates.push(path.join(resources, 'fonts'));
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    candidates.push(path.join(dir, 'build', 'fonts'));
    dir = path.dirname(dir);
  }
  for (const folder of candidates) {
    const regular = path.join(folder, 'DejaVuSans.ttf');
    const bold = path.join(folder, 'DejaVuSans-Bold.ttf');
    if (existsSync(regular) && existsSync(bold)) return { regular, bold };
  }
  throw temporaryError('fonts-missing', "Les polices du rapport (DejaVu Sans) sont introuvables : l'installation de Pli est incomplète. Réinstallez Pli.");
}

const frDate = (ms: number): string => new Intl.DateTimeFormat('fr-FR', { day: '2-digit', month: '2-digit', year: 'numeric', timeZone: 'Europe/Paris' }).format(ms);
const changeText = (c: Change | null): string => (c === null ? '—' : c.percent === null ? formatChange(c.delta) : `${formatChange(c.delta)} (${formatPercent(c.percent)})`);
const ytdText = (q: SeriesQuarter): string => `${formatCount(q.yearToDate.value)}${q.yearToDate.complete ? '' : ' (partiel)'}`;

export async function renderReport(input: ReportInput): Promise<Buffer> {
  const fonts = fontFiles();
  const doc = new PDFDocument({ size: 'A4', margin: 50, info: { Title: 'Rapport des indicateurs', Producer: 'Pli', Creator: 'Pli' } });
  doc.registerFont('regular', fonts.regular);
  doc.registerFont('bold', fonts.bold);
  const chunks: Buffer[] = [];
  doc.on('data', (chunk: Buffer) => chunks.push(chunk));
  const ended = new Promise<void>((resolve) => doc.on('end', resolve));

  const left = 50;
  const width = doc.page.width - 100;
  const title = input.commune === null ? 'Indicateurs de la délinquance — agglomération' : `Indicateurs de la délinquance — ${input.commune}`;
  doc.font('bold').fontSize(16).text(title, left, 50, { width });
  doc.font('regular').fontSize(10).text(`Période : ${periodFr(input.quarter)} · établi le ${frDate(input.generatedAt)} · faits constatés (états IS 101 et IST)`, { width });
  if (input.commune === null) doc.text('Totaux de toutes les communes partenaires : aucune commune n’est nommée dans ce rapport.', { width });
  if (input.unverified) doc.text('Chiffres non vérifiés : le sceau des chiffres n’a pas pu être contrôlé sur ce poste.', { width });
  doc.moveDown();

  // ---- the period's table
  const cols = [190, 60, 95, 95, 55];
  const heads = ['Indicateur', 'Valeur', 'Sur un trimestre', 'Sur un an', 'Cumul annuel'];
  const row = (cells: string[], font: 'regular' | 'bold') => {
    const y = doc.y;
    let x = left;
    let height = 0;
    doc.font(font).fontSize(8.5);
    cells.forEach((cell, i) => {
      height = Math.max(height, doc.heightOfString(cell, { width: cols[i]! - 6 }));
      doc.text(cell, x, y, { width: cols[i]! - 6, align: i === 0 ? 'left' : 'right' });
      x += cols[i]!;
    });
    doc.y = y + height + 4;
    doc.moveTo(left, doc.y - 2).lineTo(left + width, doc.y - 2).lineWidth(0.3).strokeColor('#999999').stroke();
  };
  doc.font('bold').fontSize(12).text('Tableau de la période', left, doc.y);
  doc.moveDown(0.3);
  row(heads, 'bold');
  for (const s of input.view.indicators) {
    const q = s.quarters.find((x) => x.quarter === input.quarter);
    row(q ? [s.label, formatCount(q.value), changeText(q.previous), changeText(q.yearAgo), ytdText(q)] : [s.label, '—', '—', '—', '—'], 'regular');
  }
  doc.moveDown();

  // ---- trends: one bar chart of the last eight quarters per indicator, its numbers under it
  doc.font('bold').fontSize(12).text('Évolution sur huit trimestres', left, doc.y);
  doc.moveDown(0.3);
  for (const s of input.view.indicators) {
    const quarters = lastQuarters(s, input.quarter, 8);
    if (quarters.length === 0) continue;
    if (doc.y > doc.page.height - 140) doc.addPage();
    doc.font('regular').fontSize(9).text(s.label, left, doc.y, { width });
    const top = doc.y + 2;
    const chartHeight = 40;
    const barWidth = width / 8;
    const max = Math.max(1, ...quarters.map((q) => q.value));
    quarters.forEach((q, i) => {
      const h = Math.max(1, (q.value / max) * chartHeight);
      doc.rect(left + i * barWidth + 6, top + chartHeight - h, barWidth - 12, h).fillColor(q.quarter === input.quarter ? '#1f4e79' : '#7f9cbd').fill();
      doc.fillColor('black').font('regular').fontSize(7)
        .text(`${q.quarter}\n${formatCount(q.value)}`, left + i * barWidth, top + chartHeight + 2, { width: barWidth, align: 'center' });
    });
    doc.y = top + chartHeight + 24;
  }

  // ---- sources
  if (doc.y > doc.page.height - 120) doc.addPage();
  doc.moveDown();
  doc.font('bold').fontSize(12).text('Sources', left, doc.y);
  doc.font('regular').fontSize(8.5);
  if (Array.isArray(input.sources)) {
    if (input.sources.length === 0) doc.text('Aucune source.', { width });
    for (const src of input.sources) {
      const parts = [`${periodFr(src.period)} : ${src.file}`];
      if (src.container) parts.push(`pli ${src.container}`);
      if (src.receivedAt !== null) parts.push(`reçu le ${frDate(src.receivedAt)}`);
      if (src.signedBy) parts.push(`signé par ${src.signedBy}`);
      doc.text(parts.join(' · '), left, doc.y, { width });
    }
  } else {
    doc.text(`${formatCount(input.sources.states)} état(s) reçu(s) de ${formatCount(input.sources.partners)} partenaire(s).`, left, doc.y, { width });
  }
  doc.end();
  await ended;
  return Buffer.concat(chunks);
}
