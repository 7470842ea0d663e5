// The attacker of docs/profile.md against the inbox's stored files: someone who can write the
// inbox folder and the profile's database (here with better-sqlite3, as another program would)
// but knows no passphrase. Swapping the stored file of an entry for another valid container of
// the same sender, pointing the row's path elsewhere, planting a symlink, or taking the name a
// container will be stored under must never open another container under this entry's arrival
// time, nor replace a stored file.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createHash } from 'node:crypto';
import Database from 'better-sqlite3';
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { initProfile, DB_FILE, type Profile } from '../../electron/core/profile/profile.js';
import { createIdentity, getIdentity, importCard, unlockIdentity, currentKeys } from '../../electron/core/profile/identities.js';
import { getInboxRow, ingest, openInbox, type InboxRow } from '../../electron/core/mail/inbox.js';
import { sealToBuffer } from '../../electron/core/container/seal.js';
import { listEvents } from '../../electron/core/profile/events.js';
import type { Context } from '../../electron/core/context.js';
import { PliError } from '../../electron/core/errors.js';
import { closeProfiles } from './helpers.js';

const LIGHT = { opslimit: 1, memlimitKib: 8 };
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pli-inbox-swap-'));
const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

let police: Profile;
let townhall: Profile;
let ctx: Context;
let sealFor: (name: string, data: string) => Promise<Buffer>;

beforeAll(async () => {
  police = initProfile(path.join(tmp, 'police')).profile;
  townhall = initProfile(path.join(tmp, 'townhall')).profile;
  const p = await createIdentity(police.db, { name: 'Greffière', email: 'police@x.test', org: 'Police' }, 'police passphrase', LIGHT);
  const t = await createIdentity(townhall.db, { name: 'Mairie', email: 'mairie@x.test', org: 'Mairie' }, 'mairie passphrase', LIGHT);
  await importCard(townhall.db, getIdentity(police.db, p.id)!.card);
  await importCard(police.db, getIdentity(townhall.db, t.id)!.card);
  ctx = { profile: townhall, unlocker: { unlock: (row) => unlockIdentity(townhall.db, row.id, 'mairie passphrase') } };
  const signer = await unlockIdentity(police.db, p.id, 'police passphrase');
  const to = currentKeys(police.db, t.id).enc;
  sealFor = async (name, data) => (await sealToBuffer([{ name, data: Buffer.from(data) }], {
    senderId: p.id, signing: { keyFpr: signer.current.sigFpr, secretKey: signer.current.sigSecret },
    recipients: { kind: 'keys', keys: [{ keyFpr: to.fpr, publicKey: to.public_key }] },
  })).bytes;
});

afterAll(() => closeProfiles([police, townhall], tmp));

const inboxDir = (): string => path.join(townhall.home, 'inbox');
const storedFile = (row: InboxRow): string => path.join(inboxDir(), `${row.sha256}.pli`);
/** The attacker's own connection to the profile's database. */
function attackerDb<T>(run: (db: Database.Database) => T): T {
  const db = new Database(path.join(townhall.home, DB_FILE));
  try {
    return run(db);
  } finally {
    db.close();
  }
}
async function refusal(promise: Promise<unknown>): Promise<PliError> {
  const error = await promise.then(() => null, (e: unknown) => e);
  expect(error, 'should have been refused').toBeInstanceOf(PliError);
  return error as PliError;
}
const entries = (dir: string): string[] => (fs.existsSync(dir) ? fs.readdirSync(dir) : []);
const refusedEvents = () => listEvents(townhall.db).filter((e) => e.action === 'container.refused').map((e) => JSON.parse(e.detail ?? '{}') as { inbox?: number; reason?: string });

/** Two containers from the same sender, received in order: entry 1 ("first"), entry 2 ("second"). */
async function twoReceived(tag: string): Promise<{ first: InboxRow; second: InboxRow; firstBytes: Buffer; secondBytes: Buffer }> {
  const firstBytes = await sealFor(`${tag}-IS101.csv`, `premier ${tag}`);
  const secondBytes = await sealFor(`${tag}-IST.csv`, `second ${tag}`);
  const first = (await ingest(ctx, firstBytes, 'folder', `${tag}-1.pli`)).row;
  const second = (await ingest(ctx, secondBytes, 'folder', `${tag}-2.pli`)).row;
  return { first, second, firstBytes, secondBytes };
}

describe('inbox storage', () => {
  it('names the stored file by the full SHA-256 of its bytes', async () => {
    const bytes = await sealFor('nom.csv', 'nom');
    const { row } = await ingest(ctx, bytes, 'folder', 'nom.pli');
    expect(fs.readFileSync(storedFile(row)).equals(bytes)).toBe(true);
    expect(row.sha256).toBe(sha256(bytes));
  });

  it('a file already under the name a container will get is moved aside, not replaced, and the container is stored', async () => {
    const planted = await sealFor('planted.csv', 'déjà là');
    const incoming = await sealFor('arrive.csv', 'arrivé');
    const name = path.join(inboxDir(), `${sha256(incoming)}.pli`);
    fs.mkdirSync(inboxDir(), { recursive: true });
    fs.writeFileSync(name, planted);
    const before = new Set(entries(inboxDir()));
    const { row } = await ingest(ctx, incoming, 'folder', 'arrive.pli');
    expect(row.state).toBe('verified');
    expect(fs.readFileSync(storedFile(row)).equals(incoming)).toBe(true);
    // The file that held the name still exists, unchanged, under a new name.
    const added = entries(inboxDir()).filter((n) => !before.has(n));
    expect(added).toHaveLength(1);
    expect(added[0]!.startsWith('.displaced-')).toBe(true);
    expect(fs.readFileSync(path.join(inboxDir(), added[0]!)).equals(planted)).toBe(true);
    expect(row.flags).toContain('displaced-file');
  });

  it('a symlink planted under that name (even to the same bytes) is moved aside, its target untouched', async () => {
    const incoming = await sealFor('lien.csv', 'lien');
    const target = path.join(tmp, 'lien-cible.pli');
    fs.writeFileSync(target, incoming);
    const name = path.join(inboxDir(), `${sha256(incoming)}.pli`);
    fs.symlinkSync(target, name);
    const { row } = await ingest(ctx, incoming, 'folder', 'lien.pli');
    expect(fs.lstatSync(storedFile(row)).isSymbolicLink()).toBe(false);
    expect(fs.readFileSync(storedFile(row)).equals(incoming)).toBe(true);
    expect(row.flags).toContain('displaced-file');
    expect(fs.readFileSync(target).equals(incoming)).toBe(true);
    const opened = await openInbox(ctx, row.id, path.join(tmp, 'out-lien'));
    expect(opened.files.map((f) => f.name)).toEqual(['lien.csv']);
  });

  it('the same bytes already under their name (a run stopped before its row) are kept, nothing is moved', async () => {
    const bytes = await sealFor('reprise.csv', 'reprise');
    fs.writeFileSync(path.join(inboxDir(), `${sha256(bytes)}.pli`), bytes);
    const before = entries(inboxDir()).sort();
    const { row, isNew } = await ingest(ctx, bytes, 'folder', 'reprise.pli');
    expect(isNew).toBe(true);
    expect(row.flags).toBeNull();
    expect(entries(inboxDir()).sort()).toEqual(before);
  });
});

describe('pli open against a changed inbox', () => {
  it('the stored file of entry 1 replaced by another container of the same sender: refused, nothing written, event', async () => {
    const { first, secondBytes } = await twoReceived('swap');
    fs.writeFileSync(storedFile(first), secondBytes);
    const out = path.join(tmp, 'out-swap');
    const error = await refusal(openInbox(ctx, first.id, out));
    expect(error.kind).toBe('security');
    expect(error.code).toBe('inbox-modified');
    expect(error.message).toContain(`n° ${first.id}`);
    expect(error.message).toMatch(/modifié sur le disque/);
    expect(entries(out)).toEqual([]);
    expect(getInboxRow(townhall.db, first.id)!.state).toBe('verified');
    expect(refusedEvents().at(-1)).toMatchObject({ inbox: first.id, reason: 'inbox-modified' });
  });

  it('the row\'s path pointed at another container: the path is not trusted, entry 1 opens its own bytes', async () => {
    const { first, second } = await twoReceived('path');
    attackerDb((db) => db.prepare('UPDATE inbox SET path = ? WHERE id = ?').run(storedFile(second), first.id));
    const out = path.join(tmp, 'out-path');
    const opened = await openInbox(ctx, first.id, out);
    expect(opened.files.map((f) => f.name)).toEqual(['path-IS101.csv']);
    expect(fs.readFileSync(opened.files[0]!.path, 'utf8')).toBe('premier path');
  });

  it('the row\'s path pointed at another container while the own file is gone: refused, nothing written', async () => {
    const { first, second } = await twoReceived('gone');
    attackerDb((db) => db.prepare('UPDATE inbox SET path = ? WHERE id = ?').run(storedFile(second), first.id));
    fs.rmSync(storedFile(first));
    const out = path.join(tmp, 'out-gone');
    const error = await refusal(openInbox(ctx, first.id, out));
    expect(error.kind).toBe('security');
    expect(entries(out)).toEqual([]);
  });

  it('a symlink in place of the stored file is refused, even to the same bytes', async () => {
    const { first, second, firstBytes } = await twoReceived('link');
    fs.rmSync(storedFile(first));
    fs.symlinkSync(storedFile(second), storedFile(first));
    const out = path.join(tmp, 'out-link');
    expect((await refusal(openInbox(ctx, first.id, out))).code).toBe('inbox-modified');
    expect(entries(out)).toEqual([]);
    const copy = path.join(tmp, 'copy-of-first.pli');
    fs.writeFileSync(copy, firstBytes);
    fs.rmSync(storedFile(first));
    fs.symlinkSync(copy, storedFile(first));
    expect((await refusal(openInbox(ctx, first.id, out))).code).toBe('inbox-modified');
    expect(entries(out)).toEqual([]);
  });

  it('the row\'s sha256 or container id rewritten into a path is refused, not followed', async () => {
    const { first } = await twoReceived('inject');
    attackerDb((db) => db.prepare('UPDATE inbox SET sha256 = ? WHERE id = ?').run('../../elsewhere', first.id));
    expect((await refusal(openInbox(ctx, first.id, path.join(tmp, 'out-inject')))).kind).toBe('security');
  });

  it('an entry stored under the former name (container id + 12 hex) still opens, and moves to the new name', async () => {
    const { first, firstBytes } = await twoReceived('legacy');
    const legacy = path.join(inboxDir(), `${first.container_id}-${first.sha256.slice(0, 12)}.pli`);
    fs.renameSync(storedFile(first), legacy);
    attackerDb((db) => db.prepare('UPDATE inbox SET path = ? WHERE id = ?').run(legacy, first.id));
    const opened = await openInbox(ctx, first.id, path.join(tmp, 'out-legacy'));
    expect(fs.readFileSync(opened.files[0]!.path, 'utf8')).toBe('premier legacy');
    expect(fs.existsSync(legacy)).toBe(false);
    expect(fs.readFileSync(storedFile(first)).equals(firstBytes)).toBe(true);
  });

  it('an old-name file holding another container is refused and left in place', async () => {
    const { first, secondBytes } = await twoReceived('legacy-swap');
    const legacy = path.join(inboxDir(), `${first.container_id}-${first.sha256.slice(0, 12)}.pli`);
    fs.rmSync(storedFile(first));
    fs.writeFileSync(legacy, secondBytes);
    const out = path.join(tmp, 'out-legacy-swap');
    expect((await refusal(openInbox(ctx, first.id, out))).code).toBe('inbox-modified');
    expect(entries(out)).toEqual([]);
    expect(fs.existsSync(storedFile(first))).toBe(false);
    expect(fs.readFileSync(legacy).equals(secondBytes)).toBe(true);
  });
});
