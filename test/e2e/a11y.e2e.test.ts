// Accessibility audit (RGAA 4.1, WCAG 2.1 AA), the fixes the other files do not show:
//   - Indicateurs' period filters (RGAA 11.10): the format in the label; a period it cannot read is
//     said beside the field, tied to it (aria-describedby) and announced (role=alert), once the
//     field is left, not at each key; a readable period takes it away;
//   - Indicateurs' headings (RGAA 9.1): no level skipped, the indicators' h3 under an h2;
//   - Paramètres' language (RGAA 7.4): browsing the list with the arrow keys changes nothing, the
//     button « Appliquer la langue » does.
// The reflow at 640 and 320 px is in layout.e2e.test.ts. Screenshots: test/artifacts/screens/a11y-*.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import path from 'node:path';
import { startBridge, type Bridge } from './bridge.js';
import { RENDERER, SHOTS, prepareRun, launchChromium, closeRun, observatoryWithFigures, openApp, signInToInbox, h1, nav } from './support.js';

const PASS = 'des chiffres lisibles par tous';
const NBSP = '\u00a0';
let tmp: string;
let browser: Browser;
let page: Page;
const bridges: Bridge[] = [];
const consoleErrors: string[] = [];

beforeAll(async () => {
  tmp = prepareRun('pli-e2e-a11y-');
  const home = path.join(tmp, 'observatoire');
  // Three quarters of one commune: the twelve indicators, each with its chart and table.
  await observatoryWithFigures(home, PASS, tmp);
  browser = await launchChromium();
  const bridge = await startBridge({ home, rendererDir: RENDERER });
  bridges.push(bridge);
  page = await openApp(browser, bridge, consoleErrors);
  await signInToInbox(page, 'Nadia Observatoire', PASS);
}, 180_000);

afterAll(() => closeRun(browser, bridges, tmp));

/** The screen's headings in order, as « h<level> text ». */
const headings = (p: Page) => p.evaluate(() => {
  // Runs in the page (DOM types are not this file's).
  const d = (globalThis as unknown as { document: { querySelectorAll(s: string): { tagName: string; textContent: string | null }[] } }).document;
  return [...d.querySelectorAll('main h1, main h2, main h3, main h4, main h5, main h6')].map((h) => `${h.tagName.toLowerCase()} ${(h.textContent ?? '').trim()}`);
});

describe('Indicateurs', () => {
  it('has headings in order: the indicators under an h2 of their own', async () => {
    await nav(page, 'Indicateurs');
    await h1(page, 'Indicateurs');
    await page.locator('section.indicator').first().waitFor();
    const list = await headings(page);
    expect(list.filter((h) => h.startsWith('h3'))).toHaveLength(12);
    // No level skipped: each heading at most one level below the one before it.
    list.reduce((before, h) => {
      const level = Number(h[1]);
      expect(level, `« ${h} » after an h${before} (${list.join(' / ')})`).toBeLessThanOrEqual(before + 1);
      return level;
    }, 0);
    expect(list.indexOf('h2 Chiffres de la commune')).toBe(1);
  });

  it('says why a period filter is not read, tied to its field and announced; the format is in the label', async () => {
    const filters = page.getByRole('form', { name: 'Filtres des indicateurs' });
    const from = filters.getByLabel('Depuis la période (2025-T1, 2025-S1, 2025-01 ou 2025)', { exact: true });
    await filters.getByLabel('Jusqu’à la période (2026-T4, 2026-S2, 2026-12 ou 2026)', { exact: true }).waitFor();
    const error = `Période non reconnue${NBSP}: écrivez-la comme 2026-T1 (trimestre), 2026-S1 (semestre), 2026-01 (mois) ou 2026 (année). Ce filtre n’est pas appliqué.`;
    // While the period is typed, nothing is said yet.
    await from.fill('T1 2');
    expect(await page.getByRole('alert').filter({ hasText: 'Période non reconnue' }).count()).toBe(0);
    await from.fill('T1 2025');
    await from.press('Tab');
    const alert = page.getByRole('alert').filter({ hasText: 'Période non reconnue' });
    await alert.waitFor({ timeout: 5000 });
    expect(await alert.textContent()).toBe(error);
    expect(await from.getAttribute('aria-invalid')).toBe('true');
    // The field's description is the error (what a screen reader reads with the field).
    await expect.poll(() => from.evaluate((el) => {
      const e = el as unknown as { getAttribute(n: string): string | null; ownerDocument: { getElementById(id: string): { textContent: string | null } | null } };
      return e.ownerDocument.getElementById(e.getAttribute('aria-describedby') ?? '')?.textContent ?? null;
    })).toBe(error);
    await filters.screenshot({ path: path.join(SHOTS, 'a11y-indicators-period-error.png') });
    // Still wrong after a key typed in the field: still said.
    await from.focus();
    await from.press('End');
    await from.press('x');
    expect(await alert.count()).toBe(1);
    // A readable period: the error goes, the field is valid, the list follows the filter.
    await from.fill('2025-T2');
    await alert.waitFor({ state: 'detached' });
    expect(await from.getAttribute('aria-invalid')).toBe('false');
    expect(await from.getAttribute('aria-describedby')).toBeNull();
    await expect.poll(() => page.getByTestId('table-ist.biens').getByRole('row').count()).toBe(1 + 2);
    // Entrée says it too.
    await from.fill('2025-T5');
    await from.press('Enter');
    await alert.waitFor();
    await from.fill('');
    await alert.waitFor({ state: 'detached' });
  });
});

describe('Paramètres', () => {
  it('browsing the languages with the arrow keys changes nothing; « Appliquer la langue » does', async () => {
    await nav(page, 'Paramètres');
    await h1(page, 'Paramètres');
    const language = page.getByLabel('Langue de l’interface');
    await language.focus();
    await page.keyboard.press('ArrowDown');
    // Nothing applied (given the time a switch takes): still French, the page's language too.
    await page.waitForTimeout(500);
    expect(await page.getByRole('heading', { level: 1, name: 'Settings' }).count(), 'switched to English by an arrow key').toBe(0);
    await h1(page, 'Paramètres');
    expect(await page.getAttribute('html', 'lang')).toBe('fr');
    expect(await language.inputValue()).toBe('en');
    // The options are each in their own language (RGAA 8.7).
    expect(await language.locator('option[value="en"]').getAttribute('lang')).toBe('en');
    await page.getByRole('button', { name: 'Appliquer la langue' }).click();
    await h1(page, 'Settings');
    await page.getByRole('status').filter({ hasText: 'Settings saved.' }).waitFor();
    await page.getByLabel('Interface language').selectOption('fr');
    await page.waitForTimeout(300);
    await h1(page, 'Settings');
    await page.getByRole('button', { name: 'Apply the language' }).click();
    await h1(page, 'Paramètres');
    expect(consoleErrors).toEqual([]);
  });
});
