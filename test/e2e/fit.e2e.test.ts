// Issue 15 (fit): every screen reachable from the navigation bar fits a 1024×768 window — no
// horizontal scroll bar, every nav entry inside the window, every button of the screen within
// its width — as a person and as the SSI officer (whose bar has one entry more).
// Screenshots test/artifacts/screens/fit-<who>-<screen>-1024.png.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import path from 'node:path';
import { startBridge, type Bridge } from './bridge.js';
import { openApp, RENDERER, SHOTS, h1, prepareRun, launchChromium, closeRun } from './support.js';

const PASS = 'trois mairies et un commissariat';
const WIDTH = 1024;
const HEIGHT = 768;

let tmp: string;
let browser: Browser;
const bridges: Bridge[] = [];
const consoleErrors: string[] = [];

beforeAll(async () => {
  tmp = prepareRun('pli-fit-');
  browser = await launchChromium();
});

afterAll(() => closeRun(browser, bridges, tmp));

/** First run through the interface: a person, or the officer who also creates the authority. */
async function signUp(page: Page, officer: boolean): Promise<void> {
  await h1(page, 'Bienvenue dans Pli');
  await page.getByRole('button', { name: 'Créer le profil de ce poste' }).click();
  await page.getByText('Profil prêt.').waitFor();
  if (officer) {
    await page.getByRole('radio', { name: /est celui de l’officier SSI/ }).check();
    await page.getByLabel('Nom de l’autorité').fill('SSI DIPN 54');
  }
  await page.getByLabel('Nom et prénom').fill(officer ? 'Sophie Marchal' : 'Claire Petit');
  await page.getByLabel('Adresse électronique').fill(officer ? 'ssi.dipn54@interieur.gouv.fr' : 'mairie@vandoeuvre.fr');
  await page.getByLabel('Organisation').fill(officer ? 'DIPN 54 — SSI' : 'Mairie de Vandœuvre-lès-Nancy');
  await page.getByLabel('Phrase de passe (obligatoire)', { exact: true }).fill(PASS);
  await page.getByLabel('Confirmez la phrase de passe').fill(PASS);
  if (officer) {
    await page.getByRole('button', { name: 'Créer mon identité et l’autorité' }).click();
    await h1(page, 'Autorité SSI créée');
    await page.getByRole('button', { name: 'Continuer' }).click();
  } else {
    await page.getByRole('button', { name: 'Créer mon identité' }).click();
  }
  await h1(page, 'Plis reçus');
}

/** What overflows the window on the screen as shown (measured in the page, scrolled to the top). */
async function measure(page: Page): Promise<{ scrollWidth: number; navOut: string[]; buttonsOut: string[] }> {
  await page.evaluate(() => (globalThis as unknown as { scrollTo(x: number, y: number): void }).scrollTo(0, 0));
  return page.evaluate(({ width, height }) => {
    type Box = { left: number; right: number; top: number; bottom: number; width: number; height: number };
    type El = { textContent: string | null; getBoundingClientRect(): Box };
    const d = (globalThis as unknown as { document: { documentElement: { scrollWidth: number }; querySelectorAll(s: string): El[] } }).document;
    const label = (e: El) => (e.textContent ?? '').trim();
    const visible = (b: Box) => b.width > 0 && b.height > 0;
    const navOut = [...d.querySelectorAll('nav button')]
      .filter((e) => { const b = e.getBoundingClientRect(); return !(b.left >= 0 && b.right <= width && b.top >= 0 && b.bottom <= height); })
      .map(label);
    // The screen's actions: reachable without scrolling sideways.
    const buttonsOut = [...d.querySelectorAll('main button, header button')]
      .filter((e) => { const b = e.getBoundingClientRect(); return visible(b) && (b.left < 0 || b.right > width); })
      .map(label);
    return { scrollWidth: d.documentElement.scrollWidth, navOut, buttonsOut };
  }, { width: WIDTH, height: HEIGHT });
}

/** Visits every nav entry at 1024×768 and checks that it fits. Returns the entries visited. */
async function walk(page: Page, who: string): Promise<string[]> {
  await page.setViewportSize({ width: WIDTH, height: HEIGHT });
  const entries = await page.getByRole('navigation').getByRole('button').allTextContents();
  for (const [i, entry] of entries.entries()) {
    const button = page.getByRole('navigation').getByRole('button', { name: entry, exact: true });
    await button.click();
    await expect.poll(() => button.getAttribute('aria-current')).toBe('page');
    await page.locator('main h1').first().waitFor();
    const fit = await measure(page);
    await page.screenshot({ path: path.join(SHOTS, `fit-${who}-${String(i + 1).padStart(2, '0')}-${entry.normalize('NFD').replace(/[\u0300-\u036f]/g, '').replace(/[^A-Za-z]+/g, '-').toLowerCase().replace(/^-|-$/g, '')}-1024.png`), fullPage: true });
    expect(fit.scrollWidth, `page width on « ${entry} » (${who})`).toBeLessThanOrEqual(WIDTH);
    expect(fit.navOut, `nav entries outside the window on « ${entry} » (${who})`).toEqual([]);
    expect(fit.buttonsOut, `buttons beyond the window's width on « ${entry} » (${who})`).toEqual([]);
  }
  return entries;
}

describe('the interface fits a 1024×768 window', () => {
  it('as a town hall person, every screen of the nav', async () => {
    const bridge = await startBridge({ home: path.join(tmp, 'mairie'), rendererDir: RENDERER });
    bridges.push(bridge);
    const page = await openApp(browser, bridge, consoleErrors);
    await signUp(page, false);
    const entries = await walk(page, 'mairie');
    expect(entries).toContain('Paramètres');
    expect(entries).not.toContain('Console de l’officier SSI');
    await page.close();
  });

  it('as the SSI officer, every screen of the nav including the console', async () => {
    const bridge = await startBridge({ home: path.join(tmp, 'ssi'), rendererDir: RENDERER });
    bridges.push(bridge);
    const page = await openApp(browser, bridge, consoleErrors);
    await signUp(page, true);
    const entries = await walk(page, 'officier');
    expect(entries).toContain('Console de l’officier SSI');
    expect(entries).toContain('Aide');
    await page.close();
    expect(consoleErrors).toEqual([]);
  });
});
