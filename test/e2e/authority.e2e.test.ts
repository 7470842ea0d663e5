// The SSI authority through the real interface and the real core: the officer's workstation
// creates the authority (first run, officer path), provisions a town-hall person (one-time
// passphrase shown once), provisions and revokes another, and exports the signed directory. The
// town hall pins the authority by typing the fingerprint read on the phone (a wrong one is
// refused), imports the directory and installs the provisioned key file; that person sends a
// container to the officer's whole organisation (org:NAME), which the officer opens. A person
// created on the town-hall workstation is not on the list: signing in is refused until the
// officer certifies her card and the certificate is installed. The audit screen verifies the chain, exports it
// signed, and names the first bad entry after the database is tampered with (sqlite3). Five
// wrong passphrases lock the person out, with the time left. Screenshots: test/artifacts/screens/.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { startBridge, type Bridge } from './bridge.js';
import { openApp as openAppIn, RENDERER, shot, h1, alertWith, pick, prepareRun, launchChromium, closeRun, onlyStatusWith } from './support.js';


const PASS_OFFICER = 'la clé de voûte du service SSI';
const PASS_CLAIRE = 'une mairie bien gardée vaut mieux';
const PASS_LUC = 'le marché du jeudi matin';
const TOWN_HALL = 'Mairie de Vandœuvre-lès-Nancy';

let tmp: string;
let browser: Browser;
const bridges: Bridge[] = [];
const consoleErrors: string[] = [];

const openApp = (bridge: Bridge): Promise<Page> => openAppIn(browser, bridge, consoleErrors);



async function signIn(page: Page, name: string, passphrase: string): Promise<void> {
  await page.getByRole('radio', { name: new RegExp(name) }).check();
  await page.getByLabel('Votre phrase de passe').fill(passphrase);
  await page.getByRole('button', { name: 'Se connecter' }).click();
}
async function signOut(page: Page): Promise<void> {
  await page.getByRole('button', { name: 'Se déconnecter' }).click();
  await h1(page, 'Connexion');
}
async function provision(page: Page, bridge: Bridge, name: string, target: string, days = 365): Promise<string> {
  await page.getByLabel('Nom et prénom').fill(name);
  await page.getByLabel('Boîte aux lettres fonctionnelle').fill('accueil@mairie-vandoeuvre.fr');
  await page.getByLabel('Organisation').fill(TOWN_HALL);
  await page.locator('#provision-role').selectOption('operator');
  await page.locator('#provision-days').fill(String(days));
  bridge.dialogAnswers.push(target);
  await page.getByRole('button', { name: 'Créer et enregistrer le fichier de clés…' }).click();
  const secret = page.getByTestId('one-time');
  await secret.waitFor();
  return (await secret.textContent()) ?? '';
}

beforeAll(async () => {
  tmp = prepareRun('pli-e2e-authority-');
  browser = await launchChromium();
});

afterAll(() => closeRun(browser, bridges, tmp));

describe('SSI authority, nominative list and audit through the interface', () => {
  it('officer provisions and certifies, the town hall pins and enrols, the audit detects tampering, lockout', async () => {
    const files = path.join(tmp, 'remis');
    mkdirSync(files);
    const keyfile = path.join(files, 'cles-claire.json');
    const directory = path.join(files, 'annuaire-1.json');

    // --- the SSI officer's workstation: first run, officer path --------------------------------
    const bridgeO = await startBridge({ home: path.join(tmp, 'ssi'), rendererDir: RENDERER });
    bridges.push(bridgeO);
    const o = await openApp(bridgeO);
    await h1(o, 'Bienvenue dans Pli');
    await o.getByRole('button', { name: 'Créer le profil de ce poste' }).click();
    await o.getByText('Profil prêt.').waitFor();
    await o.getByRole('radio', { name: /est celui de l’officier SSI/ }).check();
    await o.getByLabel('Nom de l’autorité').fill('SSI DIPN 54');
    await o.getByLabel('Nom et prénom').fill('Sophie Marchal');
    await o.getByLabel('Adresse électronique').fill('ssi.dipn54@interieur.gouv.fr');
    await o.getByLabel('Organisation').fill('DIPN 54 — SSI');
    await o.getByLabel('Phrase de passe (obligatoire)', { exact: true }).fill(PASS_OFFICER);
    await o.getByLabel('Confirmez la phrase de passe').fill(PASS_OFFICER);
    await shot(o, '20-first-run-officer');
    await o.getByRole('button', { name: 'Créer mon identité et l’autorité' }).click();
    await h1(o, 'Autorité SSI créée');
    const fingerprint = (await o.locator('.fingerprint code').textContent()) ?? '';
    expect(fingerprint).toMatch(/^[0-9A-Z]{4}(-[0-9A-Z]{4}){4}$/);
    await shot(o, '21-authority-created');
    await o.getByRole('button', { name: 'Continuer' }).click();
    await h1(o, 'Plis reçus');

    // Officer console: provision Claire (one-time passphrase shown once), provision and revoke Marc.
    await o.getByRole('button', { name: 'Console de l’officier SSI' }).click();
    await h1(o, 'Console de l’officier SSI');
    const oneTime = await provision(o, bridgeO, 'Claire Petit', keyfile);
    expect(oneTime).toMatch(/^[0-9a-z]{4}(-[0-9a-z]{4}){5}$/i);
    await shot(o, '22-officer-one-time-passphrase');
    await o.getByRole('button', { name: 'Je l’ai dictée : fermer' }).click();
    await expect.poll(() => o.getByTestId('one-time').count()).toBe(0);
    expect(existsSync(keyfile)).toBe(true);
    // A certificate for 10 days: the console warns that it expires within 30 days.
    await provision(o, bridgeO, 'Marc Ancien', path.join(files, 'cles-marc.json'), 10);
    await o.getByRole('button', { name: 'Je l’ai dictée : fermer' }).click();
    await o.getByRole('row', { name: /Marc Ancien/ }).getByText(/Expire bientôt/).waitFor();
    await o.getByLabel('Personne à révoquer').selectOption({ label: `Marc Ancien — ${TOWN_HALL}` });
    await o.getByLabel('Motif').fill('départ du service');
    await o.getByRole('button', { name: 'Révoquer…' }).click();
    await alertWith(o, 'Révoquer Marc Ancien ?');
    await o.getByRole('button', { name: 'Confirmer la révocation' }).click();
    await onlyStatusWith(o, 'La révocation de Marc Ancien est enregistrée');
    bridgeO.dialogAnswers.push(directory);
    await o.getByRole('button', { name: 'Exporter l’annuaire…' }).click();
    await onlyStatusWith(o, 'Annuaire n° 1 enregistré');
    await shot(o, '23-officer-console');

    // --- the town hall: pin the authority (typed fingerprint), import the directory ------------
    const homeM = path.join(tmp, 'mairie');
    const bridgeM = await startBridge({ home: homeM, rendererDir: RENDERER });
    bridges.push(bridgeM);
    const m = await openApp(bridgeM);
    await h1(m, 'Bienvenue dans Pli');
    await m.getByRole('button', { name: 'Créer le profil de ce poste' }).click();
    await m.getByText('Profil prêt.').waitFor();
    // A misheard fingerprint: nothing is imported, the French error says what to do.
    const misheard = `${fingerprint[0] === 'A' ? 'B' : 'A'}${fingerprint.slice(1)}`;
    await m.getByLabel('Empreinte de l’autorité lue par l’officier SSI').fill(misheard);
    bridgeM.dialogAnswers.push(directory);
    await m.getByRole('button', { name: 'Choisir le fichier d’annuaire…' }).click();
    await alertWith(m, /n'est pas celle que vous avez indiquée.*appelez l'officier SSI/);
    await shot(m, '24-first-run-pin-mismatch');
    await m.getByLabel('Empreinte de l’autorité lue par l’officier SSI').fill(fingerprint.toLowerCase());
    bridgeM.dialogAnswers.push(directory);
    await m.getByRole('button', { name: 'Choisir le fichier d’annuaire…' }).click();
    await onlyStatusWith(m, 'Autorité SSI DIPN 54 reconnue');
    await m.getByText(`Autorité reconnue : SSI DIPN 54, empreinte ${fingerprint}`).waitFor();

    // Path (b): the key file provisioned by the officer, with the dictated one-time passphrase.
    await m.getByRole('radio', { name: /m’a remis un fichier de clés/ }).check();
    await m.getByLabel('Phrase à usage unique dictée par l’officier SSI').fill(oneTime);
    await m.getByLabel('Votre phrase de passe').fill(PASS_CLAIRE);
    await m.getByLabel('Confirmez la phrase de passe').fill(PASS_CLAIRE);
    await shot(m, '25-first-run-keyfile');
    bridgeM.dialogAnswers.push(keyfile);
    await m.getByRole('button', { name: 'Choisir le fichier de clés et l’installer…' }).click();
    await h1(m, 'Plis reçus');
    await m.getByText('Connecté : Claire Petit').waitFor();

    // Directory: authority, nominative list, certificates (Marc revoked).
    await m.getByRole('button', { name: 'Annuaire' }).click();
    await m.getByRole('heading', { name: 'Liste nominative de ce poste' }).waitFor();
    await m.getByText('révoqué (départ du service)').first().waitFor();
    await shot(m, '26-directory-authority');
    // New container: the organisation, and Marc shown but not selectable, with the reason.
    await m.getByRole('button', { name: 'Nouveau pli' }).click();
    await m.getByRole('checkbox', { name: /^DIPN 54 — SSI/ }).waitFor();
    expect(await m.getByRole('checkbox', { name: /Marc Ancien/ }).isDisabled()).toBe(true);
    expect(await m.getByRole('checkbox', { name: /Sophie Marchal/ }).isEnabled()).toBe(true);
    await shot(m, '27-new-container-recipients');
    // Sent to the whole organisation (org:NAME, resolved in main to its certified members).
    const pdf = path.join(files, 'IST-2026-T3.pdf');
    writeFileSync(pdf, Buffer.concat([Buffer.from('%PDF-1.7\n'), randomBytes(50_000)]));
    await pick(m, 'add-files', [pdf]);
    await m.getByRole('checkbox', { name: /^DIPN 54 — SSI/ }).check();
    const sealed = path.join(files, 'ist-t3.pli');
    bridgeM.dialogAnswers.push(sealed);
    await m.getByRole('button', { name: 'Chiffrer et enregistrer le pli…' }).click();
    await onlyStatusWith(m, /Pli enregistré.*lisible par\s: Sophie Marchal/);

    // The officer opens it: the sender's certificate is shown, then the signature verified.
    await o.getByRole('button', { name: 'Plis reçus' }).click();
    await pick(o, 'open-container', [sealed]);
    await h1(o, 'Pli ist-t3.pli');
    await o.getByText(/valide jusqu’au .* — opérateur/).waitFor();
    const received = path.join(tmp, 'recu-ssi');
    bridgeO.dialogAnswers.push(received);
    await o.getByRole('button', { name: 'Ouvrir dans un dossier…' }).click();
    await onlyStatusWith(o, 'Signature de Claire Petit vérifiée. 1 fichier enregistré');
    expect(readFileSync(path.join(received, 'IST-2026-T3.pdf')).equals(readFileSync(pdf))).toBe(true);
    await shot(o, '34-container-opened-by-officer');

    // Settings: the idle lock delay.
    await m.getByRole('button', { name: 'Paramètres' }).click();
    await m.getByLabel('Verrouillage après inactivité (minutes)').fill('5');
    await m.getByRole('button', { name: 'Enregistrer le délai' }).click();
    await onlyStatusWith(m, 'Verrouillage après 5 minutes');
    await shot(m, '28-settings-idle-lock');
    await signOut(m);

    // --- a person who is not on the list cannot sign in; path (a) puts her on it ---------------
    await m.getByRole('button', { name: 'Nouvelle personne sur ce poste' }).click();
    await m.getByRole('radio', { name: /Je crée mes clés sur ce poste/ }).check();
    await m.getByLabel('Nom et prénom').fill('Lucie Martin');
    await m.getByLabel('Adresse électronique').fill('accueil@mairie-vandoeuvre.fr');
    await m.getByLabel('Organisation').fill(TOWN_HALL);
    await m.getByLabel('Phrase de passe (obligatoire)', { exact: true }).fill(PASS_LUC);
    await m.getByLabel('Confirmez la phrase de passe').fill(PASS_LUC);
    await m.getByRole('button', { name: 'Créer mon identité' }).click();
    await h1(m, 'Connexion');
    await signIn(m, 'Lucie Martin', PASS_LUC);
    await alertWith(m, "Lucie Martin ne figure pas sur la liste des personnes habilitées de ce poste (certificat : aucun). Action refusée ; adressez-vous à l'officier SSI.");
    await m.getByRole('heading', { name: 'Lucie Martin n’a pas encore d’habilitation' }).waitFor();
    await shot(m, '29-sign-in-not-on-list');
    const card = path.join(files, 'carte-lucie.json');
    bridgeM.dialogAnswers.push(card);
    await m.getByRole('button', { name: 'Exporter ma carte…' }).click();
    await onlyStatusWith(m, 'Carte de Lucie Martin enregistrée');

    const certificate = path.join(files, 'certificat-lucie.json');
    await o.getByRole('button', { name: 'Console de l’officier SSI' }).click();
    bridgeO.dialogAnswers.push(card, certificate);
    await o.getByRole('button', { name: 'Choisir la carte et certifier…' }).click();
    await onlyStatusWith(o, 'Certificat émis pour Lucie Martin');

    bridgeM.dialogAnswers.push(certificate);
    await m.getByRole('button', { name: 'Installer le certificat reçu…' }).click();
    await onlyStatusWith(m, 'Certificat installé pour Lucie Martin');
    await signIn(m, 'Lucie Martin', PASS_LUC);
    await m.getByText('Connecté : Lucie Martin').waitFor();
    await signOut(m);

    // --- audit: verify (intact), filter, export signed ------------------------------------------
    await signIn(m, 'Claire Petit', PASS_CLAIRE);
    await h1(m, 'Plis reçus');
    await m.getByRole('button', { name: 'Journal d’audit' }).click();
    await m.getByRole('button', { name: 'Vérifier l’intégrité du journal' }).click();
    await onlyStatusWith(m, /Journal intact\. \d+ entrées chaînées, (1 point de contrôle signé vérifié|\d+ points de contrôle signés vérifiés)/);
    await shot(m, '30-audit-intact');
    await m.getByLabel('Résultat').selectOption('refused');
    // One line per event, in words (issue 15): « Connexion de Lucie Martin refusée ».
    await m.getByRole('cell', { name: 'Connexion de Lucie Martin refusée' }).waitFor();
    await expect.poll(() => m.getByRole('cell', { name: /^Connexion de [^—]+$/ }).filter({ hasNotText: /refusée|bloquée/ }).count()).toBe(0);
    await shot(m, '31-audit-filtered');
    await m.getByLabel('Résultat').selectOption('');
    const csv = path.join(files, 'journal.csv');
    bridgeM.dialogAnswers.push(csv);
    await m.getByRole('button', { name: 'Exporter le journal signé…' }).click();
    await onlyStatusWith(m, /Journal exporté \(\d+ entrées\), signé par Claire Petit/);
    expect(readFileSync(csv, 'utf8')).toContain('login.refused');
    expect(existsSync(`${csv}.sig`)).toBe(true);
    await signOut(m);

    // --- tamper with the database behind Pli's back: the first bad entry is named ---------------
    const db = path.join(homeM, 'profile.sqlite');
    const refusedSeq = Number(execFileSync('sqlite3', [db, `SELECT MIN(seq) FROM events WHERE CAST(canonical AS TEXT) LIKE '%"login.refused"%'`], { encoding: 'utf8' }).trim());
    expect(refusedSeq).toBeGreaterThan(1);
    execFileSync('sqlite3', [db, `DROP TRIGGER events_no_update;
      UPDATE events SET canonical = CAST(replace(CAST(canonical AS TEXT), '"refused"', '"ok"') AS BLOB) WHERE seq = ${refusedSeq};`]);
    await signIn(m, 'Claire Petit', PASS_CLAIRE);
    await h1(m, 'Plis reçus');
    await m.getByRole('button', { name: 'Journal d’audit' }).click();
    await m.getByRole('button', { name: 'Vérifier l’intégrité du journal' }).click();
    await onlyStatusWith(m, `Journal altéré ! Première entrée en cause : n° ${refusedSeq} — entrée n° ${refusedSeq} modifiée, insérée ou déplacée (chaînage rompu)`);
    await shot(m, '32-audit-tampered');
    await signOut(m);

    // --- five wrong passphrases: locked out, with the time left ----------------------------------
    for (let attempt = 1; attempt <= 4; attempt += 1) {
      await signIn(m, 'Claire Petit', `pas la bonne phrase ${attempt}`);
      await alertWith(m, `Il vous reste ${5 - attempt} essai`); // « 1 essai », « 4 essais »
    }
    await signIn(m, 'Claire Petit', 'pas la bonne phrase 5');
    await alertWith(m, /Connexion de Claire Petit bloquée jusqu’à \d{1,2}\sh\s\d{2} après trop de phrases de passe erronées \(pour 15\smin\)/);
    await signIn(m, 'Claire Petit', PASS_CLAIRE); // even the right one, until the time is up
    await alertWith(m, /Connexion de Claire Petit bloquée jusqu’à \d{1,2}\sh\s\d{2}/);
    await shot(m, '33-sign-in-locked-out');

    expect(consoleErrors).toEqual([]);
  });
});
