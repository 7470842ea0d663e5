// The names of the files on each container (issue 15, u1-outbox), through the real interface and
// the real core. Profiles made with the `pli` binary: the officer's O (no convention yet), the CPN
// of Arras (P, Paul Lefebvre) and the town hall (T, Claire Dumont). P deposits on USB keys seven
// statistics files in one container and a 48 Ko file in another; T receives both and opens the
// first. The outbox shows the files sent by name and size (five, the rest folded away), the inbox
// the files written once opened and « s’afficheront à l’ouverture » before; a value of the sealed
// names copied from another row with better-sqlite3 shows « illisible », never the other row's
// names. The officer's empty Conventions screen offers « Nouvelle convention… ». Screenshots at
// 1280×800 and 1024×768: test/artifacts/screens/outbox-names-*.png. Needs `npm run build` and
// `npm run build:renderer`.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { writeFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import { shot, h1, nav, profilesRun } from './support.js';
import { conventionSetUp, CPN, TOWN } from '../cli/support.js';

const PASS = 'une phrase de passe de test';
const screens = profilesRun('outbox-names', PASS);
const { cli, consoleErrors, signIn } = screens;
const { at, ok } = cli;
const ids = { clerk: '', dgs: '' };
const SEVEN = ['IS101_Arras_T3.csv', 'IST_Arras_T3.pdf', 'Cambriolages_T3.xls', 'Vols_vehicules_T3.csv', 'Atteintes_biens_T3.csv', 'Atteintes_personnes_T3.csv', 'Note_methodologique.pdf'];
const BIG = 'Releve_cambriolages_quartier_nord.xls';

/** Screen text as a person reads it (no-break spaces as spaces). */
const text = async (page: Page, testId: string) => ((await page.getByTestId(testId).textContent()) ?? '').replace(/[\u00a0\u202f]/g, ' ');
async function shots(page: Page, name: string): Promise<void> {
  await shot(page, `outbox-names-${name}-1280`);
  await page.setViewportSize({ width: 1024, height: 768 });
  await shot(page, `outbox-names-${name}-1024`);
  await page.setViewportSize({ width: 1280, height: 800 });
}
/** What no screen may show (test/e2e/words.e2e.test.ts): a hex id over 12, a temporary path, a flag. */
async function noLeak(page: Page): Promise<void> {
  const all = (await page.locator('main').textContent()) ?? '';
  expect(all).not.toMatch(/\b[0-9a-f]{13,}\b/);
  expect(all).not.toContain(cli.root);
  expect(all).not.toMatch(/\/tmp\/|\/dev\/shm|--[a-z]/);
}

beforeAll(() => screens.start(async () => {
  const setUp = conventionSetUp(cli, PASS);
  await setUp.start(['P', 'T']);
  ids.clerk = await setUp.provision('clerk', 'Paul Lefebvre', CPN, 'operator', 'P', 'cpn-arras@interieur.gouv.fr');
  ids.dgs = await setUp.provision('dgs', 'Claire Dumont', TOWN, 'operator', 'T', 'mairie@saint-laurent-blangy.fr');
  await setUp.distribute(['P', 'T']);
  SEVEN.forEach((name, i) => writeFileSync(at(name), `contenu ${i}\r\n`.repeat(i + 1)));
  writeFileSync(at(BIG), 'x'.repeat(48 * 1024));
  await ok('P', ['send', '--as', ids.clerk, '--to', ids.dgs, '--folder', at('usb1'), ...SEVEN.map(at)]);
  await ok('P', ['send', '--as', ids.clerk, '--to', ids.dgs, '--folder', at('usb2'), at(BIG)]);
  for (const usb of ['usb1', 'usb2']) await ok('T', ['receive', '--folder', at(usb), '--as', ids.dgs]);
  await ok('T', ['open', '1', '--as', ids.dgs, '--out', at('ouverts')]);
}), 300_000);

afterAll(() => screens.close());

describe('the CPN\'s outbox: the files sent, by name and size', () => {
  let page: Page;

  it('each container with its files: five named, the rest folded away; the sizes in French', async () => {
    ({ page } = await screens.open('P'));
    await signIn(page, 'Paul Lefebvre');
    await nav(page, 'Boîte d’envoi');
    await h1(page, 'Boîte d’envoi');
    const rows = page.getByRole('table').locator('tbody > tr');
    await rows.first().waitFor();
    expect(await rows.count()).toBe(2);
    const seven = ((await rows.filter({ hasText: SEVEN[0]! }).textContent()) ?? '').replace(/[\u00a0\u202f]/g, ' ');
    for (const name of SEVEN.slice(0, 5)) expect(seven).toContain(name);
    expect(seven).toContain('et 2 autres fichiers');
    expect(seven).toContain('7 fichiers, pli de');
    expect(seven).toContain('(11 octets)');
    const big = ((await rows.filter({ hasText: BIG }).textContent()) ?? '').replace(/[\u00a0\u202f]/g, ' ');
    expect(big).toContain(`${BIG} (48 Ko)`);
    expect(big).toContain('1 fichier, pli de');
    // The folded names open with a click (a keyboard's Enter on the summary does the same).
    const row = rows.filter({ hasText: SEVEN[0]! });
    expect(await row.getByText(SEVEN[6]!).isVisible()).toBe(false);
    await row.getByText('et 2 autres fichiers').click();
    await row.getByText(SEVEN[6]!).waitFor();
    // Searched by a file's name.
    await page.getByLabel('Rechercher').fill('quartier_nord');
    await expect.poll(async () => rows.count()).toBe(1);
    await page.getByLabel('Rechercher').fill('');
    await noLeak(page);
    await shots(page, 'outbox');
    expect(consoleErrors).toEqual([]);
  });

  it('a value copied from another row with better-sqlite3: « illisible », never the other row\'s names', async () => {
    const attacker = new Database(at('P/profile.sqlite'));
    const saved = attacker.prepare('SELECT files_sealed FROM outbox WHERE id = 1').pluck().get() as Buffer;
    try {
      attacker.prepare('UPDATE outbox SET files_sealed = (SELECT files_sealed FROM outbox WHERE id = 2) WHERE id = 1').run();
      await nav(page, 'Plis reçus');
      await h1(page, 'Plis reçus');
      await nav(page, 'Boîte d’envoi');
      const rows = page.getByRole('table').locator('tbody > tr');
      await page.getByText('Noms des fichiers illisibles').waitFor();
      expect(await rows.filter({ hasText: BIG }).count()).toBe(1);
      const planted = ((await rows.filter({ hasText: 'Noms des fichiers illisibles' }).textContent()) ?? '').replace(/[\u00a0\u202f]/g, ' ');
      expect(planted).not.toContain(BIG);
      expect(planted).toContain('7 fichiers, pli de');
      await shot(page, 'outbox-names-outbox-illisible-1280');
    } finally {
      attacker.prepare('UPDATE outbox SET files_sealed = ? WHERE id = 1').run(saved);
      attacker.close();
    }
  });
});

describe('the town hall\'s inbox: the names once opened, and only then', () => {
  it('the opened container lists its files; the other one says they show at the opening', async () => {
    const { page } = await screens.open('T');
    await signIn(page, 'Claire Dumont');
    await h1(page, 'Plis reçus');
    await page.getByTestId('inbox-1').waitFor();
    const opened = await text(page, 'inbox-1');
    for (const name of SEVEN.slice(0, 5)) expect(opened).toContain(name);
    expect(opened).toContain('et 2 autres fichiers');
    const closed = await text(page, 'inbox-2');
    expect(closed).toContain('Contenu encore chiffré');
    expect(closed).toContain('les fichiers s’afficheront à l’ouverture');
    expect(closed).not.toContain(BIG);
    expect(closed).toMatch(/Pli de \d+(,\d)? Ko/);
    await noLeak(page);
    await shots(page, 'inbox');
    expect(consoleErrors).toEqual([]);
  });
});

describe('the officer\'s Conventions screen with no convention', () => {
  it('offers « Nouvelle convention… », not a directory to import', async () => {
    const { page } = await screens.open('O');
    await signIn(page, 'Olivier Ssi');
    await nav(page, 'Conventions');
    await h1(page, 'Conventions');
    await page.getByText('Aucune convention pour l’instant').waitFor();
    expect(await page.getByText('importez le dernier annuaire').count()).toBe(0);
    await page.getByRole('button', { name: 'Nouvelle convention…' }).waitFor();
    await noLeak(page);
    await shots(page, 'convention-empty-officer');
    expect(consoleErrors).toEqual([]);
  });
});
