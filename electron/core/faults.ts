// The system's expected failures (a full disk, a read-only profile or folder, a name too long...)
// turned into PliErrors that say, in the users' words, what happened, where, and what to do, with
// the CLI's exit code: 3 when waiting or freeing room may be enough, 1 when something must be
// changed first. Whatever is not listed here stays an unexpected error: a bug, to be reported.
import { statfsSync } from 'node:fs';
import path from 'node:path';
import { PliError, inputError, temporaryError } from './errors.js';

/** Where the fault happened, in the message: a destination folder or the profile. */
export interface FaultPlace {
  /** 'folder': files being written into `path`; 'profile': the profile's database or files. */
  kind: 'folder' | 'profile';
  path: string;
}

const MIB = 1024 * 1024;
/** Bytes as the users read them: "12,5 Mo". */
export function formatSize(bytes: number): string {
  const mb = bytes / MIB;
  return `${mb.toLocaleString('fr-FR', { maximumFractionDigits: mb < 10 ? 1 : 0 })} Mo`;
}

/**
 * The params of a fault (issue 11, item 2), for a front end's own wording: `place` the folder or
 * profile named in the message, `placeKind` 'folder' or 'profile'. No place when the system did
 * not say which (the message then names "un dossier de ce poste": nothing for a front end to word).
 */
function placeParams(place: FaultPlace | null): Record<string, string> {
  return place ? { place: place.path, placeKind: place.kind } : {};
}

/** The folder has less room than a decryption needs: nothing was written (exit 3). Params: place, needed, free (bytes). */
export function diskFullError(folder: string, needed?: number, available?: number): PliError {
  const how = needed !== undefined
    ? ` : il faut ${formatSize(needed)}${available !== undefined ? `, il reste ${formatSize(available)}` : ''}`
    : '';
  return temporaryError('disk-full', `Pas assez de place dans ${folder}${how}. Rien n'a été gardé. Libérez de la place (ou choisissez un autre dossier) et recommencez.`, undefined, {
    ...placeParams({ kind: 'folder', path: folder }),
    ...(needed !== undefined ? { needed } : {}),
    ...(available !== undefined ? { free: available } : {}),
  });
}

function codeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/**
 * The place of a system error the command line caught without context: a SQLite error is the
 * profile's; a file error is its file's folder (or the profile, when the file is in it).
 */
export function placeOf(error: unknown, profileDir: string | null): FaultPlace | null {
  const code = codeOf(error) ?? '';
  if (code.startsWith('SQLITE_')) return profileDir ? { kind: 'profile', path: profileDir } : null;
  const file = (error as { path?: unknown } | null)?.path;
  if (typeof file !== 'string') return null;
  const resolved = path.resolve(file);
  if (profileDir && (resolved === profileDir || resolved.startsWith(profileDir + path.sep))) return { kind: 'profile', path: profileDir };
  return { kind: 'folder', path: path.dirname(resolved) };
}

/**
 * SQLite's primary code of an extended one (SQLITE_BUSY_RECOVERY, SQLITE_READONLY_DBMOVED,
 * SQLITE_CORRUPT_INDEX... → SQLITE_BUSY, SQLITE_READONLY, SQLITE_CORRUPT); any other code as it is.
 */
function primaryCode(code: string): string {
  const match = /^SQLITE_[A-Z]+/.exec(code);
  return match ? match[0] : code;
}

/** Whether another program holds the profile's database (SQLITE_BUSY, SQLITE_LOCKED and their
 * extended codes): try again in a moment. */
export function isProfileBusy(error: unknown): boolean {
  const code = primaryCode(codeOf(error) ?? '');
  return code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED';
}

/**
 * The PliError for an expected system fault (errno or SQLite code) at `place`; null for anything
 * else (a bug). A PliError is returned as it is.
 */
export function faultError(error: unknown, place: FaultPlace | null): PliError | null {
  if (error instanceof PliError) return error;
  const code = codeOf(error);
  if (!code) return null;
  // A system error without a path (a write through a handle) still names what it can.
  const at: FaultPlace = place ?? { kind: 'folder', path: 'un dossier de ce poste' };
  const where = at.kind === 'profile' ? `le profil ${at.path}` : place ? `le dossier ${at.path}` : at.path;
  // SQLite reports a full disk as an I/O error when the -shm file cannot grow
  // (SQLITE_IOERR_SHMSIZE...): the room left tells which it is.
  const io = code === 'EIO' || code.startsWith('SQLITE_IOERR');
  if (io && place && code !== 'SQLITE_IOERR_SHMOPEN' && isFull(place.path)) return faultError(Object.assign(new Error('ENOSPC'), { code: 'ENOSPC' }), place);
  if (io && code !== 'SQLITE_IOERR_SHMOPEN') {
    return temporaryError('io-error', `Erreur de lecture ou d'écriture du disque de ${where} : rien n'a été gardé. Vérifiez le disque ou la clé USB (bien branchée ?), puis recommencez ; si elle persiste, prévenez le support informatique.`, error, placeParams(place));
  }
  switch (code === 'SQLITE_IOERR_SHMOPEN' ? code : primaryCode(code)) {
    case 'ENOSPC':
    case 'EDQUOT':
    case 'SQLITE_FULL':
      return at.kind === 'profile'
        ? temporaryError('profile-full', `Plus de place sur le disque du profil ${at.path} : rien n'a été enregistré. Libérez de la place sur ce disque, puis recommencez.`, error, placeParams(at))
        : place ? diskFullError(at.path) : temporaryError('disk-full', `Pas assez de place dans ${at.path}. Rien n'a été gardé. Libérez de la place (ou choisissez un autre dossier) et recommencez.`, error);
    case 'EROFS':
    case 'SQLITE_READONLY': // and its extended codes (_DBMOVED, _DIRECTORY, _CANTINIT, _RECOVERY...)
      return readOnly(at, place, error);
    case 'SQLITE_CANTOPEN': // and _ISDIR, _FULLPATH...
    case 'SQLITE_IOERR_SHMOPEN':
      // SQLite cannot create or open the database or its -wal/-shm files beside it: in practice
      // a read-only disk or folder (a write-protected key, a read-only mount) or missing rights.
      return readOnly(at, place, error);
    case 'SQLITE_CORRUPT': // and _INDEX, _SEQUENCE, _VTAB
    case 'SQLITE_NOTADB':
      // The database file is damaged (a disk fault, a copy cut short) or is no database at all.
      return new PliError('input', 'profile-damaged', `Le profil ${place?.kind === 'profile' ? `${place.path} ` : 'de ce poste '}est endommagé : sa base de données est illisible. Rien n'a été fait. Fermez Pli, remettez le dossier du profil tel qu'il est dans sa dernière sauvegarde, puis recommencez ; sans sauvegarde, prévenez l'officier SSI.`, { cause: error, params: place?.kind === 'profile' ? placeParams(place) : {} });
    case 'ENOTDIR':
      // A part of the path is a file, not a folder.
      return noFolder(at, place, error);
    case 'EACCES':
    case 'EPERM':
      return inputError('no-permission', `Droits insuffisants pour écrire dans ${where} : rien n'a été gardé. Choisissez un dossier où votre compte peut écrire, ou demandez les droits au support informatique.`, placeParams(place));
    case 'EFBIG':
      // A file larger than the file system takes (FAT32: 4 GiB less a byte), or than the size
      // limit set for this session's processes.
      return inputError('file-too-big-for-disk', `Un fichier est trop gros pour ${where} : rien n'a été gardé. Une clé USB au format FAT32 n'accepte pas de fichier de plus de 4 Go : choisissez un dossier sur le disque du poste (ou une clé au format exFAT ou NTFS), puis recommencez.`, placeParams(place));
    case 'ENAMETOOLONG':
      return inputError('name-too-long', `Un nom de fichier ou de dossier est trop long pour ${where} : rien n'a été gardé. Choisissez un dossier au chemin plus court.`, placeParams(place));
    case 'EMFILE':
    case 'ENFILE':
      // Pli itself opening too many files at once (many files chosen, a container of many files).
      return temporaryError('too-many-files', "Pli a dû ouvrir trop de fichiers à la fois : rien n'a été gardé. Choisissez moins de fichiers (ou envoyez-les en plusieurs plis), puis recommencez ; si cela se reproduit, prévenez le support informatique.", error);
    default:
      return null;
  }
}

/** The folder to write into does not exist, or a part of its path is a file (ENOENT, ENOTDIR). */
function noFolder(place: FaultPlace, known: FaultPlace | null, error: unknown): PliError {
  return new PliError('input', 'no-folder', place.kind === 'profile'
    ? `Le dossier du profil ${place.path} est introuvable, ou une partie de son chemin est un fichier et non un dossier : rien n'a été fait. Vérifiez le chemin du profil (la clé USB est-elle branchée ?), puis recommencez.`
    : `Le dossier ${place.path} est introuvable, ou une partie de son chemin est un fichier et non un dossier : rien n'a été gardé. Choisissez un dossier qui existe (la clé USB est-elle branchée ?), puis recommencez.`, { cause: error, params: placeParams(known) });
}

/**
 * A new file that could not be written at `target` (its folder, or the file itself): an expected
 * fault in its own words (disk full, read-only, no rights, folder missing...), else 'cannot-write'
 * in words. The system's own text (often English) is never the message: it travels as
 * params.system, which the IPC layer turns into the error's detail. Shared by every writer of a
 * file the person chose (the CLI's --out, the app's "Enregistrer", a folder to drop a pli in).
 */
export function writeFault(target: string, error: unknown, advice = 'Vérifiez le dossier, les droits et la place libre, puis recommencez.'): PliError {
  if (error instanceof PliError) return error;
  const folder: FaultPlace = { kind: 'folder', path: path.dirname(path.resolve(target)) };
  if (codeOf(error) === 'ENOENT') return noFolder(folder, folder, error);
  const fault = faultError(error, folder);
  if (fault) return fault;
  const name = path.basename(target);
  return inputError('cannot-write', `Impossible d'écrire ${name} dans ${folder.path} : le système a refusé l'écriture (voir le détail). ${advice}`, {
    name, system: String((error as Error | null)?.message ?? error).slice(0, 500),
  });
}

/**
 * A folder to write into that could not be made or reached (mkdir -p of a destination): an
 * expected fault in its words (a file where a folder was expected included), else 'cannot-write'
 * with the system's text only as the detail.
 */
export function folderFault(folder: string, error: unknown, advice = 'Vérifiez le dossier et les droits, puis recommencez.'): PliError {
  if (error instanceof PliError) return error;
  const place: FaultPlace = { kind: 'folder', path: path.resolve(folder) };
  const code = codeOf(error);
  if (code === 'EEXIST' || code === 'ENOENT') return noFolder(place, place, error);
  return faultError(error, place) ?? inputError('cannot-write', `Impossible d'écrire dans le dossier ${place.path} : le système a refusé l'écriture (voir le détail). ${advice}`, {
    system: String((error as Error | null)?.message ?? error).slice(0, 500),
  });
}

/**
 * A file the person named that could not be opened for reading: missing, not theirs to read, a
 * folder, or a fault of the disk. Never blamed on a write (EACCES here is the right to read).
 */
export function readFault(file: string, error: unknown): PliError {
  if (error instanceof PliError) return error;
  switch (codeOf(error)) {
    case 'EACCES':
    case 'EPERM':
      return inputError('no-read-permission', `Droits insuffisants pour lire ${file} : votre compte n'a pas le droit de lire ce fichier. Rien n'a été fait. Demandez ce droit au support informatique (ou copiez le fichier depuis un compte qui peut le lire), puis recommencez.`, { path: file });
    case 'EISDIR':
      return notAFile(file);
    case 'ENOENT':
    case 'ENOTDIR':
      break;
    default: {
      const fault = faultError(error, { kind: 'folder', path: path.dirname(path.resolve(file)) });
      if (fault && fault.code !== 'no-permission' && fault.code !== 'read-only') return fault;
    }
  }
  return inputError('missing-file', `Fichier introuvable : ${file}. Vérifiez le chemin.`, { path: file });
}

/** A folder (or a device, a pipe) where a file was expected. */
export function notAFile(file: string): PliError {
  return inputError('not-a-file', `${file} n'est pas un fichier ordinaire (un dossier, par exemple) : choisissez le fichier lui-même, puis recommencez.`);
}

/** Less than this left on a disk is a full disk (SQLite and file systems keep a little back). */
const FULL_BELOW = 1024 * 1024;

/** Whether the disk holding `dir` (or its nearest existing parent) is full; false if unknown. */
function isFull(dir: string): boolean {
  for (let at = path.resolve(dir); ; at = path.dirname(at)) {
    try {
      const info = statfsSync(at);
      return info.bavail * info.bsize < FULL_BELOW;
    } catch {
      if (path.dirname(at) === at) return false;
    }
  }
}

function readOnly(place: FaultPlace, known: FaultPlace | null, error: unknown): PliError {
  return place.kind === 'profile'
    ? new PliError('input', 'profile-read-only', `Le profil ${place.path} est en lecture seule (disque protégé en écriture, ou droits retirés) : Pli doit pouvoir y écrire, même pour lire, afin de tenir le journal d'audit. Rien n'a été fait. Rendez-le accessible en écriture (ou demandez-le au support informatique), puis recommencez.`, { cause: error, params: placeParams(known) })
    : new PliError('input', 'read-only', `Le dossier ${place.path} est en lecture seule (clé USB protégée en écriture, ou droits retirés) : rien n'a été gardé. Choisissez un dossier où écrire, ou retirez la protection, puis recommencez.`, { cause: error, params: placeParams(known) });
}
