// New container under a convention, and the desktop notifications of due periods (issue 14 §6,
// docs/convention.md 12), through the real interface, the real IPC table and the real core.
// Profiles made with the `pli` binary as in convention.e2e.test.ts: the officer's O signs the
// Saint-Laurent-Blangy convention (quarterly on the 8th, IS 101 and IST, .doc .xls .csv .pdf), the
// town hall's T imports it. On T, Claire Dumont (DGS) chooses the convention and a late period: the
// recipients (the CPN's habilitated clerk) and the documents fill in, a .docx is refused beside the
// file list with the reason before anything is sealed, the container goes into a folder and the
// Calendrier shows « envoyé »; the Calendrier's link opens New container on the period chosen. The
// notifications main would show are recorded by the bridge, at injected times (before, on and
// after the 8th, twice the same day, the next morning); a click opens the Calendrier.
// Screenshots at 1280×800 and 1024×768: test/artifacts/screens/newcontainer-convention-*.png.
// Needs `npm run build` and `npm run build:renderer`.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Bridge } from './bridge.js';
import { shot, h1, nav, pick, profilesRun, slbTownHallForScreens } from './support.js';
import { PIN_DAY, pinClock, unpinClock } from '../cli/support.js';

const PASS = 'une phrase de passe de test';

const screens = profilesRun('newcontainer-convention', PASS);
const { cli, consoleErrors, signIn } = screens;
const plain = (text: string | null | undefined) => (text ?? '').replace(/[\u00a0\u202f]/g, ' ');
/** A local time on the workstation's calendar. */
const local = (day: string, hour = 9) => {
  const [y, m, d] = day.split('-').map(Number) as [number, number, number];
  return new Date(y, m - 1, d, hour).getTime();
};

// The convention runs from 2026 and the screens show its 2026 quarters as today sees them: one day
// for the core behind the bridge (in this process) and the `pli` children, whatever the day it runs.
beforeAll(() => pinClock(PIN_DAY));
afterAll(() => unpinClock());
beforeAll(() => screens.start(() => slbTownHallForScreens(cli, PASS)));
afterAll(() => screens.close());

describe('the town hall: a container under the convention, and the notifications', () => {
  let page: Page;
  let bridge: Bridge;

  it('notifies at the sign-in and at injected times: before, on and after the 8th, once a day per period; a click opens the Calendrier', async () => {
    ({ bridge, page } = await screens.open('T'));
    await signIn(page, 'Claire Dumont');
    await h1(page, 'Plis reçus');
    // The sign-in checks at once, on this workstation's day (the pinned one): the periods already late.
    // (The convention started on 1 January 2026: its 1st quarter, due on 8 April, is late since.)
    await expect.poll(() => bridge.notifications.map((n) => n.period)).toContain('2026-T1');
    // Shown once that day: a check again shows nothing.
    expect(await bridge.handlers.checkNotifications()).toBe(0);
    bridge.notifications.length = 0;

    // Nine days before the 8th of January: nothing for the 4th quarter (the late ones, yes).
    await bridge.handlers.checkNotifications(local('2026-12-30'));
    expect(bridge.notifications.filter((n) => n.period === '2026-T4')).toEqual([]);
    expect(bridge.notifications.map((n) => n.kind)).toEqual(['late', 'late', 'late']);
    bridge.notifications.length = 0;
    // From seven days before: the banner's words, once.
    expect(await bridge.handlers.checkNotifications(local('2027-01-04', 8))).toBeGreaterThan(0);
    const soon = bridge.notifications.filter((n) => n.period === '2026-T4');
    expect(soon.map((n) => [n.kind, plain(n.body)])).toEqual([['soon', 'IS 101 et IST du 4e trimestre à envoyer avant le 8 janvier']]);
    expect(soon[0]!.title).toContain('Saint-Laurent-Blangy');
    // The quarters of 2026 not sent are late: one notification each, that morning.
    expect(bridge.notifications.filter((n) => n.kind === 'late').map((n) => n.period).sort()).toEqual(['2026-T1', '2026-T2', '2026-T3']);
    expect(plain(bridge.notifications.find((n) => n.period === '2026-T3')!.body)).toContain('IS 101 et IST du 3e trimestre 2026 en retard');
    // Twice the same day: nothing more.
    bridge.notifications.length = 0;
    expect(await bridge.handlers.checkNotifications(local('2027-01-04', 15))).toBe(0);
    // The next morning: the late ones again, not the announcement.
    expect(await bridge.handlers.checkNotifications(local('2027-01-05', 8))).toBe(3);
    expect(bridge.notifications.map((n) => n.kind)).toEqual(['late', 'late', 'late']);
    // On the 8th: « à envoyer aujourd’hui »; the 9th: late.
    bridge.notifications.length = 0;
    await bridge.handlers.checkNotifications(local('2027-01-08', 8));
    expect(plain(bridge.notifications.find((n) => n.period === '2026-T4')?.body)).toBe('IS 101 et IST du 4e trimestre à envoyer aujourd’hui, 8 janvier');
    await bridge.handlers.checkNotifications(local('2027-01-09', 8));
    expect(bridge.notifications.filter((n) => n.period === '2026-T4').map((n) => n.kind)).toEqual(['today', 'late']);

    // A click on the notification (main): the Calendrier.
    bridge.clickNotification();
    await h1(page, 'Calendrier des échanges');
  });

  it('chooses the convention and a period: the recipients and the documents fill in; a .docx is refused with the reason', async () => {
    await nav(page, 'Nouveau pli');
    await h1(page, 'Nouveau pli');
    const convention = page.getByLabel('Envoyer sous une convention');
    await convention.waitFor();
    expect(await convention.inputValue()).toBe('');
    await convention.selectOption({ label: 'Convention Saint-Laurent-Blangy — états statistiques' });
    const periodSelect = page.getByLabel('Période', { exact: true });
    await periodSelect.waitFor();
    // The periods begun and not sent: the current one first, then the late ones, marked.
    const options = (await periodSelect.locator('option').allTextContents()).map(plain);
    expect(options.length).toBeGreaterThanOrEqual(1);
    const late = options.filter((o) => o.includes('en retard'));
    expect(options.slice(0, options.length - late.length).some((o) => o.includes('en retard'))).toBe(false);
    const third = options.find((o) => o.startsWith('3e trimestre 2026'));
    expect(third).toBe('3e trimestre 2026 — échéance le 8 octobre 2026 — ⚠ en retard');
    await periodSelect.selectOption({ label: (await periodSelect.locator('option').allTextContents()).find((o) => plain(o).startsWith('3e trimestre 2026'))! });
    // The recipients: the other party's habilitated person; the documents: both, ticked.
    const recipients = plain(await page.getByTestId('convention-recipients').textContent());
    expect(recipients).toContain('Paul Lefebvre');
    expect(recipients).toContain('Chargé des statistiques');
    expect(recipients).not.toContain('Jean Morel');
    expect(await page.getByRole('checkbox', { name: /IS 101/ }).isChecked()).toBe(true);
    expect(await page.getByRole('checkbox', { name: /IST/ }).isChecked()).toBe(true);
    await page.getByLabel('Objet (facultatif)').fill('États du 3e trimestre 2026');

    const files = path.join(screens.tmp, 'etats');
    mkdirSync(files, { recursive: true });
    const xls = path.join(files, 'IS101-T3-2026.xls');
    const docx = path.join(files, 'note-de-synthese.docx');
    writeFileSync(xls, 'IS 101;T3 2026\nhomicides;0\n');
    writeFileSync(docx, 'note');
    await pick(page, 'add-files', [xls, docx]);
    const refused = page.getByTestId('type-refused');
    await refused.waitFor();
    expect(await refused.count()).toBe(1);
    expect(plain(await refused.textContent())).toContain('Le format .docx n’est pas prévu par la convention : .csv, .doc, .pdf, .xls');
    // Nothing can be sent while it is there: the reason is said beside the button.
    await page.getByRole('radio', { name: /Sur une clé USB ou dans un dossier/ }).check();
    const send = page.getByRole('button', { name: 'Chiffrer et déposer dans un dossier…' });
    expect(await send.isDisabled()).toBe(true);
    expect(plain(await page.locator('#send-reason').textContent())).toContain('retirez les fichiers dont le format n’est pas prévu par la convention');
    await shot(page, 'newcontainer-convention-refused');
    await page.setViewportSize({ width: 1024, height: 768 });
    await shot(page, 'newcontainer-convention-refused-1024');
    await page.setViewportSize({ width: 1280, height: 800 });
    expect(readdirSync(files).filter((f) => f.endsWith('.pli'))).toEqual([]);
  });

  it('sends to a folder, and the Calendrier shows « envoyé »; its link opens New container on the period', async () => {
    await page.getByRole('button', { name: 'Retirer note-de-synthese.docx' }).click();
    expect(await page.getByTestId('type-refused').count()).toBe(0);
    const key = path.join(screens.tmp, 'cle-usb');
    mkdirSync(key, { recursive: true });
    bridge.dialogAnswers.push(key);
    const send = page.getByRole('button', { name: 'Chiffrer et déposer dans un dossier…' });
    expect(await send.isDisabled()).toBe(false);
    await send.click();
    await h1(page, 'Boîte d’envoi');
    // The notice says what it was filed under, in words.
    const notice = page.getByRole('status').filter({ hasText: 'Classé sous la convention' });
    await notice.waitFor();
    expect(plain(await notice.textContent())).toContain('IS 101 et IST du 3e trimestre 2026');
    await expect.poll(() => readdirSync(key).filter((f) => f.endsWith('.pli')).length).toBe(1);

    await nav(page, 'Calendrier');
    await h1(page, 'Calendrier des échanges');
    const rows = page.getByRole('row').filter({ hasText: '3e trimestre 2026' });
    await expect.poll(async () => plain((await rows.allTextContents()).join('|'))).toContain('envoyé');
    expect((await rows.allTextContents()).every((r) => r.includes('envoyé'))).toBe(true);
    await shot(page, 'newcontainer-convention-calendar');
    await page.setViewportSize({ width: 1024, height: 768 });
    await shot(page, 'newcontainer-convention-calendar-1024');
    await page.setViewportSize({ width: 1280, height: 800 });
    // The 3rd quarter sent is no longer notified; the others still are.
    bridge.notifications.length = 0;
    await bridge.handlers.checkNotifications(local('2027-01-10', 8));
    expect(bridge.notifications.map((n) => n.period).sort()).toEqual(['2026-T1', '2026-T2', '2026-T4']);

    // « Préparer le pli » beside a late entry: New container with that convention and period.
    await page.getByRole('button', { name: /Préparer le pli — IS 101 du 2e trimestre 2026/ }).click();
    await h1(page, 'Nouveau pli');
    const periodSelect = page.getByLabel('Période', { exact: true });
    await expect.poll(async () => periodSelect.inputValue()).toBe('2026-T2');
    expect(await page.getByLabel('Envoyer sous une convention').inputValue()).toMatch(/^conv-/);
    // The period sent is no longer offered.
    expect((await periodSelect.locator('option').allTextContents()).map(plain).some((o) => o.startsWith('3e trimestre 2026'))).toBe(false);
    await shot(page, 'newcontainer-convention-chosen');
    await page.setViewportSize({ width: 1024, height: 768 });
    await shot(page, 'newcontainer-convention-chosen-1024');
    expect(consoleErrors).toEqual([]);
  });
});
