// Issue 15, item "no technical leaks": the screens a person sees, walked in the real interface over
// the real core (the SSI officer's workstation from its first run, a town-hall correspondent, a
// container sealed, opened and dropped on a "USB key", a mailbox whose server is down, the audit
// log, the settings), each at 1280×800 and 1024×768 with a screenshot under
// test/artifacts/screens/. The visible text of every screen must hold no command line (`pli id …`,
// a `--flag`), no temporary folder's path, no system error code (ECONNREFUSED…), no bare hex
// string longer than 12 characters (the word « pli » itself is French and stays). A server's own
// words may exist on the page only folded away under « Détails techniques ».
// The Calendrier, Conventions, Indicateurs and Aide screens are walked too, on a profile holding a
// convention and a town hall's figures, with the same rules and WCAG AA contrast (axe-core, as
// layout.e2e does).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { mkdirSync, writeFileSync, realpathSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { startBridge, type Bridge } from './bridge.js';
import { openApp, RENDERER, SHOTS, h1, pick, prepareRun, launchChromium, closeRun, observatory, signInToInbox, contrast, onlyStatusWith } from './support.js';
import { correctFigure, importState } from '../../electron/core/indicators/store.js';
import { stopReading } from '../../electron/core/indicators/read.js';
import { audit } from '../../electron/core/context.js';
import { QUARTERS, istOf, istRows, toCsv } from '../unit/indicators-fixtures.js';

const PASS_OFFICER = 'la clé de voûte du service SSI';
const TOWN_HALL = 'Mairie de Vandœuvre-lès-Nancy';
const SIZES = [{ width: 1280, height: 800 }, { width: 1024, height: 768 }];

let tmp: string;
let browser: Browser;
const bridges: Bridge[] = [];
const consoleErrors: string[] = [];

/** What must never be seen: each rule with its name, for a failure that says which leak. */
function leaks(text: string): string[] {
  const temporary = [tmp, realpathSync(tmp), os.tmpdir(), '/dev/shm', '/tmp/'].filter(Boolean);
  const rules: [string, RegExp][] = [
    ['command line', /\bpli (id|init|mailbox|audit|directory|encrypt|decrypt|open|receive|send|officer|authority|outbox|inbox)\b/i],
    ['--flag', /(^|[\s(«"'])--[a-z][a-z-]*/m],
    ['system error code', /\b(ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENOTFOUND|EHOSTUNREACH|EACCES|EPERM|ENOENT|EEXIST|ENOSPC|EROFS|EPIPE|EPROTO)\b/],
    ['bare hex longer than 12', /\b[0-9a-f]{13,}\b/i],
    ['server English', /unable to verify|self[- ]signed certificate|connect ECONN|Connection refused/i],
  ];
  return [
    ...rules.filter(([, re]) => re.test(text)).map(([name, re]) => {
      const m = re.exec(text)!;
      return `${name}: « ${m[0]} » in …${text.slice(Math.max(0, m.index - 60), m.index + m[0].length + 20).replace(/\s+/g, ' ')}…`;
    }),
    ...temporary.filter((t) => text.includes(t)).map((t) => `temporary folder path: ${t}`),
  ];
}

/** The screen at both sizes: screenshots, and its visible text checked. */
async function check(page: Page, name: string): Promise<void> {
  for (const size of SIZES) {
    await page.setViewportSize(size);
    await page.screenshot({ path: path.join(SHOTS, `words-${name}-${size.width}x${size.height}.png`), fullPage: true });
    // innerText: what is rendered (a closed <details> is not), as a person sees it.
    const visible = await page.locator('body').innerText();
    expect(leaks(visible), `${name} at ${size.width}×${size.height}`).toEqual([]);
  }
  await page.setViewportSize(SIZES[0]!);
}

/** Nothing wider than the window at either size (no sideways scrolling on a 1024 px screen). */
async function fitsWidth(page: Page, screen: string): Promise<void> {
  type El = { tagName: string; className: string; textContent: string | null; getBoundingClientRect(): { right: number } };
  const widths = await page.evaluate(() => {
    const d = (globalThis as unknown as { document: { documentElement: { scrollWidth: number; clientWidth: number }; querySelectorAll(s: string): El[] } }).document;
    const client = d.documentElement.clientWidth;
    // The deepest elements past the right edge: what to fix.
    const past = [...d.querySelectorAll('body *')].filter((el) => el.getBoundingClientRect().right > client + 1)
      .map((el) => `${el.tagName.toLowerCase()}.${el.className} « ${(el.textContent ?? '').slice(0, 40)} »`).slice(-5);
    return { scroll: d.documentElement.scrollWidth, client, past };
  });
  expect(widths.scroll, `${screen}: page wider than the window: ${widths.past.join(' | ')}`).toBeLessThanOrEqual(widths.client);
}

const nav = async (page: Page, name: string) => {
  await page.getByRole('navigation').getByRole('button', { name, exact: true }).click();
  await h1(page, name);
};

beforeAll(async () => {
  tmp = prepareRun('pli-e2e-words-');
  browser = await launchChromium();
});
afterAll(() => closeRun(browser, bridges, tmp));

describe('no technical words reach the screens (issue 15)', () => {
  it('the leak rules catch what they promise, and let French through', () => {
    expect(leaks('Importez sa carte (pli id import)')).toHaveLength(1);
    expect(leaks('« pli mailbox set ... --ca FICHIER »')).toHaveLength(2);
    expect(leaks('(--folder, clé USB)')).toHaveLength(1);
    expect(leaks('connect ECONNREFUSED 127.0.0.1:9')).toHaveLength(2);
    expect(leaks(`Dossier ${tmp}/cle lu`)).not.toEqual([]);
    expect(leaks('Identifiant du pli 3f9a0c217be4d5e6f708192a3b4c5d6e')).toHaveLength(1);
    expect(leaks('Le pli 3f9a 0c21 7be4… a été ouvert — Envoyer un pli, 25 Mo — ABCD-EFGH-JKMN-PQRS-TVWX')).toEqual([]);
  });

  it('first run, officer, directory, new container, container, outbox, mailbox down, audit, settings, sign-in', async () => {
    const files = path.join(tmp, 'fichiers');
    const usb = path.join(tmp, 'cle-usb');
    const opened = path.join(tmp, 'ouverts');
    mkdirSync(files);
    mkdirSync(usb);
    mkdirSync(opened);
    const xls = path.join(files, 'IS101-2026-T3.xls');
    writeFileSync(xls, Buffer.concat([Buffer.from('d0cf11e0a1b11ae1', 'hex'), randomBytes(20_000)]));

    const bridge = await startBridge({ home: path.join(tmp, 'poste-ssi'), rendererDir: RENDERER });
    bridges.push(bridge);
    const o = await openApp(browser, bridge, consoleErrors);

    // First run, officer path.
    await h1(o, 'Bienvenue dans Pli');
    await check(o, 'first-run');
    await o.getByRole('button', { name: 'Créer le profil de ce poste' }).click();
    await o.getByText('Profil prêt.').waitFor();
    await o.getByText(/dans le dossier «\sposte-ssi\s»/).waitFor();
    await check(o, 'first-run-profile');
    await o.getByRole('radio', { name: /est celui de l’officier SSI/ }).check();
    await o.getByLabel('Nom de l’autorité').fill('SSI DIPN 54');
    await o.getByLabel('Nom et prénom').fill('Sophie Marchal');
    await o.getByLabel('Adresse électronique').fill('ssi.dipn54@interieur.gouv.fr');
    await o.getByLabel('Organisation').fill('DIPN 54 — SSI');
    await o.getByLabel('Phrase de passe (obligatoire)', { exact: true }).fill(PASS_OFFICER);
    await o.getByLabel('Confirmez la phrase de passe').fill(PASS_OFFICER);
    await o.getByRole('button', { name: 'Créer mon identité et l’autorité' }).click();
    await h1(o, 'Autorité SSI créée');
    await check(o, 'authority-created');
    await o.getByRole('button', { name: 'Continuer' }).click();
    await h1(o, 'Plis reçus');
    await check(o, 'inbox');

    // Officer console: a town-hall person provisioned (the one-time passphrase dialog), the directory exported.
    await nav(o, 'Console de l’officier SSI');
    await o.getByLabel('Nom et prénom').fill('Claire Petit');
    await o.getByLabel('Boîte aux lettres fonctionnelle').fill('accueil@mairie-vandoeuvre.fr');
    await o.getByLabel('Organisation').fill(TOWN_HALL);
    await o.locator('#provision-role').selectOption('operator');
    bridge.dialogAnswers.push(path.join(files, 'claire.plikey'));
    await o.getByRole('button', { name: 'Créer et enregistrer le fichier de clés…' }).click();
    await o.getByTestId('one-time').waitFor();
    await check(o, 'officer-one-time');
    await o.getByRole('button', { name: 'Je l’ai dictée : fermer' }).click();
    bridge.dialogAnswers.push(path.join(files, 'annuaire.json'));
    await o.getByRole('button', { name: 'Exporter l’annuaire…' }).click();
    await onlyStatusWith(o, /Annuaire n°\s1 enregistré \(fichier «\sannuaire\.json\s»\)/);
    await check(o, 'officer');

    await nav(o, 'Annuaire');
    await o.getByText(/L’empreinte résume les clés/).waitFor();
    await check(o, 'directory');

    // A container sealed to Claire and kept readable by me: its file's name, never the folder's path.
    await nav(o, 'Nouveau pli');
    await pick(o, 'add-files', [xls]);
    await o.getByRole('checkbox', { name: /^Claire Petit/ }).check();
    await check(o, 'new-container');
    const sealed = path.join(usb, 'IS101-T3.pli');
    bridge.dialogAnswers.push(sealed);
    await o.getByRole('button', { name: 'Chiffrer et enregistrer le pli…' }).click();
    await onlyStatusWith(o, /Pli enregistré \(fichier «\sIS101-T3\.pli\s»/);
    await check(o, 'new-container-sealed');

    // The container opened from disk: its reference shortened, the folder by its name.
    await nav(o, 'Plis reçus');
    await pick(o, 'open-container', [sealed]);
    await o.getByRole('heading', { level: 1, name: /IS101-T3\.pli/ }).waitFor();
    await check(o, 'container');
    bridge.dialogAnswers.push(opened);
    await o.getByRole('button', { name: 'Ouvrir dans un dossier…' }).click();
    await onlyStatusWith(o, /1 fichier enregistré dans le dossier «\souverts\s»/);
    await o.getByRole('columnheader', { name: 'Code de contrôle' }).waitFor();
    await check(o, 'container-opened');

    // Dropped on a "USB key" (the folder transport): the outbox names the folder, not its path.
    await nav(o, 'Nouveau pli');
    await pick(o, 'add-files', [xls]);
    await o.getByRole('checkbox', { name: /^Claire Petit/ }).check();
    // One primary button since h2-layout: the transport is chosen in the radio group first.
    await o.getByRole('radio', { name: 'Sur une clé USB ou dans un dossier' }).check();
    bridge.dialogAnswers.push(usb);
    await o.getByRole('button', { name: 'Chiffrer et déposer dans un dossier…' }).click();
    await h1(o, 'Boîte d’envoi');
    await o.getByText(/déposé sur la clé\s:\s«\scle-usb\s»/).waitFor(); // h2-layout's words; the folder by its name
    await check(o, 'outbox');

    // The functional mailbox on a server that refuses connections: French words in view, the
    // server's own text only under « Détails techniques » (present in the page, not shown).
    await nav(o, 'Paramètres');
    await o.getByLabel('Serveur IMAP (obligatoire)', { exact: true }).fill('127.0.0.1');
    await o.getByLabel('Port IMAP').fill('9');
    await o.getByLabel('Serveur SMTP (obligatoire)', { exact: true }).fill('127.0.0.1');
    await o.getByLabel('Port SMTP').fill('9');
    await o.getByLabel('Identifiant de la boîte').fill('ssi.dipn54@interieur.gouv.fr');
    await o.getByLabel('Mot de passe de la boîte').fill('mot de passe de la boîte');
    await o.getByRole('button', { name: 'Enregistrer la boîte' }).click();
    await onlyStatusWith(o, /Boîte ssi\.dipn54@interieur\.gouv\.fr enregistrée/);
    await o.getByRole('button', { name: 'Tester la connexion' }).click();
    await o.getByText(/SMTP — le serveur est injoignable/).waitFor({ timeout: 60_000 });
    await o.getByText(/IMAP — le serveur est injoignable/).waitFor({ timeout: 60_000 });
    const folded = await o.locator('ul.probe details').first().textContent();
    expect(folded).toMatch(/ECONNREFUSED|refused|injoignable/i);
    await check(o, 'mailbox-server-down');

    await nav(o, 'Journal d’audit');
    await o.getByRole('cell', { name: /^Sophie Marchal a chiffré le pli [0-9a-f]{4}\s[0-9a-f]{4}\s[0-9a-f]{4}…$/ }).first().waitFor();
    await o.getByRole('cell', { name: /^Sophie Marchal a ouvert le pli .+ de Sophie Marchal$/ }).waitFor();
    await o.getByRole('cell', { name: /^Sophie Marchal a enregistré le fichier «\sIS101-2026-T3\.xls\s»/ }).waitFor();
    await expect.poll(() => o.getByPlaceholder('jj/mm/aaaa').count()).toBe(1);
    await o.getByLabel(/Depuis le/).fill('31/02/2026');
    await o.getByText(/Date à écrire sous la forme jj\/mm\/aaaa/).waitFor();
    await o.getByLabel(/Depuis le/).fill('');
    await check(o, 'audit');

    await nav(o, 'Paramètres');
    await check(o, 'settings');

    await o.getByRole('button', { name: 'Se déconnecter' }).click();
    await h1(o, 'Connexion');
    await check(o, 'sign-in');
    // A wrong passphrase: what happened and how many attempts are left, as an i18next plural.
    await o.getByLabel('Votre phrase de passe').fill('pas la bonne phrase');
    await o.getByRole('button', { name: 'Se connecter' }).click();
    await o.getByRole('alert').filter({ hasText: 'Phrase de passe incorrecte pour Sophie Marchal. Il vous reste 4 essais avant un blocage de 15 min.' }).waitFor();
    await check(o, 'sign-in-wrong-passphrase');
    expect(consoleErrors).toEqual([]);
  }, 240_000);
});

describe('the Calendrier, Conventions, Indicateurs and Aide screens (issue 15 over issue 14 and 16)', () => {
  it('hold no technical words, keep WCAG AA contrast and fit the window, at 1280×800 and 1024×768', async () => {
    const PASS = 'les chiffres du conseil de sécurité';
    const home = path.join(tmp, 'observatoire');
    await observatory(home, PASS, { title: 'Échange des états de la délinquance — Saint-Laurent-Blangy', expect: ['IS 101', 'IST'] }, async ({ ctx, actor, convention, paul }) => {
      // Figures as the open path leaves them: containers with long hex ids (shown shortened), signers recorded.
      for (const [q, period] of QUARTERS.entries()) {
        const file = path.join(tmp, `ist-${period}.csv`);
        writeFileSync(file, toCsv(istRows(istOf(0, q)), ';', 'utf-8'));
        const container = randomBytes(16).toString('hex');
        audit(ctx, { actor, action: 'container.opened', object: container, detail: { sender: paul.id, files: 1 } });
        await importState(ctx, { convention, period, commune: 'Saint-Laurent-Blangy', file, container });
      }
      await correctFigure(ctx, { convention, commune: 'Saint-Laurent-Blangy', period: '2026-T4', indicator: 'ist.biens', value: 3500, reason: 'doublon signalé par le CPN' });
      // A state not recognised, whose file is gone from the temporary folder: never its path on screen.
      const scan = path.join(tmp, 'scan-etat.png');
      writeFileSync(scan, Buffer.concat([Buffer.from('89504e470d0a1a0a00000000', 'hex'), randomBytes(64)]));
      expect((await importState(ctx, { convention, period: '2027-T1', commune: 'Saint-Laurent-Blangy', file: scan })).recognised).toBe(false);
    });
    await stopReading();

    const bridge = await startBridge({ home, rendererDir: RENDERER });
    bridges.push(bridge);
    const o = await openApp(browser, bridge, consoleErrors);
    await signInToInbox(o, 'Nadia Observatoire', PASS);
    const walk = async (navName: string, title: string | RegExp, name: string, ready?: () => Promise<void>) => {
      await o.getByRole('navigation').getByRole('button', { name: navName, exact: true }).click();
      await o.getByRole('heading', { level: 1, name: title }).waitFor();
      await ready?.();
      await check(o, name);
      for (const size of SIZES) {
        await o.setViewportSize(size);
        await fitsWidth(o, `${name} at ${size.width}×${size.height}`);
      }
      await o.setViewportSize(SIZES[0]!);
      await contrast(o, name);
    };
    await walk('Calendrier', /Calendrier/, 'calendar', () => o.getByText(/Saint-Laurent-Blangy/).first().waitFor());
    await walk('Conventions', /Convention/, 'conventions', () => o.getByText(/Saint-Laurent-Blangy/).first().waitFor());
    await walk('Indicateurs', 'Indicateurs', 'indicators', () => o.getByTestId('indicator-sources').getByText(/signé par Paul Lefebvre/).first().waitFor());
    // The mapping editor open on a state, and a report saved: the file by its name, never the folder's path.
    bridge.dialogAnswers.push(path.join(tmp, 'ist-2025-T1.csv'));
    await o.getByRole('button', { name: 'Choisir un état à relier…' }).click();
    await o.getByTestId('mapping-editor').getByText(/ist-2025-T1\.csv\u00a0: 3 libellés de lignes/).waitFor();
    await o.getByLabel(/^Jusqu’à la période/).fill('2026-T4');
    bridge.dialogAnswers.push(path.join(tmp, 'rapport-slb.pdf'));
    await o.getByRole('button', { name: 'Rapport de la commune (PDF)' }).click();
    await onlyStatusWith(o, 'Rapport du 4e trimestre 2026 enregistré\u00a0: «\u00a0rapport-slb.pdf\u00a0».');
    await check(o, 'indicators-editor');
    await contrast(o, 'indicators-editor');
    await walk('Aide', /Aide/, 'help');
    expect(consoleErrors).toEqual([]);
  }, 240_000);
});
