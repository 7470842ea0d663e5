// One mail cannot block the functional mailbox (docs/mailbox.md section 5), against real Postfix +
// Dovecot (test/mail/harness.ts): a message with more Pli parts than MAX_PLI_PARTS is refused whole
// without fetching them (even past Dovecot's 64 KB command line), a message at the cap is fetched
// in bounded FETCH commands, and a server refusing one message's parts refuses that message only,
// while a connection problem refuses nothing.
import { randomBytes } from 'node:crypto';
import { describe, it, expect, beforeAll, afterAll, vi } from 'vitest';
import { ImapFlow } from 'imapflow';
import type Mail from 'nodemailer/lib/mailer/index.js';
import type { MailServers, MailUser } from './harness.js';
import { policeAndTownHall, type MailBench, type MailParty } from './support.js';
import { listInbox } from '../../electron/core/mail/inbox.js';
import { listEvents } from '../../electron/core/profile/events.js';
import { MAX_PLI_PARTS, receiveImap, type MailStatus } from '../../electron/core/mail/imap.js';
import { statusLine } from '../../electron/cli/status.js';

let bench: MailBench;
let servers: MailServers;
let police: MailParty;
let townhall: MailParty;

const sendRaw = (from: MailUser, to: MailUser, attachments: Mail.Attachment[]): Promise<void> => bench.sendRaw(from, to, attachments);
const containerBytes = (label: string, size?: number): Promise<{ id: string; bytes: Buffer }> => bench.containerBytes(police, townhall, label, size);

/** `n` tiny attachments named `aN.pli`, each different (never one row for all by their SHA-256). */
const junk = (n: number): Mail.Attachment[] =>
  Array.from({ length: n }, (_, i) => ({ filename: `a${i}.pli`, content: randomBytes(16), contentType: 'application/octet-stream' }));

const refusedEvents = (reason: string): { detail: Record<string, unknown> }[] =>
  listEvents(townhall.profile.db).filter((e) => e.action === 'container.refused' && (e.detail ?? '').includes(`"${reason}"`))
    .map((e) => ({ detail: JSON.parse(e.detail ?? '{}') as Record<string, unknown> }));

/** The UIDs waiting in the town hall's INBOX, oldest first. */
async function inboxUids(): Promise<number[]> {
  const client = bench.imap(servers.users.townhall);
  await client.connect();
  try {
    await client.mailboxOpen('INBOX');
    return ((await client.search({ all: true }, { uid: true })) || []).sort((a, b) => a - b);
  } finally {
    await client.logout().catch(() => undefined);
  }
}

beforeAll(async () => {
  ({ bench, police, townhall } = await policeAndTownHall('pli-poison-'));
  ({ servers } = bench);
}, 90_000);

afterAll(async () => {
  await bench?.stop();
}, 30_000);

describe('one mail never blocks the mailbox (real Postfix + Dovecot)', () => {
  for (const count of [300, 6000]) {
    it(`a mail with ${count} .pli attachments${count > 3000 ? " (past Dovecot's 64 KB command line)" : ''} is refused whole without fetching them; the valid container after it is received; the next round is clean`, async () => {
      const good = await containerBytes(`apres-${count}`);
      const before = await bench.counts(servers.users.townhall);
      const rowsBefore = listInbox(townhall.profile.db).length;
      await sendRaw(servers.users.police, servers.users.townhall, junk(count));
      await sendRaw(servers.users.police, servers.users.townhall, [{ filename: 'pli-bon.pli', content: good.bytes, contentType: 'application/octet-stream' }]);
      await bench.waitForInbox(servers.users.townhall, (before.INBOX ?? 0) + 2);

      const statuses: MailStatus[] = [];
      const results = await receiveImap(townhall.ctx, { onStatus: (s) => statuses.push(s) });
      expect(results.map((r) => [r.row.container_id, r.row.state])).toEqual([[good.id, 'verified']]);
      // Nothing of the poison is in the inbox: only the valid container's row was added.
      expect(listInbox(townhall.profile.db).length).toBe(rowsBefore + 1);
      const after = await bench.counts(servers.users.townhall);
      expect(after.INBOX ?? 0).toBe(0);
      expect(after['Pli/Refusés']).toBe((before['Pli/Refusés'] ?? 0) + 1);
      expect(after['Pli/Traités']).toBe((before['Pli/Traités'] ?? 0) + 1);
      // Audited once for the message, with its sender as claimed and its number of parts.
      const event = refusedEvents('too-many-parts').find((e) => e.detail.parts === count);
      expect(event?.detail).toMatchObject({ reason: 'too-many-parts', source: 'imap', parts: count });
      expect(String(event?.detail.origin)).toMatch(/^uid \d+ de police@harness\.test$/);
      const refused = statuses.find((s) => s.kind === 'message-refused');
      expect(refused).toMatchObject({ kind: 'message-refused', reason: 'too-many-parts', parts: count });
      expect(statusLine(refused!)).toMatch(new RegExp(`^Message uid \\d+ refusé : ${count} pièces jointes de pli, plus que les ${MAX_PLI_PARTS} admises par message ; aucune n'a été relevée \\(message déplacé dans Pli/Refusés\\)\\.$`));

      // The next round finds nothing and fails nothing.
      expect(await receiveImap(townhall.ctx)).toEqual([]);
      expect(listInbox(townhall.profile.db).length).toBe(rowsBefore + 1);
    }, 120_000);
  }

  it(`a mail with exactly ${MAX_PLI_PARTS} .pli attachments is fetched in bounded FETCH commands: every part is received`, async () => {
    const good = await containerBytes('au-plafond');
    const rowsBefore = listInbox(townhall.profile.db).length;
    await sendRaw(servers.users.police, servers.users.townhall, [
      ...junk(MAX_PLI_PARTS - 1), { filename: 'pli-bon.pli', content: good.bytes, contentType: 'application/octet-stream' },
    ]);
    await bench.waitForInbox(servers.users.townhall, 1);
    // Every FETCH goes through fetch (fetchAll too): the ones naming body parts are the containers'.
    const fetches = vi.spyOn(ImapFlow.prototype, 'fetch');
    let results;
    let calls: unknown[][];
    try {
      results = await receiveImap(townhall.ctx);
    } finally {
      calls = [...fetches.mock.calls];
      fetches.mockRestore();
    }
    expect(results).toHaveLength(MAX_PLI_PARTS);
    expect(results.find((r) => r.row.container_id === good.id)?.row.state).toBe('verified');
    expect(results.filter((r) => r.row.state === 'refused')).toHaveLength(MAX_PLI_PARTS - 1);
    expect(listInbox(townhall.profile.db).length).toBe(rowsBefore + MAX_PLI_PARTS);
    // Several commands for the parts, none naming more than a few dozen.
    const partLists = calls.map((c) => (c[1] as { bodyParts?: string[] }).bodyParts).filter((p): p is string[] => Boolean(p));
    expect(partLists.length).toBeGreaterThan(1);
    expect(partLists.flat()).toHaveLength(MAX_PLI_PARTS);
    for (const parts of partLists) expect(parts.join(' BODY.PEEK[]').length).toBeLessThan(4096);
    expect((await bench.counts(servers.users.townhall)).INBOX ?? 0).toBe(0);
  }, 120_000);

  it('a batch of messages whose attachments add up past 16 MiB holds at most 16 MiB of them: the rest are fetched one at a time, after the first ones are stored', async () => {
    // 12 containers of ~1.9 MiB once in base64: each small enough to be fetched with the others
    // (at most 2 MiB), 8 of them fill the 16 MiB of a batch.
    const sent: { id: string; bytes: Buffer }[] = [];
    for (let i = 0; i < 12; i++) sent.push(await containerBytes(`lot-${i}`, 1.35 * 1024 * 1024));
    const before = await bench.counts(servers.users.townhall);
    for (const [i, c] of sent.entries()) await sendRaw(servers.users.police, servers.users.townhall, [{ filename: `pli-lot-${i}.pli`, content: c.bytes, contentType: 'application/octet-stream' }]);
    await bench.waitForInbox(servers.users.townhall, (before.INBOX ?? 0) + 12);
    // Containers asked of the server (a FETCH of body parts names its messages; a download is one)
    // against containers stored: the difference is what is held in memory, waiting.
    let asked = 0;
    let stored = 0;
    let mostHeld = 0;
    const fetch = ImapFlow.prototype.fetch;
    const download = ImapFlow.prototype.download;
    ImapFlow.prototype.fetch = function (this: ImapFlow, ...args: Parameters<ImapFlow['fetch']>) {
      if (args[1].bodyParts) asked += String(args[0]).split(',').length;
      mostHeld = Math.max(mostHeld, asked - stored);
      return fetch.apply(this, args);
    };
    ImapFlow.prototype.download = async function (this: ImapFlow, ...args: Parameters<ImapFlow['download']>) {
      asked += 1;
      mostHeld = Math.max(mostHeld, asked - stored);
      return download.apply(this, args);
    };
    let results;
    try {
      results = await receiveImap(townhall.ctx, { onItem: () => { stored += 1; } });
    } finally {
      ImapFlow.prototype.fetch = fetch;
      ImapFlow.prototype.download = download;
    }
    expect(results.map((r) => [r.row.container_id, r.row.state])).toEqual(sent.map((c) => [c.id, 'verified']));
    expect(asked).toBe(12);
    expect(mostHeld).toBeGreaterThan(1); // still fetched together, up to the bound
    expect(mostHeld).toBeLessThanOrEqual(8);
    expect((await bench.counts(servers.users.townhall)).INBOX ?? 0).toBe(0);
  }, 180_000);

  it("the server refusing one message's parts refuses that message only; a lost connection refuses nothing", async () => {
    const poison = await containerBytes('refuse-par-le-serveur');
    const good = await containerBytes('a-cote');
    const before = await bench.counts(servers.users.townhall);
    // The same structure for both: their parts are asked in one command first.
    await sendRaw(servers.users.police, servers.users.townhall, [{ filename: 'pli-a.pli', content: poison.bytes, contentType: 'application/octet-stream' }]);
    await sendRaw(servers.users.police, servers.users.townhall, [{ filename: 'pli-b.pli', content: good.bytes, contentType: 'application/octet-stream' }]);
    await bench.waitForInbox(servers.users.townhall, (before.INBOX ?? 0) + 2);
    const [poisonUid] = await inboxUids();

    // A connection problem (no server answer): the round fails, nothing is refused or moved.
    const lost = Object.assign(new Error('Connection not available'), { code: 'NoConnection' });
    await expect(receiveImap(townhall.ctx, { onDownload: (uid) => { if (uid === poisonUid) throw lost; } })).rejects.toMatchObject({ code: 'server-unreachable' });
    expect(listInbox(townhall.profile.db).some((r) => r.container_id === poison.id || r.container_id === good.id)).toBe(false);
    expect((await bench.counts(servers.users.townhall)).INBOX).toBe((before.INBOX ?? 0) + 2);
    // The server "unavailable" for now (RFC 5530): the same.
    const unavailable = Object.assign(new Error('Command failed'), { responseStatus: 'NO', serverResponseCode: 'UNAVAILABLE', responseText: 'try later' });
    await expect(receiveImap(townhall.ctx, { onDownload: (uid) => { if (uid === poisonUid) throw unavailable; } })).rejects.toBeTruthy();
    expect((await bench.counts(servers.users.townhall)).INBOX).toBe((before.INBOX ?? 0) + 2);

    // The server refusing the command for that message (a tagged NO, as imapflow reports it).
    const refusal = Object.assign(new Error('Command failed'), { responseStatus: 'BAD', responseText: 'Error in IMAP command UID FETCH: IMAP command line too large' });
    const statuses: MailStatus[] = [];
    const results = await receiveImap(townhall.ctx, { onStatus: (s) => statuses.push(s), onDownload: (uid) => { if (uid === poisonUid) throw refusal; } });
    expect(results.map((r) => [r.row.container_id, r.row.state])).toEqual([[good.id, 'verified']]);
    expect(listInbox(townhall.profile.db).some((r) => r.container_id === poison.id)).toBe(false);
    const after = await bench.counts(servers.users.townhall);
    expect(after.INBOX ?? 0).toBe(0);
    expect(after['Pli/Refusés']).toBe((before['Pli/Refusés'] ?? 0) + 1);
    expect(refusedEvents('fetch-refused').at(-1)?.detail).toMatchObject({ reason: 'fetch-refused', source: 'imap', origin: `uid ${poisonUid} de police@harness.test`, parts: 1, server: 'Error in IMAP command UID FETCH: IMAP command line too large' });
    const refused = statuses.find((s) => s.kind === 'message-refused')!;
    expect(statusLine(refused)).toBe(`Message uid ${poisonUid} refusé : le serveur IMAP n'a pas donné ses pièces jointes de pli (Error in IMAP command UID FETCH: IMAP command line too large) ; message déplacé dans Pli/Refusés.`);
    expect(await receiveImap(townhall.ctx)).toEqual([]);
  }, 120_000);
});
