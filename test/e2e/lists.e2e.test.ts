// Recognisable containers in the inbox and the outbox (issue 15), their search and filters, and the
// late periods at the top of both (issue 14 §6), through the real interface and the real core.
// Profiles made with the `pli` binary: the officer's O signs a quarterly convention (IS 101 and IST
// on the 8th) between the CPN of Arras (P, Paul Lefebvre) and the town hall of Saint-Laurent-Blangy
// (T, Claire Dumont). P deposits on USB keys the 3rd quarter under the convention (with a subject),
// the 4th quarter under it, and a note sans convention; P also mails a note to a server that does
// not answer (it waits in the outbox). T receives the three, opens the 3rd quarter and the note,
// leaves the 4th quarter closed. Screenshots at 1280×800 and 1024×768: test/artifacts/screens/lists-*.png.
// Needs `npm run build` and `npm run build:renderer`.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { writeFileSync } from 'node:fs';
import { shot, h1, nav, profilesRun } from './support.js';
import { conventionSetUp, CPN, PIN_DAY, pinClock, SLB_TITLE, slbConventionArgs, TOWN, unpinClock } from '../cli/support.js';

const PASS = 'une phrase de passe de test';

const screens = profilesRun('lists', PASS);
const { cli, consoleErrors, signIn } = screens;
const { at, ok, pli } = cli;
const ids = { clerk: '', dgs: '' };

/** Screen text as a person reads it (no-break spaces as spaces). */
const words = async (page: Page, testId: string) => ((await page.getByTestId(testId).textContent()) ?? '').replace(/[\u00a0\u202f]/g, ' ');
const count = (page: Page) => words(page, 'list-count');
/** Both sizes of the issue: 1280×800 (the app's window) and 1024×768. */
async function shots(page: Page, name: string): Promise<void> {
  await shot(page, `lists-${name}-1280`);
  await page.setViewportSize({ width: 1024, height: 768 });
  await shot(page, `lists-${name}-1024`);
  await page.setViewportSize({ width: 1280, height: 800 });
}

// The convention runs from 2026 and the screens show its 2026 quarters as today sees them: one day
// for the core behind the bridge (in this process) and the `pli` children, whatever the day it runs.
beforeAll(() => pinClock(PIN_DAY));
afterAll(() => unpinClock());
beforeAll(() => screens.start(async () => {
  const setUp = conventionSetUp(cli, PASS);
  await setUp.start(['P', 'T']);
  ids.clerk = await setUp.provision('clerk', 'Paul Lefebvre', CPN, 'operator', 'P', 'cpn-arras@interieur.gouv.fr');
  ids.dgs = await setUp.provision('dgs', 'Claire Dumont', TOWN, 'operator', 'T', 'mairie@saint-laurent-blangy.fr');
  const convention = await ok('O', slbConventionArgs([[ids.clerk, 'Agent de la cellule statistique'], [ids.dgs, 'Directrice générale des services']]));
  await setUp.distribute(['P', 'T']);
  writeFileSync(at('IS101_T3_2026.csv'), 'Homicides;0\r\n');
  writeFileSync(at('IST_T3_2026.pdf'), '%PDF-1.4 état IST\n');
  writeFileSync(at('IS101_T4_2026.csv'), 'Homicides;1\r\n');
  writeFileSync(at('note-reunion.pdf'), '%PDF-1.4 note\n');
  writeFileSync(at('rappel.pdf'), '%PDF-1.4 rappel\n');
  const under = ['--as', ids.clerk, '--convention', convention, '--doc', 'IS 101', '--doc', 'IST'];
  await ok('P', ['send', ...under, '--period', '2026-T3', '--subject', 'États du 3e trimestre', '--folder', at('usb1'), at('IS101_T3_2026.csv'), at('IST_T3_2026.pdf')]);
  await ok('P', ['send', ...under, '--period', '2026-T4', '--subject', 'États du 4e trimestre', '--folder', at('usb2'), at('IS101_T4_2026.csv')]);
  await ok('P', ['send', '--as', ids.clerk, '--to', ids.dgs, '--folder', at('usb3'), at('note-reunion.pdf')]);
  // By mail, to a server that does not answer: the container waits in the outbox.
  writeFileSync(at('mail.password'), 'mot-de-passe-de-test\n');
  await ok('P', ['mailbox', 'set', '--imap', '127.0.0.1:9', '--smtp', '127.0.0.1:9', '--user', 'cpn-arras@interieur.gouv.fr', '--password-file', at('mail.password')]);
  const mailed = await pli('P', ['send', '--as', ids.clerk, '--to', ids.dgs, '--mail', 'mairie@saint-laurent-blangy.fr', '--wait', '1', at('rappel.pdf')]);
  expect(mailed.code, mailed.stderr).toBe(3);
  for (const usb of ['usb1', 'usb2', 'usb3']) await ok('T', ['receive', '--folder', at(usb), '--as', ids.dgs]);
  await ok('T', ['open', '1', '--as', ids.dgs, '--out', at('ouverts-t3')]);
  await ok('T', ['open', '3', '--as', ids.dgs, '--out', at('ouverts-note')]);
  // The town hall's delivery receipt, written into the key's folder, reaches the CPN.
  await ok('P', ['receive', '--folder', at('usb1'), '--as', ids.clerk]);
}), 300_000);

afterAll(() => screens.close());

describe('the town hall\'s inbox: each container in words', () => {
  let page: Page;

  it('says what each row is: subject and period once opened, « pas encore ouvert » before, sender by name, files and sizes', async () => {
    ({ page } = await screens.open('T'));
    await signIn(page, 'Claire Dumont');
    await h1(page, 'Plis reçus');
    await page.getByTestId('inbox-1').waitFor();
    const t3 = await words(page, 'inbox-1');
    for (const text of ['États du 3e trimestre', 'IS 101 et IST – 3e trimestre 2026', SLB_TITLE, 'IS101_T3_2026.csv', '(13 octets)', 'IST_T3_2026.pdf',
      'Paul Lefebvre', CPN, 'ouvert le', 'par Claire Dumont']) expect(t3).toContain(text);
    // Received, not opened: the manifest is encrypted. Nothing is guessed, not even from a name.
    const t4 = await words(page, 'inbox-2');
    expect(t4).toContain('pas encore ouvert');
    expect(t4).toContain('Contenu encore chiffré');
    expect(t4).toMatch(/Pli de \d+(,\d)? Ko/);
    expect(t4).toContain('Paul Lefebvre');
    expect(t4).not.toContain('4e trimestre');
    expect(t4).not.toContain('États');
    const note = await words(page, 'inbox-3');
    for (const text of ['Sans objet', 'Sans convention', 'note-reunion.pdf', 'ouvert le', 'par Claire Dumont']) expect(note).toContain(text);
    expect(await count(page)).toBe('3 plis sur 3');
    expect(consoleErrors).toEqual([]);
  });

  it('the late quarters at the top, with the link to the Calendrier', async () => {
    const banner = page.getByTestId('late-banner');
    await banner.waitFor();
    const text = ((await banner.textContent()) ?? '').replace(/[\u00a0\u202f]/g, ' ');
    expect(text).toContain('rien n’a été reçu');
    expect(text).toContain('IS 101 et IST – 1er trimestre 2026, attendus le 8 avril 2026');
    expect(text).toContain('IS 101 et IST – 2e trimestre 2026, attendus le 8 juillet 2026');
    expect(text).not.toContain('3e trimestre');
    // The banner sits above the lists (in view without scrolling).
    const box = await banner.boundingBox();
    expect(box!.y + box!.height).toBeLessThan(800);
    await shots(page, 'inbox');
  });

  it('search and each filter, from the keyboard, with « n plis sur m »', async () => {
    const search = page.getByLabel('Rechercher');
    await search.focus();
    await page.keyboard.type('etats');
    await expect.poll(() => count(page)).toBe('1 pli sur 3');
    expect(await page.getByTestId('inbox-1').count()).toBe(1);
    await search.fill('note-reunion');
    await expect.poll(() => count(page)).toBe('1 pli sur 3');
    expect(await page.getByTestId('inbox-3').count()).toBe(1);
    await search.fill('lefebvre');
    await expect.poll(() => count(page)).toBe('3 plis sur 3');
    await search.fill('introuvable');
    await expect.poll(() => count(page)).toBe('0 pli sur 3');
    await page.getByText('Aucun pli ne correspond').waitFor();
    await search.fill('');
    // Tab from the search goes to the filters, in order.
    await search.focus();
    await page.keyboard.press('Tab');
    expect(await page.evaluate<string>('document.activeElement?.id ?? ""')).toBe(await page.getByLabel('Période').getAttribute('id'));
    await page.getByLabel('Période').selectOption({ label: '3e trimestre 2026' });
    await expect.poll(() => count(page)).toBe('1 pli sur 3');
    await page.getByLabel('Période').selectOption({ label: 'Pas encore ouvert (période inconnue)' });
    await expect.poll(() => count(page)).toBe('1 pli sur 3');
    expect(await page.getByTestId('inbox-2').count()).toBe(1);
    await page.getByLabel('Période').selectOption({ label: 'Sans convention' });
    await expect.poll(() => count(page)).toBe('1 pli sur 3');
    await page.getByRole('button', { name: 'Effacer la recherche et les filtres' }).click();
    await expect.poll(() => count(page)).toBe('3 plis sur 3');
    await page.getByLabel('Expéditeur', { exact: true }).selectOption({ label: CPN });
    await expect.poll(() => count(page)).toBe('3 plis sur 3');
    await page.getByLabel('État', { exact: true }).selectOption({ label: 'Pas encore ouvert' });
    await expect.poll(() => count(page)).toBe('1 pli sur 3');
    await page.getByLabel('État', { exact: true }).selectOption({ label: 'Ouvert' });
    await expect.poll(() => count(page)).toBe('2 plis sur 3');
    await shots(page, 'inbox-filtered');
    await page.getByRole('button', { name: 'Effacer la recherche et les filtres' }).click();
  });

  it('the banner\'s link opens the Calendrier', async () => {
    await page.getByRole('button', { name: 'Voir le Calendrier des échanges' }).click();
    await h1(page, 'Calendrier des échanges');
    expect(consoleErrors).toEqual([]);
  });
});

describe('the CPN\'s outbox: each container in words', () => {
  let page: Page;

  it('one line per container: subject and period, recipients by name and organisation, files, the state in words', async () => {
    ({ page } = await screens.open('P'));
    await signIn(page, 'Paul Lefebvre');
    await nav(page, 'Boîte d’envoi');
    await h1(page, 'Boîte d’envoi');
    const table = page.getByRole('table');
    await table.waitFor();
    const rows = table.locator('tbody > tr');
    expect(await rows.count()).toBe(4);
    const text = async (subject: string) => ((await rows.filter({ hasText: subject }).first().textContent()) ?? '').replace(/[\u00a0\u202f]/g, ' ');
    const t3 = await text('États du 3e trimestre');
    for (const w of ['IS 101 et IST – 3e trimestre 2026', SLB_TITLE, '2 fichiers', 'Claire Dumont', TOWN, 'déposé sur la clé le', 'dans le dossier usb1', 'remis le']) expect(t3).toContain(w);
    const t4 = await text('États du 4e trimestre');
    for (const w of ['IS 101 et IST – 4e trimestre 2026', '1 fichier', 'déposé sur la clé le']) expect(t4).toContain(w);
    expect(t4).not.toContain('remis');
    const mailed = await text('à la boîte');
    for (const w of ['Sans objet', 'Sans convention', 'Claire Dumont', 'en attente, nouvel essai à', 'mairie@saint-laurent-blangy.fr']) expect(mailed).toContain(w);
    // No hex id for a person to read.
    expect(await table.textContent()).not.toMatch(/[0-9a-f]{13,}/);
    expect(await count(page)).toBe('4 plis sur 4');
  });

  it('the late quarters on the sending side, and none in its inbox', async () => {
    const text = await words(page, 'late-banner');
    expect(text).toContain('rien n’a été envoyé');
    expect(text).toContain('IS 101 et IST – 1er trimestre 2026, à envoyer le 8 avril 2026');
    expect(text).not.toContain('3e trimestre');
    await shots(page, 'outbox');
    await nav(page, 'Plis reçus');
    await h1(page, 'Plis reçus');
    await page.getByRole('heading', { name: 'Boîte aux lettres fonctionnelle' }).waitFor();
    expect(await page.getByTestId('late-banner').count()).toBe(0);
    await nav(page, 'Boîte d’envoi');
    await h1(page, 'Boîte d’envoi');
  });

  it('search and each filter', async () => {
    await page.getByRole('table').waitFor();
    await page.getByLabel('Rechercher').fill('claire');
    await expect.poll(() => count(page)).toBe('4 plis sur 4');
    await page.getByLabel('Rechercher').fill('4e trimestre');
    await expect.poll(() => count(page)).toBe('1 pli sur 4');
    await page.getByLabel('Rechercher').fill('');
    await page.getByLabel('Période').selectOption({ label: '3e trimestre 2026' });
    await expect.poll(() => count(page)).toBe('1 pli sur 4');
    await page.getByLabel('Période').selectOption({ label: 'Sans convention' });
    await expect.poll(() => count(page)).toBe('2 plis sur 4');
    await page.getByLabel('Période').selectOption({ label: 'Tout afficher' });
    await page.getByLabel('Destinataire', { exact: true }).selectOption({ label: TOWN });
    await expect.poll(() => count(page)).toBe('4 plis sur 4');
    await page.getByLabel('État', { exact: true }).selectOption({ label: 'Déposé sur la clé' });
    await expect.poll(() => count(page)).toBe('3 plis sur 4');
    await page.getByLabel('État', { exact: true }).selectOption({ label: 'En attente' });
    await expect.poll(() => count(page)).toBe('1 pli sur 4');
    await page.getByLabel('État', { exact: true }).selectOption({ label: 'Remis' });
    await expect.poll(() => count(page)).toBe('1 pli sur 4');
    await shots(page, 'outbox-filtered');
    expect(consoleErrors).toEqual([]);
  });
});
