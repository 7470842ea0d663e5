// Issue 13: in a `pli receive` batch (IngestBatch, one BEGIN IMMEDIATE transaction), the trust
// tables' seal is checked once, when the batch begins, instead of at every decision of every
// container. The attacker of docs/profile.md is played with a second SQLite connection on the
// profile's database (no passphrase): a change before the batch is caught at its start, before any
// container is judged; during the batch the write lock keeps them out; after the commit the
// checks at every read are back.
import { afterAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { initProfile, type Profile } from '../../electron/core/profile/profile.js';
import { createIdentity, unlockIdentity } from '../../electron/core/profile/identities.js';
import { detachIntegrityKey, verifyTrustSeal } from '../../electron/core/profile/integrity.js';
import { getTrust } from '../../electron/core/authority/certificates.js';
import { ingest, inboxDirOf, IngestBatch } from '../../electron/core/mail/inbox.js';
import type { Context } from '../../electron/core/context.js';
import { tamperedRefusal } from './refused.js';

const PASS = 'une phrase de passe de test';
const LIGHT = { opslimit: 1, memlimitKib: 8 };
const root = mkdtempSync(path.join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'pli-batch-seal-'));
const opened: { close(): void }[] = [];
let counter = 0;

afterAll(() => {
  opened.forEach((p) => p.close());
  rmSync(root, { recursive: true, force: true });
});

/** A signed-in station (integrity key attached) and the attacker's own connection to its database. */
async function station(): Promise<{ p: Profile; ctx: Context; attacker: Database.Database }> {
  const home = path.join(root, `profile-${counter++}`);
  const { profile: p } = initProfile(home);
  opened.push(p);
  const { id } = await createIdentity(p.db, { name: 'Alice Martin', email: 'mairie@nancy.fr', org: 'Mairie de Nancy' }, PASS, LIGHT);
  detachIntegrityKey(p.db);
  (await unlockIdentity(p.db, id, PASS)).wipe();
  const attacker = new Database(path.join(home, 'profile.sqlite'));
  attacker.pragma('busy_timeout = 0');
  opened.push(attacker);
  return { p, ctx: { profile: p, unlocker: { unlock: (row) => unlockIdentity(p.db, row.id, PASS) } }, attacker };
}

// A planted revocation: the kind of row that would change who is trusted.
const plantRevocation = (attacker: Database.Database): void => {
  attacker.prepare('INSERT INTO revocations (identity_id, reason, revoked_at, imported_at) VALUES (?, ?, ?, ?)').run('k7m2p4', 'compromission', 1, 1);
};


describe('IngestBatch: the trust tables checked once, with the write lock held', () => {
  it('trust tables changed before the batch: refused when it begins, before any container is judged, and no transaction is left open', async () => {
    const { p, attacker } = await station();
    plantRevocation(attacker);
    const batch = new IngestBatch(p.db, path.join(p.home, 'inbox'));
    tamperedRefusal(() => batch.begin());
    expect(p.db.inTransaction).toBe(false);
    expect(p.db.prepare('SELECT count(*) FROM inbox').pluck().get()).toBe(0);
    // Nothing of the profile changed: the attacker's row is still the only difference, still refused.
    tamperedRefusal(() => getTrust(p.db));
  });

  it('during the batch the trust tables cannot be written by another program; after the commit a change is caught again at once', async () => {
    const { p, ctx, attacker } = await station();
    const batch = new IngestBatch(p.db, inboxDirOf(ctx));
    batch.begin();
    await ingest(ctx, randomBytes(300), 'folder', 'cle-usb.pli', batch);
    // The invariant the single check stands on: BEGIN IMMEDIATE holds the write lock.
    expect(() => plantRevocation(attacker)).toThrow(/locked|busy/i);
    expect(getTrust(p.db)).toBeUndefined();
    await batch.commit();
    plantRevocation(attacker);
    // The check made at the batch's start does not outlive its transaction.
    tamperedRefusal(() => getTrust(p.db));
    tamperedRefusal(() => verifyTrustSeal(p.db));
    tamperedRefusal(() => new IngestBatch(p.db, inboxDirOf(ctx)).begin());
    expect(p.db.inTransaction).toBe(false);
  });

  it('a rolled-back batch leaves no check behind: a transaction opened afterwards checks again', async () => {
    const { p, ctx, attacker } = await station();
    const batch = new IngestBatch(p.db, inboxDirOf(ctx));
    batch.begin();
    batch.rollback();
    plantRevocation(attacker);
    p.db.exec('BEGIN IMMEDIATE');
    try {
      tamperedRefusal(() => getTrust(p.db));
    } finally {
      p.db.exec('ROLLBACK');
    }
  });

  it('the seal is read once per batch, not once per container', async () => {
    const { p, ctx } = await station();
    const reads: string[] = [];
    const prepare = p.db.prepare.bind(p.db);
    p.db.prepare = ((sql: string) => {
      if (/FROM trust_seal/.test(sql)) reads.push(sql);
      return prepare(sql);
    }) as typeof p.db.prepare;
    try {
      const batch = new IngestBatch(p.db, inboxDirOf(ctx));
      batch.begin();
      const before = reads.length;
      expect(before).toBeGreaterThan(0);
      for (let i = 0; i < 3; i++) {
        await ingest(ctx, randomBytes(300), 'folder', `cle-usb-${i}.pli`, batch);
        getTrust(p.db); // what requireSigner and the conventions' tie call for a verified container
      }
      expect(reads.length).toBe(before);
      await batch.commit();
      getTrust(p.db);
      expect(reads.length).toBeGreaterThan(before);
    } finally {
      p.db.prepare = prepare;
    }
  });

  it('the inbox statements are prepared once per connection, not once per container', async () => {
    const { p, ctx } = await station();
    const prepares: string[] = [];
    const prepare = p.db.prepare.bind(p.db);
    p.db.prepare = ((sql: string) => {
      if (/inbox/.test(sql)) prepares.push(sql);
      return prepare(sql);
    }) as typeof p.db.prepare;
    try {
      const batch = new IngestBatch(p.db, inboxDirOf(ctx));
      batch.begin();
      await ingest(ctx, randomBytes(300), 'folder', 'cle-usb-0.pli', batch);
      const first = prepares.length;
      for (let i = 1; i < 4; i++) await ingest(ctx, randomBytes(300), 'folder', `cle-usb-${i}.pli`, batch);
      expect(prepares.slice(first)).toEqual([]);
      await batch.commit();
      expect(p.db.prepare('SELECT count(*) FROM inbox').pluck().get()).toBe(4);
    } finally {
      p.db.prepare = prepare;
    }
  });
});
