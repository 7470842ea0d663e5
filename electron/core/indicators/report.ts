// The report for the security council (CISPD/CLSPD), docs/indicators.md 7: an A4 PDF made with
// Pli's PDF module (electron/core/pdf/: DejaVu Sans embedded, « page N sur M »). A commune's report
// holds that commune's figures only and their sources; the agglomeration report sums the communes
// and names none (its sources are counted, not listed). Writing the file is new-file.ts's
// (writeNewFile: never replaces, leaves nothing on failure).
import { formatChange, formatCount, formatPercent, periodFr, type Change } from '../../../shared/indicators.js';
import { renderPdf } from '../pdf/document.js';
import { lastQuarters, type CommuneView, type SeriesQuarter } from './view.js';
import type { FigureSource } from './store.js';
import { agree } from '../../../shared/french.js';

export type ReportSource = FigureSource;
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

const frDate = (ms: number): string => new Intl.DateTimeFormat('fr-FR', { day: '2-digit', month: '2-digit', year: 'numeric', timeZone: 'Europe/Paris' }).format(ms);
const changeText = (c: Change | null): string => (c === null ? '—' : c.percent === null ? formatChange(c.delta) : `${formatChange(c.delta)} (${formatPercent(c.percent)})`);
const ytdText = (q: SeriesQuarter): string => `${formatCount(q.yearToDate.value)}${q.yearToDate.complete ? '' : ' (partiel)'}`;

const CHART_HEIGHT = 40;

export async function renderReport(input: ReportInput): Promise<Buffer> {
  const title = input.commune === null ? 'Indicateurs de la délinquance — agglomération' : `Indicateurs de la délinquance — ${input.commune}`;
  return renderPdf({ title: 'Rapport des indicateurs', subject: title, created: new Date(input.generatedAt) }, (pdf) => {
    pdf.title(title);
    pdf.paragraph(`Période : ${periodFr(input.quarter)} · établi le ${frDate(input.generatedAt)} · faits constatés (états IS 101 et IST)`);
    if (input.commune === null) pdf.paragraph('Totaux de toutes les communes partenaires : aucune commune n’est nommée dans ce rapport.');
    if (input.unverified) pdf.paragraph('Chiffres non vérifiés : le sceau des chiffres n’a pas pu être contrôlé sur ce poste.');

    // ---- the period's table
    pdf.heading('Tableau de la période');
    pdf.table([
      { header: 'Indicateur', width: 190 }, { header: 'Valeur', width: 60, align: 'right' }, { header: 'Sur un trimestre', width: 95, align: 'right' },
      { header: 'Sur un an', width: 95, align: 'right' }, { header: 'Cumul annuel', width: 55, align: 'right' },
    ], input.view.indicators.map((s) => {
      const q = s.quarters.find((x) => x.quarter === input.quarter);
      return q ? [s.label, formatCount(q.value), changeText(q.previous), changeText(q.yearAgo), ytdText(q)] : [s.label, '—', '—', '—', '—'];
    }));

    // ---- trends: one bar chart of the last eight quarters per indicator, its numbers under it
    pdf.heading('Évolution sur huit trimestres');
    for (const s of input.view.indicators) {
      const quarters = lastQuarters(s, input.quarter, 8);
      if (quarters.length === 0) continue;
      // The label, the bars, the quarters and numbers under them: kept together on one page.
      pdf.figure(CHART_HEIGHT + 40, (doc, box) => {
        doc.fillColor('black').font('regular').fontSize(9).text(s.label, box.left, box.top, { width: box.width });
        const top = doc.y + 2;
        const barWidth = box.width / 8;
        const max = Math.max(1, ...quarters.map((q) => q.value));
        quarters.forEach((q, i) => {
          const h = Math.max(1, (q.value / max) * CHART_HEIGHT);
          doc.rect(box.left + i * barWidth + 6, top + CHART_HEIGHT - h, barWidth - 12, h).fillColor(q.quarter === input.quarter ? '#1f4e79' : '#7f9cbd').fill();
          doc.fillColor('black').font('regular').fontSize(7)
            .text(`${q.quarter}\n${formatCount(q.value)}`, box.left + i * barWidth, top + CHART_HEIGHT + 2, { width: barWidth, align: 'center' });
        });
      });
    }

    // ---- sources
    pdf.heading('Sources');
    if (Array.isArray(input.sources)) {
      if (input.sources.length === 0) pdf.paragraph('Aucune source.');
      // Signed by whom, for every source (docs/indicators.md 7.1): the container's signer, or who
      // imported the file by hand, or who corrected a figure and why.
      for (const src of input.sources) pdf.paragraph(sourceLine(src));
    } else {
      pdf.paragraph(`${formatCount(input.sources.states)} ${agree(input.sources.states, 'état reçu', 'états reçus')} de ${formatCount(input.sources.partners)} ${agree(input.sources.partners, 'partenaire')}.`);
    }
  });
}

/** One source in words: « 4e trimestre 2026 : ist.csv · pli … · reçu le 03/12/2026 · signé par Paul Lefebvre ». */
export function sourceLine(src: ReportSource): string {
  const who = src.importedBy ?? 'une personne que ce poste ne connaît plus';
  if (src.kind === 'correction') return `${periodFr(src.period)} : chiffre corrigé le ${frDate(src.importedAt)} par ${who} (motif : ${src.reason ?? 'non indiqué'})`;
  if (src.kind === 'hand') return `${periodFr(src.period)} : ${src.file} · importé à la main le ${frDate(src.importedAt)} par ${who}`;
  return [`${periodFr(src.period)} : ${src.file}`, `pli ${src.container!.slice(0, 16)}`, `reçu le ${frDate(src.receivedAt)}`,
    src.signedBy ? `signé par ${src.signedBy}` : 'signataire inconnu de ce poste'].join(' · ');
}
