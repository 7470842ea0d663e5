// The attacker of docs/profile.md ("The mailbox row: settings bound to the password") against the
// functional mailbox: someone who can write the profile's database (a second SQLite connection
// here, as the `sqlite3` tool would) but knows no passphrase.
// Win 1: the mailbox row edited (their server, their port, their CA) must never receive the
// password: refused before any connection, at the unseal and at each connection after it.
// Win 2: the profile key (which seals the password) must never be wrapped for a key they planted:
// an uncertified own identity under a pinned authority, or a `keys` row in a person's own name.
// A TCP listener on loopback records every connection: none may reach it once the row is edited.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import net from 'node:net';
import { createCipheriv, randomBytes } from 'node:crypto';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { DB, Profile } from '../../electron/core/profile/profile.js';
import { createIdentity, currentKeys, getIdentity, unlockIdentity } from '../../electron/core/profile/identities.js';
import { certifyCard, exportDirectory, initAuthority } from '../../electron/core/authority/authority.js';
import { importDirectory } from '../../electron/core/authority/directory.js';
import { getMailbox, setMailbox, unlockMailboxPassword, DEFAULT_MAX_MESSAGE_BYTES, type MailboxSettings } from '../../electron/core/mail/settings.js';
import { imapClient, smtpTransport } from '../../electron/core/mail/connect.js';
import { probeMailbox } from '../../electron/core/mail/probe.js';
import { wrapForXWing, xwingKeygen } from '../../electron/core/crypto/keys.js';
import { fingerprint } from '../../electron/core/crypto/primitives.js';
import { AAD, KDF_INFO } from '../../electron/core/crypto/labels.js';
import { listEvents } from '../../electron/core/profile/events.js';
import type { Context } from '../../electron/core/context.js';
import { scriptedTable } from './handler-table.js';
import { refusedWith } from './refused.js';
import { scratchProfiles } from './scratch.js';

const PASS = 'une phrase de passe de test';
const LIGHT = { opslimit: 1, memlimitKib: 8 };
const SECRET = 'S3cret-Mailbox-Pw';
const { profile } = scratchProfiles('pli-mailbox-tamper-');

// The attacker's "server": records every connection and closes it at once.
let connections = 0;
let attackerPort = 0;
const server = net.createServer((socket) => {
  connections++;
  socket.destroy();
});
beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  attackerPort = (server.address() as net.AddressInfo).port;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const contextOf = (p: Profile): Context => ({ profile: p, unlocker: { unlock: (row) => unlockIdentity(p.db, row.id, PASS) } });
const person = async (p: Profile, name: string, email = 'police@exemple.fr'): Promise<string> =>
  (await createIdentity(p.db, { name, email, org: 'Police municipale' }, PASS, LIGHT)).id;

/** Honest settings: a port nobody listens on (the honest server is not needed here). */
const HONEST: MailboxSettings = {
  imap: { host: 'imap.police.test', port: 993, mode: 'tls' }, smtp: { host: 'smtp.police.test', port: 465, mode: 'tls' },
  user: 'alice@police.test', caPem: null, maxMessageBytes: DEFAULT_MAX_MESSAGE_BYTES,
};
/** HONEST as the desktop app's form sends it (mailbox:set), without the CA and the password. */
const FORM = { imap: { host: 'imap.police.test', port: 993, mode: 'tls' }, smtp: { host: 'smtp.police.test', port: 465, mode: 'tls' }, user: 'alice@police.test', maxMessageMb: 25 };

const ATTACKER_CA = '-----BEGIN CERTIFICATE-----\nMIIBattacker\n-----END CERTIFICATE-----\n';

/** The attacker: a connection of their own to the profile's database file. */
function tamper(p: Profile, action: (db: Database.Database) => void): void {
  const db = new Database(path.join(p.home, 'profile.sqlite'));
  try {
    action(db);
  } finally {
    db.close();
  }
}

const refusals = (db: DB): string[] => listEvents(db)
  .filter((e) => e.action === 'mailbox.settings-changed' && e.outcome === 'refused').map((e) => e.detail ?? '');

async function station(): Promise<{ p: Profile; alice: string; ctx: Context }> {
  const p = profile();
  const alice = await person(p, 'Alice Martin');
  const ctx = contextOf(p);
  await setMailbox(ctx, HONEST, SECRET, alice);
  expect(await unlockMailboxPassword(ctx, alice)).toBe(SECRET);
  return { p, alice, ctx };
}

/** Seal v1 as the previous version wrote it: the password under a fresh profile key with the
 * constant AAD (no settings bound), and that key wrapped for the person's current key. */
async function sealV1(p: Profile, alice: string) {
  const profileKey = randomBytes(32);
  const nonce = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', profileKey, nonce);
  cipher.setAAD(Buffer.from(AAD.mailboxPassword, 'ascii'));
  const sealed = Buffer.concat([cipher.update(SECRET, 'utf8'), cipher.final(), cipher.getAuthTag()]);
  const { enc } = currentKeys(p.db, alice);
  const wrap = await wrapForXWing(enc.public_key, profileKey, enc.fpr, KDF_INFO.wrapProfileKey);
  return { nonce, sealed, enc, wrap };
}

describe('win 1: the mailbox row edited', () => {
  it('the reviewer\'s edit (ports to their server, their CA) is refused at the unseal, audited, and nothing connects', async () => {
    const { p, alice, ctx } = await station();
    tamper(p, (db) => db.prepare('UPDATE mailbox SET imap_host = ?, smtp_host = ?, imap_port = ?, smtp_port = ?, ca_pem = ?')
      .run('127.0.0.1', '127.0.0.1', attackerPort, attackerPort, ATTACKER_CA));
    const before = connections;
    const error = await refusedWith('mailbox-tampered', () => unlockMailboxPassword(ctx, alice));
    expect(error.kind).toBe('security');
    expect(error.message).toMatch(/modifiés en dehors de Pli : connexion refusée, le mot de passe de la boîte n'a pas été envoyé\. Saisissez de nouveau les réglages de la boîte dans les Paramètres, puis prévenez l'officier SSI\./);
    await refusedWith('mailbox-tampered', () => probeMailbox(ctx, alice));
    expect(connections).toBe(before);
    expect(refusals(p.db).length).toBe(2);
    expect(refusals(p.db)[0]).toContain('mailbox-tampered');
  });

  it('every setting a connection or a send uses is covered, one column at a time', async () => {
    const { p, alice, ctx } = await station();
    const edits: [string, unknown][] = [
      ['imap_host', '127.0.0.1'], ['imap_port', attackerPort], ['imap_mode', 'starttls'],
      ['smtp_host', '127.0.0.1'], ['smtp_port', attackerPort], ['smtp_mode', 'starttls'],
      ['user', 'attacker@pirate.test'], ['ca_pem', ATTACKER_CA], ['max_message_bytes', 500_000_000],
    ];
    const original = p.db.prepare('SELECT * FROM mailbox').get() as Record<string, unknown>;
    for (const [column, value] of edits) {
      tamper(p, (db) => db.prepare(`UPDATE mailbox SET ${column} = ?`).run(value));
      await refusedWith('mailbox-tampered', () => unlockMailboxPassword(ctx, alice));
      tamper(p, (db) => db.prepare(`UPDATE mailbox SET ${column} = ?`).run(original[column]));
    }
    // the CA removed (NULL) is a change too
    tamper(p, (db) => db.prepare('UPDATE mailbox SET ca_pem = ?').run(ATTACKER_CA));
    await setMailbox(ctx, { ...HONEST, caPem: ATTACKER_CA }, SECRET, alice);
    tamper(p, (db) => db.prepare('UPDATE mailbox SET ca_pem = NULL').run());
    await refusedWith('mailbox-tampered', () => unlockMailboxPassword(ctx, alice));
    // the honest row still opens
    await setMailbox(ctx, HONEST, SECRET, alice);
    expect(await unlockMailboxPassword(ctx, alice)).toBe(SECRET);
  });

  it('a row edited after the unseal (a watcher\'s later tick, a flush that reads it again) never gets a connection', async () => {
    const { p, alice, ctx } = await station();
    const password = await unlockMailboxPassword(ctx, alice);
    tamper(p, (db) => db.prepare('UPDATE mailbox SET imap_host = ?, smtp_host = ?, imap_port = ?, smtp_port = ?')
      .run('127.0.0.1', '127.0.0.1', attackerPort, attackerPort));
    const before = connections;
    const edited = getMailbox(p.db)!;
    await refusedWith('mailbox-tampered', () => smtpTransport(edited, password));
    await refusedWith('mailbox-tampered', () => imapClient(edited, password));
    // a password this process never unsealed gets no connection either
    await refusedWith('mailbox-tampered', () => smtpTransport(HONEST, 'a guessed password'));
    expect(connections).toBe(before);
    expect(refusals(p.db).length).toBe(2);
    // the control: with the settings it was sealed with, the connection is made (and reaches the listener)
    await setMailbox(ctx, { ...HONEST, smtp: { host: '127.0.0.1', port: attackerPort, mode: 'tls' } }, SECRET, alice);
    const honest = getMailbox(p.db)!;
    const transport = await smtpTransport(honest, await unlockMailboxPassword(ctx, alice));
    await transport.verify().catch(() => undefined);
    transport.close();
    expect(connections).toBeGreaterThan(before);
  });

  it('a row sealed by an earlier version (no settings bound) is refused until entered again, never re-sealed', async () => {
    const { p, alice, ctx } = await station();
    const { nonce, sealed, enc, wrap } = await sealV1(p, alice);
    tamper(p, (db) => {
      db.prepare('UPDATE mailbox SET password_nonce = ?, password_sealed = ?').run(nonce, sealed);
      db.prepare('DELETE FROM profile_key_wraps').run();
      db.prepare('INSERT INTO profile_key_wraps (key_fpr, identity_id, kem_ciphertext, wrapped, created_at) VALUES (?, ?, ?, ?, ?)')
        .run(enc.fpr, alice, wrap.kemCiphertext, wrap.wrapped, Date.now());
    });
    const row = () => p.db.prepare('SELECT password_nonce, password_sealed FROM mailbox').get();
    const stored = row();
    const error = await refusedWith('mailbox-unsealed', () => unlockMailboxPassword(ctx, alice));
    expect(error.message).toMatch(/version antérieure de Pli.*Saisissez de nouveau les réglages de la boîte dans les Paramètres, mot de passe compris/);
    await refusedWith('mailbox-unsealed', () => unlockMailboxPassword(ctx, alice));
    expect(row()).toEqual(stored); // not re-sealed
    expect(refusals(p.db).some((d) => d.includes('mailbox-unsealed'))).toBe(true);
    await setMailbox(ctx, HONEST, SECRET, alice);
    expect(await unlockMailboxPassword(ctx, alice)).toBe(SECRET);
  });

  it('in the app, such a row is put right as its words say: the settings entered again, password included, the CA « kept » as the form sends it (found by a review: it was refused again, forever)', async () => {
    const { p, alice } = await station();
    const { nonce, sealed, enc, wrap } = await sealV1(p, alice);
    tamper(p, (db) => {
      db.prepare('UPDATE mailbox SET password_nonce = ?, password_sealed = ?, ca_pem = NULL').run(nonce, sealed);
      db.prepare('DELETE FROM profile_key_wraps').run();
      db.prepare('INSERT INTO profile_key_wraps (key_fpr, identity_id, kem_ciphertext, wrapped, created_at) VALUES (?, ?, ?, ?, ?)')
        .run(enc.fpr, alice, wrap.kemCiphertext, wrap.wrapped, Date.now());
    });
    const handlers = scriptedTable(p.home).table;
    try {
      expect(await handlers.invoke('session:signIn', { opId: 'op-1', id: alice, passphrase: PASS })).toMatchObject({ ok: true });
      // Left empty, the password would come from the row: still refused.
      expect(await handlers.invoke('mailbox:set', { ...FORM, ca: 'keep' })).toMatchObject({ ok: false, error: { code: 'mailbox-unsealed' } });
      expect(await handlers.invoke('mailbox:set', { ...FORM, ca: 'keep', password: SECRET })).toMatchObject({ ok: true });
      expect(await unlockMailboxPassword(contextOf(p), alice)).toBe(SECRET);
    } finally {
      handlers.close();
    }
  });
});

describe('win 1 in the desktop app: saving the settings never carries an edited value into a new seal', () => {
  it('the CA « kept » or the password left empty unseals the stored row first: an edited CA is refused, not sealed', async () => {
    const p = profile();
    const alice = await person(p, 'Alice Martin');
    await setMailbox(contextOf(p), { ...HONEST, caPem: '-----BEGIN CERTIFICATE-----\nMIIBhonest\n-----END CERTIFICATE-----\n' }, SECRET, alice);
    tamper(p, (db) => db.prepare('UPDATE mailbox SET ca_pem = ?').run(ATTACKER_CA));
    const handlers = scriptedTable(p.home).table;
    try {
      expect(await handlers.invoke('session:signIn', { opId: 'op-1', id: alice, passphrase: PASS })).toMatchObject({ ok: true });
      // The password typed again, the CA « kept »: the stored CA cannot be proven, so it must be chosen again.
      expect(await handlers.invoke('mailbox:set', { ...FORM, ca: 'keep', password: 'a new password' })).toMatchObject({ ok: false, error: { code: 'ca-choose-again' } });
      expect(await handlers.invoke('mailbox:set', { ...FORM, ca: 'none' })).toMatchObject({ ok: false, error: { code: 'mailbox-tampered' } });
      expect(p.db.prepare('SELECT ca_pem FROM mailbox').pluck().get()).toBe(ATTACKER_CA); // nothing sealed over it
      // re-entered (password typed, CA chosen again or none): sealed anew, and it opens
      expect(await handlers.invoke('mailbox:set', { ...FORM, ca: 'none', password: SECRET })).toMatchObject({ ok: true });
      expect(await unlockMailboxPassword(contextOf(p), alice)).toBe(SECRET);
    } finally {
      handlers.close();
    }
  });
});

describe('win 2: the profile key wrapped only for keys that pass the hand-over rule', () => {
  const wrapsOf = (db: DB): { key_fpr: Buffer; identity_id: string }[] =>
    db.prepare('SELECT key_fpr, identity_id FROM profile_key_wraps').all() as { key_fpr: Buffer; identity_id: string }[];

  it('without an authority, a keys row planted in the person\'s own name gets no wrap', async () => {
    const { p, alice, ctx } = await station();
    const attacker = await xwingKeygen();
    const planted = fingerprint('xwing', attacker.publicKey);
    tamper(p, (db) => db.prepare('INSERT INTO keys (fpr, identity_id, kind, public_key, key_set, created_at) VALUES (?, ?, ?, ?, 2, ?)')
      .run(planted, alice, 'xwing', Buffer.from(attacker.publicKey), Date.now()));
    expect(await unlockMailboxPassword(ctx, alice)).toBe(SECRET);
    expect(wrapsOf(p.db).some((w) => w.key_fpr.equals(planted))).toBe(false);
    // nor at a new save of the settings
    await setMailbox(ctx, HONEST, SECRET, alice);
    expect(wrapsOf(p.db).some((w) => w.key_fpr.equals(planted))).toBe(false);
    expect(await unlockMailboxPassword(ctx, alice)).toBe(SECRET);
  });

  it('with a pinned authority, an uncertified own identity copied in gets no wrap; a certified one does', async () => {
    const officer = profile();
    await person(officer, 'Olivier Ssi', 'ssi@police.fr');
    const octx = contextOf(officer);
    const { fingerprint: pin } = await initAuthority(octx, 'SSI DIPN 54');
    const p = profile();
    const claire = await person(p, 'Claire Agent');
    const bruno = await person(p, 'Bruno Adjoint');
    await certifyCard(octx, getIdentity(p.db, claire)!.card, 'operator');
    await certifyCard(octx, getIdentity(p.db, bruno)!.card, 'reader');
    (await unlockIdentity(p.db, claire, PASS)).wipe();
    await importDirectory(p.db, (await exportDirectory(octx)).text, pin);
    const ctx = contextOf(p);
    await setMailbox(ctx, HONEST, SECRET, claire);
    // The attacker's own profile: their uncertified identity, copied into the victim's (identities and keys rows).
    const theirs = profile();
    const xavier = await person(theirs, 'Xavier Pirate');
    const identity = theirs.db.prepare('SELECT * FROM identities WHERE id = ?').get(xavier) as Record<string, unknown>;
    const keys = theirs.db.prepare('SELECT * FROM keys WHERE identity_id = ?').all(xavier) as Record<string, unknown>[];
    tamper(p, (db) => {
      db.prepare('INSERT INTO identities (id, name, email, org, own, card, created_at, added_at) VALUES (@id, @name, @email, @org, 1, @card, @created_at, @added_at)').run(identity);
      for (const key of keys) db.prepare('INSERT INTO keys (fpr, identity_id, kind, public_key, key_set, created_at, retired_at) VALUES (@fpr, @identity_id, @kind, @public_key, @key_set, @created_at, @retired_at)').run(key);
      db.prepare('DELETE FROM profile_key_wraps WHERE identity_id = ?').run(bruno); // Bruno gets his again
    });
    expect(await unlockMailboxPassword(ctx, claire)).toBe(SECRET);
    const wraps = wrapsOf(p.db);
    expect(wraps.some((w) => w.identity_id === xavier)).toBe(false);
    expect(wraps.some((w) => w.identity_id === bruno)).toBe(true);
    // a new save of the settings wraps for the certified people only
    await setMailbox(ctx, HONEST, SECRET, claire);
    expect(wrapsOf(p.db).map((w) => w.identity_id).sort()).toEqual([bruno, claire].sort());
  });
});
