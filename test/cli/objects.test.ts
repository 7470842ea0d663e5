// Pli objects over the folder transport, through the real `pli` binary (docs/objects.md; issue 14
// section 4, issue 17): the officer's workstation O (DIPN du Pas-de-Calais), the town hall T (Tom,
// Mairie de Saint-Laurent-Blangy), the police district S (Sam, CPN d'Arras), and a forger's
// authority X. Receipts "remis" and "ouvert" reach the sender; a duplicate is stored once; a
// receipt for an unknown container is set aside; a forged one is refused; the officer revokes Sam
// and publishes, T applies the directory and refuses Sam's next container; a replayed older
// directory is ignored; another authority's directory is refused and the pin is unchanged; T's
// acknowledgement reaches the officer and `directory status` shows it. Rita (R, town hall, role
// reader) gets her receipt and her directory acknowledgement accepted, and still cannot send a file.
// Needs `npm run build`. The forgeries no command can make are built in process with the core.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { openProfile, type Profile } from '../../electron/core/profile/profile.js';
import { getIdentity, type UnlockedIdentity } from '../../electron/core/profile/identities.js';
import { signIn } from '../../electron/core/services/session.js';
import { ed25519Keygen } from '../../electron/core/crypto/keys.js';
import { dispatchObject, sealObject, signObjectText } from '../../electron/core/mail/objects.js';
import { sendReceipt } from '../../electron/core/mail/receipts.js';
import type { Context } from '../../electron/core/context.js';
import Database from 'better-sqlite3';
import { cliSandbox } from './support.js';

const PASS = 'une phrase de passe de test';
const cli = cliSandbox('pli-objects-cli-', PASS);
const { root, at, pli, ok, person, installDirectory } = cli;
afterAll(() => { if (!process.env.PLI_KEEP_TEST_ROOT) rmSync(root, { recursive: true, force: true }); });

const TOWN = 'Mairie de Saint-Laurent-Blangy';
const CPN = "CPN d'Arras";
const ids = { officer: '', tom: '', sam: '', rita: '' };
let pin = '';
let sentId = '';

interface ReceiptJson { type: string; state: string; container: string | null; serial: number | null; signer: string; verdict: string | null; sameBytes: boolean | null; anchor: { seq: number; hash: string } | null; openedBy: { id: string; name: string } | null }
const receipts = async (home: string, all = false): Promise<ReceiptJson[]> => JSON.parse((await pli(home, ['receipts', '--json', ...(all ? ['--all'] : [])])).stdout) as ReceiptJson[];
const folder = (name: string): string => {
  mkdirSync(at(name), { recursive: true });
  return at(name);
};
const objectFiles = (dir: string, kind: string): string[] => readdirSync(dir).filter((n) => n.startsWith(`pli-objet-${kind}-`));

/** In-process work as one person of a workstation (never while a command runs on it). */
async function asPerson<T>(home: string, id: string, action: (ctx: Context, me: UnlockedIdentity, profile: Profile) => Promise<T>): Promise<T> {
  const profile = openProfile(at(home));
  const ctx: Context = { profile, unlocker: { unlock: (row) => signIn(profile, row, PASS) } };
  const me = await signIn(profile, getIdentity(profile.db, id)!, PASS);
  try {
    return await action(ctx, me, profile);
  } finally {
    me.wipe();
    profile.close();
  }
}

beforeAll(async () => {
  [ids.officer, ids.tom, ids.sam, ids.rita] = await Promise.all([
    (async () => {
      const id = await person('O', 'Olivier Ssi', 'ssi@interieur.gouv.fr', 'DIPN du Pas-de-Calais', 'O.card');
      pin = await ok('O', ['authority', 'init', '--name', 'SSI DIPN 62']);
      return id;
    })(),
    person('T', 'Tom Garnier', 'mairie@saint-laurent-blangy.fr', TOWN, 'T.card'),
    person('S', 'Sam Lefebvre', 'cpn-arras@interieur.gouv.fr', CPN, 'S.card'),
    // Rita is certified `reader`, as most town-hall staff: she receives but never sends files.
    person('R', 'Rita Lecomte', 'mairie@saint-laurent-blangy.fr', TOWN, 'R.card'),
    (async () => {
      await ok('X', ['init']);
      await ok('X', ['id', 'new', '--name', 'Xavier Pirate', '--email', 'x@pirate.fr', '--org', 'Pirates']);
      await ok('X', ['authority', 'init', '--name', 'SSI DIPN 62']);
    })(),
  ]) as unknown as [string, string, string, string];
  await ok('O', ['authority', 'certify', at('T.card'), '--role', 'operator', '--out', at('tom.cert')]);
  await ok('O', ['authority', 'certify', at('S.card'), '--role', 'operator', '--out', at('sam.cert')]);
  await ok('O', ['authority', 'certify', at('R.card'), '--role', 'reader', '--out', at('rita.cert')]);
  await ok('O', ['convention', 'new', '--title', 'Convention Saint-Laurent-Blangy — états statistiques',
    '--party', `${CPN}=cpn-arras@interieur.gouv.fr`, '--party', `${TOWN}=mairie@saint-laurent-blangy.fr`,
    '--types', '.csv,.pdf', '--schedule', 'quarterly:8', '--expect', 'IS 101', '--start', '2026-01-01', '--years', '1', '--open-receipts']);
  await installDirectory(pin, [['T', 'tom.cert'], ['S', 'sam.cert'], ['R', 'rita.cert']]);
  writeFileSync(at('IS101.csv'), 'type;nombre\ncambriolages;12\n');
}, 300_000);

describe('receipts over the folder transport', () => {
  it('a received container is answered by a signed "remis" receipt that reaches the sender', async () => {
    const key = folder('K');
    await ok('S', ['send', '--as', ids.sam, '--to', ids.tom, '--folder', key, at('IS101.csv')]);
    sentId = JSON.parse((await pli('S', ['outbox', '--json'])).stdout)[0].container_id as string;
    const town = await pli('T', ['receive', '--folder', key, '--as', ids.tom]);
    expect(town.code, town.stderr).toBe(0);
    expect(objectFiles(key, 'receipt')).toHaveLength(1);
    expect(await receipts('T')).toEqual([]); // the town hall keeps nothing of its own receipt

    const police = await pli('S', ['receive', '--folder', key, '--as', ids.sam]);
    expect(police.code, police.stderr).toBe(0);
    expect(police.stderr).toMatch(/Accusé de réception : pli [0-9a-f]{16} {2}remis le \d{4}-\d\d-\d\d à \d\d:\d\d \(UTC\) à Tom Garnier \(Mairie de Saint-Laurent-Blangy\), signature vérifiée/);
    const got = await receipts('S');
    expect(got).toHaveLength(1);
    expect(got[0]).toMatchObject({ type: 'delivered', state: 'matched', container: sentId, signer: ids.tom, verdict: 'verified', sameBytes: true });
    expect(got[0]!.anchor?.seq).toBeGreaterThan(0);
    expect((await pli('S', ['outbox'])).stdout).toMatch(/remis le .* à Tom Garnier/);
    expect(JSON.parse((await pli('S', ['outbox', '--json'])).stdout)[0]).toMatchObject({ container_id: sentId, delivery: 'delivered' });
  }, 120_000);

  it('the same receipt arriving again, even under another name, is stored once', async () => {
    const key = at('K');
    copyFileSync(path.join(key, objectFiles(key, 'receipt')[0]!), path.join(key, 'pli-objet-receipt-copie.pli'));
    const again = await pli('S', ['receive', '--folder', key, '--as', ids.sam]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toMatch(/Accusé déjà reçu/);
    expect(await receipts('S')).toHaveLength(1);
    const profile = new Database(path.join(at('S'), 'profile.sqlite'), { readonly: true });
    try {
      expect(profile.prepare('SELECT COUNT(*) FROM receipts').pluck().get()).toBe(1);
    } finally {
      profile.close();
    }
  }, 120_000);

  it('opening it under a convention with open receipts sends "ouvert le … par …"', async () => {
    const key = at('K');
    const opened = await pli('T', ['open', '1', '--as', ids.tom, '--out', at('T-out')]);
    expect(opened.code, opened.stderr).toBe(0);
    const log = (await pli('T', ['audit', 'list', '--json'])).stdout;
    expect(log, log).toContain('"object.sent"');
    // Kept until the next visit of the exchange folder, then written into it.
    await ok('T', ['receive', '--folder', key, '--as', ids.tom]);
    const police = await pli('S', ['receive', '--folder', key, '--as', ids.sam]);
    expect(police.code, police.stderr).toBe(0);
    expect(police.stderr).toMatch(/ouvert le \d{4}-\d\d-\d\d à \d\d:\d\d \(UTC\) par Tom Garnier/);
    const got = await receipts('S');
    expect(got.map((r) => r.type).sort()).toEqual(['delivered', 'opened']);
    expect(got.find((r) => r.type === 'opened')).toMatchObject({ container: sentId, openedBy: { id: ids.tom, name: 'Tom Garnier' } });
    expect(JSON.parse((await pli('S', ['outbox', '--json'])).stdout)[0]).toMatchObject({ container_id: sentId, delivery: 'opened' });
    // The opening receipt's row (kept for the folder, the « remis » one went straight into it)
    // carries a time seal that verifies after that write set its destination and sent_at
    // (docs/profile.md « Outbox rows: the time sent »): T's register checks every outbox row,
    // objects included, and a stale seal would refuse it as a modified profile.
    const town = new Database(path.join(at('T'), 'profile.sqlite'), { readonly: true });
    try {
      expect(town.prepare('SELECT object_kind, state, sent_at IS NOT NULL, length(time_mac) FROM outbox ORDER BY id').raw().all()).toEqual([['receipt', 'sent', 1, 32]]);
    } finally {
      town.close();
    }
    const [convention] = JSON.parse((await pli('T', ['convention', 'list', '--json'])).stdout) as { id: string }[];
    await ok('T', ['register', '--convention', convention!.id, '--year', String(new Date().getFullYear()), '--as', ids.tom, '--out', at('T-registre.csv')]);
  }, 120_000);

  it('a receipt for a container never sent from here is logged and set aside', async () => {
    const key = folder('K2');
    await asPerson('T', ids.tom, async (ctx, me, profile) => {
      await sendReceipt(ctx, me, getIdentity(profile.db, ids.sam)!, { type: 'delivered', container: randomBytes(16).toString('hex'), sha256: randomBytes(32).toString('hex'), verdict: 'verified' }, { folder: key });
    });
    const police = await pli('S', ['receive', '--folder', key, '--as', ids.sam]);
    expect(police.code, police.stderr).toBe(0);
    expect(police.stderr).toMatch(/mis de côté/);
    expect(await receipts('S')).toHaveLength(2);
    const all = await receipts('S', true);
    expect(all).toHaveLength(3);
    expect(all.filter((r) => r.state === 'set-aside')).toHaveLength(1);
    const log = (await pli('S', ['audit', 'list', '--json'])).stdout;
    expect(log).toContain('receipt.set-aside');
  }, 120_000);

  it('a receipt whose inner signature is not its sender\'s is refused and not stored', async () => {
    const key = folder('K3');
    await asPerson('T', ids.tom, async (ctx, me, profile) => {
      // Tom's container, but the receipt inside is signed by another key while naming Tom.
      const other = await ed25519Keygen();
      const text = await signObjectText('receipt', {
        v: 1, type: 'delivered', id: randomBytes(16).toString('hex'), signer: ids.tom, org: TOWN, at: Date.now(), container: sentId,
        sha256: randomBytes(32).toString('hex'), verdict: 'verified', reason: null, openedBy: null, serial: null, anchor: null,
      }, other.secretKey);
      const sealed = await sealObject(ctx, 'receipt', text, me, [getIdentity(profile.db, ids.sam)!]);
      await dispatchObject(ctx, sealed, ids.tom, { folder: key });
    });
    const police = await pli('S', ['receive', '--folder', key, '--as', ids.sam]);
    expect(police.code, police.stderr).toBe(0);
    expect(police.stderr).toMatch(/Accusé de réception refusé \(receipt-forged\)/);
    expect(await receipts('S', true)).toHaveLength(3);
  }, 120_000);

  // Issues 14 and 17: a receipt carries no file, so a reader's workstation may sign one; a
  // container with files signed by a reader stays refused (test/unit/authority.test.ts).
  it('a reader (Rita, town hall) gets her "remis" receipt accepted; she still cannot send a file', async () => {
    const key = folder('KR');
    await ok('S', ['send', '--as', ids.sam, '--to', ids.rita, '--folder', key, at('IS101.csv')]);
    const outbox = JSON.parse((await pli('S', ['outbox', '--json'])).stdout) as { container_id: string; delivery: string }[];
    const toRita = outbox.find((o) => o.container_id !== sentId)!.container_id;
    const town = await pli('R', ['receive', '--folder', key, '--as', ids.rita]);
    expect(town.code, town.stderr).toBe(0);
    expect(objectFiles(key, 'receipt')).toHaveLength(1);

    const police = await pli('S', ['receive', '--folder', key, '--as', ids.sam]);
    expect(police.code, police.stderr).toBe(0);
    expect(police.stderr).not.toMatch(/sender-role/);
    expect(police.stderr).toMatch(/Accusé de réception : pli [0-9a-f]{16} {2}remis le .* à Rita Lecomte \(Mairie de Saint-Laurent-Blangy\), signature vérifiée/);
    expect((await receipts('S')).find((r) => r.container === toRita)).toMatchObject({ type: 'delivered', state: 'matched', signer: ids.rita, verdict: 'verified' });
    expect((JSON.parse((await pli('S', ['outbox', '--json'])).stdout) as { container_id: string; delivery: string }[]).find((o) => o.container_id === toRita)).toMatchObject({ delivery: 'delivered' });

    // Sending a file still needs the operator role: refused for security, nothing written.
    const back = folder('KR2');
    const send = await pli('R', ['send', '--as', ids.rita, '--to', ids.sam, '--folder', back, at('IS101.csv')]);
    expect(send.code, send.stderr).toBe(2);
    expect(send.stderr).toMatch(/rôle « opérateur »/);
    expect(readdirSync(back)).toEqual([]);
  }, 120_000);
});

describe('the directory pushed by the folder transport', () => {
  let serial = 0;

  it('the officer revokes Sam and publishes; the town hall applies it, acknowledges, then refuses Sam', async () => {
    // Sam's workstation does not know yet: it still sends.
    const fromSam = folder('K4');
    await ok('S', ['send', '--as', ids.sam, '--to', ids.tom, '--folder', fromSam, at('IS101.csv')]);
    await ok('O', ['authority', 'revoke', ids.sam, '--reason', 'mutation']);
    const key = folder('P1');
    serial = Number(await ok('O', ['authority', 'publish', '--folder', key]));
    // The town hall only: Sam was the district's one certified member, and is revoked.
    expect(objectFiles(key, 'directory')).toHaveLength(1);
    const before = JSON.parse((await pli('T', ['directory', 'status', '--json'])).stdout) as { serial: number };
    expect(serial).toBe(before.serial + 1);

    const town = await pli('T', ['receive', '--folder', key, '--as', ids.tom]);
    expect(town.code, town.stderr).toBe(0);
    expect(town.stderr).toContain(`Annuaire n° ${serial} reçu et appliqué ; accusé envoyé`);
    const status = JSON.parse((await pli('T', ['directory', 'status', '--json'])).stdout) as { serial: number; arrival: { via: string; issuer: string } };
    expect(status).toMatchObject({ serial, arrival: { via: 'folder', issuer: ids.officer } });

    const refused = await pli('T', ['receive', '--folder', fromSam, '--as', ids.tom]);
    expect(refused.code, refused.stderr).toBe(0);
    expect(refused.stderr).toMatch(/refus/i);
    const inbox = JSON.parse((await pli('T', ['inbox', '--json'])).stdout) as { state: string; senderId: string; reason: string | null }[];
    expect(inbox.at(-1)).toMatchObject({ state: 'refused', senderId: ids.sam });
  }, 180_000);

  it("the acknowledgement reaches the officer and directory status shows it", async () => {
    const officer = await pli('O', ['receive', '--folder', at('P1'), '--as', ids.officer]);
    expect(officer.code, officer.stderr).toBe(0);
    const status = JSON.parse((await pli('O', ['directory', 'status', '--json'])).stdout) as { organisations: { org: string; published: number; acknowledged: number | null }[] };
    expect(status.organisations.find((o) => o.org === TOWN)).toMatchObject({ published: serial, acknowledged: serial });
    // Sam's district has no certified member left: nothing was published to it.
    expect(status.organisations.find((o) => o.org === CPN)).toBeUndefined();
    const text = (await pli('O', ['directory', 'status'])).stdout;
    expect(text).toMatch(new RegExp(`${TOWN} : publié n° ${serial} .* dernier accusé : n° ${serial}`));
  }, 120_000);

  it('a replayed older directory is ignored and changes nothing', async () => {
    const newer = folder('P2');
    const next = Number(await ok('O', ['authority', 'publish', '--folder', newer]));
    await ok('T', ['receive', '--folder', newer, '--as', ids.tom]);
    const replay = await pli('T', ['receive', '--folder', at('P1'), '--as', ids.tom]);
    expect(replay.code, replay.stderr).toBe(0);
    expect(replay.stderr).toContain(`Annuaire n° ${serial} ignoré : ce poste a déjà l'annuaire n° ${next}`);
    expect(JSON.parse((await pli('T', ['directory', 'status', '--json'])).stdout)).toMatchObject({ serial: next });
  }, 120_000);

  it("a directory signed by another authority is refused and the pin is unchanged", async () => {
    await ok('X', ['directory', 'export', '--out', at('foreign.json')]);
    const key = folder('P3');
    // Carried by a person the town hall knows (the officer): the directory's own signature decides.
    const { readFileSync } = await import('node:fs');
    await asPerson('O', ids.officer, async (ctx, me, profile) => {
      const sealed = await sealObject(ctx, 'directory', readFileSync(at('foreign.json'), 'utf8'), me, [getIdentity(profile.db, ids.tom)!]);
      await dispatchObject(ctx, sealed, ids.officer, { folder: key });
    });
    const pinned = (): { fpr: Buffer; serial: number; public_key: Buffer } => {
      const db = new Database(path.join(at('T'), 'profile.sqlite'), { readonly: true });
      try {
        return db.prepare('SELECT fpr, serial, public_key FROM trust').get() as { fpr: Buffer; serial: number; public_key: Buffer };
      } finally {
        db.close();
      }
    };
    const before = pinned();
    const town = await pli('T', ['receive', '--folder', key, '--as', ids.tom]);
    expect(town.code, town.stderr).toBe(0);
    expect(town.stderr).toMatch(/Annuaire refusé \(authority-changed\)/);
    expect(pinned()).toEqual(before);
    expect((await pli('T', ['audit', 'list', '--json'])).stdout).toMatch(/"directory\.applied"[^}]*"refused"|"refused"[^}]*"directory\.applied"/);
  }, 120_000);

  it("a reader's workstation applies a published directory and its acknowledgement reaches the officer", async () => {
    const key = folder('P4');
    const next = Number(await ok('O', ['authority', 'publish', '--folder', key]));
    // Only Rita's workstation visits this folder: the town hall's acknowledgement is hers.
    const town = await pli('R', ['receive', '--folder', key, '--as', ids.rita]);
    expect(town.code, town.stderr).toBe(0);
    expect(town.stderr).toContain(`Annuaire n° ${next} reçu et appliqué ; accusé envoyé`);
    expect(objectFiles(key, 'receipt')).toHaveLength(1);
    const officer = await pli('O', ['receive', '--folder', key, '--as', ids.officer]);
    expect(officer.code, officer.stderr).toBe(0);
    expect(officer.stderr).not.toMatch(/sender-role/);
    const status = JSON.parse((await pli('O', ['directory', 'status', '--json'])).stdout) as { organisations: { org: string; published: number; acknowledged: number | null }[] };
    expect(status.organisations.find((o) => o.org === TOWN)).toMatchObject({ published: next, acknowledged: next });
  }, 120_000);
});
