// A workstation profile: one folder holding one SQLite database (WAL, numbered migrations).
// Nothing in it needs another server. Private keys inside are sealed under passphrases.
import Database from 'better-sqlite3';
import { chmodSync, existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MIGRATIONS } from './migrations.js';
import { inputError } from '../errors.js';

export const DB_FILE = 'profile.sqlite';
const PROFILE_MAGIC = 'pli-profile';

export type DB = Database.Database;

export interface Profile {
  home: string;
  db: DB;
  workstation: string;
  close(): void;
}

/** Where a machine-wide profile lives when the dedicated workstation was set up with one. */
export function machineWideHome(env: NodeJS.ProcessEnv = process.env): string {
  if (process.platform === 'win32') return path.join(env.PROGRAMDATA ?? 'C:\\ProgramData', 'Pli');
  return '/var/lib/pli';
}

/** --home, else PLI_HOME, else a machine-wide profile if this workstation has one, else the
 * per-user application-data folder of the OS. */
export function resolveHome(flag?: string, env: NodeJS.ProcessEnv = process.env): string {
  if (flag) return path.resolve(flag);
  if (env.PLI_HOME) return path.resolve(env.PLI_HOME);
  if (isProfile(machineWideHome(env))) return machineWideHome(env);
  if (process.platform === 'win32') return path.join(env.APPDATA ?? path.join(os.homedir(), 'AppData', 'Roaming'), 'Pli');
  if (process.platform === 'darwin') return path.join(os.homedir(), 'Library', 'Application Support', 'Pli');
  return path.join(env.XDG_DATA_HOME ?? path.join(os.homedir(), '.local', 'share'), 'pli');
}

function migrate(db: DB): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  for (const migration of [...MIGRATIONS].sort((a, b) => a.version - b.version)) {
    if (migration.version <= current) continue;
    db.transaction(() => {
      db.exec(migration.sql);
      db.pragma(`user_version = ${migration.version}`);
    })();
  }
}

function openDatabase(file: string): DB {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL'); // a crash must not lose an acknowledged event or outbox row
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000'); // several commands or OS accounts may share a machine-wide profile
  return db;
}

export function isProfile(home: string): boolean {
  return existsSync(path.join(home, DB_FILE));
}

/** Creates the profile if needed. Returns whether it was created. Refuses a foreign, non-empty folder.
 * `shared`: a machine-wide profile for the habilitated people's OS accounts of the dedicated
 * workstation (one group, e.g. "pli"): the folder and database are group-readable and writable,
 * and new files inherit the folder's group (setgid). Private keys inside stay sealed per person. */
export function initProfile(home: string, options: { shared?: boolean } = {}): { profile: Profile; created: boolean } {
  if (existsSync(home)) {
    if (!statSync(home).isDirectory()) throw inputError('not-a-folder', `${home} existe et n'est pas un dossier : choisissez un autre emplacement avec --home.`);
    if (!isProfile(home) && readdirSync(home).length > 0) {
      throw inputError('foreign-folder', `${home} n'est pas vide et n'est pas un profil Pli : choisissez un dossier vide ou nouveau avec --home.`);
    }
  }
  const created = !isProfile(home);
  if (options.shared && process.platform !== 'win32') process.umask(0o007);
  mkdirSync(home, { recursive: true, mode: options.shared ? 0o2770 : 0o700 });
  if (options.shared && process.platform !== 'win32') chmodSync(home, 0o2770);
  const profile = openAt(home);
  if (created) {
    profile.db.prepare('INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?), (?, ?), (?, ?)').run(
      'magic', PROFILE_MAGIC, 'created_at', String(Date.now()), 'shared', options.shared ? '1' : '0');
  }
  return { profile, created };
}

export function openProfile(home: string): Profile {
  if (!isProfile(home)) {
    throw inputError('no-profile', `Aucun profil Pli dans ${home} : créez-le avec « pli --home ${home} init ».`);
  }
  return openAt(home);
}

function openAt(home: string): Profile {
  // In a machine-wide profile, files SQLite creates (WAL, shared memory) must stay group-writable.
  if (process.platform !== 'win32' && (statSync(home).mode & 0o070) === 0o070) process.umask(0o007);
  const db = openDatabase(path.join(home, DB_FILE));
  migrate(db);
  const magic = db.prepare("SELECT value FROM meta WHERE key = 'magic'").pluck().get() as string | undefined;
  if (magic !== undefined && magic !== PROFILE_MAGIC) {
    db.close();
    throw inputError('foreign-folder', `${home} ne contient pas un profil Pli valide.`);
  }
  return { home, db, workstation: os.hostname(), close: () => db.close() };
}

export function getMeta(db: DB, key: string): string | undefined {
  return db.prepare('SELECT value FROM meta WHERE key = ?').pluck().get(key) as string | undefined;
}

export function setMeta(db: DB, key: string, value: string): void {
  db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value').run(key, value);
}
