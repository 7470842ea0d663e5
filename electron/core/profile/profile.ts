// A workstation profile: one folder holding one SQLite database (WAL, numbered migrations).
// Nothing in it needs another server. Private keys inside are sealed under passphrases.
import Database from 'better-sqlite3';
import { chmodSync, closeSync, existsSync, lstatSync, mkdirSync, openSync, readdirSync, type Stats } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MIGRATIONS } from './migrations/index.js';
import { inputError, securityError } from '../errors.js';

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

// Several programs may have one profile open at once (the desktop app, `pli` commands, the OS
// accounts of a shared profile; docs/profile.md, "Several programs on one profile"). Invariant:
// each opens it here, the same way (WAL, normal locking mode), and Pli never touches the database
// files other than through SQLite (no copy, rename, truncation or deletion of them, no VACUUM, no
// explicit checkpoint): closing any descriptor of them in a process drops that process's locks.
function openDatabase(file: string): DB {
  const db = new Database(file);
  db.pragma('busy_timeout = 5000'); // first: the pragmas below may already wait for another program
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL'); // a crash must not lose an acknowledged event or outbox row
  db.pragma('foreign_keys = ON');
  // Pli creates its databases in UTF-8 and reads the audit log's bytes as UTF-8 text (events.ts):
  // a database rebuilt in UTF-16 is not Pli's, whatever it holds.
  if (db.pragma('encoding', { simple: true }) !== 'UTF-8') {
    db.close();
    throw securityError('profile-encoding', `La base du profil ${path.dirname(file)} n'est plus enregistrée comme Pli l'écrit (texte en UTF-16) : elle a été refaite hors de Pli. Pli refuse de l'ouvrir. Conservez ce poste en l'état et prévenez l'officier SSI.`);
  }
  // Every transaction begins IMMEDIATE (takes the write lock at BEGIN, waiting up to busy_timeout):
  // a DEFERRED one that reads and then writes cannot wait when another program writes (SQLite
  // never waits to upgrade a read to a write) and would fail at once with SQLITE_BUSY. Nested
  // transactions stay savepoints; `.deferred` remains for a caller that only reads.
  const transaction = db.transaction.bind(db);
  db.transaction = ((fn: Parameters<DB['transaction']>[0]) => transaction(fn).immediate) as DB['transaction'];
  return db;
}

export function isProfile(home: string): boolean {
  return existsSync(path.join(home, DB_FILE));
}

// ---- who may read the profile -----------------------------------------------------------------
// Invariant (POSIX): a profile is opened only if its folder is a real folder (not a symlink) and
// no other account can reach its database: a private profile belongs to the person running Pli
// and its folder, database files and mailbox folders have no group or other rights (0700/0600);
// a shared profile (created with --shared: setgid folder AND `shared = 1` in meta) gives its group
// rights (2770/0660) and nothing to others. Anyone who could read the database could guess the
// passphrases offline; anyone who could write it could plant keys. `init` puts the rights right;
// every other open only checks and refuses, so that an exposed profile is noticed and reported
// (docs/profile.md, "Where it is"). Windows has no such modes: its checks are skipped.
const POSIX = process.platform !== 'win32';
interface Kind { shared: boolean; dir: number; file: number }
const PRIVATE: Kind = { shared: false, dir: 0o700, file: 0o600 };
const SHARED: Kind = { shared: true, dir: 0o2770, file: 0o660 };
/** SQLite's files next to the database (WAL, shared memory, rollback journal). */
const DB_FILES = [DB_FILE, `${DB_FILE}-wal`, `${DB_FILE}-shm`, `${DB_FILE}-journal`];
const MAIL_FOLDERS = ['inbox', 'outbox'];

const lstatOrNull = (file: string): Stats | null => {
  try {
    return lstatSync(file);
  } catch {
    return null;
  }
};
const octal = (mode: number): string => (mode & 0o7777).toString(8).padStart(3, '0');

function refuseSymlink(where: string): never {
  throw securityError('profile-symlink', `${where} est un lien symbolique : Pli n'ouvre un profil que dans un vrai dossier, avec de vrais fichiers, pour qu'on ne puisse pas le détourner vers un autre emplacement. Indiquez le dossier réel du profil, ou faites remplacer ce lien par votre support informatique.`, { path: where });
}

function refuseOwner(home: string, uid: number): never {
  throw securityError('profile-owner', `Le profil ${home} appartient à un autre compte de cet ordinateur (compte n° ${uid}) : Pli n'ouvre un profil personnel que s'il appartient à la personne qui l'utilise. Utilisez votre propre profil, ou faites vérifier ce dossier par votre support informatique.`, { home, uid });
}

function refuseExposed(home: string, what: string, mode: number, kind: Kind): never {
  const commands = kind.shared
    ? [`chmod 2770 ${home}`, `chmod 660 ${path.join(home, DB_FILE)}*`]
    : [`chmod 700 ${home}`, `chmod 600 ${path.join(home, DB_FILE)}*`];
  const fix = `${commands.map((c) => `« ${c} »`).join(' et ')} (${kind.shared ? 'aucun droit pour les autres comptes, lecture et écriture pour le groupe du poste dédié' : 'droits pour ce seul compte'})`;
  // The CLI's message gives IT support the commands; the app words it without them (fr.json), and
  // shows them as the technical detail (`system`).
  throw securityError('profile-permissions', `Le profil Pli ${home} est accessible à d'autres comptes de cet ordinateur (${what} : droits ${octal(mode)}) : ils pourraient copier sa base pour chercher les phrases de passe, ou la modifier. Pli refuse de l'ouvrir. Faites corriger les droits par votre support informatique : ${fix}, ou réinitialisez ce profil, ce qui les corrige. Prévenez aussi l'officier SSI : ce profil a pu être copié.`, { home, what, mode: octal(mode), shared: kind.shared, system: `${what} : droits ${octal(mode)} ; ${commands.join(' ; ')}` });
}

/** The profile folder itself: a real folder, and for a private profile, this account's. */
function checkFolder(home: string, kind: Kind | null): Stats {
  const info = lstatOrNull(home);
  if (!info) throw inputError('no-profile', `Aucun profil Pli dans ${home} : créez-le d'abord.`, { home });
  if (info.isSymbolicLink()) refuseSymlink(home);
  if (!info.isDirectory()) throw inputError('not-a-folder', `${home} existe et n'est pas un dossier : choisissez un autre emplacement pour le profil.`, { home });
  if (POSIX && !(kind ?? PRIVATE).shared && info.uid !== process.getuid!()) refuseOwner(home, info.uid);
  return info;
}

/** Every entry that gives access to the database: no symlink, no rights beyond the kind's. */
function checkAccess(home: string, kind: Kind): void {
  const forbidden = kind.shared ? 0o007 : 0o077;
  const check = (file: string, what: string, folder: boolean): void => {
    const info = lstatOrNull(file);
    if (!info) return;
    if (info.isSymbolicLink()) refuseSymlink(file);
    if (folder ? !info.isDirectory() : !info.isFile()) throw securityError('profile-permissions', `${file} n'est pas ${folder ? 'un dossier' : 'un fichier'} : le profil ${home} a été modifié. Faites-le vérifier par votre support informatique et prévenez l'officier SSI.`);
    if (info.mode & forbidden) refuseExposed(home, what, info.mode, kind);
  };
  check(home, 'le dossier', true);
  for (const name of DB_FILES) check(path.join(home, name), name, false);
  for (const name of MAIL_FOLDERS) check(path.join(home, name), `le dossier ${name}`, true);
}

/** init: gives the folder, the database files and the mailbox folders (with what they hold) the
 * kind's rights, whatever they were. Symlinks are left alone (chmod would follow them). Returns
 * whether any right had to change. */
function tighten(home: string, kind: Kind): boolean {
  if (!POSIX) return false;
  let changed = false;
  const fix = (file: string, mode: number): void => {
    try {
      // Only when different: in a shared profile, files made by another account may already be right.
      if ((lstatSync(file).mode & 0o7777) !== mode) {
        chmodSync(file, mode);
        changed = true;
      }
    } catch {
      throw inputError('profile-permissions', `Impossible de régler les droits de ${file} (il appartient à un autre compte ?) : faites-le par votre support informatique (${octal(mode)}), puis recommencez.`);
    }
  };
  const walk = (folder: string): void => {
    fix(folder, kind.dir);
    for (const entry of readdirSync(folder, { withFileTypes: true })) {
      const file = path.join(folder, entry.name);
      if (entry.isDirectory()) walk(file);
      else if (entry.isFile()) fix(file, kind.file);
    }
  };
  fix(home, kind.dir);
  for (const name of DB_FILES) if (lstatOrNull(path.join(home, name))?.isFile()) fix(path.join(home, name), kind.file);
  for (const name of MAIL_FOLDERS) if (lstatOrNull(path.join(home, name))?.isDirectory()) walk(path.join(home, name));
  return changed;
}

/** What an existing profile says it is (read only, nothing created). */
function storedShared(home: string): boolean {
  const db = new Database(path.join(home, DB_FILE), { readonly: true, fileMustExist: true });
  try {
    return (db.prepare("SELECT value FROM meta WHERE key = 'shared'").pluck().get() as string | undefined) === '1';
  } catch {
    return false;
  } finally {
    db.close();
  }
}

/** Creates the profile if needed. Returns whether it was created. Refuses a foreign, non-empty folder.
 * `shared`: a machine-wide profile for the habilitated people's OS accounts of the dedicated
 * workstation (one group, e.g. "pli"): the folder and database are group-readable and writable,
 * and new files inherit the folder's group (setgid). Private keys inside stay sealed per person.
 * Existing or not, the profile leaves with its kind's rights (0700/0600, or 2770/0660);
 * `repaired`: an existing profile's rights had to be corrected (it may have been exposed). */
export function initProfile(home: string, options: { shared?: boolean } = {}): { profile: Profile; created: boolean; repaired: boolean } {
  const kind = options.shared ? SHARED : PRIVATE;
  if (lstatOrNull(home)) {
    checkFolder(home, kind);
    if (!isProfile(home) && readdirSync(home).length > 0) {
      throw inputError('foreign-folder', `${home} n'est pas vide et n'est pas un profil Pli : choisissez un dossier vide ou nouveau pour le profil.`, { home });
    }
  }
  const created = !isProfile(home);
  // Only the person's explicit --shared makes a profile shared: what its database says (which a
  // group member of a wrongly opened private profile could have written) only refuses.
  if (!created && storedShared(home) !== kind.shared) {
    throw inputError('profile-kind', kind.shared
      ? `${home} est un profil personnel : il ne devient pas commun. Créez le profil commun du poste dédié dans un dossier neuf.`
      : `${home} est un profil commun du poste dédié : réinitialisez-le en profil commun.`, { home, shared: kind.shared });
  }
  if (options.shared && POSIX) process.umask(0o007);
  mkdirSync(home, { recursive: true, mode: kind.dir });
  // The database file exists with its rights before SQLite writes a byte into it; SQLite gives
  // its -wal and -shm files the database's rights.
  if (created) closeSync(openSync(path.join(home, DB_FILE), 'a', kind.file));
  const repaired = tighten(home, kind) && !created;
  const profile = openAt(home, created);
  if (created) {
    profile.db.prepare('INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?), (?, ?), (?, ?)').run(
      'magic', PROFILE_MAGIC, 'created_at', String(Date.now()), 'shared', options.shared ? '1' : '0');
  }
  return { profile, created, repaired };
}

export function openProfile(home: string): Profile {
  if (!isProfile(home)) {
    throw inputError('no-profile', `Aucun profil Pli dans ${home} : créez-le d'abord.`, { home });
  }
  return openAt(home);
}

/** The checks made before the profile's database is opened (folder, owner, each of SQLite's files:
 * no symlink, no FIFO, no rights beyond the kind's); throws the refusal. Returns the kind. */
function checkBeforeOpen(home: string): Kind {
  if (!POSIX) return PRIVATE;
  // Group rights are accepted only where the owner set the folder's setgid bit (init --shared)
  // and the database agrees (checked after the open): a group member can change neither alone.
  const folder = checkFolder(home, (lstatOrNull(home)?.mode ?? 0) & 0o2000 ? SHARED : PRIVATE);
  const kind = folder.mode & 0o2000 ? SHARED : PRIVATE;
  checkAccess(home, kind);
  return kind;
}

/** Whether the profile's database may be opened at all (checkBeforeOpen passes), for a reader
 * that must never meet what the opening would refuse (cli/early.ts). */
export function passesChecksBeforeOpen(home: string): boolean {
  try {
    checkBeforeOpen(home);
    return true;
  } catch {
    return false;
  }
}

/** `creating`: init's first open, before the profile's meta rows are written. */
function openAt(home: string, creating = false): Profile {
  const kind = checkBeforeOpen(home);
  // In a machine-wide profile, files SQLite creates (WAL, shared memory) must stay group-writable.
  if (POSIX && kind.shared) process.umask(0o007);
  const db = openDatabase(path.join(home, DB_FILE));
  try {
    migrate(db);
    checkEventsTable(db, home); // the caller closes the database on a refusal
    const magic = db.prepare("SELECT value FROM meta WHERE key = 'magic'").pluck().get() as string | undefined;
    if (magic !== undefined && magic !== PROFILE_MAGIC) throw inputError('foreign-folder', `${home} ne contient pas un profil Pli valide.`);
    // A setgid folder of a profile not created shared: the private rule applies after all.
    const shared = db.prepare("SELECT value FROM meta WHERE key = 'shared'").pluck().get() as string | undefined;
    if (kind.shared && shared !== '1' && !creating) {
      checkFolder(home, PRIVATE);
      checkAccess(home, PRIVATE);
    }
  } catch (error) {
    db.close();
    throw error;
  }
  return { home, db, workstation: os.hostname(), close: () => db.close() };
}

/**
 * The audit log's entry numbers are its table's rowids (`seq INTEGER PRIMARY KEY` of a rowid
 * table): never NULL, never twice the same. Invariant the readers (events.ts, read by number) and
 * verify (services/audit.ts, which counts numbers) rely on. A table rebuilt otherwise (a plain
 * `seq INTEGER`, WITHOUT ROWID, `PRIMARY KEY DESC`) could hold rows without a number, or twice the
 * same one, that a reader by number and verify's count never see: refused. Asked of SQLite's
 * query planner (which looks a number up by rowid only in Pli's table), not read from the schema's
 * text, which an attacker may rewrite (writable_schema) without changing how the rows are stored.
 */
function checkEventsTable(db: DB, home: string): void {
  // A real table of the main schema (not a view joining Pli's table to hidden rows), and the plan
  // exactly one lookup of it by rowid (a review's view passed a plan that merely held one).
  const objects = db.prepare("SELECT schema, type FROM pragma_table_list WHERE name = 'events'").all() as { schema: string; type: string }[];
  const plan = (db.prepare('EXPLAIN QUERY PLAN SELECT seq FROM events WHERE seq = 1').all() as { detail: string }[]).map((r) => r.detail);
  const pli = objects.length === 1 && objects[0]!.schema === 'main' && objects[0]!.type === 'table'
    && plan.length === 1 && plan[0] === 'SEARCH events USING INTEGER PRIMARY KEY (rowid=?)';
  if (!pli) {
    throw securityError('audit-rebuilt', `Le journal d'audit du profil ${home} a été refait hors de Pli : sa table ne numérote plus ses entrées comme Pli le fait, des entrées pourraient y être cachées. Pli refuse d'ouvrir ce profil. Conservez ce poste en l'état et prévenez l'officier SSI.`, { home });
  }
}

export function getMeta(db: DB, key: string): string | undefined {
  return db.prepare('SELECT value FROM meta WHERE key = ?').pluck().get(key) as string | undefined;
}

export function setMeta(db: DB, key: string, value: string): void {
  db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value').run(key, value);
}
