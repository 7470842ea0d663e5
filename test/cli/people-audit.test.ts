// Habilitated people only, and the tamper-evident audit log, through the real `pli` binary
// (issue 5, docs/audit.md, docs/authority.md). Profiles:
//   S  the SSI officer's workstation (Olivier, officer; the authority);
//   W  one shared workstation, several people: Alice (operator), Rita (reader), Eve (reader,
//      certificate of one day), Victor (reader, revoked), Nina (never certified);
//   L  a profile without authority (Luc): the lockout, and the "never in the log" scan;
//   T  a small log with two signed checkpoints, copied then tampered with the sqlite3 tool.
// Needs `npm run build`. Time is simulated by preloading a module that shifts Date.now() in the
// child process (--import), so the binary under test is unchanged. Every CLI call is a new
// process: a lock that holds from one call to the next survives a restart.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { openProfile } from '../../electron/core/profile/profile.js';
import { getIdentity, unlockIdentity } from '../../electron/core/profile/identities.js';
import { cliSandbox, type Run } from './support.js';
import Database from 'better-sqlite3';
import { ed25519Keygen, ed25519Sign } from '../../electron/core/crypto/keys.js';
import { fingerprint, signedDigest } from '../../electron/core/crypto/primitives.js';

const PASS = 'une phrase de passe de test';
const WRONG = 'pas la bonne phrase de passe';
const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;
const cli = cliSandbox('pli-people-audit-', PASS);
const { root, at, ok, refused } = cli;
const DATA = at('IS101.txt');
writeFileSync(DATA, 'état nominatif\n');
const SECRET_CONTENT = 'CONTENU-CONFIDENTIEL-91c2e7-fiche-de-signalement';
const SECRET_FILE = at('signalement.txt');
writeFileSync(SECRET_FILE, SECRET_CONTENT);
const WRONG_FILE = at('wrong.txt');
writeFileSync(WRONG_FILE, `${WRONG}\n`);
const FPR = /[0-9A-Z]{4}(-[0-9A-Z]{4}){4}/;


const { pli } = cli;

interface Event { seq: number; at: string; actor: string | null; actorName: string | null; workstation: string; action: string; object: string | null; outcome: string; detail: Record<string, unknown> | null }
async function events(home: string): Promise<Event[]> {
  const run = await pli(home, ['audit', 'list', '--json']);
  expect(run.code, run.stderr).toBe(0);
  return JSON.parse(run.stdout) as Event[];
}

/** The sqlite3 command-line tool on a profile's database (no pli process is running on it). */
function sqlite(home: string, sql: string): { status: number | null; stderr: string } {
  const run = spawnSync('sqlite3', [path.join(at(home), 'profile.sqlite'), sql], { encoding: 'utf8' });
  return { status: run.status, stderr: run.stderr };
}

const sha256 = (data: Buffer | string): string => createHash('sha256').update(data).digest('hex');
const ids = { officer: '', alice: '', rita: '', nina: '', eve: '', victor: '', luc: '', tom: '' };
let pin = '';
const C1 = at('c1.pli');

beforeAll(async () => {
  const person = async (home: string, name: string, org: string): Promise<string> =>
    ok(home, ['id', 'new', '--name', name, '--email', `${name.split(' ')[0]!.toLowerCase()}@exemple.fr`, '--org', org]);
  await Promise.all([
    (async () => {
      await ok('S', ['init']);
      ids.officer = await person('S', 'Olivier Ssi', 'DIPN 54');
      pin = await ok('S', ['authority', 'init', '--name', 'SSI DIPN 54']);
      await ok('S', ['id', 'export', ids.officer, '--out', at('officer.card')]);
    })(),
    (async () => {
      await ok('W', ['init']);
      for (const [key, name, org] of [['alice', 'Alice Martin', 'Police municipale'], ['rita', 'Rita Lecteur', 'Mairie de Nancy'], ['nina', 'Nina Horsliste', 'Mairie de Nancy'],
        ['eve', 'Eve Garnier', 'Douanes'], ['victor', 'Victor Leroy', 'Mairie de Nancy']] as const) {
        ids[key] = await person('W', name, org);
      }
      // Before any authority: no policy, so a container can be addressed to everyone, Nina included.
      await ok('W', ['encrypt', '--as', ids.alice, '--to', ids.rita, '--to', ids.nina, '--to', ids.eve, '--to', ids.victor, '--out', C1, DATA]);
      // The cards `pli id export` would write (read in process: four fewer CLI calls).
      const w = openProfile(at('W'));
      try {
        for (const key of ['alice', 'rita', 'eve', 'victor'] as const) writeFileSync(at(`${key}.card`), getIdentity(w.db, ids[key])!.card);
      } finally {
        w.close();
      }
    })(),
    (async () => {
      await ok('L', ['init']);
      ids.luc = await person('L', 'Luc Durand', 'Association');
      await ok('L', ['encrypt', '--to', ids.luc, '--out', at('luc.pli'), SECRET_FILE]);
      await ok('L', ['decrypt', '--out', at('luc-out'), at('luc.pli')]);
    })(),
    (async () => {
      await ok('T', ['init']);
      ids.tom = await person('T', 'Tom Pouce', 'Mairie');
      await ok('T', ['encrypt', '--to', ids.tom, '--out', at('t1.pli'), DATA]);
      await ok('T', ['encrypt', '--to', ids.tom, '--out', at('t2.pli'), DATA]);
      await ok('T', ['id', 'export', ids.tom, '--out', at('tom.card')]);
      cpSync(at('T'), at('T0'), { recursive: true }); // pristine copy: every tampering starts from it
    })(),
  ]);
  expect(pin).toMatch(FPR);
  await Promise.all([
    (async () => {
      await ok('S', ['authority', 'certify', at('alice.card'), '--role', 'operator', '--out', at('alice.cert')]);
      await ok('S', ['authority', 'certify', at('rita.card'), '--role', 'reader', '--out', at('rita.cert')]);
      await ok('S', ['authority', 'certify', at('eve.card'), '--role', 'reader', '--days', '1', '--out', at('eve.cert')]);
      await ok('S', ['authority', 'certify', at('victor.card'), '--role', 'reader', '--out', at('victor.cert')]);
      await ok('S', ['authority', 'revoke', ids.victor, '--reason', 'mutation']);
      const provisioned = await pli('S', ['authority', 'provision', '--name', 'Paul Provisionne', '--email', 'paul@exemple.fr', '--org', 'Mairie de Nancy', '--role', 'reader', '--out', at('paul.key')]);
      expect(provisioned.code, provisioned.stderr).toBe(0);
      expect(existsSync(at('paul.key'))).toBe(true);
      await ok('S', ['directory', 'export', '--out', at('dir.json')]);
    })(),
    ok('W', ['id', 'import', at('officer.card')]),
  ]);
  // The directory carries every certificate: own identities whose keys match are certified.
  await ok('W', ['directory', 'import', at('dir.json'), '--pin', pin, '--as', ids.alice]);
}, 240000);

afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

describe('pli people: the nominative list', () => {
  it('lists the own identities as the annex reads: name, role, organisation, valid until, state', async () => {
    const json = JSON.parse((await pli('W', ['people', '--json'])).stdout) as { id: string; name: string; role: string | null; org: string; validUntil: string | null; state: string }[];
    const by = (id: string) => json.find((p) => p.id === id)!;
    expect(json).toHaveLength(5);
    expect(by(ids.alice)).toMatchObject({ name: 'Alice Martin', role: 'operator', org: 'Police municipale', state: 'valid' });
    expect(Date.parse(by(ids.alice).validUntil!) - Date.now()).toBeGreaterThan(364 * DAY);
    expect(by(ids.rita)).toMatchObject({ name: 'Rita Lecteur', role: 'reader', org: 'Mairie de Nancy', state: 'valid' });
    expect(by(ids.eve)).toMatchObject({ role: 'reader', state: 'valid' });
    expect(Date.parse(by(ids.eve).validUntil!) - Date.now()).toBeLessThan(DAY + MINUTE);
    expect(by(ids.victor)).toMatchObject({ role: 'reader', state: 'revoked' });
    expect(by(ids.nina)).toMatchObject({ name: 'Nina Horsliste', role: null, validUntil: null, state: 'none' });
    expect(json.map((p) => p.id)).not.toContain(ids.officer); // a correspondent is not on this workstation's list

    const text = (await pli('W', ['people'])).stdout;
    expect(text).toContain(`Liste nominative des personnes habilitées — autorité SSI DIPN 54 (${pin})`);
    expect(text).toMatch(/^Alice Martin ; opérateur ; Police municipale ; \d{4}-\d\d-\d\d ; habilitation valide$/m);
    expect(text).toMatch(/^Victor Leroy ; lecteur ; Mairie de Nancy ; \d{4}-\d\d-\d\d ; révoqué \(mutation\)$/m);
    expect(text).toMatch(/^Nina Horsliste ; — ; Mairie de Nancy ; — ; aucun$/m);
  });

  it('without an authority: says nobody is on the list', async () => {
    const run = await pli('L', ['people']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/Aucune autorité épinglée : sans annuaire, personne n.est inscrit sur la liste nominative/);
    const json = JSON.parse((await pli('L', ['people', '--json'])).stdout) as { state: string }[];
    expect(json.map((p) => p.state)).toEqual(['none']);
  });
});

describe('people outside the list cannot decrypt or send, and the refusal is audited', () => {
  const cases = [
    { who: 'nina', why: 'no certificate', offsetMs: 0, words: /ne figure pas sur la liste des personnes habilitées.*certificat : aucun/ },
    { who: 'victor', why: 'revoked', offsetMs: 0, words: /ne figure pas sur la liste.*révoqué \(mutation\)/ },
    { who: 'eve', why: 'expired (clock two days later)', offsetMs: 2 * DAY, words: /ne figure pas sur la liste.*expiré le/ },
  ] as const;
  for (const c of cases) {
    it(`${c.who}, ${c.why}: decrypt and encrypt exit 2`, async () => {
      const id = ids[c.who];
      await refused(2, 'W', ['decrypt', '--as', id, '--out', at(`${c.who}-out`), C1], c.words, { offsetMs: c.offsetMs });
      expect(existsSync(at(`${c.who}-out`)) && readdirSync(at(`${c.who}-out`)).length > 0).toBe(false);
      await refused(2, 'W', ['encrypt', '--as', id, '--to', ids.alice, '--out', at(`${c.who}.pli`), DATA], c.words, { offsetMs: c.offsetMs });
      expect(existsSync(at(`${c.who}.pli`))).toBe(false);
    });
  }

  it('each refusal is in the audit log: outcome refused, the reason code, the person', async () => {
    const log = await events('W');
    for (const c of cases) {
      const mine = log.filter((e) => e.actor === ids[c.who] && e.outcome === 'refused');
      expect(mine.find((e) => e.action === 'container.refused')?.detail, c.who).toMatchObject({ reason: 'not-habilitated', input: C1 });
      expect(mine.find((e) => e.action === 'container.sealed')?.detail, c.who).toMatchObject({ reason: 'not-habilitated' });
    }
    expect(log.filter((e) => e.outcome === 'refused' && e.action === 'container.refused').every((e) => e.workstation === hostname())).toBe(true);
  });

  it('an officer whose certificate has expired cannot certify: exit 2, audited', async () => {
    await refused(2, 'S', ['authority', 'certify', at('rita.card'), '--role', 'reader', '--out', at('late.cert')], /officier SSI/, { offsetMs: 4 * 365 * DAY });
    expect(existsSync(at('late.cert'))).toBe(false);
    const last = (await events('S')).filter((e) => e.action === 'identity.certified').pop()!;
    expect(last).toMatchObject({ outcome: 'refused', detail: { reason: 'role' } });
  });
});

describe('roles', () => {
  it('reader: opens, but cannot send (the message names « opérateur »)', async () => {
    const run = await pli('W', ['decrypt', '--as', ids.rita, '--out', at('rita-out'), C1]);
    expect(run.code, run.stderr).toBe(0);
    expect(readFileSync(run.stdout.trim(), 'utf8')).toBe('état nominatif\n');
    await refused(2, 'W', ['encrypt', '--as', ids.rita, '--to', ids.alice, '--out', at('rita.pli'), DATA], /demande le rôle « opérateur » ; Rita Lecteur a le rôle « lecteur »/);
    const last = (await events('W')).filter((e) => e.action === 'container.sealed' && e.actor === ids.rita).pop()!;
    expect(last).toMatchObject({ outcome: 'refused', detail: { reason: 'role' } });
  });

  it('operator: sends and opens', async () => {
    await ok('W', ['encrypt', '--as', ids.alice, '--to', ids.rita, '--out', at('a2.pli'), DATA]);
    await ok('W', ['decrypt', '--as', ids.alice, '--out', at('alice-out'), C1]);
  });

  it('operator: the authority commands are refused for security (exit 2), naming the officer role, and audited', async () => {
    // Today: exit 1 ("Ce profil n'est pas une autorité"), an input error, and nothing in the log.
    await refused(2, 'W', ['authority', 'certify', at('rita.card'), '--role', 'operator', '--out', at('w.cert')], /officier SSI/);
    await refused(2, 'W', ['authority', 'provision', '--name', 'X Y', '--email', 'x@y.fr', '--org', 'O', '--role', 'reader', '--out', at('w.key')], /officier SSI/);
    await refused(2, 'W', ['authority', 'revoke', ids.rita, '--reason', 'essai'], /officier SSI/);
    await refused(2, 'W', ['directory', 'export', '--out', at('w.dir')], /officier SSI/);
    expect((await events('W')).filter((e) => e.action.startsWith('identity.certified') && e.outcome === 'refused')).not.toHaveLength(0);
  });

  it('operator: the authority commands are refused (not exit 0) and nothing is written', async () => {
    for (const args of [
      ['authority', 'certify', at('rita.card'), '--role', 'operator', '--out', at('w.cert')],
      ['authority', 'provision', '--name', 'X Y', '--email', 'x@y.fr', '--org', 'O', '--role', 'reader', '--out', at('w.key')],
      ['directory', 'export', '--out', at('w.dir')],
    ]) {
      const run = await pli('W', args);
      expect(run.code, args.join(' ')).not.toBe(0);
      expect(run.stderr).toMatch(/officier SSI/);
    }
    for (const f of ['w.cert', 'w.key', 'w.dir']) expect(existsSync(at(f))).toBe(false);
  });
});

describe('lockout (each CLI call is a new process)', () => {
  const encryptArgs = (n: number): string[] => ['encrypt', '--to', ids.luc, '--out', at(`lock${n}.pli`), DATA];

  it('4 wrong passphrases: exit 2 each, with the attempts left', async () => {
    for (let i = 1; i <= 4; i++) {
      await refused(2, 'L', [...encryptArgs(i), '--passphrase-file', WRONG_FILE], new RegExp(`Phrase de passe incorrecte pour Luc Durand.*Encore ${5 - i} ${5 - i > 1 ? 'essais' : 'essai'} avant un blocage de 15 minutes\\.`));
    }
  });

  it('the 5th locks the person out: exit 3, minutes left', async () => {
    await refused(3, 'L', [...encryptArgs(5), '--passphrase-file', WRONG_FILE], /Connexion de Luc Durand bloquée.*réessayez dans 15 minutes\./);
  });

  it('the right passphrase while locked: still exit 3, in a new process', async () => {
    await refused(3, 'L', encryptArgs(6), /Connexion de Luc Durand bloquée.*réessayez dans 1[45] minutes\./);
    await refused(3, 'L', encryptArgs(7), /réessayez dans 5 minutes\./, { offsetMs: 10 * MINUTE });
    expect(existsSync(at('lock6.pli')) || existsSync(at('lock7.pli'))).toBe(false);
  });

  it('id rotate while locked out is refused too (it unlocks the keys with the passphrase)', async () => {
    // Today `pli id rotate` calls rotateIdentity() directly, not signIn(): no lockout, no
    // login.* event, and unlimited passphrase guesses while the person is locked out.
    await refused(3, 'L', ['id', 'rotate', ids.luc], /Connexion de Luc Durand bloquée/);
  });

  it('released after the delay (clock 16 minutes later): the right passphrase works', async () => {
    await ok('L', encryptArgs(8), { offsetMs: 16 * MINUTE });
  });

  it('events: login.failed x5 with the count, login.locked-out, login.refused, login.succeeded', async () => {
    const log = (await events('L')).filter((e) => e.actor === ids.luc && e.action.startsWith('login.'));
    const failed = log.filter((e) => e.action === 'login.failed');
    expect(failed.slice(0, 5).map((e) => e.detail?.failures)).toEqual([1, 2, 3, 4, 5]);
    expect(failed.every((e) => e.outcome === 'refused')).toBe(true);
    const i = log.findIndex((e) => e.action === 'login.locked-out');
    expect(i).toBeGreaterThan(0);
    expect(log[i - 1]).toMatchObject({ action: 'login.failed', detail: { failures: 5 } });
    expect(log.filter((e) => e.action === 'login.refused').length).toBeGreaterThanOrEqual(2);
    expect(log.find((e) => e.action === 'login.refused')).toMatchObject({ outcome: 'refused', detail: { reason: 'locked-out' } });
    expect(log.at(-1)).toMatchObject({ action: 'login.succeeded', outcome: 'ok' });
  });
});

describe('never in the log', () => {
  it('no passphrase, file content or private key in the raw database nor in audit list --json', async () => {
    const listed = (await pli('L', ['audit', 'list', '--json'])).stdout;
    expect(listed).toContain('file.written');
    const profile = openProfile(at('L'));
    let secrets: Buffer[];
    try {
      const unlocked = await unlockIdentity(profile.db, ids.luc, PASS);
      secrets = unlocked.keySets.flatMap((k) => [Buffer.from(k.sigSecret), Buffer.from(k.encSecret)]);
      unlocked.wipe();
    } finally {
      profile.close();
    }
    const raw = Buffer.concat(readdirSync(at('L')).map((f) => readFileSync(path.join(at('L'), f))));
    const needles: [string, Buffer][] = [['passphrase', Buffer.from(PASS)], ['wrong passphrase', Buffer.from(WRONG)], ['file content', Buffer.from(SECRET_CONTENT)]];
    for (const [i, s] of secrets.entries()) {
      needles.push([`key ${i} raw`, s], [`key ${i} hex`, Buffer.from(s.toString('hex'))], [`key ${i} HEX`, Buffer.from(s.toString('hex').toUpperCase())],
        [`key ${i} base64`, Buffer.from(s.toString('base64'))], [`key ${i} base64url`, Buffer.from(s.toString('base64url'))]);
    }
    for (const [what, needle] of needles) {
      expect(raw.includes(needle), `${what} in profile.sqlite`).toBe(false);
      expect(listed.includes(needle.toString('utf8')), `${what} in audit list`).toBe(false);
    }
  });
});

describe('audit verify: tampering with the sqlite3 tool', () => {
  // T0: 1 profile.created, 2 identity.created, 3 login.succeeded, 4 container.sealed [checkpoint],
  //     5 login.succeeded, 6 container.sealed [checkpoint], 7 identity.exported.
  let copies = 0;
  async function verifyAfter(sql: string | null, options: { keepTriggers?: boolean } = {}): Promise<Run> {
    const name = `T${++copies}x`;
    cpSync(at('T0'), at(name), { recursive: true });
    if (sql !== null) {
      const run = sqlite(name, options.keepTriggers ? sql : `DROP TRIGGER events_no_update; DROP TRIGGER events_no_delete; ${sql}`);
      expect(run.status, run.stderr).toBe(0);
    }
    return pli(name, ['audit', 'verify']);
  }
  async function expectFirstBad(sql: string, entry: number, options: { keepTriggers?: boolean } = {}): Promise<void> {
    const run = await verifyAfter(sql, options);
    expect(run.code, `${sql}\n${run.stdout}${run.stderr}`).toBe(2);
    expect(run.stderr).toContain(`Première entrée en cause : n° ${entry}.`);
  }

  it('the log is as expected, and intact: exit 0', async () => {
    const log = await events('T0');
    expect(log.map((e) => e.action)).toEqual(['profile.created', 'identity.created', 'login.succeeded', 'container.sealed', 'login.succeeded', 'container.sealed', 'identity.exported']);
    const run = await verifyAfter(null);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/Journal d'audit intact : 7 entrées, 2 points de contrôle signés, le dernier sur l'entrée n° 6/);
  });

  it('the triggers refuse UPDATE and DELETE on events and checkpoints (sqlite3 exits non-zero)', async () => {
    for (const sql of ['UPDATE events SET at = 0 WHERE seq = 2', 'DELETE FROM events WHERE seq = 7', 'UPDATE audit_checkpoints SET seq = 1', 'DELETE FROM audit_checkpoints']) {
      const run = sqlite('T0', sql);
      expect(run.status, sql).not.toBe(0);
      expect(run.stderr, sql).toMatch(/append-only/);
    }
    expect((await verifyAfter(null)).code).toBe(0);
  });

  it('the triggers also refuse INSERT OR REPLACE over an existing entry or checkpoint', async () => {
    // Today REPLACE deletes the old row without firing the DELETE trigger (SQLite fires delete
    // triggers on REPLACE only with recursive_triggers on): an entry or a checkpoint can be
    // rewritten without dropping any trigger. A BEFORE INSERT trigger refusing an existing seq /
    // id would close it. (verify still detects the rewrite: next test.)
    cpSync(at('T0'), at('Treplace'), { recursive: true });
    for (const sql of ['INSERT OR REPLACE INTO events SELECT seq, at, canonical, hash FROM events WHERE seq = 2', 'REPLACE INTO audit_checkpoints SELECT * FROM audit_checkpoints WHERE id = 1']) {
      const run = sqlite('Treplace', sql);
      expect(run.status, sql).not.toBe(0);
      expect(run.stderr, sql).toMatch(/append-only/);
    }
  });

  it('(1) an edited entry', async () => {
    await expectFirstBad("UPDATE events SET canonical = CAST(replace(CAST(canonical AS TEXT), 'identity.created', 'identity.rotated') AS BLOB) WHERE seq = 2", 2);
  });

  it('(2) a deleted entry', async () => {
    await expectFirstBad('DELETE FROM events WHERE seq = 3', 3);
  });

  it('(3) an inserted entry: at the end with a wrong hash, or a copy in the middle (renumbered)', async () => {
    await expectFirstBad("INSERT INTO events (seq, at, canonical, hash) SELECT 8, at, CAST(replace(CAST(canonical AS TEXT), '[1,7,', '[1,8,') AS BLOB), randomblob(32) FROM events WHERE seq = 7", 8);
    await expectFirstBad(`UPDATE events SET seq = seq + 1000 WHERE seq >= 3; UPDATE events SET seq = seq - 999 WHERE seq >= 1000;
      INSERT INTO events (seq, at, canonical, hash) SELECT 3, at, canonical, hash FROM events WHERE seq = 2`, 3);
  });

  it('(4) two entries reordered (canonical bytes and hashes swapped)', async () => {
    await expectFirstBad(`CREATE TEMP TABLE s AS SELECT seq, canonical, hash FROM events WHERE seq IN (3, 5);
      UPDATE events SET canonical = (SELECT canonical FROM s WHERE seq = 5), hash = (SELECT hash FROM s WHERE seq = 5) WHERE seq = 3;
      UPDATE events SET canonical = (SELECT canonical FROM s WHERE seq = 3), hash = (SELECT hash FROM s WHERE seq = 3) WHERE seq = 5`, 3);
  });

  it('(5) the tail truncated before the last signed checkpoint', async () => {
    await expectFirstBad('DELETE FROM events WHERE seq > 4', 5);
    await expectFirstBad('DELETE FROM events WHERE seq > 2', 3);
  });

  it('(6) the at column edited alone', async () => {
    await expectFirstBad('UPDATE events SET at = at + 60000 WHERE seq = 5', 5);
  });

  it('the failed verification is itself audited', async () => {
    const name = `T${copies}x`; // the last tampered copy: entry 5 edited
    const last = (await events(name)).pop()!;
    expect(last).toMatchObject({ action: 'audit.verified', outcome: 'failed', detail: { firstBad: 5 } });
  });
});

describe('issue 10: the audit log cannot be rewritten unseen (attacker with better-sqlite3)', () => {
  // From the pristine T0 (no authority): 7 entries, checkpoints over 4 and 6.
  let n = 0;
  const fresh = (): string => {
    const name = `T10-${++n}`;
    cpSync(at('T0'), at(name), { recursive: true });
    return name;
  };
  const raw = (name: string): Database.Database => {
    const db = new Database(path.join(at(name), 'profile.sqlite'));
    db.exec(`DROP TRIGGER IF EXISTS events_no_update; DROP TRIGGER IF EXISTS events_no_delete;
      DROP TRIGGER IF EXISTS checkpoints_no_update; DROP TRIGGER IF EXISTS checkpoints_no_delete;`);
    return db;
  };
  /** Drops the entries `drop` picks, renumbers and recomputes every hash; returns the new head. */
  const rewrite = (db: Database.Database, drop: (e: unknown[]) => boolean, edit: (e: unknown[]) => unknown[] = (e) => e): { seq: number; hash: Buffer } => {
    const rows = db.prepare('SELECT canonical FROM events ORDER BY seq').pluck().all() as Buffer[];
    db.exec('DELETE FROM events');
    let previous: Buffer = Buffer.alloc(32);
    let seq = 0;
    for (const row of rows) {
      const e = JSON.parse(row.toString('utf8')) as unknown[];
      if (drop(e)) continue;
      const f = edit([...e]);
      f[1] = ++seq;
      const canonical = Buffer.from(JSON.stringify(f), 'utf8');
      previous = createHash('sha256').update(previous).update(canonical).digest();
      db.prepare('INSERT INTO events (seq, at, canonical, hash) VALUES (?, ?, ?, ?)').run(seq, f[2], canonical, previous);
    }
    return { seq, hash: previous };
  };
  const checkpoints = (name: string): number => {
    const db = new Database(path.join(at(name), 'profile.sqlite'), { readonly: true });
    try {
      return db.prepare('SELECT COUNT(*) FROM audit_checkpoints').pluck().get() as number;
    } finally {
      db.close();
    }
  };

  it('(a) planted retired key, container.sealed entries deleted, chain recomputed, checkpoint re-signed: verify exits 2', async () => {
    const name = fresh();
    const db = raw(name);
    const pair = await ed25519Keygen();
    const fpr = fingerprint('ed25519', pair.publicKey);
    db.prepare("INSERT INTO keys (fpr, identity_id, kind, public_key, key_set, created_at, retired_at) VALUES (?, ?, 'ed25519', ?, 9, 1, 2)").run(fpr, ids.tom, Buffer.from(pair.publicKey));
    const head = rewrite(db, (e) => e[5] === 'container.sealed');
    db.exec('DELETE FROM audit_checkpoints');
    const numbers = Buffer.alloc(16);
    numbers.writeBigUInt64BE(BigInt(head.seq), 0);
    const now = Date.now();
    numbers.writeBigUInt64BE(BigInt(now), 8);
    const signature = await ed25519Sign(pair.secretKey, signedDigest('auditCheckpoint', numbers.subarray(0, 8), head.hash, numbers.subarray(8), Buffer.from(ids.tom, 'ascii')));
    db.prepare('INSERT INTO audit_checkpoints (seq, head_hash, at, signer_id, sig_fpr, signature) VALUES (?, ?, ?, ?, ?, ?)').run(head.seq, head.hash, now, ids.tom, fpr, Buffer.from(signature));
    db.close();
    await refused(2, name, ['audit', 'verify'], /Journal d'audit altéré : .*point de contrôle.*Première entrée en cause : n° \d+\./);
  });

  it('(b) anchor: written once (never over an existing file), checked by verify --anchor; a tail cut with its checkpoints exits 2 naming the first missing entry', async () => {
    const name = fresh();
    const anchor = at(`${name}.ancre`);
    const made = await pli(name, ['audit', 'anchor', '--out', anchor]);
    expect(made.code, made.stderr).toBe(0);
    expect(made.stdout.trim()).toBe(anchor);
    const text = readFileSync(anchor, 'utf8');
    expect(JSON.parse(text)).toMatchObject({ pli: 'audit-anchor', v: 1, signer: ids.tom });
    const seq = (JSON.parse(text) as { seq: number }).seq;
    expect(seq).toBeGreaterThan(7);
    await refused(1, name, ['audit', 'anchor', '--out', anchor], /existe déjà/);
    expect(readFileSync(anchor, 'utf8')).toBe(text);
    // A dangling link planted at the anchor's name: refused, nothing created at its target.
    const planted = at(`${name}-link.ancre`);
    symlinkSync(at(`${name}-planted-target.ancre`), planted);
    await refused(1, name, ['audit', 'anchor', '--out', planted], /existe déjà/);
    expect(existsSync(at(`${name}-planted-target.ancre`))).toBe(false);
    const okRun = await pli(name, ['audit', 'verify', '--anchor', anchor]);
    expect(okRun.code, okRun.stderr).toBe(0);
    expect(okRun.stdout).toMatch(new RegExp(`Ancre retrouvée dans le journal : entrée n° ${seq} \\(Tom Pouce`));

    const cut = fresh();
    cpSync(at(name), at(cut), { recursive: true });
    const db = raw(cut);
    db.exec('DELETE FROM events WHERE seq > 5; DELETE FROM audit_checkpoints WHERE seq > 5');
    db.close();
    await refused(2, cut, ['audit', 'verify', '--anchor', anchor], /entrée n° 6 manquante.*Première entrée en cause : n° 6\./);
    // Documented: without an anchor, a tail cut with its checkpoints is invisible.
    expect((await pli(cut, ['audit', 'verify'])).code).toBe(0);
    await refused(1, cut, ['audit', 'verify', '--anchor', at('absent.ancre')], /introuvable/);
  });

  it('(b) without an anchor, a deleted middle checkpoint breaks the checkpoint chain', async () => {
    const name = fresh();
    await ok(name, ['audit', 'anchor', '--out', at(`${name}.ancre`)]); // a third checkpoint
    expect(checkpoints(name)).toBe(3);
    const db = raw(name);
    db.exec('DELETE FROM audit_checkpoints WHERE id = 2');
    db.close();
    await refused(2, name, ['audit', 'verify'], /chaîne des points de contrôle/);
  });

  it('(c) a tail rewritten after the last checkpoint, then an honest sign-in: no checkpoint, the break is reported (exit 2)', async () => {
    const name = fresh();
    // Entry 7 rewritten in place (a chain recomputed after the last checkpoint could not be told
    // from an honest one: docs/audit.md section 7).
    const db = raw(name);
    db.exec("UPDATE events SET canonical = CAST(replace(CAST(canonical AS TEXT), 'identity.exported', 'identity.created') AS BLOB) WHERE seq = 7");
    db.close();
    const before = checkpoints(name);
    await refused(2, name, ['encrypt', '--to', ids.tom, '--out', at(`${name}.pli`), DATA], /Journal d'audit altéré.*n° 7/);
    expect(checkpoints(name)).toBe(before);
    // No anchor is signed over the break either, and no file is left behind.
    const anchorRun = await refused(2, name, ['audit', 'anchor', '--out', at(`${name}.ancre`)], /Journal d'audit altéré.*n° 7/);
    expect(anchorRun.stderr.match(/Journal d'audit altéré/g)).toHaveLength(1); // reported once
    expect(existsSync(at(`${name}.ancre`))).toBe(false);
    expect(checkpoints(name)).toBe(before);
    await refused(2, name, ['audit', 'verify'], /Première entrée en cause : n° 7\./);
  });

  it('(d) an anchor with a forged signature, or from another profile, exits 2', async () => {
    const name = fresh();
    const anchor = at(`${name}.ancre`);
    await ok(name, ['audit', 'anchor', '--out', anchor]);
    const parsed = JSON.parse(readFileSync(anchor, 'utf8')) as { signature: string };
    const signature = Buffer.from(parsed.signature, 'base64');
    signature[7] = signature[7]! ^ 0x04;
    writeFileSync(at(`${name}-forged.ancre`), JSON.stringify({ ...parsed, signature: signature.toString('base64') }));
    await refused(2, name, ['audit', 'verify', '--anchor', anchor, '--anchor', at(`${name}-forged.ancre`)], /ancre/i);
    const other = fresh();
    const lucAnchor = at(`${other}-luc.ancre`);
    await ok('L', ['audit', 'anchor', '--out', lucAnchor], { offsetMs: 20 * MINUTE });
    await refused(2, name, ['audit', 'verify', '--anchor', lucAnchor], /ancre/i);
  });

  it('verify-export without an authority says the export is not certified', async () => {
    await ok('T', ['audit', 'export', '--out', at('journal-t10.csv')]);
    const run = await pli('T', ['audit', 'verify-export', at('journal-t10.csv')]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/non certifié/);
  });
});

describe('audit export', () => {
  const csv = at('journal-w.csv');
  let exported: Run;
  beforeAll(async () => {
    exported = await pli('W', ['audit', 'export', '--as', ids.alice, '--out', csv]);
  });

  it('writes FILE.csv (UTF-8 with BOM, French headers, one line per event) and FILE.csv.sig', async () => {
    expect(exported.code, exported.stderr).toBe(0);
    expect(exported.stdout.trim().split('\n')).toEqual([csv, `${csv}.sig`]);
    const bytes = readFileSync(csv);
    expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const lines = bytes.toString('utf8').slice(1).split('\r\n').filter((l) => l !== '');
    expect(lines[0]!.startsWith('"n°";"date (UTC)"')).toBe(true);
    const log = await events('W');
    expect(lines).toHaveLength(log.length + 1);
    expect(lines.at(-1)).toMatch(/^"\d+";".*";"audit\.exported";/);
    expect(JSON.parse(readFileSync(`${csv}.sig`, 'utf8'))).toMatchObject({ pli: 'audit-export', v: 1, signer: ids.alice, sha256: sha256(bytes) });
  });

  it('never replaces a file: an existing FILE.csv or FILE.csv.sig (or a link planted there) is refused, unchanged', async () => {
    const again = at('journal-w-again.csv');
    writeFileSync(`${again}.sig`, 'déjà là');
    await refused(1, 'W', ['audit', 'export', '--as', ids.alice, '--out', again], /existe déjà/);
    expect(existsSync(again)).toBe(false);
    expect(readFileSync(`${again}.sig`, 'utf8')).toBe('déjà là');
    const before = readFileSync(csv);
    await refused(1, 'W', ['audit', 'export', '--as', ids.alice, '--out', csv], /existe déjà/);
    expect(readFileSync(csv).equals(before)).toBe(true);
    const planted = at('journal-w-link.csv');
    symlinkSync(at('planted-target.csv'), planted);
    await refused(1, 'W', ['audit', 'export', '--as', ids.alice, '--out', planted], /existe déjà/);
    expect(existsSync(at('planted-target.csv'))).toBe(false);
  });

  it('verify-export: exit 0; one byte of the CSV or of the signature changed: exit 2', async () => {
    expect((await pli('W', ['audit', 'verify-export', csv])).code).toBe(0);
    const bytes = readFileSync(csv);
    const edited = Buffer.from(bytes);
    const middle = Math.floor(edited.length / 2);
    edited[middle] = edited[middle]! ^ 0x01;
    writeFileSync(at('edited.csv'), edited);
    cpSync(`${csv}.sig`, at('edited.csv.sig'));
    await refused(2, 'W', ['audit', 'verify-export', at('edited.csv')], /modifié après sa signature/);
    const sig = JSON.parse(readFileSync(`${csv}.sig`, 'utf8')) as { signature: string };
    const signature = Buffer.from(sig.signature, 'base64');
    signature[5] = signature[5]! ^ 0x80;
    writeFileSync(at('resigned.csv'), bytes);
    writeFileSync(at('resigned.csv.sig'), JSON.stringify({ ...sig, signature: signature.toString('base64') }));
    await refused(2, 'W', ['audit', 'verify-export', at('resigned.csv')], /signature de l'export du journal est invalide/);
  });

  it("on the SSI officer's workstation, an export signed by a certified person verifies as certified", async () => {
    const run = await pli('S', ['audit', 'verify-export', csv]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/Export intact, signé par Alice Martin .*certifié par l'autorité de ce poste/);
    // Tom's workstation has no authority: a self-signed export is refused on the officer's.
    await ok('T', ['audit', 'export', '--out', at('journal-t.csv')]);
    await refused(2, 'S', ['audit', 'verify-export', at('journal-t.csv')], /sans certificat de l'autorité/);
    expect((await pli('T', ['audit', 'verify-export', at('journal-t.csv')])).stdout).toMatch(/carte auto-signée/);
  });
});

describe('every command writes its audit events', () => {
  it('profile.created, identity.created, identity.imported, container.sealed, container.opened, file.written, directory.imported', async () => {
    const log = await events('W');
    const find = (action: string, pred: (e: Event) => boolean = () => true): Event => {
      const found = log.find((e) => e.action === action && e.outcome === 'ok' && pred(e));
      expect(found, action).toBeDefined();
      expect(found!.workstation).toBe(hostname());
      return found!;
    };
    expect(find('profile.created')).toMatchObject({ actor: null, object: at('W') });
    expect(find('identity.created', (e) => e.object === ids.rita)).toMatchObject({ actor: ids.rita, detail: { name: 'Rita Lecteur', org: 'Mairie de Nancy' } });
    expect(find('identity.imported')).toMatchObject({ object: ids.officer, detail: { name: 'Olivier Ssi' } });
    const sealed = find('container.sealed', (e) => e.actor === ids.alice);
    expect(sealed.object).toMatch(/^[0-9a-f]{32}$/);
    expect(sealed.detail).toMatchObject({ files: 1 });
    expect(find('directory.imported')).toMatchObject({ object: '1', detail: { authority: 'SSI DIPN 54', fingerprint: pin, pinned: true } });
    const opened = find('container.opened', (e) => e.actor === ids.rita);
    expect(opened).toMatchObject({ object: sealed.object, detail: { sender: ids.alice, files: 1 } });
    const written = log.filter((e) => e.action === 'file.written' && e.actor === ids.rita);
    expect(written).toHaveLength(1);
    const file = written[0]!.detail as { path: string; size: number };
    expect(written[0]!.object).toBe(sealed.object);
    expect(path.dirname(file.path)).toBe(at('rita-out'));
    // Name and size only: a digest of the plaintext would confirm guesses of its content.
    expect(Object.keys(file).sort()).toEqual(['path', 'size']);
    expect(file.size).toBe(readFileSync(file.path).length);
    expect(JSON.stringify(log)).not.toContain(sha256('état nominatif\n'));
  });

  it('identity.certified on the officer workstation, with the certified person as object', async () => {
    const log = await events('S');
    const certified = log.filter((e) => e.action === 'identity.certified' && e.outcome === 'ok');
    expect(certified.map((e) => e.object)).toEqual([ids.alice, ids.rita, ids.eve, ids.victor]);
    expect(certified[0]!.detail).toMatchObject({ name: 'Alice Martin', role: 'operator' });
    expect(log.find((e) => e.action === 'identity.revoked')).toMatchObject({ object: ids.victor, outcome: 'ok', detail: { reason: 'mutation' } });
    expect(log.find((e) => e.action === 'identity.provisioned')).toMatchObject({ outcome: 'ok', detail: { name: 'Paul Provisionne', role: 'reader' } });
    expect(log.find((e) => e.action === 'directory.exported')).toMatchObject({ object: '1', outcome: 'ok' });
  });

  it('authority events name the officer who acted (actor), not "none"', async () => {
    // Today identity.certified, identity.revoked, directory.exported, authority.created are
    // written with actor null although the officer unlocked their key for them.
    const log = await events('S');
    for (const action of ['authority.created', 'identity.certified', 'identity.revoked', 'directory.exported']) {
      expect(log.find((e) => e.action === action && e.outcome === 'ok')?.actor, action).toBe(ids.officer);
    }
  });
});
