// The `pli` command line. Its command names, flags, outputs and exit codes are a contract that
// scripts outside the project rely on (README, docs/cli.md): change them only by adding.
// Exit codes: 0 done; 1 usage or input error; 2 refused for security; 3 temporary.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { readFileSync, writeFileSync } from 'node:fs';
import { PliError, inputError } from '../core/errors.js';
import { initProfile, openProfile, resolveHome, type Profile } from '../core/profile/profile.js';
import { createIdentity, currentKeys, importCard, listIdentities, resolveIdentity, unlockIdentity, type IdentityRow } from '../core/profile/identities.js';
import { appendEvent } from '../core/profile/events.js';
import { decrypt, encrypt, inspect } from '../core/services/containers.js';
import type { Context, Unlocker } from '../core/services/context.js';
import { readNewSecret, readSecret } from './secrets.js';
import { formatFingerprint } from '../../shared/ids.js';

type Options = NonNullable<ParseArgsConfig['options']>;
type Values = Record<string, string | boolean | string[] | undefined>;

const COMMON: Options = {
  home: { type: 'string' },
  'passphrase-file': { type: 'string' },
  'new-passphrase-file': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
};

export const USAGE = `Usage : pli [--home DOSSIER] COMMANDE ...
  init                                         crée le profil de ce poste
  id new --name NOM --email ADRESSE --org ORGANISATION
  id list [--json]
  id export ID --out FICHIER
  id import FICHIER
  encrypt [--as ID] --to ID [--to ID ...] [--no-self] [--password-file FICHIER] --out SORTIE.pli FICHIER...
  decrypt [--as ID | --password-file FICHIER] --out DOSSIER ENTREE.pli
  inspect ENTREE.pli [--json]
Secrets : --passphrase-file FICHIER (première ligne), sinon PLI_PASSPHRASE, sinon demande masquée.
Codes de sortie : 0 fait ; 1 erreur d'utilisation ; 2 refus de sécurité ; 3 temporaire, réessayez.`;

interface Invocation { values: Values; positionals: string[] }

function parse(args: string[], options: Options, positionals: { min: number; max: number; name: string }): Invocation {
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

const str = (values: Values, key: string): string | undefined => values[key] as string | undefined;
function required(values: Values, key: string): string {
  const value = str(values, key);
  if (!value) throw inputError('usage', `Option --${key} obligatoire (voir pli --help).`);
  return value;
}

/** Unlocks with --passphrase-file, PLI_PASSPHRASE or a hidden prompt. */
function cliUnlocker(values: Values): Unlocker {
  return {
    unlock: async (identity: IdentityRow) => {
      const passphrase = await readSecret({ file: str(values, 'passphrase-file'), env: 'PLI_PASSPHRASE', prompt: `Phrase de passe de ${identity.name} : `, what: 'la phrase de passe' });
      return unlockIdentity(profileOf(values).db, identity.id, passphrase);
    },
    containerPassword: async () => {
      const file = str(values, 'password-file');
      return file ? readSecret({ file, env: '', prompt: '', what: 'le mot de passe du pli' }) : null;
    },
  };
}

let openedProfile: Profile | undefined;
function profileOf(values: Values): Profile {
  openedProfile ??= openProfile(resolveHome(str(values, 'home')));
  return openedProfile;
}

function context(values: Values): Context {
  return { profile: profileOf(values), unlocker: cliUnlocker(values) };
}

const out = (line: string): void => void process.stdout.write(`${line}\n`);
const err = (line: string): void => void process.stderr.write(`${line}\n`);

type Handler = (args: string[], globalHome: string | undefined) => Promise<void>;

const commands: Record<string, Handler> = {
  async init(args, home) {
    const { values } = parse(args, {}, { min: 0, max: 0, name: 'aucun' });
    const dir = resolveHome(str(values, 'home') ?? home);
    const { profile, created } = initProfile(dir);
    openedProfile = profile;
    if (created) appendEvent(profile.db, profile.workstation, { action: 'profile.created', object: dir });
    out(created ? `Profil créé : ${dir}` : `Profil déjà présent : ${dir}`);
  },

  async 'id new'(args) {
    const { values } = parse(args, { name: { type: 'string' }, email: { type: 'string' }, org: { type: 'string' } }, { min: 0, max: 0, name: 'aucun' });
    const person = { name: required(values, 'name'), email: required(values, 'email'), org: required(values, 'org') };
    const profile = profileOf(values);
    const passphrase = await readNewSecret({ file: str(values, 'passphrase-file'), env: 'PLI_PASSPHRASE', prompt: `Nouvelle phrase de passe pour ${person.name} : `, what: 'la phrase de passe' });
    const created = await createIdentity(profile.db, person, passphrase);
    appendEvent(profile.db, profile.workstation, { actor: created.id, action: 'identity.created', object: created.id, detail: { name: person.name, org: person.org, fingerprint: formatFingerprint(created.sigFpr) } });
    err(`Identité créée pour ${person.name}. Empreinte à communiquer de vive voix : ${formatFingerprint(created.sigFpr)}`);
    out(created.id);
  },

  async 'id list'(args) {
    const { values } = parse(args, { json: { type: 'boolean' } }, { min: 0, max: 0, name: 'aucun' });
    const db = profileOf(values).db;
    const rows = listIdentities(db).map((r) => {
      const keys = currentKeys(db, r.id);
      return {
        id: r.id, name: r.name, email: r.email, org: r.org, own: r.own === 1,
        kind: r.own === 1 ? 'own' : 'correspondent',
        fingerprint: formatFingerprint(keys.sig.fpr),
        encryptionFingerprint: formatFingerprint(keys.enc.fpr),
        certificate: 'none',
      };
    });
    if (values.json) return out(JSON.stringify(rows, null, 2));
    out('Profil sans autorité : cartes auto-signées, dont les empreintes doivent être vérifiées de vive voix.');
    if (rows.length === 0) return out('Aucune identité. Créez la vôtre avec « pli id new ».');
    for (const r of rows) {
      out(`${r.id}  ${r.own ? 'personnelle   ' : 'correspondant '}  ${r.name} <${r.email}>  ${r.org}  empreinte ${r.fingerprint}  certificat : aucun`);
    }
  },

  async 'id export'(args) {
    const { values, positionals } = parse(args, { out: { type: 'string' } }, { min: 1, max: 1, name: 'ID' });
    const profile = profileOf(values);
    const row = resolveIdentity(profile.db, positionals[0]!);
    const target = required(values, 'out');
    writeFileSync(target, row.card, { mode: 0o644 });
    appendEvent(profile.db, profile.workstation, { actor: row.own === 1 ? row.id : null, action: 'identity.exported', object: row.id });
    out(target);
  },

  async 'id import'(args) {
    const { values, positionals } = parse(args, {}, { min: 1, max: 1, name: 'FICHIER' });
    const profile = profileOf(values);
    let text: string;
    try {
      text = readFileSync(positionals[0]!, 'utf8');
    } catch {
      throw inputError('missing-file', `Fichier introuvable : ${positionals[0]}. Vérifiez le chemin.`);
    }
    try {
      const result = await importCard(profile.db, text);
      appendEvent(profile.db, profile.workstation, { action: 'identity.imported', object: result.id, detail: { name: result.card.body.name, org: result.card.body.org, fingerprint: formatFingerprint(result.card.sigFpr), added: result.added } });
      err(`${result.added ? 'Correspondant ajouté' : 'Déjà connu'} : ${result.card.body.name} (${result.card.body.org}), empreinte ${formatFingerprint(result.card.sigFpr)}. Vérifiez cette empreinte avec la personne.`);
      out(result.id);
    } catch (error) {
      if (error instanceof PliError && error.kind === 'security') {
        appendEvent(profile.db, profile.workstation, { action: 'identity.imported', outcome: 'refused', detail: { reason: error.code } });
      }
      throw error;
    }
  },

  async encrypt(args) {
    const { values, positionals } = parse(args, {
      as: { type: 'string' }, to: { type: 'string', multiple: true }, 'no-self': { type: 'boolean' },
      'password-file': { type: 'string' }, out: { type: 'string' },
    }, { min: 1, max: 10000, name: 'FICHIER...' });
    const result = await encrypt(context(values), {
      as: str(values, 'as'),
      to: (values.to as string[] | undefined) ?? [],
      self: !values['no-self'],
      usePassword: Boolean(values['password-file']),
      files: positionals,
      out: required(values, 'out'),
    });
    out(result.out);
  },

  async decrypt(args) {
    const { values, positionals } = parse(args, { as: { type: 'string' }, 'password-file': { type: 'string' }, out: { type: 'string' } }, { min: 1, max: 1, name: 'ENTREE.pli' });
    if (values.as && values['password-file']) throw inputError('usage', '--as et --password-file s’excluent : choisissez l’un ou l’autre.');
    const outDir = required(values, 'out');
    const result = await decrypt(context(values), { as: str(values, 'as'), usePassword: Boolean(values['password-file']), input: positionals[0]!, outDir });
    err(`Pli de ${result.senderName} (${result.senderId}) : signature vérifiée, ${result.files.length} fichier(s).`);
    for (const file of result.files) out(file.path);
  },

  async inspect(args) {
    const { values, positionals } = parse(args, { json: { type: 'boolean' } }, { min: 1, max: 1, name: 'ENTREE.pli' });
    const info = await inspect(positionals[0]!);
    if (values.json) return out(JSON.stringify(info, null, 2));
    out(`Pli chiffré, format version ${info.version}`);
    out(`Identifiant du pli : ${info.containerId}`);
    out(`Expéditeur annoncé : ${info.senderId} (clé ${info.senderKey}) — non vérifié par inspect`);
    out(`Créé le (selon l'expéditeur) : ${new Date(info.createdMs).toISOString()}`);
    out(`Destinataires : ${info.passwordProtected ? 'un mot de passe' : info.recipients}`);
    out(`Taille du contenu (au bloc de 64 Kio près) : ${info.payloadBytes} octets`);
  },
};

/** Splits `pli [--home DIR] word [word] ...` into the command name and its arguments. */
function route(argv: string[]): { name: string; args: string[]; home?: string } {
  const args = [...argv];
  let home: string | undefined;
  while (args[0]?.startsWith('--home')) {
    const flag = args.shift()!;
    home = flag.includes('=') ? flag.slice('--home='.length) : args.shift();
  }
  const first = args.shift() ?? '';
  const two = `${first} ${args[0] ?? ''}`;
  if (commands[two]) {
    args.shift();
    return { name: two, args: home ? ['--home', home, ...args] : args, home };
  }
  return { name: first, args: home ? ['--home', home, ...args] : args, home };
}

export async function main(argv: string[]): Promise<number> {
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
    out(USAGE);
    return argv.length === 0 ? 1 : 0;
  }
  const { name, args, home } = route(argv);
  const handler = commands[name];
  try {
    if (!handler) throw inputError('usage', `Commande inconnue : ${argv.filter((a) => !a.startsWith('-')).slice(0, 2).join(' ')} (voir pli --help).`);
    if (args.includes('--help') || args.includes('-h')) {
      out(USAGE);
      return 0;
    }
    await handler(args, home);
    return 0;
  } catch (error) {
    if (error instanceof PliError) {
      err(`pli: ${error.message}`);
      return error.exitCode;
    }
    const code = (error as { code?: string }).code;
    if (code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED') {
      err('pli: le profil est occupé par une autre commande : réessayez dans un instant.');
      return 3;
    }
    err(`pli: erreur inattendue : ${(error as Error).message ?? String(error)}. Réessayez ; si elle persiste, signalez-la avec la commande lancée.`);
    return 1;
  } finally {
    openedProfile?.close();
    openedProfile = undefined;
  }
}
