// The attacker of docs/profile.md ("The attacker": writes the profile's database and its folders,
// knows no passphrase) against the outbox, through the real `pli outbox flush` and real Postfix +
// Dovecot (harness.ts). What the flush mails must be the profile's own copy of the row's container,
// never a file the row's `path` or a link in outbox/ points at, and never to a destination changed
// behind the row's seal:
//   - a planted row whose `path` names a document of the person's: nothing sent;
//   - outbox/<id>.pli replaced by a symlink to that document (the `send --no-wait` variant), by a
//     plain copy of it, or by another container of the same sender: refused (exit 2, « modifiée en
//     dehors de Pli »), the row failed, `container.sent` refused with a security reason in the log;
//   - a sealed row's destination changed to another mailbox: refused as `profile-tampered`;
//   - the honest send still leaves, and the copy kept in outbox/ is 0600.
// Each mailbox is read straight from Dovecot after Postfix's queue is drained. Needs `npm run build`.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { asAttacker } from '../unit/attacker.js';
import type { ImapFlow } from 'imapflow';
import { startMailBench, startPli, PASSPHRASE, type MailBench, type MailParty } from './support.js';
import { getIdentity, importCard } from '../../electron/core/profile/identities.js';
import { queueSend } from '../../electron/core/mail/outbox.js';
import type { MailUser } from './harness.js';

const SECRET = `RAPPORT CONFIDENTIEL ${randomBytes(12).toString('hex')} — état nominatif des personnes signalées\n`;

let bench: MailBench;
let police: MailParty;
let townhall: MailParty;
let drop: MailUser; // the attacker's mailbox
let secretFile: string;

const pli = (home: string, args: string[]) => startPli(PASSPHRASE, home, args).done;

/** The attacker: writes straight into the profile's database (triggers out of the way). */
const tamper = (action: (db: Database.Database) => void): void => asAttacker(police.profile.home, action);

interface Row { id: number; state: string; last_error: string | null; container_id: string; destination: string }
const row = (id: number): Row => police.profile.db.prepare('SELECT * FROM outbox WHERE id = ?').get(id) as Row;

/** The police's log: action, outcome and detail of each event after `since`. */
function events(since: number): { action: string; outcome: string; detail: Record<string, unknown> }[] {
  return (police.profile.db.prepare('SELECT canonical FROM events WHERE seq > ? ORDER BY seq').pluck().all(since) as Buffer[]).map((c) => {
    const [, , , , , action, , outcome, detail] = JSON.parse(c.toString('utf8')) as [number, number, number, string, string, string, string, string, string | null];
    return { action, outcome, detail: detail === null ? {} : JSON.parse(detail) as Record<string, unknown> };
  });
}
const lastSeq = (): number => (police.profile.db.prepare('SELECT max(seq) FROM events').pluck().get() as number | null) ?? 0;

/** Every message's raw source in the user's INBOX (straight from Dovecot). */
async function mailOf(user: MailUser): Promise<string[]> {
  await bench.drained();
  const client: ImapFlow = bench.imap(user);
  await client.connect();
  try {
    const lock = await client.getMailboxLock('INBOX');
    try {
      const status = await client.status('INBOX', { messages: true });
      if (!status || !status.messages) return [];
      const out: string[] = [];
      for await (const message of client.fetch('1:*', { source: true })) out.push(message.source?.toString('utf8') ?? '');
      return out;
    } finally {
      lock.release();
    }
  } finally {
    await client.logout().catch(() => undefined);
  }
}

/** Whether any message carries the secret (as it is mailed: base64 of its bytes, whatever the line breaks). */
const carriesSecret = (messages: string[]): boolean => {
  const wanted = Buffer.from(SECRET, 'utf8');
  return messages.some((m) => m.split(/\r?\n\r?\n/).some((part) => {
    const decoded = Buffer.from(part.replace(/\s+/g, ''), 'base64');
    return decoded.includes(wanted) || part.includes(SECRET);
  }));
};

/** A container from the police to the town hall, queued (not sent): its outbox row and copy. */
async function queued(): Promise<{ id: number; container: string; copy: string }> {
  const file = bench.file(`IS101-${randomBytes(4).toString('hex')}.txt`, Buffer.from('statistiques du trimestre\n'));
  const sent = await queueSend(police.ctx, { to: [townhall.id], files: [file] });
  return { id: sent.outboxIds[0]!, container: sent.containerId, copy: path.join(police.profile.home, 'outbox', `${sent.containerId}.pli`) };
}

const MODIFIED = /a été modifiée en dehors de Pli.*n'est pas envoyée/s;

beforeAll(async () => {
  bench = await startMailBench('pli-outbox-tamper-');
  drop = bench.servers.users.archive;
  police = await bench.party('police', bench.servers.users.police, 'Police municipale', { unlock: 'signIn' });
  townhall = await bench.party('townhall', bench.servers.users.townhall, 'Mairie de Nancy');
  await importCard(police.profile.db, getIdentity(townhall.profile.db, townhall.id)!.card);
  await importCard(townhall.profile.db, getIdentity(police.profile.db, police.id)!.card);
  secretFile = bench.file('rapport.txt', Buffer.from(SECRET, 'utf8'));
}, 180_000);

afterAll(async () => {
  await bench?.stop();
});

describe("outbox: the attacker who writes the profile's files cannot mail other files", () => {
  it('a planted row whose path names a document of the person: nothing is mailed', async () => {
    const since = lastSeq();
    let planted = 0;
    tamper((db) => {
      planted = Number(db.prepare(`INSERT INTO outbox (container_id, sender_id, transport, destination, message_id, path, size, state, attempts, next_attempt_at, queued_at)
        VALUES (?, ?, 'mail', ?, '<x1@attaquant.test>', ?, ?, 'queued', 0, 0, ?)`)
        .run(randomBytes(16).toString('hex'), police.id, drop.user, secretFile, SECRET.length, Date.now()).lastInsertRowid);
    });
    const run = await pli(police.profile.home, ['outbox', 'flush']);
    expect(run.stdout).not.toMatch(/envoyé/);
    expect(row(planted).state).toBe('failed');
    expect(events(since).some((e) => e.action === 'container.sent' && e.outcome === 'ok')).toBe(false);
    expect(carriesSecret(await mailOf(drop))).toBe(false);
    expect(await mailOf(drop)).toHaveLength(0);
  }, 120_000);

  it('a planted row naming a real container but a document as its path: the container goes, never the document', async () => {
    const real = await queued();
    let planted = 0;
    tamper((db) => {
      planted = Number(db.prepare(`INSERT INTO outbox (container_id, sender_id, transport, destination, message_id, path, size, state, attempts, next_attempt_at, queued_at)
        VALUES (?, ?, 'mail', ?, '<x2@attaquant.test>', ?, ?, 'queued', 0, 0, ?)`)
        .run(real.container, police.id, drop.user, secretFile, SECRET.length, Date.now()).lastInsertRowid);
    });
    const run = await pli(police.profile.home, ['outbox', 'flush']);
    expect(run.code, run.stderr).toBe(0);
    // Unsealed (planted) rows are still sent, as rows made before migration 17: what leaves is the
    // profile's own copy of the container, ciphertext the attacker could already read in outbox/.
    expect(row(planted).state).toBe('sent');
    const dropped = await mailOf(drop);
    expect(carriesSecret(dropped)).toBe(false);
    const copy = fs.readFileSync(real.copy).toString('base64').slice(0, 60);
    expect(dropped.some((m) => m.replace(/\s+/g, '').includes(copy))).toBe(true);
    expect(row(real.id).state).toBe('sent');
  }, 120_000);

  for (const [what, replace] of [
    ['a symlink to a document of the person', (copy: string) => fs.symlinkSync(secretFile, copy)],
    ['a plain copy of that document', (copy: string) => fs.copyFileSync(secretFile, copy)],
    ['another container of the same sender', (copy: string, other: string) => fs.copyFileSync(other, copy)],
  ] as const) {
    it(`the copy in outbox/ replaced by ${what}: refused, the row failed, the refusal in the log`, async () => {
      const victim = await queued();
      const other = await queued();
      // The other one is left failed-out of the way: only the victim's row is at stake here.
      tamper((db) => db.prepare("UPDATE outbox SET state = 'failed' WHERE id = ?").run(other.id));
      const before = (await mailOf(townhall.user)).length;
      const since = lastSeq();
      fs.rmSync(victim.copy);
      replace(victim.copy, other.copy);
      const run = await pli(police.profile.home, ['outbox', 'flush']);
      expect(run.code, run.stdout + run.stderr).toBe(2);
      expect(run.stderr).toMatch(MODIFIED);
      const after = row(victim.id);
      expect(after.state).toBe('failed');
      expect(after.last_error).toMatch(MODIFIED);
      const logged = events(since).filter((e) => e.detail.outbox === victim.id);
      expect(logged).toEqual([expect.objectContaining({ action: 'container.sent', outcome: 'refused', detail: expect.objectContaining({ reason: 'outbox-modified' }) })]);
      const received = await mailOf(townhall.user);
      expect(received).toHaveLength(before);
      expect(carriesSecret(received)).toBe(false);
    }, 120_000);
  }

  it("a sealed row's destination changed to the attacker's mailbox: refused as tampering, nothing mailed there", async () => {
    const victim = await queued();
    const dropped = (await mailOf(drop)).length;
    const since = lastSeq();
    tamper((db) => db.prepare('UPDATE outbox SET destination = ? WHERE id = ?').run(drop.user, victim.id));
    const run = await pli(police.profile.home, ['outbox', 'flush']);
    expect(run.code, run.stdout + run.stderr).toBe(2);
    expect(run.stderr).toMatch(/le profil de ce poste a été modifié en dehors de Pli/i);
    expect(row(victim.id).state).toBe('failed');
    expect(events(since).filter((e) => e.detail.outbox === victim.id))
      .toEqual([expect.objectContaining({ action: 'container.sent', outcome: 'refused', detail: expect.objectContaining({ reason: 'profile-tampered' }) })]);
    expect(await mailOf(drop)).toHaveLength(dropped);
  }, 120_000);

  it('the honest send still leaves, and its copy in outbox/ is 0600', async () => {
    const honest = await queued();
    expect(fs.statSync(honest.copy).mode & 0o777).toBe(0o600);
    const before = (await mailOf(townhall.user)).length;
    const run = await pli(police.profile.home, ['outbox', 'flush']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(new RegExp(`^${honest.id}  envoyé`, 'm'));
    expect(row(honest.id).state).toBe('sent');
    expect(await mailOf(townhall.user)).toHaveLength(before + 1);
  }, 120_000);
});
