// The files the desktop app reads and writes on the person's behalf, at paths chosen in main's
// native dialogs (the renderer never names them).
//
// Invariant (issue 10): a writer here never replaces a file. The name is refused before any work
// when something is already there (a file, a folder, a symlink even dangling), so that nothing is
// issued or recorded for nothing; the write itself opens with O_EXCL | O_NOFOLLOW, so a file
// planted in between is not replaced either and a symlink is never followed; a failed write
// leaves no partial file. The same writer as the CLI's `--out` (electron/core/files.ts).
//
// Invariant (own-files.ts): a file chosen here is never one of the profile's files (its database
// by any path: reading it would drop the SQLite locks main holds), and nothing is written in a
// profile's folder (electron/core/files.ts refuses it in the early check and in the write).
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { PliError, inputError } from '../core/errors.js';
import { writeFault } from '../core/faults.js';
import { somethingAt, writeNewFile as createNewFile, type NewFileWords } from '../core/files.js';
import { refuseProfileFile } from '../core/own-files.js';

export const MAX_CARD_BYTES = 64 * 1024;
export const MAX_DIRECTORY_BYTES = 32 * 1024 * 1024;
export const MAX_CA_BYTES = 256 * 1024;
export const ANY_FILE = { name: 'Tous les fichiers', extensions: ['*'] };

/** Reads a small text file chosen in a native dialog, or says which file and what to do.
 * `home`: the open profile's folder (a hard link to its database is known only from it). */
export async function readChosen(file: string, maxBytes: number, what: string, home?: string): Promise<string> {
  refuseProfileFile(file, home, 'read'); // before the file is opened: it opens nothing
  try {
    const info = await stat(file);
    if (!info.isFile() || info.size > maxBytes) {
      throw inputError('wrong-file', `${path.basename(file)} n’est pas ${what} (trop gros ou pas un fichier). Choisissez le fichier remis par l’officier SSI.`);
    }
    return await readFile(file, 'utf8');
  } catch (error) {
    if (error instanceof PliError) throw error;
    throw inputError('missing-file', `Fichier introuvable ou illisible : ${file}. Vérifiez le fichier et recommencez.`, { path: file });
  }
}

const existsError = (target: string) =>
  inputError('exists', `Le fichier ${path.basename(target)} existe déjà dans ce dossier : il n’a pas été remplacé. Choisissez un autre nom, ou déplacez ce fichier, puis recommencez.`);

/** Refuses, before any work, names where something already is. */
export async function refuseExisting(...targets: string[]): Promise<void> {
  for (const target of targets) if (somethingAt(target)) throw existsError(target);
}

const WRITE_WORDS: NewFileWords = {
  exists: existsError,
  failed: (target, error, stage) => writeFault(target, error, stage === 'open' ? 'Vérifiez le dossier et les droits, puis recommencez.' : 'Vérifiez la place libre, puis recommencez.'),
};

/** Writes a new file, never replacing nor following anything (see the header; electron/core/files.ts). */
export async function writeNewFile(target: string, data: string | Uint8Array, mode: number): Promise<void> {
  await createNewFile(target, data, mode, WRITE_WORDS);
}
