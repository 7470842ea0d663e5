// Accessibility (RGAA 4.1 / WCAG 2.1 AA) of what the audit found about focus, status messages,
// required fields, titles and the idle lock, through the real interface in Chromium over the test
// bridge: focus kept or given back after an action, a dialog, a panel that opens or closes, a file
// removed (RGAA 12.8, 7.1, 10.7); status messages put into a live region that was already in the
// page (7.5); the conventions form's required fields and the date field tied to its error (11.10);
// a window title per screen (8.6); a skip link (12.7); a warning before the idle lock, and focus
// counted as activity (13.1); its seconds counted down on screen from the lock's deadline, a screen
// reader told at the opening and at 30 and 10 seconds only. (a11y.e2e.test.ts has the Indicateurs'
// and Paramètres' fixes.)
// Keyboard only wherever focus is checked: Chromium draws the focus ring (:focus-visible) after
// keys, not after a mouse click. The officer's workstation O (authority SSI DIPN 62, Claire Dumont
// certified), made with the `pli` binary. The page's clock is Playwright's (page.clock), flowing
// normally until a test moves it. Needs `npm run build` and `npm run build:renderer`.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { bridgeClient, clientConfig, startBridge, type Bridge } from './bridge.js';
import { RENDERER, h1, pick, prepareRun, launchChromium, closeRun, signIn, statusWith } from './support.js';
import { cliSandbox } from '../cli/support.js';
import { newPersonCard } from '../../electron/core/profile/identities.js';

/** The page's DOM as these checks read it: the tests' tsconfig has no DOM library (as fit.e2e). */
interface El {
  tagName: string; id: string; textContent: string | null; isConnected: boolean; required: boolean;
  labels: ArrayLike<El> | null; parentElement: El | null;
  getAttribute(name: string): string | null; matches(selector: string): boolean; closest(selector: string): El | null;
  querySelector(selector: string): El | null; querySelectorAll(selector: string): El[];
  getBoundingClientRect(): { left: number; top: number; width: number; height: number };
  contains(other: unknown): boolean; compareDocumentPosition(other: El): number;
}
interface Doc {
  getComputedStyle(el: El): { visibility: string };
  document: {
    activeElement: El | null; body: El; title: string; querySelector(s: string): El | null; querySelectorAll(s: string): El[];
    elementFromPoint(x: number, y: number): El | null; getElementById(id: string): El | null;
  };
}


const PASS = 'une phrase de passe de test';
const TOWN = 'Mairie de Saint-Laurent-Blangy';
const HELD = 'Une opération est en cours sur cet écran';
const cli = cliSandbox('pli-e2e-a11y-focus-', PASS);
let tmp = '';
let browser: Browser | undefined;
const bridges: Bridge[] = [];
const consoleErrors: string[] = [];
let bridge: Bridge;
let page: Page;
let signInTitle = '';
const nav = (name: string) => page.getByRole('navigation').getByRole('button', { name, exact: true }).click();

beforeAll(async () => {
  tmp = prepareRun('pli-e2e-a11y-focus-screens-');
  await cli.ok('O', ['init']);
  await cli.ok('O', ['id', 'new', '--name', 'Olivier Ssi', '--email', 'ssi@interieur.gouv.fr', '--org', 'DIPN du Pas-de-Calais']);
  await cli.ok('O', ['authority', 'init', '--name', 'SSI DIPN 62']);
  const card = await newPersonCard({ name: 'Claire Dumont', email: 'mairie@saint-laurent-blangy.fr', org: TOWN });
  writeFileSync(cli.at('claire.card'), card.card);
  await cli.ok('O', ['authority', 'certify', cli.at('claire.card'), '--role', 'operator', '--out', cli.at('claire.cert')]);
  mkdirSync(path.join(tmp, 'src'), { recursive: true });
  for (const name of ['a.pdf', 'b.pdf']) writeFileSync(path.join(tmp, 'src', name), `%PDF-1.7\n${name}`);
  browser = await launchChromium();
  bridge = await startBridge({ home: cli.at('O'), rendererDir: RENDERER });
  bridges.push(bridge);
  page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
  page.on('pageerror', (e) => consoleErrors.push(String(e)));
  await page.clock.install();
  await page.addInitScript(bridgeClient, clientConfig(bridge));
  await page.goto(bridge.url);
  await h1(page, 'Connexion');
  // Kept for the first test (which says what it should have been).
  for (let i = 0; i < 20 && signInTitle !== 'Connexion – Pli'; i++) {
    await page.waitForTimeout(100);
    signInTitle = await page.title();
  }
  await signIn(page, 'Olivier Ssi', PASS);
  await h1(page, 'Plis reçus');
});
afterAll(async () => {
  await closeRun(browser, bridges, tmp || undefined);
  rmSync(cli.root, { recursive: true, force: true });
});

/** The focused element: tag, name, whether Chromium draws its focus ring, whether it is in <main>. */
const focused = () => page.evaluate(() => {
  const el = (globalThis as unknown as Doc).document.activeElement as El | null;
  if (!el || el === (globalThis as unknown as Doc).document.body) return { tag: 'body', name: '', ring: false, inMain: false };
  return {
    tag: el.tagName.toLowerCase(),
    name: (el.getAttribute('aria-label') ?? el.textContent ?? '').trim().replace(/[ \t\n\r]+/g, ' '), // no-break spaces kept
    ring: el.matches(':focus-visible'),
    inMain: el.closest('main') !== null,
  };
});
/** Waits (5 s) until the focus is on an element named exactly `name`. */
const focusOn = (name: string) => expect.poll(async () => (await focused()).name, { timeout: 5000 }).toBe(name);

/** Remembers every live region in the page now; `spoken(text)` then says whether one of THOSE came
 * to hold `text` (a region inserted already holding its text is often not announced: RGAA 7.5). */
const markRegions = () => page.evaluate(() => {
  (globalThis as unknown as { __regions: El[] }).__regions = [...(globalThis as unknown as Doc).document.querySelectorAll('[aria-live], [role=status], [role=alert]')];
});
const spoken = (text: string) => page.evaluate((wanted) => (globalThis as unknown as { __regions: El[] }).__regions
  .some((r) => r.isConnected && (r.textContent ?? '').includes(wanted)), text);

/** From now on, every sentence a live region of the page comes to hold (those there now and those
 * added later, a dialog's included), in order; read back with `said()`. */
const listen = () => page.evaluate(() => {
  type Observer = new (callback: () => void) => { observe(target: El, options: { subtree: boolean; childList: boolean; characterData: boolean }): void };
  const g = globalThis as unknown as Doc & { __said: string[]; MutationObserver: Observer };
  const live = () => [...g.document.querySelectorAll('[aria-live]:not([aria-live="off"]), [role=status], [role=alert]')];
  const held = new Map(live().map((r) => [r, (r.textContent ?? '').trim()]));
  g.__said = [];
  new g.MutationObserver(() => {
    for (const r of live()) {
      const text = (r.textContent ?? '').trim();
      if (text && text !== held.get(r)) g.__said.push(text);
      held.set(r, text);
    }
  }).observe(g.document.body, { subtree: true, childList: true, characterData: true });
});
const said = () => page.evaluate(() => (globalThis as unknown as { __said: string[] }).__said);

/** The idle warning as a person sees it (the sentence with a box on screen, its number, whether it
 * is inside a live region) and as a screen reader reads it (the dialog's description). */
const idleView = () => page.evaluate(() => {
  const d = (globalThis as unknown as Doc).document;
  const dialog = d.querySelector('dialog[open]');
  const seen = [...(dialog?.querySelectorAll('p') ?? [])].find((p) => {
    const box = p.getBoundingClientRect();
    return box.width > 2 && box.height > 2 && (globalThis as unknown as Doc).getComputedStyle(p).visibility !== 'hidden' && (p.textContent ?? '').includes('se fermera dans');
  });
  const count = /dans (\d+)\s+seconde/.exec(seen?.textContent ?? '');
  return {
    shown: count ? Number(count[1]) : null,
    seen: seen?.textContent ?? '',
    seenInLiveRegion: seen?.closest('[aria-live]:not([aria-live="off"]), [role=status], [role=alert], [role=log]') != null,
    described: d.getElementById(dialog?.getAttribute('aria-describedby') ?? '')?.textContent ?? '',
  };
});
const shownPoll = () => expect.poll(async () => (await idleView()).shown, { timeout: 5000 });

describe('accessibility: focus, status messages, required fields, titles, idle lock', () => {
  // A test that failed with a dialog open leaves the next one a page it can use.
  afterEach(async () => {
    if (await page.locator('dialog[open]').count()) await page.keyboard.press('Escape');
  });

  it('the window title names the screen; a skip link, first in the header, visible when focused, leads to the content', async () => {
    expect(signInTitle).toBe('Connexion – Pli');
    await expect.poll(() => page.title()).toBe('Plis reçus – Pli');
    await nav('Annuaire');
    await h1(page, 'Annuaire');
    await expect.poll(() => page.title()).toBe('Annuaire – Pli');

    const skip = page.getByRole('link', { name: 'Aller au contenu' });
    expect(await skip.evaluate((node) => { const a = node as unknown as El; return a.closest('header')?.querySelector('a, button, input, select, textarea') === a; })).toBe(true);
    // Hidden until focused: nothing of it shows at its place.
    const shows = () => skip.evaluate((node) => {
      const a = node as unknown as El;
      const r = a.getBoundingClientRect();
      return r.width > 10 && r.height > 10 && (globalThis as unknown as Doc).document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2) === a;
    });
    expect(await shows()).toBe(false);
    // Reached with the keyboard: back from « Se déconnecter », the header's last control.
    await page.getByRole('button', { name: 'Se déconnecter' }).focus();
    await page.keyboard.press('Shift+Tab');
    await focusOn('Aller au contenu');
    expect(await shows()).toBe(true);
    expect((await focused()).ring).toBe(true);
    await page.keyboard.press('Enter');
    await expect.poll(async () => (await focused()).inMain).toBe(true);
    expect(await page.evaluate(() => (globalThis as unknown as Doc).document.activeElement?.id)).toBe('main');
    // The next Tab goes on inside the screen, not to the navigation bar.
    await page.keyboard.press('Tab');
    expect((await focused()).inMain).toBe(true);
  });

  it('the one-time passphrase dialog gives the focus back to « Créer et enregistrer le fichier de clés… »; certify and export keep it on their button', async () => {
    await nav('Console de l’officier SSI');
    await h1(page, 'Console de l’officier SSI');
    const provision = page.getByRole('button', { name: 'Créer et enregistrer le fichier de clés…' });
    for (const [n, close] of [[1, 'Escape'], [2, 'Enter']] as const) {
      await page.getByLabel('Nom et prénom').fill(`Jean Test ${n}`);
      await page.getByLabel('Boîte aux lettres fonctionnelle').fill(`jean${n}@saint-laurent-blangy.fr`);
      await page.getByLabel('Organisation (obligatoire)', { exact: true }).fill(TOWN);
      bridge.dialogAnswers.push(path.join(tmp, `jean-${n}.json`));
      await provision.focus();
      await page.keyboard.press('Enter');
      const dialog = page.getByRole('dialog');
      await dialog.waitFor();
      await focusOn('Je l’ai dictée\u00a0: fermer');
      await page.keyboard.press(close); // Escape, or Enter on « Je l’ai dictée : fermer »
      await expect.poll(() => dialog.count()).toBe(0);
      await focusOn('Créer et enregistrer le fichier de clés…');
      expect((await focused()).ring).toBe(true);
    }
    // Certify, its file dialog cancelled: the button keeps the focus (disabled while busy, it lost it).
    bridge.dialogAnswers.push(null);
    await page.getByRole('button', { name: 'Choisir la carte et certifier…' }).focus();
    await page.keyboard.press('Enter');
    await page.waitForTimeout(500);
    await focusOn('Choisir la carte et certifier…');
    // Export: the confirmation, the focus still on the button.
    bridge.dialogAnswers.push(path.join(tmp, 'annuaire.json'));
    await page.getByRole('button', { name: 'Exporter l’annuaire…' }).focus();
    await page.keyboard.press('Enter');
    await statusWith(page, /annuaire\.json/);
    await focusOn('Exporter l’annuaire…');
    expect((await focused()).ring).toBe(true);
    expect(bridge.dialogAnswers).toEqual([]);
    // Revocation: « Annuler » gives the focus back to « Révoquer… », the confirmation to the list of people.
    const who = page.getByLabel('Personne à révoquer');
    await who.selectOption({ label: (await who.locator('option').allTextContents()).find((o) => o.startsWith('Jean Test 1'))! });
    await page.getByLabel('Motif').fill('départ');
    await page.getByLabel('Motif').press('Enter');
    await focusOn('Annuler');
    await page.keyboard.press('Enter');
    await focusOn('Révoquer…');
    await page.keyboard.press('Enter');
    await page.getByRole('button', { name: 'Confirmer la révocation' }).focus();
    await page.keyboard.press('Enter');
    await statusWith(page, 'La révocation de Jean Test 1 est enregistrée');
    await expect.poll(() => page.evaluate(() => (globalThis as unknown as Doc).document.activeElement?.id)).toBe('revoke-who');
  });

  it('the voice-check panel takes the focus when it opens, and gives it back to its button when cancelled', async () => {
    await nav('Annuaire');
    await h1(page, 'Annuaire');
    const mark = 'Vérifier de vive voix l’empreinte de Claire Dumont';
    await page.getByRole('button', { name: mark }).focus();
    await page.keyboard.press('Enter');
    const panel = page.getByRole('group', { name: mark });
    await panel.waitFor();
    await expect.poll(() => page.evaluate(() => (globalThis as unknown as Doc).document.activeElement?.closest('[role=group]')?.getAttribute('aria-label') ?? null)).toBe(mark);
    await panel.getByRole('button', { name: 'Annuler' }).focus();
    await page.keyboard.press('Enter');
    await focusOn(mark);
    expect((await focused()).ring).toBe(true);
  });

  it('the conventions form takes the focus when it opens and gives it back when cancelled; required fields are said, the date field carries its error', async () => {
    await nav('Conventions');
    await h1(page, 'Conventions');
    const open = async () => {
      await page.getByRole('button', { name: 'Nouvelle convention…' }).focus();
      await page.keyboard.press('Enter');
      await page.getByRole('heading', { level: 2, name: 'Nouvelle convention' }).waitFor();
    };
    await open();
    await expect.poll(() => page.evaluate(() => (globalThis as unknown as Doc).document.activeElement?.closest('section')?.querySelector('h2')?.textContent ?? null)).toBe('Nouvelle convention');
    await page.getByRole('button', { name: 'Annuler' }).focus();
    await page.keyboard.press('Enter');
    await focusOn('Nouvelle convention…');
    expect((await focused()).ring).toBe(true);

    await open();
    // Required: in code (required or aria-required) and visibly, « obligatoire » in the label.
    const required = await page.evaluate(() => ['cf-title', 'cf-org-0', 'cf-address-0', 'cf-org-1', 'cf-address-1', 'cf-types', 'cf-day', 'cf-expect', 'cf-start', 'cf-years', 'cf-retention', 'cf-renew']
      .map((id) => {
        const field = (globalThis as unknown as Doc).document.getElementById(id) as unknown as El;
        return `${id} ${field.required || field.getAttribute('aria-required') === 'true'} ${/obligatoire/.test(field.labels?.[0]?.textContent ?? '')}`;
      }));
    expect(required).toEqual([
      'cf-title true true', 'cf-org-0 true true', 'cf-address-0 true true', 'cf-org-1 true true', 'cf-address-1 true true', 'cf-types true true',
      'cf-day true true', 'cf-expect true true', 'cf-start true true', 'cf-years true true', 'cf-retention true true', 'cf-renew false false',
    ]);
    // Signed without a start date: the error is tied to the date field, its format hint kept.
    await page.getByRole('button', { name: 'Signer la convention' }).focus();
    await page.keyboard.press('Enter');
    await page.locator('#cf-start-error').waitFor();
    const start = await page.locator('#cf-start').evaluate((node) => { const f = node as unknown as El; return { invalid: f.getAttribute('aria-invalid'), describedby: (f.getAttribute('aria-describedby') ?? '').split(' ') }; });
    expect(start.invalid).toBe('true');
    expect(start.describedby).toContain('cf-start-error');
    expect(start.describedby).toContain('cf-start-hint');
    await page.getByRole('button', { name: 'Annuler' }).click();
  });

  it('removing a file focuses the next « Retirer », then the file picker; sealing keeps the focus on its button', async () => {
    await nav('Nouveau pli');
    await h1(page, 'Nouveau pli');
    const files = ['a.pdf', 'b.pdf'].map((name) => path.join(tmp, 'src', name));
    await pick(page, 'add-files', files);
    await page.getByRole('button', { name: 'Retirer a.pdf' }).focus();
    await page.keyboard.press('Enter');
    await focusOn('Retirer b.pdf');
    expect((await focused()).ring).toBe(true);
    await page.keyboard.press('Enter');
    await expect.poll(() => page.getByRole('button', { name: /^Retirer/ }).count()).toBe(0);
    await expect.poll(() => page.evaluate(() => (globalThis as unknown as Doc).document.activeElement?.getAttribute('data-testid') ?? (globalThis as unknown as Doc).document.activeElement?.tagName)).toBe('add-files');

    await pick(page, 'add-files', [files[0]!]);
    await page.getByRole('checkbox', { name: /^Claire Dumont/ }).check();
    bridge.dialogAnswers.push(path.join(tmp, 'a.pli'));
    const seal = page.getByRole('button', { name: 'Chiffrer et enregistrer le pli…' });
    await seal.focus();
    await page.keyboard.press('Enter');
    await statusWith(page, 'Pli enregistré');
    await focusOn('Chiffrer et enregistrer le pli…');
    expect((await focused()).ring).toBe(true);
    // Inactive now (no file), and said so, yet focusable: a press starts nothing.
    expect(await seal.getAttribute('aria-disabled')).toBe('true');
    await page.keyboard.press('Enter');
    await page.waitForTimeout(300);
    expect(consoleErrors).toEqual([]);
  });

  it('« opération en cours » and the deposit\'s confirmation are put into a live region that was already there', async () => {
    await nav('Nouveau pli');
    await h1(page, 'Nouveau pli');
    await pick(page, 'add-files', [path.join(tmp, 'src', 'b.pdf')]);
    await page.getByRole('checkbox', { name: /^Claire Dumont/ }).check();
    await page.getByRole('radio', { name: 'Sur une clé USB ou dans un dossier' }).check();
    const usb = path.join(tmp, 'usb');
    mkdirSync(usb, { recursive: true });
    bridge.dialogAnswers.push(usb);
    const held = bridge.holdNext('outbox:send');
    await markRegions();
    await page.getByRole('button', { name: 'Chiffrer et déposer dans un dossier…' }).focus();
    await page.keyboard.press('Enter');
    await held.answered;
    try {
      await statusWith(page, HELD); // shown, as before
      await expect.poll(() => spoken(HELD), { timeout: 5000 }).toBe(true);
    } finally {
      held.release();
    }
    await h1(page, 'Boîte d’envoi');
    await statusWith(page, /Pli \(.+\) déposé sur la clé/); // shown, as before
    await expect.poll(() => spoken('déposé sur la clé'), { timeout: 5000 }).toBe(true);
  });

  it('the idle lock warns first (« Rester connecté », Escape), counts focus as activity, still locks a screen left alone, and says why inside the main content', async () => {
    await nav('Paramètres');
    await h1(page, 'Paramètres');
    // The mailbox's required fields as the conventions form's: required in code, « obligatoire » in the label (RGAA 11.10).
    expect(await page.getByLabel('Serveur IMAP').evaluate((node) => {
      const field = node as unknown as El;
      return `${field.required} ${/obligatoire/.test(field.labels?.[0]?.textContent ?? '')}`;
    })).toBe('true true');
    await page.getByLabel('Verrouillage après inactivité (minutes)').fill('2');
    const save = page.getByRole('button', { name: 'Enregistrer le délai' });
    await save.focus();
    await page.keyboard.press('Enter');
    await statusWith(page, 'Verrouillage après 2 minutes');

    const warning = page.getByRole('alertdialog', { name: 'Session bientôt fermée' });
    await page.clock.runFor('01:05'); // a minute before the lock
    await warning.waitFor();
    await focusOn('Rester connecté');
    await page.keyboard.press('Escape');
    await expect.poll(() => warning.count()).toBe(0);
    await focusOn('Enregistrer le délai'); // back where the person was
    await h1(page, 'Paramètres');

    // The focus moved with no key nor pointer (a screen reader's, or the app's): activity all the same.
    await page.clock.runFor('00:50');
    await page.getByLabel('Verrouillage après inactivité (minutes)').focus();
    await page.clock.runFor('01:30'); // 2 min 20 s after the Escape, 1 min 30 s after the focus
    await warning.waitFor();
    await h1(page, 'Paramètres');
    await warning.getByRole('button', { name: 'Rester connecté' }).click();
    await expect.poll(() => warning.count()).toBe(0);

    // Left alone: the warning, then the lock as before; the reason inside <main>, after its h1, spoken.
    await markRegions();
    await page.clock.runFor('02:05');
    await h1(page, 'Connexion');
    // The focus on the sign-in screen, as after a sign-out by hand (not lost with the warning).
    await expect.poll(async () => (await focused()).tag).toBe('h1');
    const reason = await page.getByTestId('lock-reason').evaluate((node) => {
      const r = node as unknown as El;
      const main = r.closest('main');
      const title = main?.querySelector('h1');
      // 4: Node.DOCUMENT_POSITION_FOLLOWING (r comes after the title).
      return { inMain: main !== null, afterH1: title ? Boolean(title.compareDocumentPosition(r) & 4) : false };
    });
    expect(reason).toEqual({ inMain: true, afterH1: true });
    await expect.poll(() => spoken('Session fermée après 2\u00a0minutes sans activité'), { timeout: 5000 }).toBe(true);
    await expect.poll(() => page.title()).toBe('Connexion – Pli');
    expect(consoleErrors).toEqual([]);
  });

  it('the idle warning counts down each second from the lock\'s real deadline to 0, as the lock comes; a screen reader is told as it opens, then at 30 and 10 s only', async () => {
    // From here the page's time (and its timers) moves only when the test moves it: signed in at
    // P, the idle timer looks at P + 5 s, P + 10 s…; the lock's delay stays 2 minutes (the test above).
    await page.clock.pauseAt(await page.evaluate(() => Date.now()) + 1000);
    try {
      await signIn(page, 'Olivier Ssi', PASS);
      await h1(page, 'Plis reçus');
      await listen();
      // Activity at P + 2.5 s: the lock's deadline, P + 122.5 s, falls between two of the timer's looks.
      await page.clock.runFor(2500);
      await page.keyboard.press('Shift');
      const warning = page.getByRole('alertdialog', { name: 'Session bientôt fermée' });
      await page.clock.runFor(62_500); // P + 65 s: a minute before the lock, the warning (57.5 s left)
      await warning.waitFor();
      await focusOn('Rester connecté');
      const opened = await idleView();
      const n0 = opened.shown ?? 0;
      expect(n0).toBe(58);
      // As it opens, a screen reader reads the dialog's description: the same sentence, same count.
      expect(opened.described).toBe(opened.seen);
      expect(opened.seenInLiveRegion).toBe(false);

      // Each second the number seen goes down by one; the sentence read stays as it was.
      for (let i = 1; i <= 3; i++) {
        await page.clock.runFor(1000);
        await shownPoll().toBe(n0 - i);
      }
      expect((await idleView()).described).toBe(opened.described);
      // A page stalled (a busy machine, a window in the background) for 18 s: its timers come once,
      // late. The count comes from the deadline, not from the ticks counted. (The idle timer's looks
      // come at P + 86 s, + 91 s… from then: the next after the deadline at P + 126 s.)
      await page.clock.fastForward((n0 - 3 - 37) * 1000);
      await shownPoll().toBe(37);

      // Second by second down to 1 (« 1 seconde »): a screen reader told at 30 and 10 s, only then.
      for (let n = 36; n >= 1; n--) {
        await page.clock.runFor(1000);
        await shownPoll().toBe(n);
      }
      const last = await idleView();
      expect(last.seen).toMatch(/dans 1\s+seconde,/);
      expect(last.seenInLiveRegion).toBe(false);
      expect(last.described).toMatch(/dans 10\s+secondes,/);
      expect(await said()).toEqual([
        'Il reste 30\u00a0secondes avant la fermeture de la session.',
        'Il reste 10\u00a0secondes avant la fermeture de la session.',
      ]);

      // 0 at the deadline (P + 122.5 s), no lower; the lock then, not at the timer's next look (P + 126 s).
      await page.clock.runFor(500);
      await shownPoll().toBe(0);
      await page.clock.runFor(500);
      await page.getByRole('heading', { level: 1, name: 'Connexion' }).waitFor({ timeout: 5000 });
      expect(await warning.count()).toBe(0);
    } finally {
      await page.clock.resume();
    }
    expect(consoleErrors).toEqual([]);
  });

  it('activity while the warning is open keeps the session, and the warning says so (« Session maintenue », « Fermer » in the same place) instead of a count jumping back; left alone again, it counts down again, said', async () => {
    await page.clock.pauseAt(await page.evaluate(() => Date.now()) + 1000);
    try {
      // Signed in at P (the lock came at the end of the test above): the lock's deadline P + 120 s.
      await signIn(page, 'Olivier Ssi', PASS);
      await h1(page, 'Plis reçus');
      await listen();
      const warning = page.getByRole('alertdialog', { name: 'Session bientôt fermée' });
      // At 320 px wide (400 % zoom), where « Session bientôt fermée » takes two lines and
      // « Session maintenue » one: the button must not move all the same.
      await page.setViewportSize({ width: 320, height: 800 });
      await page.clock.runFor(65_000);
      await warning.waitFor();
      await focusOn('Rester connecté');
      const stay = await warning.getByRole('button', { name: 'Rester connecté' }).boundingBox();
      // The pointer moves onto the button (the person comes back): activity, at M = P + 65 s.
      await page.mouse.move((stay?.x ?? 0) + 4, (stay?.y ?? 0) + 4);
      await page.clock.runFor(1000);
      const kept = page.getByRole('alertdialog', { name: 'Session maintenue' });
      await kept.waitFor({ timeout: 5000 });
      const view = await idleView();
      expect(view.shown).toBeNull(); // no count any more (it would have jumped from 54 to 119)
      expect(view.described).toBe('Session maintenue\u00a0: votre activité a été prise en compte, la session reste ouverte. Vous pouvez fermer ce message.');
      // The button under the pointer closes the message, as « Rester connecté » would have.
      const close = await kept.getByRole('button', { name: 'Fermer' }).boundingBox();
      expect(close).toEqual(stay);
      await expect.poll(said, { timeout: 5000 }).toContain(view.described);

      // Past the deadline the warning counted to (P + 120 s = M + 55 s): still signed in, still kept.
      await page.clock.runFor(57_000);
      await h1(page, 'Plis reçus');
      expect(await kept.count()).toBe(1);

      // Left alone since M: at M + 60 s the warning's time comes again, it counts down again, said.
      await page.clock.runFor(3000);
      await warning.waitFor({ timeout: 5000 });
      await shownPoll().toBeLessThanOrEqual(60);
      const again = await said();
      expect(again.at(-1)).toMatch(/^Sans activité, la session se fermera dans (59|60)\u00a0secondes,/);
      await warning.getByRole('button', { name: 'Rester connecté' }).click();
      await expect.poll(() => warning.count()).toBe(0);
      await h1(page, 'Plis reçus');
    } finally {
      await page.setViewportSize({ width: 1280, height: 800 });
      await page.clock.resume();
    }
    expect(consoleErrors).toEqual([]);
  });
});
