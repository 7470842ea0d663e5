// Pli objects (docs/objects.md), the parts a profile attacker can reach: the outbox rows of objects
// waiting for the folder transport are the attacker's to edit; writing them into the exchange
// folder must never copy out another file of the workstation. The exchange folder (a USB key) is
// anyone's to write: an object is placed there without replacing what is at its name, a link
// included, as a container dropped there (outbox.ts writeToFolder, files.ts placeNoReplace).
import { afterAll, describe, expect, it } from 'vitest';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { initProfile, openProfile, type Profile } from '../../electron/core/profile/profile.js';
import { createIdentity, getIdentity, unlockIdentity } from '../../electron/core/profile/identities.js';
import { dispatchObject, sealObject, writePendingToFolder, type SealedObject } from '../../electron/core/mail/objects.js';
import { objectAttachmentName } from '../../electron/core/mail/outbox.js';
import { PliError } from '../../electron/core/errors.js';
import type { Context } from '../../electron/core/context.js';
import { listEvents } from '../../electron/core/profile/events.js';

const root = mkdtempSync(path.join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'pli-objects-unit-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('objects waiting for the folder transport', () => {
  it('a planted row naming another file copies nothing into the exchange folder', async () => {
    const home = path.join(root, 'profil');
    const { profile } = initProfile(home);
    const secret = path.join(root, 'etat-nominatif.csv');
    writeFileSync(secret, 'nom;adresse\nDupont;1 rue de la Paix\n');
    profile.close();
    // The attacker of docs/profile.md, with the sqlite file only.
    const db = new Database(path.join(home, 'profile.sqlite'));
    db.prepare(`INSERT INTO outbox (container_id, sender_id, transport, destination, message_id, path, size, state, attempts, next_attempt_at, queued_at, sent_at, object_kind)
      VALUES (?, 'x', 'folder', '', '<x>', ?, 10, 'queued', 0, 0, 0, NULL, 'receipt')`).run('0'.repeat(32), secret);
    db.close();
    const reopened = openProfile(home);
    try {
      const ctx: Context = { profile: reopened, unlocker: { unlock: () => Promise.reject(new Error('no key needed')) } };
      const folder = path.join(root, 'cle-usb');
      mkdirSync(folder);
      expect(await writePendingToFolder(ctx, folder)).toBe(0);
      expect(readdirSync(folder)).toEqual([]);
    } finally {
      reopened.close();
    }
  });
});

describe('an object placed in the exchange folder never replaces what is at its name', () => {
  const PASS = 'une phrase de passe de test';
  let count = 0;
  /** A profile with one person and a receipt object sealed for her (its bytes are what is placed). */
  async function withObject(run: (ctx: Context, sealed: SealedObject, me: string, profile: Profile, another: () => Promise<SealedObject>) => Promise<void>): Promise<void> {
    const { profile } = initProfile(path.join(root, `poste-${++count}`));
    try {
      const me = (await createIdentity(profile.db, { name: 'Alice Martin', email: 'a@police.fr', org: 'Police' }, PASS, { opslimit: 1, memlimitKib: 8 })).id;
      const ctx: Context = { profile, unlocker: { unlock: (row) => unlockIdentity(profile.db, row.id, PASS) } };
      const unlocked = await unlockIdentity(profile.db, me, PASS);
      try {
        const another = () => sealObject(ctx, 'receipt', '{}', unlocked, [getIdentity(profile.db, me)!]);
        await run(ctx, await another(), me, profile, another);
      } finally {
        unlocked.wipe();
      }
    } finally {
      profile.close();
    }
  }
  const usb = (): string => {
    const folder = path.join(root, `cle-${++count}`);
    mkdirSync(folder);
    return folder;
  };
  const refusal = (promise: Promise<unknown>): Promise<PliError | null> => promise.then(() => null, (e: unknown) => {
    expect(e).toBeInstanceOf(PliError);
    return e as PliError;
  });

  it('a file already there under its name is left as it is: refused (target-exists), nothing else left in the folder', async () => {
    await withObject(async (ctx, sealed, me) => {
      const folder = usb();
      const name = objectAttachmentName('receipt', sealed.containerId);
      writeFileSync(path.join(folder, name), 'déposé par un autre');
      const error = await refusal(dispatchObject(ctx, sealed, me, { folder }));
      expect(error?.code).toBe('target-exists');
      expect(error?.message).toContain(name);
      expect(readFileSync(path.join(folder, name), 'utf8')).toBe('déposé par un autre');
      expect(readdirSync(folder)).toEqual([name]); // no temporary left
    });
  });

  it('a link under its name (to a file elsewhere, or dangling) is neither replaced nor followed', async () => {
    await withObject(async (ctx, sealed, me) => {
      const name = objectAttachmentName('receipt', sealed.containerId);
      const elsewhere = path.join(root, `ailleurs-${count}.txt`);
      writeFileSync(elsewhere, 'un fichier du poste');
      for (const target of [elsewhere, path.join(root, `absent-${count}.pli`)]) {
        const folder = usb();
        symlinkSync(target, path.join(folder, name));
        expect((await refusal(dispatchObject(ctx, sealed, me, { folder })))?.code).toBe('target-exists');
        expect(lstatSync(path.join(folder, name)).isSymbolicLink()).toBe(true);
        expect(readlinkSync(path.join(folder, name))).toBe(target);
        expect(readdirSync(folder)).toEqual([name]);
      }
      expect(readFileSync(elsewhere, 'utf8')).toBe('un fichier du poste');
      expect(existsSync(path.join(root, `absent-${count}.pli`))).toBe(false);
    });
  });

  it('receipts kept for the folder: a file planted under the name of one stays, that row stays queued (audited, refused), the next one is written; the same object already there counts as written', async () => {
    await withObject(async (ctx, sealed, me, profile, another) => {
      const [id] = await dispatchObject(ctx, sealed, me, { pendingFolder: true });
      const next = await another();
      const [nextId] = await dispatchObject(ctx, next, me, { pendingFolder: true });
      const state = (row: number | undefined): string => profile.db.prepare('SELECT state FROM outbox WHERE id = ?').pluck().get(row) as string;
      const folder = usb();
      const name = objectAttachmentName('receipt', sealed.containerId);
      const nextName = objectAttachmentName('receipt', next.containerId);
      writeFileSync(path.join(folder, name), 'déposé par un autre');
      // One planted file stops neither the other receipts nor the folder's import.
      expect(await writePendingToFolder(ctx, folder)).toBe(1);
      expect(readFileSync(path.join(folder, name), 'utf8')).toBe('déposé par un autre');
      expect(readdirSync(folder).sort()).toEqual([name, nextName].sort());
      expect(readFileSync(path.join(folder, nextName)).equals(next.bytes)).toBe(true);
      expect([state(id), state(nextId)]).toEqual(['queued', 'sent']);
      const refused = listEvents(profile.db).filter((e) => e.action === 'object.sent' && e.outcome === 'refused');
      expect(refused.map((e) => [e.object, JSON.parse(e.detail ?? '{}').reason])).toEqual([[sealed.containerId, 'target-exists']]);
      // A run stopped after placing it and before marking the row: the same bytes are there.
      writeFileSync(path.join(folder, name), sealed.bytes);
      expect(await writePendingToFolder(ctx, folder)).toBe(1);
      expect(readFileSync(path.join(folder, name)).equals(sealed.bytes)).toBe(true);
      expect(state(id)).toBe('sent');
    });
  });
});
