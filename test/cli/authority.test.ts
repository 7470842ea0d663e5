// The SSI authority through the real `pli` binary (issue 3, docs/authority.md): the officer's
// profile O, a forger's authority X, workstations A (Alice, operator, enrolled by card), B (Bob,
// reader, provisioned), C (Carol, operator, directory only), P (Pat, no authority at all) and F
// (a fresh workstation for the pin and key-change checks). Every forgery exits 2 with a reason in
// plain French; an id the profile does not know at all exits 1.
// Needs `npm run build`. Time is simulated by preloading a module that shifts Date.now() in the
// child process (--import), so the binary under test is unchanged.
// A few objects no command can produce (a directory carrying a foreign certificate, a signed
// authority handover) are built in process with the core's makeEnvelope and the authority keys.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { openProfile, type Profile } from '../../electron/core/profile/profile.js';
import { newPersonCard, unlockIdentity } from '../../electron/core/profile/identities.js';
import { certifyCard, getAuthority, unlockAuthority } from '../../electron/core/authority/authority.js';
import { DAY, keyChangeDigest } from '../../electron/core/authority/directory.js';
import { makeEnvelope } from '../../electron/core/authority/signed.js';
import { readInfo } from '../../electron/core/container/open.js';
import { fileSource } from '../../electron/core/container/sinks.js';
import { ed25519Sign } from '../../electron/core/crypto/keys.js';
import type { Context } from '../../electron/core/context.js';
import { formatFingerprint } from '../../shared/ids.js';
import { cliSandbox } from './support.js';

const PASS = 'une phrase de passe de test';
const cli = cliSandbox('pli-authority-cli-', PASS);
const { root, at, ok, refused, person } = cli;
const DATA = at('IS101.txt');
writeFileSync(DATA, 'état nominatif\n');
const PASSWORD_FILE = at('password.txt');
writeFileSync(PASSWORD_FILE, 'mot de passe du pli partagé\n');
const FPR = /[0-9A-Z]{4}(-[0-9A-Z]{4}){4}/;

const { pli } = cli;

interface Listed { id: string; name: string; own: boolean; certificate: string; role: string | null; validUntil: string | null; encryptionFingerprint: string }
async function list(home: string): Promise<Listed[]> {
  return JSON.parse((await pli(home, ['id', 'list', '--json'])).stdout) as Listed[];
}

async function recipientFingerprints(file: string): Promise<string[]> {
  const source = await fileSource(file);
  try {
    return (await readInfo(source)).header.recipients.map((r) => (r.type === 'xwing' ? formatFingerprint(r.keyFpr) : 'password')).sort();
  } finally {
    await source.close();
  }
}

/** In-process access to an authority profile (never while a command runs on it). */
async function withAuthority<T>(home: string, action: (ctx: Context, secretKey: Uint8Array, publicKey: Buffer) => Promise<T>): Promise<T> {
  const profile: Profile = openProfile(at(home));
  const ctx: Context = { profile, unlocker: { unlock: (row) => unlockIdentity(profile.db, row.id, PASS) } };
  try {
    const authority = await unlockAuthority(ctx);
    try {
      return await action(ctx, authority.secretKey, authority.row.public_key);
    } finally {
      authority.wipe();
    }
  } finally {
    profile.close();
  }
}

function authorityKey(home: string): Buffer {
  const profile = openProfile(at(home));
  try {
    return getAuthority(profile.db)!.public_key;
  } finally {
    profile.close();
  }
}

const ids = { officer: '', alice: '', bob: '', carol: '', pat: '', dave: '', eve: '' };
let pinO = '';
let pinX = '';
let bobOneTime = '';
let d1 = '';
let d2 = '';

beforeAll(async () => {
  await Promise.all([
    (async () => {
      ids.officer = await person('O', 'Olivier Ssi', 'ssi@police.fr', 'DIPN 54');
      pinO = await ok('O', ['authority', 'init', '--name', 'SSI DIPN 54']);
      d1 = at('d1.json');
      await ok('O', ['directory', 'export', '--out', d1]);
    })(),
    (async () => {
      await person('X', 'Xavier Pirate', 'x@pirate.fr', 'Pirates');
      pinX = await ok('X', ['authority', 'init', '--name', 'SSI DIPN 54']);
    })(),
    (async () => {
      ids.alice = await person('A', 'Alice Martin', 'police@nancy.fr', 'Police municipale', 'alice.card');
    })(),
    (async () => {
      ids.carol = await person('C', 'Carol Petit', 'mairie@nancy.fr', 'Mairie de Nancy', 'carol.card');
    })(),
    (async () => {
      ids.pat = await person('P', 'Pat Sansautorite', 'asso@exemple.fr', 'Association', 'pat.card');
    })(),
    ok('B', ['init']),
    ok('F', ['init']),
  ]);
  expect(pinO).toMatch(FPR);
  expect(pinX).toMatch(FPR);
  // The officer's work, one command at a time; the workstations pin the authority meanwhile.
  const officer = (async () => {
    await ok('O', ['authority', 'certify', at('alice.card'), '--role', 'operator', '--out', at('alice.cert')]);
    await ok('O', ['authority', 'certify', at('carol.card'), '--role', 'operator', '--out', at('carol.cert')]);
    const bob = await pli('O', ['authority', 'provision', '--name', 'Bob Durand', '--email', 'mairie@nancy.fr', '--org', 'Mairie de Nancy', '--role', 'reader', '--out', at('bob.key')]);
    expect(bob.code, bob.stderr).toBe(0);
    bobOneTime = /([0-9a-z]{4}(?:-[0-9a-z]{4}){5})/.exec(bob.stderr)?.[1] ?? '';
    ids.bob = bob.stdout.trim();
    // Dave (to be revoked) and Eve (one day) never get a workstation: their cards are made in process.
    for (const [key, name, org, days] of [['dave', 'Dave Leroy', 'Mairie de Nancy', '365'], ['eve', 'Eve Garnier', 'Douanes', '1']] as const) {
      const card = await newPersonCard({ name, email: 'partenaire@exemple.fr', org });
      ids[key] = card.id;
      writeFileSync(at(`${key}.card`), card.card);
      await ok('O', ['authority', 'certify', at(`${key}.card`), '--role', 'reader', '--days', days, '--out', at(`${key}.cert`)]);
    }
    await ok('O', ['authority', 'revoke', ids.dave, '--reason', 'mutation']);
    d2 = at('d2.json');
    await ok('O', ['directory', 'export', '--out', d2]);
  })();
  await Promise.all([officer, ok('A', ['directory', 'import', d1, '--pin', pinO]), ok('B', ['directory', 'import', d1, '--pin', pinO])]);
  expect(bobOneTime).toMatch(/^[0-9a-z]{4}(-[0-9a-z]{4}){5}$/);
  await Promise.all([
    (async () => {
      await ok('A', ['id', 'install', at('alice.cert')]); // path (a)
      await ok('A', ['directory', 'import', d2]);
    })(),
    (async () => {
      await ok('B', ['id', 'import-key', at('bob.key')], { env: { PLI_PASSPHRASE: bobOneTime, PLI_NEW_PASSPHRASE: PASS } }); // path (b)
      await ok('B', ['directory', 'import', d2]);
    })(),
    ok('C', ['directory', 'import', d2, '--pin', pinO]),
  ]);
}, 300_000);

afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

describe('enrolment', () => {
  it('both paths end with a certified identity on the workstation', async () => {
    const [alice, bob] = await Promise.all([list('A'), list('B')]);
    const a = alice.find((r) => r.id === ids.alice)!;
    expect(a).toMatchObject({ own: true, certificate: 'valid', role: 'operator' });
    expect(Date.parse(a.validUntil!) - Date.now()).toBeGreaterThan(364 * DAY);
    const b = bob.find((r) => r.id === ids.bob)!;
    expect(b).toMatchObject({ own: true, certificate: 'valid', role: 'reader', name: 'Bob Durand' });
    expect(Date.parse(b.validUntil!)).toBeGreaterThan(Date.now());
    const text = await pli('A', ['id', 'list']);
    expect(text.stdout).toContain(`Autorité épinglée : SSI DIPN 54, empreinte ${pinO}`);
    expect(text.stdout).toMatch(/Alice Martin.*certificat : valide jusqu'au \d{4}-\d\d-\d\d \(operator\)/);
    expect(text.stdout).toMatch(/Dave Leroy.*certificat : révoqué \(mutation\)/);
  });
});

describe('forgeries', () => {
  it('a certificate signed by another authority: id install refused, nothing changes', async () => {
    const [before] = await Promise.all([list('A'), ok('X', ['authority', 'certify', at('alice.card'), '--role', 'officer', '--out', at('alice.forged.cert')])]);
    await refused(2, 'A', ['id', 'install', at('alice.forged.cert')], /Certificat refusé : il n'est pas signé par l'autorité de ce poste/);
    expect(await list('A')).toEqual(before);
  });

  it('an id this workstation does not know at all stays exit 1', async () => {
    await refused(1, 'A', ['id', 'install', at('carol.cert')], /n'a pas d'identité personnelle sur ce poste/);
    await refused(1, 'A', ['encrypt', '--to', 'zzzzzzzzzzzzzzzz', '--out', at('x.pli'), DATA], /Identité inconnue/);
    await refused(1, 'O', ['authority', 'revoke', 'zzzzzzzzzzzzzzzz', '--reason', 'test'], /Identité inconnue/);
  });

  it('a directory carrying one foreign certificate is refused whole: nothing stored', async () => {
    const newcomer = await newPersonCard({ name: 'Nouveau Venu', email: 'mairie@nancy.fr', org: 'Mairie de Nancy' });
    const file = at('d-foreign.json');
    await withAuthority('O', async (ctx, secretKey, publicKey) => {
      const good = (await certifyCard(ctx, newcomer.card, 'reader')).certificate;
      const issued = ctx.profile.db.prepare('SELECT text FROM issued_certificates ORDER BY serial').pluck().all() as string[];
      writeFileSync(file, await makeEnvelope('directory', {
        v: 1, authority: { name: 'SSI DIPN 54', key: publicKey.toString('base64') }, serial: 40, issued: Date.now(), nextUpdate: Date.now() + 30 * DAY,
        policy: { allowPassword: false, graceDays: 30 }, certificates: [...issued, good, readFileSync(at('alice.forged.cert'), 'utf8')],
        revocations: [], keyChange: null,
      }, secretKey));
    });
    const before = await list('A');
    await refused(2, 'A', ['directory', 'import', file], /Annuaire refusé : il contient un certificat invalide/);
    expect(await list('A')).toEqual(before);
    expect(before.some((r) => r.id === newcomer.id)).toBe(false);
    expect((await pli('A', ['id', 'list'])).stdout).toMatch(/annuaire n° 2\./);
  });

  it('a lowered or equal serial is refused (rollback)', async () => {
    await refused(2, 'A', ['directory', 'import', d1], /son numéro \(1\) n'est pas plus récent que celui déjà importé \(2\)/);
    await refused(2, 'A', ['directory', 'import', d2], /son numéro \(2\) n'est pas plus récent/);
  });

  it('first import: without --pin exit 1, a swapped pin exit 2, and neither prints the file\'s fingerprint; nothing stored', async () => {
    const squeeze = (text: string): string => text.toUpperCase().replace(/[^0-9A-Z]/g, '');
    const missing = await refused(1, 'F', ['directory', 'import', d2], /Première importation : l'empreinte de l'autorité est obligatoire.*--pin EMPREINTE/);
    const wrong = await refused(2, 'F', ['directory', 'import', d2, '--pin', pinX], /l'empreinte de son autorité n'est pas celle que vous avez indiquée.*appelez l'officier SSI/);
    // A misheard pin differing by one character: still nothing to retype from the output.
    const misheard = `${pinO[0] === 'A' ? 'B' : 'A'}${pinO.slice(1)}`;
    const close = await refused(2, 'F', ['directory', 'import', d2, '--pin', misheard], /n'est pas celle que vous avez indiquée/);
    for (const run of [missing, wrong, close]) {
      expect(squeeze(run.stdout + run.stderr)).not.toContain(squeeze(pinO).slice(4));
      expect(run.stdout + run.stderr).not.toMatch(FPR);
    }
    expect((await pli('F', ['id', 'list'])).stdout).toMatch(/Profil sans autorité/);
  });

  it('a directory edited by one byte (a name in the body, the signature) is refused', async () => {
    const text = readFileSync(d2, 'utf8');
    writeFileSync(at('d2.renamed.json'), text.replace('SSI DIPN 54', 'SSI DIPN 55'));
    const signature = (JSON.parse(text) as { signature: string }).signature;
    writeFileSync(at('d2.resigned.json'), text.replace(signature, signature.slice(0, 20) + (signature[20] === 'Q' ? 'R' : 'Q') + signature.slice(21)));
    for (const file of ['d2.renamed.json', 'd2.resigned.json']) {
      await refused(2, 'F', ['directory', 'import', at(file), '--pin', pinO], /Annuaire refusé : sa signature ne correspond pas à son contenu : il a été modifié/);
    }
    expect((await pli('F', ['id', 'list'])).stdout).toMatch(/Profil sans autorité/);
  });

  it('a changed authority key: refused without endorsement, accepted with one and the pin moves', async () => {
    await ok('F', ['directory', 'import', d2, '--pin', pinO]);
    await ok('X', ['directory', 'export', '--out', at('dX.json')]);
    await refused(2, 'F', ['directory', 'import', at('dX.json')], /signé par une autre autorité .* sans passation signée par l'ancienne/);
    const newKey = authorityKey('X');
    const issuedAt = Date.now();
    const endorsement = await withAuthority('O', async (_ctx, oldSecret) => Buffer.from(await ed25519Sign(oldSecret, keyChangeDigest(newKey, 50, issuedAt))).toString('base64'));
    const oldKey = authorityKey('O').toString('base64');
    const handover = async (file: string, serial: number): Promise<void> => withAuthority('X', async (ctx, secretKey, publicKey) => {
      const issued = ctx.profile.db.prepare('SELECT text FROM issued_certificates ORDER BY serial').pluck().all() as string[];
      writeFileSync(at(file), await makeEnvelope('directory', {
        v: 1, authority: { name: 'SSI DIPN 54', key: publicKey.toString('base64') }, serial, issued: issuedAt, nextUpdate: issuedAt + 30 * DAY,
        policy: { allowPassword: false, graceDays: 30 }, certificates: issued, revocations: [],
        keyChange: { previous: oldKey, serial: 50, issued: issuedAt, endorsement },
      }, secretKey));
    });
    // The handover signed for directory n° 50, replayed in a directory n° 51: refused.
    await handover('dX.replayed.json', 51);
    const replayed = await refused(2, 'F', ['directory', 'import', at('dX.replayed.json')], /passation de clé d'autorité a été signée pour un autre annuaire/);
    expect(replayed.stdout + replayed.stderr).not.toContain(pinX);
    await handover('dX.endorsed.json', 50);
    const accepted = await ok('F', ['directory', 'import', at('dX.endorsed.json')]);
    expect(accepted).toMatch(/nouvelle clé d'autorité acceptée \(passation signée\)/);
    expect((await pli('F', ['id', 'list'])).stdout).toContain(`empreinte ${pinX}, annuaire n° 50`);
  });

  it('a card whose self-signature does not match: authority certify and id import refused', async () => {
    writeFileSync(at('alice.edited.card'), readFileSync(at('alice.card'), 'utf8').replace('Alice Martin', 'Alice Mertin'));
    await refused(2, 'O', ['authority', 'certify', at('alice.edited.card'), '--role', 'officer', '--out', at('edited.cert')], /Carte d'identité refusée : l'auto-signature ne correspond pas au contenu/);
    expect(existsSync(at('edited.cert'))).toBe(false);
    await refused(2, 'P', ['id', 'import', at('alice.edited.card')], /auto-signature ne correspond pas/);
  });
});

describe('organisations and policy', () => {
  it('--to org:NAME reaches every valid member, not the revoked one; the header lists exactly their keys', async () => {
    const out = at('org.pli');
    await ok('A', ['encrypt', '--to', 'org:Mairie de Nancy', '--no-self', '--out', out, DATA]);
    const info = JSON.parse((await pli('A', ['inspect', out, '--json'])).stdout) as { recipients: number };
    expect(info.recipients).toBe(2);
    const known = await list('A');
    const fpr = (id: string) => known.find((r) => r.id === id)!.encryptionFingerprint;
    expect(await recipientFingerprints(out)).toEqual([fpr(ids.bob), fpr(ids.carol)].sort());
    expect(known.find((r) => r.id === ids.dave)!.certificate).toBe('revoked');
    await Promise.all([ok('B', ['decrypt', '--out', at('org-b'), out]), ok('C', ['decrypt', '--out', at('org-c'), out])]);
    expect(readFileSync(at('org-b/IS101.txt'), 'utf8')).toBe('état nominatif\n');
    // Someone else is told who can open it.
    await refused(2, 'A', ['decrypt', '--out', at('org-a'), out], /Il peut être ouvert par : .*Bob Durand.*Carol Petit|Il peut être ouvert par : .*Carol Petit.*Bob Durand/);
  });

  it('a recipient with a self-signed card only is refused; so is a password recipient', async () => {
    await ok('A', ['id', 'import', at('pat.card')]);
    await refused(2, 'A', ['encrypt', '--to', ids.pat, '--out', at('pat.pli'), DATA], /Pat Sansautorite \(Association\) ne peut pas être destinataire : certificat aucun/);
    await refused(2, 'A', ['encrypt', '--password-file', PASSWORD_FILE, '--out', at('pw.pli'), DATA], /plis protégés par mot de passe ne sont pas autorisés/);
  });

  it('decrypt refuses an unknown sender and a sender without certificate; no authority keeps the foundation behaviour', async () => {
    await ok('B', ['id', 'export', ids.bob, '--out', at('bob.card')]);
    await ok('P', ['id', 'import', at('bob.card')]);
    await ok('P', ['encrypt', '--to', ids.bob, '--out', at('from-pat.pli'), DATA]);
    expect((await pli('P', ['id', 'list'])).stdout).toMatch(/^Profil sans autorité : cartes auto-signées/);
    await refused(2, 'B', ['decrypt', '--out', at('pat-b1'), at('from-pat.pli')], /Expéditeur inconnu/);
    await ok('B', ['id', 'import', at('pat.card')]);
    await refused(2, 'B', ['decrypt', '--out', at('pat-b2'), at('from-pat.pli')], /Pli refusé : Pat Sansautorite \(.*\) n'a pas de certificat de l'autorité de ce poste pour cette clé/);
  });

  it('roles: a reader cannot encrypt; a non-authority profile cannot certify', async () => {
    await refused(2, 'B', ['encrypt', '--to', ids.alice, '--out', at('bob.pli'), DATA], /demande le rôle « opérateur » ; Bob Durand a le rôle « lecteur »/);
    // Alice is an operator: refused for her role (exit 2, issue 5), before the profile question.
    await refused(2, 'A', ['authority', 'certify', at('carol.card'), '--role', 'officer', '--out', at('x.cert')], /demande le rôle « officier SSI »/);
  });
});

describe('time', () => {
  it('an expired recipient is not a recipient', async () => {
    await ok('A', ['encrypt', '--to', ids.eve, '--out', at('eve-now.pli'), DATA]);
    await refused(2, 'A', ['encrypt', '--to', ids.eve, '--out', at('eve-later.pli'), DATA], /Eve Garnier \(Douanes\) ne peut pas être destinataire : certificat expiré le/, { offsetMs: 2 * DAY });
  });

  it('directory past nextUpdate: a warning at encrypt; after the grace period sending is refused', async () => {
    const stale = await pli('A', ['encrypt', '--to', ids.carol, '--out', at('stale.pli'), DATA], { offsetMs: 45 * DAY });
    expect(stale.code, stale.stderr).toBe(0);
    expect(stale.stderr).toMatch(/attention : l'annuaire devait être mis à jour le .* les envois seront refusés à partir du/);
    await refused(2, 'A', ['encrypt', '--to', ids.carol, '--out', at('expired.pli'), DATA], /n'a pas été mis à jour depuis le .* envoi refusé/, { offsetMs: 75 * DAY });
  });

  // docs/authority.md section 5.5: past it the workstation warns at every command.
  it('past nextUpdate, other commands warn too (docs/authority.md 5.5)', async () => {
    const run = await pli('A', ['id', 'list'], { offsetMs: 45 * DAY });
    expect(run.stderr).toMatch(/annuaire devait être mis à jour/);
  });
});

describe('revocation and rotation', () => {
  it('a revoked sender: a container opened after the revocation was imported is refused', async () => {
    await ok('C', ['encrypt', '--to', ids.bob, '--out', at('carol.pli'), DATA]);
    await ok('O', ['authority', 'revoke', ids.carol, '--reason', 'départ du service']);
    await ok('O', ['directory', 'export', '--out', at('d3.json')]);
    await Promise.all([ok('B', ['directory', 'import', at('d3.json')]), ok('A', ['directory', 'import', at('d3.json')])]);
    await refused(2, 'B', ['decrypt', '--out', at('carol-b'), at('carol.pli')], /le certificat de Carol Petit \(Mairie de Nancy\) a été révoqué \(départ du service\) avant l'arrivée de ce pli/);
    await refused(2, 'A', ['encrypt', '--to', ids.carol, '--out', at('to-carol.pli'), DATA], /Carol Petit .* ne peut pas être destinataire : certificat révoqué/);
  // Directory imports sign in now (one Argon2id each): room for a loaded machine.
  }, 90000);

  it('id rotate: old containers still open; the new keys need a new certificate before sending', async () => {
    const before = at('before-rotation.pli');
    await ok('A', ['encrypt', '--to', ids.bob, '--out', before, DATA]);
    expect(await ok('A', ['id', 'rotate', ids.alice])).toMatch(FPR);
    await refused(2, 'A', ['encrypt', '--to', ids.bob, '--out', at('refused.pli'), DATA], /Les nouvelles clés de Alice Martin ne sont pas encore certifiées/);
    await ok('A', ['id', 'export', ids.alice, '--out', at('alice2.card')]);
    await ok('O', ['authority', 'certify', at('alice2.card'), '--role', 'operator', '--out', at('alice2.cert')]);
    await ok('A', ['id', 'install', at('alice2.cert')]);
    const after = at('after-rotation.pli');
    await ok('A', ['encrypt', '--to', ids.bob, '--out', after, DATA]);
    expect(await recipientFingerprints(after)).toHaveLength(2);
    // The container sealed before the rotation (to Bob and to Alice's old key) opens with the old keys.
    await ok('A', ['decrypt', '--out', at('old-a'), before]);
    expect(readFileSync(at('old-a/IS101.txt'), 'utf8')).toBe('état nominatif\n');
    // Bob's workstation learns the new keys only from a directory (covered in process: unit test).
    await refused(2, 'B', ['decrypt', '--out', at('new-b1'), after], /Expéditeur inconnu/);
   }, 90000);
});
