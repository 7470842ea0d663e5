// Writing a document the person asked for (a PDF, a CSV) to a new file, in the core's words: every
// printable document of the core (annex, register, retention certificate, indicators report).
// The writing itself is electron/core/files.ts's, shared with the front ends (its invariant: an
// existing file is never replaced and a symlink is never followed; a failed write leaves nothing
// behind).
import path from 'node:path';
import { PliError, inputError } from '../errors.js';
import { writeFault } from '../faults.js';
import { somethingAt, writeNewFileSync, type NewFileWords } from '../files.js';

const existsError = (target: string): PliError =>
  inputError('exists', `Le fichier ${path.basename(target)} existe déjà dans ce dossier : il n'a pas été remplacé. Choisissez un autre nom, ou déplacez ce fichier, puis recommencez.`, { path: target });

/** Refuses, before any work, a name where something already is (a file, a folder, a link even
 * dangling): the caller then has done nothing for nothing. */
export function refuseExistingFile(target: string): void {
  if (somethingAt(target)) throw existsError(target);
}

/** A full disk, a read-only key, a missing folder... in the words shared by every writer (faults.ts). */
const writeFailed = (target: string, error: unknown): PliError => writeFault(target, error);

const WORDS: NewFileWords = { exists: existsError, failed: writeFailed };

/** Creates `target` with `data` (mode 0644 by default: a document meant to be printed or sent). */
export function writeNewFile(target: string, data: Uint8Array | string, mode = 0o644): void {
  writeNewFileSync(target, data, mode, WORDS);
}
