// The profile's own files (docs/profile.md, "The profile's own files are never a person's file"):
// its folder and its SQLite database with the files SQLite keeps next to it. Pli never reads a
// database file as a file a person chose (an attachment, a card, a directory, a key file, a CA, a
// passphrase file, a container to open) and never writes a file a person named inside the folder
// (an `--out`, a save dialog, a decryption's destination):
//   - reading: POSIX advisory locks (fcntl) belong to the process and are all released when the
//     process closes ANY descriptor of the file. An open+close of `profile.sqlite` (or its -shm) by
//     Node silently drops the locks better-sqlite3 holds in this process, and another program
//     could then write at the same time and corrupt the profile (SQLite, "How To Corrupt An SQLite
//     Database File", 2.2). It would also mail the database to someone.
//   - writing: a `profile.sqlite-journal` (or -wal) appearing in the folder is read by SQLite as a
//     hot journal at the next opening and rolled back into the database.
//
// Invariant: the checks here never open a file. They use stat (which follows symlinks, so a link
// to the database is caught), lstat and realpath: comparing (dev, ino) with the database files'
// catches a hard link; the real path of the target's folder catches a symlinked folder and `..`.
// Opening the file to fstat it would already drop the locks.
//
// What remains (out of scope): a path swapped between this check and the open by someone who can
// already write the profile's folder; docs/profile.md's attacker can write the database directly.
// Paths are compared as the system spells them (case-sensitive), which is what POSIX locks concern.
//
// At the core's root (the ground floor), so that electron/core/files.ts, the writer every front
// end shares, can use it. Each check takes the open profile's folder when the caller has it
// (`home`); whatever the caller has, a folder holding a Pli database is a profile's folder too,
// so a writer with no profile at hand still refuses any profile's folder (another program may
// have that profile open).
import { lstatSync, realpathSync, statSync, type Stats } from 'node:fs';
import path from 'node:path';
import { inputError, type PliError } from './errors.js';

/** The database's name (electron/core/profile/profile.ts DB_FILE; test/unit/own-files checks they agree). */
export const PROFILE_DATABASE = 'profile.sqlite';
/** The database and SQLite's files next to it (WAL, shared memory, rollback journal). */
export const PROFILE_DATABASE_FILES = ['', '-wal', '-shm', '-journal'].map((suffix) => `${PROFILE_DATABASE}${suffix}`);

const statOrNull = (file: string): Stats | null => {
  try {
    return statSync(file); // follows links; opens nothing
  } catch {
    return null;
  }
};

const realOrNull = (file: string): string | null => {
  try {
    // The system's realpath(3): `..` after a symlink is resolved as the kernel does, not lexically.
    return realpathSync.native(file);
  } catch {
    return null;
  }
};

/** The path as given, made absolute without lexical normalisation (`link/..` must reach the kernel). */
const absolute = (target: string): string => (path.isAbsolute(target) ? target : `${process.cwd()}${path.sep}${target}`);

/**
 * Where `target` is or would be: the real path of its nearest existing ancestor (itself included),
 * followed by the part that does not exist yet. A folder a writer would create lies inside it.
 */
function realLocation(target: string): string {
  let current = absolute(target);
  const missing: string[] = [];
  for (;;) {
    const real = realOrNull(current);
    if (real !== null) return path.join(real, ...missing);
    const parent = path.dirname(current);
    if (parent === current) return path.resolve(target);
    missing.unshift(path.basename(current));
    current = parent;
  }
}

/** A folder holding a Pli database (whatever else it holds): a profile's folder. lstat: opens nothing. */
function holdsDatabase(folder: string): boolean {
  try {
    return lstatSync(path.join(folder, PROFILE_DATABASE)) !== undefined;
  } catch {
    return false;
  }
}

const within = (real: string, folder: string): boolean => real === folder || real.startsWith(folder.endsWith(path.sep) ? folder : `${folder}${path.sep}`);

/** True when the real path `real` is a profile's folder or lies inside one: `home`'s, or any folder holding a Pli database. */
function inProfile(real: string, home?: string): boolean {
  const realHome = home === undefined ? null : realOrNull(home);
  if (realHome !== null && within(real, realHome)) return true;
  for (let folder = real; ; folder = path.dirname(folder)) {
    if (holdsDatabase(folder)) return true;
    if (path.dirname(folder) === folder) return false;
  }
}

/** True when `target` (symlinks followed) is one of `home`'s database files, the same file by (dev, ino): a hard link too. */
export function isProfileDatabase(target: string, home: string): boolean {
  const info = statOrNull(target);
  if (!info) return false;
  return PROFILE_DATABASE_FILES.some((name) => {
    const own = statOrNull(path.join(home, name));
    return own !== null && own.dev === info.dev && own.ino === info.ino;
  });
}

/**
 * True when reading `target` would read one of a profile's database files: one of `home`'s (by
 * identity: a symlink or a hard link to it too), or, whatever the caller has, a file whose real
 * path is a database file's name in a folder holding a Pli database (a symlink to another
 * profile's database). The other files of the folder (the containers kept in inbox/ and outbox/)
 * are no database: reading them harms nothing (`pli inspect` of a kept container). A path that
 * does not exist is no profile's file (its read fails on its own).
 */
export function isProfileFile(target: string, home?: string): boolean {
  if (home !== undefined && isProfileDatabase(target, home)) return true;
  const real = realOrNull(absolute(target));
  return real !== null && PROFILE_DATABASE_FILES.includes(path.basename(real)) && holdsDatabase(path.dirname(real));
}

/**
 * True when writing at `target` (a file to create, or a folder to write into) would write inside a
 * profile's folder: `home`'s, or any folder holding a Pli database, its sub-folders included, the
 * folder reached through symlinks or `..` too.
 */
export function isInProfileFolder(target: string, home?: string): boolean {
  return inProfile(realLocation(target), home);
}

/** Why the file was to be read: the refusal says what to choose instead. */
export type ReadPurpose = 'attach' | 'open' | 'read';

const CHOOSE: Record<ReadPurpose, string> = {
  attach: 'il ne peut pas être joint à un pli. Choisissez le document à envoyer.',
  open: 'ce n’est pas un pli à ouvrir. Choisissez le pli reçu.',
  read: 'Pli ne le lit pas à la place d’un de vos fichiers. Choisissez le fichier qui vous a été remis.',
};

/** The refusal of a read of one of the profile's database files (code 'profile-file'). */
export function profileFileError(target: string, purpose: ReadPurpose): PliError {
  return inputError('profile-file', `Ce fichier fait partie du profil de Pli (sa base de données) : ${CHOOSE[purpose]}`, { name: path.basename(target), purpose });
}

/** Refuses, before anything is read or logged, to read a profile's database file (see isProfileFile). */
export function refuseProfileFile(target: string, home: string | undefined, purpose: ReadPurpose): void {
  if (isProfileFile(target, home)) throw profileFileError(target, purpose);
}

/** Refuses, before anything is written, a destination inside a profile's folder (code 'profile-folder'):
 * `folder` when the person chose a folder (a decryption's destination), else the file's name. */
export function refuseProfileFolder(target: string, home?: string, kind: 'file' | 'folder' = 'file'): void {
  if (!isInProfileFolder(target, home)) return;
  throw inputError('profile-folder', kind === 'folder'
    ? 'Ce dossier est celui du profil de Pli : choisissez un autre dossier de destination (par exemple Documents).'
    : 'Ce fichier serait enregistré dans le dossier du profil de Pli, où il pourrait abîmer sa base de données : choisissez un autre dossier (par exemple Documents).',
  { name: path.basename(target), kind });
}
