// The officer creates and edits a convention in the interface (issue 14 §6), through the real
// interface and the real core. The profile O is made with the `pli` binary: the officer of SSI
// DIPN 62 and one certified person of the town hall (Claire Dumont). In the app the officer opens
// « Nouvelle convention », types the convention (start day jj/mm/aaaa), first with a party no
// certified person belongs to (the refusal is said beside the parties), then right: the convention
// is signed and shown. « Modifier » signs version 2 with one more document. Screenshots
// (1280×800): test/artifacts/screens/convention-create-*.png. Needs `npm run build` and
// `npm run build:renderer`.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { startBridge, type Bridge } from './bridge.js';
import { openApp as openAppIn, RENDERER, shot, h1, prepareRun, launchChromium, closeRun, onlyStatusWith } from './support.js';
import { cliSandbox } from '../cli/support.js';
import { newPersonCard } from '../../electron/core/profile/identities.js';

const PASS = 'une phrase de passe de test';
const TOWN = 'Mairie de Saint-Laurent-Blangy';
const DIPN = 'DIPN du Pas-de-Calais';

let tmp: string;
let browser: Browser;
const bridges: Bridge[] = [];
const consoleErrors: string[] = [];
const cli = cliSandbox('pli-e2e-convention-create-', PASS);
const { at, ok } = cli;

const listed = () => JSON.parse(execFileSync(process.execPath, [path.resolve('bin/pli.js'), '--home', at('O'), 'convention', 'list', '--json'], { encoding: 'utf8', env: { ...process.env, PLI_PASSPHRASE: PASS } })) as { id: string; version: number; title: string; expect: string[]; start: string; people: { name: string; function: string }[] }[];

beforeAll(async () => {
  tmp = prepareRun('pli-e2e-convention-create-screens-');
  await ok('O', ['init']);
  await ok('O', ['id', 'new', '--name', 'Olivier Ssi', '--email', 'ssi@interieur.gouv.fr', '--org', DIPN]);
  await ok('O', ['authority', 'init', '--name', 'SSI DIPN 62']);
  const card = await newPersonCard({ name: 'Claire Dumont', email: 'mairie@saint-laurent-blangy.fr', org: TOWN });
  writeFileSync(at('claire.card'), card.card);
  await ok('O', ['authority', 'certify', at('claire.card'), '--role', 'operator', '--out', at('claire.cert')]);
  browser = await launchChromium();
});

afterAll(async () => {
  await closeRun(browser, bridges, tmp);
  execFileSync('rm', ['-rf', cli.root]);
});

describe('the officer creates, then edits, a convention', () => {
  it('« Nouvelle convention »: refusal beside the field, then signed and shown; « Modifier »: version 2', async () => {
    const bridge = await startBridge({ home: at('O'), rendererDir: RENDERER });
    bridges.push(bridge);
    const page = await openAppIn(browser, bridge, consoleErrors);
    await h1(page, 'Connexion');
    await page.getByLabel('Votre phrase de passe').fill(PASS);
    await page.getByRole('button', { name: 'Se connecter' }).click();
    await page.getByRole('navigation').getByRole('button', { name: 'Conventions' }).click();
    await h1(page, 'Conventions');
    await page.getByText('Aucune convention pour l’instant. Créez la première').waitFor();

    await page.getByRole('button', { name: 'Nouvelle convention…' }).click();
    await page.getByRole('heading', { level: 2, name: 'Nouvelle convention' }).waitFor();
    await page.getByLabel('Titre de la convention').fill('Convention Saint-Laurent-Blangy — états statistiques');
    await page.getByLabel('Organisation 1').fill(DIPN);
    await page.getByLabel('Boîte fonctionnelle 1').fill('dipn62@interieur.gouv.fr');
    await page.getByLabel('Organisation 2').fill('Mairie inconnue');
    await page.getByLabel('Boîte fonctionnelle 2').fill('mairie@saint-laurent-blangy.fr');
    await page.getByLabel('Habiliter Claire Dumont').check();
    await page.getByLabel('Fonction de Claire Dumont').fill('Directrice générale des services');
    await page.getByLabel('Documents attendus à chaque échéance').fill('IS 101\nIST');
    await page.getByLabel('Date de début').fill('01/01/2026');
    await page.getByLabel('Durée (années)').fill('3');
    await page.getByLabel('Demander un accusé d’ouverture pour chaque pli').check();
    await page.getByRole('button', { name: 'Signer la convention' }).click();
    // The core's refusal, beside the parties: no certified person belongs to that organisation.
    const refusal = page.locator('#cf-parties-error');
    await refusal.filter({ hasText: /Mairie inconnue/ }).waitFor();
    await shot(page, 'convention-create-refus');
    expect(listed()).toEqual([]);

    await page.getByLabel('Organisation 2').fill(TOWN);
    // A due day of 31 (not in every month): said beside the field, in words, nothing signed.
    const day = page.locator('#cf-day');
    await day.fill('31');
    await page.getByRole('button', { name: 'Signer la convention' }).click();
    await page.locator('#cf-schedule-error').filter({ hasText: /de 1 à 28/ }).waitFor();
    expect(listed()).toEqual([]);
    await day.fill('8');
    await shot(page, 'convention-create-formulaire');
    await page.getByRole('button', { name: 'Signer la convention' }).click();
    await onlyStatusWith(page, /signée \(version\s1\)/);
    await page.getByRole('heading', { level: 2, name: /Convention Saint-Laurent-Blangy/ }).waitFor();
    await page.getByRole('cell', { name: 'Directrice générale des services' }).waitFor();
    await shot(page, 'convention-create-signee');
    const [created] = listed();
    expect(created).toMatchObject({ version: 1, start: '2026-01-01', expect: ['IS 101', 'IST'], people: [{ name: 'Claire Dumont', function: 'Directrice générale des services' }] });

    await page.getByRole('button', { name: 'Modifier la convention…' }).click();
    await page.getByRole('heading', { level: 2, name: /Modifier la convention \(version\s2\)/ }).waitFor();
    // Prefilled with the signed convention, the start day in jj/mm/aaaa.
    expect(await page.getByLabel('Date de début').inputValue()).toBe('01/01/2026');
    await page.getByLabel('Documents attendus à chaque échéance').fill('IS 101\nIST\nÉtat 4001');
    await page.getByRole('button', { name: 'Signer la nouvelle version' }).click();
    await onlyStatusWith(page, /signée de nouveau \(version\s2\)/);
    await page.getByText(/version 2, signée par l’autorité/).waitFor();
    const [edited] = listed();
    expect(edited).toMatchObject({ id: created!.id, version: 2, expect: ['IS 101', 'IST', 'État 4001'] });
    expect(consoleErrors).toEqual([]);
  }, 180_000);
});
