// The Calendrier and Convention screens (issue 14 §6) through the real interface and the real core.
// Profiles made with the `pli` binary: the officer's O signs the Saint-Laurent-Blangy convention
// (quarterly on the 8th, IS 101 and IST, five habilitated people of the town hall), the town hall's
// T imports it with the directory. On T, Claire Dumont (DGS) sees the year on the calendar, the
// banner from seven days before the 8th (on a rehearsal day), the convention and its nominative
// list, and saves the annex (PDF) and the register (CSV) where the dialog says; an existing file is
// refused and left unchanged. On O the officer terminates the convention. Screenshots (1280×800):
// test/artifacts/screens/convention-*.png. Needs `npm run build` and `npm run build:renderer`.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Bridge } from './bridge.js';
import { shot, h1, alertWith, nav, profilesRun, slbTownHallForScreens, onlyStatusWith } from './support.js';
import { PIN_DAY, pinClock, SLB_FIVE, unpinClock } from '../cli/support.js';

const PASS = 'une phrase de passe de test';
const FIVE = SLB_FIVE.map(([, name, fn]) => [name, fn] as const);

const screens = profilesRun('convention', PASS);
const { cli, consoleErrors, signIn } = screens;
const { at } = cli;


// The convention runs from 2026 and the screens show its 2026 quarters as today sees them: one day
// for the core behind the bridge (in this process) and the `pli` children, whatever the day it runs.
beforeAll(() => pinClock(PIN_DAY));
afterAll(() => unpinClock());
beforeAll(() => screens.start(() => slbTownHallForScreens(cli, PASS)));
afterAll(() => screens.close());

describe('the town hall: Calendrier and Convention', () => {
  let page: Page;
  let bridge: Bridge;

  it('shows the year with the states in words and icons, and the banner from seven days before the 8th', async () => {
    ({ bridge, page } = await screens.open('T'));
    // The page reads the pinned day too (its Date, with or without arguments, as the core's).
    const pageDay = await page.evaluate(() => [new Date(), new Date(Date.now())].map((d) => `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`));
    expect(pageDay).toEqual([PIN_DAY, PIN_DAY]);
    await signIn(page, 'Claire Dumont');
    await nav(page, 'Calendrier');
    await h1(page, 'Calendrier des échanges');
    // A rehearsal day: 4 January 2027, four days before the 8th.
    await page.getByLabel('Jour du calendrier').fill('04/01/2027');
    const banner = page.getByTestId('due-banner');
    await banner.waitFor();
    expect((await banner.textContent())!.replace(/\u00a0/g, ' ')).toContain('IS 101 et IST du 4e trimestre à envoyer avant le 8 janvier');
    // The year of the due days shown (this workstation's year): 2026 has T1 to T3 late by then.
    await page.getByRole('button', { name: 'Année suivante' }).click();
    await page.getByText('Année 2027').waitFor();
    const table = page.getByRole('table');
    await expect.poll(async () => (await table.textContent())?.replace(/\u00a0/g, ' ')).toContain('4e trimestre 2026');
    const text = (await table.textContent())!.replace(/\u00a0/g, ' ');
    expect(text).toContain('8 janvier 2027');
    expect(text).toContain('à venir');
    await shot(page, 'convention-calendrier');
    await page.getByRole('button', { name: 'Année précédente' }).click();
    await page.getByText('Année 2026').waitFor();
    await expect.poll(async () => (await page.getByRole('table').textContent()) ?? '').toContain('en retard');
    expect(await page.getByRole('table').textContent()).toContain('⚠');
  });

  it('shows the convention and its nominative list, and saves the annex and the register where the dialog says', async () => {
    await nav(page, 'Conventions');
    await h1(page, 'Conventions');
    await page.getByRole('heading', { name: 'Liste nominative des personnes habilitées' }).waitFor();
    const list = (await page.locator('main').textContent())!;
    for (const [name, fn] of FIVE) {
      expect(list).toContain(name);
      expect(list).toContain(fn);
    }
    await shot(page, 'convention-details');
    const annex = path.join(screens.tmp, 'liste-nominative.pdf');
    bridge.dialogAnswers.push(annex);
    await page.getByRole('button', { name: 'Enregistrer la liste nominative (PDF)…' }).click();
    await onlyStatusWith(page, 'Liste nominative enregistrée');
    const pdf = execFileSync('pdftotext', [annex, '-'], { encoding: 'utf8' }).replace(/\s+/g, ' ');
    for (const [name, fn] of FIVE) {
      expect(pdf).toContain(name);
      expect(pdf).toContain(fn);
    }

    const register = path.join(screens.tmp, 'registre.csv');
    await page.getByLabel('Format').selectOption('csv');
    bridge.dialogAnswers.push(register);
    await page.getByRole('button', { name: 'Enregistrer le registre…' }).click();
    await onlyStatusWith(page, 'Registre');
    expect(readFileSync(register, 'utf8').startsWith('\ufeffDate;Heure;Sens;Partenaire')).toBe(true);

    // An existing file is refused and left as it was.
    writeFileSync(path.join(screens.tmp, 'deja.pdf'), 'avant');
    bridge.dialogAnswers.push(path.join(screens.tmp, 'deja.pdf'));
    await page.getByRole('button', { name: 'Enregistrer la liste nominative (PDF)…' }).click();
    await alertWith(page, 'existe déjà');
    expect(readFileSync(path.join(screens.tmp, 'deja.pdf'), 'utf8')).toBe('avant');
    // No termination form for anyone but the officer.
    expect(await page.getByRole('button', { name: 'Résilier et signer' }).count()).toBe(0);
  });
});

describe('the officer: termination', () => {
  it('terminates the convention with a date and a reason, signed as a new version', async () => {
    const { page } = await screens.open('O');
    await signIn(page, 'Olivier Ssi');
    await nav(page, 'Conventions');
    await h1(page, 'Conventions');
    await page.getByLabel('Date de résiliation').fill('31/12/2026'); // jj/mm/aaaa (DayField)
    await page.getByLabel('Motif').fill('Fin de l’expérimentation, décidée en comité de pilotage');
    await page.getByRole('button', { name: 'Résilier et signer' }).click();
    await onlyStatusWith(page, 'Convention résiliée');
    await page.getByText(/Résiliée le 31\s+décembre\s+2026/).waitFor();
    await shot(page, 'convention-resiliee');
    const shown = JSON.parse(execFileSync(process.execPath, [path.resolve('bin/pli.js'), '--home', at('O'), 'convention', 'list', '--json'], { encoding: 'utf8', env: { ...process.env, PLI_PASSPHRASE: PASS } })) as { version: number; status: { state: string } }[];
    expect(shown[0]).toMatchObject({ version: 2, status: { state: 'terminated' } });
    expect(consoleErrors).toEqual([]);
  });
});
