// The tamper-evident audit log in process (issue 5, docs/audit.md): the chain and checkpoint
// formats recomputed independently from the documentation, the append-only triggers, verify
// naming the first bad entry for each kind of tampering (done here with SQL on a copy of the
// database, triggers dropped; the CLI file does the same with the sqlite3 tool), the signed CSV
// export, the nominative list, role enforcement in the core, and what must never be logged.
// Personal identities use light Argon2id parameters (stored with each identity).
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { closeProfiles } from './helpers.js';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import { initProfile, openProfile, type Profile } from '../../electron/core/profile/profile.js';
import { createIdentity, getIdentity, rotateIdentity, unlockIdentity, type IdentityRow } from '../../electron/core/profile/identities.js';
import { appendEvent, canonicalEvent, GENESIS, listEvents } from '../../electron/core/profile/events.js';
import { CSV_HEADER, exportAudit, people, signerOf, verifyAudit, verifyAuditExport, writeCheckpoint } from '../../electron/core/services/audit.js';
import { signIn } from '../../electron/core/services/session.js';
import { requireRole } from '../../electron/core/services/policy.js';
import { decrypt, encrypt } from '../../electron/core/services/containers.js';
import { certifyCard, initAuthority, revokePerson } from '../../electron/core/authority/authority.js';
import { certificateState } from '../../electron/core/authority/certificates.js';
import { ed25519Sign, ed25519Verify } from '../../electron/core/crypto/keys.js';
import type { Context } from '../../electron/core/context.js';
import { PliError } from '../../electron/core/errors.js';

const PASS = 'une phrase de passe de test';
const LIGHT = { opslimit: 1, memlimitKib: 8 };
const root = mkdtempSync(path.join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'pli-audit-unit-'));
const opened: Profile[] = [];
let counter = 0;


function track(profile: Profile): Profile {
  opened.push(profile);
  return profile;
}
const sha256 = (...parts: Buffer[]): Buffer => parts.reduce((h, p) => h.update(p), createHash('sha256')).digest();
const u64 = (n: number): Buffer => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(n));
  return b;
};
const contextFor = (profile: Profile, passphrase = PASS): Context => ({ profile, unlocker: { unlock: (row) => signIn(profile, row, passphrase) } });

async function person(profile: Profile, name: string, org = 'Mairie de Nancy'): Promise<IdentityRow> {
  const made = await createIdentity(profile.db, { name, email: `${name.split(' ')[0]!.toLowerCase()}@exemple.fr`, org }, PASS, LIGHT);
  appendEvent(profile.db, profile.workstation, { actor: made.id, action: 'identity.created', object: made.id });
  return getIdentity(profile.db, made.id)!;
}

afterAll(() => closeProfiles(opened, root));
afterEach(() => {
  vi.useRealTimers();
});

describe('chain format (docs/audit.md section 2)', () => {
  it('canonical bytes and hashes are exactly the documented ones, seq 1, 2, 3... from 32 zero bytes', () => {
    const { profile } = initProfile(path.join(root, `c${++counter}`));
    track(profile);
    const at = Date.UTC(2030, 0, 2, 3, 4, 5);
    appendEvent(profile.db, 'poste-1', { action: 'profile.created', object: '/srv/pli' }, at);
    appendEvent(profile.db, 'poste-1', { actor: 'k7m3q9x2hv4tp8wz', action: 'container.refused', object: null, outcome: 'refused', detail: { reason: 'not-habilitated' } }, at + 1);
    const rows = profile.db.prepare('SELECT seq, at, canonical, hash FROM events ORDER BY seq').all() as { seq: number; at: number; canonical: Buffer; hash: Buffer }[];
    expect(GENESIS).toEqual(Buffer.alloc(32));
    const expected = [
      `[1,1,${at},null,"poste-1","profile.created","/srv/pli","ok",null]`,
      `[1,2,${at + 1},"k7m3q9x2hv4tp8wz","poste-1","container.refused",null,"refused","{\\"reason\\":\\"not-habilitated\\"}"]`,
    ];
    expect(rows.map((r) => r.canonical.toString('utf8'))).toEqual(expected);
    expect(rows.map((r) => r.seq)).toEqual([1, 2]);
    expect(rows.map((r) => r.at)).toEqual([at, at + 1]);
    const h1 = sha256(Buffer.alloc(32), Buffer.from(expected[0]!, 'utf8'));
    const h2 = sha256(h1, Buffer.from(expected[1]!, 'utf8'));
    expect(rows[0]!.hash).toEqual(h1);
    expect(rows[1]!.hash).toEqual(h2);
    const listed = listEvents(profile.db);
    expect(listed[1]).toMatchObject({ seq: 2, actor: 'k7m3q9x2hv4tp8wz', workstation: 'poste-1', action: 'container.refused', outcome: 'refused', detail: '{"reason":"not-habilitated"}' });
    expect(canonicalEvent(listed[1]!)).toEqual(rows[1]!.canonical);
  });
});

describe('append-only in practice (docs/audit.md section 4)', () => {
  it('triggers refuse UPDATE and DELETE on events and audit_checkpoints', async () => {
    const { profile } = initProfile(path.join(root, `c${++counter}`));
    track(profile);
    const alice = await person(profile, 'Alice Martin');
    const unlocked = await unlockIdentity(profile.db, alice.id, PASS);
    expect(await writeCheckpoint(profile, signerOf(unlocked))).toBe(true);
    unlocked.wipe();
    const db = profile.db;
    for (const sql of ['UPDATE events SET at = 0 WHERE seq = 1', "UPDATE events SET canonical = x'00'", 'DELETE FROM events WHERE seq = 1', 'DELETE FROM events']) {
      expect(() => db.exec(sql), sql).toThrow(/append-only/);
    }
    for (const sql of ['UPDATE audit_checkpoints SET seq = 1', 'DELETE FROM audit_checkpoints']) {
      expect(() => db.exec(sql), sql).toThrow(/append-only/);
    }
    expect((await verifyAudit(db)).ok).toBe(true);
  });
});

describe('append-only: REPLACE', () => {
  it('INSERT OR REPLACE cannot overwrite an event or a checkpoint (migrations.ts: no BEFORE INSERT trigger)', async () => {
    // REPLACE removes the conflicting row without firing DELETE triggers (recursive_triggers off).
    const { profile } = initProfile(path.join(root, `c${++counter}`));
    track(profile);
    const alice = await person(profile, 'Alice Martin');
    const unlocked = await unlockIdentity(profile.db, alice.id, PASS);
    await writeCheckpoint(profile, signerOf(unlocked));
    unlocked.wipe();
    expect(() => profile.db.exec("INSERT OR REPLACE INTO events SELECT seq, at + 1, canonical, hash FROM events WHERE seq = 1")).toThrow(/append-only/);
    expect(() => profile.db.exec('REPLACE INTO audit_checkpoints SELECT * FROM audit_checkpoints WHERE id = 1')).toThrow(/append-only/);
  });
});

describe('signed checkpoints (docs/audit.md section 3)', () => {
  it('sign the documented digest; none when nothing was appended since the last one', async () => {
    const { profile } = initProfile(path.join(root, `c${++counter}`));
    track(profile);
    const alice = await person(profile, 'Alice Martin');
    const unlocked = await unlockIdentity(profile.db, alice.id, PASS);
    const signer = signerOf(unlocked);
    const now = Date.UTC(2030, 1, 1);
    expect(await writeCheckpoint(profile, signer, now)).toBe(true);
    expect(await writeCheckpoint(profile, signer, now + 1)).toBe(false);
    appendEvent(profile.db, profile.workstation, { action: 'x.y' });
    expect(await writeCheckpoint(profile, signer, now + 2)).toBe(true);
    unlocked.wipe();
    const cps = profile.db.prepare('SELECT * FROM audit_checkpoints ORDER BY id').all() as { seq: number; head_hash: Buffer; at: number; signer_id: string; sig_fpr: Buffer; signature: Buffer; v: number; counter: number; prev_hash: Buffer; signer_doc: string }[];
    expect(cps.map((c) => [c.v, c.counter, c.seq])).toEqual([[2, 1, 1], [2, 2, 2]]);
    const head = profile.db.prepare('SELECT hash FROM events WHERE seq = 1').pluck().get() as Buffer;
    const key = profile.db.prepare("SELECT public_key FROM keys WHERE identity_id = ? AND kind = 'ed25519'").pluck().get(alice.id) as Buffer;
    let previous: Buffer = Buffer.alloc(32);
    for (const [i, cp] of cps.entries()) {
      expect(cp.head_hash).toEqual(profile.db.prepare('SELECT hash FROM events WHERE seq = ?').pluck().get(cp.seq));
      expect(cp.prev_hash).toEqual(previous);
      expect(cp.signer_doc).toBe(alice.card); // no authority: the person's self-signed card
      const digest = sha256(Buffer.from('pli/v1/sig/audit-checkpoint/v2\0', 'ascii'), u64(i + 1), previous, u64(cp.seq), cp.head_hash, u64(cp.at), sha256(Buffer.from(cp.signer_doc, 'utf8')), Buffer.from(alice.id, 'ascii'));
      expect(await ed25519Verify(key, digest, cp.signature)).toBe(true);
      previous = digest;
    }
    expect(cps[0]!.head_hash).toEqual(head);
    expect(cps[0]!.at).toBe(now);
    expect(await verifyAudit(profile.db)).toMatchObject({ ok: true, events: 2, checkpoints: 2, lastCheckpoint: 2 });
  });

  it('an upgraded profile: v1 rows (written before migration 6) verify, and the first v2 row chains onto them', async () => {
    const { profile } = initProfile(path.join(root, `c${++counter}`));
    track(profile);
    const alice = await person(profile, 'Alice Martin');
    const unlocked = await unlockIdentity(profile.db, alice.id, PASS);
    const v1 = async (at: number): Promise<Buffer> => {
      const head = profile.db.prepare('SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1').get() as { seq: number; hash: Buffer };
      const digest = sha256(Buffer.from('pli/v1/sig/audit-checkpoint\0', 'ascii'), u64(head.seq), head.hash, u64(at), Buffer.from(alice.id, 'ascii'));
      const signature = await ed25519Sign(unlocked.current.sigSecret, digest);
      profile.db.prepare('INSERT INTO audit_checkpoints (seq, head_hash, at, signer_id, sig_fpr, signature) VALUES (?, ?, ?, ?, ?, ?)').run(head.seq, head.hash, at, alice.id, unlocked.current.sigFpr, Buffer.from(signature));
      return digest;
    };
    await v1(Date.UTC(2030, 0, 1));
    appendEvent(profile.db, profile.workstation, { action: 'x.y' });
    const second = await v1(Date.UTC(2030, 0, 2));
    expect(await verifyAudit(profile.db)).toMatchObject({ ok: true, checkpoints: 2, lastCheckpoint: 2 });
    appendEvent(profile.db, profile.workstation, { action: 'x.z' });
    expect(await writeCheckpoint(profile, signerOf(unlocked))).toBe(true);
    unlocked.wipe();
    const row = profile.db.prepare('SELECT v, counter, prev_hash FROM audit_checkpoints ORDER BY id DESC LIMIT 1').get() as { v: number; counter: number; prev_hash: Buffer };
    expect(row).toMatchObject({ v: 2, counter: 3 });
    expect(row.prev_hash).toEqual(second);
    expect(await verifyAudit(profile.db)).toMatchObject({ ok: true, checkpoints: 3, lastCheckpoint: 3 });
  });
});

describe('an upgraded profile whose last v1 checkpoint was signed before a key rotation', () => {
  /** v1 rows (before migration 6) by Alice, then her keys rotated (no authority: her card changes). */
  async function upgradedAndRotated(): Promise<{ profile: Profile; alice: IdentityRow; bob: IdentityRow }> {
    const { profile } = initProfile(path.join(root, `c${++counter}`));
    track(profile);
    const alice = await person(profile, 'Alice Martin');
    const bob = await person(profile, 'Bob Durand');
    const unlocked = await unlockIdentity(profile.db, alice.id, PASS);
    const head = profile.db.prepare('SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1').get() as { seq: number; hash: Buffer };
    const at = Date.UTC(2030, 0, 1);
    const digest = sha256(Buffer.from('pli/v1/sig/audit-checkpoint\0', 'ascii'), u64(head.seq), head.hash, u64(at), Buffer.from(alice.id, 'ascii'));
    profile.db.prepare('INSERT INTO audit_checkpoints (seq, head_hash, at, signer_id, sig_fpr, signature) VALUES (?, ?, ?, ?, ?, ?)')
      .run(head.seq, head.hash, at, alice.id, unlocked.current.sigFpr, Buffer.from(await ed25519Sign(unlocked.current.sigSecret, digest)));
    unlocked.wipe();
    await rotateIdentity(profile.db, alice.id, PASS);
    appendEvent(profile.db, profile.workstation, { actor: alice.id, action: 'identity.rotated', object: alice.id });
    return { profile, alice, bob };
  }

  it('the same person, whose unlocked secrets prove the retired key, chains onto it; verify is intact', async () => {
    const { profile, alice } = await upgradedAndRotated();
    const unlocked = await unlockIdentity(profile.db, alice.id, PASS);
    expect(await writeCheckpoint(profile, signerOf(unlocked))).toBe(true);
    unlocked.wipe();
    expect(await verifyAudit(profile.db)).toMatchObject({ ok: true, checkpoints: 2 });
  });

  it('someone else cannot vouch for a key only the keys table knows: refused, nothing signed', async () => {
    const { profile, bob } = await upgradedAndRotated();
    const unlocked = await unlockIdentity(profile.db, bob.id, PASS);
    await expect(writeCheckpoint(profile, signerOf(unlocked))).rejects.toMatchObject({ kind: 'security', code: 'audit-tampered' });
    unlocked.wipe();
    expect(profile.db.prepare('SELECT COUNT(*) FROM audit_checkpoints').pluck().get()).toBe(1);
  });
});

describe('verify names the first bad entry (SQL on a copy, triggers dropped)', () => {
  // Base log: 10 events, checkpoints signed over entries 4 and 8.
  const base = path.join(root, 'base');
  beforeAll(async () => {
    const { profile } = initProfile(base);
    appendEvent(profile.db, profile.workstation, { action: 'profile.created', object: base });
    const alice = await person(profile, 'Alice Martin');
    const unlocked = await unlockIdentity(profile.db, alice.id, PASS);
    for (let i = 3; i <= 10; i++) {
      appendEvent(profile.db, profile.workstation, { actor: alice.id, action: 'container.sealed', object: `c${i}`, detail: { files: i } });
      if (i === 4 || i === 8) await writeCheckpoint(profile, signerOf(unlocked));
    }
    unlocked.wipe();
    profile.close();
  });

  /** Copies the base profile, runs `sql` on the copy with the triggers dropped, verifies it. */
  async function tampered(sql: string): Promise<Awaited<ReturnType<typeof verifyAudit>>> {
    const home = path.join(root, `t${++counter}`);
    cpSync(base, home, { recursive: true });
    const raw = new Database(path.join(home, 'profile.sqlite'));
    raw.exec(`DROP TRIGGER events_no_update; DROP TRIGGER events_no_delete;
      DROP TRIGGER checkpoints_no_update; DROP TRIGGER checkpoints_no_delete; ${sql}`);
    raw.close();
    const profile = track(openProfile(home));
    return verifyAudit(profile.db);
  }
  const firstBad = async (sql: string): Promise<number | undefined> => {
    const result = await tampered(sql);
    expect(result.ok, sql).toBe(false);
    return result.firstBad?.seq;
  };

  it('untouched: intact, 10 entries, 2 checkpoints, last on entry 8', async () => {
    expect(await tampered('SELECT 1')).toMatchObject({ ok: true, events: 10, checkpoints: 2, lastCheckpoint: 8 });
  });

  it('edited canonical bytes (before and after the last checkpoint)', async () => {
    expect(await firstBad("UPDATE events SET canonical = CAST(replace(CAST(canonical AS TEXT), '\"files\\\":5', '\"files\\\":6') AS BLOB) WHERE seq = 5")).toBe(5);
    expect(await firstBad("UPDATE events SET canonical = CAST(replace(CAST(canonical AS TEXT), 'c9', 'c0') AS BLOB) WHERE seq = 9")).toBe(9);
    expect(await firstBad("UPDATE events SET canonical = CAST(replace(CAST(canonical AS TEXT), '\"ok\"', '\"refused\"') AS BLOB) WHERE seq = 3")).toBe(3);
  });

  it('edited hash column, or the at column only', async () => {
    expect(await firstBad('UPDATE events SET hash = randomblob(32) WHERE seq = 6')).toBe(6);
    expect(await firstBad('UPDATE events SET at = at + 1000 WHERE seq = 7')).toBe(7);
    expect(await firstBad('UPDATE events SET at = at - 1 WHERE seq = 10')).toBe(10);
  });

  it('deleted entry (first, middle, last covered by a checkpoint)', async () => {
    expect(await firstBad('DELETE FROM events WHERE seq = 1')).toBe(1);
    expect(await firstBad('DELETE FROM events WHERE seq = 6')).toBe(6);
    expect(await firstBad('DELETE FROM events WHERE seq IN (3, 7)')).toBe(3);
  });

  it('inserted entry: max+1 with a wrong hash, a copy in the middle (renumbered), seq 0', async () => {
    expect(await firstBad("INSERT INTO events (seq, at, canonical, hash) SELECT 11, at, CAST(replace(CAST(canonical AS TEXT), '[1,10,', '[1,11,') AS BLOB), randomblob(32) FROM events WHERE seq = 10")).toBe(11);
    expect(await firstBad('INSERT INTO events (seq, at, canonical, hash) SELECT 11, at, canonical, hash FROM events WHERE seq = 10')).toBe(11);
    expect(await firstBad(`UPDATE events SET seq = seq + 1000 WHERE seq >= 4; UPDATE events SET seq = seq - 999 WHERE seq >= 1000;
      INSERT INTO events (seq, at, canonical, hash) SELECT 4, at, canonical, hash FROM events WHERE seq = 3`)).toBe(4);
    expect(await firstBad('INSERT INTO events (seq, at, canonical, hash) SELECT 0, at, canonical, hash FROM events WHERE seq = 1')).toBe(0);
  });

  it('reordered entries: rows swapped, or swapped with their numbers rewritten', async () => {
    expect(await firstBad(`UPDATE events SET seq = 100 WHERE seq = 5; UPDATE events SET seq = 5 WHERE seq = 6; UPDATE events SET seq = 6 WHERE seq = 100`)).toBe(5);
    // Swap canonical and hash of 2 and 3, and fix the numbers and dates inside the canonical bytes.
    expect(await firstBad(`CREATE TEMP TABLE s AS SELECT seq, at, canonical, hash FROM events WHERE seq IN (2, 3);
      UPDATE events SET canonical = CAST(replace(CAST((SELECT canonical FROM s WHERE seq = 3) AS TEXT), '[1,3,', '[1,2,') AS BLOB),
        hash = (SELECT hash FROM s WHERE seq = 3), at = (SELECT at FROM s WHERE seq = 3) WHERE seq = 2;
      UPDATE events SET canonical = CAST(replace(CAST((SELECT canonical FROM s WHERE seq = 2) AS TEXT), '[1,2,', '[1,3,') AS BLOB),
        hash = (SELECT hash FROM s WHERE seq = 2), at = (SELECT at FROM s WHERE seq = 2) WHERE seq = 3`)).toBe(2);
  });

  it('truncated tail up to the last checkpoint', async () => {
    expect(await firstBad('DELETE FROM events WHERE seq > 6')).toBe(7);
    expect(await firstBad('DELETE FROM events WHERE seq > 2')).toBe(3);
    const result = await tampered('DELETE FROM events WHERE seq > 7');
    expect(result.firstBad?.seq).toBe(8);
    expect(result.firstBad?.problem).toMatch(/tronqué/);
  });

  it('a checkpoint whose signature or head was changed', async () => {
    const sig = await tampered("UPDATE audit_checkpoints SET signature = randomblob(64) WHERE seq = 4");
    expect(sig.firstBad?.seq).toBe(4);
    expect(sig.firstBad?.problem).toMatch(/signature invalide/);
    expect(await firstBad('UPDATE audit_checkpoints SET head_hash = randomblob(32) WHERE seq = 8')).toBe(8);
  });

  it('history rewritten before a checkpoint with the whole chain recomputed: refused by the signed checkpoint', async () => {
    // Recompute the chain in JS after editing entry 3: the hash chain is internally consistent,
    // only the signed checkpoint over entry 4 can tell.
    const home = path.join(root, `t${++counter}`);
    cpSync(base, home, { recursive: true });
    const raw = new Database(path.join(home, 'profile.sqlite'));
    raw.exec('DROP TRIGGER events_no_update');
    const rows = raw.prepare('SELECT seq, canonical FROM events ORDER BY seq').all() as { seq: number; canonical: Buffer }[];
    let previous: Buffer = Buffer.alloc(32);
    for (const row of rows) {
      const canonical = row.seq === 3 ? Buffer.from(row.canonical.toString('utf8').replace('"c3"', '"cX"'), 'utf8') : row.canonical;
      previous = sha256(previous, canonical);
      raw.prepare('UPDATE events SET canonical = ?, hash = ? WHERE seq = ?').run(canonical, previous, row.seq);
    }
    raw.close();
    const result = await verifyAudit(track(openProfile(home)).db);
    expect(result.ok).toBe(false);
    expect(result.firstBad!.seq).toBeLessThanOrEqual(4);
    expect(result.firstBad!.problem).toMatch(/point de contrôle/);
  });

  it('an entry inserted at seq 0 (forged, well chained) while entry 3 is deleted is named as such, not as an intact entry', async () => {
    // Count = max, so the structural check passes; the chain loop then numbers rows by position
    // (++count) instead of their stored seq and blames entry 2, which is intact.
    const forged = '[1,0,5,null,"x","forged",null,"ok",null]';
    const hex = sha256(Buffer.alloc(32), Buffer.from(forged, 'utf8')).toString('hex');
    const result = await tampered(`DELETE FROM events WHERE seq = 3;
      INSERT INTO events (seq, at, canonical, hash) VALUES (0, 5, CAST('${forged}' AS BLOB), x'${hex}')`);
    expect(result.ok).toBe(false);
    expect([0, 3]).toContain(result.firstBad!.seq);
  });
});

describe('the nominative list and roles in the core', () => {
  let profile: Profile;
  let ctx: Context;
  let officer: IdentityRow;
  let rita: IdentityRow;
  let otto: IdentityRow;
  let nina: IdentityRow;
  const DATA = path.join(root, 'note.txt');

  beforeAll(async () => {
    writeFileSync(DATA, 'note de service\n');
    profile = track(initProfile(path.join(root, 'ssi')).profile);
    ctx = contextFor(profile);
    officer = await person(profile, 'Olivier Ssi', 'DIPN 54');
    expect(people(profile.db).map((p) => [p.name, p.role, p.state])).toEqual([['Olivier Ssi', null, 'none']]);
    await initAuthority(ctx, 'SSI DIPN 54', officer.id);
    rita = await person(profile, 'Rita Lecteur');
    otto = await person(profile, 'Otto Operateur');
    nina = await person(profile, 'Nina Horsliste');
    await certifyCard(ctx, rita.card, 'reader', 30);
    await certifyCard(ctx, otto.card, 'operator');
  });

  it('people(): own identities with name, role, organisation, validity and state', () => {
    const list = people(profile.db);
    const by = (name: string) => list.find((p) => p.name === name)!;
    expect(list).toHaveLength(4);
    expect(by('Olivier Ssi')).toMatchObject({ role: 'officer', org: 'DIPN 54', state: 'valid' });
    expect(by('Rita Lecteur')).toMatchObject({ role: 'reader', org: 'Mairie de Nancy', state: 'valid' });
    expect(by('Otto Operateur')).toMatchObject({ role: 'operator', state: 'valid' });
    expect(by('Nina Horsliste')).toMatchObject({ role: null, validUntil: null, state: 'none' });
    expect(by('Rita Lecteur').validUntil! - Date.now()).toBeGreaterThan(29 * 86400_000);
  });

  it('requireRole: outside the list, expired, below the role; the message names the role needed', () => {
    const code = (fn: () => void): string => {
      try {
        fn();
      } catch (error) {
        expect(error).toBeInstanceOf(PliError);
        expect((error as PliError).kind).toBe('security');
        return `${(error as PliError).code}: ${(error as PliError).message}`;
      }
      return 'ok';
    };
    const db = profile.db;
    expect(code(() => requireRole(db, nina, 'reader'))).toMatch(/^not-habilitated: .*ne figure pas sur la liste/);
    expect(code(() => requireRole(db, rita, 'reader'))).toBe('ok');
    expect(code(() => requireRole(db, rita, 'operator'))).toMatch(/^role: .*« opérateur »/);
    expect(code(() => requireRole(db, otto, 'operator'))).toBe('ok');
    expect(code(() => requireRole(db, otto, 'officer'))).toMatch(/^role: .*« officier SSI »/);
    expect(code(() => requireRole(db, officer, 'officer'))).toBe('ok');
    const expiry = certificateState(db, rita.id).notAfter!;
    expect(code(() => requireRole(db, rita, 'reader', expiry + 1))).toMatch(/^not-habilitated: .*expiré/);
  });

  it('encrypt refused for a reader and for someone outside the list, and audited with the reason', async () => {
    for (const [who, reason] of [[rita, 'role'], [nina, 'not-habilitated']] as const) {
      await expect(encrypt(ctx, { as: who.id, to: [otto.id], self: true, usePassword: false, files: [DATA], out: path.join(root, 'x.pli') }))
        .rejects.toMatchObject({ kind: 'security', code: reason });
      const last = listEvents(profile.db).filter((e) => e.action === 'container.sealed').pop()!;
      expect(last).toMatchObject({ actor: who.id, outcome: 'refused' });
      expect(JSON.parse(last.detail!).reason).toBe(reason);
    }
    expect(existsSync(path.join(root, 'x.pli'))).toBe(false);
  });

  it('a reader opens; once revoked, the same container is refused and audited', async () => {
    const out = path.join(root, 'to-rita.pli');
    await encrypt(ctx, { as: otto.id, to: [rita.id], self: false, usePassword: false, files: [DATA], out });
    const opened1 = await decrypt(ctx, { as: rita.id, usePassword: false, input: out, outDir: path.join(root, 'rita1') });
    expect(opened1.files).toHaveLength(1);
    await revokePerson(ctx, rita, 'départ du service');
    await expect(decrypt(ctx, { as: rita.id, usePassword: false, input: out, outDir: path.join(root, 'rita2') }))
      .rejects.toMatchObject({ kind: 'security', code: 'not-habilitated' });
    const refused = listEvents(profile.db).filter((e) => e.action === 'container.refused').pop()!;
    expect(refused).toMatchObject({ actor: rita.id, outcome: 'refused' });
    expect(JSON.parse(refused.detail!).reason).toBe('not-habilitated');
    expect(people(profile.db).find((p) => p.id === rita.id)!.state).toBe('revoked');
  });

  it('the authority refuses to act once the officer certificate has expired (security, role)', async () => {
    const expiry = certificateState(profile.db, officer.id).notAfter!;
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(expiry + 86400_000);
    await expect(certifyCard(ctx, nina.card, 'reader')).rejects.toMatchObject({ kind: 'security', code: 'role' });
    vi.useRealTimers();
    expect(certificateState(profile.db, nina.id).state).toBe('none');
  });
});

describe('signed CSV export (docs/audit.md section 6)', () => {
  let profile: Profile;
  let alice: IdentityRow;
  const csvFile = path.join(root, 'journal.csv');

  beforeAll(async () => {
    profile = track(initProfile(path.join(root, 'export')).profile);
    appendEvent(profile.db, profile.workstation, { action: 'profile.created', object: 'C:\\Pli' });
    alice = await person(profile, '=HYPERLINK("http://evil")', 'Mairie; "Nancy"');
    appendEvent(profile.db, profile.workstation, { actor: alice.id, action: 'file.written', object: '-2+3', detail: { path: '/tmp/é.txt', sha256: 'ab' } });
    const result = await exportAudit(contextFor(profile), alice.id, csvFile);
    expect(result.events).toBe(listEvents(profile.db).length);
  });

  it('UTF-8 with BOM, French headers, one quoted line per event, formulas neutralised, chain hash per line', () => {
    const bytes = readFileSync(csvFile);
    expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const text = bytes.toString('utf8').slice(1);
    const lines = text.split('\r\n');
    expect(lines.pop()).toBe('');
    expect(lines[0]).toBe(CSV_HEADER.map((h) => `"${h}"`).join(';'));
    expect(lines[0]!.startsWith('"n°";"date (UTC)";"personne";"nom";"poste";"action";"objet";"résultat";"détail";"empreinte de chaîne"')).toBe(true);
    const events = listEvents(profile.db);
    expect(lines).toHaveLength(events.length + 1);
    events.forEach((e, i) => {
      const line = lines[i + 1]!;
      expect(line.startsWith(`"${e.seq}";"${new Date(e.at).toISOString()}";`)).toBe(true);
      expect(line.endsWith(`;"${e.hash.toString('hex')}"`)).toBe(true);
      expect(line).toContain(`"${hostname()}"`);
    });
    expect(text).toContain(`"'=HYPERLINK(""http://evil"")"`);
    expect(text).toContain(`"'-2+3"`);
    expect(text).toContain('"fait"');
    expect(text).toContain('/tmp/é.txt');
    expect(events.at(-1)!.action).toBe('audit.exported');
  });

  it('signature file as documented; verify-export accepts, and refuses one changed byte or signature', async () => {
    const sig = JSON.parse(readFileSync(`${csvFile}.sig`, 'utf8')) as Record<string, unknown>;
    expect(Object.keys(sig).sort()).toEqual(['card', 'certificate', 'pli', 'sha256', 'signature', 'signer', 'v']);
    expect(sig).toMatchObject({ pli: 'audit-export', v: 1, signer: alice.id, certificate: null, sha256: sha256(readFileSync(csvFile)).toString('hex') });
    expect(await verifyAuditExport(profile.db, csvFile)).toMatchObject({ signer: alice.id, name: alice.name, certified: false });

    const copy = (name: string, csv: Buffer, sigText: string): string => {
      const file = path.join(root, name);
      writeFileSync(file, csv);
      writeFileSync(`${file}.sig`, sigText);
      return file;
    };
    const csv = readFileSync(csvFile);
    const sigText = readFileSync(`${csvFile}.sig`, 'utf8');
    const edited = Buffer.from(csv);
    edited[edited.length - 5] = edited[edited.length - 5]! ^ 0x01;
    await expect(verifyAuditExport(profile.db, copy('e1.csv', edited, sigText))).rejects.toMatchObject({ kind: 'security', code: 'export-modified' });
    const signature = Buffer.from(sig.signature as string, 'base64');
    signature[10] = signature[10]! ^ 0x01;
    await expect(verifyAuditExport(profile.db, copy('e2.csv', csv, JSON.stringify({ ...sig, signature: signature.toString('base64') }))))
      .rejects.toMatchObject({ kind: 'security', code: 'export-signature' });
    // Edited CSV with its hash updated in the .sig: the signature no longer matches.
    await expect(verifyAuditExport(profile.db, copy('e3.csv', edited, JSON.stringify({ ...sig, sha256: sha256(edited).toString('hex') }))))
      .rejects.toMatchObject({ kind: 'security', code: 'export-signature' });
    await expect(verifyAuditExport(profile.db, copy('e4.csv', csv, '{"pli":"card"}'))).rejects.toMatchObject({ kind: 'input' });
    await expect(verifyAuditExport(profile.db, path.join(root, 'absent.csv'))).rejects.toMatchObject({ kind: 'input', code: 'missing-file' });
  });
});

describe('never in the log (in process)', () => {
  it('no passphrase, file content or private key in the database file, after encrypt, decrypt and a wrong passphrase', async () => {
    const home = path.join(root, 'secret');
    const profile = initProfile(home).profile;
    const ctx = contextFor(profile);
    appendEvent(profile.db, profile.workstation, { action: 'profile.created', object: home });
    const alice = await person(profile, 'Alice Martin');
    const CONTENT = 'CONTENU-CONFIDENTIEL-7f3a9c-liste-des-mis-en-cause';
    const file = path.join(root, 'rapport.txt');
    writeFileSync(file, CONTENT);
    await encrypt(ctx, { as: alice.id, to: [], self: true, usePassword: false, files: [file], out: path.join(root, 'rapport.pli') });
    await decrypt(ctx, { as: alice.id, usePassword: false, input: path.join(root, 'rapport.pli'), outDir: path.join(root, 'ouvert') });
    const WRONG = 'mauvaise phrase de passe tapée';
    await expect(signIn(profile, alice, WRONG)).rejects.toMatchObject({ code: 'bad-passphrase' });
    const unlocked = await unlockIdentity(profile.db, alice.id, PASS);
    const secrets = [unlocked.current.sigSecret, unlocked.current.encSecret].map((k) => Buffer.from(k));
    unlocked.wipe();
    const events = listEvents(profile.db).map((e) => e.canonical.toString('utf8')).join('\n');
    profile.close();
    const bytes = Buffer.concat(readdirSync(home).map((f) => readFileSync(path.join(home, f))));
    const needles: Buffer[] = [Buffer.from(PASS), Buffer.from(WRONG), Buffer.from(CONTENT)];
    for (const s of secrets) needles.push(s, Buffer.from(s.toString('hex')), Buffer.from(s.toString('hex').toUpperCase()), Buffer.from(s.toString('base64')), s.subarray(0, 16));
    for (const needle of needles) {
      expect(bytes.includes(needle), needle.toString('utf8').slice(0, 20)).toBe(false);
      expect(events.includes(needle.toString('utf8'))).toBe(false);
    }
    expect(events).toContain('file.written');
  });
});
