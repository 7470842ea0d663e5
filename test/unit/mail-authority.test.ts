// The inbox under a pinned authority (docs/mailbox.md section 4, docs/authority.md section 4): a
// container is judged at its ARRIVAL time. One that arrived before the sender's revocation was
// imported still verifies and opens; the same bytes arriving after are refused. Only operators
// send. Folder transport, in process.
import { describe, expect, it } from 'vitest';
import { writeFileSync, copyFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Profile } from '../../electron/core/profile/profile.js';
import { createIdentity, getIdentity, unlockIdentity } from '../../electron/core/profile/identities.js';
import { certifyCard, exportDirectory, initAuthority, revokePerson } from '../../electron/core/authority/authority.js';
import { importDirectory } from '../../electron/core/authority/directory.js';
import { getTrust, type Role } from '../../electron/core/authority/certificates.js';
import type { Context } from '../../electron/core/context.js';
import { queueSend } from '../../electron/core/mail/outbox.js';
import { openInbox, receiveFolder, type IngestResult } from '../../electron/core/mail/inbox.js';
import { PliError } from '../../electron/core/errors.js';
import { scratchProfiles } from './scratch.js';

const PASS = 'une phrase de passe de test';
const LIGHT = { opslimit: 1, memlimitKib: 8 };
const { root, profile: newProfile } = scratchProfiles('pli-mail-authority-');

interface Station { profile: Profile; ctx: Context; id: string }

async function station(name: string, org: string): Promise<Station> {
  const profile = newProfile();
  const created = await createIdentity(profile.db, { name, email: `${org.toLowerCase().replace(/\W/g, '')}@exemple.fr`, org }, PASS, LIGHT);
  // Signed in once: the unlock attaches the integrity key that directory imports need (docs/profile.md).
  (await unlockIdentity(profile.db, created.id, PASS)).wipe();
  return { profile, id: created.id, ctx: { profile, unlocker: { unlock: (row) => unlockIdentity(profile.db, row.id, PASS) } } };
}

describe('inbox under a pinned authority', () => {
  it('judges a container at its arrival: before the revocation it opens, after it is refused; readers cannot send', async () => {
    const officer = await station('Officier SSI', 'DIPN 54');
    const { fingerprint: pin } = await initAuthority(officer.ctx, 'SSI DIPN 54');
    const clerk = await station('Greffière', 'DIPN 54');
    const secretary = await station('Secrétaire', 'Mairie');
    const certify = (s: Station, role: Role) => certifyCard(officer.ctx, getIdentity(s.profile.db, s.id)!.card, role);
    const publish = async (): Promise<void> => {
      const { text } = await exportDirectory(officer.ctx);
      for (const s of [clerk, secretary]) await importDirectory(s.profile.db, text, getTrust(s.profile.db) ? undefined : pin);
    };
    await certify(clerk, 'operator');
    await certify(secretary, 'reader');
    await publish();

    // a reader may not send (role checked by the containers service)
    const data = path.join(root, 'IS101_T3.csv');
    writeFileSync(data, 'Index;Nature;T3\n1;Homicides;0\n');
    const usb = path.join(root, 'usb');
    const refusal = await queueSend(secretary.ctx, { to: [clerk.id], files: [data], folder: usb }).catch((e: unknown) => e);
    expect(refusal).toBeInstanceOf(PliError);
    expect((refusal as PliError).code).toBe('role');

    const sent = await queueSend(clerk.ctx, { to: [secretary.id], files: [data], folder: usb });
    const first: IngestResult[] = [];
    await receiveFolder(secretary.ctx, usb, (r) => first.push(r));
    expect(first.map((r) => r.row.state)).toEqual(['verified']);

    // the clerk is revoked; the town hall learns it
    await revokePerson(officer.ctx, getIdentity(officer.profile.db, clerk.id)!, 'départ du service');
    await publish();

    // arrived before the revocation was imported: still opens
    const result = await openInbox(secretary.ctx, first[0]!.row.id, path.join(root, 'out'));
    expect(result.containerId).toBe(sent.containerId);

    // the same container seen again (same bytes): already known, nothing new
    const again: IngestResult[] = [];
    await receiveFolder(secretary.ctx, usb, (r) => again.push(r));
    expect(again.map((r) => r.isNew)).toEqual([false]);

    // a copy that only arrives now, on another workstation of the town hall: refused
    const late = await station('Adjoint', 'Mairie');
    await certify(late, 'reader');
    const { text } = await exportDirectory(officer.ctx);
    await importDirectory(late.profile.db, text, pin);
    const usb2 = path.join(root, 'usb2');
    mkdirSync(usb2);
    copyFileSync(path.join(usb, `pli-${sent.containerId.slice(0, 16)}.pli`), path.join(usb2, 'late.pli'));
    const lateSeen: IngestResult[] = [];
    await receiveFolder(late.ctx, usb2, (r) => lateSeen.push(r));
    expect(lateSeen.map((r) => [r.row.state, r.row.reason])).toEqual([['refused', 'sender-revoked']]);
    expect(lateSeen[0]!.refusal).toMatchObject({ code: 'sender-revoked', message: expect.stringMatching(/révoqué/) });
  });
});
