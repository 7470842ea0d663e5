// Where the CLI gets secrets: a file (first line), else an environment variable, else a hidden
// prompt on a terminal. Never from a command-line argument (visible in `ps` and shell history).
import { readFileSync } from 'node:fs';
import { inputError } from '../core/errors.js';

function firstLine(file: string, what: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw inputError('missing-file', `Impossible de lire ${what} dans ${file} : vérifiez le chemin et les droits.`);
  }
  const line = text.split(/\r?\n/)[0] ?? '';
  if (!line) throw inputError('empty-secret', `${file} est vide : ${what} doit être sur la première ligne.`);
  return line;
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

export interface SecretSource { file?: string; env: string; prompt: string; what: string }

export async function readSecret(source: SecretSource): Promise<string> {
  if (source.file) return firstLine(source.file, source.what);
  const fromEnv = process.env[source.env];
  if (fromEnv) return fromEnv;
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
