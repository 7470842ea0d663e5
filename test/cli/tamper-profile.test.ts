// The attacker of docs/profile.md ("Integrity of trust state") through the real `pli` binary:
// someone who can write the profile's database (better-sqlite3 here, triggers dropped if any) but
// knows no passphrase. Each tampering of the trust state must end in exit 2 with the French
// message that names the profile as modified, never in a silent "signature vérifiée"; the honest
// flows (first run, a second person provisioned by key file, directory updates, rotation, the
// officer's own profile) keep working. Needs `npm run build`.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cpSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import Database from 'better-sqlite3';
import { asAttacker } from '../unit/attacker.js';
import { wrapForXWing, xwingKeygen } from '../../electron/core/crypto/keys.js';
import { DAY } from '../../electron/core/authority/directory.js';
import { fingerprint } from '../../electron/core/crypto/primitives.js';
import { cliSandbox } from './support.js';

const PASS = 'une phrase de passe de test';
const cli = cliSandbox('pli-tamper-profile-', PASS);
const { root, at, ok, pli, refused, person } = cli;
const DATA = at('IS101.txt');
writeFileSync(DATA, 'état nominatif\n');
const TAMPERED = /le profil de ce poste a été modifié en dehors de Pli.*aucune décision n'est prise/i;

const ids = { officer: '', alice: '', sam: '', bob: '', rita: '' };
let pinO = '';
let bobOneTime = '';
const pli1 = { sam: '', officer: '', bob: '' };

/** A copy of a profile folder, to tamper with without touching the others. */
let copies = 0;
function copy(home: string): string {
  const name = `${home}-copy-${copies++}`;
  cpSync(at(home), at(name), { recursive: true });
  return name;
}

/** The attacker: direct writes to the profile's database, triggers out of the way. */
const tamper = (home: string, action: (db: Database.Database) => void): void => asAttacker(at(home), action);

function query<T>(home: string, sql: string, ...params: unknown[]): T[] {
  const db = new Database(path.join(at(home), 'profile.sqlite'), { readonly: true });
  try {
    return db.prepare(sql).all(...params) as T[];
  } finally {
    db.close();
  }
}

beforeAll(async () => {
  await Promise.all([
    (async () => {
      ids.officer = await person('O', 'Olivier Ssi', 'ssi@police.fr', 'DIPN 54');
      pinO = await ok('O', ['authority', 'init', '--name', 'SSI DIPN 54']);
    })(),
    (async () => {
      await person('X', 'Xavier Pirate', 'x@pirate.fr', 'Pirates');
      await ok('X', ['authority', 'init', '--name', 'SSI DIPN 54']);
    })(),
    (async () => {
      ids.alice = await person('A', 'Alice Martin', 'police@nancy.fr', 'Police municipale', 'alice.card');
    })(),
    (async () => {
      ids.sam = await person('S', 'Sam Bernard', 'mairie@nancy.fr', 'Mairie de Nancy', 'sam.card');
    })(),
    (async () => {
      ids.rita = await person('R', 'Rita Blanc', 'mairie@toul.fr', 'Mairie de Toul', 'rita.card');
    })(),
  ]);
  await ok('O', ['authority', 'certify', at('alice.card'), '--role', 'operator', '--out', at('alice.cert')]);
  await ok('O', ['authority', 'certify', at('sam.card'), '--role', 'operator', '--out', at('sam.cert')]);
  await ok('O', ['authority', 'certify', at('rita.card'), '--role', 'reader', '--out', at('rita.cert')]);
  const bob = await pli('O', ['authority', 'provision', '--name', 'Bob Durand', '--email', 'police@nancy.fr', '--org', 'Police municipale', '--role', 'reader', '--out', at('bob.key')]);
  expect(bob.code, bob.stderr).toBe(0);
  bobOneTime = /([0-9a-z]{4}(?:-[0-9a-z]{4}){5})/.exec(bob.stderr)?.[1] ?? '';
  ids.bob = bob.stdout.trim();
  await ok('O', ['directory', 'export', '--out', at('d1.json')]);
  // Every workstation pins the authority; the people already exist (holders): they sign in.
  await Promise.all(['A', 'S', 'R'].map((home) => ok(home, ['directory', 'import', at('d1.json'), '--pin', pinO])));
  pli1.sam = at('sam.pli');
  pli1.officer = at('officer.pli');
  pli1.bob = at('officer-bob.pli');
  await Promise.all([
    ok('S', ['encrypt', '--to', ids.alice, '--out', pli1.sam, DATA]),
    (async () => {
      await ok('O', ['encrypt', '--to', ids.alice, '--out', pli1.officer, DATA]);
      await ok('O', ['encrypt', '--to', ids.bob, '--out', pli1.bob, DATA]);
    })(),
    // Bob's key file goes to Alice's workstation: a second own identity, not holding the key yet.
    ok('A', ['id', 'import-key', at('bob.key')], { env: { PLI_PASSPHRASE: bobOneTime, PLI_NEW_PASSPHRASE: PASS } }),
  ]);
  // Sam's containers reach Alice's inbox by the folder transport before his revocation: one
  // received with Alice signed in (its row sealed), one without (unsealed), the officer's too.
  mkdirSync(at('boite-scellee'));
  mkdirSync(at('boite-libre'));
  await ok('S', ['encrypt', '--to', ids.alice, '--out', path.join(at('boite-scellee'), 'sam-scelle.pli'), DATA]);
  await ok('S', ['encrypt', '--to', ids.alice, '--out', path.join(at('boite-libre'), 'sam-libre.pli'), DATA]);
  cpSync(pli1.officer, path.join(at('boite-libre'), 'officier-libre.pli'));
  await ok('A', ['receive', '--folder', at('boite-scellee'), '--as', ids.alice]);
  await ok('A', ['receive', '--folder', at('boite-libre')]);
  await ok('O', ['authority', 'revoke', ids.sam, '--reason', 'mutation']);
  await ok('O', ['directory', 'export', '--out', at('d2.json')]);
  // Alice (the holder) signs in to import: Bob gets his hand-over at the same time.
  await ok('A', ['directory', 'import', at('d2.json'), '--as', ids.alice]);
  await ok('R', ['directory', 'import', at('d2.json')]);
}, 240000);

afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

describe('the honest state is refused or accepted as before', () => {
  it('the revoked sender is refused, the officer is opened', async () => {
    const home = copy('A');
    await refused(2, home, ['decrypt', '--as', ids.alice, '--out', at(`${home}-out`), pli1.sam], /révoqué \(mutation\)/);
    await ok(home, ['decrypt', '--as', ids.alice, '--out', at(`${home}-out2`), pli1.officer]);
  });
});

describe('the attacker edits the trust state (issue 10, item 2)', () => {
  it('(a) revocation rows deleted: the revoked sender\'s container is refused as tampering, not "vérifiée"', async () => {
    const home = copy('A');
    tamper(home, (db) => db.exec('DELETE FROM revocations'));
    const run = await refused(2, home, ['decrypt', '--as', ids.alice, '--out', at(`${home}-out`), pli1.sam], TAMPERED);
    expect(run.stderr).not.toMatch(/signature vérifiée/);
  });

  it('(b) the directory serial rolled back: the next signed-in command exits 2', async () => {
    const home = copy('A');
    tamper(home, (db) => db.exec('UPDATE trust SET serial = 1'));
    await refused(2, home, ['directory', 'import', at('d2.json'), '--as', ids.alice], TAMPERED);
    await refused(2, home, ['encrypt', '--as', ids.alice, '--to', ids.officer, '--out', at(`${home}.pli`), DATA], TAMPERED);
  });

  it('(c) the pin replaced by another authority, with a certificate it signed planted', async () => {
    await ok('X', ['authority', 'certify', at('alice.card'), '--role', 'officer', '--out', at('alice.x.cert')]);
    const [x] = query<{ public_key: Buffer; fpr: Buffer }>('X', 'SELECT public_key, fpr FROM authority');
    const [cert] = query<Record<string, unknown>>('X', 'SELECT * FROM certificates WHERE identity_id = ?', ids.alice);
    const home = copy('A');
    tamper(home, (db) => {
      db.prepare('UPDATE trust SET public_key = ?, fpr = ?').run(x!.public_key, x!.fpr);
      db.prepare(`INSERT INTO certificates (authority, serial, identity_id, role, name, email, org, not_before, not_after, enc_fpr, sig_fpr, issued, text)
        VALUES (@authority, @serial, @identity_id, @role, @name, @email, @org, @not_before, @not_after, @enc_fpr, @sig_fpr, @issued, @text)`).run(cert!);
    });
    // Checks made before the unlock read the state as stored (the officer, not certified by X, is
    // refused as a recipient); at the unlock the seal names the profile as modified.
    await refused(2, home, ['encrypt', '--as', ids.alice, '--to', ids.alice, '--out', at(`${home}.pli`), DATA], TAMPERED);
    await refused(2, home, ['directory', 'import', at('d2.json'), '--as', ids.alice], TAMPERED);
  });

  it('(d) a correspondent\'s public key replaced: refused, nothing sealed for the attacker\'s key', async () => {
    const attacker = await xwingKeygen();
    const home = copy('A');
    tamper(home, (db) => db.prepare("UPDATE keys SET public_key = ? WHERE identity_id = ? AND kind = 'xwing'").run(Buffer.from(attacker.publicKey), ids.officer));
    const out = at(`${home}.pli`);
    await refused(2, home, ['encrypt', '--as', ids.alice, '--to', ids.officer, '--out', out, DATA], TAMPERED);
    const signing = copy('A');
    tamper(signing, (db) => db.prepare("UPDATE keys SET public_key = ? WHERE identity_id = ? AND kind = 'ed25519'").run(randomBytes(32), ids.officer));
    await refused(2, signing, ['decrypt', '--as', ids.alice, '--out', at(`${signing}-out`), pli1.officer], TAMPERED);
  });

  it('(d2) the sender\'s own signing key replaced by another pair: refused once unlocked, nothing written (the payload is sealed during the unlock)', async () => {
    // A consistent pair (the fingerprint is the planted key's own), so the row passes its own
    // check: the header would announce this key, and only the unlocked key can tell.
    const planted = Buffer.from(randomBytes(32));
    const home = copy('A');
    tamper(home, (db) => db.prepare("UPDATE keys SET public_key = ?, fpr = ? WHERE identity_id = ? AND kind = 'ed25519' AND retired_at IS NULL")
      .run(planted, fingerprint('ed25519', planted), ids.alice));
    const out = at(`${home}-own.pli`);
    await refused(2, home, ['encrypt', '--as', ids.alice, '--to', ids.alice, '--out', out, DATA], TAMPERED);
    expect(readdirSync(path.dirname(out)).filter((name) => name.startsWith(path.basename(out)))).toEqual([]);
    // The same with a payload above 8 MiB, which the addon's stream seals (native/stream.c):
    // stopped by the refused unlock, nothing written either.
    const big = at(`${home}-big.bin`);
    writeFileSync(big, randomBytes(12 * 1024 * 1024));
    const outBig = at(`${home}-own-big.pli`);
    await refused(2, home, ['encrypt', '--as', ids.alice, '--to', ids.alice, '--out', outBig, big], TAMPERED);
    expect(readdirSync(path.dirname(outBig)).filter((name) => name.startsWith(path.basename(outBig)))).toEqual([]);
  });

  it('(e) a certificate row\'s role or end date edited', async () => {
    const role = copy('R');
    tamper(role, (db) => db.prepare("UPDATE certificates SET role = 'operator' WHERE identity_id = ?").run(ids.rita));
    await refused(2, role, ['encrypt', '--to', ids.alice, '--out', at(`${role}.pli`), DATA], TAMPERED);
    // Two years later Alice's certificate has expired; the attacker extends it.
    const late = copy('A');
    tamper(late, (db) => db.prepare('UPDATE certificates SET not_after = ? WHERE identity_id = ?').run(Date.now() + 3650 * DAY, ids.alice));
    await refused(2, late, ['decrypt', '--as', ids.alice, '--out', at(`${late}-out`), pli1.officer], TAMPERED, { offsetMs: 400 * DAY });
  });

  it('(f) a forged hand-over for a person who does not hold the key is refused', async () => {
    const home = copy('A');
    const [enc] = query<{ fpr: Buffer; public_key: Buffer }>(home, "SELECT fpr, public_key FROM keys WHERE identity_id = ? AND kind = 'xwing' AND retired_at IS NULL", ids.bob);
    const forged = await wrapForXWing(enc!.public_key, randomBytes(32), enc!.fpr, Buffer.concat([Buffer.from('pli/v1/wrap/integrity', 'ascii'), enc!.fpr]));
    tamper(home, (db) => {
      db.prepare('DELETE FROM integrity_handover WHERE identity_id = ?').run(ids.bob);
      db.prepare('INSERT INTO integrity_handover (identity_id, key_fpr, kem_ciphertext, wrapped, created_at) VALUES (?, ?, ?, ?, ?)')
        .run(ids.bob, enc!.fpr, forged.kemCiphertext, forged.wrapped, Date.now());
    });
    await refused(2, home, ['decrypt', '--as', ids.bob, '--out', at(`${home}-out`), pli1.bob], TAMPERED);
    // Nothing was adopted: Bob still does not hold the key.
    const [unlock] = query<{ n: number }>(home, 'SELECT length(wrapped_master) AS n FROM unlock WHERE identity_id = ?', ids.bob);
    expect(unlock!.n).toBe(49);
  });
});

describe('(g) the honest flows', () => {
  it('a person provisioned by key file gets the key at the holder\'s sign-in, then verifies', async () => {
    const home = copy('A');
    expect(query<{ n: number }>(home, 'SELECT COUNT(*) AS n FROM integrity_handover WHERE identity_id = ?', ids.bob)[0]!.n).toBe(1);
    await ok(home, ['decrypt', '--as', ids.bob, '--out', at(`${home}-out`), pli1.bob]);
    expect(query<{ n: number }>(home, 'SELECT length(wrapped_master) AS n FROM unlock WHERE identity_id = ?', ids.bob)[0]!.n).toBe(80);
    expect(query<{ n: number }>(home, 'SELECT COUNT(*) AS n FROM integrity_handover')[0]!.n).toBe(0);
    tamper(home, (db) => db.exec('DELETE FROM revocations'));
    await refused(2, home, ['decrypt', '--as', ids.bob, '--out', at(`${home}-out2`), pli1.bob], TAMPERED);
  });

  it('first run: the directory pinned before any identity, sealed by the first person', async () => {
    await ok('F', ['init']);
    await ok('F', ['directory', 'import', at('d2.json'), '--pin', pinO]);
    await ok('F', ['id', 'new', '--name', 'Fanny Roux', '--email', 'police@toul.fr', '--org', 'Police de Toul']);
    expect(query<{ n: number }>('F', 'SELECT COUNT(*) AS n FROM trust_seal')[0]!.n).toBe(1);
    await ok('F', ['id', 'list']);
    const home = copy('F');
    tamper(home, (db) => db.exec('DELETE FROM revocations'));
    await refused(2, home, ['directory', 'import', at('d2.json')], TAMPERED);
  });

  it('a directory update and a key rotation by the signed-in holder', async () => {
    const home = copy('A');
    await ok('O', ['directory', 'export', '--out', at('d3.json')]);
    await ok(home, ['directory', 'import', at('d3.json'), '--as', ids.alice]);
    await ok(home, ['id', 'rotate', ids.alice]);
    await ok(home, ['decrypt', '--as', ids.alice, '--out', at(`${home}-out`), pli1.officer]);
    await refused(2, home, ['decrypt', '--as', ids.alice, '--out', at(`${home}-out2`), pli1.sam], /révoqué/);
  });

  it('the officer\'s own profile: revoke and export seal; a deleted revocation is caught', async () => {
    const home = copy('O');
    await ok(home, ['directory', 'export', '--out', at('d4.json')]);
    tamper(home, (db) => db.exec('DELETE FROM revocations'));
    await refused(2, home, ['directory', 'export', '--out', at('d5.json')], TAMPERED);
  });
});

describe('the attacker edits an inbox row: the arrival time is sealed (issue 10, last pieces)', () => {
  interface Row { id: number; state: string; arrived_at: number; mac: Buffer | null }
  const rowOf = (home: string, origin: string): Row => query<Row>(home, 'SELECT id, state, arrived_at, mac FROM inbox WHERE origin = ?', origin)[0]!;
  const open = (home: string, row: Row): string[] => ['open', String(row.id), '--as', ids.alice, '--out', at(`${home}-out-${row.id}`)];

  it('a row received signed in carries a MAC; one received without signing in does not', () => {
    expect(rowOf('A', 'sam-scelle.pli').mac).toHaveLength(32);
    expect(rowOf('A', 'sam-libre.pli').mac).toBeNull();
  });

  it('an honest sealed row from before the revocation still opens', async () => {
    const home = copy('A');
    await ok(home, open(home, rowOf(home, 'sam-scelle.pli')));
  });

  it('a container refused after the revocation, set to verified and its arrival moved back: exit 2, the profile named as modified', async () => {
    const home = copy('A');
    mkdirSync(at(`${home}-tardif`));
    cpSync(pli1.sam, path.join(at(`${home}-tardif`), 'sam-tardif.pli'));
    await ok(home, ['receive', '--folder', at(`${home}-tardif`), '--as', ids.alice]);
    const late = rowOf(home, 'sam-tardif.pli');
    expect(late.state).toBe('refused');
    expect(late.mac).toHaveLength(32);
    const before = rowOf(home, 'sam-scelle.pli').arrived_at;
    tamper(home, (db) => db.prepare("UPDATE inbox SET state = 'verified', reason = NULL, arrived_at = ? WHERE id = ?").run(before, late.id));
    const run = await refused(2, home, open(home, late), TAMPERED);
    expect(run.stderr).not.toMatch(/signature vérifiée/);
  });

  it('each sealed column edited on an honest row: exit 2', async () => {
    for (const sql of ['UPDATE inbox SET arrived_at = arrived_at - 1 WHERE id = ?', 'UPDATE inbox SET created_ms = created_ms + 1 WHERE id = ?', 'UPDATE inbox SET size = size + 1 WHERE id = ?', "UPDATE inbox SET source = 'imap' WHERE id = ?"]) {
      const home = copy('A');
      const row = rowOf(home, 'sam-scelle.pli');
      tamper(home, (db) => db.prepare(sql).run(row.id));
      await refused(2, home, open(home, row), TAMPERED);
    }
  });

  it('the MAC of a sealed row deleted: the arrival is no longer proven, judged now, refused as revoked', async () => {
    const home = copy('A');
    const row = rowOf(home, 'sam-scelle.pli');
    tamper(home, (db) => db.prepare('UPDATE inbox SET mac = NULL WHERE id = ?').run(row.id));
    await refused(2, home, open(home, row), /révoqué \(mutation\)/);
  });

  it('a MAC planted on an unsealed row: exit 2, the profile named as modified', async () => {
    const home = copy('A');
    const row = rowOf(home, 'officier-libre.pli');
    tamper(home, (db) => db.prepare('UPDATE inbox SET mac = ? WHERE id = ?').run(randomBytes(32), row.id));
    await refused(2, home, open(home, row), TAMPERED);
  });

  it('rows stored without the key are judged at opening: a sender still valid opens, a sender revoked since is refused; nothing gets sealed', async () => {
    const home = copy('A');
    await ok(home, open(home, rowOf(home, 'officier-libre.pli')));
    await refused(2, home, open(home, rowOf(home, 'sam-libre.pli')), /révoqué \(mutation\)/);
    expect(rowOf(home, 'officier-libre.pli').mac).toBeNull();
    expect(rowOf(home, 'sam-libre.pli').mac).toBeNull();
  });
});
