// Issue 16's interface in the real screen over the real core: a figure corrected with the form
// (audited; the table then shows « corrigé le … par … (motif) » and the value it replaced); the
// sources of the figures with who signed each container (recorded at import) or who imported the
// file by hand; the mapping editor on a state « non reconnu »: its labels as read, each indicator
// tied with the keyboard, a preview, the mapping saved, the file read again. Screenshots of the
// chart, the correction form and the mapping editor at 1280×800 and 1024×768; WCAG AA contrast
// (axe-core) and the leak rules of words.e2e on what is shown.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { startBridge, type Bridge } from './bridge.js';
import { openApp as openAppIn, RENDERER, SHOTS, h1, prepareRun, launchChromium, closeRun, observatory, signInToInbox, contrast } from './support.js';
import { listEvents } from '../../electron/core/profile/events.js';
import { importState } from '../../electron/core/indicators/store.js';
import { stopReading } from '../../electron/core/indicators/read.js';
import { audit } from '../../electron/core/context.js';
import { QUARTERS, istOf, istRows, toCsv } from '../unit/indicators-fixtures.js';

const PASS = 'les chiffres du conseil de sécurité';
const CONTAINER = '5e1f0a9b3c7d2e4f6a8b0c1d2e3f4a5b';
const SIZES = [{ width: 1280, height: 800 }, { width: 1024, height: 768 }];
let tmp: string;
let home: string;
let browser: Browser;
const bridges: Bridge[] = [];
const consoleErrors: string[] = [];

/** The leak rules of words.e2e (issue 15): no command line, flag, temporary path, system code, long hex. */
function leaks(text: string): string[] {
  const rules: [string, RegExp][] = [
    ['command line', /\bpli (id|init|indicators|mailbox|audit|directory|open|receive|send)\b/i], ['--flag', /(^|[\s(«"'])--[a-z][a-z-]*/m],
    ['system error code', /\b(ECONNREFUSED|ENOENT|EACCES|EPERM|EEXIST|ELOOP)\b/], ['bare hex longer than 12', /\b[0-9a-f]{13,}\b/i],
  ];
  return [...rules.filter(([, re]) => re.test(text)).map(([name, re]) => `${name}: ${re.exec(text)![0]}`), ...[tmp, '/tmp/'].filter((t) => text.includes(t)).map((t) => `path ${t}`)];
}

/** Both sizes: a full-page screenshot, the leak rules, the contrast. */
async function check(page: Page, name: string): Promise<void> {
  for (const size of SIZES) {
    await page.setViewportSize(size);
    await page.screenshot({ path: path.join(SHOTS, `${name}-${size.width}x${size.height}.png`), fullPage: true });
    expect(leaks(await page.locator('body').innerText()), `${name} at ${size.width}×${size.height}`).toEqual([]);
  }
  await contrast(page, name);
  await page.setViewportSize(SIZES[0]!);
}

beforeAll(async () => {
  tmp = prepareRun('pli-e2e-indicators-edit-');
  home = path.join(tmp, 'observatoire');
  await observatory(home, PASS, { expect: ['IST'] }, async ({ ctx, actor, convention, paul }) => {
    for (const [q, period] of QUARTERS.entries()) {
      const file = path.join(tmp, `ist-${period}.csv`);
      writeFileSync(file, toCsv(istRows(istOf(0, q)), ';', 'utf-8'));
      // The last quarter came in a container opened on this workstation (its sender recorded then).
      const last = q === QUARTERS.length - 1;
      if (last) audit(ctx, { actor, action: 'container.opened', object: CONTAINER, detail: { sender: paul.id, files: 1 } });
      expect((await importState(ctx, { convention, period, commune: 'Saint-Laurent-Blangy', file, container: last ? CONTAINER : null })).recognised).toBe(true);
    }
  });
  await stopReading();
  browser = await launchChromium();
}, 180_000);

afterAll(() => closeRun(browser, bridges, tmp));

describe('Indicateurs: correction, sources, mapping editor', () => {
  it('corrects a figure, lists who signed each source, maps a state not recognised and reads it again', async () => {
    const bridge = await startBridge({ home, rendererDir: RENDERER });
    bridges.push(bridge);
    const page = await openAppIn(browser, bridge, consoleErrors);
    await signInToInbox(page, 'Nadia Observatoire', PASS);
    await page.getByRole('navigation').getByRole('button', { name: 'Indicateurs', exact: true }).click();
    await h1(page, 'Indicateurs');
    const biens = page.getByTestId('table-ist.biens');
    await biens.getByRole('row', { name: /4e trimestre 2026/ }).waitFor();

    // Sources: the container's signer, recorded at import; the files imported by hand, by whom.
    const sources = page.getByTestId('indicator-sources');
    await sources.getByText(/ist-2026-T4\.csv, pli 5e1f\u00a00a9b\u00a03c7d… reçu le .+, signé par Paul Lefebvre/).waitFor();
    await sources.getByText(/ist-2026-T3\.csv, importé à la main le .+ par Nadia Observatoire/).waitFor();

    // A correction: « Corriger » on the row fills the form; the button says why it waits.
    await biens.getByRole('button', { name: 'Corriger Atteintes aux biens, 4e trimestre 2026' }).click();
    const form = page.getByRole('form', { name: 'Corriger un chiffre' });
    await expect.poll(() => form.getByLabel('Période (2026-T4 ou 2026-11)').inputValue()).toBe('2026-T4');
    await expect(form.getByLabel('Nouvelle valeur (faits constatés)').evaluate((el) => el === (globalThis as unknown as { document: { activeElement: unknown } }).document.activeElement)).resolves.toBe(true);
    await page.keyboard.type('3 500');
    await form.getByText('Indiquez le motif de la correction.').waitFor();
    expect(await form.getByRole('button', { name: 'Enregistrer la correction' }).isDisabled()).toBe(true);
    await form.getByLabel('Motif de la correction (obligatoire)').fill('doublon signalé par le CPN');
    await form.getByRole('button', { name: 'Enregistrer la correction' }).click();
    await form.getByRole('status').filter({ hasText: 'Atteintes aux biens, 4e trimestre 2026, Saint-Laurent-Blangy\u00a0: corrigé à 3\u202f500.' }).waitFor();
    const row = biens.getByRole('row', { name: /4e trimestre 2026/ });
    const note = biens.getByTestId('correction-ist.biens-2026-T4');
    await note.getByText(/corrigé le \d{1,2} \S+ \d{4} par Nadia Observatoire \(doublon signalé par le CPN\)/).waitFor();
    const original = istOf(0, 7).biens;
    await expect(note.textContent()).resolves.toContain(`\u00a0; valeur d’origine\u00a0: ${String(original).replace(/\B(?=(\d{3})+(?!\d))/g, '\u202f')}`);
    await expect(row.textContent()).resolves.toMatch(/^4e trimestre 20263\u202f500/);
    await sources.getByText(/chiffre corrigé le .+ par Nadia Observatoire \(motif\u00a0: doublon signalé par le CPN\)/).waitFor();
    await check(page, 'indicators-edit-corrected');

    // A state not recognised: the editor opens on it, with its labels as read.
    const odd = path.join(tmp, 'tableau-cpn.csv');
    writeFileSync(odd, toCsv([['Tableau du CPN'], ['Rubrique', 'Saint-Laurent-Blangy'], ['Rixes sur la voie publique', 1301], ['Dégradations de biens', 3611], ['Troubles à la tranquillité', 81]], ';', 'windows-1252'));
    await page.getByLabel('Convention (obligatoire)', { exact: true }).first().selectOption({ index: 1 });
    await page.getByLabel(/^Période \(2026-T4, 2026-S2/).first().fill('2027-T1');
    await page.getByLabel(/^Commune \(si/).first().fill('Saint-Laurent-Blangy');
    bridge.dialogAnswers.push(odd);
    await page.getByRole('button', { name: 'Choisir le fichier et l’importer' }).click();
    await page.getByRole('status').filter({ hasText: /tableau-cpn\.csv\u00a0: non reconnu/ }).waitFor();
    const editor = page.getByTestId('mapping-editor');
    await editor.getByRole('status').filter({ hasText: 'tableau-cpn.csv\u00a0: 3 libellés de lignes et 1 en-têtes de colonnes lus.' }).waitFor();
    await editor.getByText('Reliez au moins un indicateur à une ligne ou une colonne.').first().waitFor();

    // Keyboard only: focus the first indicator's list, move down to a label, Tab to the next.
    const integrite = editor.getByLabel(/^Atteintes à l.intégrité physique$/);
    await integrite.focus();
    await page.keyboard.press('ArrowDown');
    await expect.poll(() => integrite.inputValue()).toBe('Rixes sur la voie publique');
    await page.keyboard.press('Tab');
    await expect(editor.getByLabel('Atteintes aux biens').evaluate((el) => el === (globalThis as unknown as { document: { activeElement: unknown } }).document.activeElement)).resolves.toBe(true);
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('ArrowDown');
    await expect.poll(() => editor.getByLabel('Atteintes aux biens').inputValue()).toBe('Dégradations de biens');
    await editor.getByLabel('Atteintes à la paix et à la santé publiques').selectOption('Troubles à la tranquillité');
    await editor.getByRole('button', { name: 'Voir l’aperçu des chiffres' }).click();
    const preview = editor.getByTestId('mapping-preview');
    const biensPreview = preview.getByRole('row').filter({ hasText: 'Atteintes aux biens' });
    await biensPreview.waitFor();
    await expect(biensPreview.textContent()).resolves.toBe('Atteintes aux biensSaint-Laurent-Blangy3\u202f611');
    expect(await preview.getByRole('row').count()).toBe(1 + 3);
    await check(page, 'indicators-edit-mapping');

    await editor.getByLabel(/^Nom de la correspondance/).fill('CPN d’Arras — tableau');
    await editor.getByRole('button', { name: 'Enregistrer la correspondance' }).click();
    await editor.getByRole('status').filter({ hasText: 'Correspondance «\u00a0CPN d’Arras — tableau\u00a0» enregistrée\u00a0: 3 indicateurs.' }).waitFor();
    await editor.getByRole('button', { name: 'Relire le fichier avec cette correspondance' }).click();
    await editor.getByRole('status').filter({ hasText: 'tableau-cpn.csv\u00a0: 3 chiffres enregistrés (Saint-Laurent-Blangy).' }).waitFor();
    await biens.getByRole('row', { name: /1er trimestre 2027/ }).waitFor();
    await expect(biens.getByRole('row', { name: /1er trimestre 2027/ }).textContent()).resolves.toMatch(/^1er trimestre 20273\u202f611/);

    // The audit log names each step; the correction's reason is there, its value is not.
    const db = new Database(path.join(home, 'profile.sqlite'), { readonly: true });
    try {
      const events = listEvents(db as never).filter((e) => e.action.startsWith('indicators.'));
      const corrected = events.find((e) => e.action === 'indicators.corrected')!;
      expect(JSON.parse(corrected.detail!)).toMatchObject({ reason: 'doublon signalé par le CPN', by: 'Nadia Observatoire', period: '2026-T4', indicator: 'ist.biens' });
      expect(corrected.detail).not.toContain('3500');
      expect(events.some((e) => e.action === 'indicators.mapping-set' && e.object === 'CPN d’Arras — tableau')).toBe(true);
      expect(events.filter((e) => e.action === 'indicators.imported' && JSON.parse(e.detail!).file === 'tableau-cpn.csv').map((e) => JSON.parse(e.detail!).recognised)).toEqual([false, true]);
    } finally {
      db.close();
    }
    await page.getByRole('heading', { level: 1 }).scrollIntoViewIfNeeded();
    await check(page, 'indicators-edit-reread');
    expect(consoleErrors).toEqual([]);
  }, 240_000);
});
