// Mailbox settings without a server: endpoint syntax, the size estimate, and the profile key
// (the password sealed under a key wrapped for every own identity, never stored in clear).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it, expect, afterAll } from 'vitest';
import { initProfile } from '../../electron/core/profile/profile.js';
import { createIdentity, importCard, newPersonCard, unlockIdentity } from '../../electron/core/profile/identities.js';
import type { Context } from '../../electron/core/context.js';
import { parseEndpoint, setMailbox, unlockMailboxPassword, DEFAULT_MAX_MESSAGE_BYTES } from '../../electron/core/mail/settings.js';
import { estimateMessageBytes, listOutbox, queueSend } from '../../electron/core/mail/outbox.js';
import { PliError } from '../../electron/core/errors.js';
import { listEvents } from '../../electron/core/profile/events.js';

// Light Argon2id for test identities (the unlock reads the parameters stored with each identity).
const LIGHT = { opslimit: 1, memlimitKib: 8 };
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pli-mail-settings-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('mailbox endpoints', () => {
  it('HOST:PORT is implicit TLS, starttls:// is STARTTLS, anything plaintext is refused', () => {
    expect(parseEndpoint('imap.exemple.fr:993', 'IMAP')).toEqual({ host: 'imap.exemple.fr', port: 993, mode: 'tls' });
    expect(parseEndpoint('starttls://smtp.exemple.fr:587', 'SMTP')).toEqual({ host: 'smtp.exemple.fr', port: 587, mode: 'starttls' });
    expect(parseEndpoint('[::1]:465', 'SMTP')).toEqual({ host: '::1', port: 465, mode: 'tls' });
    for (const bad of ['plain://h:25', 'smtp://h:25', 'h', 'h:0', 'h:70000', 'starttls://h']) {
      expect(() => parseEndpoint(bad, 'SMTP'), bad).toThrow(PliError);
    }
  });

  it('the default limit admits containers up to about 18 MB, not 19 MB', () => {
    expect(estimateMessageBytes(18_000_000)).toBeLessThanOrEqual(DEFAULT_MAX_MESSAGE_BYTES);
    expect(estimateMessageBytes(19_000_000)).toBeGreaterThan(DEFAULT_MAX_MESSAGE_BYTES);
  });
});

describe('profile key', () => {
  it('wraps the password for every own identity, adds wraps for newcomers on unlock, never stores it in clear', async () => {
    const { profile } = initProfile(path.join(tmp, 'p'));
    const a = await createIdentity(profile.db, { name: 'Alice Agent', email: 'mairie@ville.test', org: 'Mairie' }, 'alice passphrase', LIGHT);
    const ctxAs = (pass: string): Context => ({ profile, unlocker: { unlock: (row) => unlockIdentity(profile.db, row.id, pass) } });
    const settings = {
      imap: { host: 'imap.ville.test', port: 993, mode: 'tls' as const }, smtp: { host: 'smtp.ville.test', port: 587, mode: 'starttls' as const },
      user: 'mairie@ville.test', caPem: null, maxMessageBytes: DEFAULT_MAX_MESSAGE_BYTES,
    };
    const secret = 'mot-de-passe-très-secret-4242';
    await setMailbox(ctxAs('alice passphrase'), settings, secret);
    profile.db.pragma('wal_checkpoint(TRUNCATE)');
    const raw = fs.readFileSync(path.join(profile.home, 'profile.sqlite'));
    expect(raw.includes(Buffer.from(secret))).toBe(false);
    expect(await unlockMailboxPassword(ctxAs('alice passphrase'), a.id)).toBe(secret);

    // a person added later has no wrap until a habilitated person unlocks once
    const b = await createIdentity(profile.db, { name: 'Bruno Adjoint', email: 'mairie@ville.test', org: 'Mairie' }, 'bruno passphrase', LIGHT);
    await expect(unlockMailboxPassword(ctxAs('bruno passphrase'), b.id)).rejects.toMatchObject({ code: 'no-profile-key' });
    expect(await unlockMailboxPassword(ctxAs('alice passphrase'), a.id)).toBe(secret);
    expect(await unlockMailboxPassword(ctxAs('bruno passphrase'), b.id)).toBe(secret);
    // a wrong passphrase does not reveal it
    await expect(unlockMailboxPassword(ctxAs('not the passphrase'), a.id)).rejects.toMatchObject({ code: 'bad-passphrase' });
    // the settings event carries no password
    const details = listEvents(profile.db).filter((e) => e.action === 'mailbox.settings-changed').map((e) => e.detail ?? '').join('');
    expect(details).toContain('smtp.ville.test');
    expect(details).not.toContain(secret);
    profile.close();
  });

  it('the settings event names the person acting (the context\'s actor), none when nobody signed in', async () => {
    const { profile } = initProfile(path.join(tmp, 'actor'));
    const a = await createIdentity(profile.db, { name: 'Alice Agent', email: 'mairie@ville.test', org: 'Mairie' }, 'alice passphrase', LIGHT);
    const unlocker = { unlock: (row: { id: string }) => unlockIdentity(profile.db, row.id, 'alice passphrase') };
    const settings = {
      imap: { host: 'imap.ville.test', port: 993, mode: 'tls' as const }, smtp: { host: 'smtp.ville.test', port: 587, mode: 'starttls' as const },
      user: 'mairie@ville.test', caPem: null, maxMessageBytes: DEFAULT_MAX_MESSAGE_BYTES,
    };
    await setMailbox({ profile, unlocker, actor: () => a.id }, settings, 'mot-de-passe-très-secret-4242');
    await setMailbox({ profile, unlocker }, settings, 'mot-de-passe-très-secret-4243');
    const actors = listEvents(profile.db).filter((e) => e.action === 'mailbox.settings-changed').map((e) => e.actor);
    expect(actors).toEqual([a.id, null]);
    profile.close();
  });
});

describe('queueing (no server needed)', () => {
  it('one row per distinct destination mailbox, own identities excluded, Message-ID fixed, --mail overrides', async () => {
    const { profile } = initProfile(path.join(tmp, 'q'));
    const me = await createIdentity(profile.db, { name: 'Greffière', email: 'dipn@police.test', org: 'Police' }, 'clerk passphrase', LIGHT);
    const ctx: Context = { profile, unlocker: { unlock: (row) => unlockIdentity(profile.db, row.id, 'clerk passphrase') } };
    const others = [];
    for (const [name, email] of [['Maire', 'mairie@ville.test'], ['Adjoint', 'Mairie@Ville.test'], ['Préfet', 'pref@etat.test']] as const) {
      const card = await newPersonCard({ name, email, org: 'X' });
      await importCard(profile.db, card.card);
      others.push(card.id);
    }
    await setMailbox(ctx, {
      imap: { host: 'imap.police.test', port: 993, mode: 'tls' }, smtp: { host: 'smtp.police.test', port: 465, mode: 'tls' },
      user: 'dipn@police.test', caPem: null, maxMessageBytes: DEFAULT_MAX_MESSAGE_BYTES,
    }, 'secret');
    const file = path.join(tmp, 'IS101.csv');
    fs.writeFileSync(file, '1;2\n');
    const sent = await queueSend(ctx, { as: me.id, to: others, files: [file] });
    expect(sent.destinations.sort()).toEqual(['mairie@ville.test', 'pref@etat.test']);
    const rows = listOutbox(profile.db);
    expect(rows.map((r) => r.state)).toEqual(['queued', 'queued']);
    expect(new Set(rows.map((r) => r.message_id)).size).toBe(2);
    expect(rows[0]!.message_id).toMatch(new RegExp(`^<pli\\.${sent.containerId.slice(0, 16)}\\.[0-9a-f]{16}@police\\.test>$`));
    expect(fs.existsSync(rows[0]!.path)).toBe(true);
    const overridden = await queueSend(ctx, { as: me.id, to: [others[0]!], files: [file], mail: ['Archives@Ville.test'] });
    expect(overridden.destinations).toEqual(['archives@ville.test']);
    // only own identities as recipients: no mailbox to send to
    await expect(queueSend(ctx, { as: me.id, to: [me.id], files: [file] })).rejects.toMatchObject({ code: 'no-destination' });
    const events = listEvents(profile.db).filter((e) => e.action === 'container.queued');
    expect(events).toHaveLength(3);
    profile.close();
  });
});

