// The mailbox never jams (issue 12), against real Postfix + Dovecot (test/mail/harness.ts):
// a sender killed (SIGKILL) in the middle of `pli outbox flush` gives its row back to the next
// flush and the message arrives once; two `pli receive` at once on one profile store every
// container once and never print a server error; junk through IMAP is capped; a container sent
// in a text-typed MIME part (any charset, base64 or quoted-printable) is received intact.
import { randomBytes } from 'node:crypto';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import type Mail from 'nodemailer/lib/mailer/index.js';
import type { MailServers, MailUser } from './harness.js';
import { captureMain as captureCli, policeAndTownHall, type MailBench, type MailParty } from './support.js';
import { untilStopped } from '../cli/support.js';
import { listOutbox, queueSend, sendWithin, type OutboxRow } from '../../electron/core/mail/outbox.js';
import { JUNK_KEEP_MAX_BYTES, listInbox } from '../../electron/core/mail/inbox.js';
import { receiveImap } from '../../electron/core/mail/imap.js';

const PASSPHRASE = 'phrase de passe de test';
const BIN = path.resolve('bin/pli.js');
let bench: MailBench;
let servers: MailServers;

let police: MailParty;
let townhall: MailParty;

const counts = (user: MailUser): Promise<Record<string, number>> => bench.counts(user);
const waitForInbox = (user: MailUser, n: number, timeoutMs?: number): Promise<void> => bench.waitForInbox(user, n, timeoutMs);
const writeFile = (name: string, bytes: Buffer): string => bench.file(name, bytes);

const sendRaw = (from: MailUser, to: MailUser, attachments: Mail.Attachment[]): Promise<void> => bench.sendRaw(from, to, attachments);
const containerBytes = (label: string, size?: number): Promise<{ id: string; bytes: Buffer }> => bench.containerBytes(police, townhall, label, size);

function runCli(args: string[]): { done: Promise<{ code: number | null; stdout: string; stderr: string }>; pid: number; kill: (s: NodeJS.Signals) => void } {
  const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, PLI_PASSPHRASE: PASSPHRASE }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => { stdout += c.toString('utf8'); });
  child.stderr.on('data', (c: Buffer) => { stderr += c.toString('utf8'); });
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
  return { done, pid: child.pid!, kill: (s) => void child.kill(s) };
}

const captureMain = (argv: string[]) => captureCli(argv, { PLI_PASSPHRASE: PASSPHRASE });

beforeAll(async () => {
  if (!fs.existsSync(path.resolve('dist'))) throw new Error('run `npm run build` first: these tests run bin/pli.js');
  ({ bench, police, townhall } = await policeAndTownHall('pli-robust-'));
  ({ servers } = bench);
}, 90_000);

afterAll(async () => {
  await bench?.stop();
}, 30_000);

describe('the mailbox never jams (real Postfix + Dovecot)', () => {
  it('a sender killed (SIGKILL) during pli outbox flush: the next flush takes the row back, one message arrives', async () => {
    // Big enough that the SMTP transaction lasts long after the row is claimed.
    const file = writeFile('IS101_gros.xls', randomBytes(15 * 1024 * 1024));
    const queued = await queueSend(police.ctx, { to: [townhall.id], files: [file], mail: [servers.users.archive.user] });
    const id = queued.outboxIds[0]!;
    const rowOf = (): OutboxRow => listOutbox(police.profile.db).find((r) => r.id === id)!;
    const before = (await counts(servers.users.archive)).INBOX ?? 0;

    const flush = runCli(['--home', police.profile.home, 'outbox', 'flush']);
    const deadline = Date.now() + 30_000;
    // The row is checked while the sender is stopped (SIGSTOP), then killed without running again:
    // the state checked is the state killed (checked while it ran, it could be sent meanwhile).
    for (;;) {
      flush.kill('SIGSTOP');
      await untilStopped(flush.pid, flush.done);
      if (rowOf().state === 'sending') break;
      if (Date.now() > deadline) throw new Error(`the row never became 'sending': ${rowOf().state}`);
      flush.kill('SIGCONT');
      await new Promise((r) => setTimeout(r, 2));
    }
    flush.kill('SIGKILL');
    const killed = await flush.done;
    expect(killed.code).toBeNull(); // killed, not finished
    expect(rowOf().state).toBe('sending');
    expect(rowOf().next_attempt_at).toBeGreaterThan(Date.now() + 60_000); // the lease alone would hold it for long

    const again = await captureMain(['--home', police.profile.home, 'outbox', 'flush']);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(new RegExp(`^${id} {2}envoyé`, 'm'));
    expect(rowOf().state).toBe('sent');

    await waitForInbox(servers.users.archive, before + 1);
    // Not a pause (a loaded machine may deliver a second copy after it, and the test would pass
    // without seeing it): Postfix's queues empty, everything it accepted has been delivered.
    await bench.drained();
    expect((await counts(servers.users.archive)).INBOX).toBe(before + 1);
  }, 120_000);

  it('three pli receive at once on one profile: each exits 0 (or 3, in words); every container is in the inbox once', async () => {
    const waiting = (await counts(servers.users.townhall)).INBOX ?? 0;
    const ids: string[] = [];
    for (let i = 0; i < 8; i++) {
      const sent = await queueSend(police.ctx, { to: [townhall.id], files: [writeFile(`IST_${i}.csv`, randomBytes(1_000_000))] });
      expect((await sendWithin(police.ctx, sent.outboxIds, 30_000)).sent).toHaveLength(1);
      ids.push(sent.containerId);
    }
    await waitForInbox(servers.users.townhall, waiting + 8);

    const runs = [1, 2, 3].map(() => runCli(['--home', townhall.profile.home, 'receive']));
    const results = await Promise.all(runs.map((r) => r.done));
    for (const r of results) {
      expect(r.stderr).not.toMatch(/UNIQUE|Erreur du serveur IMAP/);
      if (r.code !== 0) {
        expect(r.code).toBe(3);
        expect(r.stderr).toMatch(/Une réception est déjà en cours sur ce poste.*Réessayez/);
      }
    }
    expect(results.some((r) => r.code === 0)).toBe(true);
    const rows = listInbox(townhall.profile.db);
    for (const id of ids) expect(rows.filter((r) => r.container_id === id)).toHaveLength(1);
    expect(rows.filter((r) => ids.includes(r.container_id ?? '')).every((r) => r.state === 'verified')).toBe(true);
    expect((await counts(servers.users.townhall)).INBOX ?? 0).toBe(0);
  }, 120_000);

  it('a receive held by a live process of this workstation: pli receive waits, then exits 3 in words and takes nothing; once that process is gone, it takes over', async () => {
    const sent = await queueSend(police.ctx, { to: [townhall.id], files: [writeFile('verrou.csv', randomBytes(5000))] });
    expect((await sendWithin(police.ctx, sent.outboxIds, 30_000)).sent).toHaveLength(1);
    await waitForInbox(servers.users.townhall, 1);
    const holder = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 120000)'], { stdio: 'ignore' });
    try {
      await new Promise((r) => setTimeout(r, 100));
      const stat = fs.readFileSync(`/proc/${holder.pid}/stat`, 'utf8');
      const owner = `${os.hostname()}|${holder.pid}|${stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]}`;
      townhall.profile.db.prepare("INSERT INTO mail_lock (name, owner, expires_at) VALUES ('receive', ?, ?)").run(owner, Date.now() + 600_000);
      const busy = await captureMain(['--home', townhall.profile.home, 'receive']);
      expect(busy.code).toBe(3);
      expect(busy.stderr).toContain(`Une réception est déjà en cours sur ce poste (processus ${holder.pid}) pour ce profil`);
      expect(busy.stderr).toContain('Réessayez dans quelques instants');
      expect(listInbox(townhall.profile.db).some((r) => r.container_id === sent.containerId)).toBe(false);
      expect((await counts(servers.users.townhall)).INBOX).toBe(1);
    } finally {
      const exited = new Promise((r) => holder.once('exit', r));
      holder.kill('SIGKILL');
      await exited;
    }
    const after = await captureMain(['--home', townhall.profile.home, 'receive']);
    expect(after.code).toBe(0);
    expect(listInbox(townhall.profile.db).filter((r) => r.container_id === sent.containerId)).toHaveLength(1);
    expect(townhall.profile.db.prepare('SELECT COUNT(*) AS n FROM mail_lock').get()).toEqual({ n: 0 });
  }, 90_000);

  it('junk through IMAP: over the cap, recorded with its sender and without its bytes; under it, kept', async () => {
    const big = randomBytes(JUNK_KEEP_MAX_BYTES + 1000);
    const small = randomBytes(5000);
    const before = await counts(servers.users.townhall);
    await sendRaw(servers.users.police, servers.users.townhall, [{ filename: 'pli-gros.pli', content: big, contentType: 'application/octet-stream' }]);
    await sendRaw(servers.users.police, servers.users.townhall, [{ filename: 'pli-petit.pli', content: small, contentType: 'application/octet-stream' }]);
    await waitForInbox(servers.users.townhall, 2);
    const results = await receiveImap(townhall.ctx);
    const bigRow = results.find((r) => r.row.size === big.length)!.row;
    const smallRow = results.find((r) => r.row.size === small.length)!.row;
    expect(bigRow.state).toBe('refused');
    expect(bigRow.flags).toContain('not-kept');
    expect(bigRow.origin).toMatch(/pli-gros\.pli de police@harness\.test/);
    expect(fs.existsSync(path.join(townhall.profile.home, 'inbox', `${bigRow.sha256}.pli`))).toBe(false);
    expect(smallRow.state).toBe('refused');
    expect(smallRow.flags ?? '').not.toContain('not-kept');
    expect(fs.readFileSync(path.join(townhall.profile.home, 'inbox', `${smallRow.sha256}.pli`))).toEqual(small);
    // Never deleted from the mailbox: both messages wait in Pli/Refusés.
    expect((await counts(servers.users.townhall))['Pli/Refusés']).toBe((before['Pli/Refusés'] ?? 0) + 2);
    const listed = await captureMain(['--home', townhall.profile.home, 'inbox']);
    expect(listed.stderr).toMatch(/Place prise par les plis refusés : 0,0 Mo \(1 fichier conservé pour l'officier SSI/);
  }, 60_000);

  it('a container in a text-typed MIME part (charset, base64 or quoted-printable) is received intact and verified', async () => {
    const b64 = await containerBytes('texte-base64');
    const qp = await containerBytes('texte-qp');
    const typed = await containerBytes('type-pli');
    await sendRaw(servers.users.police, servers.users.townhall, [
      { filename: 'pli-texte.pli', content: b64.bytes, contentType: 'text/plain; charset=iso-8859-1', contentDisposition: 'inline' },
    ]);
    // Quoted-printable written here: nodemailer's leaves bare CR in the text, which no mail
    // transport carries unchanged. Every byte but letters and digits as =XX, soft breaks at 76.
    const encoded = [...qp.bytes].map((c) => (/[A-Za-z0-9]/.test(String.fromCharCode(c)) ? String.fromCharCode(c) : `=${c.toString(16).toUpperCase().padStart(2, '0')}`));
    const lines: string[] = [];
    let line = '';
    for (const unit of encoded) {
      if (line.length + unit.length > 75) {
        lines.push(`${line}=`);
        line = '';
      }
      line += unit;
    }
    lines.push(line);
    await sendRaw(servers.users.police, servers.users.townhall, [{
      raw: ['Content-Type: text/plain; charset=windows-1252; name="pli-qp.pli"', 'Content-Transfer-Encoding: quoted-printable',
        'Content-Disposition: attachment; filename="pli-qp.pli"', '', ...lines].join('\r\n'),
    }]);
    // No .pli file name at all: recognised by its media type.
    await sendRaw(servers.users.police, servers.users.townhall, [{ content: typed.bytes, contentType: 'application/vnd.pli' }]);
    await waitForInbox(servers.users.townhall, 3);
    const results = await receiveImap(townhall.ctx);
    for (const sent of [b64, qp, typed]) {
      const row = results.find((r) => r.row.container_id === sent.id)?.row;
      expect(row, sent.id).toBeDefined();
      expect(row!.state).toBe('verified');
    }
    expect((await counts(servers.users.townhall)).INBOX ?? 0).toBe(0);
  }, 60_000);

  it('an attachment of malformed base64 does not stop the round: it is refused, and the container beside it is stored', async () => {
    const good = await containerBytes('a-cote-du-mauvais');
    // Characters outside base64, a line of the wrong length, padding in the middle.
    await sendRaw(servers.users.police, servers.users.townhall, [{
      raw: ['Content-Type: application/octet-stream; name="pli-casse.pli"', 'Content-Transfer-Encoding: base64',
        'Content-Disposition: attachment; filename="pli-casse.pli"', '', 'UExJ!!!@@@ÿÿ', 'QU=JD=REVG', '===x'].join('\r\n'),
    }]);
    await sendRaw(servers.users.police, servers.users.townhall, [{ filename: 'pli-bon.pli', content: good.bytes, contentType: 'application/octet-stream' }]);
    await waitForInbox(servers.users.townhall, 2);
    const before = await counts(servers.users.townhall);
    const results = await receiveImap(townhall.ctx);
    expect(results.find((r) => r.row.container_id === good.id)?.row.state).toBe('verified');
    expect(results.filter((r) => r.row.state === 'refused')).toHaveLength(1);
    const after = await counts(servers.users.townhall);
    expect(after.INBOX ?? 0).toBe(0);
    expect(after['Pli/Refusés']).toBe((before['Pli/Refusés'] ?? 0) + 1);
  }, 60_000);
});
