// Proves the loopback mail harness against the real Postfix + Dovecot: a verified-TLS round trip,
// and that the negative setups (wrong password, unknown CA, plaintext-only servers, stopped server)
// really fail, so other tests can rely on them.
import { createHash, randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { ImapFlow } from 'imapflow';
import type { ImapFlowOptions, MessageStructureObject } from 'imapflow';
import nodemailer from 'nodemailer';
import { startMailServers, type MailServers, type MailUser } from './harness.js';

let servers: MailServers;

beforeAll(async () => {
  servers = await startMailServers();
}, 60_000);

afterAll(async () => {
  await servers?.stop();
}, 30_000);

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

function imapClient(auth: MailUser, extra: Partial<ImapFlowOptions> = {}): ImapFlow {
  const client = new ImapFlow({
    host: servers.host,
    port: servers.ports.imaps,
    secure: true,
    auth,
    tls: { ca: servers.ca },
    logger: false,
    ...extra,
  });
  // A dropped connection is also emitted as 'error'; without a listener it would crash the worker.
  client.on('error', () => undefined);
  return client;
}

/** Connects, runs fn, and closes the client on every path (Dovecot caps connections per user+IP). */
async function withImap<T>(client: ImapFlow, fn: (c: ImapFlow) => Promise<T>): Promise<T> {
  try {
    await client.connect();
    return await fn(client);
  } finally {
    client.close();
  }
}

/** The error connect() rejects with; the client is closed whatever happens. */
async function imapConnectError(client: ImapFlow): Promise<Error & Record<string, unknown>> {
  try {
    await client.connect();
  } catch (err) {
    return err as Error & Record<string, unknown>;
  } finally {
    client.close();
  }
  throw new Error('IMAP connect() unexpectedly succeeded');
}

function smtpTransport(auth: MailUser, extra: Record<string, unknown> = {}) {
  return nodemailer.createTransport({
    host: servers.host,
    port: servers.ports.submission,
    secure: false,
    requireTLS: true,
    auth,
    tls: { ca: servers.ca },
    ...extra,
  });
}

async function smtpVerifyError(transport: ReturnType<typeof smtpTransport>): Promise<Error & Record<string, unknown>> {
  try {
    await transport.verify();
  } catch (err) {
    return err as Error & Record<string, unknown>;
  } finally {
    transport.close();
  }
  throw new Error('SMTP verify() unexpectedly succeeded');
}

function findAttachment(node: MessageStructureObject | undefined): MessageStructureObject | undefined {
  if (!node) return undefined;
  if (node.disposition === 'attachment') return node;
  for (const child of node.childNodes ?? []) {
    const found = findAttachment(child);
    if (found) return found;
  }
  return undefined;
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

describe('loopback mail harness (real Postfix + Dovecot)', () => {
  it('sends a 1 MB attachment over verified STARTTLS and receives it intact over IMAPS', async () => {
    const { police, townhall } = servers.users;
    const payload = randomBytes(1024 * 1024);
    const subject = `harness round trip ${Date.now()}`;

    const transport = smtpTransport(police);
    try {
      const info = await transport.sendMail({
        from: police.user,
        to: townhall.user,
        subject,
        text: 'see attachment',
        attachments: [{ filename: 'payload.bin', content: payload, contentType: 'application/octet-stream' }],
      });
      expect(info.response).toMatch(/^250 /);
    } finally {
      transport.close();
    }

    const received = await withImap(imapClient(townhall), async (client) => {
      expect(client.secureConnection).toBe(true);
      const lock = await client.getMailboxLock('INBOX');
      try {
        // Postfix hands the message to Dovecot asynchronously (queue -> LMTP): poll for it.
        const deadline = Date.now() + 15_000;
        let uids: number[] = [];
        while (uids.length === 0) {
          expect(Date.now(), 'message not delivered within 15 s').toBeLessThan(deadline);
          await client.noop();
          uids = (await client.search({ subject }, { uid: true })) || [];
          if (uids.length === 0) await new Promise((r) => setTimeout(r, 100));
        }
        const uid = String(uids[0]);
        const msg = await client.fetchOne(uid, { bodyStructure: true }, { uid: true });
        const part = findAttachment(msg ? msg.bodyStructure : undefined)?.part;
        if (!part) throw new Error('no attachment part in BODYSTRUCTURE');
        const { content } = await client.download(uid, part, { uid: true });
        if (!content) throw new Error(`attachment part ${part} not found`);
        return readAll(content);
      } finally {
        lock.release();
      }
    });
    expect(received.length).toBe(payload.length);
    expect(sha256(received)).toBe(sha256(payload));
  });

  it('refuses a wrong password (SMTP 535, IMAP authenticationFailed)', async () => {
    const wrong = { user: servers.users.police.user, pass: 'not-the-password' };
    const smtpErr = await smtpVerifyError(smtpTransport(wrong));
    expect(smtpErr.code).toBe('EAUTH');
    expect(smtpErr.responseCode).toBe(535);

    const imapErr = await imapConnectError(imapClient(wrong));
    expect(imapErr.authenticationFailed).toBe(true);
    expect(imapErr.serverResponseCode).toBe('AUTHENTICATIONFAILED');
  });

  it('refuses a client that does not trust the throwaway CA', async () => {
    const { archive } = servers.users;
    const smtpErr = await smtpVerifyError(smtpTransport(archive, { tls: {} }));
    expect(smtpErr.code).toBe('ESOCKET');
    expect(smtpErr.message).toMatch(/unable to verify/);

    const imapErr = await imapConnectError(imapClient(archive, { tls: {} }));
    expect(imapErr.code).toBe('UNABLE_TO_VERIFY_LEAF_SIGNATURE');
  });

  it('refuses plaintext IMAP LOGIN on the STARTTLS port when the client skips STARTTLS', async () => {
    const err = await imapConnectError(
      imapClient(servers.users.archive, { port: servers.ports.imap, secure: false, doSTARTTLS: false }),
    );
    expect(err.serverResponseCode).toBe('AUTHENTICATIONFAILED');
  });

  it('plaintext-only SMTP listener: accepts AUTH in clear, but nodemailer with requireTLS refuses it', async () => {
    const { prefecture } = servers.users;
    // Control: the server really speaks plaintext and accepts the login, so the refusal below is the client's.
    const plain = smtpTransport(prefecture, { port: servers.ports.plainSmtp, requireTLS: false, ignoreTLS: true });
    try {
      await expect(plain.verify()).resolves.toBe(true);
    } finally {
      plain.close();
    }
    const err = await smtpVerifyError(smtpTransport(prefecture, { port: servers.ports.plainSmtp, requireTLS: true }));
    expect(err.code).toBe('ETLS');
  });

  it('plaintext-only IMAP endpoint: no STARTTLS in CAPABILITY, and imapflow with doSTARTTLS refuses it', async () => {
    const { prefecture } = servers.users;
    const plainOpts = { host: servers.plainImapHost, port: servers.ports.plainImap, secure: false };
    // Control: LOGIN in clear works there and the server does not advertise STARTTLS.
    const caps = await withImap(imapClient(prefecture, { ...plainOpts, doSTARTTLS: false }), async (client) => {
      expect(client.secureConnection).toBe(false);
      expect(client.authenticated).toBeTruthy();
      return client.capabilities;
    });
    expect(caps.has('STARTTLS')).toBe(false);

    const err = await imapConnectError(imapClient(prefecture, { ...plainOpts, doSTARTTLS: true }));
    expect(err.message).toMatch(/does not support STARTTLS/);
    expect(err.tlsFailed).toBe(true);
  });

  it('stopDovecot() makes IMAP connects fail; startDovecot() brings it back', async () => {
    const { townhall } = servers.users;
    await servers.stopDovecot();
    const err = await imapConnectError(imapClient(townhall));
    expect(['ECONNREFUSED', 'ECONNRESET']).toContain(err.code);

    await servers.startDovecot();
    const exists = await withImap(imapClient(townhall), async (client) => {
      const mailbox = await client.mailboxOpen('INBOX');
      return mailbox.exists;
    });
    expect(exists).toBeTypeOf('number');
  }, 30_000);
});
