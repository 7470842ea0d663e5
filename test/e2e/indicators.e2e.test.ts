// The "Indicateurs" screen through the real interface and the real core (issue 16): an observatory
// profile holding eight quarters of IS 101 and IST for two communes (seeded with the core, as the
// imports would have stored them) shows, for a commune, each indicator per quarter with both
// changes and the year to date in French format, a chart of the last eight quarters with its
// table beside it; filters by commune and indicator; a state imported by hand (and a file that is
// no state, "non reconnu"); the commune report saved where the dialog says; and a figure edited
// with the sqlite3 tool is named as changed outside Pli. Screenshots: test/artifacts/screens/.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { execFileSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { startBridge, type Bridge } from './bridge.js';
import { openApp as openAppIn, RENDERER, shot, h1, alertWith, prepareRun, launchChromium, closeRun, observatory, signInToInbox } from './support.js';
import { importState } from '../../electron/core/indicators/store.js';
import { COMMUNES, QUARTERS, is101Of, is101Rows, istOf, istRows, toCsv, toWorkbook } from '../unit/indicators-fixtures.js';

const PASS = 'les chiffres du conseil de sécurité';
let tmp: string;
let home: string;
let browser: Browser;
const bridges: Bridge[] = [];
const consoleErrors: string[] = [];
const openApp = (bridge: Bridge): Promise<Page> => openAppIn(browser, bridge, consoleErrors);

beforeAll(async () => {
  tmp = prepareRun('pli-e2e-indicators-');
  home = path.join(tmp, 'observatoire');
  await observatory(home, PASS, { expect: ['IS 101', 'IST'] }, async ({ ctx, convention }) => {
    for (const [c, commune] of COMMUNES.entries()) {
      for (const [q, period] of QUARTERS.entries()) {
        for (const [name, bytes] of [[`is101-${c}-${period}.xlsx`, toWorkbook(is101Rows(is101Of(c, q), commune), 'xlsx')], [`ist-${c}-${period}.csv`, toCsv(istRows(istOf(c, q)), ';', 'windows-1252')]] as const) {
          const file = path.join(tmp, name);
          writeFileSync(file, bytes);
          expect((await importState(ctx, { convention, period, commune, file, container: `pli-${c}-${q}` })).recognised).toBe(true);
        }
      }
    }
  });
  browser = await launchChromium();
}, 180_000);

afterAll(() => closeRun(browser, bridges, tmp));

describe('Indicateurs', () => {
  it('shows a commune per quarter with both changes, a chart and its table; imports; reports; names a tampered figure', async () => {
    const bridge = await startBridge({ home, rendererDir: RENDERER });
    bridges.push(bridge);
    const page = await openApp(bridge);
    await signInToInbox(page, 'Nadia Observatoire', PASS);
    await page.getByRole('button', { name: 'Indicateurs' }).click();
    await h1(page, 'Indicateurs');

    // Achicourt comes first (French order); choose Saint-Laurent-Blangy.
    // Scoped to their forms since e-indicators: the correction form has its own Commune, Indicateur, Convention, Période.
    const filters = page.getByRole('form', { name: 'Filtres des indicateurs' });
    const importing = page.getByRole('form', { name: 'Importer un état reçu' });
    await filters.getByLabel('Commune', { exact: true }).selectOption('Saint-Laurent-Blangy');
    const theft = page.getByTestId('table-is101.vols-sans-violence');
    await theft.getByRole('row', { name: /4e trimestre 2026/ }).waitFor();
    const t4 = theft.getByRole('row', { name: /4e trimestre 2026/ });
    // 1 259 recorded; +37 (+3,0 %) over a quarter; +148 (+13,3 %) over a year; 4 814 year to date.
    // (« Corriger »: the row's correction button, since e-indicators.)
    // Polled: Achicourt's table has a row of that quarter too (1 359), shown until the new
    // commune's figures arrive (a CI run read it once).
    await expect.poll(() => t4.textContent()).toBe('4e trimestre 20261\u202f259+37 (+3,0\u00a0%)+148 (+13,3\u00a0%)4\u202f814Corriger');
    expect(await theft.getByRole('row').count()).toBe(1 + 8);
    await expect(page.getByTestId('chart-is101.vols-sans-violence').locator('canvas').getAttribute('aria-hidden')).resolves.toBe('true');
    await shot(page, 'indicators-commune');

    await filters.getByLabel('Indicateur', { exact: true }).selectOption('ist.biens');
    expect(await page.locator('section.indicator').count()).toBe(1);
    await page.getByTestId('table-ist.biens').getByRole('row', { name: /4e trimestre 2026/ }).waitFor();
    await shot(page, 'indicators-filtered');

    // A state imported by hand for the next quarter, and a file that is no state.
    const next = path.join(tmp, 'ist-2027-T1.csv');
    writeFileSync(next, toCsv(istRows({ integrite: 1300, biens: 3600, ordre: 80 }), ',', 'utf-8'));
    await importing.getByLabel('Convention').selectOption({ index: 1 });
    await importing.getByLabel(/^Période/).fill('2027-T1');
    await importing.getByLabel(/^Commune \(si/).fill('Saint-Laurent-Blangy');
    bridge.dialogAnswers.push(next);
    await page.getByRole('button', { name: 'Choisir le fichier et l’importer' }).click();
    await page.getByRole('status').filter({ hasText: 'ist-2027-T1.csv\u00a0: 3 chiffres enregistrés (Saint-Laurent-Blangy).' }).waitFor();
    await page.getByTestId('table-ist.biens').getByRole('row', { name: /1er trimestre 2027/ }).waitFor();
    const note = path.join(tmp, 'compte-rendu.csv');
    writeFileSync(note, 'Ordre du jour;CLSPD\n');
    bridge.dialogAnswers.push(note);
    await page.getByRole('button', { name: 'Choisir le fichier et l’importer' }).click();
    await page.getByRole('status').filter({ hasText: /compte-rendu\.csv\u00a0: non reconnu/ }).waitFor();
    await shot(page, 'indicators-imported');

    // The commune's report, saved where the dialog says.
    const report = path.join(tmp, 'rapport-slb.pdf');
    await page.getByLabel(/^Jusqu’à la période/).fill('2026-T4');
    bridge.dialogAnswers.push(report);
    await page.getByRole('button', { name: 'Rapport de la commune (PDF)' }).click();
    await page.getByRole('status').filter({ hasText: 'Rapport du 4e trimestre 2026 enregistré' }).waitFor();
    expect(existsSync(report)).toBe(true);
    const text = execFileSync('pdftotext', ['-layout', report, '-'], { encoding: 'utf8' });
    expect(text).toContain('Saint-Laurent-Blangy');
    expect(text).not.toContain('Achicourt');

    // The attacker edits a figure with the sqlite3 tool: named as changed, left out.
    execFileSync('sqlite3', [path.join(home, 'profile.sqlite'), "UPDATE indicator_figures SET value = 1 WHERE commune = 'Saint-Laurent-Blangy' AND period = '2026-T3' AND indicator = 'ist.biens'"]);
    await page.getByLabel(/^Jusqu’à la période/).fill('');
    await page.getByLabel(/^Depuis la période/).fill('2026-T1');
    await alertWith(page, 'Chiffre modifié en dehors de Pli (3e trimestre 2026)');
    expect(await page.getByTestId('table-ist.biens').getByRole('row', { name: /3e trimestre 2026/ }).count()).toBe(0);
    await shot(page, 'indicators-tampered');
    expect(consoleErrors).toEqual([]);
  }, 240_000);
});
