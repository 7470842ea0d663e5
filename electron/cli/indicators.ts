// `pli indicators [import | report | export | correct | mapping]` (issue 16, docs/indicators.md).
// Registered into the command table by pli.ts. The report's PDF library is loaded only by the
// commands that write a report or an export.
import { readFileSync } from 'node:fs';
import { inputError } from '../core/errors.js';
import { refuseProfileFile } from '../core/own-files.js';
import { checkPeriod, correctFigure, currentFigures, importState, setMapping, signInToRead, type Figure, type MissingRows } from '../core/indicators/store.js';
import { communeViews, withinPeriods, type CommuneView } from '../core/indicators/view.js';
import { formatChange, formatCount, formatPercent, periodFr, type Change } from '../../shared/indicators.js';
import { forTerminal } from '../../shared/text.js';
import { isDateMs } from '../../shared/dates.js';
import { context, err, out, parse, required, str, type Handler } from './common.js';
import { refuseExisting, writeNewFile } from './pli.js';
import { agree, plural } from '../../shared/french.js';

export const INDICATORS_USAGE = `Indicateurs (docs/indicators.md) :
  indicators [--json] [--commune NOM] [--from PERIODE] [--to PERIODE] [--as ID]
                                               chaque indicateur par trimestre : valeur, évolution sur un trimestre et sur un an, cumul annuel
  indicators import FICHIER --convention ID --period PERIODE [--commune NOM] [--container ID] [--as ID]
                                               lit un état IS 101 ou IST (CSV, XLSX, ODS, XLS) ; « non reconnu » sinon
  indicators report (--commune NOM | --agglomeration) --period PERIODE --out FICHIER.pdf [--as ID]
  indicators export --out FICHIER.csv [--commune NOM] [--from PERIODE] [--to PERIODE] [--as ID]
  indicators correct --convention ID --commune NOM --period PERIODE --indicator ID --value N --reason MOTIF [--as ID]
  indicators mapping FICHIER.json [--as ID]    enregistre une correspondance de libellés
Périodes : 2026 (année), 2026-S2 (semestre), 2026-T4 (trimestre), 2026-11 (mois).`;

const changeText = (c: Change | null): string => (c === null ? '—' : c.percent === null ? formatChange(c.delta) : `${formatChange(c.delta)} (${formatPercent(c.percent)})`);

/** The day as the Indicateurs screen writes it (fr-FR, long: « 3 décembre 2026 »); the date comes
 * from the audit log, which the attacker of docs/profile.md can write: a number no Date holds is
 * said, not thrown. */
const correctionDay = (ms: number): string => (isDateMs(ms) ? new Intl.DateTimeFormat('fr-FR', { dateStyle: 'long' }).format(ms) : 'date illisible');

/** « corrigé le 3 décembre 2026 par Nadia Observatoire (motif) ; valeur d’origine : 340 »: the
 * screen's words (fr.json indicators.edit.correctedMark and .original), under the figure. */
function correctionLine(c: NonNullable<Figure['correction']>): string {
  return `corrigé le ${correctionDay(c.at)} par ${forTerminal(c.by)} (${forTerminal(c.reason)})${c.original === null ? '' : `\u00a0; valeur d’origine\u00a0: ${formatCount(c.original)}`}`;
}

function printView(view: CommuneView, figures: Figure[]): void {
  out(`${view.commune === null ? 'Agglomération' : forTerminal(view.commune)}`);
  for (const s of view.indicators) {
    out(`  ${s.label}`);
    for (const q of s.quarters) {
      out(`    ${q.quarter}  ${formatCount(q.value).padStart(7)}  sur un trimestre : ${changeText(q.previous)}  sur un an : ${changeText(q.yearAgo)}  cumul ${q.quarter.slice(0, 4)} : ${formatCount(q.yearToDate.value)}${q.yearToDate.complete ? '' : ' (partiel)'}${q.state === 'unverified' ? '  (non vérifié)' : ''}`);
      // A commune's figure only: the agglomeration's is a sum, which no one corrects as such.
      const correction = view.commune === null ? null
        : figures.find((f) => f.commune === view.commune && f.indicator === s.indicator && f.period === q.quarter)?.correction ?? null;
      if (correction) out(`      ${correctionLine(correction)}`);
    }
    for (const period of s.modified) out(`    ${period}  modifié hors de Pli : chiffre écarté`);
  }
}

function warnMissing(missing: MissingRows[]): void {
  for (const m of missing) {
    err(`pli: attention : ${plural(m.expected - m.found, 'chiffre')} de ${periodFr(m.period)} (convention ${m.convention}) ${agree(m.expected - m.found, 'a été supprimé', 'ont été supprimés')} en dehors de Pli. Prévenez l'officier SSI et importez à nouveau l'état.`);
  }
}

export const indicatorCommands: Record<string, Handler> = {
  async indicators(args) {
    const { values } = parse(args, { json: { type: 'boolean' }, commune: { type: 'string' }, from: { type: 'string' }, to: { type: 'string' }, as: { type: 'string' } }, { min: 0, max: 0, name: 'aucun' });
    const ctx = context(values);
    await signInToRead(ctx, str(values, 'as'));
    const from = str(values, 'from');
    const to = str(values, 'to');
    if (from) checkPeriod(from);
    if (to) checkPeriod(to);
    // The trends use every quarter; --from and --to only choose the quarters shown.
    const found = currentFigures(ctx, { commune: str(values, 'commune') });
    const views = withinPeriods(communeViews(found.figures), from, to);
    const shown = from || to ? currentFigures(ctx, { commune: str(values, 'commune'), from, to }).figures : found.figures;
    if (values.json) {
      out(JSON.stringify({ checked: found.checked, missing: found.missing, communes: views, figures: shown }, null, 2));
    } else if (views.length === 0) {
      out("Aucun chiffre. Importez un état reçu : pli indicators import FICHIER --convention ID --period PERIODE --commune NOM.");
    } else {
      for (const view of views) printView(view, found.figures);
      if (!found.checked) err('Chiffres non vérifiés : aucune personne de ce poste ne détient encore la clé qui les scelle.');
    }
    const modified = shown.filter((f) => f.state === 'modified').length;
    if (modified > 0) err(`pli: attention : ${plural(modified, 'chiffre modifié', 'chiffres modifiés')} en dehors de Pli, ${agree(modified, 'écarté')} des évolutions. Prévenez l'officier SSI.`);
    warnMissing(found.missing);
  },

  async 'indicators import'(args) {
    const { values, positionals } = parse(args, {
      convention: { type: 'string' }, period: { type: 'string' }, commune: { type: 'string' }, container: { type: 'string' }, as: { type: 'string' },
    }, { min: 1, max: 1, name: 'FICHIER' });
    const ctx = context(values);
    refuseProfileFile(positionals[0]!, ctx.profile.home, 'read'); // its locks (own-files.ts)
    const result = await importState(ctx, {
      as: str(values, 'as'), convention: required(values, 'convention'), period: required(values, 'period'),
      commune: str(values, 'commune') ?? null, file: positionals[0]!, container: str(values, 'container') ?? null,
    });
    if (!result.recognised) {
      err(`Non reconnu : ${forTerminal(result.reason)}. Aucun chiffre n'a été enregistré ; le fichier reste tel quel.`);
      out('non reconnu');
      return;
    }
    err(`État lu (${forTerminal(result.mapping)}) : ${plural(result.rows, 'chiffre')} pour ${result.communes.map(forTerminal).join(', ')}${result.sealed ? '' : ' (non scellés : aucune clé de scellement sur ce poste)'}.`);
    out(result.write);
  },

  async 'indicators report'(args) {
    const { values } = parse(args, { commune: { type: 'string' }, agglomeration: { type: 'boolean' }, period: { type: 'string' }, out: { type: 'string' }, as: { type: 'string' } }, { min: 0, max: 0, name: 'aucun' });
    if (values.agglomeration && values.commune) throw inputError('usage', "--commune ou --agglomeration : l'un ou l'autre (voir pli --help).");
    if (!values.agglomeration && !values.commune) throw inputError('usage', 'Option --commune NOM ou --agglomeration obligatoire (voir pli --help).');
    const target = required(values, 'out');
    const period = required(values, 'period');
    refuseExisting(target);
    const { indicatorReport } = await import('../core/indicators/output.js');
    const report = await indicatorReport(context(values), { as: str(values, 'as'), commune: str(values, 'commune') ?? null, agglomeration: Boolean(values.agglomeration), period });
    // The core's writer of printed documents (electron/core/pdf/new-file.ts): O_EXCL, no partial file.
    (await import('../core/pdf/new-file.js')).writeNewFile(target, report.pdf, 0o600);
    err(`Rapport du ${periodFr(report.quarter)} : ${plural(report.indicators, 'indicateur')}.`);
    out(target);
  },

  async 'indicators export'(args) {
    const { values } = parse(args, { commune: { type: 'string' }, from: { type: 'string' }, to: { type: 'string' }, out: { type: 'string' }, as: { type: 'string' } }, { min: 0, max: 0, name: 'aucun' });
    const target = required(values, 'out');
    refuseExisting(target);
    const { exportCsv } = await import('../core/indicators/output.js');
    const result = await exportCsv(context(values), { as: str(values, 'as'), commune: str(values, 'commune'), from: str(values, 'from'), to: str(values, 'to') });
    writeNewFile(target, result.text, 0o600);
    err(`${plural(result.rows, 'chiffre exporté', 'chiffres exportés')}.`);
    out(target);
  },

  async 'indicators correct'(args) {
    const { values } = parse(args, {
      convention: { type: 'string' }, commune: { type: 'string' }, period: { type: 'string' }, indicator: { type: 'string' },
      value: { type: 'string' }, reason: { type: 'string' }, as: { type: 'string' },
    }, { min: 0, max: 0, name: 'aucun' });
    const valueText = required(values, 'value').replace(/[\s\u00a0\u202f]/g, '');
    if (!/^\d{1,12}$/.test(valueText)) throw inputError('bad-value', '--value attend un nombre entier positif ou nul de faits constatés.');
    const figure = await correctFigure(context(values), {
      as: str(values, 'as'), convention: required(values, 'convention'), commune: required(values, 'commune'), period: required(values, 'period'),
      indicator: required(values, 'indicator'), value: Number(valueText), reason: required(values, 'reason'),
    });
    out(`Corrigé : ${forTerminal(figure.commune)}, ${periodFr(figure.period)}, ${figure.indicator} = ${formatCount(figure.value)}.`);
  },

  async 'indicators mapping'(args) {
    const { values, positionals } = parse(args, { as: { type: 'string' } }, { min: 1, max: 1, name: 'FICHIER.json' });
    let text: string;
    refuseProfileFile(positionals[0]!, context(values).profile.home, 'read'); // its locks (own-files.ts)
    try {
      text = readFileSync(positionals[0]!, 'utf8');
    } catch {
      throw inputError('cannot-read', `Impossible de lire ${positionals[0]} : vérifiez le chemin.`);
    }
    const mapping = await setMapping(context(values), { as: str(values, 'as'), text });
    out(`Correspondance « ${forTerminal(mapping.name)} » enregistrée : ${plural(Object.keys(mapping.labels).length, 'indicateur')}.`);
  },
};
