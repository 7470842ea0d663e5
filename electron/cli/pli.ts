// The `pli` command line. Its command names, flags, outputs and exit codes are a contract that
// scripts outside the project rely on (README, docs/cli.md): change them only by adding.
// Exit codes: 0 done; 1 usage or input error; 2 refused for security; 3 temporary.
import path from 'node:path';
import { PliError, inputError } from '../core/errors.js';
import { cliMessage } from './hints.js';
import { faultError, isProfileBusy, placeOf, writeFault } from '../core/faults.js';
import { somethingAt, writeNewFileSync, type NewFileWords } from '../core/files.js';
import { resolveHome } from '../core/profile/profile.js';
import { currentKeys, listIdentities, resolveIdentity, resolveOwn } from '../core/profile/identities.js';
import { hasHolder } from '../core/profile/integrity.js';
import { decrypt, encrypt, inspect } from '../core/services/containers.js';
import { removeLiveTemporaries } from '../core/container/sinks.js';
import { readNewSecret, readSecret } from './secrets.js';
import { authorityFingerprint, certifyCard, exportDirectory, initAuthority, provisionPerson, revokePerson } from '../core/authority/authority.js';
import { signIn } from '../core/services/session.js';
import { acceptDirectory, addCorrespondent, createProfile, exportCard, installKeyfile, installOwnCertificate, newIdentity, rotateKeys } from '../core/services/workstation.js';
import { certificateState, describeState, getTrust } from '../core/authority/certificates.js';
import { formatFingerprint } from '../../shared/ids.js';
import { isoOrNull } from '../../shared/dates.js';
import { forTerminal } from '../../shared/text.js';
import { auditCommands, AUDIT_USAGE } from './audit.js';
import { conventionCommands, CONVENTION_USAGE } from './convention.js';
import { indicatorCommands, INDICATORS_USAGE } from './indicators.js';
import { registerCommands, REGISTER_USAGE } from './register.js';
import {
  checkpointOpenedProfile, closeOpenedProfile, context, directoryWarning, type Values, daysOf, err, out, parse, profileOf, readText, required, roleOf, setOpenedProfile, str, USAGE, type Handler,
} from './common.js';
import { plural } from '../../shared/french.js';
import { leadingHome } from './early.js';

const existsError = (target: string) =>
  inputError('exists', `Le fichier ${target} existe déjà : il n'a pas été remplacé. Choisissez un autre nom avec --out, ou déplacez ce fichier.`);

/** Refuses, before any work, an output name that exists (a file, a folder, a symlink even
 * dangling): the command must change nothing (no certificate issued, no person created). */
export function refuseExisting(target: string): void {
  if (somethingAt(target)) throw existsError(target);
}

const WRITE_WORDS: NewFileWords = {
  exists: existsError,
  failed: (target, error, stage) => writeFault(target, error, stage === 'open' ? 'Vérifiez le dossier et les droits, puis recommencez.' : 'Vérifiez la place libre, puis recommencez.'),
};

/** Writes a new file (electron/core/files.ts: never replaces a file nor follows a symlink; a failed
 * write leaves no partial file). Every `--out` of the CLI goes through here or through sealToFile. */
export function writeNewFile(target: string, data: string | Buffer, mode: number): void {
  writeNewFileSync(target, data, mode, WRITE_WORDS);
}

const SIGNAL_EXITS = [['SIGINT', 130], ['SIGTERM', 143], ['SIGHUP', 129]] as const;

/**
 * Runs `work` (a decryption or an encryption); if a signal ends the command meanwhile (Ctrl-C,
 * a service stop, the terminal closed), deletes what the operation in progress had on disk (its
 * temporary folder and any file it was moving into place, or its .part file: nothing partial and
 * no unsigned plaintext stays), then exits 128 + the signal's number, as a shell expects.
 */
export async function cleaningOnSignals<T>(what: string, work: () => Promise<T>): Promise<T> {
  const handlers = SIGNAL_EXITS.map(([signal, code]) => {
    const handler = (): void => {
      removeLiveTemporaries();
      err(`pli: ${what} interrompu : rien n'a été gardé. Relancez la commande pour recommencer.`);
      process.exit(code);
    };
    process.on(signal, handler);
    return [signal, handler] as const;
  });
  try {
    return await work();
  } finally {
    for (const [signal, handler] of handlers) process.off(signal, handler);
  }
}

/** Command tables of other areas register here (mailbox, audit...): one file per area. */
export const commands: Record<string, Handler> = {
  async init(args, home) {
    const { values } = parse(args, { shared: { type: 'boolean' } }, { min: 0, max: 0, name: 'aucun' });
    const dir = resolveHome(str(values, 'home') ?? home);
    // init is the one command that sets the profile's rights (the others refuse a wrong one).
    const { profile, created, repaired } = createProfile(dir, { shared: Boolean(values.shared) });
    setOpenedProfile(profile);
    if (repaired) err(`Droits du profil corrigés : il n'est plus accessible qu'${values.shared ? 'au groupe du poste dédié' : 'à ce compte'}. S'il a pu être lu par d'autres comptes, prévenez l'officier SSI.`);
    out(created ? `Profil créé : ${dir}` : `Profil déjà présent : ${dir}`);
  },

  async 'id new'(args) {
    const { values } = parse(args, { name: { type: 'string' }, email: { type: 'string' }, org: { type: 'string' } }, { min: 0, max: 0, name: 'aucun' });
    const person = { name: required(values, 'name'), email: required(values, 'email'), org: required(values, 'org') };
    const profile = profileOf(values);
    const passphrase = await readNewSecret({ file: str(values, 'passphrase-file'), env: 'PLI_PASSPHRASE', prompt: `Nouvelle phrase de passe pour ${forTerminal(person.name)} : `, what: 'la phrase de passe' });
    const created = await newIdentity(profile, person, passphrase);
    err(`Identité créée pour ${forTerminal(person.name)}. Empreinte à communiquer de vive voix : ${formatFingerprint(created.sigFpr)}`);
    out(created.id);
  },

  async 'id list'(args) {
    const { values } = parse(args, { json: { type: 'boolean' } }, { min: 0, max: 0, name: 'aucun' });
    const db = profileOf(values).db;
    const trust = getTrust(db);
    const rows = listIdentities(db).map((r) => {
      const keys = currentKeys(db, r.id);
      const state = certificateState(db, r.id);
      return {
        id: r.id, name: r.name, email: r.email, org: r.org, own: r.own === 1,
        kind: r.own === 1 ? 'own' : 'correspondent',
        fingerprint: formatFingerprint(keys.sig.fpr),
        encryptionFingerprint: formatFingerprint(keys.enc.fpr),
        certificate: state.state, role: state.role, validUntil: state.notAfter === null ? null : new Date(state.notAfter).toISOString(),
        stateText: describeState(state),
      };
    });
    if (values.json) return out(JSON.stringify(rows, null, 2));
    out(trust
      ? `Autorité épinglée : ${forTerminal(trust.name)}, empreinte ${formatFingerprint(trust.fpr)}, annuaire n° ${trust.serial}.`
      : 'Profil sans autorité : cartes auto-signées, dont les empreintes doivent être vérifiées de vive voix.');
    if (rows.length === 0) return out('Aucune identité. Créez la vôtre avec « pli id new ».');
    for (const r of rows) {
      out(`${r.id}  ${r.own ? 'personnelle   ' : 'correspondant '}  ${forTerminal(r.name)} <${forTerminal(r.email)}>  ${forTerminal(r.org)}  empreinte ${r.fingerprint}  certificat : ${forTerminal(r.stateText)}${r.role ? ` (${r.role})` : ''}`);
    }
  },

  async 'id export'(args) {
    const { values, positionals } = parse(args, { out: { type: 'string' } }, { min: 1, max: 1, name: 'ID' });
    const row = resolveIdentity(profileOf(values).db, positionals[0]!);
    const target = required(values, 'out');
    await exportCard(context(values), row, (card) => writeNewFile(target, card, 0o644));
    out(target);
  },

  async 'id import'(args) {
    const { values, positionals } = parse(args, {}, { min: 1, max: 1, name: 'FICHIER' });
    const text = readText(positionals[0]!);
    const result = await addCorrespondent(context(values), text);
    err(`${result.added ? 'Correspondant ajouté' : 'Déjà connu'} : ${forTerminal(result.card.body.name)} (${forTerminal(result.card.body.org)}), empreinte ${formatFingerprint(result.card.sigFpr)}. Vérifiez cette empreinte avec la personne.`);
    out(result.id);
  },

  async encrypt(args) {
    const { values, positionals } = parse(args, {
      as: { type: 'string' }, to: { type: 'string', multiple: true }, 'no-self': { type: 'boolean' },
      'password-file': { type: 'string' }, out: { type: 'string' },
    }, { min: 1, max: 10000, name: 'FICHIER...' });
    const result = await cleaningOnSignals('chiffrement', () => encrypt(context(values), {
      as: str(values, 'as'),
      to: (values.to as string[] | undefined) ?? [],
      self: !values['no-self'],
      usePassword: Boolean(values['password-file']),
      files: positionals,
      out: required(values, 'out'),
    }));
    out(result.out);
  },

  async decrypt(args) {
    const { values, positionals } = parse(args, { as: { type: 'string' }, 'password-file': { type: 'string' }, out: { type: 'string' } }, { min: 1, max: 1, name: 'ENTREE.pli' });
    // --as with --password-file: the person opening a password container signs in too (their
    // passphrase), as the actor of the log; without --as, the only own identity.
    const outDir = required(values, 'out');
    const result = await cleaningOnSignals('déchiffrement', () => decrypt(context(values), { as: str(values, 'as'), usePassword: Boolean(values['password-file']), input: positionals[0]!, outDir, fileDigests: false }));
    err(`Pli de ${forTerminal(result.senderName)} (${forTerminal(result.senderId)}) : signature vérifiée, ${plural(result.files.length, 'fichier')}.`);
    for (const file of result.files) out(forTerminal(file.path));
  },

  async inspect(args) {
    const { values, positionals } = parse(args, { json: { type: 'boolean' } }, { min: 1, max: 1, name: 'ENTREE.pli' });
    const info = await inspect(positionals[0]!);
    if (values.json) return out(JSON.stringify(info, null, 2));
    out(`Pli chiffré, format version ${info.version}`);
    out(`Identifiant du pli : ${info.containerId}`);
    out(`Expéditeur annoncé : ${forTerminal(info.senderId)} (clé ${forTerminal(info.senderKey)}) — non vérifié par inspect`);
    // The parser bounds the date; isoOrNull still keeps a bad value from throwing here.
    out(`Créé le (selon l'expéditeur) : ${isoOrNull(info.createdMs) ?? 'date illisible'}`);
    out(`Destinataires : ${info.passwordProtected ? 'un mot de passe' : info.recipients}`);
    out(`Taille du contenu (au bloc de 64 Kio près) : ${info.payloadBytes} octets`);
  },
};

/** Signs in (--as, or the only own identity) when someone of the profile holds the integrity key:
 * the unlock attaches the key, so the trust state is verified before the command and its writes
 * are sealed (docs/profile.md, "Integrity of trust state"). A profile with no holder yet (first
 * run, directory pinned before any identity) is used as found. */
async function signInForTrust(values: Values): Promise<void> {
  const profile = profileOf(values);
  if (!hasHolder(profile.db)) return;
  (await context(values).unlocker.unlock(resolveOwn(profile.db, str(values, 'as')))).wipe();
}

Object.assign(commands, {
  async 'authority init'(args: string[]) {
    const { values } = parse(args, { name: { type: 'string' }, as: { type: 'string' } }, { min: 0, max: 0, name: 'aucun' });
    const result = await initAuthority(context(values), required(values, 'name'), str(values, 'as'));
    err("Autorité créée. Lisez cette empreinte au téléphone à chaque poste lors de sa première importation de l'annuaire :");
    out(result.fingerprint);
  },
  async 'authority fingerprint'(args: string[]) {
    const { values } = parse(args, {}, { min: 0, max: 0, name: 'aucun' });
    out(authorityFingerprint(profileOf(values).db));
  },
  async 'authority certify'(args: string[]) {
    const { values, positionals } = parse(args, { role: { type: 'string' }, days: { type: 'string' }, out: { type: 'string' } }, { min: 1, max: 1, name: 'CARTE' });
    const target = required(values, 'out');
    refuseExisting(target);
    const role = roleOf(values);
    const result = await certifyCard(context(values), readText(positionals[0]!), role, daysOf(values));
    writeNewFile(target, result.certificate, 0o644);
    err(`Certificat émis pour ${forTerminal(result.name)} (${role}). Remettez-lui ${target} et l'annuaire à jour (pli directory export) ; les postes déjà épinglés le recevront avec pli authority publish.`);
    out(target);
  },
  async 'authority provision'(args: string[]) {
    const { values } = parse(args, { name: { type: 'string' }, email: { type: 'string' }, org: { type: 'string' }, role: { type: 'string' }, days: { type: 'string' }, out: { type: 'string' } }, { min: 0, max: 0, name: 'aucun' });
    const target = required(values, 'out');
    refuseExisting(target);
    const person = { name: required(values, 'name'), email: required(values, 'email'), org: required(values, 'org') };
    const role = roleOf(values);
    const result = await provisionPerson(context(values), person, role, daysOf(values));
    writeNewFile(target, result.keyfile, 0o600);
    err(`Phrase de passe à usage unique (affichée une seule fois, à transmettre de vive voix) : ${result.oneTimePassphrase}`);
    out(result.id);
  },
  async 'authority revoke'(args: string[]) {
    const { values, positionals } = parse(args, { reason: { type: 'string' } }, { min: 1, max: 1, name: 'ID' });
    const profile = profileOf(values);
    const row = resolveIdentity(profile.db, positionals[0]!);
    const reason = required(values, 'reason');
    await revokePerson(context(values), row, reason);
    err(`Certificat de ${forTerminal(row.name)} révoqué. Publiez l'annuaire tout de suite pour que les postes l'apprennent : pli authority publish (boîtes aux lettres fonctionnelles) ou pli authority publish --folder DOSSIER (clé USB).`);
  },
  async 'directory export'(args: string[]) {
    const { values } = parse(args, { out: { type: 'string' } }, { min: 0, max: 0, name: 'aucun' });
    const target = required(values, 'out');
    refuseExisting(target);
    const result = await exportDirectory(context(values));
    writeNewFile(target, result.text, 0o644);
    err(`Annuaire n° ${result.serial} exporté.`);
    out(target);
  },
  async 'directory import'(args: string[]) {
    const { values, positionals } = parse(args, { pin: { type: 'string' }, as: { type: 'string' } }, { min: 1, max: 1, name: 'FICHIER' });
    await signInForTrust(values);
    const result = await acceptDirectory(context(values), readText(positionals[0]!), str(values, 'pin'));
    out(`Annuaire n° ${result.serial} de ${forTerminal(result.authorityName)} importé : ${plural(result.certificates, 'certificat')}, ${plural(result.revocations, 'révocation')}${result.conventions > 0 ? `, ${plural(result.conventions, 'convention nouvelle ou modifiée', 'conventions nouvelles ou modifiées')}` : ''}${result.pinnedNow ? `, autorité épinglée (${result.fingerprint})` : ''}${result.keyChanged ? ", nouvelle clé d'autorité acceptée (passation signée)" : ''}.`);
  },
  async 'id install'(args: string[]) {
    const { values, positionals } = parse(args, { as: { type: 'string' } }, { min: 1, max: 1, name: 'CERTIFICAT' });
    await signInForTrust(values);
    const cert = await installOwnCertificate(context(values), readText(positionals[0]!));
    out(`Certificat installé pour ${forTerminal(cert.body.name)} : ${cert.body.role}, valide jusqu'au ${new Date(cert.body.notAfter).toISOString().slice(0, 10)}.`);
  },
  async 'id import-key'(args: string[]) {
    const { values, positionals } = parse(args, {}, { min: 1, max: 1, name: 'FICHIER_CLES' });
    const text = readText(positionals[0]!);
    const oneTime = await readSecret({ file: str(values, 'passphrase-file'), env: 'PLI_PASSPHRASE', prompt: 'Phrase de passe à usage unique remise par l’officier SSI : ', what: 'la phrase de passe à usage unique' });
    const fresh = await readNewSecret({ file: str(values, 'new-passphrase-file'), env: 'PLI_NEW_PASSPHRASE', prompt: 'Choisissez votre phrase de passe : ', what: 'la nouvelle phrase de passe' });
    const result = await installKeyfile(context(values), text, oneTime, fresh);
    err(`Identité de ${forTerminal(result.name)} installée sur ce poste. Empreinte : ${formatFingerprint(result.sigFpr)}.`);
    out(result.id);
  },
  async 'id rotate'(args: string[]) {
    const { values, positionals } = parse(args, {}, { min: 1, max: 1, name: 'ID' });
    const profile = profileOf(values);
    const row = resolveIdentity(profile.db, positionals[0]!, { own: true });
    const passphrase = await readSecret({ file: str(values, 'passphrase-file'), env: 'PLI_PASSPHRASE', prompt: `Phrase de passe de ${forTerminal(row.name)} : `, what: 'la phrase de passe' });
    // Through signIn first: the lockout applies and failures are counted, as for any use of a key.
    (await signIn(profile, row, passphrase)).wipe();
    const result = await rotateKeys(context(values), row, passphrase);
    err(`Nouvelles clés pour ${forTerminal(row.name)} ; les anciennes restent pour lire les anciens plis. Exportez la carte (pli id export) et faites-la certifier par l'officier SSI.`);
    out(formatFingerprint(result.sigFpr));
  },
} satisfies Record<string, Handler>);

// d1-officer (issues 15, 17): the SSI officer's contact, signed into every directory from now on
// (docs/authority.md 5.2). Without options: what is set here and what the directory in force says.
Object.assign(commands, {
  async 'authority contact'(args: string[]) {
    const { values } = parse(args, { name: { type: 'string' }, phone: { type: 'string' }, mail: { type: 'string' } }, { min: 0, max: 0, name: 'aucun' });
    const { directoryContact } = await import('../core/authority/directory.js');
    const { pendingContact, setAuthorityContact } = await import('../core/authority/authority.js');
    const given = ['name', 'phone', 'mail'].filter((k) => str(values, k) !== undefined);
    if (given.length > 0) {
      const contact = await setAuthorityContact(context(values), { name: required(values, 'name'), phone: required(values, 'phone'), mail: required(values, 'mail') });
      err(`Coordonnées de l'officier SSI enregistrées et signées : ${forTerminal(contact.name)}, ${forTerminal(contact.phone)}, ${forTerminal(contact.mail)}. Les postes les recevront avec le prochain annuaire : publiez-le (pli authority publish).`);
      return;
    }
    const db = profileOf(values).db;
    const pending = await pendingContact(db);
    const published = await directoryContact(db);
    const line = (c: { name: string; phone: string; mail: string }) => `${forTerminal(c.name)}, ${forTerminal(c.phone)}, ${forTerminal(c.mail)}`;
    if (pending.state === 'valid') out(`À publier : ${line(pending.contact)}`);
    if (pending.state === 'unverified') out("À publier : coordonnées modifiées en dehors de Pli (signature de l'autorité absente) : saisissez-les à nouveau.");
    if (published.state === 'valid') out(`Dans l'annuaire en vigueur : ${line(published)}`);
    if (published.state === 'unverified') out("Dans l'annuaire en vigueur : coordonnées modifiées en dehors de Pli, non signées par l'autorité : ne les utilisez pas.");
    if (pending.state === 'none' && published.state === 'none') out("Aucune coordonnée de l'officier SSI dans l'annuaire.");
  },
} satisfies Record<string, Handler>);

// The mailbox commands load nodemailer and imapflow: only when one of them runs, so that the
// other commands start faster and use less memory (fixed cost, peak RSS: bench/README.md).
export const MAIL_COMMAND_NAMES = ['mailbox set', 'mailbox show', 'mailbox', 'mailbox test', 'send', 'outbox', 'outbox flush', 'receive', 'inbox', 'open'];
for (const name of MAIL_COMMAND_NAMES) {
  commands[name] = async (args, home) => {
    const handler = (await import('./mail.js')).mailCommands[name];
    if (!handler) throw inputError('usage', `Commande inconnue : ${name} (voir pli --help).`);
    await handler(args, home);
  };
}

// Pli objects (receipts, the pushed directory: docs/objects.md): loaded on demand, as the mail commands.
export const OBJECT_COMMAND_NAMES = ['receipts', 'receipts anchors', 'authority publish', 'directory status'];
for (const name of OBJECT_COMMAND_NAMES) {
  commands[name] = async (args, home) => {
    const handler = (await import('./objects.js')).objectCommands[name];
    if (!handler) throw inputError('usage', `Commande inconnue : ${name} (voir pli --help).`);
    await handler(args, home);
  };
}

Object.assign(commands, auditCommands);
Object.assign(commands, conventionCommands);
Object.assign(commands, indicatorCommands);
Object.assign(commands, registerCommands);
const fullUsage = async (): Promise<string> => `${USAGE}\n${AUDIT_USAGE}\n${(await import('./mail.js')).MAIL_USAGE}\n${CONVENTION_USAGE}\n${REGISTER_USAGE}\n${INDICATORS_USAGE}\n${(await import('./objects.js')).OBJECTS_USAGE}`;

/** Splits `pli [--home DIR] word [word] ...` into the command name and its arguments. */
function route(argv: string[]): { name: string; args: string[]; home?: string } {
  const { home, args } = leadingHome(argv);
  const first = args.shift() ?? '';
  const two = `${first} ${args[0] ?? ''}`;
  if (commands[two]) {
    args.shift();
    return { name: two, args: home ? ['--home', home, ...args] : args, home };
  }
  return { name: first, args: home ? ['--home', home, ...args] : args, home };
}

/** The profile folder a command uses, for messages; null if it cannot be told. */
function profileDirOf(home: string | undefined): string | null {
  try {
    return path.resolve(resolveHome(home));
  } catch {
    return null;
  }
}

/** Prints a command's failure as one `pli: ` line; returns its exit code. */
export function reportFailure(error: unknown, home: string | undefined): number {
  if (error instanceof PliError) {
    // Messages carry names, file names and server replies: escaped (issue 12). The core's
    // message names no option: the CLI adds its own (hints.ts).
    err(`pli: ${forTerminal(cliMessage(error))}`);
    return error.exitCode;
  }
  if (isProfileBusy(error)) {
    err('pli: le profil est occupé par une autre commande : réessayez dans un instant.');
    return 3;
  }
  // An expected fault of the system (disk full, read-only profile...) has its own message and
  // code: "erreur inattendue" is left for bugs only.
  const fault = faultError(error, placeOf(error, profileDirOf(home)));
  if (fault) {
    err(`pli: ${forTerminal(fault.message)}`);
    return fault.exitCode;
  }
  err(`pli: erreur inattendue : ${forTerminal(String((error as Error)?.message ?? error))}. Réessayez ; si elle persiste, signalez-la avec la commande lancée.`);
  return 1;
}

export async function main(argv: string[]): Promise<number> {
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
    out(await fullUsage());
    return argv.length === 0 ? 1 : 0;
  }
  const { name, args, home } = route(argv);
  const handler = commands[name];
  let status: number;
  try {
    if (!handler) throw inputError('usage', `Commande inconnue : ${argv.filter((a) => !a.startsWith('-')).slice(0, 2).join(' ')} (voir pli --help).`);
    if (args.includes('--help') || args.includes('-h')) {
      out(await fullUsage());
      status = 0;
    } else {
      await handler(args, home);
      await checkpointOpenedProfile(); // a broken audit chain is reported here (exit 2), never signed over
      const warning = name === 'directory import' ? null : directoryWarning();
      if (warning) err(warning);
      status = 0;
    }
  } catch (error) {
    status = reportFailure(error, home);
  }
  // Closing writes the audit checkpoint: on a full or read-only profile it fails too. After a
  // failure already reported, one message is enough; after a success, the command failed.
  try {
    await closeOpenedProfile();
  } catch (error) {
    if (status === 0) status = reportFailure(error, home);
  }
  return status;
}
