// The functional mailbox through the real interface, against REAL Postfix + Dovecot
// (test/mail/harness.ts) and the real core over the test bridge, in Debian's Chromium.
// Prepared with the core (the SSI officer certifies a police clerk as operator and a town-hall
// person as reader, and publishes the directory to both workstations); everything else goes
// through the screens: the clerk sets the mailbox in Settings (first without the internal CA:
// "certificate not trusted", then with it: success), sends an IS101 .xls and an IST .pdf to the
// town hall's organisation, and the outbox shows "envoyé"; the town-hall workstation, signed in
// with its mailbox set, sees the container arrive verified WITHOUT a reload (main's IDLE watcher),
// opens it into a folder, and the files on disk equal the originals. Also: an oversized container
// is refused before sending, the folder transport (USB key) both ways, and a tampered container
// delivered straight to the town hall's mailbox shows its refusal reason. Screenshots 40-51.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import nodemailer from 'nodemailer';
import { startBridge, type Bridge } from './bridge.js';
import { RENDERER, shot, h1, alertWith, pick, mailRun, signInToInbox, statusWith } from './support.js';
import type { MailServers } from '../mail/harness.js';
import { getIdentity } from '../../electron/core/profile/identities.js';
import { certifyCard, exportDirectory, initAuthority } from '../../electron/core/authority/authority.js';
import { importDirectory } from '../../electron/core/authority/directory.js';

const PASS_CLERK = 'le greffe ferme à dix-sept heures';
const PASS_TOWN = 'une mairie bien gardée vaut mieux';
const PASS_OFFICER = 'la clé de voûte du service SSI';
const POLICE = 'Police municipale de Vandœuvre';
const TOWN_HALL = 'Mairie de Vandœuvre-lès-Nancy';

const run = mailRun('mail');
let tmp: string;
let servers: MailServers;
const { bridges, consoleErrors, openApp, station } = run;

const nav = (page: Page, name: string) => page.getByRole('navigation').getByRole('button', { name, exact: true }).click();

const signIn = signInToInbox;

/** Fills Settings → mailbox; `ca` is the file answered to the native dialog, when one is chosen. */
async function fillMailbox(page: Page, bridge: Bridge, o: { user: string; password?: string; imap: [number, 'tls' | 'starttls']; smtp: [number, 'tls' | 'starttls']; ca?: string; maxMb?: string }): Promise<void> {
  await page.getByLabel('Serveur IMAP (obligatoire)', { exact: true }).fill(servers.host);
  await page.getByLabel('Port IMAP').fill(String(o.imap[0]));
  await page.getByLabel('Sécurité IMAP').selectOption(o.imap[1]);
  await page.getByLabel('Serveur SMTP (obligatoire)', { exact: true }).fill(servers.host);
  await page.getByLabel('Port SMTP').fill(String(o.smtp[0]));
  await page.getByLabel('Sécurité SMTP').selectOption(o.smtp[1]);
  await page.getByLabel('Identifiant de la boîte').fill(o.user);
  await page.getByLabel('Mot de passe de la boîte').fill(o.password ?? '');
  if (o.ca) {
    bridge.dialogAnswers.push(o.ca);
    await page.getByRole('button', { name: 'Choisir le fichier de l’autorité…' }).click();
    await page.getByText(`Fichier choisi : ${path.basename(o.ca)}`).waitFor();
  }
  if (o.maxMb) await page.getByLabel('Taille maximale d’un message (Mo)').fill(o.maxMb);
  await page.getByRole('button', { name: 'Enregistrer la boîte' }).click();
  await statusWith(page, `Boîte ${o.user} enregistrée`);
}


beforeAll(async () => {
  ({ tmp, servers } = await run.start());
});

afterAll(() => run.close());

describe('functional mailbox through the interface (real Postfix + Dovecot)', () => {
  it('clerk sets the mailbox and sends; the town hall sees it arrive live, opens it; tampered and oversized refused', async () => {
    // --- prepared with the core: authority, certificates, directory on both workstations --------
    const officer = await station('ssi', 'Sophie Marchal', 'ssi.dipn54@interieur.gouv.fr', 'DIPN 54 — SSI', PASS_OFFICER);
    const { fingerprint: pin } = await initAuthority(officer.ctx, 'SSI DIPN 54');
    const clerk = await station('police', 'Julie Greffe', servers.users.police.user, POLICE, PASS_CLERK);
    const town = await station('mairie', 'Claire Petit', servers.users.townhall.user, TOWN_HALL, PASS_TOWN);
    await certifyCard(officer.ctx, getIdentity(clerk.profile.db, clerk.id)!.card, 'operator');
    await certifyCard(officer.ctx, getIdentity(town.profile.db, town.id)!.card, 'reader');
    const { text: directory } = await exportDirectory(officer.ctx);
    for (const s of [clerk, town]) await importDirectory(s.profile.db, directory, pin);
    for (const s of [officer, clerk, town]) s.profile.close();

    const files = path.join(tmp, 'fichiers');
    mkdirSync(files);
    // IS101 as Excel 97-2003 (OLE2 compound file signature) and an IST report as PDF.
    const xls = path.join(files, 'IS101_2026-T3_Vandoeuvre.xls');
    writeFileSync(xls, Buffer.concat([Buffer.from('d0cf11e0a1b11ae1', 'hex'), Buffer.alloc(24), Buffer.from('Workbook IS101 index;nature;T3\n'), randomBytes(60_000)]));
    const pdf = path.join(files, 'IST-2026-T3.pdf');
    writeFileSync(pdf, Buffer.concat([Buffer.from('%PDF-1.7\n%âãÏÓ\n1 0 obj << /Type /Catalog >> endobj\n'), randomBytes(40_000), Buffer.from('\n%%EOF\n')]));

    // --- the town hall: signed in, mailbox set, watching its inbox -------------------------------
    const bridgeM = await startBridge({ home: town.home, rendererDir: RENDERER });
    bridges.push(bridgeM);
    const m = await openApp(bridgeM);
    await signIn(m, 'Claire Petit', PASS_TOWN);
    await m.getByText(/Aucune boîte aux lettres fonctionnelle n’est réglée/).waitFor();
    await shot(m, '40-inbox-no-mailbox');
    await nav(m, 'Paramètres');
    await fillMailbox(m, bridgeM, {
      user: servers.users.townhall.user, password: servers.users.townhall.pass,
      imap: [servers.ports.imap, 'starttls'], smtp: [servers.ports.submissions, 'tls'], ca: servers.caPath,
    });
    await nav(m, 'Plis reçus');
    await statusWith(m, 'Réception en continu : les nouveaux plis apparaissent ici');
    await shot(m, '41-inbox-watching-empty');

    // --- the police clerk: mailbox without the internal CA (refused), then with it --------------
    const bridgeP = await startBridge({ home: clerk.home, rendererDir: RENDERER });
    bridges.push(bridgeP);
    const p = await openApp(bridgeP);
    await signIn(p, 'Julie Greffe', PASS_CLERK);
    await nav(p, 'Paramètres');
    await fillMailbox(p, bridgeP, {
      user: servers.users.police.user, password: servers.users.police.pass,
      imap: [servers.ports.imaps, 'tls'], smtp: [servers.ports.submission, 'starttls'],
    });
    await p.getByRole('button', { name: 'Tester la connexion' }).click();
    await alertWith(p, 'La connexion ne fonctionne pas entièrement');
    await p.getByText(/SMTP — le certificat du serveur n’est pas reconnu/).waitFor();
    await p.getByText(/IMAP — le certificat du serveur n’est pas reconnu/).waitFor();
    await shot(p, '42-settings-mailbox-untrusted');
    // The password left empty on edit stays unchanged; the CA is chosen in main's dialog.
    expect(await p.getByLabel('Mot de passe de la boîte').inputValue()).toBe('');
    await fillMailbox(p, bridgeP, {
      user: servers.users.police.user, imap: [servers.ports.imaps, 'tls'], smtp: [servers.ports.submission, 'starttls'], ca: servers.caPath,
    });
    await p.getByRole('button', { name: 'Tester la connexion' }).click();
    await statusWith(p, 'Connexion réussie : l’envoi et la réception fonctionnent.');
    await p.getByText(/Fonctionne\s: SMTP — connexion chiffrée/).waitFor();
    await p.getByText(/Fonctionne\s: IMAP — connexion chiffrée/).waitFor();
    await shot(p, '43-settings-mailbox-ok');

    // --- send the IS101 and the IST to the town hall's organisation -------------------------------
    await nav(p, 'Nouveau pli');
    await pick(p, 'add-files', [xls, pdf]);
    await p.getByRole('checkbox', { name: new RegExp(`^${TOWN_HALL}`) }).check();
    await shot(p, '44-new-container-send');
    await p.getByRole('button', { name: 'Chiffrer et envoyer par la messagerie' }).click();
    await h1(p, 'Boîte d’envoi');
    await statusWith(p, `envoyé vers ${servers.users.townhall.user}`);
    await p.getByRole('row', { name: new RegExp(servers.users.townhall.user) }).getByText('envoyé', { exact: true }).waitFor();
    expect(bridgeP.progress.some((e) => e.phase === 'send')).toBe(true);
    await shot(p, '45-outbox-sent');

    // --- the town hall: the container appears without a reload, verified; open it ---------------
    const row = m.getByRole('row', { name: /Julie Greffe/ });
    await row.getByText('Expéditeur vérifié').waitFor({ timeout: 30_000 });
    await row.getByText('pas encore ouvert').waitFor();
    expect(bridgeM.mailEvents.some((e) => e.type === 'inbox' && e.state === 'verified')).toBe(true);
    await shot(m, '46-inbox-arrived');
    const out = path.join(tmp, 'recu-mairie');
    bridgeM.dialogAnswers.push(out);
    await row.getByRole('button', { name: 'Ouvrir dans un dossier le pli de Julie Greffe' }).click();
    await statusWith(m, `Signature de Julie Greffe vérifiée. 2 fichiers enregistrés dans le dossier « ${path.basename(out)} »`);
    expect(readFileSync(path.join(out, path.basename(xls))).equals(readFileSync(xls))).toBe(true);
    expect(readFileSync(path.join(out, path.basename(pdf))).equals(readFileSync(pdf))).toBe(true);
    await row.getByText('ouvert', { exact: true }).waitFor();
    await m.getByRole('button', { name: 'Afficher dans le dossier' }).click();
    await expect.poll(() => bridgeM.shown.length).toBe(1);
    await shot(m, '47-inbox-opened');

    // --- a tampered container, delivered straight to the town hall's mailbox ---------------------
    const outboxDir = path.join(clerk.home, 'outbox');
    const sent = readdirSync(outboxDir).find((n) => n.endsWith('.pli'))!;
    const tampered = Buffer.from(readFileSync(path.join(outboxDir, sent)));
    tampered[tampered.length - 100]! ^= 0x01;
    const transport = nodemailer.createTransport({
      host: servers.host, port: servers.ports.submission, secure: false, requireTLS: true,
      auth: servers.users.police, tls: { ca: servers.ca },
    });
    try {
      await transport.sendMail({
        from: servers.users.police.user, to: servers.users.townhall.user, subject: 'Pli chiffré', text: 'Pli joint.',
        attachments: [{ filename: 'pli-falsifie.pli', content: tampered, contentType: 'application/octet-stream' }],
      });
    } finally {
      transport.close();
    }
    const refusedRow = m.getByRole('row').filter({ hasText: 'Refusé' });
    await refusedRow.waitFor({ timeout: 30_000 });
    const refusal = (await refusedRow.locator('.reason').textContent()) ?? '';
    expect(refusal).toMatch(/signature invalide|altéré|illisible|incohérent|liste des fichiers/);
    await expect.poll(() => refusedRow.getByRole('button').count()).toBe(0);
    await shot(m, '48-inbox-tampered');

    // --- oversized: refused before sending, with the core's message --------------------------------
    await nav(p, 'Paramètres');
    await fillMailbox(p, bridgeP, {
      user: servers.users.police.user, imap: [servers.ports.imaps, 'tls'], smtp: [servers.ports.submission, 'starttls'], maxMb: '0,1',
    });
    await nav(p, 'Nouveau pli');
    const big = path.join(files, 'IS101_2026-annuel.xls');
    writeFileSync(big, Buffer.concat([Buffer.from('d0cf11e0a1b11ae1', 'hex'), randomBytes(150_000)]));
    await pick(p, 'add-files', [big]);
    await p.getByRole('checkbox', { name: new RegExp(`^${TOWN_HALL}`) }).check();
    await p.getByRole('button', { name: 'Chiffrer et envoyer par la messagerie' }).click();
    await alertWith(p, /Pli trop volumineux pour la messagerie.*Rien n'a été mis en file d'envoi/);
    await shot(p, '49-new-container-too-big');

    // --- folder transport (USB key) both ways ------------------------------------------------------
    const usb = path.join(tmp, 'cle-usb');
    bridgeP.dialogAnswers.push(usb);
    await p.getByRole('radio', { name: 'Sur une clé USB ou dans un dossier' }).check();
    await p.getByRole('button', { name: 'Chiffrer et déposer dans un dossier…' }).click();
    await h1(p, 'Boîte d’envoi');
    await statusWith(p, `déposé sur la clé\u00a0: «\u00a0${path.basename(usb)}\u00a0»`);
    await p.getByRole('row', { name: /dossier/ }).getByText('déposé sur la clé', { exact: true }).waitFor();
    await shot(p, '50-outbox-folder');
    bridgeM.dialogAnswers.push(usb);
    await m.getByRole('button', { name: 'Importer depuis un dossier…' }).click();
    await statusWith(m, '1 nouveau pli, aucun refusé');
    await shot(m, '51-inbox-folder-import');

    // --- SMTP server down: queued with the server's answer; retry once it is back -----------------
    await servers.stopPostfix();
    await nav(p, 'Nouveau pli');
    const csv = path.join(files, 'IS101_2026-T3_rectificatif.csv');
    writeFileSync(csv, 'Index;Nature;T3\n1;Règlements de compte entre malfaiteurs;0\n');
    await pick(p, 'add-files', [csv]);
    await p.getByRole('checkbox', { name: new RegExp(`^${TOWN_HALL}`) }).check();
    await p.getByRole('button', { name: 'Chiffrer et envoyer par la messagerie' }).click();
    await h1(p, 'Boîte d’envoi');
    await statusWith(p, /pas encore parti\u00a0: Le serveur SMTP .* est injoignable/);
    const queued = p.getByRole('row').filter({ hasText: 'en attente' });
    // The server's own words are folded away under « Détails techniques » (issue 15).
    await queued.locator('summary', { hasText: 'Détails techniques' }).click();
    await queued.getByText(/ECONNREFUSED|Connection refused|connect/i).waitFor();
    await shot(p, '52-outbox-queued-server-down');
    await servers.startPostfix();
    await queued.getByRole('button', { name: `Réessayer l’envoi vers ${servers.users.townhall.user}` }).click();
    await statusWith(p, '1 pli envoyé, aucun refusé par le serveur.');
    await expect.poll(() => p.getByRole('row').filter({ hasText: 'en attente' }).count()).toBe(0);

    // --- sign-out stops the watcher -------------------------------------------------------------------
    await m.getByRole('button', { name: 'Se déconnecter' }).click();
    await h1(m, 'Connexion');
    expect(bridgeM.mailEvents.filter((e) => e.type === 'watcher').at(-1)).toEqual({ type: 'watcher', watcher: { state: 'off', error: null, retryInSeconds: null } });

    expect(consoleErrors).toEqual([]);
  });
});
