// Refused input must not fill the workstation's disk (docs/mailbox.md section 4): junk over
// JUNK_KEEP_MAX_BYTES is recorded without its bytes, refused files kept are purged after
// JUNK_RETENTION_MS (clock injected), `pli inbox` says how much room refusals take. Also: two
// ingests of the same bytes at once give one row and no error; a container refused at opening
// (a file name receipt could not see) is recorded as refused on its row.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { initProfile, type Profile } from '../../electron/core/profile/profile.js';
import { createIdentity, getIdentity, importCard, unlockIdentity, currentKeys } from '../../electron/core/profile/identities.js';
import {
  getInboxRow, ingest, JUNK_KEEP_MAX_BYTES, JUNK_RETENTION_MS, listInbox, openInbox, purgeRefused, receiveFolder, refusedRoom,
} from '../../electron/core/mail/inbox.js';
import { sealToBuffer } from '../../electron/core/container/seal.js';
import type { Context } from '../../electron/core/context.js';
import { PliError } from '../../electron/core/errors.js';
import { listEvents } from '../../electron/core/profile/events.js';
import { captureMain } from './capture-main.js';
import { closeProfiles, rawPlaintext, sealRawPlaintext, type TestPerson } from './helpers.js';

const LIGHT = { opslimit: 1, memlimitKib: 8 };
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pli-junk-'));
const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex');
const DAY = 24 * 3600 * 1000;

let police: Profile;
let townhall: Profile;
let ctx: Context;
let policeId: string;
let sealFor: (name: string, data: string) => Promise<Buffer>;
let sealForPolice: () => Promise<Buffer>;
let sender: TestPerson;
let reader: TestPerson;

beforeAll(async () => {
  police = initProfile(path.join(tmp, 'police')).profile;
  townhall = initProfile(path.join(tmp, 'townhall')).profile;
  const p = await createIdentity(police.db, { name: 'Greffière', email: 'police@x.test', org: 'Police' }, 'police passphrase', LIGHT);
  const t = await createIdentity(townhall.db, { name: 'Mairie', email: 'mairie@x.test', org: 'Mairie' }, 'mairie passphrase', LIGHT);
  policeId = p.id;
  await importCard(townhall.db, getIdentity(police.db, p.id)!.card);
  await importCard(police.db, getIdentity(townhall.db, t.id)!.card);
  ctx = { profile: townhall, unlocker: { unlock: (row) => unlockIdentity(townhall.db, row.id, 'mairie passphrase') } };
  const signer = await unlockIdentity(police.db, p.id, 'police passphrase');
  const to = currentKeys(police.db, t.id).enc;
  sealFor = async (name, data) => (await sealToBuffer([{ name, data: Buffer.from(data) }], {
    senderId: p.id, signing: { keyFpr: signer.current.sigFpr, secretKey: signer.current.sigSecret },
    recipients: { kind: 'keys', keys: [{ keyFpr: to.fpr, publicKey: to.public_key }] },
  })).bytes;
  const self = currentKeys(police.db, p.id).enc;
  sealForPolice = async () => (await sealToBuffer([{ name: 'a.txt', data: Buffer.from('x') }], {
    senderId: p.id, signing: { keyFpr: signer.current.sigFpr, secretKey: signer.current.sigSecret },
    recipients: { kind: 'keys', keys: [{ keyFpr: self.fpr, publicKey: self.public_key }] },
  })).bytes;
  // The same keys as helpers' TestPerson, for containers the real sealer refuses to make.
  const none = new Uint8Array(0);
  sender = { id: p.id, enc: { publicKey: none, secretKey: none, fpr: Buffer.alloc(0) }, sig: { publicKey: none, secretKey: signer.current.sigSecret, fpr: signer.current.sigFpr } };
  reader = { id: t.id, enc: { publicKey: to.public_key, secretKey: none, fpr: to.fpr }, sig: { publicKey: none, secretKey: none, fpr: Buffer.alloc(0) } };
});

afterAll(() => closeProfiles([police, townhall], tmp));

const inboxDir = (): string => path.join(townhall.home, 'inbox');
const inboxFiles = (): string[] => (fs.existsSync(inboxDir()) ? fs.readdirSync(inboxDir()) : []);
const stored = (hash: string): string => path.join(inboxDir(), `${hash}.pli`);
const flagsOf = (id: number): string[] => (getInboxRow(townhall.db, id)!.flags ?? '').split(',').filter(Boolean);

const cli = (argv: string[]): ReturnType<typeof captureMain> => captureMain(['--home', townhall.home, ...argv]);

describe('junk is capped', () => {
  it('refused input over the cap is recorded (hash, size, origin, reason) without its bytes', async () => {
    const junk = randomBytes(JUNK_KEEP_MAX_BYTES + 1);
    const result = await ingest(ctx, junk, 'folder', 'pli-gros.pli');
    expect(result.row.state).toBe('refused');
    expect(result.row.reason).toBeTruthy();
    expect(result.row.sha256).toBe(sha256(junk));
    expect(result.row.size).toBe(junk.length);
    expect(result.row.origin).toBe('pli-gros.pli');
    expect(flagsOf(result.row.id)).toContain('not-kept');
    expect(fs.existsSync(stored(sha256(junk)))).toBe(false);
    // Seen again: the same row, still nothing stored.
    const again = await ingest(ctx, junk, 'folder', 'pli-gros.pli');
    expect(again).toMatchObject({ isNew: false, row: { id: result.row.id } });
    expect(inboxFiles()).not.toContain(`${sha256(junk)}.pli`);
  });

  it('a 200 MB junk file in a folder becomes a record only; the inbox folder does not grow', async () => {
    const folder = path.join(tmp, 'usb-200');
    fs.mkdirSync(folder);
    const file = path.join(folder, 'pli-enorme.pli');
    // Sparse: 200 MB of zeros that take no room on the test machine's disk.
    fs.closeSync(fs.openSync(file, 'w'));
    fs.truncateSync(file, 200_000_000);
    const before = inboxFiles().length;
    const results = await receiveFolder(ctx, folder, () => undefined);
    expect(results).toHaveLength(1);
    expect(results[0]!.row).toMatchObject({ state: 'refused', size: 200_000_000 });
    expect(flagsOf(results[0]!.row.id)).toContain('not-kept');
    expect(inboxFiles().length).toBe(before);
  }, 60_000);

  it('small refused files are kept, then purged after the retention period; the row stays; verified files are never purged', async () => {
    const junk = Buffer.from(`pas un pli ${randomBytes(8).toString('hex')}`);
    const refused = (await ingest(ctx, junk, 'folder', 'pli-petit.pli')).row;
    const good = (await ingest(ctx, await sealFor('etat.csv', 'commune;faits\n'), 'folder', 'pli-bon.pli')).row;
    expect(refused.state).toBe('refused');
    expect(good.state).toBe('verified');
    expect(fs.readFileSync(stored(refused.sha256))).toEqual(junk);
    // Backdate the verified row too: only refusals are purged, whatever their age.
    townhall.db.prepare('UPDATE inbox SET arrived_at = arrived_at - ? WHERE id = ?').run(365 * DAY, good.id);

    expect(await purgeRefused(ctx, refused.arrived_at + JUNK_RETENTION_MS - DAY)).toBe(0);
    expect(fs.existsSync(stored(refused.sha256))).toBe(true);

    // The junk over the cap (earlier tests) takes no room: only this file counts.
    expect(refusedRoom(townhall.db)).toEqual({ bytes: junk.length, files: 1 });
    expect(await purgeRefused(ctx, refused.arrived_at + JUNK_RETENTION_MS + DAY)).toBe(1);
    expect(fs.existsSync(stored(refused.sha256))).toBe(false);
    expect(getInboxRow(townhall.db, refused.id)).toMatchObject({ state: 'refused', sha256: refused.sha256 });
    expect(flagsOf(refused.id)).toContain('purged');
    expect(fs.existsSync(stored(good.sha256))).toBe(true);
    expect(refusedRoom(townhall.db)).toEqual({ bytes: 0, files: 0 });
    expect(listEvents(townhall.db).some((e) => e.action === 'inbox.purged')).toBe(true);
    // Purging twice changes nothing.
    expect(await purgeRefused(ctx, refused.arrived_at + JUNK_RETENTION_MS + DAY)).toBe(0);
  });

  it('pli inbox says in words how much room refusals take and which entries were not kept or purged', async () => {
    const junk = Buffer.from(`encore un faux pli ${randomBytes(8).toString('hex')}`);
    await ingest(ctx, junk, 'folder', 'pli-faux.pli');
    const listed = await cli(['inbox']);
    expect(listed.code).toBe(0);
    expect(listed.stderr).toMatch(/Place prise par les plis refusés : 0,0 Mo \(1 fichier conservé pour l'officier SSI/);
    expect(listed.stdout).toMatch(/trop volumineux pour être conservé/);
    expect(listed.stdout).toMatch(/fichier supprimé 30 jours après son arrivée/);
  });
});

describe('receipt races and refusals at opening', () => {
  it('two ingests of the same bytes at once: one row, the other returns it (no UNIQUE error)', async () => {
    const bytes = await sealFor('course.txt', `deux réceptions ${randomBytes(4).toString('hex')}`);
    const [a, b] = await Promise.all([ingest(ctx, bytes, 'imap', 'uid 1'), ingest(ctx, bytes, 'imap', 'uid 1')]);
    expect([a.isNew, b.isNew].sort()).toEqual([false, true]);
    expect(a.row.id).toBe(b.row.id);
    expect(listInbox(townhall.db).filter((r) => r.sha256 === sha256(bytes))).toHaveLength(1);
    expect(listEvents(townhall.db).filter((e) => e.action === 'container.received' && e.object === a.row.container_id)).toHaveLength(1);
  });

  it('a container whose file names are refused at opening: the row records the refusal, inbox says so', async () => {
    const data = Buffer.from('abc');
    const manifest = { v: 1, sender: policeId, files: [{ name: '../../hors-du-dossier.txt', type: 'text/plain', size: 3, mtime: null }] };
    const bytes = await sealRawPlaintext(sender, [reader], rawPlaintext(manifest, [data]));
    const row = (await ingest(ctx, bytes, 'imap', 'uid 9')).row;
    expect(row.state).toBe('verified'); // names are inside the encryption: receipt cannot see them
    const out = path.join(tmp, 'out-names');
    const first = await openInbox(ctx, row.id, out).then(() => null, (e: unknown) => e as PliError);
    expect(first).toBeInstanceOf(PliError);
    expect(first!.code).toBe('bad-manifest');
    expect(getInboxRow(townhall.db, row.id)).toMatchObject({ state: 'refused', reason: 'bad-manifest' });
    expect(flagsOf(row.id)).toContain('refused-at-opening');
    const again = await openInbox(ctx, row.id, out).then(() => null, (e: unknown) => e as PliError);
    expect(again!.message).toMatch(/refusé à l'ouverture/);
    const listed = await cli(['inbox']);
    expect(listed.stdout.split('\n').find((l) => l.startsWith(`${row.id} `))).toMatch(/refusé \(bad-manifest\).*refusé à l'ouverture/);
  });

  it('a refusal that depends on the person (not addressed) leaves the row as it was', async () => {
    const bytes = await sealForPolice();
    const row = (await ingest(ctx, bytes, 'imap', 'uid 10')).row;
    expect(row.state).toBe('verified');
    const error = await openInbox(ctx, row.id, path.join(tmp, 'out-na')).then(() => null, (e: unknown) => e as PliError);
    expect(error!.code).toBe('not-addressed');
    expect(getInboxRow(townhall.db, row.id)!.state).toBe('verified');
  });
});
