// An action's outcome stays on the screen that started it, through the real interface, the real
// IPC table and the real core. Found by reading the screens: a send left running while the person
// went to another screen could be started again from a fresh « Nouveau pli », its error set on a
// screen that was gone; a provisioned key file's one-time passphrase (kept nowhere) could be lost
// the same way; Enter pressed twice in the reason's field revoked without the warning being read;
// and an older answer of the inbox's list could land after a newer one and hide a new arrival (or,
// in the Calendrier, put back the year clicked before).
// Each answer is held by the bridge (holdNext) to order things by hand, not by luck.
// Profiles made with the `pli` binary as in convention.e2e.test.ts (O: the officer; T: the town
// hall's Claire Dumont). Needs `npm run build` and `npm run build:renderer`.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Bridge } from './bridge.js';
import { shot, h1, nav, pick, alertWith, statusWith, onlyStatusWith, profilesRun, slbTownHallForScreens } from './support.js';
import { PIN_DAY, pinClock, unpinClock } from '../cli/support.js';

const PASS = 'une phrase de passe de test';
const HELD = 'Une opération est en cours sur cet écran';

const screens = profilesRun('hold', PASS);
const { cli, consoleErrors, signIn } = screens;
let ids: Record<string, string> = {};

beforeAll(() => pinClock(PIN_DAY));
afterAll(() => unpinClock());
beforeAll(() => screens.start(async () => { ({ ids } = await slbTownHallForScreens(cli, PASS)); }));
afterAll(() => screens.close());

/** Every button of the navigation bar, and « Se déconnecter », disabled (true) or all enabled (false). */
async function navDisabled(page: Page): Promise<boolean[]> {
  const buttons = [...await page.getByRole('navigation').getByRole('button').all(), page.getByRole('button', { name: 'Se déconnecter' })];
  return Promise.all(buttons.map((b) => b.isDisabled()));
}

describe('the officer', () => {
  let page: Page;
  let bridge: Bridge;

  it('provisioning: the screen is held until the one-time passphrase is shown, and while it is', async () => {
    ({ bridge, page } = await screens.open('O'));
    await signIn(page, 'Olivier Ssi');
    await nav(page, 'Console de l’officier SSI');
    await h1(page, 'Console de l’officier SSI');
    const held = bridge.holdNext('authority:provision');
    await page.getByLabel('Nom et prénom').fill('Julie Nouvelle');
    await page.getByLabel('Boîte aux lettres fonctionnelle').fill('mairie@saint-laurent-blangy.fr');
    await page.getByLabel('Organisation').fill('Mairie de Saint-Laurent-Blangy');
    const keyFile = path.join(screens.tmp, 'cles-julie.json');
    bridge.dialogAnswers.push(keyFile);
    await page.getByRole('button', { name: 'Créer et enregistrer le fichier de clés…' }).click();
    const answer = await held.answered as { ok: boolean }; // the key file is written; the page has not got the passphrase yet
    expect(answer.ok, JSON.stringify(answer)).toBe(true);
    await statusWith(page, HELD);
    expect(new Set(await navDisabled(page))).toEqual(new Set([true]));
    await shot(page, 'hold-provisioning');
    // A notification clicked meanwhile (main) waits: the Calendrier would replace this screen.
    bridge.clickNotification();
    await page.waitForTimeout(300);
    await h1(page, 'Console de l’officier SSI');

    held.release();
    const secret = page.getByTestId('one-time');
    await secret.waitFor();
    expect((await secret.textContent())!.length).toBeGreaterThan(10);
    // Shown, it is held still: the notification waits until « Je l’ai dictée ».
    await page.waitForTimeout(300);
    expect(await secret.isVisible()).toBe(true);
    await page.getByRole('button', { name: 'Je l’ai dictée : fermer' }).click();
    await h1(page, 'Calendrier des échanges');
    expect(new Set(await navDisabled(page))).toEqual(new Set([false]));
  });

  it('revocation: Enter twice in the reason, or a double click, only asks; the confirmation revokes', async () => {
    await nav(page, 'Console de l’officier SSI');
    await h1(page, 'Console de l’officier SSI');
    const who = page.getByLabel('Personne à révoquer');
    const paul = (await who.locator('option').allTextContents()).find((o) => o.startsWith('Paul Lefebvre'))!;
    expect(paul).toBeTruthy();
    await who.selectOption({ label: paul });
    const reason = page.getByLabel('Motif');
    await reason.fill('changement de service');
    const asking = page.getByRole('alert').filter({ hasText: 'Révoquer Paul Lefebvre ?' });
    const focused = () => page.evaluate(() => (globalThis as unknown as { document: { activeElement: { textContent: string } | null } }).document.activeElement?.textContent);
    await reason.press('Enter');
    await alertWith(page, 'Révoquer Paul Lefebvre ?');
    expect(await focused()).toBe('Annuler'); // Enter held down ends there
    await reason.press('Enter'); // Enter again in the field: still asking
    await page.waitForTimeout(300);
    expect(await asking.count()).toBe(1);
    await page.getByRole('button', { name: 'Annuler' }).click();
    await expect.poll(() => asking.count()).toBe(0);
    await reason.press('Enter');
    await alertWith(page, 'Révoquer Paul Lefebvre ?');
    await page.keyboard.press('Enter'); // on « Annuler »
    await expect.poll(() => asking.count()).toBe(0);
    // A double click on « Révoquer… »: it asks; « Confirmer » is elsewhere.
    await page.getByRole('button', { name: 'Révoquer…' }).dblclick();
    await page.waitForTimeout(300);
    expect(await page.getByRole('status').filter({ hasText: 'La révocation de Paul Lefebvre' }).count()).toBe(0);
    expect((await who.locator('option').allTextContents()).some((o) => o.startsWith('Paul Lefebvre'))).toBe(true);
    expect(await asking.count()).toBe(1);
    await page.getByRole('button', { name: 'Annuler' }).click();
    await expect.poll(() => asking.count()).toBe(0);

    await page.getByRole('button', { name: 'Révoquer…' }).click();
    await alertWith(page, 'Révoquer Paul Lefebvre ?');
    await page.getByRole('button', { name: 'Confirmer la révocation' }).click();
    await onlyStatusWith(page, 'La révocation de Paul Lefebvre est enregistrée');
    // The list of people to revoke no longer has him: the check above would have seen it.
    await expect.poll(async () => (await who.locator('option').allTextContents()).some((o) => o.startsWith('Paul Lefebvre'))).toBe(false);
    expect(consoleErrors).toEqual([]);
  });

  it('publishing while the mail server cannot be reached: the directory waits in the outbox, and the screen says why', async () => {
    // A mailbox whose servers listen nowhere (port 1 of this machine: refused at once).
    const password = path.join(screens.tmp, 'mot-de-passe');
    writeFileSync(password, 'secret\n');
    await cli.ok('O', ['mailbox', 'set', '--imap', '127.0.0.1:1', '--smtp', '127.0.0.1:1', '--user', 'ssi@exemple.fr', '--password-file', password]);
    await nav(page, 'Plis reçus');
    await nav(page, 'Console de l’officier SSI');
    await page.getByTestId('publish-plan').filter({ hasText: 'Par la messagerie' }).waitFor();
    await page.getByRole('button', { name: 'Publier l’annuaire' }).click();
    const notice = page.getByRole('status').filter({ hasText: /signé, en attente dans la boîte d’envoi, pas encore parti/ });
    await notice.waitFor();
    // The reason is the mail server's, in words; not « Il repartira tout seul » said blindly.
    const text = (await notice.textContent())!;
    expect(text).not.toContain('Il repartira tout seul');
    expect(text).toMatch(/127\.0\.0\.1/);
    await shot(page, 'hold-publish-not-sent');
    expect(consoleErrors).toEqual([]);
  });
});

describe('the town hall', () => {
  let page: Page;
  let bridge: Bridge;

  it('a send to a folder holds the screen until it has answered', async () => {
    ({ bridge, page } = await screens.open('T'));
    await signIn(page, 'Claire Dumont');
    await h1(page, 'Plis reçus');
    await nav(page, 'Nouveau pli');
    await page.getByLabel('Envoyer sous une convention').selectOption({ label: 'Convention Saint-Laurent-Blangy — états statistiques' });
    const files = path.join(screens.tmp, 'etats');
    mkdirSync(files, { recursive: true });
    const csv = path.join(files, 'IS101-T3-2026.csv');
    writeFileSync(csv, 'IS 101;T3 2026\nhomicides;0\n');
    await pick(page, 'add-files', [csv]);
    await page.getByRole('radio', { name: /Sur une clé USB ou dans un dossier/ }).check();
    const key = path.join(screens.tmp, 'cle-usb');
    mkdirSync(key, { recursive: true });
    bridge.dialogAnswers.push(key);
    const held = bridge.holdNext('outbox:send');
    await page.getByRole('button', { name: 'Chiffrer et déposer dans un dossier…' }).click();
    await held.answered;
    await statusWith(page, HELD);
    expect(new Set(await navDisabled(page))).toEqual(new Set([true]));
    held.release();
    await h1(page, 'Boîte d’envoi');
    expect(new Set(await navDisabled(page))).toEqual(new Set([false]));
    expect(readdirSync(key).filter((f) => f.endsWith('.pli'))).toHaveLength(1);
  });

  it('the inbox shows the newest list: an older answer landing late changes nothing', async () => {
    const empty = path.join(screens.tmp, 'usb-vide');
    const full = path.join(screens.tmp, 'usb-plein');
    mkdirSync(empty, { recursive: true });
    const note = path.join(screens.tmp, 'note.pdf');
    writeFileSync(note, '%PDF-1.4 note de service');
    await cli.ok('O', ['send', '--to', ids.dgs!, '--folder', full, note]);
    // A link on the key beside it: not read, and said (the pli is read all the same).
    symlinkSync(note, path.join(full, 'lien.pli'));
    await nav(page, 'Plis reçus');
    await h1(page, 'Plis reçus');
    const rows = page.getByRole('row').filter({ hasText: 'Olivier Ssi' });
    expect(await rows.count()).toBe(0);

    // The first import's list (nothing new) is held; the second import lists the new container.
    const held = bridge.holdNext('inbox:list');
    bridge.dialogAnswers.push(empty);
    await page.getByRole('button', { name: 'Importer depuis un dossier…' }).click();
    await held.answered;
    bridge.dialogAnswers.push(full);
    await page.getByRole('button', { name: 'Importer depuis un dossier…' }).click();
    await rows.first().waitFor();
    await alertWith(page, /1\sfichier du dossier n’a pas été lu\s: « lien\.pli » n'est pas un fichier ordinaire/);
    held.release();
    await page.waitForTimeout(500);
    expect(await rows.count()).toBe(1);
    await shot(page, 'hold-inbox-newest');
  });

  it('the Calendrier keeps the year clicked last when an older answer lands late', async () => {
    await nav(page, 'Calendrier');
    await h1(page, 'Calendrier des échanges');
    await page.getByText('Année 2026').waitFor();
    const held = bridge.holdNext('conventions:calendar');
    await page.getByRole('button', { name: 'Année suivante' }).click(); // 2027, held
    await held.answered;
    await page.getByRole('button', { name: 'Année suivante' }).click(); // 2028
    await page.getByText('Année 2028').waitFor();
    held.release();
    await page.waitForTimeout(500);
    expect(await page.getByText('Année 2028').count()).toBe(1);
    expect(await page.getByText('Année 2027').count()).toBe(0);
    expect(consoleErrors).toEqual([]);
  });
});
