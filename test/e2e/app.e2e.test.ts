// The whole exchange through the real interface and the real core: a police agent sets up a
// workstation (first run), imports a town hall correspondent's card made with the CLI, encrypts an
// IS 101 spreadsheet and an IST PDF to her; she opens the container on her own workstation and
// gets byte-identical files. Wrong passphrase and unknown sender show their French errors.
// Screenshots of every screen go to test/artifacts/screens/.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { startBridge, type Bridge } from './bridge.js';
import { openApp as openAppIn, RENDERER, shot, pick, prepareRun, launchChromium, closeRun, pliSync } from './support.js';


const PASS_A = 'le 8 de chaque trimestre, sans faute';
const PASS_B = 'une mairie bien gardée vaut mieux';

let tmp: string;
let browser: Browser;
const bridges: Bridge[] = [];
const consoleErrors: string[] = [];

const cli = (home: string, args: string[]): string => pliSync(home, PASS_B, args);

const openApp = (bridge: Bridge): Promise<Page> => openAppIn(browser, bridge, consoleErrors);



beforeAll(async () => {
  tmp = prepareRun('pli-e2e-');
  browser = await launchChromium();
});

afterAll(() => closeRun(browser, bridges, tmp));

describe('Pli interface over the real core', () => {
  it('first run, card import, encryption to a correspondent, opening on her workstation', async () => {
    // The correspondent (town hall) is set up with the command line.
    const homeB = path.join(tmp, 'mairie');
    cli(homeB, ['init']);
    const idB = cli(homeB, ['id', 'new', '--name', 'Claire Petit', '--email', 'claire.petit@mairie-vandoeuvre.fr', '--org', 'Mairie de Vandœuvre-lès-Nancy']);
    const cardB = path.join(tmp, 'carte-claire.json');
    cli(homeB, ['id', 'export', idB, '--out', cardB]);

    const src = path.join(tmp, 'src');
    mkdirSync(src);
    const xls = path.join(src, 'IS101-2026-T3.xls');
    const pdf = path.join(src, 'IST-2026-T3.pdf');
    const macro = path.join(src, 'calculs.xlsm');
    writeFileSync(xls, Buffer.concat([Buffer.from('d0cf11e0a1b11ae1', 'hex'), randomBytes(300_000)]));
    writeFileSync(pdf, Buffer.concat([Buffer.from('%PDF-1.7\n'), randomBytes(150_000)]));
    writeFileSync(macro, randomBytes(1000));

    // --- the police agent's workstation, from nothing --------------------------------------
    const bridgeA = await startBridge({ home: path.join(tmp, 'police'), rendererDir: RENDERER });
    bridges.push(bridgeA);
    const a = await openApp(bridgeA);
    await expect.poll(() => a.getByRole('heading', { level: 1 }).textContent()).toBe('Bienvenue dans Pli');
    await shot(a, '01-first-run');
    await a.getByRole('button', { name: 'Créer le profil de ce poste' }).click();
    await a.getByText('Profil prêt.').waitFor();
    await a.getByLabel('Nom et prénom').fill('Paul Durand');
    await a.getByLabel('Adresse électronique').fill('paul.durand@interieur.gouv.fr');
    await a.getByLabel('Organisation').fill('Circonscription de police nationale de Nancy');
    await a.getByLabel('Phrase de passe (obligatoire)', { exact: true }).fill(PASS_A);
    await a.getByLabel('Confirmez la phrase de passe').fill(PASS_A);
    await shot(a, '02-first-run-identity');
    await a.getByRole('button', { name: 'Créer mon identité' }).click();
    await a.getByRole('heading', { level: 1, name: 'Plis reçus' }).waitFor();
    await expect.poll(() => a.getByText('Connecté : Paul Durand').count()).toBe(1);
    await shot(a, '03-inbox');

    // Directory: import the town hall's card, export our own for her.
    await a.getByRole('button', { name: 'Annuaire' }).click();
    await pick(a, 'import-card', [cardB]);
    await a.getByRole('status').filter({ hasText: 'Correspondant ajouté : Claire Petit' }).waitFor();
    await expect.poll(() => a.getByRole('cell', { name: 'Correspondant' }).count()).toBe(1);
    await shot(a, '04-directory');
    const cardA = path.join(tmp, 'carte-paul.json');
    bridgeA.dialogAnswers.push(cardA);
    await a.getByRole('button', { name: 'Exporter la carte de Paul Durand' }).click();
    await a.getByRole('status').filter({ hasText: 'Carte de Paul Durand enregistrée' }).waitFor();
    expect(existsSync(cardA)).toBe(true);

    // New container: the macro-enabled file must be flagged and block sending until confirmed.
    await a.getByRole('button', { name: 'Nouveau pli' }).click();
    await pick(a, 'add-files', [xls, pdf, macro]);
    await a.getByText('peut contenir des macros', { exact: true }).waitFor();
    await a.getByRole('checkbox', { name: /Claire Petit/ }).check();
    const seal = a.getByRole('button', { name: 'Chiffrer et enregistrer le pli…' });
    expect(await seal.isDisabled()).toBe(true);
    await shot(a, '05-new-container-warning');
    await a.getByRole('button', { name: 'Retirer calculs.xlsm' }).click();
    expect(await seal.isEnabled()).toBe(true);
    const out = path.join(tmp, 'envoi', 'etat-2026-T3.pli');
    mkdirSync(path.dirname(out));
    bridgeA.dialogAnswers.push(out);
    await seal.click();
    await a.getByRole('status').filter({ hasText: 'Pli enregistré' }).waitFor();
    expect(existsSync(out)).toBe(true);
    // Progress reached the page for the sealing, up to its end.
    expect(bridgeA.progress.some((p) => p.phase === 'seal' && p.total > 0 && p.done === p.total)).toBe(true);
    await shot(a, '06-new-container-sealed');

    // A script in the page (a compromised interface) names a file the person never chose, to be
    // sealed or sent: refused before any dialog (the dialog's answer stays unused), nothing written.
    const secret = path.join(tmp, 'secret-du-poste.txt');
    writeFileSync(secret, 'jamais choisi\n');
    const decoy = path.join(tmp, 'envoi', 'fuite.pli');
    bridgeA.dialogAnswers.push(decoy);
    const named = await a.evaluate(async (file) => {
      const api = (globalThis as unknown as { pli: Record<string, (r: unknown) => Promise<{ ok: boolean; error?: { kind: string; code: string } }>> }).pli;
      return [
        await api.encryptFiles!({ opId: 'page-1', files: [file], to: [], self: true }),
        await api.sendContainer!({ opId: 'page-2', files: [file], to: [], self: true, transport: 'folder' }),
        await api.inspectContainer!({ path: file }),
      ];
    }, secret);
    for (const answer of named) expect(answer).toMatchObject({ ok: false, error: { kind: 'security', code: 'file-not-chosen' } });
    expect(bridgeA.dialogAnswers).toEqual([decoy]);
    bridgeA.dialogAnswers.length = 0;
    expect(existsSync(decoy)).toBe(false);

    await a.getByRole('button', { name: 'Journal d’audit' }).click();
    await a.getByRole('cell', { name: /^Paul Durand a chiffré le pli [0-9a-f]{4}\s[0-9a-f]{4}\s[0-9a-f]{4}…$/ }).waitFor();
    await shot(a, '07-audit');

    await a.getByRole('button', { name: 'Paramètres' }).click();
    // The language chosen is applied by its button (RGAA 7.4: choosing alone changes nothing).
    await a.getByLabel('Langue de l’interface').selectOption('en');
    await a.getByRole('button', { name: 'Appliquer la langue' }).click();
    await a.getByRole('heading', { level: 1, name: 'Settings' }).waitFor();
    await shot(a, '08-settings-en');
    await a.getByLabel('Interface language').selectOption('fr');
    await a.getByRole('button', { name: 'Apply the language' }).click();
    await a.getByRole('heading', { level: 1, name: 'Paramètres' }).waitFor();

    // Sign out, then a wrong passphrase: the French error, announced (role=alert).
    await a.getByRole('button', { name: 'Se déconnecter' }).click();
    await a.getByRole('heading', { level: 1, name: 'Connexion' }).waitFor();
    await a.getByLabel('Votre phrase de passe').fill('ce n’est pas la bonne phrase');
    await a.getByRole('button', { name: 'Se connecter' }).click();
    await a.getByRole('alert').filter({ hasText: /Phrase de passe incorrecte pour Paul Durand\. Il vous reste 4\sessais/ }).waitFor();
    await shot(a, '09-sign-in-wrong-passphrase');
    await a.getByLabel('Votre phrase de passe').fill(PASS_A);
    await a.getByRole('button', { name: 'Se connecter' }).click();
    await a.getByRole('heading', { level: 1, name: 'Plis reçus' }).waitFor();

    // --- the town hall's workstation (profile made with the CLI) ---------------------------
    const bridgeB = await startBridge({ home: homeB, rendererDir: RENDERER });
    bridges.push(bridgeB);
    const b = await openApp(bridgeB);
    await b.getByRole('heading', { level: 1, name: 'Connexion' }).waitFor();
    await b.getByLabel('Votre phrase de passe').fill(PASS_B);
    await b.getByRole('button', { name: 'Se connecter' }).click();
    await b.getByRole('heading', { level: 1, name: 'Plis reçus' }).waitFor();

    // Before she knows the sender, the container is refused, with what to do.
    await pick(b, 'open-container', [out]);
    await b.getByText(/Expéditeur inconnu\s: importez sa carte dans l’Annuaire/).waitFor();
    const received = path.join(tmp, 'recu');
    bridgeB.dialogAnswers.push(received);
    await b.getByRole('button', { name: 'Ouvrir dans un dossier…' }).click();
    await b.getByRole('alert').filter({ hasText: 'pli refusé' }).waitFor();
    await shot(b, '10-container-unknown-sender');

    await b.getByRole('button', { name: 'Annuaire' }).click();
    await pick(b, 'import-card', [cardA]);
    await b.getByRole('status').filter({ hasText: 'Correspondant ajouté : Paul Durand' }).waitFor();

    await b.getByRole('button', { name: 'Plis reçus' }).click();
    await pick(b, 'open-container', [out]);
    await b.getByRole('heading', { level: 1, name: 'Pli etat-2026-T3.pli' }).waitFor();
    await b.getByText('Circonscription de police nationale de Nancy').waitFor();
    await shot(b, '11-container');
    bridgeB.dialogAnswers.push(received);
    await b.getByRole('button', { name: 'Ouvrir dans un dossier…' }).click();
    await b.getByRole('status').filter({ hasText: 'Signature de Paul Durand vérifiée. 2 fichiers enregistrés' }).waitFor();
    await shot(b, '12-container-opened');
    expect(bridgeB.progress.some((p) => p.phase === 'open' && p.total > 0 && p.done === p.total)).toBe(true);

    for (const original of [xls, pdf]) {
      const opened = path.join(received, path.basename(original));
      expect(readFileSync(opened).equals(readFileSync(original))).toBe(true);
    }
    await b.getByRole('button', { name: 'Afficher dans le dossier' }).click();
    await expect.poll(() => bridgeB.shown.length).toBe(1);

    // The CSP must not have blocked anything, and nothing may have thrown.
    expect(consoleErrors).toEqual([]);
  });
});
