// « Convention + période », one component (renderer/components/indicators/ConventionPeriod.tsx)
// in the import form and the correction form of the Indicateurs screen (the mapping editor's
// re-read is covered by indicators-edit.e2e): the same rule in each, the strictest of the three
// forms it replaced: both fields required, the period trimmed as typed, flagged invalid once typed
// wrong and never while empty, the fields in their form's order for the keyboard; and the import's
// button says why it waits, as the correction's does.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Locator } from 'playwright-core';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { startBridge, type Bridge } from './bridge.js';
import { openApp as openAppIn, RENDERER, SHOTS, h1, prepareRun, launchChromium, closeRun, observatory, signInToInbox } from './support.js';
import { importState } from '../../electron/core/indicators/store.js';
import { stopReading } from '../../electron/core/indicators/read.js';
import { istOf, istRows, toCsv } from '../unit/indicators-fixtures.js';

const PASS = 'les chiffres du conseil de sécurité';
let tmp: string;
let home: string;
let browser: Browser;
const bridges: Bridge[] = [];
const consoleErrors: string[] = [];

beforeAll(async () => {
  tmp = prepareRun('pli-e2e-indicators-cp-');
  home = path.join(tmp, 'observatoire');
  await observatory(home, PASS, { expect: ['IST'] }, async ({ ctx, convention }) => {
    const file = path.join(tmp, 'ist-2026-T4.csv');
    writeFileSync(file, toCsv(istRows(istOf(0, 7)), ';', 'utf-8'));
    expect((await importState(ctx, { convention, period: '2026-T4', commune: 'Saint-Laurent-Blangy', file })).recognised).toBe(true);
  });
  await stopReading();
  browser = await launchChromium();
}, 180_000);

afterAll(() => closeRun(browser, bridges, tmp));

/** The period field's rule, the same in every form. */
async function periodRule(period: Locator): Promise<void> {
  await expect(period.getAttribute('required')).resolves.not.toBeNull();
  await expect(period.getAttribute('placeholder')).resolves.toBe('2026-T4');
  await period.fill('2026-T5');
  await expect.poll(() => period.getAttribute('aria-invalid')).toBe('true');
  await period.fill(' 2026-S2 ');
  await expect.poll(() => period.inputValue()).toBe('2026-S2');
  await expect.poll(() => period.getAttribute('aria-invalid')).toBe('false');
  await period.fill('');
  await expect.poll(() => period.getAttribute('aria-invalid')).toBe('false');
}

const focused = (l: Locator): Promise<boolean> => l.evaluate((el) => el === (globalThis as unknown as { document: { activeElement: unknown } }).document.activeElement);

describe('Indicateurs: « convention + période » in each form', () => {
  it('the same labels, rule and keyboard order in the import and the correction; the import says why it waits', async () => {
    const bridge = await startBridge({ home, rendererDir: RENDERER });
    bridges.push(bridge);
    const page = await openAppIn(browser, bridge, consoleErrors);
    await signInToInbox(page, 'Nadia Observatoire', PASS);
    await page.getByRole('navigation').getByRole('button', { name: 'Indicateurs', exact: true }).click();
    await h1(page, 'Indicateurs');

    const importing = page.getByRole('form', { name: 'Importer un état reçu' });
    const conv = importing.getByLabel('Convention (obligatoire)', { exact: true });
    const period = importing.getByLabel('Période (2026-T4, 2026-S2, 2026-11 ou 2026) (obligatoire)', { exact: true });
    const button = importing.getByRole('button', { name: 'Choisir le fichier et l’importer' });
    await expect(conv.getAttribute('required')).resolves.not.toBeNull();
    await periodRule(period);
    // Why the button waits, beside it and tied to it (issue 15), in the order of the fields.
    await expect(button.isDisabled()).resolves.toBe(true);
    await expect.poll(async () => { const id = await button.getAttribute('aria-describedby'); return id ? page.locator(`[id="${id}"]`).innerText() : null; }).toBe('Choisissez la convention.');
    await conv.selectOption({ index: 1 });
    await expect.poll(() => importing.locator('.hint').innerText()).toBe('Indiquez la période, par exemple 2026-T4.');
    await period.fill('2027-T1');
    await expect.poll(() => button.isDisabled()).toBe(false);
    await expect(importing.locator('.hint').count()).resolves.toBe(0);
    // Keyboard: the convention, then the period, then the commune.
    await conv.focus();
    await page.keyboard.press('Tab');
    await expect(focused(period)).resolves.toBe(true);
    await page.keyboard.press('Tab');
    await expect(focused(importing.getByLabel(/^Commune \(si/))).resolves.toBe(true);

    const correction = page.locator('#correction');
    const cPeriod = correction.getByLabel('Période (2026-T4 ou 2026-11) (obligatoire)', { exact: true });
    const cConv = correction.getByLabel('Convention (obligatoire)', { exact: true });
    await expect(cConv.getAttribute('required')).resolves.not.toBeNull();
    // One convention on this profile: chosen already, as before.
    await expect.poll(() => cConv.evaluate((el) => (el as unknown as { selectedIndex: number }).selectedIndex)).toBe(1);
    await periodRule(cPeriod);
    // The correction keeps its order: convention, commune, then period.
    await cConv.focus();
    await page.keyboard.press('Tab');
    await expect(focused(correction.getByLabel('Commune', { exact: true }))).resolves.toBe(true);
    await page.keyboard.press('Tab');
    await expect(focused(cPeriod)).resolves.toBe(true);
    await correction.getByLabel('Commune', { exact: true }).fill('Saint-Laurent-Blangy');
    await expect.poll(() => correction.locator('.actions .hint').innerText()).toBe('Indiquez la période, par exemple 2026-T4.');

    await page.locator('form.import').screenshot({ path: path.join(SHOTS, 'indicators-convention-period-import.png') });
    expect(consoleErrors).toEqual([]);
  });
});
