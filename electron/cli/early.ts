// The `pli` command's first step, before the rest of its code loads (run.ts): for a command that
// unlocks a person's keys with the passphrase given in PLI_PASSPHRASE (scripts, scheduled runs),
// starts that passphrase's Argon2id at once, on one of libuv's threads, so that loading the
// command's code (~0.1 s) runs beside it instead of before it (bench/README.md, "Issue 13 on the
// AMD EPYC it names"). A passphrase typed at the prompt gains nothing here: the code has loaded
// while the person typed.
//
// Invariant: this only starts a derivation. It reads the salt and parameters from the profile
// after only the checks its opening makes before opening (not those made of the database once
// open), so the unlock uses its key only when the same bytes come out of the unlock's own
// reading, after all of them (core/crypto/early-unlock.ts); the key is
// tried after the lockout's count, as any other. It starts nothing for a locked-out person, for
// parameters other than the default ones (a planted row cannot make it derive with more memory),
// or when the command, the profile or the person is not plainly the one the command will use.
// Any doubt or error: nothing started, and the command does everything itself, as before.
import Database from 'better-sqlite3';
import path from 'node:path';
import { DB_FILE, passesChecksBeforeOpen, resolveHome } from '../core/profile/profile.js';
import { KEY_UNLOCK_PARAMS } from '../core/crypto/argon2.js';
import { startEarlyUnlock } from '../core/crypto/early-unlock.js';
import { deriveUnlockKey } from '../core/crypto/aead.js';

/** Commands that always unlock the one own identity before anything else of their own. */
const UNLOCKING = new Set(['encrypt', 'decrypt', 'send', 'receive']);
/** Another identity, another secret, or no unlock at all: left to the command. */
const LEFT_ALONE = ['--as', '--passphrase-file', '--password-file', '--help', '-h', '--home'];
const BOM = '\ufeff';

/** A secret from an environment variable: a BOM at the start and line breaks at the end removed
 * (`$(cat fichier)` on Windows keeps a CR), as from a file (secrets.ts). */
export function environmentSecret(value: string): string {
  return (value.startsWith(BOM) ? value.slice(BOM.length) : value).replace(/[\r\n]+$/, '');
}

/** The `--home` options before the command (the last one counts), and the rest of the command
 * line: how the command's router (pli.ts route) and startEarly both read it. */
export function leadingHome(argv: readonly string[]): { home: string | undefined; args: string[] } {
  const args = [...argv];
  let home: string | undefined;
  while (args[0]?.startsWith('--home')) {
    const flag = args.shift()!;
    home = flag.includes('=') ? flag.slice('--home='.length) : args.shift();
  }
  return { home, args };
}

/** `argv`: the command line after `pli` (process.argv.slice(2)). Never throws. */
export function startEarly(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): void {
  try {
    const passphrase = environmentSecret(env.PLI_PASSPHRASE ?? '');
    if (!passphrase) return;
    const { home, args } = leadingHome(argv);
    if (!UNLOCKING.has(args[0] ?? '')) return;
    // `receive --folder` unlocks only when an object (a receipt, a directory) is in the folder.
    const leftAlone = args[0] === 'receive' ? [...LEFT_ALONE, '--folder'] : LEFT_ALONE;
    if (args.some((a) => leftAlone.some((flag) => a === flag || a.startsWith(`${flag}=`)))) return;
    const dir = resolveHome(home, env);
    // Only what the profile's opening itself accepts (folder, owner, rights, each of SQLite's
    // files a real file: a FIFO at the journal would block SQLite's open, a view planted by
    // someone who may write an exposed database would run here); a missing database fails below.
    if (!passesChecksBeforeOpen(dir)) return;
    const db = new Database(path.join(dir, DB_FILE), { readonly: true, fileMustExist: true });
    let row: { salt: unknown; opslimit: unknown; memlimit_kib: unknown } | undefined;
    try {
      const own = db.prepare('SELECT id FROM identities WHERE own = 1').pluck().all();
      if (own.length !== 1) return;
      const lockedUntil = db.prepare('SELECT locked_until FROM login_state WHERE identity_id = ?').pluck().get(own[0]);
      if (typeof lockedUntil === 'number' && lockedUntil > Date.now()) return;
      row = db.prepare('SELECT salt, opslimit, memlimit_kib FROM unlock WHERE identity_id = ?').get(own[0]) as typeof row;
    } finally {
      db.close(); // before the command opens the profile: no SQLite lock of this process is dropped
    }
    if (!row || !Buffer.isBuffer(row.salt) || row.opslimit !== KEY_UNLOCK_PARAMS.opslimit || row.memlimit_kib !== KEY_UNLOCK_PARAMS.memlimitKib) return;
    startEarlyUnlock(passphrase, row.salt, KEY_UNLOCK_PARAMS, deriveUnlockKey);
  } catch {
    // Nothing started: the command unlocks as before.
  }
}
