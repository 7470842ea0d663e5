// Writing a document the person asked for (a PDF, a CSV) to a new file. The core's twin of the
// front ends' writers (electron/cli/pli.ts and electron/ipc/files.ts writeNewFile), which the
// core cannot import; small on purpose, for every printable document of the core (annex,
// register, retention certificate, indicators report).
//
// Invariant: an existing file is never replaced and a symlink is never followed (O_EXCL |
// O_NOFOLLOW: a file or a dangling link planted at the name is refused, and what it points to is
// left untouched); a failed write leaves nothing behind (the file this call created is removed).
import { closeSync, constants, fsyncSync, lstatSync, openSync, unlinkSync, writeSync } from 'node:fs';
import path from 'node:path';
import { PliError, inputError } from '../errors.js';
import { faultError } from '../faults.js';

const existsError = (target: string): PliError =>
  inputError('exists', `Le fichier ${path.basename(target)} existe déjà dans ce dossier : il n'a pas été remplacé. Choisissez un autre nom, ou déplacez ce fichier, puis recommencez.`, { path: target });

/** Refuses, before any work, a name where something already is (a file, a folder, a link even
 * dangling): the caller then has done nothing for nothing. */
export function refuseExistingFile(target: string): void {
  if (lstatSync(target, { throwIfNoEntry: false })) throw existsError(target);
}

function writeFailed(target: string, error: unknown): PliError {
  return faultError(error, { kind: 'folder', path: path.dirname(target) })
    ?? inputError('cannot-write', `Impossible d'écrire ${path.basename(target)} : le système a refusé l'écriture. Vérifiez le dossier, les droits et la place libre, puis recommencez.`, {
      name: path.basename(target), system: String((error as Error)?.message ?? error).slice(0, 500),
    });
}

/** Creates `target` with `data` (mode 0644 by default: a document meant to be printed or sent). */
export function writeNewFile(target: string, data: Uint8Array | string, mode = 0o644): void {
  let fd: number;
  try {
    fd = openSync(target, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | (constants.O_NOFOLLOW ?? 0), mode);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    // ELOOP: O_NOFOLLOW met a link planted at the name.
    if (code === 'EEXIST' || code === 'ELOOP') throw existsError(target);
    throw writeFailed(target, error);
  }
  try {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    for (let at = 0; at < bytes.length;) at += writeSync(fd, bytes, at, bytes.length - at);
    fsyncSync(fd);
    closeSync(fd);
  } catch (error) {
    try {
      closeSync(fd);
    } catch {
      // already closed
    }
    try {
      unlinkSync(target); // the file this call created, partial
    } catch {
      // already gone
    }
    throw writeFailed(target, error);
  }
}
