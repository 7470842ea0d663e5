// Where the CLI gets secrets: a file (first line), else an environment variable, else a hidden
// prompt on a terminal. Never from a command-line argument (visible in `ps` and shell history).
//
// A secret file is read the way people save one (README, "Passphrase files"): UTF-8, a leading
// byte-order mark (Windows Notepad) is removed, the first line is taken up to its line break
// (CR LF, LF or CR), and nothing else is changed. Trailing spaces or tabs are kept (a passphrase
// may end with one) but announced on stderr, since a wrong passphrase counts toward the lockout.
// The file is never a FIFO or a device (opening a FIFO would block until a writer comes; it is
// opened non-blocking and checked with fstat) and is at most MAX_SECRET_FILE bytes.
import { closeSync, constants, fstatSync, openSync, readSync, statSync } from 'node:fs';
import { inputError } from '../core/errors.js';
import { refuseProfileFile } from '../core/own-files.js';
import { environmentSecret } from './early.js';

/** A passphrase file is a line of text: anything larger is not one (a wrong path, a key file). */
export const MAX_SECRET_FILE = 4096;

const BOM = '\uFEFF';

function readSecretFile(file: string, what: string, env: string, home?: string): string {
  // Never a profile's file: opening then closing its database would drop the SQLite locks this
  // process holds (own-files.ts; the check opens nothing).
  refuseProfileFile(file, home, 'read');
  const unreadable = () => inputError('missing-file', `Impossible de lire ${what} dans ${file} : vérifiez le chemin et les droits.`);
  const notAFile = () => inputError('not-a-file', `${file} n'est pas un fichier ordinaire (tube, périphérique ou dossier) : ${what} doit être sur la première ligne d'un fichier texte.${env ? ` Dans un script, utilisez plutôt la variable ${env}.` : ''}`);
  // Checked before opening (opening some devices has effects), and again on the open handle (the
  // name may have been swapped in between).
  let before;
  try {
    before = statSync(file);
  } catch {
    throw unreadable();
  }
  if (!before.isFile()) throw notAFile();
  let fd: number;
  try {
    // O_NONBLOCK: a FIFO put in the file's place meanwhile is opened at once instead of blocking.
    fd = openSync(file, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  } catch {
    throw unreadable();
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) throw notAFile();
    if (stat.size > MAX_SECRET_FILE) throw tooLarge(file, what);
    // One byte more than allowed, whatever fstat said: a file growing meanwhile is refused too.
    const buffer = Buffer.alloc(MAX_SECRET_FILE + 1);
    let length = 0;
    try {
      for (let n; length < buffer.length && (n = readSync(fd, buffer, length, buffer.length - length, null)) > 0;) length += n;
    } catch {
      throw unreadable();
    }
    if (length > MAX_SECRET_FILE) throw tooLarge(file, what);
    const bytes = buffer.subarray(0, length);
    try {
      return firstLine(decodeUtf8(bytes, file), file, what);
    } finally {
      buffer.fill(0);
    }
  } finally {
    closeSync(fd);
  }
}

const tooLarge = (file: string, what: string) =>
  inputError('secret-file-too-large', `${file} est trop grand pour contenir ${what} (${MAX_SECRET_FILE} octets au plus) : vérifiez que c'est le bon fichier.`);

function decodeUtf8(bytes: Buffer, file: string): string {
  // UTF-16 (Notepad's "Unicode"): its byte-order mark says so; decoded as UTF-8 it would be a
  // wrong passphrase, counted toward the lockout.
  if ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff)) {
    throw inputError('secret-file-encoding', `${file} est enregistré en UTF-16 (« Unicode ») : enregistrez-le en UTF-8, puis recommencez (aucun essai n'a été compté).`);
  }
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    throw inputError('secret-file-encoding', `${file} n'est pas un texte UTF-8 (un accent enregistré en Windows-1252 ?) : enregistrez-le en UTF-8, puis recommencez (aucun essai n'a été compté).`);
  }
}

function firstLine(text: string, file: string, what: string): string {
  const line = (text.startsWith(BOM) ? text.slice(BOM.length) : text).split(/\r\n|\n|\r/)[0] ?? '';
  if (!line) throw inputError('empty-secret', `${file} est vide : ${what} doit être sur la première ligne.`);
  warnTrailingBlank(line, `${what} du fichier ${file}`, 'du fichier');
  return line;
}

/**
 * Kept, but said: a space or tab at the end is easy to save without seeing it, and each wrong try
 * counts toward the lockout. The secret itself is never printed.
 */
function warnTrailingBlank(secret: string, where: string, from: string): void {
  const last = /\s$/u.exec(secret)?.[0];
  if (!last) return;
  const [kind, advice] = last === ' ' ? ['un espace : il est gardé', "S'il n'en fait pas partie, retirez-le"]
    : last === '\t' ? ['une tabulation : elle est gardée', "Si elle n'en fait pas partie, retirez-la"]
      : [`un blanc invisible (U+${last.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}) : il est gardé`, "S'il n'en fait pas partie, retirez-le"];
  process.stderr.write(`pli: attention : ${where} se termine par ${kind}. ${advice} ${from} : un essai refusé compte dans le blocage.\n`);
}

/** The environment variable: its line break at the end (`$(cat fichier)` on Windows keeps a CR) is removed, like a file's. */
function fromEnvironment(name: string, value: string): string {
  const secret = environmentSecret(value);
  if (!secret) throw inputError('empty-secret', `La variable ${name} est vide : mettez-y le secret, ou utilisez un fichier.`);
  warnTrailingBlank(secret, `la variable ${name}`, 'de la variable');
  return secret;
}

/** Reads a line from the terminal without echoing it. */
export function promptHidden(question: string): Promise<string> {
  const stdin = process.stdin;
  if (!stdin.isTTY) {
    return Promise.reject(inputError('no-passphrase', 'Phrase de passe requise : utilisez --passphrase-file FICHIER ou la variable PLI_PASSPHRASE (aucun terminal pour la demander).'));
  }
  return new Promise((resolve, reject) => {
    process.stderr.write(question);
    stdin.setRawMode(true);
    stdin.resume();
    let value = '';
    const done = (error?: Error): void => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.off('data', onData);
      process.stderr.write('\n');
      if (error) reject(error);
      else resolve(value);
    };
    const onData = (data: Buffer): void => {
      for (const ch of data.toString('utf8')) {
        if (ch === '\r' || ch === '\n') return done();
        if (ch === '\u0003') return done(inputError('cancelled', 'Annulé.'));
        if (ch === '\u007f' || ch === '\b') value = [...value].slice(0, -1).join('');
        else value += ch;
      }
    };
    stdin.on('data', onData);
  });
}

/** `home`: the open profile's folder, when there is one (its database is never read as the file). */
export interface SecretSource { file?: string; env: string; prompt: string; what: string; home?: string }

export async function readSecret(source: SecretSource): Promise<string> {
  if (source.file) return readSecretFile(source.file, source.what, source.env, source.home);
  const fromEnv = source.env ? process.env[source.env] : undefined;
  if (fromEnv) return fromEnvironment(source.env, fromEnv);
  return promptHidden(source.prompt);
}

/** A new secret: asked twice on a terminal so a typing mistake does not lock the person out. */
export async function readNewSecret(source: SecretSource): Promise<string> {
  if (source.file || process.env[source.env]) return readSecret(source);
  const first = await promptHidden(source.prompt);
  const second = await promptHidden('Confirmez : ');
  if (first !== second) throw inputError('mismatch', 'Les deux saisies diffèrent : recommencez.');
  return first;
}
