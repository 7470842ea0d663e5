// Pli objects (docs/objects.md), the parts a profile attacker can reach: the outbox rows of objects
// waiting for the folder transport are the attacker's to edit; writing them into the exchange
// folder must never copy out another file of the workstation.
import { afterAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { initProfile, openProfile } from '../../electron/core/profile/profile.js';
import { writePendingToFolder } from '../../electron/core/mail/objects.js';
import type { Context } from '../../electron/core/context.js';

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
