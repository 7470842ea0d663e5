// The Calendrier and Convention screens (issue 14 §6) through the real interface and the real core.
// Profiles made with the `pli` binary: the officer's O signs the Saint-Laurent-Blangy convention
// (quarterly on the 8th, IS 101 and IST, five habilitated people of the town hall), the town hall's
// T imports it with the directory. On T, Claire Dumont (DGS) sees the year on the calendar, the
// banner from seven days before the 8th (on a rehearsal day), the convention and its nominative
// list, and saves the annex (PDF) and the register (CSV) where the dialog says; an existing file is
// refused and left unchanged. On O the officer terminates the convention. Screenshots (1280×800):
// test/artifacts/screens/convention-*.png. Needs `npm run build` and `npm run build:renderer`.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { startBridge, type Bridge } from './bridge.js';
import { openApp as openAppIn, RENDERER, shot, h1, alertWith, prepareRun, launchChromium, closeRun } from './support.js';
import { cliSandbox } from '../cli/support.js';
import { newPersonCard } from '../../electron/core/profile/identities.js';

const PASS = 'une phrase de passe de test';
const TOWN = 'Mairie de Saint-Laurent-Blangy';
const CPN = "CPN d'Arras";
const FIVE: [string, string][] = [
  ['Jean Morel', 'Maire'], ['Sophie Bernard', 'Adjointe au maire chargée de la sécurité'], ['Claire Dumont', 'Directrice générale des services'],
  ['Marc Petit', 'Chef du service des affaires générales'], ['Luc Girard', 'Agent de la voirie publique'],
];

let tmp: string;
let browser: Browser;
const bridges: Bridge[] = [];
const consoleErrors: string[] = [];
const cli = cliSandbox('pli-e2e-convention-', PASS);
const { at, ok } = cli;

const statusWith = (page: Page, text: string | RegExp) => page.getByRole('status').filter({ hasText: text }).waitFor();
async function signIn(page: Page, name: string): Promise<void> {
  await h1(page, 'Connexion');
  const choice = page.getByRole('radio', { name: new RegExp(name) });
  if (await choice.count()) await choice.check();
  await page.getByLabel('Votre phrase de passe').fill(PASS);
  await page.getByRole('button', { name: 'Se connecter' }).click();
}
const nav = (page: Page, name: string) => page.getByRole('navigation').getByRole('button', { name }).click();

beforeAll(async () => {
  tmp = prepareRun('pli-e2e-convention-screens-');
  await ok('O', ['init']);
  await ok('O', ['id', 'new', '--name', 'Olivier Ssi', '--email', 'ssi@interieur.gouv.fr', '--org', 'DIPN du Pas-de-Calais']);
  const pin = await ok('O', ['authority', 'init', '--name', 'SSI DIPN 62']);
  await ok('T', ['init']);
  const dgs = await cli.pli('O', ['authority', 'provision', '--name', 'Claire Dumont', '--email', 'mairie@saint-laurent-blangy.fr', '--org', TOWN, '--role', 'operator', '--out', at('dgs.key')]);
  expect(dgs.code, dgs.stderr).toBe(0);
  const ids: Record<string, string> = { 'Claire Dumont': dgs.stdout.trim() };
  const oneTime = /([0-9a-z]{4}(?:-[0-9a-z]{4}){5})/.exec(dgs.stderr)?.[1] ?? '';
  for (const [name, org] of [['Paul Lefebvre', CPN], ...FIVE.filter(([n]) => n !== 'Claire Dumont').map(([n]) => [n, TOWN])] as [string, string][]) {
    const card = await newPersonCard({ name, email: 'fonctionnelle@exemple.fr', org });
    ids[name] = card.id;
    writeFileSync(at(`${card.id}.card`), card.card);
    await ok('O', ['authority', 'certify', at(`${card.id}.card`), '--role', 'reader', '--out', at(`${card.id}.cert`)]);
  }
  await ok('O', [
    'convention', 'new', '--title', 'Convention Saint-Laurent-Blangy — états statistiques',
    '--party', `${CPN}=cpn-arras@interieur.gouv.fr`, '--party', `${TOWN}=mairie@saint-laurent-blangy.fr`,
    ...FIVE.flatMap(([name, fn]) => ['--person', `${ids[name]}=${fn}`]), '--person', `${ids['Paul Lefebvre']}=Chargé des statistiques`,
    '--types', '.doc,.xls,.csv,.pdf', '--schedule', 'quarterly:8', '--expect', 'IS 101', '--expect', 'IST',
    '--start', '2026-01-01', '--years', '1', '--renew-max', '4',
  ]);
  await ok('O', ['directory', 'export', '--out', at('d1.json')]);
  await ok('T', ['directory', 'import', at('d1.json'), '--pin', pin]);
  await ok('T', ['id', 'import-key', at('dgs.key')], { env: { PLI_PASSPHRASE: oneTime, PLI_NEW_PASSPHRASE: PASS } });
  browser = await launchChromium();
});

afterAll(async () => {
  await closeRun(browser, bridges, tmp);
  execFileSync('rm', ['-rf', cli.root]);
});

describe('the town hall: Calendrier and Convention', () => {
  let page: Page;
  let bridge: Bridge;

  it('shows the year with the states in words and icons, and the banner from seven days before the 8th', async () => {
    bridge = await startBridge({ home: at('T'), rendererDir: RENDERER });
    bridges.push(bridge);
    page = await openAppIn(browser, bridge, consoleErrors);
    await signIn(page, 'Claire Dumont');
    await nav(page, 'Calendrier');
    await h1(page, 'Calendrier des échanges');
    // A rehearsal day: 4 January 2027, four days before the 8th.
    await page.getByLabel('Jour du calendrier').fill('2027-01-04');
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
    const annex = path.join(tmp, 'liste-nominative.pdf');
    bridge.dialogAnswers.push(annex);
    await page.getByRole('button', { name: 'Enregistrer la liste nominative (PDF)…' }).click();
    await statusWith(page, 'Liste nominative enregistrée');
    const pdf = execFileSync('pdftotext', [annex, '-'], { encoding: 'utf8' }).replace(/\s+/g, ' ');
    for (const [name, fn] of FIVE) {
      expect(pdf).toContain(name);
      expect(pdf).toContain(fn);
    }

    const register = path.join(tmp, 'registre.csv');
    await page.getByLabel('Format').selectOption('csv');
    bridge.dialogAnswers.push(register);
    await page.getByRole('button', { name: 'Enregistrer le registre…' }).click();
    await statusWith(page, 'Registre');
    expect(readFileSync(register, 'utf8').startsWith('\ufeffDate;Heure;Sens;Partenaire')).toBe(true);

    // An existing file is refused and left as it was.
    writeFileSync(path.join(tmp, 'deja.pdf'), 'avant');
    bridge.dialogAnswers.push(path.join(tmp, 'deja.pdf'));
    await page.getByRole('button', { name: 'Enregistrer la liste nominative (PDF)…' }).click();
    await alertWith(page, 'existe déjà');
    expect(readFileSync(path.join(tmp, 'deja.pdf'), 'utf8')).toBe('avant');
    // No termination form for anyone but the officer.
    expect(await page.getByRole('button', { name: 'Résilier et signer' }).count()).toBe(0);
  });
});

describe('the officer: termination', () => {
  it('terminates the convention with a date and a reason, signed as a new version', async () => {
    const bridge = await startBridge({ home: at('O'), rendererDir: RENDERER });
    bridges.push(bridge);
    const page = await openAppIn(browser, bridge, consoleErrors);
    await signIn(page, 'Olivier Ssi');
    await nav(page, 'Conventions');
    await h1(page, 'Conventions');
    await page.getByLabel('Date de résiliation').fill('31/12/2026'); // jj/mm/aaaa (DayField)
    await page.getByLabel('Motif').fill('Fin de l’expérimentation, décidée en comité de pilotage');
    await page.getByRole('button', { name: 'Résilier et signer' }).click();
    await statusWith(page, 'Convention résiliée');
    await page.getByText(/Résiliée le 31\s+décembre\s+2026/).waitFor();
    await shot(page, 'convention-resiliee');
    const shown = JSON.parse(execFileSync(process.execPath, [path.resolve('bin/pli.js'), '--home', at('O'), 'convention', 'list', '--json'], { encoding: 'utf8', env: { ...process.env, PLI_PASSPHRASE: PASS } })) as { version: number; status: { state: string } }[];
    expect(shown[0]).toMatchObject({ version: 2, status: { state: 'terminated' } });
    expect(consoleErrors).toEqual([]);
  });
});
