// Shared plumbing of the CLI commands: argument parsing, secrets, profile, output. The audit
// events are the core's: the context only tells it who is acting (the person who unlocked).
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { readFileSync } from 'node:fs';
import { PliError, inputError } from '../core/errors.js';
import { refuseProfileFile } from '../core/own-files.js';
import { readFault } from '../core/faults.js';
import { openProfile, resolveHome, type Profile } from '../core/profile/profile.js';
import type { IdentityRow } from '../core/profile/identities.js';
import { signIn } from '../core/services/session.js';
import { signerOf, writeCheckpoint, type CheckpointSigner } from '../core/services/audit.js';
import { ROLES, type Role } from '../core/authority/certificates.js';
import { directoryWarning as coreDirectoryWarning } from '../core/authority/directory.js';
import type { Context, Unlocker } from '../core/context.js';
import { readSecret } from './secrets.js';
import { loadZod } from '../core/zod.js';
import { forTerminal } from '../../shared/text.js';
import { directoryLine } from './status.js';

export type Options = NonNullable<ParseArgsConfig['options']>;
export type Values = Record<string, string | boolean | string[] | undefined>;

export const COMMON: Options = {
  home: { type: 'string' },
  'passphrase-file': { type: 'string' },
  'new-passphrase-file': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
};

export const USAGE = `Usage : pli [--home DOSSIER] COMMANDE ...
  init [--shared]                              crée le profil (--shared : profil commun aux comptes du poste dédié)
  id new --name NOM --email ADRESSE --org ORGANISATION
  id list [--json]
  id export ID --out FICHIER
  id import FICHIER
  encrypt [--as ID] --to ID [--to ID ...] [--no-self] [--password-file FICHIER] --out SORTIE.pli FICHIER...
                                               mot de passe du pli : 16 caractères au moins
  decrypt [--as ID] [--password-file FICHIER] --out DOSSIER ENTREE.pli
                                               avec --password-file : la personne (--as) s'identifie aussi
  inspect ENTREE.pli [--json]
  authority init --name NOM | authority fingerprint
  authority certify CARTE --role ROLE [--days N] --out CERTIFICAT
  authority provision --name NOM --email ADRESSE --org ORGANISATION --role ROLE --out FICHIER_CLES
  authority revoke ID --reason MOTIF
  authority contact [--name NOM --phone TELEPHONE --mail ADRESSE]   coordonnées de l'officier SSI portées par l'annuaire
  directory export --out FICHIER | directory import FICHIER [--pin EMPREINTE] [--as ID]
  id install CERTIFICAT [--as ID] | id import-key FICHIER_CLES | id rotate ID
Rôles : officer (officier SSI), operator (envoie et ouvre), reader (ouvre).
Secrets : --passphrase-file FICHIER (première ligne), sinon PLI_PASSPHRASE, sinon demande masquée.
Codes de sortie : 0 fait ; 1 erreur d'utilisation ; 2 refus de sécurité ; 3 temporaire, réessayez.`;

export interface Invocation { values: Values; positionals: string[] }

export function parse(args: string[], options: Options, positionals: { min: number; max: number; name: string }): Invocation {
  let parsed;
  try {
    parsed = parseArgs({ args, options: { ...COMMON, ...options }, allowPositionals: true, strict: true });
  } catch (error) {
    throw inputError('usage', `${(error as Error).message.split('\n')[0]} (voir pli --help).`);
  }
  const count = parsed.positionals.length;
  if (count < positionals.min || count > positionals.max) {
    throw inputError('usage', `Arguments attendus : ${positionals.name} (voir pli --help).`);
  }
  return { values: parsed.values as Values, positionals: parsed.positionals };
}

export const str = (values: Values, key: string): string | undefined => values[key] as string | undefined;
export function required(values: Values, key: string): string {
  const value = str(values, key);
  if (!value) throw inputError('usage', `Option --${key} obligatoire (voir pli --help).`);
  return value;
}

/** Unlocks with --passphrase-file, PLI_PASSPHRASE or a hidden prompt. */
export function cliUnlocker(values: Values): Unlocker {
  return {
    unlock: async (identity: IdentityRow) => {
      // Every unlock then needs X-Wing (the public keys are derived again and checked) and
      // libsodium: loaded now, while the passphrase is read and Argon2id runs on libuv's pool,
      // instead of after (the main thread only waits meanwhile; bench/README.md). A failure
      // here is left to the first real use, which reports it.
      // Then zod, which the manifest of every container needs after the unlock: libsodium (loaded
      // with X-Wing) comes first, as the unlock's first step after Argon2id needs it.
      // Then the manifest's schema, built and run once on a sample (warmManifest).
      void import('../core/crypto/xwing.js').then((m) => m.ready).then(loadZod).then(warmManifest).catch(() => undefined);
      const passphrase = await readSecret({ file: str(values, 'passphrase-file'), env: 'PLI_PASSPHRASE', prompt: `Phrase de passe de ${forTerminal(identity.name)} : `, what: 'la phrase de passe', home: profileOf(values).home });
      const unlocked = await signIn(profileOf(values), identity, passphrase);
      // From now on this person is the actor of the command's events (Context.actor).
      actingId = unlocked.id;
      // A copy of the signing key, kept only until the end of the command, signs the audit
      // checkpoint over everything this command appended (docs/audit.md section 3).
      checkpointSigner?.sigSecret.fill(0);
      checkpointSigner = { ...signerOf(unlocked), sigSecret: Uint8Array.from(unlocked.current.sigSecret) };
      return unlocked;
    },
    containerPassword: async () => {
      const file = str(values, 'password-file');
      return file ? readSecret({ file, env: '', prompt: '', what: 'le mot de passe du pli', home: profileOf(values).home }) : null;
    },
  };
}

/** A container's manifest as the format has it (docs/format.md 5.3), with made-up values. */
const SAMPLE_MANIFEST = Buffer.from(JSON.stringify({ v: 1, sender: 'abcdefghjkmnpqrs', files: [{ name: 'exemple.txt', type: 'text/plain', size: 0, mtime: 0 }] }), 'utf8');
/** zod builds a schema on its first use and compiles its parser on its first parse (10-40 ms for
 * the manifest's, bench/README.md): done on a sample while Argon2id runs, not after the unlock,
 * where every encryption and decryption parses a manifest. A refusal of the sample changes nothing. */
async function warmManifest(): Promise<void> {
  const { decodeManifest } = await import('../core/container/manifest.js');
  try {
    decodeManifest(SAMPLE_MANIFEST);
  } catch {
    // only a warm-up
  }
}

let openedProfile: Profile | undefined;
export function setOpenedProfile(profile: Profile | undefined): void {
  openedProfile = profile;
}
let checkpointSigner: CheckpointSigner | undefined;
/** Who gave their passphrase during this command: the actor of its events (none before). */
let actingId: string | null = null;

/** Past the directory's next update, every command says so (docs/authority.md section 5). */
export function directoryWarning(): string | null {
  if (!openedProfile) return null;
  const warning = coreDirectoryWarning(openedProfile.db);
  return warning ? directoryLine(warning) : null;
}

/** Signs the checkpoint over what this command appended, if a person unlocked their key. Throws
 * (security error, exit 2) when the chain since the last checkpoint is broken: nothing is signed. */
export async function checkpointOpenedProfile(): Promise<void> {
  const signer = checkpointSigner;
  checkpointSigner = undefined;
  if (!signer) return;
  try {
    if (openedProfile) await writeCheckpoint(openedProfile, signer);
  } finally {
    signer.sigSecret.fill(0);
  }
}

/** End of a command: checkpoint the audit chain if not done yet (a command that failed), then
 * close. A break found then is reported on stderr; the exit code stays the command's. */
export async function closeOpenedProfile(): Promise<void> {
  try {
    await checkpointOpenedProfile();
  } catch (error) {
    if (!(error instanceof PliError)) throw error;
    err(`pli: ${forTerminal(error.message)}`);
  } finally {
    checkpointSigner?.sigSecret.fill(0);
    checkpointSigner = undefined;
    openedProfile?.close();
    openedProfile = undefined;
    actingId = null;
  }
}
export function profileOf(values: Values): Profile {
  openedProfile ??= openProfile(resolveHome(str(values, 'home')));
  return openedProfile;
}

export function context(values: Values): Context {
  return { profile: profileOf(values), unlocker: cliUnlocker(values), actor: () => actingId };
}

export const out = (line: string): void => void process.stdout.write(`${line}\n`);
export const err = (line: string): void => void process.stderr.write(`${line}\n`);

export type Handler = (args: string[], globalHome: string | undefined) => Promise<void>;

export const roleOf = (values: Values): Role => {
  const role = required(values, 'role');
  if (!(ROLES as readonly string[]).includes(role)) throw inputError('bad-role', `Rôle inconnu : ${role}. Rôles : officer, operator, reader.`);
  return role as Role;
};
export const daysOf = (values: Values): number | undefined => {
  const text = str(values, 'days');
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text)) throw inputError('bad-days', '--days attend un nombre de jours.');
  return Number(text);
};
/** A file the person named (a card, a directory, a certificate, an anchor): never one of the
 * profile's files, checked without opening it (own-files.ts), against the open profile when there
 * is one (any profile's folder otherwise: this process then holds no lock to lose). */
export function readText(file: string): string {
  refuseProfileFile(file, openedProfile?.home, 'read');
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw readFault(file, error); // missing, not ours to read, a folder...
  }
}
