// The SSI authority (issue 3, docs/authority.md), in process: real profiles in temporary folders,
// real keys, real containers, the core functions the CLI and the app call. Every forgery of the
// issue is refused as a security error (exit 2) whose message names the problem in plain French;
// an id the profile does not know at all stays an input error (exit 1).
// Speed: personal identities are sealed with light Argon2id parameters (the unlock reads the
// parameters stored with each identity), so a whole authority + workstations costs milliseconds.
import { scriptedTable } from './handler-table.js';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { existsSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { openProfile, type Profile } from '../../electron/core/profile/profile.js';
import { verifyAuditAnchor } from '../../electron/core/services/audit.js';
import { createIdentity, getIdentity, importCard, listIdentities, newPersonCard, rotateIdentity, unlockIdentity, type UnlockedIdentity } from '../../electron/core/profile/identities.js';
import {
  certifyCard, endorseKeyChange, exportDirectory, getAuthority, initAuthority, provisionPerson, revokePerson, unlockAuthority,
} from '../../electron/core/authority/authority.js';
import { DAY, directoryFreshness, importDirectory, importKeyfile, installCertificate, KEY_CHANGE_SKEW_MS } from '../../electron/core/authority/directory.js';
import { certificateState, getTrust, type Role } from '../../electron/core/authority/certificates.js';
import { makeEnvelope } from '../../electron/core/authority/signed.js';
import { sendingWarningLine } from '../../electron/cli/status.js';
import { checkFreshnessForSending, hasAuthority, requireRecipient, resolveRecipients } from '../../electron/core/services/policy.js';
import { decrypt, encrypt } from '../../electron/core/services/containers.js';
import type { Context } from '../../electron/core/context.js';
import { readInfo } from '../../electron/core/container/open.js';
import { sealToFile } from '../../electron/core/container/seal.js';
import { fileSource } from '../../electron/core/container/sinks.js';
import { ed25519Sign } from '../../electron/core/crypto/keys.js';
import { fingerprint, signedDigest } from '../../electron/core/crypto/primitives.js';
import { scratchProfiles } from './scratch.js';
import { PliError } from '../../electron/core/errors.js';
import { formatFingerprint } from '../../shared/ids.js';
import { createHandlers } from '../../electron/ipc/handlers.js';

// Every Ed25519 key pair the core makes is recorded (the wrapper changes nothing else), so that
// the zeroing checks can look at secret keys the core holds only internally.
const keygens = vi.hoisted(() => ({ pairs: [] as { secretKey: Uint8Array }[] }));
vi.mock('../../electron/core/crypto/keys.js', async (original) => {
  const actual = await original<typeof import('../../electron/core/crypto/keys.js')>();
  return {
    ...actual,
    ed25519Keygen: async (seed?: Uint8Array) => {
      const pair = await actual.ed25519Keygen(seed);
      keygens.pairs.push(pair);
      return pair;
    },
  };
});

const PASS = 'une phrase de passe de test';
const LIGHT = { opslimit: 1, memlimitKib: 8 };
// tmpfs when there is one: the profile's SQLite runs with synchronous=FULL.
const { root, profile: newProfile, track } = scratchProfiles('pli-authority-unit-');
let counter = 0;
const DATA = path.join(root, 'IS101.txt');
writeFileSync(DATA, 'état nominatif des personnes habilitées\n');

interface Station { profile: Profile; db: Profile['db']; ctx: Context; id: string; name: string }
interface Authority extends Station { pin: string }

/** Unlocks with the known passphrase through the real unlockIdentity, once per identity and key
 * sets (a new key set after `id rotate` unlocks again); callers get fresh copies to wipe. Each
 * Argon2id call runs in a new worker (~0.1-0.3 s on a loaded machine): without this cache the
 * file would spend most of its time starting workers. */
function contextFor(profile: Profile, password: { value: string | null } = { value: null }): Context {
  const cache = new Map<string, UnlockedIdentity>();
  return {
    profile,
    unlocker: {
      unlock: async (row) => {
        const sets = profile.db.prepare('SELECT COUNT(*) FROM secrets WHERE identity_id = ?').pluck().get(row.id) as number;
        const key = `${row.id}/${sets}`;
        let unlocked = cache.get(key);
        if (!unlocked) {
          unlocked = await unlockIdentity(profile.db, row.id, PASS);
          cache.set(key, unlocked);
        }
        const keySets = unlocked.keySets.map((k) => ({ ...k, encSecret: Uint8Array.from(k.encSecret), sigSecret: Uint8Array.from(k.sigSecret) }));
        return { id: unlocked.id, name: unlocked.name, keySets, current: keySets[keySets.length - 1]!, integrityKey: null, wipe: () => keySets.forEach((k) => { k.encSecret.fill(0); k.sigSecret.fill(0); }) };
      },
      containerPassword: async () => password.value,
    },
  };
}

async function station(name: string, org: string, password?: { value: string | null }): Promise<Station> {
  const profile = newProfile();
  const slug = name.toLowerCase().replace(/[^a-z]/g, '');
  const created = await createIdentity(profile.db, { name, email: `${slug}@exemple.fr`, org }, PASS, LIGHT);
  const ctx = contextFor(profile, password);
  // Signed in once: the unlock attaches the profile's integrity key, which directory imports need
  // (docs/profile.md, "Integrity of trust state").
  (await ctx.unlocker.unlock(getIdentity(profile.db, created.id)!)).wipe();
  return { profile, db: profile.db, ctx, id: created.id, name };
}

async function newAuthority(name: string): Promise<Authority> {
  const officer = await station(`Officier ${name}`, name);
  const { fingerprint: pin } = await initAuthority(officer.ctx, name);
  return { ...officer, pin };
}

const cardOf = (s: Station): string => getIdentity(s.db, s.id)!.card;

/** A workstation with no personal identity (enough for directory imports): no Argon2id at all. */
function bare(): { db: Profile['db'] } {
  const profile = newProfile();
  return { db: profile.db };
}

interface Paper { id: string; card: string; encFpr: string; certificate: string | null }
/** A person who never needs a workstation here: a card made in memory, certified if `authority`. */
async function paper(authority: Authority | null, name: string, org: string, role: Role = 'reader', days?: number): Promise<Paper> {
  const fresh = await newPersonCard({ name, email: 'partenaire@exemple.fr', org });
  const certificate = authority ? (await certifyCard(authority.ctx, fresh.card, role, days)).certificate : null;
  return { id: fresh.id, card: fresh.card, encFpr: fingerprint('xwing', fresh.keys.encPublic).toString('hex'), certificate };
}

async function certify(authority: Authority, s: Station, role: Role, days?: number): Promise<string> {
  return (await certifyCard(authority.ctx, cardOf(s), role, days)).certificate;
}

/** Exports a directory and imports it on every station (pinning on the first import). */
async function publish(authority: Authority, stations: { db: Profile['db'] }[], options: Parameters<typeof exportDirectory>[1] = {}): Promise<string> {
  const { text } = await exportDirectory(authority.ctx, options);
  for (const s of stations) await importDirectory(s.db, text, getTrust(s.db) ? undefined : authority.pin);
  return text;
}

/** A person certified by `authority` on their own workstation (path a: card, certificate, directory). */
async function enrolled(authority: Authority, name: string, org: string, role: Role, days?: number): Promise<Station> {
  const s = await station(name, org);
  await certify(authority, s, role, days);
  return s;
}

function outDir(): string {
  return path.join(root, `out-${counter++}`);
}

async function send(from: Station, to: string[], options: { self?: boolean; usePassword?: boolean } = {}): Promise<string> {
  const out = path.join(root, `pli-${counter++}.pli`);
  await encrypt(from.ctx, { to, self: options.self ?? false, usePassword: options.usePassword ?? false, files: [DATA], out });
  return out;
}

async function open(at: Station, input: string, arrivedAt?: number): Promise<string> {
  const result = await decrypt(at.ctx, { usePassword: false, input, outDir: outDir(), arrivedAt });
  return result.senderId;
}

async function recipientFingerprints(file: string): Promise<string[]> {
  const source = await fileSource(file);
  try {
    const info = await readInfo(source);
    return info.header.recipients.map((r) => (r.type === 'xwing' ? r.keyFpr.toString('hex') : 'password')).sort();
  } finally {
    await source.close();
  }
}

const encFprOf = (s: Station): string =>
  (s.db.prepare("SELECT fpr FROM keys WHERE identity_id = ? AND kind = 'xwing' AND retired_at IS NULL").pluck().get(s.id) as Buffer).toString('hex');

/** Runs `action` and returns its PliError, checking kind, code and plain French words. */
async function refusal(action: () => unknown, code: string, words: RegExp, kind: 'security' | 'input' = 'security'): Promise<PliError> {
  let caught: unknown = null;
  try {
    await action();
  } catch (error) {
    caught = error;
  }
  expect(caught, `expected a refusal ${code}`).toBeInstanceOf(PliError);
  const error = caught as PliError;
  expect({ kind: error.kind, code: error.code, exit: error.exitCode }).toEqual({ kind, code, exit: kind === 'security' ? 2 : 1 });
  expect(error.message).toMatch(words);
  return error;
}

/** `pin` appears in no form a person could retype from `text` (dashes, spaces or none, any case). */
function expectNoFingerprint(text: string, pin: string): void {
  const squeezed = text.toUpperCase().replace(/[^0-9A-Z]/g, '');
  const groups = pin.toUpperCase().split('-');
  // Any two groups in a row: half of a fingerprint is already too much to show.
  for (let i = 0; i + 1 < groups.length; i++) expect(squeezed).not.toContain(groups[i]! + groups[i + 1]!);
}

/** What a station knows, to prove that a refused import stored nothing. */
function snapshot(s: Station): unknown {
  const tables = ['identities', 'keys', 'certificates', 'revocations', 'trust'];
  return Object.fromEntries(tables.map((t) => [t, s.db.prepare(`SELECT * FROM ${t}`).all()]));
}


afterEach(() => {
  vi.useRealTimers();
});

// One shared world for the read-mostly checks: the officer of the DIPN, Alice (operator, police),
// the town hall (Bob reader, Carol operator), a second authority X that nobody trusts.
let O: Authority;
let X: Authority;
let alice: Station;
let bob: Station;
let carol: Station;
let directory1: string;

beforeAll(async () => {
  O = await newAuthority('SSI DIPN 54');
  X = await newAuthority('Autorité pirate');
  alice = await enrolled(O, 'Alice Martin', 'Police municipale', 'operator');
  bob = await enrolled(O, 'Bob Durand', 'Mairie de Nancy', 'reader');
  carol = await enrolled(O, 'Carol Petit', 'Mairie de Nancy', 'operator');
  directory1 = await publish(O, [alice, bob, carol]);
});

describe('enrolment', () => {
  it('path (a): card certified by the officer, certificate installed on the workstation', async () => {
    const dana = await station('Dana Roux', 'Police municipale');
    await importDirectory(dana.db, (await exportDirectory(O.ctx)).text, O.pin);
    expect(certificateState(dana.db, dana.id).state).toBe('none');
    const certificate = await certify(O, dana, 'operator', 200);
    const installed = await installCertificate(dana.db, certificate);
    expect(installed.body.id).toBe(dana.id);
    const state = certificateState(dana.db, dana.id);
    expect(state).toMatchObject({ state: 'valid', role: 'operator' });
    expect(state.notAfter! - Date.now()).toBeGreaterThan(199 * DAY);
    expect(state.notAfter! - Date.now()).toBeLessThanOrEqual(200 * DAY);
  });

  it('path (b): provisioned key file imported with the one-time passphrase', async () => {
    const provisioned = await provisionPerson(O.ctx, { name: 'Eli Blanc', email: 'mairie@nancy.fr', org: 'Mairie de Nancy' }, 'reader');
    expect(provisioned.oneTimePassphrase).toMatch(/^[0-9a-z]{4}(-[0-9a-z]{4}){5}$/);
    const profile = newProfile();
    await importDirectory(profile.db, (await exportDirectory(O.ctx)).text, O.pin);
    await refusal(() => importKeyfile(profile.db, provisioned.keyfile, 'aaaa-bbbb-cccc-dddd-eeee-ffff', 'nouvelle phrase de passe'), 'bad-passphrase', /usage unique incorrecte/);
    const imported = await importKeyfile(profile.db, provisioned.keyfile, provisioned.oneTimePassphrase.toUpperCase(), 'nouvelle phrase de passe');
    expect(imported.id).toBe(provisioned.id);
    expect(getIdentity(profile.db, imported.id)?.own).toBe(1);
    expect(certificateState(profile.db, imported.id)).toMatchObject({ state: 'valid', role: 'reader' });
  });

  it('a key file signed by another authority is refused', async () => {
    const forged = await provisionPerson(X.ctx, { name: 'Faux Agent', email: 'faux@exemple.fr', org: 'Mairie de Nancy' }, 'operator');
    const profile = newProfile();
    await importDirectory(profile.db, (await exportDirectory(O.ctx)).text, O.pin);
    await refusal(() => importKeyfile(profile.db, forged.keyfile, forged.oneTimePassphrase, 'nouvelle phrase de passe'), 'bad-keyfile', /pas signé par l'autorité/);
  });
});

describe('forged certificates', () => {
  it('a certificate signed by another authority key is refused by id install', async () => {
    const forged = await certify(X, alice, 'officer');
    const before = snapshot(alice);
    await refusal(() => installCertificate(alice.db, forged), 'bad-certificate', /pas signé par l'autorité de ce poste/);
    expect(snapshot(alice)).toEqual(before);
  });

  it('a certificate for an id this workstation does not know at all stays an input error (exit 1)', async () => {
    const stranger = await paper(O, 'Inconnu Total', 'Ailleurs');
    await refusal(() => installCertificate(alice.db, stranger.certificate!), 'unknown-id', /pas d'identité personnelle sur ce poste/, 'input');
  });

  it('a directory carrying one certificate from another key is refused whole, nothing stored', async () => {
    const newcomer = await paper(O, 'Nouveau Venu', 'Mairie de Nancy');
    const good = newcomer.certificate!;
    const foreign = await certify(X, carol, 'officer');
    const authority = await unlockAuthority(O.ctx);
    const trust = getTrust(bob.db)!;
    let text: string;
    try {
      text = await makeEnvelope('directory', {
        v: 1, authority: { name: authority.row.name, key: authority.row.public_key.toString('base64') },
        serial: trust.serial + 100, issued: Date.now(), nextUpdate: Date.now() + 30 * DAY,
        policy: { allowPassword: false, graceDays: 30 }, certificates: [good, foreign], revocations: [], keyChange: null,
      }, authority.secretKey);
    } finally {
      authority.wipe();
    }
    const before = snapshot(bob);
    await refusal(() => importDirectory(bob.db, text), 'bad-directory-certificate', /certificat invalide.*pas signé par l'autorité/);
    expect(snapshot(bob)).toEqual(before);
    expect(getIdentity(bob.db, newcomer.id)).toBeUndefined();
  });
});

describe('directory import', () => {
  it('first import without --pin stores nothing and says a fingerprint is required, never the file\'s (exit 1)', async () => {
    const fresh = bare();
    const error = await refusal(() => importDirectory(fresh.db, directory1), 'pin-required', /Première importation.*obligatoire.*faites-vous dicter/, 'input');
    expectNoFingerprint(error.message, O.pin);
    expect(getTrust(fresh.db)).toBeUndefined();
  });

  it('a swapped pin at first import is refused without showing the file\'s fingerprint, nothing stored', async () => {
    const fresh = bare();
    const misheard = await refusal(() => importDirectory(fresh.db, directory1, X.pin), 'pin-mismatch', /n'est pas celle que vous avez indiquée/);
    expectNoFingerprint(misheard.message, O.pin);
    // The forger's own directory, with the forger's pin read by the forger on the phone, against
    // the real pin the person typed: retyping what the refusal shows must not be possible.
    const forged = (await exportDirectory(X.ctx)).text;
    const swapped = await refusal(() => importDirectory(fresh.db, forged, O.pin), 'pin-mismatch', /appelez l'officier SSI/);
    expectNoFingerprint(swapped.message, X.pin);
    expect(getTrust(fresh.db)).toBeUndefined();
    // The pin is typed by a person: any case, dashes or spaces.
    await importDirectory(fresh.db, directory1, O.pin.toLowerCase().replace(/-/g, ' '));
    expect(getTrust(fresh.db)?.fpr.equals(getAuthority(O.db)!.fpr)).toBe(true);
  });

  it('the desktop app (IPC handler table): a wrong pin answers without the file\'s fingerprint, nothing stored', async () => {
    const home = path.join(root, `home-${counter++}`);
    const file = path.join(root, `directory-${counter++}.json`);
    writeFileSync(file, (await exportDirectory(X.ctx)).text);
    const table = createHandlers({
      home, emitProgress: () => undefined, emitMailEvent: () => undefined,
      shell: { openFile: async () => file, saveFile: async () => null, chooseFolder: async () => null, showInFolder: () => undefined },
    });
    try {
      expect((await table.invoke('profile:init', {})).ok).toBe(true);
      // The person types the real authority's pin; the file was swapped for the forger's.
      const answer = await table.invoke('directory:import', { pin: O.pin });
      expect(answer.ok).toBe(false);
      if (answer.ok) return;
      expect({ kind: answer.error.kind, code: answer.error.code }).toEqual({ kind: 'security', code: 'pin-mismatch' });
      expect(answer.error.message).toMatch(/n'est pas celle que vous avez indiquée.*appelez l'officier SSI/);
      expectNoFingerprint(JSON.stringify(answer), X.pin);
      const status = await table.invoke('profile:status', {});
      expect(status.ok && (status.value as { authority: unknown }).authority).toBe(null);
      const required = await table.invoke('directory:import', {});
      expect(!required.ok && required.error.code).toBe('pin-required');
      expectNoFingerprint(JSON.stringify(required), X.pin);
    } finally {
      table.close();
    }
  });

  it('an older or equal serial is refused (no rollback)', async () => {
    const s = bare();
    const older = (await exportDirectory(O.ctx)).text;
    const newer = (await exportDirectory(O.ctx)).text;
    await importDirectory(s.db, newer, O.pin);
    await refusal(() => importDirectory(s.db, older), 'rollback', /n'est pas plus récent/);
    await refusal(() => importDirectory(s.db, newer), 'rollback', /n'est pas plus récent/);
  });

  it('a directory edited by one byte (a name in the body, or the signature) is refused', async () => {
    const s = bare();
    const text = (await exportDirectory(O.ctx)).text;
    const renamed = text.replace('SSI DIPN 54', 'SSI DIPN 55');
    expect(renamed).not.toBe(text);
    await refusal(() => importDirectory(s.db, renamed, O.pin), 'bad-directory-signature', /a été modifié/);
    const outer = JSON.parse(text) as { signature: string };
    const sig = outer.signature;
    const flipped = sig.slice(0, 10) + (sig[10] === 'A' ? 'B' : 'A') + sig.slice(11);
    await refusal(() => importDirectory(s.db, text.replace(sig, flipped), O.pin), 'bad-directory-signature', /a été modifié/);
    expect(getTrust(s.db)).toBeUndefined();
  });

  it('no single-byte change anywhere in the signed body is accepted', async () => {
    const s = bare();
    const text = (await exportDirectory(O.ctx)).text;
    const bytes = Buffer.from(text, 'utf8');
    const start = text.indexOf('"body"') + 8;
    const end = text.indexOf('"signature"');
    let accepted = 0;
    const kinds = new Set<string>();
    for (let i = start; i < end; i += 17) {
      const copy = Buffer.from(bytes);
      copy[i] = copy[i]! ^ 0x04;
      try {
        await importDirectory(s.db, copy.toString('utf8'), O.pin);
        accepted++;
      } catch (error) {
        expect(error).toBeInstanceOf(PliError);
        kinds.add(`${(error as PliError).kind}/${(error as PliError).code}`);
      }
    }
    expect(accepted).toBe(0);
    expect(kinds.has('security/bad-directory-signature')).toBe(true);
    expect(getTrust(s.db)).toBeUndefined();
  });

  it('a changed authority key without a signed handover is refused', async () => {
    const s = bare();
    await importDirectory(s.db, (await exportDirectory(O.ctx)).text, O.pin);
    const other = (await exportDirectory(X.ctx)).text;
    await refusal(() => importDirectory(s.db, other), 'authority-changed', /autre autorité.*sans passation signée/);
    expect(getTrust(s.db)!.fpr.equals(getAuthority(O.db)!.fpr)).toBe(true);
  });
});

interface KeyChangeOptions {
  /** The body's issue date (default now). */
  issued?: number;
  /** The directory the endorsement was signed for (default: this one). */
  endorsedFor?: { serial: number; issued: number };
  /** Overrides of the keyChange object as carried (an attacker's edits). */
  carried?: Record<string, unknown>;
}

/** A directory of `to` (serial `serial`) announcing a key change endorsed by `endorser`'s key. */
async function keyChangeDirectory(from: Authority, to: Authority, endorser: Authority, serial: number, extraCertificates: string[] = [], options: KeyChangeOptions = {}): Promise<string> {
  const oldKey = await unlockAuthority(endorser.ctx);
  const newKey = await unlockAuthority(to.ctx);
  try {
    const issued = options.issued ?? Date.now();
    const target = options.endorsedFor ?? { serial, issued };
    const endorsed = await endorseKeyChange(oldKey, newKey.row.public_key, target.serial, target.issued);
    const certificates = to.db.prepare('SELECT text FROM issued_certificates ORDER BY serial').pluck().all() as string[];
    return await makeEnvelope('directory', {
      v: 1, authority: { name: newKey.row.name, key: newKey.row.public_key.toString('base64') },
      serial, issued, nextUpdate: issued + 30 * DAY, policy: { allowPassword: false, graceDays: 30 },
      certificates: [...certificates, ...extraCertificates], revocations: [],
      keyChange: { ...endorsed, previous: getAuthority(from.db)!.public_key.toString('base64'), ...options.carried },
    }, newKey.secretKey);
  } finally {
    oldKey.wipe();
    newKey.wipe();
  }
}

describe('authority key change', () => {
  let Y: Authority;
  let frank: Paper;
  let s: { db: Profile['db'] };
  beforeAll(async () => {
    Y = await newAuthority('SSI DIPN 54 (nouvelle clé)');
    frank = await paper(Y, 'Frank Noir', 'Mairie de Nancy');
    s = bare();
    await importDirectory(s.db, (await exportDirectory(O.ctx)).text, O.pin);
  });

  it('an endorsement signed by the wrong key is refused', async () => {
    const selfEndorsed = await keyChangeDirectory(O, Y, Y, getTrust(s.db)!.serial + 1);
    await refusal(() => importDirectory(s.db, selfEndorsed), 'authority-changed', /sans passation signée par l'ancienne/);
    const endorsedForAnother = await keyChangeDirectory(O, Y, X, getTrust(s.db)!.serial + 1);
    await refusal(() => importDirectory(s.db, endorsedForAnother), 'authority-changed', /sans passation/);
  });

  it('a change endorsed by the pinned key is accepted and the pin moves', async () => {
    const text = await keyChangeDirectory(O, Y, O, getTrust(s.db)!.serial + 1);
    const result = await importDirectory(s.db, text);
    expect(result.keyChanged).toBe(true);
    expect(formatFingerprint(getTrust(s.db)!.fpr)).toBe(Y.pin);
    // The old key is no longer trusted: its next directory needs a handover signed by the new one.
    const fromOldKey = (await exportDirectory(O.ctx)).text;
    await refusal(() => importDirectory(s.db, fromOldKey), 'authority-changed', /autre autorité/);
  });

  it('an endorsement replayed on another serial is refused, whether left as signed or edited', async () => {
    const pinned = bare();
    await importDirectory(pinned.db, (await exportDirectory(O.ctx)).text, O.pin);
    const serial = getTrust(pinned.db)!.serial;
    const issued = Date.now();
    // Y holds an endorsement genuinely signed by O for directory serial+1 and reuses it later.
    const replayed = await keyChangeDirectory(O, Y, O, serial + 5, [], { issued, endorsedFor: { serial: serial + 1, issued } });
    await refusal(() => importDirectory(pinned.db, replayed), 'key-change-replayed', /signée pour un autre annuaire.*appelez l'officier SSI/);
    // Editing the carried serial to match the directory breaks the old key's signature.
    const edited = await keyChangeDirectory(O, Y, O, serial + 5, [], { issued, endorsedFor: { serial: serial + 1, issued }, carried: { serial: serial + 5 } });
    await refusal(() => importDirectory(pinned.db, edited), 'authority-changed', /sans passation signée/);
    // Same serial, another date: refused too.
    const redated = await keyChangeDirectory(O, Y, O, serial + 1, [], { issued: issued + 1000, endorsedFor: { serial: serial + 1, issued } });
    await refusal(() => importDirectory(pinned.db, redated), 'key-change-replayed', /numéro ou date différents/);
    expect(formatFingerprint(getTrust(pinned.db)!.fpr)).toBe(O.pin);
  });

  it('a v1 endorsement, bound to no directory, is refused: it could be replayed at any time', async () => {
    const pinned = bare();
    await importDirectory(pinned.db, (await exportDirectory(O.ctx)).text, O.pin);
    const newKey = getAuthority(Y.db)!.public_key;
    const oldKey = await unlockAuthority(O.ctx);
    let v1: string;
    try {
      v1 = Buffer.from(await ed25519Sign(oldKey.secretKey, signedDigest('directory', Buffer.from('key-change\0', 'ascii'), newKey))).toString('base64');
    } finally {
      oldKey.wipe();
    }
    const text = await keyChangeDirectory(O, Y, O, getTrust(pinned.db)!.serial + 1, [], { carried: { endorsement: v1, serial: undefined, issued: undefined } });
    await refusal(() => importDirectory(pinned.db, text), 'authority-changed', /sans passation signée/);
    expect(formatFingerprint(getTrust(pinned.db)!.fpr)).toBe(O.pin);
  });

  it('an endorsement dated in the future (beyond the clock skew) or before the pinned directory is refused', async () => {
    const pinned = bare();
    await importDirectory(pinned.db, (await exportDirectory(O.ctx)).text, O.pin);
    const trust = getTrust(pinned.db)!;
    const future = await keyChangeDirectory(O, Y, O, trust.serial + 1, [], { issued: Date.now() + KEY_CHANGE_SKEW_MS + 60_000 });
    await refusal(() => importDirectory(pinned.db, future), 'key-change-date', /dans le futur.*date et l'heure de ce poste/);
    const older = await keyChangeDirectory(O, Y, O, trust.serial + 1, [], { issued: trust.issued - 1000 });
    await refusal(() => importDirectory(pinned.db, older), 'key-change-date', /plus ancienne que l'annuaire déjà importé/);
    expect(formatFingerprint(getTrust(pinned.db)!.fpr)).toBe(O.pin);
    // Within the skew it is accepted: the officer's clock may be a little ahead.
    const ahead = await keyChangeDirectory(O, Y, O, trust.serial + 1, [], { issued: Date.now() + KEY_CHANGE_SKEW_MS / 2 });
    expect((await importDirectory(pinned.db, ahead)).keyChanged).toBe(true);
  });

  it('a refused key change never shows the new key\'s fingerprint', async () => {
    const pinned = bare();
    await importDirectory(pinned.db, (await exportDirectory(O.ctx)).text, O.pin);
    const error = await refusal(async () => importDirectory(pinned.db, await keyChangeDirectory(O, Y, Y, getTrust(pinned.db)!.serial + 1)), 'authority-changed', /autre autorité/);
    expectNoFingerprint(error.message, Y.pin);
  });

  // Regression: serials are unique per authority only; after an endorsed key change the new
  // authority's certificates reusing the old one's serials must be kept (Frank: Y's serial 2).
  it('after the change, people certified by the new key are valid recipients', () => {
    expect(certificateState(s.db, frank.id).state).toBe('valid');
  });
});

describe('revocation', () => {
  it('a revoked sender: accepted if the container arrived before the revocation was imported, refused after', async () => {
    const dave = await enrolled(O, 'Dave Leroy', 'Mairie de Nancy', 'operator');
    const reader = await enrolled(O, 'Lise Morel', 'Mairie de Nancy', 'reader');
    await publish(O, [dave, reader]);
    const container = await send(dave, [reader.id]);
    const arrived = Date.now();
    await new Promise((r) => setTimeout(r, 5));
    await revokePerson(O.ctx, getIdentity(O.db, dave.id)!, 'départ du service');
    await publish(O, [reader]);
    const importedAt = (reader.db.prepare('SELECT imported_at FROM revocations WHERE identity_id = ?').pluck().get(dave.id) as number);
    expect(importedAt).toBeGreaterThan(arrived);
    expect(await open(reader, container, arrived)).toBe(dave.id);
    const error = await refusal(() => open(reader, container), 'sender-revoked', /a été révoqué \(départ du service\) avant l'arrivée/);
    expect(error.message).toContain('Dave Leroy');
    // Arrival just after the import is refused too: the station's clock, not the authority's.
    await refusal(() => open(reader, container, importedAt), 'sender-revoked', /révoqué/);
  });

  it('a revoked person is no longer a recipient, neither by id nor in an organisation', async () => {
    const s = await enrolled(O, 'Gaston Vidal', 'Gendarmerie', 'operator');
    const target = await paper(O, 'Hugo Lenoir', 'Gendarmerie');
    await publish(O, [s]);
    expect(resolveRecipients(s.db, ['org:Gendarmerie']).map((r) => r.id).sort()).toEqual([s.id, target.id].sort());
    await revokePerson(O.ctx, getIdentity(O.db, target.id)!, 'perte du poste');
    await publish(O, [s]);
    await refusal(() => send(s, [target.id]), 'recipient-not-certified', /ne peut pas être destinataire : certificat révoqué \(perte du poste\)/);
    expect(resolveRecipients(s.db, ['org:Gendarmerie']).map((r) => r.id)).toEqual([s.id]);
  });
});

describe('expiry', () => {
  it('an expired recipient is not a recipient (by id or by organisation)', async () => {
    const sender = await enrolled(O, 'Irène Faure', 'Police municipale', 'operator');
    const eve = await paper(O, 'Eve Garnier', 'Douanes', 'reader', 1);
    const stays = await paper(O, 'Jules Caron', 'Douanes', 'reader', 30);
    await publish(O, [sender]);
    const later = Date.now() + 2 * DAY;
    expect(() => requireRecipient(sender.db, getIdentity(sender.db, eve.id)!)).not.toThrow();
    await refusal(() => requireRecipient(sender.db, getIdentity(sender.db, eve.id)!, later), 'recipient-not-certified', /certificat expiré le/);
    expect(resolveRecipients(sender.db, ['org:Douanes'], later).map((r) => r.id)).toEqual([stays.id]);
    // Through encrypt itself, with the clock two days ahead.
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(later);
    await refusal(() => send(sender, [eve.id]), 'recipient-not-certified', /Eve Garnier.*expiré/);
    const out = await send(sender, ['org:Douanes']);
    vi.useRealTimers();
    expect(await recipientFingerprints(out)).toEqual([stays.encFpr]);
  });

  it('an expired sender can neither send nor be accepted after expiry', async () => {
    const gina = await enrolled(O, 'Gina Roussel', 'Police municipale', 'operator', 1);
    const reader = await enrolled(O, 'Karim Benali', 'Police municipale', 'reader');
    await publish(O, [gina, reader]);
    const container = await send(gina, [reader.id]);
    expect(await open(reader, container)).toBe(gina.id);
    await refusal(() => open(reader, container, Date.now() + 2 * DAY), 'sender-expired', /avait expiré à l'arrivée/);
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.now() + 2 * DAY);
    await refusal(() => send(gina, [reader.id]), 'not-habilitated', /ne figure pas sur la liste des personnes habilitées.*expiré/);
  });
});

describe('cards', () => {
  it('a card whose self-signature does not match its body is refused by certify and by id import', async () => {
    const card = cardOf(carol);
    const edited = card.replace('Carol Petit', 'Carol Petiu');
    expect(edited).not.toBe(card);
    const serialBefore = getAuthority(O.db)!.next_cert_serial;
    await refusal(() => certifyCard(O.ctx, edited, 'officer'), 'bad-card', /l'auto-signature ne correspond pas au contenu/);
    expect(getAuthority(O.db)!.next_cert_serial).toBe(serialBefore);
    await refusal(() => importCard(alice.db, edited), 'bad-card', /auto-signature/);
  });
});

describe('organisations as recipients', () => {
  it('org:NAME reaches every certified, valid, unrevoked member, and the header lists exactly their keys', async () => {
    const org = 'Mairie de Toul';
    const sender = await enrolled(O, 'Léa Simon', 'Police municipale', 'operator');
    const m1 = await enrolled(O, 'Marc Toul', org, 'reader');
    const m2 = await enrolled(O, 'Nina Toul', org, 'operator');
    const revoked = await enrolled(O, 'Oscar Toul', org, 'reader');
    const selfSigned = await paper(null, 'Paul Toul', org); // known by card only, never certified
    await revokePerson(O.ctx, getIdentity(O.db, revoked.id)!, 'mutation');
    await publish(O, [sender, m1, m2, revoked]);
    await importCard(sender.db, selfSigned.card);
    const out = await send(sender, [`org:${org.toUpperCase()}`]);
    expect(await recipientFingerprints(out)).toEqual([encFprOf(m1), encFprOf(m2)].sort());
    expect(await open(m1, out)).toBe(sender.id);
    expect(await open(m2, out)).toBe(sender.id);
    // The revoked member cannot open it, and is told who can.
    const error = await refusal(() => open(revoked, out), 'not-addressed', /n'est pas adressé/);
    expect(error.message).toContain('Marc Toul');
    expect(error.message).toContain('Nina Toul');
  });

  it('an organisation with no valid member is an input error', async () => {
    await refusal(() => send(alice, ['org:Nulle Part']), 'empty-org', /Aucune personne certifiée et valide/, 'input');
  });
});

describe('policy once an authority is pinned', () => {
  let plain: Station;
  beforeAll(async () => {
    plain = await station('Pat Sansautorité', 'Association');
    await importCard(plain.db, cardOf(bob));
    await importCard(alice.db, cardOf(plain));
  });

  it('encrypt refuses a recipient with a self-signed card only', async () => {
    await refusal(() => send(alice, [plain.id]), 'recipient-not-certified', /Pat Sansautorité.*certificat aucun/);
  });

  it('decrypt refuses a sender without certificate, and an unknown sender', async () => {
    // Pat's profile has no authority: foundation behaviour, self-signed cards are enough to send.
    expect(hasAuthority(plain.db)).toBe(false);
    expect(certificateState(plain.db, plain.id).state).toBe('none');
    const container = await send(plain, [bob.id]);
    await importCard(bob.db, cardOf(plain));
    await refusal(() => open(bob, container), 'sender-not-certified', /n'a pas de certificat de l'autorité de ce poste/);
    const unknown = await send(plain, [bob.id]);
    await refusal(() => open(carol, unknown), 'unknown-sender', /Expéditeur inconnu/);
  });

  it('password recipients are refused unless the directory policy allows them', async () => {
    const password = { value: 'mot de passe du pli partagé' };
    const sender = await station('Quentin Mot', 'Police municipale', password);
    await certify(O, sender, 'operator');
    await publish(O, [sender]);
    await refusal(() => send(sender, [], { usePassword: true }), 'password-forbidden', /mot de passe ne sont pas autorisés/);
    await publish(O, [sender], { allowPassword: true });
    expect(getTrust(sender.db)!.allow_password).toBe(1);
    const out = await send(sender, [], { usePassword: true });
    expect(await recipientFingerprints(out)).toEqual(['password']);
    // Forbidden again by the next directory: such a container is not opened either.
    await publish(O, [sender], { allowPassword: false });
    await refusal(() => decrypt(sender.ctx, { usePassword: true, input: out, outDir: outDir() }), 'password-forbidden', /ne sont pas autorisés par l'annuaire/);
  });
});

describe('roles', () => {
  it('a reader cannot encrypt; the message names the needed role', async () => {
    await refusal(() => send(bob, [alice.id]), 'role', /rôle « opérateur ».*rôle « lecteur »/);
  });

  // The receiver also checks the sender's role: a reader's modified client cannot send.
  it('a container sealed by a reader (modified client) is refused by the recipient', async () => {
    const keys = await unlockIdentity(bob.db, bob.id, PASS);
    const out = path.join(root, `pli-${counter++}.pli`);
    const enc = alice.db.prepare("SELECT fpr, public_key FROM keys WHERE identity_id = ? AND kind = 'xwing'").get(alice.id) as { fpr: Buffer; public_key: Buffer };
    await sealToFile([DATA], out, {
      senderId: bob.id,
      signing: { keyFpr: keys.current.sigFpr, secretKey: keys.current.sigSecret },
      recipients: { kind: 'keys', keys: [{ keyFpr: enc.fpr, publicKey: enc.public_key }] },
    });
    keys.wipe();
    await refusal(() => open(alice, out), 'sender-role', /rôle/);
  });

  it('a person without the officer role cannot certify, on any profile (security, exit 2, names the role)', async () => {
    await refusal(() => certifyCard(alice.ctx, cardOf(bob), 'officer'), 'role', /demande le rôle « officier SSI »/);
  });

  it('the authority refuses to certify when its officer no longer holds the officer role', async () => {
    const Z = await newAuthority('Autorité rétrogradée');
    // A newer certificate of the officer's own keys, with the operator role, supersedes the first.
    await new Promise((resolve) => setTimeout(resolve, 5));
    await certifyCard(Z.ctx, cardOf(Z), 'operator');
    await refusal(() => certifyCard(Z.ctx, cardOf(bob), 'reader'), 'role', /réservée à l'officier SSI/);
  });

  it('a certificate row edited in the table (role) is refused as tampering, not used', async () => {
    const Z = await newAuthority('Autorité modifiée');
    // The attacker of docs/profile.md: the officer's certificate row now says operator.
    Z.db.prepare("UPDATE certificates SET role = 'operator' WHERE identity_id = ?").run(Z.id);
    await refusal(() => certifyCard(Z.ctx, cardOf(bob), 'reader'), 'profile-tampered', /modifié en dehors de Pli/);
  });
});

describe('directory freshness', () => {
  it('past nextUpdate a warning, past the grace period sending is refused', async () => {
    const s = bare();
    await publish(O, [s], { validityDays: 10, graceDays: 5 });
    const now = Date.now();
    expect(checkFreshnessForSending(s.db, now)).toEqual([]);
    expect(directoryFreshness(s.db, now + 11 * DAY).state).toBe('stale');
    // A typed value (kind, dates, days), worded by each front end: no sentence travels upward.
    const warnings = checkFreshnessForSending(s.db, now + 11 * DAY);
    const next = directoryFreshness(s.db, now).nextUpdate!;
    expect(warnings).toEqual([{ kind: 'directory-stale', nextUpdate: next, refuseAfter: next + 5 * DAY, daysLate: Math.floor((now + 11 * DAY - next) / DAY), daysLeft: Math.ceil((next + 5 * DAY - now - 11 * DAY) / DAY) }]);
    expect(sendingWarningLine(warnings[0]!)).toMatch(/^Attention : l'annuaire devait être mis à jour le \d{4}-\d{2}-\d{2}\. Sans nouvel annuaire, les envois seront refusés à partir du \d{4}-\d{2}-\d{2}\.$/);
    expect(directoryFreshness(s.db, now + 16 * DAY).state).toBe('expired');
    await refusal(() => checkFreshnessForSending(s.db, now + 16 * DAY), 'directory-expired', /n'a pas été mis à jour.*envoi refusé/);
    // Issue 17: the refusal names the day it began (the end of the grace period).
    await refusal(() => checkFreshnessForSending(s.db, now + 16 * DAY), 'directory-expired', new RegExp(`envoi refusé depuis le ${new Date(next + 5 * DAY).toISOString().slice(0, 10)}`));
  });

  it('the default grace period is 30 days, and encrypt itself warns then refuses', async () => {
    const W = await newAuthority('Autorité par défaut');
    const s = await enrolled(W, 'Sarah Grâce', 'Police municipale', 'operator');
    const peer = await paper(W, 'Théo Pair', 'Police municipale');
    await publish(W, [s]);
    const fresh = directoryFreshness(s.db);
    expect(fresh.refuseAfter! - fresh.nextUpdate!).toBe(30 * DAY);
    await publish(W, [s], { validityDays: -1, graceDays: 30 });
    const out = path.join(root, `pli-${counter++}.pli`);
    const result = await encrypt(s.ctx, { to: [peer.id], self: false, usePassword: false, files: [DATA], out });
    expect(result.warnings.map((w) => w.kind)).toEqual(['directory-stale']);
    expect(result.warnings.map(sendingWarningLine).join(' ')).toMatch(/devait être mis à jour/);
    await publish(W, [s], { validityDays: -3, graceDays: 1 });
    await refusal(() => send(s, [peer.id]), 'directory-expired', /Importez le dernier annuaire/);
    await publish(W, [s]);
    await expect(send(s, [peer.id])).resolves.toMatch(/\.pli$/);
  });
});

describe('key rotation', () => {
  it('old containers still open with the old keys; the new keys need a new certificate to send', async () => {
    const tom = await enrolled(O, 'Tom Rotation', 'Police municipale', 'operator');
    const peer = await enrolled(O, 'Ugo Pair', 'Police municipale', 'operator');
    await publish(O, [tom, peer]);
    const toTom = await send(peer, [tom.id]);
    const own = await send(tom, [peer.id], { self: true });
    const rotated = await rotateIdentity(tom.db, tom.id, PASS);
    // Still on the list (old certificate), but the new keys are not certified: no sending yet.
    expect(certificateState(tom.db, tom.id)).toMatchObject({ state: 'valid', forCurrentKeys: false });
    await refusal(() => send(tom, [peer.id]), 'keys-not-certified', /nouvelles clés de Tom Rotation ne sont pas encore certifiées/);
    const certificate = (await certifyCard(O.ctx, rotated.card, 'operator')).certificate;
    await installCertificate(tom.db, certificate);
    expect(certificateState(tom.db, tom.id)).toMatchObject({ state: 'valid', role: 'operator' });
    expect(await open(tom, toTom)).toBe(peer.id);
    expect(await open(tom, own)).toBe(tom.id);
    // Signed with the new key: unknown to the peer until it imports the new directory.
    const fresh = await send(tom, [peer.id]);
    await refusal(() => open(peer, fresh), 'unknown-sender', /Expéditeur inconnu/);
    await publish(O, [peer]);
    expect(await open(peer, fresh)).toBe(tom.id);
    // The old signature still verifies (old certificate kept), and peer now encrypts to the new key.
    expect(await open(peer, own)).toBe(tom.id);
    expect(encFprOf({ ...peer, id: tom.id })).toBe(rotated.encFpr.toString('hex'));
  });

  // Regression: between `id rotate` and the new certificate, the old certificate keeps the person
  // on the list for reading (the old private keys stay usable for old containers).
  it('right after rotation, before re-certification, old containers still open', async () => {
    const vic = await enrolled(O, 'Vic Attente', 'Police municipale', 'reader');
    const peer = await enrolled(O, 'Wes Envoi', 'Police municipale', 'operator');
    await publish(O, [vic, peer]);
    const toVic = await send(peer, [vic.id]);
    await rotateIdentity(vic.db, vic.id, PASS);
    expect(await open(vic, toVic)).toBe(peer.id);
  });

  // Regression: an officer who rotates keys keeps the authority and certifies his new keys.
  it('the officer can still certify his own new keys after rotating them', async () => {
    const W = await newAuthority('Autorité tournante');
    const rotated = await rotateIdentity(W.db, W.id, PASS);
    const result = await certifyCard(W.ctx, rotated.card, 'officer');
    expect(result.id).toBe(W.id);
  });
});

describe('secret keys are wiped on refusals too', () => {
  const wiped = (key: Uint8Array): boolean => key.every((byte) => byte === 0);

  it('an authority row whose public key was replaced: the unwrapped authority key is wiped before the refusal', async () => {
    const Z = await newAuthority('SSI essai effacement');
    // The attacker of docs/profile.md writes another public key into the authority row.
    Z.db.prepare('UPDATE authority SET public_key = ? WHERE one = 1').run(getAuthority(X.db)!.public_key);
    keygens.pairs.length = 0;
    await refusal(() => certifyCard(Z.ctx, cardOf(alice), 'reader'), 'authority-locked', /ne correspond pas à son empreinte/);
    expect(keygens.pairs.length).toBeGreaterThan(0);
    expect(keygens.pairs.every((pair) => wiped(pair.secretKey))).toBe(true);
  });

  it('provisioning refused at the officer\'s passphrase: the new person\'s private key is wiped', async () => {
    const refusing: Context = {
      profile: O.profile,
      unlocker: {
        unlock: async () => { throw new PliError('security', 'bad-passphrase', 'Phrase de passe incorrecte.'); },
        containerPassword: async () => null,
      },
    };
    keygens.pairs.length = 0;
    await refusal(() => provisionPerson(refusing, { name: 'Gilles Blanc', email: 'gilles@exemple.fr', org: 'Mairie de Nancy' }, 'reader'), 'bad-passphrase', /incorrecte/);
    expect(keygens.pairs.length).toBe(1);
    expect(wiped(keygens.pairs[0]!.secretKey)).toBe(true);
  });
});

describe('a profile with no authority', () => {
  it('keeps the foundation behaviour: self-signed cards, no certificate needed', async () => {
    const a = await station('Xavier Libre', 'Association');
    const b = await station('Yann Libre', 'Association');
    await importCard(a.db, cardOf(b));
    await importCard(b.db, cardOf(a));
    expect(hasAuthority(a.db)).toBe(false);
    const out = await send(a, [b.id]);
    expect(await open(b, out)).toBe(a.id);
    expect(listIdentities(a.db).map((r) => certificateState(a.db, r.id).state)).toEqual(['none', 'none']);
  });
});

describe('the desktop writers (IPC) never replace a file (issue 10)', () => {
  // The attacker of docs/profile.md can write next to where the officer saves: a file or a symlink
  // planted at the chosen name must stay as it is, and the refusal comes before any work.
  it('card, directory, certificate, key file, audit export: « existe déjà », nothing replaced, nothing issued', async () => {
    const home = path.join(root, `app-${counter++}`);
    const { opens, saves, table, call } = scriptedTable(home);
    const refused = async (channel: string, request: unknown, target: string) => {
      const answer = await table.invoke(channel, request);
      expect(answer.ok, `${channel} should refuse`).toBe(false);
      if (answer.ok) return;
      expect({ kind: answer.error.kind, code: answer.error.code }).toEqual({ kind: 'input', code: 'exists' });
      expect(answer.error.message).toContain(path.basename(target));
      expect(answer.error.message).toMatch(/existe déjà.*Choisissez un autre nom/);
    };
    const actions = async () => (await call<{ events: { action: string }[] }>('events:list', {})).events.map((e) => e.action);
    const planted = (name: string) => {
      const file = path.join(root, `${name}-${counter++}`);
      writeFileSync(file, 'ne pas remplacer\n');
      return file;
    };
    const untouched = (file: string) => expect(readFileSync(file, 'utf8')).toBe('ne pas remplacer\n');
    try {
      await call('profile:init', {});
      const created = await call<{ person: { id: string } }>('identities:create', { opId: 'op-1', name: 'Officier Test', email: 'ssi@exemple.fr', org: 'SSI', passphrase: PASS });
      await call('authority:init', { name: 'SSI Test' });

      const card = planted('card');
      saves.push(card);
      await refused('identities:exportCard', { id: created.person.id }, card);
      untouched(card);
      // A symlink planted at the name is not followed: the file it points to stays as it is.
      const elsewhere = planted('elsewhere');
      const link = path.join(root, `link-${counter++}.json`);
      symlinkSync(elsewhere, link);
      saves.push(link);
      await refused('identities:exportCard', { id: created.person.id }, link);
      untouched(elsewhere);
      // A new name is written as before.
      const fresh = path.join(root, `card-${counter++}.json`);
      saves.push(fresh);
      expect(await call('identities:exportCard', { id: created.person.id })).toMatchObject({ status: 'done', path: fresh });
      expect(readFileSync(fresh, 'utf8')).toContain(created.person.id);

      const directory = planted('directory');
      saves.push(directory);
      await refused('authority:exportDirectory', {}, directory);
      untouched(directory);

      const people = (await call<{ people: unknown[] }>('identities:list', {})).people.length;
      const keyfile = planted('keyfile');
      saves.push(keyfile);
      await refused('authority:provision', { name: 'Dana Roux', email: 'dana@exemple.fr', org: 'Mairie', role: 'reader', days: 30 }, keyfile);
      untouched(keyfile);
      expect((await call<{ people: unknown[] }>('identities:list', {})).people.length).toBe(people);

      const cardFile = path.join(root, `incoming-${counter++}.json`);
      writeFileSync(cardFile, (await newPersonCard({ name: 'Eve Blanc', email: 'eve@exemple.fr', org: 'Mairie' })).card);
      const certificate = planted('certificate');
      opens.push(cardFile);
      saves.push(certificate);
      await refused('authority:certify', { role: 'reader', days: 30 }, certificate);
      untouched(certificate);

      const csv = planted('journal');
      saves.push(csv);
      await refused('audit:export', {}, csv);
      untouched(csv);
      // The signature beside it is a file the export would write too.
      const csvName = path.join(root, `journal-${counter++}.csv`);
      const sig = `${csvName}.sig`;
      writeFileSync(sig, 'ne pas remplacer\n');
      saves.push(csvName);
      await refused('audit:export', {}, sig);
      untouched(sig);
      expect(existsSync(csvName)).toBe(false);

      // The audit anchor (issue 10): never over a file; a new name gets an anchor of this log.
      const anchorPlanted = planted('ancre');
      saves.push(anchorPlanted);
      await refused('audit:anchor', {}, anchorPlanted);
      untouched(anchorPlanted);

      expect((await actions()).filter((a) => ['directory.exported', 'identity.provisioned', 'identity.certified', 'audit.exported', 'audit.anchored'].includes(a))).toEqual([]);
      expect(saves).toEqual([]);

      const anchorFile = path.join(root, `ancre-${counter++}.json`);
      saves.push(anchorFile);
      const anchored = await call<{ status: string; path: string; seq: number; signer: string }>('audit:anchor', {});
      expect(anchored).toMatchObject({ status: 'done', path: anchorFile, signer: 'Officier Test' });
      const reader = track(openProfile(home));
      const check = await verifyAuditAnchor(reader.db, readFileSync(anchorFile, 'utf8'));
      expect(check).toMatchObject({ ok: true, seq: anchored.seq, signer: created.person.id });
      expect(await actions()).toContain('audit.anchored');
    } finally {
      table.close();
    }
  }, 60000);
});
