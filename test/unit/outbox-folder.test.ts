// A folder send (a USB key) has no size limit: its container is copied from the profile's copy,
// checked, a block at a time (outbox.ts copyOutboxCopy). Found by a review: reading the copy whole
// with a 200 MiB bound refused a legitimate 201 MiB container as « modifiée en dehors de Pli ».
import { describe, expect, it } from 'vitest';
import { closeSync, ftruncateSync, openSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { createIdentity, unlockIdentity } from '../../electron/core/profile/identities.js';
import { queueSend } from '../../electron/core/mail/outbox.js';
import type { Context } from '../../electron/core/context.js';
import { scratchProfiles } from './scratch.js';

const PASS = 'une phrase de passe de test';
const { root, profile } = scratchProfiles('pli-outbox-folder-');

describe('a folder send of a large container', () => {
  it('201 MiB: written to the folder, the same size as the profile\'s copy', async () => {
    const p = profile();
    const me = (await createIdentity(p.db, { name: 'Alice Martin', email: 'a@police.fr', org: 'Police' }, PASS, { opslimit: 1, memlimitKib: 8 })).id;
    const ctx: Context = { profile: p, unlocker: { unlock: (row) => unlockIdentity(p.db, row.id, PASS) } };
    const big = path.join(root, 'etat.bin');
    const fd = openSync(big, 'w');
    ftruncateSync(fd, 201 * 1024 * 1024);
    closeSync(fd);
    const usb = path.join(root, 'usb');
    const sent = await queueSend(ctx, { as: me, to: [me], files: [big], folder: usb });
    const written = readdirSync(usb).filter((f) => f.endsWith('.pli'));
    expect(written).toHaveLength(1);
    expect(statSync(path.join(usb, written[0]!)).size).toBe(statSync(path.join(p.home, 'outbox', `${sent.containerId}.pli`)).size);
    expect(sent.size).toBeGreaterThan(201 * 1024 * 1024);
  }, 60_000);
});
