// Password containers (issue 10, items 7 and 9): sealing refuses a password shorter than 16
// characters (a generated one is offered instead); opening one needs a signed-in person of the
// profile, habilitated 'reader' when an authority is pinned, who is then the actor of the events;
// and the log keeps the names and sizes of written files, never a digest of their content.
import { afterAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { initProfile, type Profile } from '../../electron/core/profile/profile.js';
import { createIdentity, getIdentity, importCard, unlockIdentity, type IdentityRow } from '../../electron/core/profile/identities.js';
import { certifyCard, exportDirectory, initAuthority } from '../../electron/core/authority/authority.js';
import { importDirectory } from '../../electron/core/authority/directory.js';
import { decrypt, encrypt, generateContainerPassword, MIN_CONTAINER_PASSWORD, requireStrongPassword } from '../../electron/core/services/containers.js';
import { sealToFile } from '../../electron/core/container/seal.js';
import { readInfo } from '../../electron/core/container/open.js';
import { bufferSource } from '../../electron/core/container/sinks.js';
import { argon2id } from '../../electron/core/crypto/argon2.js';
import { hkdf, unwrapKey } from '../../electron/core/crypto/primitives.js';
import { KDF_INFO } from '../../electron/core/crypto/labels.js';
import { listEvents } from '../../electron/core/profile/events.js';
import type { Context } from '../../electron/core/context.js';
import { PliError, securityError } from '../../electron/core/errors.js';
import { createHandlers } from '../../electron/ipc/handlers.js';
import { closeProfiles } from './helpers.js';

const PASS = 'une phrase de passe de test';
const LIGHT = { opslimit: 1, memlimitKib: 8 };
// The least Argon2id cost a reader accepts: containers sealed directly, outside encrypt().
const CHEAP = { opslimit: 3, memlimitKib: 64 * 1024 };
const root = mkdtempSync(path.join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'pli-password-'));
const opened: Profile[] = [];
let counter = 0;
const DATA = path.join(root, 'IS101.csv');
writeFileSync(DATA, 'type;nombre\ncambriolages;12\n');
afterAll(() => closeProfiles(opened, root));

interface Station { profile: Profile; ctx: Context; id: string; unlocks: string[]; password: { value: string | null }; passphrase: { value: string } }

async function station(name: string): Promise<Station> {
  const { profile } = initProfile(path.join(root, `profile-${counter++}`));
  opened.push(profile);
  const created = await createIdentity(profile.db, { name, email: `p${counter}@exemple.fr`, org: 'Mairie' }, PASS, LIGHT);
  const unlocks: string[] = [];
  const password = { value: null as string | null };
  const passphrase = { value: PASS };
  const ctx: Context = {
    profile,
    unlocker: {
      unlock: async (row: IdentityRow) => {
        unlocks.push(row.id);
        return unlockIdentity(profile.db, row.id, passphrase.value);
      },
      containerPassword: async () => password.value,
    },
  };
  return { profile, ctx, id: created.id, unlocks, password, passphrase };
}

const outDir = (): string => path.join(root, `out-${counter++}`);
const entries = (dir: string): string[] => (existsSync(dir) ? readdirSync(dir) : []);
async function failure(promise: Promise<unknown>): Promise<PliError> {
  const error = await promise.then(() => null, (e: unknown) => e);
  expect(error, 'should have failed').toBeInstanceOf(PliError);
  return error as PliError;
}
const eventsOf = (s: Station, action: string) => listEvents(s.profile.db).filter((e) => e.action === action);

/** A password container sealed by `from` directly (any password: the rule is encrypt()'s). */
async function sealedWith(from: Station, password: string): Promise<string> {
  const unlocked = await unlockIdentity(from.profile.db, from.id, PASS);
  const out = path.join(root, `pli-${counter++}.pli`);
  await sealToFile([DATA], out, {
    senderId: from.id, signing: { keyFpr: unlocked.current.sigFpr, secretKey: unlocked.current.sigSecret },
    recipients: { kind: 'password', password: Buffer.from(password, 'utf8'), params: CHEAP },
  });
  unlocked.wipe();
  return out;
}

describe('container password strength when sealing', () => {
  it('refuses "a" (and 15 characters) with a French input error naming the minimum; nothing written, no passphrase asked', async () => {
    const s = await station('Alice Martin');
    for (const weak of ['a', 'quinze-caractère']) {
      s.password.value = weak.slice(0, 15);
      const out = path.join(root, `weak-${counter++}.pli`);
      const error = await failure(encrypt(s.ctx, { to: [], self: false, usePassword: true, files: [DATA], out }));
      expect(error.kind).toBe('input');
      expect(error.code).toBe('weak-password');
      expect(error.message).toContain(String(MIN_CONTAINER_PASSWORD));
      expect(error.message).toMatch(/généré/);
      if (s.password.value.length > 1) expect(error.message).not.toContain(s.password.value);
      expect(existsSync(out)).toBe(false);
    }
    expect(s.unlocks).toEqual([]);
  });

  it('counts characters, not bytes, and not surrounding spaces', () => {
    expect(() => requireStrongPassword('é'.repeat(15))).toThrow(PliError); // 30 bytes, 15 characters
    expect(() => requireStrongPassword(`   ${'x'.repeat(15)}   `)).toThrow(PliError);
    expect(() => requireStrongPassword('é'.repeat(16))).not.toThrow();
    expect(() => requireStrongPassword('mot de passe du pli 2026')).not.toThrow();
  });

  it('accepts 16 characters: the container is sealed and opens with that password', async () => {
    const s = await station('Bruno Petit');
    s.password.value = 'seize caractères';
    expect([...s.password.value].length).toBe(16);
    const out = path.join(root, `ok-${counter++}.pli`);
    await encrypt(s.ctx, { to: [], self: false, usePassword: true, files: [DATA], out });
    const dir = outDir();
    const result = await decrypt(s.ctx, { usePassword: true, input: out, outDir: dir });
    expect(readFileSync(result.files[0]!.path).equals(readFileSync(DATA))).toBe(true);
  });

  it('generated passwords: five groups of four base32 characters (100 bits), all different, all accepted', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 2000; i++) {
      const generated = generateContainerPassword();
      expect(generated).toMatch(/^[0-9a-hjkmnp-tv-z]{4}(-[0-9a-hjkmnp-tv-z]{4}){4}$/);
      requireStrongPassword(generated);
      seen.add(generated);
    }
    expect(seen.size).toBe(2000);
    // Every one of the 32 symbols shows up (a generator stuck on part of the alphabet would not).
    expect(new Set([...seen].join('').replace(/-/g, '')).size).toBe(32);
  });

  it('a container sealed earlier with a short password still opens (the rule is for sealing)', async () => {
    const s = await station('Chloé Roux');
    const old = await sealedWith(s, 'a');
    s.password.value = 'a';
    const result = await decrypt(s.ctx, { usePassword: true, input: old, outDir: outDir() });
    expect(result.files.map((f) => f.name)).toEqual(['IS101.csv']);
  });

  it('Argon2id takes the UTF-8 bytes of the password\'s NFC form (format.md 4.3): typed decomposed (NFD) when sealing, it opens typed composed, and the reverse', async () => {
    const s = await station('Gaëlle Dupré');
    const composed = 'mot de passe déjà vérifié à été'.normalize('NFC');
    const decomposed = composed.normalize('NFD');
    expect(decomposed).not.toBe(composed);
    const sealedTyped = async (typed: string): Promise<string> => {
      s.password.value = typed;
      const out = path.join(root, `nfd-${counter++}.pli`);
      await encrypt(s.ctx, { to: [], self: false, usePassword: true, files: [DATA], out });
      return out;
    };
    const fromNfd = await sealedTyped(decomposed);
    s.password.value = composed;
    const result = await decrypt(s.ctx, { usePassword: true, input: fromNfd, outDir: outDir() });
    expect(readFileSync(result.files[0]!.path).equals(readFileSync(DATA))).toBe(true);
    const fromNfc = await sealedTyped(composed);
    s.password.value = decomposed;
    expect((await decrypt(s.ctx, { usePassword: true, input: fromNfc, outDir: outDir() })).files).toHaveLength(1);
    // What an outside reader must hash: the NFC form's UTF-8 opens the entry, the NFD bytes as
    // typed do not (the audit's pw-nfd repro).
    const info = await readInfo(bufferSource(readFileSync(fromNfd)));
    const entry = info.header.recipients[0]!;
    if (entry.type !== 'password') throw new Error('a password entry was expected');
    const unwrapWith = async (bytes: Buffer): Promise<Buffer | null> => {
      const key = await argon2id(bytes, entry.salt, { opslimit: entry.opslimit, memlimitKib: entry.memlimitKib });
      return unwrapKey(hkdf(key, info.header.containerId, KDF_INFO.wrapPassword), entry.wrapped);
    };
    expect(await unwrapWith(Buffer.from(composed, 'utf8'))).not.toBeNull();
    expect(await unwrapWith(Buffer.from(decomposed, 'utf8'))).toBeNull();
  }, 60000);
});

describe('opening a password container: a signed-in person, the actor of the log', () => {
  it('the only own identity signs in, and the events name them; file.written keeps name and size, no digest', async () => {
    const sender = await station('Denis Blanc');
    const reader = await station('Émilie Noir');
    await importCard(reader.profile.db, getIdentity(sender.profile.db, sender.id)!.card);
    const input = await sealedWith(sender, 'mot de passe du pli 2026');
    reader.password.value = 'mot de passe du pli 2026';
    const dir = outDir();
    const result = await decrypt(reader.ctx, { usePassword: true, input, outDir: dir });
    expect(reader.unlocks).toEqual([reader.id]);
    const openedEvent = eventsOf(reader, 'container.opened').at(-1)!;
    expect(openedEvent.actor).toBe(reader.id);
    const written = eventsOf(reader, 'file.written');
    expect(written).toHaveLength(1);
    expect(written[0]!.actor).toBe(reader.id);
    const detail = JSON.parse(written[0]!.detail!) as Record<string, unknown>;
    expect(Object.keys(detail).sort()).toEqual(['path', 'size']);
    expect(detail).toMatchObject({ path: result.files[0]!.path, size: readFileSync(DATA).length });
    const digest = createHash('sha256').update(readFileSync(DATA)).digest('hex');
    for (const e of listEvents(reader.profile.db)) expect(e.detail ?? '').not.toContain(digest);
  });

  it('a wrong passphrase of the person: refused (security), nothing written, the container password is not even asked', async () => {
    const s = await station('Fabien Gris');
    const input = await sealedWith(s, 'mot de passe du pli 2026');
    let asked = false;
    s.password.value = 'mot de passe du pli 2026';
    const ctx: Context = { ...s.ctx, unlocker: { ...s.ctx.unlocker, containerPassword: async () => { asked = true; return s.password.value; } } };
    s.passphrase.value = 'pas la bonne phrase';
    const dir = outDir();
    const error = await failure(decrypt(ctx, { usePassword: true, input, outDir: dir }));
    expect(error.kind).toBe('security');
    expect(asked).toBe(false);
    expect(entries(dir)).toEqual([]);
  });

  it('a wrong container password: refused, the refusal names the person', async () => {
    const s = await station('Gaëlle Vert');
    const input = await sealedWith(s, 'mot de passe du pli 2026');
    s.password.value = 'mot de passe du pli 2025';
    const dir = outDir();
    expect((await failure(decrypt(s.ctx, { usePassword: true, input, outDir: dir }))).code).toBe('bad-password');
    expect(entries(dir)).toEqual([]);
    expect(eventsOf(s, 'container.refused').at(-1)!.actor).toBe(s.id);
  });

  it('a profile with no own identity cannot open one (nobody to sign in)', async () => {
    const s = await station('Hugo Brun');
    const input = await sealedWith(s, 'mot de passe du pli 2026');
    const { profile } = initProfile(path.join(root, `profile-${counter++}`));
    opened.push(profile);
    importCard(profile.db, getIdentity(s.profile.db, s.id)!.card);
    let asked = false;
    const ctx: Context = { profile, unlocker: { unlock: async () => { throw securityError('x', 'x'); }, containerPassword: async () => { asked = true; return 'mot de passe du pli 2026'; } } };
    const dir = outDir();
    expect((await failure(decrypt(ctx, { usePassword: true, input, outDir: dir }))).code).toBe('no-own-identity');
    expect(asked).toBe(false);
    expect(entries(dir)).toEqual([]);
  });

  it('with a pinned authority, a person who is not on the list of habilitated people is refused, and named in the log', async () => {
    const officer = await station('Officier SSI');
    const { fingerprint: pin } = await initAuthority(officer.ctx, 'DIPN 99');
    const sender = await station('Inès Police');
    await certifyCard(officer.ctx, getIdentity(sender.profile.db, sender.id)!.card, 'operator');
    const reader = await station('Jules Mairie'); // never certified
    const { text } = await exportDirectory(officer.ctx, { allowPassword: true });
    // Each station's person signs in first: that attaches the profile's integrity key, which a
    // directory import on a profile with a holder requires (docs/profile.md).
    (await unlockIdentity(sender.profile.db, sender.id, PASS)).wipe();
    (await unlockIdentity(reader.profile.db, reader.id, PASS)).wipe();
    await importDirectory(sender.profile.db, text, pin);
    await importDirectory(reader.profile.db, text, pin);
    await importCard(reader.profile.db, getIdentity(sender.profile.db, sender.id)!.card);
    const input = await sealedWith(sender, 'mot de passe du pli 2026');
    reader.password.value = 'mot de passe du pli 2026';
    const dir = outDir();
    const error = await failure(decrypt(reader.ctx, { usePassword: true, input, outDir: dir }));
    expect(error.code).toBe('not-habilitated');
    expect(reader.unlocks).toEqual([]);
    expect(entries(dir)).toEqual([]);
    expect(eventsOf(reader, 'container.refused').at(-1)!.actor).toBe(reader.id);
  });
});

describe('the desktop path (IPC handlers): generated in main, sealed, opened by the signed-in person', () => {
  it('generatePassword needs a session; encrypt refuses a short password; open names the session as actor', async () => {
    const home = path.join(root, `app-${counter++}`);
    const answers: (string | null)[] = [];
    const handlers = createHandlers({
      home,
      shell: { saveFile: async () => answers.shift() ?? null, chooseFolder: async () => answers.shift() ?? null, openFile: async () => null, showInFolder: () => {} },
      emitProgress: () => {},
      emitMailEvent: () => {},
    });
    const call = async <T>(channel: string, request: unknown): Promise<T> => {
      const answer = await handlers.invoke(channel, request);
      if (!answer.ok) throw Object.assign(new Error(answer.error.message), answer.error);
      return answer.value as T;
    };
    const fails = async (channel: string, request: unknown) => {
      const answer = await handlers.invoke(channel, request);
      expect(answer.ok, `${channel} should fail`).toBe(false);
      return (answer as { ok: false; error: { kind: string; code: string; message: string } }).error;
    };
    try {
      expect((await fails('containers:generatePassword', {})).code).toBe('not-signed-in');
      await call('profile:init', {});
      const created = await call<{ person: { id: string }; session: { id: string } | null }>('identities:create', { opId: 'op-1', name: 'Karine Leroy', email: 'karine@mairie.example', org: 'Mairie', passphrase: PASS });
      expect(created.session?.id).toBe(created.person.id);
      const { password } = await call<{ password: string }>('containers:generatePassword', {});
      expect(password).toMatch(/^[0-9a-hjkmnp-tv-z]{4}(-[0-9a-hjkmnp-tv-z]{4}){4}$/);
      expect((await call<{ password: string }>('containers:generatePassword', {})).password).not.toBe(password);

      const weakOut = path.join(root, `app-weak-${counter++}.pli`);
      answers.push(weakOut);
      expect(handlers.chooseFile(DATA)).toBe(true); // the person picks it (the preload's pathForFile)
      const weak = await fails('containers:encrypt', { opId: 'op-2', files: [DATA], to: [], self: false, password: 'court' });
      expect(weak).toMatchObject({ kind: 'input', code: 'weak-password' });
      expect(existsSync(weakOut)).toBe(false);

      const out = path.join(root, `app-${counter++}.pli`);
      answers.push(out);
      const sealed = await call<{ status: string; recipients: string[] }>('containers:encrypt', { opId: 'op-3', files: [DATA], to: [], self: false, password });
      expect(sealed).toMatchObject({ status: 'done', recipients: [] });

      const badDir = outDir();
      answers.push(badDir);
      expect(handlers.chooseFile(out)).toBe(true);
      expect((await fails('containers:open', { opId: 'op-4', path: out, password: 'pas le bon mot de passe' })).code).toBe('bad-password');
      expect(entries(badDir)).toEqual([]);
      const dir = outDir();
      answers.push(dir);
      const openedResult = await call<{ status: string; files: { path: string }[] }>('containers:open', { opId: 'op-5', path: out, password });
      expect(readFileSync(openedResult.files[0]!.path).equals(readFileSync(DATA))).toBe(true);
      const events = await call<{ events: { actor: string | null; action: string; detail: string | null }[] }>('events:list', {});
      const openedEvent = events.events.find((e) => e.action === 'container.opened')!;
      expect(openedEvent.actor).toBe(created.person.id);
      expect(events.events.find((e) => e.action === 'file.written')!.actor).toBe(created.person.id);
      expect(JSON.stringify(events)).not.toContain(password);
    } finally {
      handlers.close();
    }
  }, 60000);
});
