// Sending under a convention over the REAL mail servers (issue 14 section 7; docs/convention.md,
// docs/objects.md 3): the Saint-Laurent-Blangy convention between the CPN of Arras (workstation P,
// the statistics clerk, functional mailbox police@harness.test) and the town hall (workstation T,
// the general services director, townhall@harness.test), signed by the SSI officer (O), open
// receipts asked. Through the real `pli` binary and real Postfix + Dovecot (test/mail/harness.ts):
// `send --convention` with no address goes to the town hall's functional mailbox; the town hall's
// `receive` sends a "remis" receipt back by mail; `pli due` at the police shows `delivered`; the
// town hall opens (an "ouvert" receipt); after the police's `receive`, `pli due` shows `opened` and
// the outbox "ouvert le … par …". Needs `npm run build` and root (the servers).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { newPersonCard } from '../../electron/core/profile/identities.js';
import type { MailServers, MailUser } from './harness.js';
import { startMailBench, type MailBench } from './support.js';
import { cliSandbox, PIN_DAY, pinClock, unpinClock } from '../cli/support.js';

const PASS = 'une phrase de passe de test';
const cli = cliSandbox('pli-convention-mail-', PASS);
const { root, at, pli, ok } = cli;
let bench: MailBench;
let servers: MailServers;

const TOWN = 'Mairie de Saint-Laurent-Blangy';
const CPN = "CPN d'Arras";
const ids = { officer: '', clerk: '', dgs: '', maire: '', adjoint: '', chef: '', agent: '' };
let conventionId = '';
let sentContainer = '';

interface DueRow { convention: string; period: string; document: string; due: string; state: string; container: string | null; receipts: { kind: string; by: string; org: string; at: number }[] }

async function due(home: string, as: string, day: string): Promise<DueRow[]> {
  const run = await pli(home, ['due', '--json', '--at', day, '--as', as]);
  expect(run.code, run.stderr).toBe(0);
  return JSON.parse(run.stdout) as DueRow[];
}

/** Message counts of a mailbox's folders (straight from Dovecot, not through Pli). */
const counts = (user: MailUser): Promise<Record<string, number>> => bench.counts(user);
/** Postfix delivers asynchronously: waits until the INBOX holds `n` messages. */
const waitForInbox = (user: MailUser, n: number, timeoutMs?: number): Promise<void> => bench.waitForInbox(user, n, timeoutMs);

async function provision(key: 'clerk' | 'dgs', name: string, email: string, org: string, home: string): Promise<() => Promise<string>> {
  const run = await pli('O', ['authority', 'provision', '--name', name, '--email', email, '--org', org, '--role', 'operator', '--out', at(`${key}.key`)]);
  expect(run.code, run.stderr).toBe(0);
  ids[key] = run.stdout.trim();
  const oneTime = /([0-9a-z]{4}(?:-[0-9a-z]{4}){5})/.exec(run.stderr)?.[1] ?? '';
  // Imported once the workstation holds the directory.
  return () => ok(home, ['id', 'import-key', at(`${key}.key`)], { env: { PLI_PASSPHRASE: oneTime, PLI_NEW_PASSPHRASE: PASS } });
}

async function mailboxSet(home: string, user: MailUser, as: string): Promise<void> {
  await ok(home, ['mailbox', 'set', '--imap', `${servers.host}:${servers.ports.imaps}`, '--smtp', `starttls://${servers.host}:${servers.ports.submission}`,
    '--user', user.user, '--ca', servers.caPath], { env: { PLI_MAIL_PASSWORD: user.pass } });
  await ok(home, ['mailbox', 'test', '--as', as]);
}

// The convention runs from 2026-01-01, renewable until 2030, and its 2026-T4 is asked for: one day
// inside it for the test process and the `pli` children, whatever the day the tests run (the
// servers and their certificates keep the real clock: TLS checks it in OpenSSL, not through Date).
beforeAll(() => pinClock(PIN_DAY));

beforeAll(async () => {
  bench = await startMailBench('pli-convention-mail-servers-', { inboxWaitMs: 30_000 });
  ({ servers } = bench);
  const { police, townhall } = servers.users;
  await ok('O', ['init']);
  ids.officer = await ok('O', ['id', 'new', '--name', 'Olivier Ssi', '--email', 'ssi@interieur.gouv.fr', '--org', 'DIPN du Pas-de-Calais']);
  const pin = await ok('O', ['authority', 'init', '--name', 'SSI DIPN 62']);
  await ok('P', ['init']);
  await ok('T', ['init']);
  // Each person's address is their party's functional mailbox (one per party, no personal mailboxes).
  const imports = [
    await provision('clerk', 'Paul Lefebvre', police.user, CPN, 'P'),
    await provision('dgs', 'Claire Dumont', townhall.user, TOWN, 'T'),
  ];
  for (const [key, name] of [['maire', 'Jean Morel'], ['adjoint', 'Sophie Bernard'], ['chef', 'Marc Petit'], ['agent', 'Luc Girard']] as const) {
    const card = await newPersonCard({ name, email: townhall.user, org: TOWN });
    ids[key] = card.id;
    writeFileSync(at(`${key}.card`), card.card);
    await ok('O', ['authority', 'certify', at(`${key}.card`), '--role', 'reader', '--out', at(`${key}.cert`)]);
  }
  conventionId = await ok('O', [
    'convention', 'new', '--title', 'Convention Saint-Laurent-Blangy — états statistiques',
    '--party', `${CPN}=${police.user}`, '--party', `${TOWN}=${townhall.user}`,
    '--person', `${ids.clerk}=Agent de la cellule statistique`, '--person', `${ids.maire}=Maire`, '--person', `${ids.adjoint}=Adjointe au maire`,
    '--person', `${ids.dgs}=Directrice générale des services`, '--person', `${ids.chef}=Chef du service des affaires générales`,
    '--person', `${ids.agent}=Agent de la voirie publique`,
    '--types', '.doc,.xls,.csv,.pdf', '--schedule', 'quarterly:8', '--expect', 'IS 101', '--expect', 'IST',
    '--start', '2026-01-01', '--years', '1', '--renew-max', '4', '--open-receipts',
  ]);
  await ok('O', ['directory', 'export', '--out', at('d1.json')]);
  await ok('P', ['directory', 'import', at('d1.json'), '--pin', pin]);
  await ok('T', ['directory', 'import', at('d1.json'), '--pin', pin]);
  for (const importKey of imports) await importKey();
  await mailboxSet('P', police, ids.clerk);
  await mailboxSet('T', townhall, ids.dgs);
  writeFileSync(at('IS101_T4_2026.xls'), 'Homicides;1\r\nCambriolages de logements;7\r\n');
  writeFileSync(at('IST_T4_2026.csv'), 'Atteintes aux biens;31\r\n');
}, 300_000);

afterAll(async () => {
  await bench?.stop();
  rmSync(root, { recursive: true, force: true });
  unpinClock();
});

describe('a convention send over the real Postfix and Dovecot', () => {
  it('P sends IS 101 and IST for 2026-T4: with no address, to the town hall\'s functional mailbox', async () => {
    const run = await pli('P', ['send', '--as', ids.clerk, '--convention', conventionId, '--period', '2026-T4', '--doc', 'IS 101', '--doc', 'IST',
      at('IS101_T4_2026.xls'), at('IST_T4_2026.csv')]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain(`Convention ${conventionId}, période 2026-T4 : IS 101, IST.`);
    expect(run.stderr).toContain(`Envoyé vers ${servers.users.townhall.user}.`);
    const outbox = JSON.parse((await pli('P', ['outbox', '--json'])).stdout) as { container_id: string; destination: string; transport: string; state: string; period: string; delivery: string }[];
    expect(outbox.map((r) => [r.transport, r.destination, r.state, r.period, r.delivery])).toEqual([['mail', servers.users.townhall.user, 'sent', '2026-T4', 'sent']]);
    sentContainer = outbox[0]!.container_id;
    expect((await due('P', ids.clerk, '2027-01-09')).filter((r) => r.period === '2026-T4').map((r) => [r.document, r.state, r.container]))
      .toEqual([['IS 101', 'sent', sentContainer], ['IST', 'sent', sentContainer]]);
  });

  it('T receives it from its mailbox: verified, filed in Pli/Traités, and a "remis" receipt goes back by mail', async () => {
    await waitForInbox(servers.users.townhall, 1);
    const run = await pli('T', ['receive', '--as', ids.dgs]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain('1 nouveau pli');
    expect(await counts(servers.users.townhall)).toMatchObject({ INBOX: 0, 'Pli/Traités': 1 });
    const outbox = JSON.parse((await pli('T', ['outbox', '--json'])).stdout) as { object_kind: string | null; destination: string; state: string }[];
    expect(outbox.map((r) => [r.object_kind, r.destination, r.state])).toEqual([['receipt', servers.users.police.user, 'sent']]);
    // The convention and period travel inside the encryption: the town hall files the container
    // at its opening (docs/convention.md 7), so its own calendar still waits for the quarter.
    expect((await due('T', ids.dgs, '2027-01-09')).filter((r) => r.period === '2026-T4').map((r) => r.state)).toEqual(['late', 'late']);
  });

  it('P receives the receipt: pli due shows delivered, with who and when', async () => {
    await waitForInbox(servers.users.police, 1);
    const run = await pli('P', ['receive', '--as', ids.clerk]);
    expect(run.code, run.stderr).toBe(0);
    const t4 = (await due('P', ids.clerk, '2027-01-09')).filter((r) => r.period === '2026-T4');
    expect(t4.map((r) => [r.document, r.state, r.container])).toEqual([['IS 101', 'delivered', sentContainer], ['IST', 'delivered', sentContainer]]);
    expect(t4[0]!.receipts).toEqual([{ kind: 'delivered', at: expect.any(Number), by: ids.dgs, org: TOWN }]);
    expect((await pli('P', ['due', '--at', '2027-01-09', '--as', ids.clerk])).stdout).toContain('remis');
    // The receipt itself is filed away like a container; nothing is left in the police's INBOX.
    expect(await counts(servers.users.police)).toMatchObject({ INBOX: 0, 'Pli/Traités': 1 });
  });

  it('T opens it (the convention asks for opening receipts): filed under the convention, an "ouvert" receipt goes by mail', async () => {
    const run = await pli('T', ['open', '1', '--as', ids.dgs, '--out', at('ouverts')]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain(`Classé sous la convention ${conventionId}, période 2026-T4 : IS 101, IST.`);
    expect(readdirSync(at('ouverts')).sort()).toEqual(['IST_T4_2026.csv', 'IS101_T4_2026.xls'].sort());
    expect((await due('T', ids.dgs, '2027-01-09')).filter((r) => r.period === '2026-T4').map((r) => [r.state, r.container])).toEqual([['delivered', sentContainer], ['delivered', sentContainer]]);
    // The opening receipt leaves with the opening, or at the latest with T's next receive.
    await ok('T', ['receive', '--as', ids.dgs]);
    const outbox = JSON.parse((await pli('T', ['outbox', '--json'])).stdout) as { object_kind: string | null; destination: string; state: string }[];
    expect(outbox.map((r) => [r.object_kind, r.destination, r.state])).toEqual([['receipt', servers.users.police.user, 'sent'], ['receipt', servers.users.police.user, 'sent']]);
  });

  it('after P\'s receive, pli due shows opened and the outbox « ouvert le … par Claire Dumont »', async () => {
    await waitForInbox(servers.users.police, 1);
    await ok('P', ['receive', '--as', ids.clerk]);
    const t4 = (await due('P', ids.clerk, '2027-01-09')).filter((r) => r.period === '2026-T4');
    expect(t4.map((r) => r.state)).toEqual(['opened', 'opened']);
    expect(t4[0]!.receipts.map((r) => [r.kind, r.by]).sort()).toEqual([['delivered', ids.dgs], ['opened', ids.dgs]]);
    expect((await pli('P', ['due', '--at', '2027-01-09', '--as', ids.clerk])).stdout).toContain('ouvert');
    const outbox = (await pli('P', ['outbox'])).stdout;
    expect(outbox).toMatch(/remis le .+ \(Mairie de Saint-Laurent-Blangy\)/);
    expect(outbox).toMatch(/ouvert le .+ par Claire Dumont \(Mairie de Saint-Laurent-Blangy\)/);
    expect((JSON.parse((await pli('P', ['outbox', '--json'])).stdout) as { delivery: string }[]).map((r) => r.delivery)).toEqual(['opened']);
    expect(await counts(servers.users.police)).toMatchObject({ INBOX: 0, 'Pli/Traités': 2 });
  });

  it('the registers list the container with its date proven: P\'s row sealed when queued and again when sent by mail; T\'s receipt rows, sent the same way, verify too', async () => {
    // Read back as « Date prouvée » oui only if the flush's update carried the seal over to sent_at
    // (docs/profile.md « Outbox rows: the time sent »); a stale seal would refuse the register.
    const year = String(new Date().getFullYear());
    const cells = (file: string) => readFileSync(file, 'utf8').slice(1).trimEnd().split('\r\n').slice(1)
      // The receipts cell holds « ; » (quoted): the last cell is read from the end.
      .map((line) => [...line.split(';').slice(0, 9), line.slice(line.lastIndexOf(';') + 1)]).map((c) => [c[2], c[8], c[9]]);
    await ok('P', ['register', '--convention', conventionId, '--year', year, '--as', ids.clerk, '--out', at('registre-P.csv')]);
    expect(cells(at('registre-P.csv'))).toEqual([['envoyé', sentContainer.slice(0, 16), 'oui']]);
    await ok('T', ['register', '--convention', conventionId, '--year', year, '--as', ids.dgs, '--out', at('registre-T.csv')]);
    expect(cells(at('registre-T.csv'))).toEqual([['reçu', sentContainer.slice(0, 16), 'oui']]);
  });
});
