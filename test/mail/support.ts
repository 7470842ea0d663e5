// What the test/mail files share: the real servers started (harness.ts) with a scratch folder,
// people made on their own profiles with the core (light Argon2id) and, unless told otherwise,
// their functional mailbox set (IMAP implicit TLS, SMTP STARTTLS, the harness's CA), and what is
// in a mailbox seen straight from Dovecot (not through Pli). One start, one stop.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { ImapFlow } from 'imapflow';
import nodemailer from 'nodemailer';
import type Mail from 'nodemailer/lib/mailer/index.js';
import { startMailServers, type MailServers, type MailUser } from './harness.js';
import { initProfile, type Profile } from '../../electron/core/profile/profile.js';
import { createIdentity, getIdentity, importCard, unlockIdentity } from '../../electron/core/profile/identities.js';
import { signIn } from '../../electron/core/services/session.js';
import type { Context } from '../../electron/core/context.js';
import { setMailbox, DEFAULT_MAX_MESSAGE_BYTES, type MailboxSettings } from '../../electron/core/mail/settings.js';
import { queueSend } from '../../electron/core/mail/outbox.js';

/** Light Argon2id for test identities (the unlock reads the parameters stored with each identity). */
export const LIGHT = { opslimit: 1, memlimitKib: 8 };
export const PASSPHRASE = 'phrase de passe de test';
/** How long mail that Postfix still holds is waited for: a guard against a stuck queue, not a verdict on speed. */
const DRAIN_GUARD_MS = 120_000;

export interface MailParty { profile: Profile; ctx: Context; id: string; user: MailUser }

export interface PartyOptions {
  /** The profile's folder (default: `<tmp>/<name>`). */
  home?: string;
  /** 'signIn': through the sign-in, as the front ends (the profile's integrity key attached, for
   * trust writes); 'identity' (default): the identity's keys only. */
  unlock?: 'signIn' | 'identity';
  /** false: no mailbox set (the test sets it); default: the harness's mailbox of `user`. */
  mailbox?: false;
}

export interface MailBench {
  servers: MailServers;
  /** The scratch folder (profiles, files), deleted by stop(). */
  tmp: string;
  /** A person on a profile of their own, with their mailbox set unless `mailbox: false`. */
  party(name: string, user: MailUser, org: string, options?: PartyOptions): Promise<MailParty>;
  /** The settings of `user`'s mailbox on the harness, with `changes` (e.g. the other server modes). */
  mailboxOf(user: MailUser, changes?: Partial<MailboxSettings>): MailboxSettings;
  /** A connected-on-demand IMAP client of `user` (implicit TLS, the harness's CA). */
  imap(user: MailUser): ImapFlow;
  /** Message counts per folder of a mailbox. */
  counts(user: MailUser): Promise<Record<string, number>>;
  /** Waits until INBOX holds at least n messages (Postfix delivers asynchronously). */
  waitForInbox(user: MailUser, n: number, timeoutMs?: number): Promise<void>;
  /** Waits until Postfix's queues are empty: whatever it accepted is delivered, nothing more is on its way. */
  drained(): Promise<void>;
  /** Writes `bytes` to `<tmp>/files/<name>` and returns its path (a file to send). */
  file(name: string, bytes: Buffer): string;
  /** A message as any mail client sends it (SMTP submission as `from`), with these attachments: what
   * someone who can only mail the functional mailbox sends. */
  sendRaw(from: MailUser, to: MailUser, attachments: Mail.Attachment[], extra?: { subject?: string; messageId?: string }): Promise<void>;
  /** A genuine container of `size` random bytes from `from` to `to`, as bytes (through the folder transport). */
  containerBytes(from: MailParty, to: MailParty, label: string, size?: number): Promise<{ id: string; bytes: Buffer }>;
  /** Closes the parties' profiles, stops the servers, runs `beforeRemove` (e.g. unmounting a disk
   * made inside the scratch folder), deletes the scratch folder. */
  stop(beforeRemove?: () => void): Promise<void>;
}

export interface MailBenchOptions {
  /** The passphrase of every party. */
  passphrase?: string;
  /** waitForInbox's default time. */
  inboxWaitMs?: number;
}

/** Starts the servers and makes the scratch folder `<os tmp>/<prefix>XXXXXX`. */
export async function startMailBench(prefix: string, options: MailBenchOptions = {}): Promise<MailBench> {
  const passphrase = options.passphrase ?? PASSPHRASE;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  let servers: MailServers;
  try {
    servers = await startMailServers();
  } catch (error) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw error;
  }
  const parties: MailParty[] = [];

  const mailboxOf = (user: MailUser, changes: Partial<MailboxSettings> = {}): MailboxSettings => ({
    imap: { host: servers.host, port: servers.ports.imaps, mode: 'tls' },
    smtp: { host: servers.host, port: servers.ports.submission, mode: 'starttls' },
    user: user.user, caPem: servers.ca.toString('utf8'), maxMessageBytes: DEFAULT_MAX_MESSAGE_BYTES,
    ...changes,
  });

  const imap = (user: MailUser): ImapFlow => {
    const client = new ImapFlow({ host: servers.host, port: servers.ports.imaps, secure: true, auth: user, tls: { ca: servers.ca }, logger: false });
    client.on('error', () => undefined);
    return client;
  };

  const counts = async (user: MailUser): Promise<Record<string, number>> => {
    const client = imap(user);
    try {
      await client.connect();
      const result: Record<string, number> = {};
      for (const box of await client.list()) {
        const status = await client.status(box.path, { messages: true });
        result[box.path] = (status && status.messages) || 0;
      }
      return result;
    } finally {
      client.close();
    }
  };

  const file = (name: string, bytes: Buffer): string => {
    const written = path.join(tmp, 'files', name);
    fs.mkdirSync(path.dirname(written), { recursive: true });
    fs.writeFileSync(written, bytes);
    return written;
  };

  return {
    servers,
    tmp,
    mailboxOf,
    imap,
    counts,
    async party(name, user, org, o = {}) {
      const { profile } = initProfile(o.home ?? path.join(tmp, name));
      const created = await createIdentity(profile.db, { name, email: user.user, org }, passphrase, LIGHT);
      const ctx: Context = {
        profile,
        unlocker: { unlock: (row) => (o.unlock === 'signIn' ? signIn(profile, row, passphrase) : unlockIdentity(profile.db, row.id, passphrase)) },
      };
      const party = { profile, ctx, id: created.id, user };
      parties.push(party);
      if (o.mailbox !== false) await setMailbox(ctx, mailboxOf(user), user.pass);
      return party;
    },
    async waitForInbox(user, n, timeoutMs = options.inboxWaitMs ?? 30_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        if (((await counts(user)).INBOX ?? 0) >= n) return;
        // Past the time, the verdict is Postfix's queue, not the clock: while it still holds mail a
        // loaded machine is only late (asked to retry now); once it is empty nothing more will come.
        if (Date.now() > deadline && (Date.now() > deadline + DRAIN_GUARD_MS || (await servers.queued()) === 0)) {
          throw new Error(`INBOX of ${user.user} did not reach ${n} messages (Postfix holds ${await servers.queued()})`);
        }
        if (Date.now() > deadline) await servers.flushQueue();
        await new Promise((r) => setTimeout(r, Date.now() > deadline ? 1000 : 200));
      }
    },
    async drained() {
      const guard = Date.now() + DRAIN_GUARD_MS;
      while ((await servers.queued()) > 0) {
        if (Date.now() > guard) throw new Error(`Postfix still holds ${await servers.queued()} messages after ${DRAIN_GUARD_MS / 1000} s`);
        await servers.flushQueue();
        await new Promise((r) => setTimeout(r, 500));
      }
    },
    file,
    async sendRaw(from, to, attachments, extra = {}) {
      const transport = nodemailer.createTransport({ host: servers.host, port: servers.ports.submission, secure: false, requireTLS: true, auth: from, tls: { ca: servers.ca } });
      try {
        await transport.sendMail({ from: from.user, to: to.user, subject: extra.subject ?? 'Pli chiffré', text: 'x', messageId: extra.messageId, attachments });
      } finally {
        transport.close();
      }
    },
    async containerBytes(from, to, label, size = 2000) {
      const folder = path.join(tmp, `folder-${label}`);
      const sent = await queueSend(from.ctx, { to: [to.id], files: [file(`${label}.csv`, randomBytes(size))], folder });
      return { id: sent.containerId, bytes: fs.readFileSync(path.join(folder, `pli-${sent.containerId.slice(0, 16)}.pli`)) };
    },
    async stop(beforeRemove) {
      for (const party of parties) party.profile.close();
      try {
        await servers.stop();
      } finally {
        beforeRemove?.();
        fs.rmSync(tmp, { recursive: true, force: true });
      }
    },
  };
}

/** The servers, and a police clerk and a town hall's secretary who know each other's cards. */
export async function policeAndTownHall(prefix: string): Promise<{ bench: MailBench; police: MailParty; townhall: MailParty }> {
  const bench = await startMailBench(prefix, { inboxWaitMs: 30_000 });
  const police = await bench.party('Greffière', bench.servers.users.police, 'Police nationale');
  const townhall = await bench.party('Secrétaire', bench.servers.users.townhall, 'Mairie');
  await importCard(police.profile.db, getIdentity(townhall.profile.db, townhall.id)!.card);
  await importCard(townhall.profile.db, getIdentity(police.profile.db, police.id)!.card);
  return { bench, police, townhall };
}

export interface PliRun { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string; ms: number }

/**
 * The built `pli` (bin/pli.js) started on profile `home` with `passphrase`, in a child process
 * without this process's other PLI_ variables: its outcome, how to kill it (true when the kill
 * reached a running process: a fault injected; false when it had ended) and its pid.
 */
export function startPli(passphrase: string, home: string, args: string[]): { done: Promise<PliRun>; kill: () => boolean; pid: number } {
  const started = Date.now();
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('PLI_'))) as Record<string, string>;
  const child = spawn(process.execPath, [path.resolve('bin/pli.js'), '--home', home, ...args], { env: { ...base, PLI_PASSPHRASE: passphrase }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => { stdout += c.toString('utf8'); });
  child.stderr.on('data', (c: Buffer) => { stderr += c.toString('utf8'); });
  const done = new Promise<PliRun>((resolve) => {
    child.once('close', (code, signal) => resolve({ code, signal, stdout, stderr, ms: Date.now() - started }));
  });
  const kill = (): boolean => child.exitCode === null && child.signalCode === null && child.kill('SIGKILL');
  return { done, kill, pid: child.pid ?? -1 };
}

/** The in-process CLI runner (test/unit/capture-main.ts), for the mail files that import it from here. */
export { captureMain } from '../unit/capture-main.js';
