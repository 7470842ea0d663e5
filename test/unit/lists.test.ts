// The inbox's and the outbox's rows in words (issue 15, "recognisable containers") and their late
// periods (issue 14 §6): the core's read queries of electron/core/mail/lists.ts on real profiles.
// The profiles are made with the real `pli` binary (needs `npm run build`): the officer's O signs a
// quarterly convention between the CPN of Arras (P, Paul Lefebvre) and the town hall (T, Claire
// Dumont); P deposits on a USB key the 3rd quarter's IS 101 and IST under it (with a subject) and a
// note sans convention; T opens the first and leaves the second. Then, in process, with the
// integrity key in hand as in a signed-in session, the attacker of docs/profile.md (no passphrase,
// better-sqlite3 on the database) plants and rewrites filings: the lists never show them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rmSync, writeFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import { openProfile, type Profile } from '../../electron/core/profile/profile.js';
import { unlockIdentity } from '../../electron/core/profile/identities.js';
import { listInbox } from '../../electron/core/mail/inbox.js';
import { listOutbox } from '../../electron/core/mail/outbox.js';
import { inboxDetails, latePeriods, outboxDetails } from '../../electron/core/mail/lists.js';
import { today } from '../../electron/core/authority/convention.js';
import { cliSandbox } from '../cli/support.js';

const PASS = 'une phrase de passe de test';
const cli = cliSandbox('pli-lists-', PASS);
const { root, at, pli, ok } = cli;
const TOWN = 'Mairie de Saint-Laurent-Blangy';
const CPN = "CPN d'Arras";
const ids = { clerk: '', dgs: '' };
let conventionId = '';
const opened: Profile[] = [];

afterAll(() => {
  opened.forEach((p) => p.close());
  rmSync(root, { recursive: true, force: true });
});

/** The workstation's profile, in process, with `who`'s integrity key attached (a signed-in session). */
async function signedIn(home: string, who: string): Promise<Profile> {
  const profile = openProfile(at(home));
  opened.push(profile);
  (await unlockIdentity(profile.db, who, PASS)).wipe();
  return profile;
}

beforeAll(async () => {
  await ok('O', ['init']);
  await ok('O', ['id', 'new', '--name', 'Olivier Ssi', '--email', 'ssi@interieur.gouv.fr', '--org', 'DIPN du Pas-de-Calais']);
  const pin = await ok('O', ['authority', 'init', '--name', 'SSI DIPN 62']);
  const imports: [string, string, string][] = [];
  for (const [key, name, org, home] of [['clerk', 'Paul Lefebvre', CPN, 'P'], ['dgs', 'Claire Dumont', TOWN, 'T']] as const) {
    const run = await pli('O', ['authority', 'provision', '--name', name, '--email', 'fonctionnelle@exemple.fr', '--org', org, '--role', 'operator', '--out', at(`${key}.key`)]);
    expect(run.code, run.stderr).toBe(0);
    ids[key] = run.stdout.trim();
    imports.push([home, key, /([0-9a-z]{4}(?:-[0-9a-z]{4}){5})/.exec(run.stderr)?.[1] ?? '']);
  }
  conventionId = await ok('O', [
    'convention', 'new', '--title', 'Convention Saint-Laurent-Blangy — états statistiques',
    '--party', `${CPN}=cpn-arras@interieur.gouv.fr`, '--party', `${TOWN}=mairie@saint-laurent-blangy.fr`,
    '--person', `${ids.clerk}=Agent de la cellule statistique`, '--person', `${ids.dgs}=Directrice générale des services`,
    '--types', '.doc,.xls,.csv,.pdf', '--schedule', 'quarterly:8', '--expect', 'IS 101', '--expect', 'IST',
    '--start', '2026-01-01', '--years', '1', '--renew-max', '4',
  ]);
  await ok('O', ['directory', 'export', '--out', at('d1.json')]);
  for (const home of ['P', 'T']) {
    await ok(home, ['init']);
    await ok(home, ['directory', 'import', at('d1.json'), '--pin', pin]);
  }
  for (const [home, key, oneTime] of imports) await ok(home, ['id', 'import-key', at(`${key}.key`)], { env: { PLI_PASSPHRASE: oneTime, PLI_NEW_PASSPHRASE: PASS } });
  writeFileSync(at('IS101_T3_2026.csv'), 'Homicides;0\r\n');
  writeFileSync(at('IST_T3_2026.pdf'), '%PDF-1.4 état IST\n');
  writeFileSync(at('note.pdf'), '%PDF-1.4 note\n');
  await ok('P', ['send', '--as', ids.clerk, '--convention', conventionId, '--period', '2026-T3', '--doc', 'IS 101', '--doc', 'IST',
    '--subject', 'États du 3e trimestre', '--folder', at('usb'), at('IS101_T3_2026.csv'), at('IST_T3_2026.pdf')]);
  await ok('P', ['send', '--as', ids.clerk, '--to', ids.dgs, '--folder', at('usb2'), at('note.pdf')]);
  await ok('T', ['receive', '--folder', at('usb'), '--as', ids.dgs]);
  await ok('T', ['receive', '--folder', at('usb2'), '--as', ids.dgs]);
  await ok('T', ['open', '1', '--as', ids.dgs, '--out', at('ouverts')]);
}, 240_000);

describe('inboxDetails (the town hall)', () => {
  it('an opened container: its subject, convention, period and documents, who opened it, the files written by name and size', async () => {
    const t = await signedIn('T', ids.dgs);
    const rows = listInbox(t.db);
    const [first, second] = await inboxDetails(t.db, rows);
    expect(first).toEqual({
      id: 1,
      filing: { state: 'filed', convention: conventionId, title: 'Convention Saint-Laurent-Blangy — états statistiques', period: '2026-T3', documents: ['IS 101', 'IST'], subject: 'États du 3e trimestre' },
      openedBy: { id: ids.dgs, name: 'Claire Dumont', org: TOWN },
      files: expect.arrayContaining([{ name: 'IS101_T3_2026.csv', size: 13 }, { name: 'IST_T3_2026.pdf', size: 19 }]) as unknown,
    });
    expect(first!.files).toHaveLength(2);
    // Received, not opened: the manifest is encrypted; nothing is guessed from a name.
    expect(second).toEqual({ id: 2, filing: { state: 'unopened' }, openedBy: null, files: [] });
  });

  it('the attacker plants a filing on the unopened row and rewrites the opened one: neither is shown, the other rows stand', async () => {
    const t = await signedIn('T', ids.dgs);
    const attacker = new Database(at('T/profile.sqlite'));
    const saved = Object.values(attacker.prepare('SELECT convention_id, period, documents, subject, filing_mac FROM inbox WHERE id = 1').get() as Record<string, unknown>);
    try {
      attacker.prepare("UPDATE inbox SET convention_id = ?, period = '2026-T2', documents = '[\"IS 101\"]', subject = 'Faux objet', filed_at = ? WHERE id = 2").run(conventionId, Date.now());
      const [, planted] = await inboxDetails(t.db, listInbox(t.db));
      expect(planted!.filing).toEqual({ state: 'unopened' });
      attacker.prepare("UPDATE inbox SET subject = 'Objet réécrit' WHERE id = 1").run();
      const [rewritten, still] = await inboxDetails(t.db, listInbox(t.db));
      expect(rewritten!.filing).toEqual({ state: 'tampered' });
      expect(JSON.stringify(rewritten)).not.toContain('Objet réécrit');
      expect(still!.filing).toEqual({ state: 'unopened' });
      // The opened row's filing emptied with SQL and its seal removed: no subject, no period, and
      // still an opened row (never « pas encore ouvert »).
      attacker.prepare('UPDATE inbox SET convention_id = NULL, period = NULL, documents = NULL, subject = NULL, filing_mac = NULL WHERE id = 1').run();
      const [emptied] = await inboxDetails(t.db, listInbox(t.db));
      expect(emptied!.filing).toEqual({ state: 'none' });
      expect(emptied!.openedBy?.name).toBe('Claire Dumont');
    } finally {
      attacker.prepare("UPDATE inbox SET subject = 'États du 3e trimestre' WHERE id = 1").run();
      attacker.prepare('UPDATE inbox SET convention_id = ?, period = ?, documents = ?, subject = ?, filing_mac = ? WHERE id = 1').run(...saved);
      attacker.prepare('UPDATE inbox SET convention_id = NULL, period = NULL, documents = NULL, subject = NULL, filed_at = NULL WHERE id = 2').run();
      attacker.close();
    }
  });
});

describe('outboxDetails (the CPN)', () => {
  it('one line per container: filing and subject, recipients by name and organisation (not the sender\'s own copy), the number of files', async () => {
    const p = await signedIn('P', ids.clerk);
    const rows = listOutbox(p.db);
    const details = await outboxDetails(p.db, rows);
    expect(details).toHaveLength(2);
    expect(details[0]).toEqual({
      container: rows[0]!.container_id, object: null,
      filing: { state: 'filed', convention: conventionId, title: 'Convention Saint-Laurent-Blangy — états statistiques', period: '2026-T3', documents: ['IS 101', 'IST'], subject: 'États du 3e trimestre' },
      recipients: [{ id: ids.dgs, name: 'Claire Dumont', org: TOWN }], files: 2, receipts: [],
      names: { state: 'known', files: [{ name: 'IS101_T3_2026.csv', size: 13 }, { name: 'IST_T3_2026.pdf', size: 19 }] },
    });
    expect(details[1]).toMatchObject({ filing: { state: 'none' }, recipients: [{ id: ids.dgs, name: 'Claire Dumont', org: TOWN }], files: 1 });
  });

  it('a convention planted with SQL on the container sent sans convention is not shown', async () => {
    const p = await signedIn('P', ids.clerk);
    const attacker = new Database(at('P/profile.sqlite'));
    try {
      attacker.prepare("UPDATE outbox SET convention_id = ?, period = '2026-T2', documents = '[\"IS 101\"]', subject = 'Faux' WHERE id = 2").run(conventionId);
      const details = await outboxDetails(p.db, listOutbox(p.db));
      expect(details[1]!.filing).toEqual({ state: 'none' });
      // The sealed one emptied with SQL: its seal covers the NULLs too.
      attacker.prepare('UPDATE outbox SET convention_id = NULL WHERE id = 1').run();
      expect((await outboxDetails(p.db, listOutbox(p.db)))[0]!.filing).toEqual({ state: 'tampered' });
    } finally {
      attacker.prepare('UPDATE outbox SET convention_id = NULL, period = NULL, documents = NULL, subject = NULL WHERE id = 2').run();
      attacker.prepare('UPDATE outbox SET convention_id = ? WHERE id = 1').run(conventionId);
      attacker.close();
    }
  });
});

describe('latePeriods', () => {
  it('the receiving side (T) has its late quarters in the inbox only; the sending side (P) in the outbox only; the quarter exchanged is not late', async () => {
    const day = today();
    const t = await signedIn('T', ids.dgs);
    const p = await signedIn('P', ids.clerk);
    const onT = await latePeriods(t.db, day);
    const onP = await latePeriods(p.db, day);
    const periods = (lines: { period: string }[]) => lines.map((l) => l.period);
    // 1st and 2nd quarters were due on 8 April and 8 July 2026: nothing was exchanged for them.
    for (const late of ['2026-T1', '2026-T2']) {
      expect(periods(onT.inbox)).toContain(late);
      expect(periods(onP.outbox)).toContain(late);
    }
    expect(periods(onT.inbox)).not.toContain('2026-T3');
    expect(periods(onP.outbox)).not.toContain('2026-T3');
    expect(onT.outbox).toEqual([]);
    expect(onP.inbox).toEqual([]);
    expect(onT.inbox.find((l) => l.period === '2026-T1')).toEqual({ convention: conventionId, title: 'Convention Saint-Laurent-Blangy — états statistiques', period: '2026-T1', documents: ['IS 101', 'IST'], due: '2026-04-08' });
    // Most recent first.
    expect(periods(onT.inbox).indexOf('2026-T2')).toBeLessThan(periods(onT.inbox).indexOf('2026-T1'));
  });
});
