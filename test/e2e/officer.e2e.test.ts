// The officer console (issue 17) and the officer's contact (issue 15's Help), through the real
// interface over the test bridge, against REAL Postfix + Dovecot (test/mail/harness.ts). Prepared
// with the core: the authority (SSI DIPN 54), a town hall (Claire Petit, its workstation signed in
// with its mailbox set, so main's watcher runs), Marc Ancien of the same town hall (certified, to
// be revoked) and Sam of the CPN d'Arras (certified, whose workstation never answers); the first
// directory expires in five days. Through the screens: the officer sees the expiry banner and
// what « Publier l’annuaire » will do, sets the officer's contact, revokes Marc, clicks « Publier
// maintenant »; the town hall's watcher applies directory n° 2 without a click (its Directory
// screen shows the new serial), its acknowledgement comes back, and the officer's table shows « à
// jour » for the town hall and « jamais accusé » for the CPN. The town hall's Help shows the contact
// the authority signed. Screenshots 80-84 (officer's acknowledgements at 1280×800 and 1024×768).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import path from 'node:path';
import Database from 'better-sqlite3';
import { startBridge } from './bridge.js';
import { RENDERER, shot, h1, mailRun, signInToInbox, statusWith } from './support.js';
import type { MailServers } from '../mail/harness.js';
import { getIdentity, newPersonCard } from '../../electron/core/profile/identities.js';
import { certifyCard, exportDirectory, initAuthority } from '../../electron/core/authority/authority.js';
import { importDirectory } from '../../electron/core/authority/directory.js';
import { setMailbox } from '../../electron/core/mail/settings.js';

const PASS_OFFICER = 'la clé de voûte du service SSI';
const PASS_TOWN = 'une mairie bien gardée vaut mieux';
const TOWN_HALL = 'Mairie de Vandœuvre-lès-Nancy';
const CPN = 'CPN d’Arras';

const run = mailRun('officer');
let servers: MailServers;
const { bridges, consoleErrors, openApp, station } = run;
const nav = (page: Page, name: string) => page.getByRole('navigation').getByRole('button', { name, exact: true }).click();

const signIn = signInToInbox;

function dump(home: string): string {
  const db = new Database(path.join(home, 'profile.sqlite'), { readonly: true });
  try {
    return JSON.stringify({
      receipts: db.prepare('SELECT type, state, serial, org, signer_id FROM receipts').all(),
      outbox: db.prepare('SELECT id, transport, destination, state, object_kind, last_error FROM outbox').all(),
      events: (db.prepare('SELECT canonical FROM events').pluck().all() as Buffer[]).map((c) => c.toString('utf8')).filter((c) => /receipt|object|directory/.test(c)),
    });
  } finally {
    db.close();
  }
}

beforeAll(async () => {
  ({ servers } = await run.start());
}, 120_000);

afterAll(() => run.close());

describe('officer console: publish, applied without a click, acknowledgements, the officer\'s contact', () => {
  it('revoke, publish by mail, the town hall\'s watcher applies it, the acknowledgement shows « à jour »', async () => {
    // --- prepared with the core ------------------------------------------------------------------
    const officer = await station('ssi', 'Sophie Marchal', servers.users.prefecture.user, 'DIPN 54 — SSI', PASS_OFFICER);
    const { fingerprint: pin } = await initAuthority(officer.ctx, 'SSI DIPN 54');
    const town = await station('mairie', 'Claire Petit', servers.users.townhall.user, TOWN_HALL, PASS_TOWN);
    // A reader, as most town-hall staff are: her workstation's acknowledgement must be accepted.
    await certifyCard(officer.ctx, getIdentity(town.profile.db, town.id)!.card, 'reader');
    const marc = await newPersonCard({ name: 'Marc Ancien', email: servers.users.townhall.user, org: TOWN_HALL });
    await certifyCard(officer.ctx, marc.card, 'operator');
    const sam = await newPersonCard({ name: 'Sam Lefebvre', email: servers.users.archive.user, org: CPN });
    await certifyCard(officer.ctx, sam.card, 'reader');
    // The directory in force expires in five days: the console offers to publish.
    const { text: first } = await exportDirectory(officer.ctx, { validityDays: 5 });
    await importDirectory(town.profile.db, first, pin);
    const endpoints = { imap: { host: servers.host, port: servers.ports.imap, mode: 'starttls' as const }, smtp: { host: servers.host, port: servers.ports.submissions, mode: 'tls' as const } };
    await setMailbox(officer.ctx, { ...endpoints, user: servers.users.prefecture.user, caPem: servers.ca.toString('utf8'), maxMessageBytes: 25_000_000 }, servers.users.prefecture.pass);
    await setMailbox(town.ctx, { ...endpoints, user: servers.users.townhall.user, caPem: servers.ca.toString('utf8'), maxMessageBytes: 25_000_000 }, servers.users.townhall.pass);
    for (const s of [officer, town]) s.profile.close();

    // --- the town hall: signed in, its watcher running, on the Directory screen -----------------
    const bridgeM = await startBridge({ home: town.home, rendererDir: RENDERER });
    bridges.push(bridgeM);
    const m = await openApp(bridgeM);
    await signIn(m, 'Claire Petit', PASS_TOWN);
    await statusWith(m, 'Réception en continu');
    await nav(m, 'Annuaire');
    const serialShown = m.locator('dt', { hasText: 'Annuaire n°' }).locator('xpath=following-sibling::dd[1]');
    expect((await serialShown.textContent())?.trim()).toBe('1');

    // --- the officer: banner, what the button will do, the contact, a revocation ---------------
    const bridgeO = await startBridge({ home: officer.home, rendererDir: RENDERER });
    bridges.push(bridgeO);
    const o = await openApp(bridgeO);
    await signIn(o, 'Sophie Marchal', PASS_OFFICER);
    await nav(o, 'Console de l’officier SSI');
    await h1(o, 'Console de l’officier SSI');
    await o.getByTestId('publish-banner').filter({ hasText: /L’annuaire expire le .+\s:\spubliez-le avant\./ }).waitFor();
    const plan = (await o.getByTestId('publish-plan').textContent()) ?? '';
    expect(plan).toContain('Par la messagerie');
    expect(plan).toContain('2 organisations');
    expect(plan).toContain(TOWN_HALL);
    expect(plan).toContain(CPN);

    await o.getByLabel('Nom à afficher').fill('Sophie Marchal, officier SSI');
    await o.getByLabel('Téléphone').fill('03 83 17 54 00');
    await o.getByLabel('Adresse fonctionnelle').fill('ssi-dipn54@interieur.gouv.fr');
    await o.getByRole('button', { name: 'Enregistrer les coordonnées' }).click();
    await statusWith(o, 'Coordonnées de Sophie Marchal, officier SSI enregistrées');
    await o.getByText('Pas encore dans l’annuaire en vigueur').waitFor();

    await o.getByLabel('Personne à révoquer').selectOption({ label: `Marc Ancien — ${TOWN_HALL}` });
    await o.getByLabel('Motif').fill('départ du service');
    await o.getByRole('button', { name: 'Révoquer…' }).click();
    await o.getByRole('button', { name: 'Confirmer la révocation' }).click();
    await statusWith(o, 'La révocation de Marc Ancien est enregistrée');
    // Offered at once, beside the confirmation.
    await o.getByText('Publiez l’annuaire pour que les postes l’apprennent.').getByRole('button', { name: 'Publier maintenant' }).click();
    await statusWith(o, /Annuaire n° 2 envoyé à 2 organisations\./);
    await o.getByTestId('contact-published').filter({ hasText: 'Sophie Marchal, officier SSI, 03 83 17 54 00' }).waitFor();
    expect(await o.getByTestId('publish-banner').count()).toBe(0);

    // --- the town hall applies it without a click; the acknowledgement goes back ---------------
    await expect.poll(async () => (await serialShown.textContent())?.trim(), { timeout: 60_000, interval: 500 }).toBe('2');
    expect(bridgeM.mailEvents.some((e) => e.type === 'directory' && e.serial === 2)).toBe(true);

    // --- the officer's table: « à jour » for the town hall, « jamais accusé » for the CPN --------
    const townRow = o.getByTestId('acks').getByRole('row', { name: new RegExp(TOWN_HALL) });
    try {
      await townRow.getByText('à jour').waitFor({ timeout: 60_000 });
    } catch (error) {
      throw new Error(`${String(error)}\nacks: ${await o.getByTestId('acks').textContent()}\ntown events: ${JSON.stringify(bridgeM.mailEvents)}\nofficer events: ${JSON.stringify(bridgeO.mailEvents)}\n${dump(officer.home)}\n${dump(town.home)}`);
    }
    expect(await townRow.textContent()).toContain('Claire Petit');
    expect(await townRow.textContent()).toContain('n° 2');
    await o.getByTestId('acks').getByRole('row', { name: new RegExp(CPN) }).getByText('jamais accusé').waitFor();
    await o.getByTestId('acks').scrollIntoViewIfNeeded();
    await shot(o, '80-officer-acknowledgements');
    await o.setViewportSize({ width: 1024, height: 768 });
    await o.getByTestId('acks').scrollIntoViewIfNeeded();
    await shot(o, '81-officer-acknowledgements-1024');
    // The table fits the 1024 px window (no column cut off).
    const box = await o.getByTestId('acks').boundingBox();
    expect(box!.x + box!.width).toBeLessThanOrEqual(1024);

    // --- the town hall's Help: the contact the authority signed ---------------------------------
    await nav(m, 'Aide');
    const contact = m.getByTestId('officer-contact');
    await contact.getByText(/Officier SSI\s:\sSophie Marchal, officier SSI/).waitFor();
    await contact.getByText(/Téléphone\s:\s03 83 17 54 00/).waitFor();
    await contact.getByText(/Adresse fonctionnelle\s:\sssi-dipn54@interieur\.gouv\.fr/).waitFor();
    await shot(m, '82-help-officer-contact');
    await m.setViewportSize({ width: 1024, height: 768 });
    await shot(m, '83-help-officer-contact-1024');
    expect(consoleErrors).toEqual([]);
  }, 300_000);
});
