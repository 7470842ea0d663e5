// Issue 10 (trust), part 1 and 9: an audit log that cannot be rewritten unseen (docs/audit.md
// sections 3, 5, 6 and 7). Every attack is played by someone who can write the profile's database
// (better-sqlite3 on the file, triggers dropped) but knows no passphrase: rows edited, the chain
// recomputed, checkpoints deleted or re-signed with a planted key. Each attack test failed on the
// code before checkpoints were chained and verified from signed data.
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { closeProfiles } from './helpers.js';
import { initProfile, openProfile, type Profile } from '../../electron/core/profile/profile.js';
import { createIdentity, getIdentity, makeCard, unlockIdentity, type IdentityRow } from '../../electron/core/profile/identities.js';
import { appendEvent } from '../../electron/core/profile/events.js';
import { auditCsv, exportAudit, makeAuditAnchor, readAuditAnchor, signerOf, verifyAudit, verifyAuditAnchor, verifyAuditExport, writeCheckpoint } from '../../electron/core/services/audit.js';
import { signIn } from '../../electron/core/services/session.js';
import { certifyCard, initAuthority, revokePerson } from '../../electron/core/authority/authority.js';
import { certificateState } from '../../electron/core/authority/certificates.js';
import { ed25519Keygen, ed25519Sign } from '../../electron/core/crypto/keys.js';
import { fingerprint, signedDigest } from '../../electron/core/crypto/primitives.js';
import type { Context } from '../../electron/core/context.js';
import { PliError } from '../../electron/core/errors.js';

const PASS = 'une phrase de passe de test';
const LIGHT = { opslimit: 1, memlimitKib: 8 };
const root = mkdtempSync(path.join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'pli-audit-anchor-'));
const opened: Profile[] = [];
let counter = 0;
afterAll(() => closeProfiles(opened, root));
afterEach(() => {
  vi.useRealTimers();
});

const sha256 = (...parts: Buffer[]): Buffer => parts.reduce((h, p) => h.update(p), createHash('sha256')).digest();
const track = (profile: Profile): Profile => {
  opened.push(profile);
  return profile;
};
const contextFor = (profile: Profile): Context => ({ profile, unlocker: { unlock: (row) => signIn(profile, row, PASS) } });

async function person(profile: Profile, name: string): Promise<IdentityRow> {
  const made = await createIdentity(profile.db, { name, email: `${name.split(' ')[0]!.toLowerCase()}@exemple.fr`, org: 'Mairie de Nancy' }, PASS, LIGHT);
  appendEvent(profile.db, profile.workstation, { actor: made.id, action: 'identity.created', object: made.id });
  return getIdentity(profile.db, made.id)!;
}

/** A profile whose log has 12 entries: container.sealed at 3, 6, 9; checkpoints over 4 and 8 and 12. */
async function makeLog(options: { authority?: boolean } = {}): Promise<{ home: string; tom: IdentityRow }> {
  const home = path.join(root, `p${++counter}`);
  const profile = initProfile(home).profile;
  appendEvent(profile.db, profile.workstation, { action: 'profile.created', object: home });
  const tom = await person(profile, 'Tom Pouce');
  if (options.authority) {
    await initAuthority(contextFor(profile), 'SSI DIPN 54', tom.id);
    appendEvent(profile.db, profile.workstation, { actor: tom.id, action: 'authority.created' });
  }
  const unlocked = await unlockIdentity(profile.db, tom.id, PASS);
  const base = (profile.db.prepare('SELECT MAX(seq) FROM events').pluck().get() as number);
  for (let i = base + 1; i <= 12; i++) {
    appendEvent(profile.db, profile.workstation, { actor: tom.id, action: i % 3 === 0 ? 'container.sealed' : 'container.opened', object: `c${i}` });
    if (i % 4 === 0) expect(await writeCheckpoint(profile, signerOf(unlocked))).toBe(true);
  }
  unlocked.wipe();
  profile.close();
  return { home, tom };
}

function copyOf(home: string): string {
  const copy = path.join(root, `copy${++counter}`);
  cpSync(home, copy, { recursive: true });
  return copy;
}

/** The attacker's database handle: the append-only triggers dropped. */
function attacker(home: string): Database.Database {
  const raw = new Database(path.join(home, 'profile.sqlite'));
  raw.exec(`DROP TRIGGER IF EXISTS events_no_update; DROP TRIGGER IF EXISTS events_no_delete; DROP TRIGGER IF EXISTS events_no_replace;
    DROP TRIGGER IF EXISTS checkpoints_no_update; DROP TRIGGER IF EXISTS checkpoints_no_delete; DROP TRIGGER IF EXISTS checkpoints_no_replace;`);
  return raw;
}

/** Rewrites the whole log: drops the entries `drop` says, renumbers, recomputes every hash. */
function rewriteLog(raw: Database.Database, drop: (entry: unknown[]) => boolean, edit: (entry: unknown[]) => unknown[] = (e) => e): { seq: number; hash: Buffer } {
  const rows = raw.prepare('SELECT canonical FROM events ORDER BY seq').pluck().all() as Buffer[];
  raw.exec('DELETE FROM events');
  let previous: Buffer = Buffer.alloc(32);
  let seq = 0;
  for (const row of rows) {
    const entry = JSON.parse(row.toString('utf8')) as unknown[];
    if (drop(entry)) continue;
    const fresh = edit([...entry]);
    fresh[1] = ++seq;
    const canonical = Buffer.from(JSON.stringify(fresh), 'utf8');
    previous = sha256(previous, canonical);
    raw.prepare('INSERT INTO events (seq, at, canonical, hash) VALUES (?, ?, ?, ?)').run(seq, fresh[2], canonical, previous);
  }
  return { seq, hash: previous };
}

const u64 = (n: number): Buffer => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(n));
  return b;
};
/** The v1 checkpoint digest of docs/audit.md section 3. */
const v1Digest = (seq: number, hash: Buffer, at: number, signer: string): Buffer =>
  sha256(Buffer.from('pli/v1/sig/audit-checkpoint\0', 'ascii'), u64(seq), hash, u64(at), Buffer.from(signer, 'ascii'));
/** The v2 checkpoint digest of docs/audit.md section 3. */
const v2Digest = (c: { counter: number; prev: Buffer; seq: number; hash: Buffer; at: number; doc: string; signer: string }): Buffer =>
  sha256(Buffer.from('pli/v1/sig/audit-checkpoint/v2\0', 'ascii'), u64(c.counter), c.prev, u64(c.seq), c.hash, u64(c.at), sha256(Buffer.from(c.doc, 'utf8')), Buffer.from(c.signer, 'ascii'));

/** A key planted as a retired Ed25519 key of `who` (what the issue describes). */
async function plantKey(raw: Database.Database, who: string): Promise<{ secretKey: Uint8Array; publicKey: Uint8Array; fpr: Buffer }> {
  const pair = await ed25519Keygen();
  const fpr = fingerprint('ed25519', pair.publicKey);
  raw.prepare("INSERT INTO keys (fpr, identity_id, kind, public_key, key_set, created_at, retired_at) VALUES (?, ?, 'ed25519', ?, 99, 1, 2)").run(fpr, who, Buffer.from(pair.publicKey));
  return { ...pair, fpr };
}

const count = (home: string, sql: string): number => {
  const raw = new Database(path.join(home, 'profile.sqlite'), { readonly: true });
  try {
    return raw.prepare(sql).pluck().get() as number;
  } finally {
    raw.close();
  }
};

describe('(a) history rewritten and re-signed with a planted key', () => {
  it('no authority: planted retired key, container.sealed entries deleted, chain recomputed, v1 checkpoint re-signed → refused', async () => {
    const { home, tom } = await makeLog();
    expect(await verifyAudit(track(openProfile(home)).db)).toMatchObject({ ok: true, events: 12, checkpoints: 3 });
    const copy = copyOf(home);
    const raw = attacker(copy);
    const planted = await plantKey(raw, tom.id);
    const head = rewriteLog(raw, (e) => e[5] === 'container.sealed');
    raw.exec('DELETE FROM audit_checkpoints');
    const at = Date.now();
    const signature = await ed25519Sign(planted.secretKey, v1Digest(head.seq, head.hash, at, tom.id));
    raw.prepare('INSERT INTO audit_checkpoints (seq, head_hash, at, signer_id, sig_fpr, signature) VALUES (?, ?, ?, ?, ?, ?)').run(head.seq, head.hash, at, tom.id, planted.fpr, Buffer.from(signature));
    raw.close();
    const result = await verifyAudit(track(openProfile(copy)).db);
    expect(result.ok).toBe(false);
    expect(result.firstBad!.problem).toMatch(/point de contrôle/);
  });

  it('no authority: the same re-signed as a v2 checkpoint under the person\'s real card → refused (the key is not the card\'s)', async () => {
    const { home, tom } = await makeLog();
    const copy = copyOf(home);
    const raw = attacker(copy);
    const planted = await plantKey(raw, tom.id);
    const head = rewriteLog(raw, (e) => e[5] === 'container.sealed');
    raw.exec('DELETE FROM audit_checkpoints');
    const doc = tom.card;
    const c = { counter: 1, prev: Buffer.alloc(32), seq: head.seq, hash: head.hash, at: Date.now(), doc, signer: tom.id };
    const signature = await ed25519Sign(planted.secretKey, v2Digest(c));
    raw.prepare('INSERT INTO audit_checkpoints (seq, head_hash, at, signer_id, sig_fpr, signature, v, counter, prev_hash, signer_doc) VALUES (?, ?, ?, ?, ?, ?, 2, ?, ?, ?)')
      .run(c.seq, c.hash, c.at, tom.id, planted.fpr, Buffer.from(signature), c.counter, c.prev, doc);
    raw.close();
    expect((await verifyAudit(track(openProfile(copy)).db)).ok).toBe(false);
  });

  it('with an authority: even a forged self-signed card bearing the person\'s id (and put in place of theirs) does not pass', async () => {
    const { home, tom } = await makeLog({ authority: true });
    expect((await verifyAudit(track(openProfile(home)).db)).ok).toBe(true);
    const copy = copyOf(home);
    const raw = attacker(copy);
    const planted = await plantKey(raw, tom.id);
    const body = JSON.parse((JSON.parse(tom.card) as { body: string }).body) as Record<string, unknown>;
    const forged = await makeCard({ ...body, ed25519: Buffer.from(planted.publicKey).toString('base64') } as never, planted.secretKey);
    raw.prepare('UPDATE identities SET card = ? WHERE id = ?').run(forged, tom.id);
    const head = rewriteLog(raw, (e) => e[5] === 'container.sealed');
    raw.exec('DELETE FROM audit_checkpoints');
    const c = { counter: 1, prev: Buffer.alloc(32), seq: head.seq, hash: head.hash, at: Date.now(), doc: forged, signer: tom.id };
    const signature = await ed25519Sign(planted.secretKey, v2Digest(c));
    raw.prepare('INSERT INTO audit_checkpoints (seq, head_hash, at, signer_id, sig_fpr, signature, v, counter, prev_hash, signer_doc) VALUES (?, ?, ?, ?, ?, ?, 2, ?, ?, ?)')
      .run(c.seq, c.hash, c.at, tom.id, planted.fpr, Buffer.from(signature), c.counter, c.prev, forged);
    raw.close();
    const result = await verifyAudit(track(openProfile(copy)).db);
    expect(result.ok).toBe(false);
    expect(result.firstBad!.problem).toMatch(/certifi|signataire/);
  });

  it('a v1 row after a v2 row is refused, even signed by the person\'s real key', async () => {
    const { home, tom } = await makeLog();
    const copy = copyOf(home);
    const unlocked = await unlockIdentity(track(openProfile(copy)).db, tom.id, PASS);
    const raw = attacker(copy);
    const head = raw.prepare('SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1').get() as { seq: number; hash: Buffer };
    const at = Date.now();
    const signature = await ed25519Sign(unlocked.current.sigSecret, v1Digest(head.seq, head.hash, at, tom.id));
    raw.prepare('INSERT INTO audit_checkpoints (seq, head_hash, at, signer_id, sig_fpr, signature) VALUES (?, ?, ?, ?, ?, ?)').run(head.seq, head.hash, at, tom.id, unlocked.current.sigFpr, Buffer.from(signature));
    unlocked.wipe();
    raw.close();
    const result = await verifyAudit(track(openProfile(copy)).db);
    expect(result.ok).toBe(false);
    expect(result.firstBad!.problem).toMatch(/ancien format/);
  });
});

describe('(b) checkpoints are chained; an anchor outside the workstation catches a cut tail', () => {
  it('a deleted middle checkpoint breaks the checkpoint chain', async () => {
    const { home } = await makeLog();
    const copy = copyOf(home);
    const raw = attacker(copy);
    raw.exec('DELETE FROM audit_checkpoints WHERE id = 2');
    raw.close();
    const result = await verifyAudit(track(openProfile(copy)).db);
    expect(result.ok).toBe(false);
    expect(result.firstBad!.problem).toMatch(/chaîne des points de contrôle/);
  });

  it('checkpoint rows record their counter (1, 2, 3) and the previous checkpoint\'s hash, signed as documented', async () => {
    const { home, tom } = await makeLog();
    const profile = track(openProfile(home));
    const rows = profile.db.prepare('SELECT * FROM audit_checkpoints ORDER BY id').all() as { seq: number; head_hash: Buffer; at: number; signer_id: string; signature: Buffer; v: number; counter: number; prev_hash: Buffer; signer_doc: string }[];
    expect(rows.map((r) => [r.v, r.counter, r.seq])).toEqual([[2, 1, 4], [2, 2, 8], [2, 3, 12]]);
    expect(rows[0]!.prev_hash).toEqual(Buffer.alloc(32));
    const key = Buffer.from((JSON.parse((JSON.parse(tom.card) as { body: string }).body) as { ed25519: string }).ed25519, 'base64');
    const { ed25519Verify } = await import('../../electron/core/crypto/keys.js');
    let previous: Buffer = Buffer.alloc(32);
    for (const r of rows) {
      expect(r.prev_hash).toEqual(previous);
      expect(r.signer_doc).toBe(tom.card);
      const digest = v2Digest({ counter: r.counter, prev: r.prev_hash, seq: r.seq, hash: r.head_hash, at: r.at, doc: r.signer_doc, signer: r.signer_id });
      expect(await ed25519Verify(key, digest, r.signature)).toBe(true);
      previous = digest; // a checkpoint's hash is its signed digest
    }
  });

  it('tail deleted together with its checkpoints: verify alone cannot tell, the anchor names the first missing entry', async () => {
    const { home, tom } = await makeLog();
    const profile = track(openProfile(home));
    const unlocked = await unlockIdentity(profile.db, tom.id, PASS);
    const anchor = await makeAuditAnchor(profile, signerOf(unlocked));
    unlocked.wipe();
    expect(await verifyAuditAnchor(profile.db, anchor)).toMatchObject({ ok: true });
    profile.close();
    const copy = copyOf(home);
    const raw = attacker(copy);
    raw.exec('DELETE FROM events WHERE seq > 8; DELETE FROM audit_checkpoints WHERE seq > 8');
    raw.close();
    const cut = track(openProfile(copy));
    expect((await verifyAudit(cut.db)).ok).toBe(true); // documented: without an anchor, a cut tail with its checkpoints is invisible
    const result = await verifyAuditAnchor(cut.db, anchor);
    expect(result.ok).toBe(false);
    expect(result.firstBad!.seq).toBe(9);
  });
});

describe('(c) verify before sign: a rewritten tail is never re-signed', () => {
  async function tailRewritten(): Promise<{ copy: string; tom: IdentityRow }> {
    const { home, tom } = await makeLog();
    const profile = track(openProfile(home));
    // Three entries after the last checkpoint (12): 13, 14, 15.
    for (let i = 13; i <= 15; i++) appendEvent(profile.db, profile.workstation, { actor: tom.id, action: 'container.sealed', object: `c${i}` });
    profile.close();
    const copy = copyOf(home);
    const raw = attacker(copy);
    // Entry 14 rewritten in place (a chain recomputed from 12 on could not be told from an honest
    // one: docs/audit.md section 7), and entry 15 deleted.
    raw.exec(`UPDATE events SET canonical = CAST(replace(CAST(canonical AS TEXT), '"c14"', '"caché"') AS BLOB) WHERE seq = 14;
      DELETE FROM events WHERE seq = 15`);
    raw.close();
    return { copy, tom };
  }

  it('the next honest sign-in does not write the checkpoint and reports the first bad entry (security error)', async () => {
    const { copy, tom } = await tailRewritten();
    const profile = track(openProfile(copy));
    const before = count(copy, 'SELECT COUNT(*) FROM audit_checkpoints');
    const unlocked = await unlockIdentity(profile.db, tom.id, PASS);
    const error = await writeCheckpoint(profile, signerOf(unlocked)).then(() => null, (e: unknown) => e);
    unlocked.wipe();
    expect(error).toBeInstanceOf(PliError);
    expect(error).toMatchObject({ kind: 'security' });
    expect((error as PliError).message).toMatch(/n° 14/);
    expect(count(copy, 'SELECT COUNT(*) FROM audit_checkpoints')).toBe(before);
    expect((await verifyAudit(profile.db)).ok).toBe(false);
  });

  it('a last checkpoint forged with a planted key is not chained onto', async () => {
    const { home, tom } = await makeLog();
    const copy = copyOf(home);
    const raw = attacker(copy);
    const planted = await plantKey(raw, tom.id);
    raw.prepare("UPDATE events SET canonical = CAST(replace(CAST(canonical AS TEXT), 'c11', 'cX') AS BLOB) WHERE seq = 11").run();
    const head = rewriteLog(raw, () => false);
    // Chained correctly onto checkpoint 2, in place of checkpoint 3: only its signer is wrong.
    const second = raw.prepare('SELECT * FROM audit_checkpoints WHERE counter = 2').get() as { counter: number; prev_hash: Buffer; head_hash: Buffer; seq: number; at: number; signer_doc: string; signer_id: string };
    const prev = v2Digest({ counter: 2, prev: second.prev_hash, seq: second.seq, hash: second.head_hash, at: second.at, doc: second.signer_doc, signer: second.signer_id });
    raw.exec('DELETE FROM audit_checkpoints WHERE counter = 3');
    const c = { counter: 3, prev, seq: head.seq, hash: head.hash, at: Date.now(), doc: tom.card, signer: tom.id };
    const signature = await ed25519Sign(planted.secretKey, v2Digest(c));
    raw.prepare('INSERT INTO audit_checkpoints (seq, head_hash, at, signer_id, sig_fpr, signature, v, counter, prev_hash, signer_doc) VALUES (?, ?, ?, ?, ?, ?, 2, ?, ?, ?)')
      .run(c.seq, c.hash, c.at, tom.id, planted.fpr, Buffer.from(signature), 3, c.prev, c.doc);
    raw.close();
    const profile = track(openProfile(copy));
    appendEvent(profile.db, profile.workstation, { actor: tom.id, action: 'login.succeeded' });
    const unlocked = await unlockIdentity(profile.db, tom.id, PASS);
    await expect(writeCheckpoint(profile, signerOf(unlocked))).rejects.toMatchObject({ kind: 'security' });
    unlocked.wipe();
    expect(count(copy, 'SELECT COUNT(*) FROM audit_checkpoints')).toBe(3);
  });

  it('a log cut back below the last checkpoint is reported, not re-signed', async () => {
    const { home, tom } = await makeLog();
    const copy = copyOf(home);
    const raw = attacker(copy);
    raw.exec('DELETE FROM events WHERE seq > 10');
    raw.close();
    const profile = track(openProfile(copy));
    appendEvent(profile.db, profile.workstation, { actor: tom.id, action: 'login.succeeded' });
    const unlocked = await unlockIdentity(profile.db, tom.id, PASS);
    await expect(writeCheckpoint(profile, signerOf(unlocked))).rejects.toMatchObject({ kind: 'security' });
    unlocked.wipe();
  });
});

describe('two writers at once', () => {
  it('two checkpoints signed concurrently over the same head: one is written, the chain stays whole', async () => {
    const { home, tom } = await makeLog();
    const one = track(openProfile(home));
    const two = track(openProfile(home));
    appendEvent(one.db, one.workstation, { actor: tom.id, action: 'login.succeeded' });
    const a = await unlockIdentity(one.db, tom.id, PASS);
    const b = await unlockIdentity(two.db, tom.id, PASS);
    const written = await Promise.all([writeCheckpoint(one, signerOf(a)), writeCheckpoint(two, signerOf(b))]);
    a.wipe();
    b.wipe();
    expect(written.filter(Boolean)).toHaveLength(1);
    expect(await verifyAudit(one.db)).toMatchObject({ ok: true, checkpoints: 4, lastCheckpoint: 13 });
  });
});

describe('(d) anchors', () => {
  it('intact log passes; the anchor is a few printable lines, versioned', async () => {
    const { home, tom } = await makeLog();
    const profile = track(openProfile(home));
    appendEvent(profile.db, profile.workstation, { actor: tom.id, action: 'login.succeeded' });
    const unlocked = await unlockIdentity(profile.db, tom.id, PASS);
    const anchor = await makeAuditAnchor(profile, signerOf(unlocked));
    unlocked.wipe();
    const parsed = JSON.parse(anchor) as Record<string, unknown>;
    expect(parsed).toMatchObject({ pli: 'audit-anchor', v: 1, seq: 13, signer: tom.id });
    expect(anchor.split('\n').length).toBeLessThan(20);
    expect(await verifyAuditAnchor(profile.db, anchor)).toMatchObject({ ok: true });
    // The log goes on: the anchor still holds.
    appendEvent(profile.db, profile.workstation, { actor: tom.id, action: 'container.sealed' });
    expect(await verifyAuditAnchor(profile.db, anchor)).toMatchObject({ ok: true });
  });

  it('an entry rewritten under the anchor (chain recomputed) fails; a forged signature fails; another profile\'s anchor fails', async () => {
    const { home, tom } = await makeLog();
    const profile = track(openProfile(home));
    const unlocked = await unlockIdentity(profile.db, tom.id, PASS);
    const anchor = await makeAuditAnchor(profile, signerOf(unlocked));
    unlocked.wipe();
    profile.close();

    const copy = copyOf(home);
    const raw = attacker(copy);
    rewriteLog(raw, () => false, (e) => (e[1] === 5 ? [...e.slice(0, 6), 'cX', ...e.slice(7)] : e));
    raw.close();
    const rewritten = await verifyAuditAnchor(track(openProfile(copy)).db, anchor);
    expect(rewritten.ok).toBe(false);
    expect(rewritten.firstBad!.seq).toBeLessThanOrEqual(12);

    const parsed = JSON.parse(anchor) as { signature: string; seq: number };
    const signature = Buffer.from(parsed.signature, 'base64');
    signature[3] = signature[3]! ^ 0x10;
    const forged = JSON.stringify({ ...parsed, signature: signature.toString('base64') });
    await expect(verifyAuditAnchor(track(openProfile(home)).db, forged)).rejects.toMatchObject({ kind: 'security' });
    // A claimed head edited in the anchor: the signature no longer covers it.
    await expect(verifyAuditAnchor(track(openProfile(home)).db, JSON.stringify({ ...parsed, seq: parsed.seq - 1 }))).rejects.toMatchObject({ kind: 'security' });

    const other = await makeLog();
    const otherProfile = track(openProfile(other.home));
    const otherUnlocked = await unlockIdentity(otherProfile.db, other.tom.id, PASS);
    const otherAnchor = await makeAuditAnchor(otherProfile, signerOf(otherUnlocked));
    otherUnlocked.wipe();
    const foreign = await verifyAuditAnchor(track(openProfile(home)).db, otherAnchor).then((r) => r.ok, () => false);
    expect(foreign).toBe(false);
  });
});

describe('(d) anchors checked elsewhere (readAuditAnchor, no profile)', () => {
  it('with an authority: certified under its key, refused under another; the log check passes on the workstation', async () => {
    const { home, tom } = await makeLog({ authority: true });
    const profile = track(openProfile(home));
    const unlocked = await unlockIdentity(profile.db, tom.id, PASS);
    const anchor = await makeAuditAnchor(profile, signerOf(unlocked));
    unlocked.wipe();
    const read = readAuditAnchor;
    const trustKey = profile.db.prepare('SELECT public_key FROM trust').pluck().get() as Buffer;
    expect(await read(anchor, trustKey)).toMatchObject({ certified: true, anchor: { signer: tom.id } });
    expect(await read(anchor, null)).toMatchObject({ certified: false });
    const other = await ed25519Keygen();
    await expect(read(anchor, other.publicKey)).rejects.toMatchObject({ kind: 'security', code: 'anchor-not-certified' });
    expect(await verifyAuditAnchor(profile.db, anchor)).toMatchObject({ ok: true });
  });
});

describe('verify-export: the signer\'s certificate must have been valid at the export\'s date (issue 10, 9)', () => {
  /** A signed export of `profile` as `who`, dated now (as exportAudit writes it, role check aside). */
  async function signedExport(profile: Profile, who: IdentityRow, file: string): Promise<void> {
    appendEvent(profile.db, profile.workstation, { actor: who.id, action: 'audit.exported', object: file });
    const csv = Buffer.concat([...auditCsv(profile.db)]);
    const unlocked = await unlockIdentity(profile.db, who.id, PASS);
    const hash = sha256(csv);
    const signature = await ed25519Sign(unlocked.current.sigSecret, signedDigest('auditExport', hash));
    unlocked.wipe();
    const certificate = profile.db.prepare('SELECT text FROM certificates WHERE identity_id = ? ORDER BY issued DESC LIMIT 1').pluck().get(who.id) as string;
    writeFileSync(file, csv);
    writeFileSync(`${file}.sig`, JSON.stringify({ pli: 'audit-export', v: 1, signer: who.id, card: who.card, certificate, sha256: hash.toString('hex'), signature: Buffer.from(signature).toString('base64') }));
  }

  it('valid: certified; expired at the export date: refused; revoked before it: refused', async () => {
    const profile = track(initProfile(path.join(root, `x${++counter}`)).profile);
    const officer = await person(profile, 'Olivier Ssi');
    const ctx = contextFor(profile);
    await initAuthority(ctx, 'SSI DIPN 54', officer.id);
    const rita = await person(profile, 'Rita Lecteur');
    const victor = await person(profile, 'Victor Leroy');
    await certifyCard(ctx, rita.card, 'reader', 1);
    await certifyCard(ctx, victor.card, 'reader');

    const good = path.join(root, `good${counter}.csv`);
    await exportAudit(ctx, rita.id, good);
    expect(await verifyAuditExport(profile.db, good)).toMatchObject({ signer: rita.id, certified: true });

    // Rita's certificate lasted one day: an export she signs three days later is not certified.
    const expiry = certificateState(profile.db, rita.id).notAfter!;
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(expiry + 2 * 86400_000);
    const late = path.join(root, `late${counter}.csv`);
    await signedExport(profile, rita, late);
    vi.useRealTimers();
    await expect(verifyAuditExport(profile.db, late)).rejects.toMatchObject({ kind: 'security' });
    // The earlier export stays good: it was signed while the certificate was valid.
    expect(await verifyAuditExport(profile.db, good)).toMatchObject({ certified: true });

    await revokePerson(ctx, victor, 'mutation');
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.now() + 60_000);
    const revoked = path.join(root, `revoked${counter}.csv`);
    await signedExport(profile, victor, revoked);
    vi.useRealTimers();
    await expect(verifyAuditExport(profile.db, revoked)).rejects.toMatchObject({ kind: 'security' });
  });

});
