// Issue 12, item 1: nobody can blank the town hall's screen. A container whose creation date is
// beyond JavaScript's dates (9e15) arrives through the real folder transport (refused as
// malformed, nothing stored from its date); then the profile's database is edited as the attacker
// of docs/profile.md would (or as a profile that received such a container before the bound holds
// it): a verified row's date set to 9e15, a planted row with a null sender, dates beyond range and
// huge strings, an outbox row and a correspondent dated 9e15. Signed in, the inbox is the first
// screen: it must show every row; the verified container still opens; the outbox and the
// directory show their rows with "date illisible". A screen that does fail (forced here: the
// page's date formatting made to throw) falls into its error boundary (what failed, in French,
// and a way back), never a blank window, and comes back once the cause is gone.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import Database from 'better-sqlite3';
import { startBridge, type Bridge } from './bridge.js';
import { openApp as openAppIn, RENDERER, shot, h1, prepareRun, launchChromium, closeRun, pliSync } from './support.js';
import { DB_FILE } from '../../electron/core/profile/profile.js';

const PASS_POLICE = 'le 8 de chaque trimestre, sans faute';
const PASS_TOWN = 'une mairie bien gardée vaut mieux';
/** Byte offset of created_ms in a container: preamble (16) + container_id (16) (docs/format.md). */
const CREATED = 32;
const BEYOND = 9_000_000_000_000_000;

let tmp: string;
let browser: Browser;
const bridges: Bridge[] = [];
const consoleErrors: string[] = [];

const cli = (home: string, passphrase: string, args: string[]): string => pliSync(home, passphrase, args);

beforeAll(async () => {
  tmp = prepareRun('pli-e2e-dates-');
  browser = await launchChromium();
});

afterAll(() => closeRun(browser, bridges, tmp));

describe('the inbox screen survives any row', () => {
  it('forged dates, a planted row, an outbox row and a correspondent: every screen shows its rows; a failing screen falls into its boundary', async () => {
    const police = path.join(tmp, 'police');
    const town = path.join(tmp, 'mairie');
    cli(police, PASS_POLICE, ['init']);
    cli(town, PASS_TOWN, ['init']);
    const policeId = cli(police, PASS_POLICE, ['id', 'new', '--name', 'Paul Durand', '--email', 'paul.durand@interieur.gouv.fr', '--org', 'CPN de Nancy']).split('\n').at(-1)!;
    const townId = cli(town, PASS_TOWN, ['id', 'new', '--name', 'Claire Petit', '--email', 'claire.petit@mairie.fr', '--org', 'Mairie de Vandœuvre']).split('\n').at(-1)!;
    cli(police, PASS_POLICE, ['id', 'export', policeId, '--out', path.join(tmp, 'paul.card')]);
    cli(town, PASS_TOWN, ['id', 'export', townId, '--out', path.join(tmp, 'claire.card')]);
    cli(police, PASS_POLICE, ['id', 'import', path.join(tmp, 'claire.card')]);
    cli(town, PASS_TOWN, ['id', 'import', path.join(tmp, 'paul.card')]);

    // The USB key: one good container and the same with its date set beyond JavaScript's range.
    const usb = path.join(tmp, 'usb');
    mkdirSync(usb);
    const csv = path.join(tmp, 'IS101-2026-T3.csv');
    writeFileSync(csv, `commune;faits\nVandœuvre;${randomBytes(4).readUInt16BE()}\n`);
    const good = path.join(usb, 'a-etat.pli');
    cli(police, PASS_POLICE, ['encrypt', '--to', townId, '--out', good, csv]);
    const forged = readFileSync(good);
    forged.writeBigUInt64BE(BigInt(BEYOND), CREATED);
    writeFileSync(path.join(usb, 'b-date-forgee.pli'), forged);
    cli(town, PASS_TOWN, ['receive', '--folder', usb]);

    // The attacker of docs/profile.md edits the database (no passphrase needed).
    const db = new Database(path.join(town, DB_FILE));
    let verifiedId: number;
    let plantedId: number;
    try {
      const rows = db.prepare('SELECT id, state, reason, created_ms FROM inbox ORDER BY id').all() as { id: number; state: string; reason: string | null; created_ms: number | null }[];
      expect(rows.map((r) => [r.state, r.reason])).toEqual([['verified', null], ['refused', 'malformed']]);
      expect(rows[1]!.created_ms).toBeNull(); // the forged date was never stored
      verifiedId = rows[0]!.id;
      db.prepare('UPDATE inbox SET created_ms = ? WHERE id = ?').run(BEYOND, verifiedId);
      plantedId = Number(db.prepare(`INSERT INTO inbox (container_id, sha256, size, state, reason, flags, sender_id, created_ms, arrived_at, source, origin, path, opened_at)
        VALUES (?, ?, 1, 'refused', ?, ?, NULL, ?, ?, 'imap', ?, '/nulle-part', ?)`).run(
        'c'.repeat(20_000), 'd'.repeat(64), `__proto__.${'r'.repeat(50_000)}`, `old,constructor,${'f'.repeat(30_000)}`, 2 ** 53 - 1, BEYOND, 'o'.repeat(10_000), -BEYOND).lastInsertRowid);
      db.prepare(`INSERT INTO outbox (container_id, sender_id, transport, destination, message_id, path, size, state, attempts, next_attempt_at, last_error, queued_at, sent_at)
        VALUES ('ab', ?, 'folder', '/nulle-part', '<forge@pli>', '/nulle-part/x.pli', 1, 'failed', 9, ?, NULL, ?, ?)`).run(policeId, BEYOND, BEYOND, -BEYOND);
      expect(db.prepare('UPDATE identities SET added_at = ? WHERE id = ?').run(BEYOND, policeId).changes).toBe(1);
    } finally {
      db.close();
    }

    const bridge = await startBridge({ home: town, rendererDir: RENDERER });
    bridges.push(bridge);
    const page: Page = await openAppIn(browser, bridge, consoleErrors);
    await h1(page, 'Connexion');
    await page.getByLabel('Votre phrase de passe').fill(PASS_TOWN);
    await page.getByRole('button', { name: 'Se connecter' }).click();
    await h1(page, 'Plis reçus');

    // Every row is there, in full, and none fell back to its "unreadable row" line.
    for (const id of [verifiedId, verifiedId + 1, plantedId]) await page.getByTestId(`inbox-${id}`).waitFor();
    await expect.poll(() => page.locator('tbody tr').count()).toBe(3);
    expect(await page.getByTestId('screen-failed').count()).toBe(0);
    expect(await page.getByText('cette ligne de la boîte de réception est illisible').count()).toBe(0);
    const verified = page.getByTestId(`inbox-${verifiedId}`);
    await verified.getByText('Paul Durand').waitFor();
    await verified.getByText('(créé le date illisible)').waitFor();
    await page.getByTestId(`inbox-${verifiedId + 1}`).getByText(/fichier illisible/).waitFor();
    const planted = page.getByTestId(`inbox-${plantedId}`);
    await planted.getByText('Expéditeur illisible').waitFor();
    expect(await planted.textContent()).toMatch(/date illisible/);
    // Huge strings are cut: the planted row stays a line of the table.
    expect((await planted.textContent())!.length).toBeLessThan(1000);
    // Codes from the row are looked up only among the translations' own keys ("constructor" is
    // shown as written, not as Object's constructor); the known flag "old" is translated.
    expect(await planted.textContent()).not.toMatch(/native code|function/);
    expect(await planted.textContent()).toMatch(/créé il y a plus de 90 jours.*constructor/);
    // A refusal code the interface has no wording of: the core's French sentence (data from main), cut.
    expect(await planted.locator('.reason').textContent()).toMatch(new RegExp(`^Le pli n° ${plantedId} a été refusé à la réception \\(__proto__\\.r+…$`));
    // Long unbroken text wraps inside the panel instead of widening the page.
    expect(await page.evaluate<number>('document.documentElement.scrollWidth')).toBeLessThanOrEqual(1280);
    await shot(page, '60-inbox-forged-rows');
    expect(consoleErrors).toEqual([]);

    // The stored date is display only: the verified container still opens.
    const out = path.join(tmp, 'recu');
    bridge.dialogAnswers.push(out);
    await verified.getByRole('button', { name: 'Ouvrir dans un dossier le pli de Paul Durand' }).click();
    await page.getByRole('status').filter({ hasText: 'Signature de Paul Durand vérifiée' }).first().waitFor();
    expect(readFileSync(path.join(out, path.basename(csv))).equals(readFileSync(csv))).toBe(true);

    // The outbox shows the planted row, its dates in words; no boundary.
    const nav = (name: string) => page.getByRole('navigation').getByRole('button', { name, exact: true }).click();
    await nav('Boîte d’envoi');
    await h1(page, 'Boîte d’envoi');
    const outboxRow = page.locator('tbody tr').filter({ hasText: 'nulle-part' }); // a folder by its name (issue 15)
    await outboxRow.waitFor();
    expect((await outboxRow.textContent())!.match(/date illisible/g)).toHaveLength(2); // sent at, queued at
    expect(await page.getByTestId('screen-failed').count()).toBe(0);
    await shot(page, '61-outbox-unreadable-date');

    // The directory shows the correspondent added "at" 9e15, its date in words.
    await nav('Annuaire');
    await h1(page, 'Annuaire');
    const paul = page.locator('tbody tr').filter({ hasText: 'paul.durand@interieur.gouv.fr' });
    await paul.waitFor();
    expect(await paul.textContent()).toMatch(/date illisible/);
    expect(await page.getByTestId('screen-failed').count()).toBe(0);

    // The audit screen's honest dates, formatted.
    await nav('Journal d’audit');
    await h1(page, 'Journal d’audit');
    await expect.poll(() => page.locator('table.audit tbody tr').count()).toBeGreaterThan(0);
    // « date illisible » only: the malformed container's refusal is now worded « fichier illisible ».
    expect(await page.locator('table.audit').textContent()).not.toMatch(/date illisible/);
    expect(consoleErrors).toEqual([]);

    // The boundary itself: the page's date formatting made to throw (as a bug would), the audit
    // screen fails when shown again; its boundary says so in French, with a way back; the
    // navigation and the header stay.
    await nav('Plis reçus');
    await h1(page, 'Plis reçus');
    await page.evaluate(() => {
      const descriptor = Object.getOwnPropertyDescriptor(Intl.DateTimeFormat.prototype, 'format')!;
      (globalThis as Record<string, unknown>).__pliFormat = descriptor;
      Object.defineProperty(Intl.DateTimeFormat.prototype, 'format', { configurable: true, get() { throw new RangeError('Invalid time value'); } });
    });
    await nav('Journal d’audit');
    const failed = page.getByTestId('screen-failed');
    await failed.waitFor();
    expect(await failed.textContent()).toMatch(/L’écran «\sJournal d’audit\s» n’a pas pu s’afficher.*Rien n’a été modifié/);
    expect(await failed.textContent()).not.toMatch(/Invalid time value|RangeError|at \w+ \(/);
    await page.getByText('Connecté : Claire Petit').waitFor();
    await shot(page, '62-audit-boundary');
    // The cause gone, 'Recharger l’écran' brings the screen back.
    await page.evaluate(() => {
      Object.defineProperty(Intl.DateTimeFormat.prototype, 'format', (globalThis as Record<string, unknown>).__pliFormat as PropertyDescriptor);
    });
    await page.getByRole('button', { name: 'Recharger l’écran' }).click();
    await h1(page, 'Journal d’audit');
    await expect.poll(() => page.locator('table.audit tbody tr').count()).toBeGreaterThan(0);
    expect(await page.getByTestId('screen-failed').count()).toBe(0);
    // Failing again, then "Revenir à la boîte de réception": the inbox, whole.
    await page.evaluate(() => {
      Object.defineProperty(Intl.DateTimeFormat.prototype, 'format', { configurable: true, get() { throw new RangeError('Invalid time value'); } });
    });
    await nav('Plis reçus');
    await nav('Journal d’audit');
    await failed.waitFor();
    await page.evaluate(() => {
      Object.defineProperty(Intl.DateTimeFormat.prototype, 'format', (globalThis as Record<string, unknown>).__pliFormat as PropertyDescriptor);
    });
    await page.getByRole('button', { name: 'Revenir à la boîte de réception' }).click();
    await h1(page, 'Plis reçus');
    await expect.poll(() => page.locator('tbody tr').count()).toBe(3);
    await page.getByText('Connecté : Claire Petit').waitFor();
    // The only console errors are React's report of the forced failure.
    expect(consoleErrors.every((e) => /Invalid time value|RangeError/.test(e)), consoleErrors.join('\n')).toBe(true);
  });
});
