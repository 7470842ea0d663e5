// Issue 15 (layout): feedback where the eye is, the voice check of fingerprints, the help screen,
// a .pli opened from outside (main's offerFile, through the bridge) or dropped on the window, the
// idle lock that keeps the draft and says why, the step indicators of the first run, and the
// WCAG AA contrast of every screen visited (axe-core), and the reflow of every signed-in screen at
// 640 and 320 px (200 % and 400 % zoom). Screenshots at 1280×800, 1024×768, 640 and 320 px.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { _electron, type ElectronApplication } from 'playwright-core';
import { bridgeClient, clientConfig, startBridge, type Bridge } from './bridge.js';
import { electronBinary } from '../../scripts/electron-binary.js';
import { ROOT, RENDERER, SHOTS, pick, prepareRun, launchChromium, closeRun, h1, pliSync, contrast, observatoryWithFigures, openApp, signInToInbox } from './support.js';

const PASS = 'le 8 de chaque trimestre, sans faute';
const PASS_B = 'une mairie bien gardée vaut mieux';
const NBSP = '\u00a0';

let tmp: string;
let browser: Browser;
const bridges: Bridge[] = [];
const consoleErrors: string[] = [];

const cli = (home: string, args: string[]): string => pliSync(home, PASS_B, args);

/** A correspondent's card made with the command line. */
function card(name: string, email: string, org: string): string {
  const home = path.join(tmp, `cli-${name.split(' ')[0]!.toLowerCase()}`);
  cli(home, ['init']);
  const id = cli(home, ['id', 'new', '--name', name, '--email', email, '--org', org]);
  const file = path.join(tmp, `carte-${id}.json`);
  cli(home, ['id', 'export', id, '--out', file]);
  return file;
}

/** A pale grey text planted in the page (or removed): the contrast check must catch it. */
async function plantPale(page: Page, on: boolean): Promise<void> {
  await page.evaluate((add) => {
    type El = { id: string; textContent: string; style: Record<string, string>; remove(): void; append(child: El): void };
    const d = (globalThis as unknown as { document: { createElement(tag: string): El; querySelector(selector: string): El | null; getElementById(id: string): El | null } }).document;
    if (!add) { d.getElementById('pale-probe')?.remove(); return; }
    const p = d.createElement('p');
    p.id = 'pale-probe';
    p.textContent = 'Texte trop pâle pour être lu';
    p.style.color = '#bbbbbb';
    p.style.background = '#ffffff';
    d.querySelector('main')!.append(p);
  }, on);
}

/** Screenshots at 1280×800 then 1024×768, and the contrast check; then the reflow at 640 and
 * 320 px (`reflow`); back to 1280×800. */
async function shots(page: Page, name: string, signedIn = true): Promise<void> {
  await contrast(page, name);
  await page.screenshot({ path: path.join(SHOTS, `layout-${name}-1280.png`), fullPage: true });
  await page.setViewportSize({ width: 1024, height: 768 });
  await page.screenshot({ path: path.join(SHOTS, `layout-${name}-1024.png`), fullPage: true });
  await reflow(page, name, signedIn);
}

/** What sticks out of the window sideways: the page's scroll width, and the outermost elements
 * beyond its right edge (named in a failure). A table scrolling in its own box sticks out of nothing. */
function overflow(page: Page): Promise<{ scrollWidth: number; clientWidth: number; out: string[] }> {
  return page.evaluate(() => {
    // Runs in the page (DOM types are not this file's): the globals it uses, typed here.
    type El = { tagName: string; className: unknown; textContent: string | null; parentElement: El | null; getBoundingClientRect(): { width: number; right: number } };
    const d = (globalThis as unknown as { document: { documentElement: { scrollWidth: number; clientWidth: number }; querySelectorAll(s: string): El[] } }).document;
    const width = d.documentElement.clientWidth;
    const beyond = (e: El | null) => e !== null && e.getBoundingClientRect().width > 0 && e.getBoundingClientRect().right > width + 1;
    const out = [...d.querySelectorAll('body *')].filter((e) => beyond(e) && !beyond(e.parentElement))
      .map((e) => `${e.tagName.toLowerCase()}.${String(e.className)} « ${(e.textContent ?? '').trim().slice(0, 40)} »`);
    return { scrollWidth: d.documentElement.scrollWidth, clientWidth: width, out };
  });
}

/** Reflow (RGAA 10.11, WCAG 1.4.10): at 640 px (200 % zoom of 1280) and 320 px (400 %), the page
 * does not scroll sideways, and « Se déconnecter » shows whole inside the window. */
async function reflow(page: Page, name: string, signedIn = true): Promise<void> {
  for (const [width, height] of [[640, 400], [320, 256]] as const) {
    await page.setViewportSize({ width, height });
    // Polled: a chart follows its box's width a frame later (ResizeObserver).
    await expect.poll(async () => { const o = await overflow(page); return o.scrollWidth <= o.clientWidth ? 'fits' : `scrollWidth ${o.scrollWidth}: ${o.out.join(' | ')}`; },
      { message: `page scrolls sideways on ${name} at ${width} px`, timeout: 2000 }).toBe('fits');
    if (signedIn) {
      const box = await page.getByRole('banner').getByRole('button', { name: 'Se déconnecter' }).boundingBox();
      expect(box, `« Se déconnecter » shown on ${name} at ${width} px`).not.toBeNull();
      expect(box!.x, `« Se déconnecter » inside the window on ${name} at ${width} px`).toBeGreaterThanOrEqual(0);
      expect(box!.x + box!.width, `« Se déconnecter » inside the window on ${name} at ${width} px`).toBeLessThanOrEqual(width);
    }
    await page.screenshot({ path: path.join(SHOTS, `layout-${name}-${width}.png`), fullPage: true });
  }
  await page.setViewportSize({ width: 1280, height: 800 });
}

/** The element is inside the window as it shows (no scrolling needed to see it). */
async function inView(page: Page, locator: ReturnType<Page['getByRole']>): Promise<void> {
  const box = await locator.boundingBox();
  const viewport = page.viewportSize()!;
  expect(box, 'shown').not.toBeNull();
  expect(box!.y).toBeGreaterThanOrEqual(0);
  expect(box!.y + box!.height).toBeLessThanOrEqual(viewport.height);
}

const nav = (page: Page, name: string) => page.getByRole('navigation').getByRole('button', { name, exact: true }).click();

beforeAll(async () => {
  tmp = prepareRun('pli-layout-');
  browser = await launchChromium();
});

afterAll(() => closeRun(browser, bridges, tmp));

describe('layout, voice check, help, opening from outside, look', () => {
  it('walks every screen of a police workstation', async () => {
    const cardClaire = card('Claire Petit', 'mairie@vandoeuvre.fr', 'Mairie de Vandœuvre-lès-Nancy');
    const cardMarc = card('Marc Lenoir', 'accueil@mairie-laxou.fr', 'Mairie de Laxou');
    const src = path.join(tmp, 'src');
    mkdirSync(src);
    const xls = path.join(src, 'IS101-2026-T4.xls');
    writeFileSync(xls, Buffer.concat([Buffer.from('d0cf11e0a1b11ae1', 'hex'), randomBytes(20_000)]));

    const bridge = await startBridge({ home: path.join(tmp, 'police'), rendererDir: RENDERER });
    bridges.push(bridge);
    // As support.ts openApp, with a clock the test can move (the idle lock), flowing normally until then.
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
    page.on('pageerror', (e) => consoleErrors.push(String(e)));
    await page.clock.install();
    await page.addInitScript(bridgeClient, clientConfig(bridge));
    await page.goto(bridge.url);

    // --- first run: step indicators -----------------------------------------------------------
    await h1(page, 'Bienvenue dans Pli');
    for (const n of [1, 2, 3]) await page.getByText(`Étape ${n} sur 3`, { exact: true }).waitFor();
    // The contrast check can fail: a pale text planted for a moment is caught.
    await plantPale(page, true);
    await expect(contrast(page, 'probe')).rejects.toThrow(/contrast on probe/);
    await plantPale(page, false);
    await shots(page, '01-first-run', false);
    await page.getByRole('button', { name: 'Créer le profil de ce poste' }).click();
    await page.getByText('Profil prêt.').waitFor();
    await page.getByLabel('Nom et prénom').fill('Paul Durand');
    await page.getByLabel('Adresse électronique').fill('paul.durand@interieur.gouv.fr');
    await page.getByLabel('Organisation').fill('Circonscription de police nationale de Nancy');
    await page.getByLabel('Phrase de passe (obligatoire)', { exact: true }).fill(PASS);
    await page.getByLabel('Confirmez la phrase de passe').fill(PASS);
    await page.getByRole('button', { name: 'Créer mon identité' }).click();
    await h1(page, 'Plis reçus');
    await shots(page, '02-inbox');

    // --- Settings: the confirmation beside its button, inside the 800 px window ----------------
    await nav(page, 'Paramètres');
    await h1(page, 'Paramètres');
    await page.getByLabel('Verrouillage après inactivité (minutes)').fill('1');
    await page.getByRole('button', { name: 'Enregistrer le délai' }).click();
    const idleSaved = page.getByRole('status').filter({ hasText: 'Verrouillage après 1 minute d’inactivité' });
    await idleSaved.waitFor();
    await inView(page, idleSaved);
    // The mailbox test is inactive until the settings are saved, and says so beside it.
    await page.getByText(`Pourquoi ce bouton est inactif${NBSP}: enregistrez d’abord les réglages de la boîte.`).waitFor();
    await shots(page, '03-settings');

    // --- Directory: voice check ----------------------------------------------------------------
    await nav(page, 'Annuaire');
    await h1(page, 'Annuaire');
    await pick(page, 'import-card', [cardClaire]);
    await page.getByRole('status').filter({ hasText: 'Correspondant ajouté' }).waitFor();
    await pick(page, 'import-card', [cardMarc]);
    await page.getByRole('status').filter({ hasText: /Marc Lenoir/ }).waitFor();
    const claireRow = page.getByRole('row').filter({ hasText: 'Claire Petit' });
    await claireRow.getByText('Non vérifiée de vive voix').waitFor();
    await claireRow.getByRole('button', { name: 'Vérifier de vive voix l’empreinte de Claire Petit' }).click();
    const panel = page.getByRole('group', { name: 'Vérifier de vive voix l’empreinte de Claire Petit' });
    await panel.getByText(/Appelez Claire Petit/).waitFor();
    await shots(page, '04-directory-voice-panel');
    await panel.getByRole('button', { name: 'Elle est identique : marquer vérifiée'.replace(' :', `${NBSP}:`) }).click();
    const done = claireRow.getByRole('status').filter({ hasText: 'marquée vérifiée de vive voix' });
    await done.waitFor();
    await inView(page, done);
    await claireRow.getByText(/^Vérifiée de vive voix, le .+, par Paul Durand$/).waitFor();
    await page.getByRole('row').filter({ hasText: 'Marc Lenoir' }).getByText('Non vérifiée de vive voix').waitFor();
    await shots(page, '05-directory-voice-checked');

    // --- New container: unverified recipients marked, one primary action, reasons -------------
    await nav(page, 'Nouveau pli');
    await h1(page, 'Nouveau pli');
    const claire = page.getByRole('checkbox', { name: /^Claire Petit/ });
    await page.getByText('empreinte vérifiée de vive voix', { exact: true }).waitFor();
    expect(await page.getByText('empreinte vérifiée de vive voix', { exact: true }).count()).toBe(1);
    await page.getByRole('checkbox', { name: /^Marc Lenoir.*empreinte non vérifiée de vive voix/ }).waitFor();
    const transports = page.getByRole('radio');
    expect(await transports.count()).toBe(3 + 2); // the transport, and people / password
    const primary = page.getByRole('button', { name: 'Chiffrer et enregistrer le pli…' });
    expect(await primary.isDisabled()).toBe(true);
    await page.getByText('ajoutez au moins un fichier.', { exact: false }).waitFor();
    await pick(page, 'add-files', [xls]);
    await page.getByText('choisissez au moins un destinataire.', { exact: false }).waitFor();
    await claire.check();
    expect(await primary.isEnabled()).toBe(true);
    await page.getByRole('radio', { name: 'Par la boîte aux lettres fonctionnelle (messagerie)' }).check();
    const mail = page.getByRole('button', { name: 'Chiffrer et envoyer par la messagerie' });
    expect(await mail.isDisabled()).toBe(true);
    await page.getByText(/aucune boîte aux lettres n’est réglée sur ce poste/).waitFor();
    await shots(page, '06-new-container-reason');

    // --- idle lock: says why, keeps the draft ---------------------------------------------------
    await page.clock.fastForward('02:00');
    await h1(page, 'Connexion');
    const why = page.getByTestId('lock-reason');
    await why.getByText(/Session fermée après 1\u00a0minute sans activité/).waitFor();
    await why.getByText(/Le pli que vous prépariez est conservé/).waitFor();
    await shots(page, '07-idle-lock', false);
    await page.getByLabel('Votre phrase de passe').fill(PASS);
    await page.getByRole('button', { name: 'Se connecter' }).click();
    await h1(page, 'Nouveau pli');
    await page.getByText(/Pli en préparation repris après le verrouillage/).waitFor();
    await page.getByText('IS101-2026-T4.xls', { exact: true }).waitFor();
    expect(await claire.isChecked()).toBe(true);

    // --- a deposit on a USB key says so ---------------------------------------------------------
    await page.getByRole('radio', { name: 'Sur une clé USB ou dans un dossier' }).check();
    const usb = path.join(tmp, 'cle-usb');
    mkdirSync(usb);
    bridge.dialogAnswers.push(usb);
    await page.getByRole('button', { name: 'Chiffrer et déposer dans un dossier…' }).click();
    await h1(page, 'Boîte d’envoi');
    await page.getByRole('status').filter({ hasText: `déposé sur la clé${NBSP}:` }).waitFor();
    await page.getByRole('row', { name: /dossier/ }).getByText('déposé sur la clé', { exact: true }).waitFor();
    await shots(page, '08-outbox-deposited');
    const deposited = readdirSync(usb).filter((f) => f.endsWith('.pli'));
    expect(deposited.length).toBe(1);

    // --- the folder-import summary shows in view, however long the inbox ------------------------
    await nav(page, 'Plis reçus');
    await h1(page, 'Plis reçus');
    bridge.dialogAnswers.push(usb);
    await page.getByRole('button', { name: 'Importer depuis un dossier…' }).click();
    const summary = page.getByRole('status').filter({ hasText: /1 nouveau/ });
    await summary.waitFor();
    await inView(page, summary);
    await shots(page, '08b-inbox-folder-import');

    // --- a .pli handed over by the system (double-click): main's path, the page's reference ------
    const offeredDir = path.join(tmp, 'telechargements-secrets');
    mkdirSync(offeredDir);
    const offered = path.join(offeredDir, 'etat-IS101.pli');
    writeFileSync(offered, readFileSync(path.join(usb, deposited[0]!)));
    expect(bridge.handlers.offerFile(offered)).toMatch(/^f[0-9a-f]+$/);
    await page.getByRole('heading', { level: 1, name: 'Pli etat-IS101.pli' }).waitFor();
    expect(await page.locator('body').innerText()).not.toContain(offeredDir);
    await shots(page, '09-container-offered');
    const out = path.join(tmp, 'ouverts');
    mkdirSync(out);
    bridge.dialogAnswers.push(out);
    await page.getByRole('button', { name: 'Ouvrir dans un dossier…' }).click();
    await expect.poll(() => existsSync(path.join(out, 'IS101-2026-T4.xls'))).toBe(true);

    // --- a .pli dropped on the window opens the same way; anything else is refused, in words ----
    await nav(page, 'Aide');
    await h1(page, 'Aide');
    const drop = (name: string, real: string) => page.evaluate(({ name: fileName, real: realPath }) => {
      // Runs in the page (DOM types are not this file's): the globals it uses, typed here.
      const g = globalThis as unknown as {
        __pliTestPaths?: Record<string, string>;
        document: { querySelector(selector: string): { dispatchEvent(event: unknown): void } | null };
        DataTransfer: new () => { items: { add(file: unknown): void } };
        DragEvent: new (type: string, init: unknown) => unknown;
        File: new (parts: string[], name: string) => unknown;
      };
      g.__pliTestPaths = { ...(g.__pliTestPaths ?? {}), [fileName]: realPath };
      const data = new g.DataTransfer();
      data.items.add(new g.File(['x'], fileName));
      const target = g.document.querySelector('main')!;
      target.dispatchEvent(new g.DragEvent('dragover', { dataTransfer: data, bubbles: true, cancelable: true }));
      target.dispatchEvent(new g.DragEvent('drop', { dataTransfer: data, bubbles: true, cancelable: true }));
    }, { name, real });
    await drop('notes.txt', xls);
    await page.getByRole('alert').filter({ hasText: 'Seuls les plis chiffrés (fichiers .pli) s’ouvrent' }).waitFor();
    await page.getByRole('button', { name: 'Fermer' }).click();
    await drop('etat-IS101.pli', offered);
    await page.getByRole('heading', { level: 1, name: 'Pli etat-IS101.pli' }).waitFor();

    // --- Help: each role's steps and the SSI officer as known here ------------------------------
    await nav(page, 'Aide');
    await h1(page, 'Aide');
    for (const title of ['Agent de mairie habilité : recevoir un pli', 'Agent de police : envoyer un état statistique', 'Officier SSI : clés et annuaire', 'Votre officier SSI']) {
      await page.getByRole('heading', { level: 2, name: title.replace(' :', `${NBSP}:`) }).waitFor();
    }
    await page.getByText(/Aucune autorité SSI n’est reconnue sur ce poste/).waitFor();
    await shots(page, '10-help');

    await nav(page, 'Plis reçus');
    await h1(page, 'Plis reçus');
    expect(consoleErrors).toEqual([]);
  });
});

// Reflow on the screens the police workstation above does not show: the SSI officer's console,
// the conventions (a convention's facts, the new convention form), the directory with its
// authority and its « Actions » column, and Indicateurs with figures (charts and tables), each at
// 640 and 320 px. Nadia holds the authority and the figures (support.ts observatory).
describe('reflow at 640 and 320 px: the officer and the observatory', () => {
  it('every screen of the nav, a convention and its form, with figures', async () => {
    const home = path.join(tmp, 'observatoire');
    await observatoryWithFigures(home, PASS, tmp);
    const bridge = await startBridge({ home, rendererDir: RENDERER });
    bridges.push(bridge);
    const page = await openApp(browser, bridge, consoleErrors);
    await signInToInbox(page, 'Nadia Observatoire', PASS);
    const entries = await page.getByRole('navigation').getByRole('button').allTextContents();
    expect(entries).toContain('Console de l’officier SSI');
    for (const entry of entries) {
      await nav(page, entry);
      await page.locator('main h1').first().waitFor();
      if (entry === 'Indicateurs') await page.locator('section.indicator canvas').first().waitFor();
      if (entry === 'Annuaire') await page.getByRole('columnheader', { name: 'Actions' }).waitFor();
      if (entry === 'Conventions') await page.getByRole('heading', { level: 2, name: 'Observatoire de la délinquance' }).waitFor();
      await reflow(page, `obs-${entry.normalize('NFD').replace(/[\u0300-\u036f]/g, '').replace(/[^A-Za-z]+/g, '-').toLowerCase()}`);
    }
    await nav(page, 'Conventions');
    await page.getByRole('button', { name: 'Nouvelle convention…' }).click();
    await page.getByRole('heading', { level: 2, name: 'Nouvelle convention' }).waitFor();
    await reflow(page, 'obs-convention-form');
    expect(consoleErrors).toEqual([]);
  });
});

// The real shell: a .pli on the command line (what a double-click in the file manager starts)
// reaches the interface through main (argv -> offerFile -> OFFERED_CHANNEL -> offered:list).
// Before anyone signs in, the sign-in screen says a container waits. Skipped without the binary.
const executable = electronBinary();
if (!executable) console.log('skipped: no Electron binary');

describe.skipIf(!executable)('Electron: a .pli given on the command line', () => {
  let app: ElectronApplication | undefined;
  afterAll(async () => { await app?.close(); });

  it('is announced on the sign-in screen by its name, never its path', async () => {
    const home = path.join(tmp, 'electron-mairie');
    cli(home, ['init']);
    cli(home, ['id', 'new', '--name', 'Claire Petit', '--email', 'mairie@vandoeuvre.fr', '--org', 'Mairie de Vandœuvre-lès-Nancy']);
    const folder = path.join(tmp, 'electron-telechargements');
    mkdirSync(folder);
    const file = path.join(folder, 'etat-IS101-T4.pli');
    writeFileSync(file, randomBytes(200));
    app = await _electron.launch({ executablePath: executable!, args: [ROOT, file], env: { ...process.env, PLI_HOME: home } });
    const window = await app.firstWindow();
    await window.getByText(/Un pli attend d’être ouvert\u00a0: etat-IS101-T4\.pli/).waitFor();
    expect(await window.locator('body').innerText()).not.toContain(folder);
  });
});
