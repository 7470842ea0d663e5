// The passphrase's Argon2id started before the command's code loads (electron/cli/early.ts,
// electron/core/crypto/early-unlock.ts). Checked: the unlock takes it only for the very same
// passphrase, salt and parameters (one Argon2id run in all), else derives its own after the early
// one has ended (never two at once) and unlocks as before; nothing is started for anything but a
// plain unlocking command on a plain profile. docs/profile.md's attacker plays with sqlite: a row
// made to ask for more memory, a salt changed after the early start, a symlinked folder.
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { closeProfiles } from './helpers.js';
import { initProfile, type Profile } from '../../electron/core/profile/profile.js';
import { createIdentity, getIdentity } from '../../electron/core/profile/identities.js';
import { signIn } from '../../electron/core/services/session.js';
import { deriveUnlockKey } from '../../electron/core/crypto/aead.js';
import { argon2id, KEY_UNLOCK_PARAMS } from '../../electron/core/crypto/argon2.js';
import { dropEarlyUnlock, earlyUnlockPendingForTests, startEarlyUnlock } from '../../electron/core/crypto/early-unlock.js';
import { environmentSecret, startEarly } from '../../electron/cli/early.js';

const runs = vi.hoisted(() => ({ count: 0, active: 0, most: 0, keys: [] as Buffer[] }));
vi.mock('../../electron/core/crypto/argon2.js', async (original) => {
  const actual = await original<typeof import('../../electron/core/crypto/argon2.js')>();
  return {
    ...actual,
    argon2id: async (...args: Parameters<typeof actual.argon2id>) => {
      runs.count++;
      runs.most = Math.max(runs.most, ++runs.active);
      try {
        const key = await actual.argon2id(...args);
        runs.keys.push(key); // the very buffer handed out: its wipe can be seen
        return key;
      } finally {
        runs.active--;
      }
    },
  };
});

const PASS = 'la phrase de passe de la mairie';
const root = mkdtempSync(path.join(tmpdir(), 'pli-early-'));
const opened: Profile[] = [];
afterAll(() => closeProfiles(opened, root));
afterEach(() => {
  dropEarlyUnlock();
  runs.count = 0;
  runs.most = 0;
  runs.keys.length = 0;
});
const zeroed = (key: Buffer | undefined) => key !== undefined && key.every((b) => b === 0);
/** Waits for `test`, every 10 ms, up to 5 s. */
async function until(test: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !test(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
  expect(test()).toBe(true);
}

let homes = 0;
async function profileWithPerson(): Promise<{ home: string; profile: Profile; id: string }> {
  const home = path.join(root, `p${homes++}`);
  const { profile } = initProfile(home);
  opened.push(profile);
  const { id } = await createIdentity(profile.db, { name: 'Claire Petit', email: 'claire@mairie.example', org: 'Mairie' }, PASS);
  return { home, profile, id };
}
const env = (extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({ PLI_PASSPHRASE: PASS, ...extra });
const expected = (passphrase: string, salt: Uint8Array) => argon2id(Buffer.from(passphrase.normalize('NFC')), salt, KEY_UNLOCK_PARAMS);

describe('the early derivation itself', () => {
  const salt = Buffer.alloc(16, 7);
  it('is taken by the unlock of the very same inputs: one Argon2id run, the same key', async () => {
    const want = await expected(PASS, salt);
    runs.count = 0;
    startEarlyUnlock(PASS, salt, KEY_UNLOCK_PARAMS, deriveUnlockKey);
    expect(earlyUnlockPendingForTests()).toBe(true);
    expect((await deriveUnlockKey(PASS, salt, KEY_UNLOCK_PARAMS)).equals(want)).toBe(true);
    expect(runs.count).toBe(1);
    expect(earlyUnlockPendingForTests()).toBe(false);
  });

  it('any other passphrase, salt or parameters: the unlock derives its own, after the early one ended', async () => {
    const other = Buffer.alloc(16, 8);
    for (const [passphrase, s, params] of [
      ['une autre phrase', salt, KEY_UNLOCK_PARAMS], [PASS, other, KEY_UNLOCK_PARAMS], [PASS, salt, { ...KEY_UNLOCK_PARAMS, opslimit: 4 }],
    ] as const) {
      const want = await argon2id(Buffer.from(passphrase), s, params);
      runs.count = 0;
      runs.most = 0;
      startEarlyUnlock(PASS, salt, KEY_UNLOCK_PARAMS, deriveUnlockKey);
      expect((await deriveUnlockKey(passphrase, s, params)).equals(want)).toBe(true);
      expect(runs.count).toBe(2);
      expect(runs.most).toBe(1); // never two derivations' memory at once
      expect(zeroed(runs.keys[runs.keys.length - 2])).toBe(true); // the early key, not taken: wiped
      expect(earlyUnlockPendingForTests()).toBe(false);
    }
  });

  it('a key never taken is wiped when the command ends', async () => {
    runs.keys.length = 0;
    startEarlyUnlock(PASS, salt, KEY_UNLOCK_PARAMS, deriveUnlockKey);
    dropEarlyUnlock();
    expect(earlyUnlockPendingForTests()).toBe(false);
    await until(() => runs.keys.length === 1);
    await until(() => zeroed(runs.keys[0]));
  });

  it('reads the environment\'s secret as the command does (a BOM, line breaks at the end)', () => {
    expect(environmentSecret(`\ufeff${PASS}\r\n`)).toBe(PASS);
    expect(environmentSecret(`${PASS} `)).toBe(`${PASS} `);
  });
});

describe('what the command line starts early', () => {
  it('a decryption, an encryption, a send, a receive of the one own identity: started, and the sign-in takes it', async () => {
    const { home, profile, id } = await profileWithPerson();
    for (const command of ['decrypt', 'encrypt', 'send', 'receive']) {
      startEarly(['--home', home, command, 'x'], env());
      expect(earlyUnlockPendingForTests(), command).toBe(true);
      dropEarlyUnlock();
    }
    startEarly([`--home=${home}`, 'decrypt', 'pli.pli'], env());
    runs.count = 0;
    (await signIn(profile, getIdentity(profile.db, id)!, PASS)).wipe();
    expect(runs.count).toBe(0); // the early run was already counted before: none more
    expect(earlyUnlockPendingForTests()).toBe(false);
  });

  it('nothing for another command, another identity or secret, no passphrase, a locked-out person, two own identities', async () => {
    const { home, profile, id } = await profileWithPerson();
    const none = (argv: string[], environment = env()) => {
      startEarly(argv, environment);
      expect(earlyUnlockPendingForTests(), argv.join(' ')).toBe(false);
    };
    none(['--home', home, 'id', 'list']);
    none(['--home', home, 'inspect', 'x.pli']);
    none(['--home', home, 'decrypt', '--as', id.slice(0, 8), 'x.pli']);
    none(['--home', home, 'decrypt', '--as=x', 'x.pli']);
    none(['--home', home, 'decrypt', '--passphrase-file', 'f', 'x.pli']);
    none(['--home', home, 'decrypt', '--password-file', 'f', 'x.pli']);
    none(['--home', home, 'decrypt', '--help']);
    none(['--home', home, 'receive', '--folder', root]); // unlocks only for an object in the folder
    none(['--home', home, 'receive', `--folder=${root}`]);
    none(['decrypt', '--home', home, 'x.pli'], env({ PLI_HOME: home })); // --home after the command: left to it
    none(['--home', home, 'decrypt', 'x.pli'], {});
    none(['--home', home, 'decrypt', 'x.pli'], { PLI_PASSPHRASE: '\n' });
    none(['--home', path.join(root, 'nowhere'), 'decrypt', 'x.pli']);
    profile.db.prepare('INSERT OR REPLACE INTO login_state (identity_id, failures, locked_until) VALUES (?, 0, ?)').run(id, Date.now() + 60_000);
    none(['--home', home, 'decrypt', 'x.pli']);
    profile.db.prepare('DELETE FROM login_state').run();
    await createIdentity(profile.db, { name: 'Second', email: 's@mairie.example', org: 'Mairie' }, PASS);
    none(['--home', home, 'decrypt', 'x.pli']);
    expect(runs.count).toBe(2); // the two identities' creation only
  });

  it('the attacker with sqlite: a row asking for more memory starts nothing; a salt changed after the start is not unlocked with the early key; a symlinked folder is not read', async () => {
    const { home, profile, id } = await profileWithPerson();
    const sqlite = () => new Database(path.join(home, 'profile.sqlite'));
    let db = sqlite();
    db.prepare('UPDATE unlock SET memlimit_kib = ? WHERE identity_id = ?').run(4 * 1024 * 1024, id);
    db.close();
    startEarly(['--home', home, 'decrypt', 'x.pli'], env());
    expect(earlyUnlockPendingForTests()).toBe(false);
    db = sqlite();
    db.prepare('UPDATE unlock SET memlimit_kib = ?, opslimit = ? WHERE identity_id = ?').run(KEY_UNLOCK_PARAMS.memlimitKib, 10, id);
    db.close();
    startEarly(['--home', home, 'decrypt', 'x.pli'], env());
    expect(earlyUnlockPendingForTests()).toBe(false);
    db = sqlite();
    db.prepare('UPDATE unlock SET opslimit = ? WHERE identity_id = ?').run(KEY_UNLOCK_PARAMS.opslimit, id);
    db.close();

    // What the profile's opening refuses is not opened here either: a FIFO at SQLite's journal
    // (its hot-journal check would block on it), a database others may write (a view planted in it
    // would run here), a folder that is not a folder.
    const journal = path.join(home, 'profile.sqlite-journal');
    execFileSync('mkfifo', [journal]);
    // Should the open ever block on it again, a writer ends the wait after 3 s: the test then fails, not hangs.
    spawn('timeout', ['10', 'sh', '-c', `sleep 3; exec 3>"${journal}"`], { stdio: 'ignore', detached: true }).unref();
    startEarly(['--home', home, 'decrypt', 'x.pli'], env());
    expect(earlyUnlockPendingForTests()).toBe(false);
    rmSync(journal);
    chmodSync(path.join(home, 'profile.sqlite'), 0o666);
    startEarly(['--home', home, 'decrypt', 'x.pli'], env());
    expect(earlyUnlockPendingForTests()).toBe(false);
    chmodSync(path.join(home, 'profile.sqlite'), 0o600);
    const moved = `${home}-ailleurs`;
    renameSync(home, moved);
    mkdirSync(home, { mode: 0o700 });
    mkdirSync(path.join(home, 'profile.sqlite'));
    startEarly(['--home', home, 'decrypt', 'x.pli'], env());
    expect(earlyUnlockPendingForTests()).toBe(false);
    rmSync(home, { recursive: true });
    renameSync(moved, home);

    const link = path.join(root, `lien-${homes}`);
    symlinkSync(home, link);
    startEarly(['--home', link, 'decrypt', 'x.pli'], env());
    expect(earlyUnlockPendingForTests()).toBe(false);

    // Started from the genuine row; the salt is then changed: the early key (which opens the
    // genuine wrapping) must not be used for the changed row, so the passphrase no longer opens it.
    startEarly(['--home', home, 'decrypt', 'x.pli'], env());
    expect(earlyUnlockPendingForTests()).toBe(true);
    db = sqlite();
    db.prepare('UPDATE unlock SET salt = ? WHERE identity_id = ?').run(Buffer.alloc(16, 1), id);
    db.close();
    await expect(signIn(profile, getIdentity(profile.db, id)!, PASS)).rejects.toMatchObject({ code: 'bad-passphrase' });
    expect(earlyUnlockPendingForTests()).toBe(false);
  });
});
