// `pli indicators` through the real binary (issue 16, docs/indicators.md): an observatory profile
// (here the officer's, which holds the convention it signed) imports IST states of two communes
// side by side and an IS 101 state, lists the figures per quarter in French format, writes the
// report of one commune (pdftotext finds its numbers and not the other commune's), the
// agglomeration report (names no commune) and the CSV export. A file that is no state is "non
// reconnu" (exit 0, nothing stored). Then the attacker of docs/profile.md edits a figure with
// better-sqlite3: it is shown as modified, and no report is made from it (exit 2).
// Needs `npm run build`.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { cliSandbox, conventionSetUp } from './support.js';
import { is101Rows, toCsv, toWorkbook } from '../unit/indicators-fixtures.js';

const PASS = 'une phrase de passe de test';
const cli = cliSandbox('pli-indicators-cli-', PASS);
const { root, at, pli, ok, refused } = cli;
afterAll(() => rmSync(root, { recursive: true, force: true }));
let convention = '';
const THIN = '\u202f';

const istTwo = (slb: [number, number, number], ach: [number, number, number]) => [
  ['IST — circonscription de police nationale d’Arras'],
  ['Famille', 'Saint-Laurent-Blangy', 'Achicourt', 'Total'],
  ["Atteintes à l'intégrité physique", slb[0], ach[0], slb[0] + ach[0]],
  ['Atteintes aux biens', slb[1], ach[1], slb[1] + ach[1]],
  ['Atteintes à la paix et à la santé publiques', slb[2], ach[2], slb[2] + ach[2]],
];
// pdftotext gives the thin and no-break spaces (U+202F, U+00A0) back as plain spaces.
const pdfText = (file: string): string => execFileSync('pdftotext', ['-layout', file, '-'], { encoding: 'utf8' }).replace(/[\u00a0\u202f]/g, ' ');

beforeAll(async () => {
  const setUp = conventionSetUp(cli, PASS);
  await setUp.start([], 'Observatoire de la CU');
  for (const [key, name, org] of [['cpn', 'Paul Lefebvre', "CPN d'Arras"], ['cu', 'Claire Dumont', "Communauté urbaine d'Arras"]] as const) {
    await setUp.certify(key, name, org, 'operator', 'x@exemple.fr');
  }
  convention = await ok('O', ['convention', 'new', '--title', 'Observatoire', '--party', "CPN d'Arras=cpn@interieur.gouv.fr", '--party', "Communauté urbaine d'Arras=obs@cu-arras.fr",
    '--types', 'csv,xlsx,ods,xls', '--schedule', 'quarterly:8', '--expect', 'IST', '--start', '2025-01-01', '--years', '3']);
  writeFileSync(at('ist-2025-T4.xlsx'), toWorkbook(istTwo([90, 1000, 40], [30, 500, 10]), 'xlsx'));
  writeFileSync(at('ist-2026-T3.ods'), toWorkbook(istTwo([100, 1150, 45], [33, 520, 12]), 'ods'));
  writeFileSync(at('ist-2026-T4.csv'), toCsv(istTwo([112, 1234, 47], [31, 498, 15]), ';', 'windows-1252'));
  for (const period of ['2025-T4', '2026-T3', '2026-T4']) {
    const file = readdirOf(period);
    expect(await ok('O', ['indicators', 'import', file, '--convention', convention, '--period', period])).toMatch(/^ind-[0-9a-f]{16}$/);
  }
}, 180_000);
const readdirOf = (period: string) => [at(`ist-${period}.xlsx`), at(`ist-${period}.ods`), at(`ist-${period}.csv`)].find((f) => existsSync(f))!;

describe('pli indicators', () => {
  it('lists each commune per quarter: value, both changes, year to date, in French format', async () => {
    const run = await pli('O', ['indicators', '--commune', 'Saint-Laurent-Blangy']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain(`2026-T4    1${THIN}234  sur un trimestre : +84 (+7,3\u00a0%)  sur un an : +234 (+23,4\u00a0%)  cumul 2026 : 2${THIN}384 (partiel)`);
    expect(run.stdout).not.toContain('Achicourt');
    const json = JSON.parse((await pli('O', ['indicators', '--json', '--from', '2026-T1'])).stdout) as { communes: { commune: string; indicators: { indicator: string; quarters: { quarter: string; value: number }[] }[] }[]; figures: { state: string }[]; checked: boolean };
    expect(json.checked).toBe(true);
    expect(json.communes.map((c) => c.commune)).toEqual(['Achicourt', 'Saint-Laurent-Blangy']);
    expect(json.communes[0]!.indicators.find((i) => i.indicator === 'ist.biens')!.quarters).toEqual([
      expect.objectContaining({ quarter: '2026-T3', value: 520 }), expect.objectContaining({ quarter: '2026-T4', value: 498 }),
    ]);
    expect(json.figures).toHaveLength(2 * 2 * 3);
    expect(new Set(json.figures.map((f) => f.state))).toEqual(new Set(['ok']));
  });

  it('a file that is no state is "non reconnu": exit 0, nothing stored; bad input is refused (exit 1)', async () => {
    writeFileSync(at('compte-rendu.csv'), 'Ordre du jour;Réunion du CLSPD\n');
    const run = await pli('O', ['indicators', 'import', at('compte-rendu.csv'), '--convention', convention, '--period', '2026-T4', '--commune', 'Achicourt']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout.trim()).toBe('non reconnu');
    expect(run.stderr).toMatch(/Non reconnu : aucun libellé/);
    writeFileSync(at('is101.csv'), toCsv(is101Rows({ homicides: 1, armes: 0, violents: 3, sansViolence: 40, coups: 9, cambriolages: 7, vehicules: 2, dans: 5, accessoires: 1 }), ',', 'utf-8'));
    await refused(1, 'O', ['indicators', 'import', at('is101.csv'), '--convention', convention, '--period', '2026-T4'], /ne nomme pas sa commune.*option --commune/);
    await refused(1, 'O', ['indicators', 'import', at('is101.csv'), '--convention', convention, '--period', '2026-T5', '--commune', 'Achicourt'], /Période .*2026-T5/);
    await refused(1, 'O', ['indicators', 'import', at('is101.csv'), '--convention', 'conv-0000000000000000', '--period', '2026-T4', '--commune', 'Achicourt'], /Convention inconnue/);
    const json = JSON.parse((await pli('O', ['indicators', '--json'])).stdout) as { figures: unknown[] };
    expect(json.figures).toHaveLength(2 * 3 * 3);
  });

  it('the report of a commune holds its numbers (pdftotext) and not the other commune', async () => {
    await ok('O', ['indicators', 'report', '--commune', 'Saint-Laurent-Blangy', '--period', '2026-T4', '--out', at('slb.pdf')]);
    const text = pdfText(at('slb.pdf'));
    expect(text).toContain('Indicateurs de la délinquance — Saint-Laurent-Blangy');
    expect(text).toContain('4e trimestre 2026');
    expect(text).toMatch(/Atteintes aux biens\s+1 234\s+\+84 \(\+7,3 %\)\s+\+234 \(\+23,4 %\)\s+2 384/);
    expect(text).toMatch(/Atteintes à l'intégrité physique\s+112\s+\+12 \(\+12,0 %\)\s+\+22 \(\+24,4 %\)/);
    expect(text).toContain('ist-2026-T4.csv');
    // Signed by whom, for every source: a file imported by hand names who imported it, and when.
    expect(text).toMatch(/4e trimestre 2026 : ist-2026-T4\.csv · importé à la main le \d\d\/\d\d\/\d{4} par Olivier Ssi/);
    expect(text).not.toMatch(/Achicourt|498|520/);
    // Made by the shared PDF module (electron/core/pdf/), from the CLI bundle: its page numbers,
    // and only DejaVu Sans, embedded, found from dist/cli/.
    expect(text).toMatch(/page 1 sur \d/);
    const fonts = execFileSync('pdffonts', [at('slb.pdf')], { encoding: 'utf8' }).trim().split('\n').slice(2);
    expect(fonts.length).toBeGreaterThan(0);
    for (const line of fonts) expect(line).toMatch(/DejaVuSans\S*\s+CID TrueType\s+Identity-H\s+yes\s+yes\s+yes/);
    await refused(1, 'O', ['indicators', 'report', '--commune', 'Saint-Laurent-Blangy', '--period', '2026-T4', '--out', at('slb.pdf')], /existe déjà/);
  });

  it('the agglomeration report sums the communes and names none', async () => {
    await ok('O', ['indicators', 'report', '--agglomeration', '--period', '2026-T4', '--out', at('agglo.pdf')]);
    const text = pdfText(at('agglo.pdf'));
    expect(text).toMatch(/Atteintes aux biens\s+1 732\s+\+62 \(\+3,7 %\)\s+\+232 \(\+15,5 %\)/);
    expect(text).not.toMatch(/Blangy|Achicourt|ist-20/);
    expect(text).toContain('partenaire');
  });

  it('the CSV export: UTF-8 with BOM, ; separated, one line per figure', async () => {
    await ok('O', ['indicators', 'export', '--commune', 'Achicourt', '--out', at('achicourt.csv')]);
    const text = readFileSync(at('achicourt.csv'), 'utf8');
    expect(text.startsWith('\ufeffconvention;commune;periode;indicateur;libelle;valeur;pli_source;fichier_source;etat\r\n')).toBe(true);
    expect(text).toContain(`${convention};Achicourt;2026-T4;ist.biens;Atteintes aux biens;498;;ist-2026-T4.csv;vérifié\r\n`);
    expect(text.trim().split('\r\n')).toHaveLength(1 + 3 * 3);
  });

  it('the attacker edits a figure with better-sqlite3: shown as modified, no report nor export made from it', async () => {
    cpSync(at('O'), at('X'), { recursive: true });
    const db = new Database(path.join(at('X'), 'profile.sqlite'));
    db.prepare("UPDATE indicator_figures SET value = 900 WHERE commune = 'Achicourt' AND period = '2026-T4' AND indicator = 'ist.biens'").run();
    db.close();
    const run = await pli('X', ['indicators', '--commune', 'Achicourt']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('2026-T4  modifié hors de Pli : chiffre écarté');
    expect(run.stdout).not.toContain('900');
    expect(run.stderr).toMatch(/1 chiffre modifié en dehors de Pli, écarté des évolutions/);
    await refused(2, 'X', ['indicators', 'report', '--commune', 'Achicourt', '--period', '2026-T4', '--out', at('x.pdf')], /modifiés ou supprimés en dehors de Pli/);
    expect(existsSync(at('x.pdf'))).toBe(false);
    await refused(2, 'X', ['indicators', 'export', '--out', at('x.csv')], /modifiés ou supprimés/);
    expect(existsSync(at('x.csv'))).toBe(false);
  });
});
