// One derivation per sign-in for the convention filings (electron/core/authority/convention-filing.ts:
// filing seals, reception ties, the written files' HMAC key) and the indicator figures' seals
// (electron/core/indicators/store.ts): HKDF(K, label) is taken from integrity.ts's per-sign-in
// cache (attachedSubkey), as the inbox MACs, the trust seal and the outbox names are, instead of
// once per row; it is zeroed with K at sign-out, after which nothing reads as sealed. HKDF is
// observed through the primitives module (the pattern of integrity-subkeys.test.ts).
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { writeFileSync } from 'node:fs';
import path from 'node:path';

vi.mock('../../electron/core/crypto/primitives.js', async (original) => (await import('./hkdf-spy.js')).recordingHkdf(original));

const { derivations } = await import('./hkdf-spy.js');

const { scratchProfiles } = await import('./scratch.js');
const { createIdentity, newPersonCard, unlockIdentity } = await import('../../electron/core/profile/identities.js');
const { detachIntegrityKey } = await import('../../electron/core/profile/integrity.js');
const { KDF_INFO } = await import('../../electron/core/crypto/labels.js');
const { fileOutboxRows, rowFiling, tieAtReception, unopenedContainers, writtenFileMac, writtenFileMacKey } = await import('../../electron/core/authority/convention-filing.js');
const { signIn } = await import('../../electron/core/services/session.js');
const { certifyCard, initAuthority } = await import('../../electron/core/authority/authority.js');
const { createConvention } = await import('../../electron/core/authority/convention.js');
const { currentFigures, importState } = await import('../../electron/core/indicators/store.js');
const { istRows, toCsv } = await import('./indicators-fixtures.js');
type Profile = import('../../electron/core/profile/profile.js').Profile;
type Context = import('../../electron/core/context.js').Context;

const PASS = 'une phrase de passe de test';
const LIGHT = { opslimit: 1, memlimitKib: 8 };
const { root, profile: newProfile } = scratchProfiles('pli-subkeys-filing-');

/** A profile with one person signed in (K attached). */
async function station(): Promise<{ p: Profile; id: string }> {
  const p = newProfile();
  const { id } = await createIdentity(p.db, { name: 'Alice Martin', email: 'mairie@nancy.fr', org: 'Mairie de Nancy' }, PASS, LIGHT);
  detachIntegrityKey(p.db);
  (await unlockIdentity(p.db, id, PASS)).wipe();
  return { p, id };
}

const of = (label: string) => derivations.filter((d) => d.info === label);

beforeEach(() => {
  derivations.length = 0;
});

describe('integrity subkeys: convention filings and indicator figures', () => {
  it('the filing seal key: derived once for several rows filed, checked and tied; zeroed at sign-out', async () => {
    const { p } = await station();
    const insert = p.db.prepare(`INSERT INTO outbox (container_id, sender_id, transport, destination, message_id, path, size, state, attempts, next_attempt_at, queued_at)
      VALUES (?, 'k7m2p4', 'mail', 'mairie@x.test', ?, '/tmp/x.pli', 10, 'sent', 0, 0, 0)`);
    const ids = [1, 2, 3].map((i) => Number(insert.run(String(i).repeat(32), `<pli.${i}@x.test>`).lastInsertRowid));
    const inbox = p.db.prepare(`INSERT INTO inbox (container_id, sha256, sender_id, source, path, size, state, arrived_at)
      VALUES (?, ?, 'k7m2p4', 'folder', '/tmp/y.pli', 10, 'verified', 0)`);
    const received = [1, 2].map((i) => Number(inbox.run(String(i + 5).repeat(32), String(i).repeat(64)).lastInsertRowid));
    derivations.length = 0;

    const filing = { convention: 'conv-aaaaaaaaaaaaaaaa', period: '2026-T4', documents: ['IS 101'], subject: null };
    fileOutboxRows(p.db, ids, filing);
    for (const id of ids) expect(rowFiling(p.db, 'outbox', id)).toEqual({ filed: true, filing });
    for (const id of received) tieAtReception(p.db, id, ['conv-aaaaaaaaaaaaaaaa']);
    expect(unopenedContainers(p.db).map((u) => u.conventions)).toEqual([['conv-aaaaaaaaaaaaaaaa'], ['conv-aaaaaaaaaaaaaaaa']]);
    const kept = of(KDF_INFO.integrityFiling).map((d) => d.out);
    expect(kept, 'three rows filed and read, two ties written and read: one derivation').toHaveLength(1);

    detachIntegrityKey(p.db);
    expect(kept[0]!.equals(Buffer.alloc(32)), 'the derived key is zeroed at sign-out').toBe(true);
  });

  it('the written files\' key: derived once for several files; the copy handed to the opening is the caller\'s to wipe', async () => {
    const { p } = await station();
    const files = [1, 2, 3].map((i) => {
      const f = path.join(root, `ecrit-${i}.csv`);
      writeFileSync(f, `commune;faits\nNancy;${i}\n`);
      return f;
    });
    derivations.length = 0;
    const macs = [];
    for (const f of files) macs.push(await writtenFileMac(p.db, f));
    expect(new Set(macs.map((m) => m!.toString('hex'))).size).toBe(3);
    // The opening's copy (containers.ts zeroes it when done): wiping it leaves the next MAC intact.
    const copy = writtenFileMacKey(p.db)!;
    copy.fill(0);
    expect((await writtenFileMac(p.db, files[0]!))!.equals(macs[0]!)).toBe(true);
    const kept = of(KDF_INFO.integrityWrittenFile).map((d) => d.out);
    expect(kept).toHaveLength(1);
    detachIntegrityKey(p.db);
    expect(kept[0]!.equals(Buffer.alloc(32)), 'the derived key is zeroed at sign-out').toBe(true);
    expect(await writtenFileMac(p.db, files[0]!)).toBeNull();
  });

  it('the indicator figures\' seal key: derived once for the rows of an import and their checks; zeroed at sign-out, then nothing reads as sealed', async () => {
    const profile = newProfile('observatoire');
    const person = await createIdentity(profile.db, { name: 'Olivier Ssi', email: 'ssi@interieur.gouv.fr', org: 'DIPN du Pas-de-Calais' }, PASS, LIGHT);
    let actor: string | null = null;
    const ctx: Context = {
      profile, actor: () => actor,
      unlocker: { unlock: async (row) => {
        const unlocked = await signIn(profile, row, PASS);
        actor = unlocked.id;
        return unlocked;
      } },
    };
    await initAuthority(ctx, 'SSI DIPN 62', person.id);
    for (const [name, org] of [['Paul Lefebvre', "CPN d'Arras"], ['Claire Dumont', 'Mairie de Saint-Laurent-Blangy']] as const) {
      await certifyCard(ctx, (await newPersonCard({ name, email: 'x@exemple.fr', org })).card, 'operator');
    }
    const convention = (await createConvention(ctx, {
      title: 'Saint-Laurent-Blangy', parties: [{ org: "CPN d'Arras", address: 'cpn@interieur.gouv.fr' }, { org: 'Mairie de Saint-Laurent-Blangy', address: 'mairie@slb.fr' }],
      people: [], types: 'csv', schedule: 'quarterly:8', expect: ['IST'], start: '2025-01-01', years: 3,
    })).body.id;
    const state = path.join(root, 'ist.csv');
    writeFileSync(state, toCsv(istRows({ integrite: 112, biens: 1234, ordre: 47 }), ';', 'utf-8'));
    derivations.length = 0;

    for (const period of ['2026-T3', '2026-T4']) {
      const result = await importState(ctx, { convention, period, commune: 'Saint-Laurent-Blangy', file: state });
      expect(result.recognised && result.sealed).toBe(true);
    }
    const figures = currentFigures(ctx).figures;
    expect(figures).toHaveLength(6);
    expect(new Set(figures.map((f) => f.state))).toEqual(new Set(['ok']));
    const kept = of(KDF_INFO.integrityIndicators).map((d) => d.out);
    expect(kept, 'six rows sealed and checked: one derivation').toHaveLength(1);

    detachIntegrityKey(profile.db);
    expect(kept[0]!.equals(Buffer.alloc(32)), 'the derived key is zeroed at sign-out').toBe(true);
    expect(new Set(currentFigures(ctx).figures.map((f) => f.state))).toEqual(new Set(['unverified']));
  });
});
