// Verifying containers without decrypting them (container/verify.ts) and the inbox rules built on
// it: dedup by bytes, same id with other bytes flagged, old creation dates flagged, refusals kept.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it, expect, afterAll } from 'vitest';
import { makePerson, seal, describeError } from './helpers.js';
import { verifyContainer } from '../../electron/core/container/verify.js';
import { bufferSource } from '../../electron/core/container/sinks.js';
import { securityError } from '../../electron/core/errors.js';
import { initProfile } from '../../electron/core/profile/profile.js';
import { createIdentity, currentKeys, importCard, getIdentity, unlockIdentity } from '../../electron/core/profile/identities.js';
import { ingest, listInbox, receiveFolder } from '../../electron/core/mail/inbox.js';
import { sealToBuffer } from '../../electron/core/container/seal.js';
import type { Context } from '../../electron/core/context.js';
import { listEvents } from '../../electron/core/profile/events.js';
import type { ParsedHeader } from '../../electron/core/container/format.js';

// Light Argon2id for test identities (the unlock reads the parameters stored with each identity).
const LIGHT = { opslimit: 1, memlimitKib: 8 };
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pli-mail-verify-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('verifyContainer (signature without decryption)', async () => {
  const sender = await makePerson();
  const reader = await makePerson();
  const known = async (header: ParsedHeader) => {
    if (!header.senderSigFpr.equals(sender.sig.fpr)) throw securityError('unknown-sender', 'unknown');
    return { identityId: sender.id, publicKey: sender.sig.publicKey };
  };
  const bytes = await seal(sender, [reader], [{ name: 'IS101.csv', data: Buffer.alloc(150_000, 7) }]);

  it('accepts an intact container', async () => {
    const { info } = await verifyContainer(bufferSource(bytes), known);
    expect(info.senderId).toBe(sender.id);
  });

  it('refuses a flipped bit anywhere in the ciphertext, header or signature', async () => {
    for (const at of [20, 300, bytes.length - 70_000, bytes.length - 65, bytes.length - 1]) {
      const copy = Buffer.from(bytes);
      copy[at]! ^= 0x10;
      const outcome = await verifyContainer(bufferSource(copy), known).then(() => 'accepted', describeError);
      expect(outcome, `byte ${at}`).toMatch(/^security\//);
    }
  });

  it('refuses truncation, an unknown signer and a signer id that does not match', async () => {
    expect(await verifyContainer(bufferSource(bytes.subarray(0, bytes.length - 1)), known).then(() => 'ok', describeError)).toBe('security/malformed');
    const stranger = await makePerson();
    const foreign = await seal(stranger, [reader], [{ name: 'x', data: Buffer.from('x') }]);
    expect(await verifyContainer(bufferSource(foreign), known).then(() => 'ok', describeError)).toBe('security/unknown-sender');
    const liar = async () => ({ identityId: 'aaaaaaaaaaaaaaaa', publicKey: sender.sig.publicKey });
    expect(await verifyContainer(bufferSource(bytes), liar).then(() => 'ok', describeError)).toBe('security/sender-mismatch');
  });
});

describe('inbox ingest', () => {
  it('stores once per bytes, flags same id with other bytes and old containers, records refusals', async () => {
    const police = initProfile(path.join(tmp, 'police')).profile;
    const townhall = initProfile(path.join(tmp, 'townhall')).profile;
    const p = await createIdentity(police.db, { name: 'Greffière', email: 'police@x.test', org: 'Police' }, 'police passphrase', LIGHT);
    const t = await createIdentity(townhall.db, { name: 'Mairie', email: 'mairie@x.test', org: 'Mairie' }, 'mairie passphrase', LIGHT);
    await importCard(townhall.db, getIdentity(police.db, p.id)!.card);
    const ctx: Context = { profile: townhall, unlocker: { unlock: (row) => unlockIdentity(townhall.db, row.id, 'mairie passphrase') } };
    const unlocked = await unlockIdentity(police.db, p.id, 'police passphrase');
    const { enc } = currentKeys(police.db, p.id);
    const tEnc = (await unlockIdentity(townhall.db, t.id, 'mairie passphrase')).current;
    const params = (createdMs?: number) => ({
      senderId: p.id, signing: { keyFpr: unlocked.current.sigFpr, secretKey: unlocked.current.sigSecret },
      recipients: { kind: 'keys' as const, keys: [{ keyFpr: tEnc.encFpr, publicKey: tEnc.encPublic }, { keyFpr: enc.fpr, publicKey: enc.public_key }] },
      createdMs,
    });
    const { bytes } = await sealToBuffer([{ name: 'a.csv', data: Buffer.from('a;b\n1;2\n') }], params());
    const first = await ingest(ctx, bytes, 'folder', 'a');
    expect(first).toMatchObject({ isNew: true, row: { state: 'verified', flags: null } });
    const again = await ingest(ctx, bytes, 'imap', 'b');
    expect(again.isNew).toBe(false);
    expect(again.row.id).toBe(first.row.id);

    const tampered = Buffer.from(bytes);
    tampered[tampered.length - 100]! ^= 1;
    const bad = await ingest(ctx, tampered, 'folder', 'c');
    expect(bad.row).toMatchObject({ state: 'refused', reason: 'bad-signature', flags: 'same-id-different-bytes', container_id: first.row.container_id });
    expect(bad.refusal).toMatchObject({ code: 'bad-signature', message: expect.stringMatching(/signature/) });

    const old = await sealToBuffer([{ name: 'old.csv', data: Buffer.from('x') }], params(Date.now() - 200 * 24 * 3600 * 1000));
    expect((await ingest(ctx, old.bytes, 'folder', 'd')).row.flags).toBe('old');

    const junk = await ingest(ctx, Buffer.from('not a container at all'), 'folder', 'e');
    expect(junk.row).toMatchObject({ state: 'refused', reason: 'malformed', container_id: null });
    expect(fs.existsSync(junk.row.path)).toBe(true);

    // folder pick-up: only *.pli, files left in place, known ones not stored twice
    const usb = path.join(tmp, 'usb');
    fs.mkdirSync(usb);
    fs.writeFileSync(path.join(usb, 'pli-a.pli'), bytes);
    fs.writeFileSync(path.join(usb, 'notes.txt'), 'x');
    const seen: boolean[] = [];
    await receiveFolder(ctx, usb, (r) => seen.push(r.isNew));
    expect(seen).toEqual([false]);
    expect(fs.readdirSync(usb).sort()).toEqual(['notes.txt', 'pli-a.pli']);
    expect(listInbox(townhall.db)).toHaveLength(4);
    const actions = listEvents(townhall.db).map((e) => e.action).filter((a) => a.startsWith('container.'));
    expect(actions).toEqual(['container.received', 'container.refused', 'container.received', 'container.refused']);
    unlocked.wipe();
    police.close();
    townhall.close();
  });
});
