// Sealing and opening containers on behalf of a person of the profile: recipients resolved from
// the profile, sender looked up among known people, events written for every outcome.
import type { DirectoryWarning } from '../authority/directory.js';
import { randomInt } from 'node:crypto';
import { sealToFile, type RecipientKey } from '../container/seal.js';
import { openStream, readInfo, signaturePrefix, type ContainerInfo, type Signer } from '../container/open.js';
import { bufferSource, FolderSink, fileSource, type WrittenFile } from '../container/sinks.js';
import { OFF_THREAD_OPEN_BYTES, startOpenerThread, type OpenerThread } from '../container/opener.js';
import { startFileReader, type FileReader } from '../container/gcm.js';
import { argon2Problem, xwingWrapInfo, type ParsedHeader } from '../container/format.js';
import { currentKeys, getIdentity, keyByFingerprint, resolveIdentity, resolveOwn, type IdentityRow, type UnlockedIdentity } from '../profile/identities.js';
import { checkFreshnessForSending, requirePasswordAllowed, requireRecipient, requireRole, requireSigner, resolveRecipients } from './policy.js';
import { argon2id } from '../crypto/argon2.js';
import { prepareEncapsulations, unwrapFromXWing, warmUpXWing } from '../crypto/keys.js';
import { hkdf, unwrapKey } from '../crypto/primitives.js';
import { KDF_INFO } from '../crypto/labels.js';
import { inputError, PliError, securityError } from '../errors.js';
import { profileTampered } from '../profile/integrity.js';
import { refuseProfileFile, refuseProfileFolder } from '../own-files.js';
import { faultError } from '../faults.js';
import { audit, type Context } from '../context.js';
import { formatFingerprint } from '../../../shared/ids.js';
import type { Manifest, ManifestConvention } from '../container/manifest.js';
import { checkConventionOpening, planConventionSend, type ConventionSendInput } from '../authority/convention-exchange.js';
import { recordWrittenFiles, writtenFileMacKey } from '../authority/convention-filing.js';
import { communeOf, importFromOpenedFile } from '../indicators/store.js';

export interface EncryptRequest {
  as?: string;
  to: string[];
  self: boolean;
  usePassword: boolean;
  files: string[];
  out: string;
  /** Sent under a convention (docs/convention.md 7): checked before anything is sealed; without
   * `to`, the recipients are the other parties' habilitated people. */
  convention?: ConventionSendInput;
  onProgress?: (done: number, total: number) => void;
}

/** Least length, in characters, of a container password chosen when sealing (not when opening:
 * containers sealed before the rule still open). A generated one (below) is longer. Counted as
 * docs/format.md 4.3 says: code points of the NFC form, surrounding white space left out; the
 * bytes given to Argon2id are the UTF-8 of the whole NFC form (sealFor, unwrapWithPassword). */
export const MIN_CONTAINER_PASSWORD = 16;

/** Crockford base32 in lower case: no i, l, o, u, easy to read aloud and to type. */
const PASSWORD_ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';

/**
 * A container password of 100 random bits: five groups of four base32 characters
 * (`xxxx-xxxx-xxxx-xxxx-xxxx`), from the operating system's generator (randomInt).
 */
export function generateContainerPassword(): string {
  const groups: string[] = [];
  for (let g = 0; g < 5; g++) {
    let group = '';
    for (let c = 0; c < 4; c++) group += PASSWORD_ALPHABET[randomInt(PASSWORD_ALPHABET.length)];
    groups.push(group);
  }
  return groups.join('-');
}

/** Refuses a container password too short to resist guessing (counted in characters, not bytes). */
export function requireStrongPassword(password: string): void {
  const length = [...password.normalize('NFC').trim()].length;
  if (length < MIN_CONTAINER_PASSWORD) {
    throw inputError('weak-password', `Mot de passe du pli trop court : il faut au moins ${MIN_CONTAINER_PASSWORD} caractères (il en a ${length}). Le plus sûr est un mot de passe généré, proposé par l'application Pli (« Générer un mot de passe ») ; transmettez-le au destinataire par un autre moyen que le pli. Rien n'a été chiffré.`, { min: MIN_CONTAINER_PASSWORD, length });
  }
}

export interface EncryptResult {
  containerId: string; out: string; size: number; recipients: string[]; warnings: DirectoryWarning[];
  /** Under a convention: what the manifest carries, and the other parties' functional mailboxes. */
  convention?: { manifest: ManifestConvention; addresses: string[] };
}

/** Seals `request.files` into `request.out`, a file the person named (never in the profile's folder). */
export async function encrypt(ctx: Context, request: EncryptRequest): Promise<EncryptResult> {
  // Before anything: a container named `profile.sqlite-journal` in the profile's folder would be
  // read by SQLite as a hot journal (own-files.ts).
  refuseProfileFolder(request.out, ctx.profile.home);
  return sealFor(ctx, request);
}

/** The outbox's sealing: `request.out` is its own temporary file inside the profile's folder
 * (outbox/), named by Pli, never by a person; the attachments are checked as encrypt's. */
export async function encryptIntoOutbox(ctx: Context, request: EncryptRequest): Promise<EncryptResult> {
  return sealFor(ctx, request);
}

async function sealFor(ctx: Context, request: EncryptRequest): Promise<EncryptResult> {
  // First, before any read, refusal or event: opening and closing the profile's database (or its
  // -shm) here would drop the SQLite locks this process holds (own-files.ts); the check opens nothing.
  for (const file of request.files) refuseProfileFile(file, ctx.profile.home, 'attach');
  const db = ctx.profile.db;
  const sender = resolveOwn(db, request.as);
  const now = Date.now();
  try {
    requireRole(db, sender, 'operator', now, { signing: true });
  } catch (error) {
    audit(ctx, { actor: sender.id, action: 'container.sealed', outcome: 'refused', detail: { reason: (error as PliError).code } });
    throw error;
  }
  const warnings = checkFreshnessForSending(db, now);
  if (request.files.length === 0) throw inputError('no-file', 'Aucun fichier à chiffrer : indiquez au moins un fichier.');
  if (request.usePassword && request.to.length > 0) {
    throw inputError('password-alone', 'Un mot de passe est toujours le seul destinataire d’un pli : choisissez des personnes destinataires ou un mot de passe, pas les deux.');
  }
  let plan: Awaited<ReturnType<typeof planConventionSend>> | undefined;
  if (request.convention) {
    if (request.usePassword) throw inputError('password-alone', 'Un pli envoyé sous une convention est adressé aux personnes habilitées, jamais à un mot de passe.');
    try {
      plan = await planConventionSend(db, sender, request.convention, request.files, resolveRecipients(db, request.to, now));
    } catch (error) {
      // A person outside the list is a refusal for security: in the log, as the role's above.
      if (error instanceof PliError && error.kind === 'security') {
        audit(ctx, { actor: sender.id, action: 'container.sealed', outcome: 'refused', detail: { reason: error.code, convention: request.convention.convention } });
      }
      throw error;
    }
  }
  const recipientIds: string[] = [];
  const keys: RecipientKey[] = [];
  // The sender's own copy (--self, or named among the recipients) goes to the key the profile
  // lists for them, read before the unlock so that its encapsulation overlaps Argon2id. Checked
  // below against the fingerprint sealed with their private keys: an X-Wing key planted in `keys`
  // for the sender (docs/profile.md's attacker, no authority needed) would otherwise receive
  // every copy the sender keeps of what they send.
  let selfKeyFpr: Buffer | null = null;
  const addRecipient = (row: IdentityRow): void => {
    if (recipientIds.includes(row.id)) return;
    requireRecipient(db, row, now);
    const { enc } = currentKeys(db, row.id);
    recipientIds.push(row.id);
    keys.push({ keyFpr: enc.fpr, publicKey: enc.public_key });
    if (row.id === sender.id) selfKeyFpr = enc.fpr;
  };
  if (!request.usePassword) {
    for (const row of resolveRecipients(db, request.to, now)) addRecipient(row);
    if (plan && request.to.length === 0) for (const id of plan.recipients) addRecipient(getIdentity(db, id)!);
    if (request.self) addRecipient(sender);
    if (keys.length === 0) throw inputError('no-recipient', 'Aucun destinataire : indiquez au moins une personne à qui adresser le pli.');
  }
  let password: string | null = null;
  if (request.usePassword) {
    requirePasswordAllowed(db);
    password = (await ctx.unlocker.containerPassword?.()) ?? null;
    if (!password) throw inputError('no-password', 'Mot de passe du pli manquant.');
    // Before any passphrase is asked: sealing with a weak password changes nothing.
    requireStrongPassword(password);
  }
  // While the unlock's Argon2id runs on one core: the recipients' encapsulations (keys.ts), then
  // the whole payload (seal.ts, SealParams.signing), which needs no secret of the sender's; only
  // the signature at the end waits for the key. Its fingerprint, written first into the header,
  // is the sender's current one; the key unlocked must be that one, else nothing is kept.
  const ahead = prepareEncapsulations(keys.map((k) => k.publicKey));
  const sigFpr = currentKeys(db, sender.id).sig.fpr;
  const unlocking = ctx.unlocker.unlock(sender);
  const selfFpr: Buffer | null = selfKeyFpr;
  const secretKey = unlocking.then((identity) => {
    if (!identity.current.sigFpr.equals(sigFpr)) throw profileTampered('la clé de signature déverrouillée n’est pas celle que le profil annonce pour cette personne');
    // Invariant: the sender's own copy is sealed to the key sealed with their private keys, or
    // the container is never kept (the stream waits on this signing key before it keeps anything).
    if (selfFpr && !identity.current.encFpr.equals(selfFpr)) throw profileTampered('la clé de chiffrement de l’expéditeur n’est pas celle de ses clés privées');
    return identity.current.sigSecret;
  });
  // Handled by the stream, but only once it has opened its files: a refusal that comes sooner
  // (a person locked out is refused at once) must not be an unhandled rejection meanwhile.
  secretKey.catch(() => {});
  const sealing = sealToFile(request.files, request.out, {
    senderId: sender.id,
    signing: { keyFpr: sigFpr, secretKey },
    recipients: password !== null
      ? { kind: 'password', password: Buffer.from(password.normalize('NFC'), 'utf8') }
      : { kind: 'keys', keys },
    onProgress: request.onProgress,
    ...(plan ? { convention: plan.manifest } : {}),
  });
  sealing.catch(() => {}); // awaited below, after the unlock
  let unlocked: UnlockedIdentity;
  try {
    unlocked = await unlocking;
  } catch (error) {
    // A refused unlock is reported as before (no container.sealed event): the stream stops at
    // its next block and its temporary file is deleted before the error goes up.
    await sealing.catch(() => {});
    ahead.discard();
    throw error;
  }
  try {
    const result = await sealing;
    const containerId = result.containerId.toString('hex');
    audit(ctx, {
      actor: sender.id, action: 'container.sealed', object: containerId,
      detail: {
        recipients: password !== null ? ['mot de passe'] : recipientIds, files: request.files.length, bytes: result.size,
        ...(plan ? { convention: plan.manifest.id, period: plan.manifest.period, documents: plan.manifest.documents } : {}),
      },
    });
    return {
      containerId, out: request.out, size: result.size, recipients: recipientIds, warnings,
      ...(plan ? { convention: { manifest: plan.manifest, addresses: plan.addresses } } : {}),
    };
  } catch (error) {
    audit(ctx, { actor: sender.id, action: 'container.sealed', outcome: 'failed', detail: { reason: (error as PliError).code ?? 'error' } });
    throw error;
  } finally {
    unlocked.wipe();
    ahead.discard();
  }
}

export interface DecryptRequest {
  /** The own identity opening it: the addressee, or for a password container the signed-in
   * person (the only own identity when not given), who needs the role 'reader' and signs in. */
  as?: string;
  usePassword: boolean;
  /** The container's file; with `bytes`, only its name (messages, log). */
  input: string;
  /** The container already read into memory and checked by the caller (the inbox, against its
   * row's SHA-256): these exact bytes are opened, and nothing is read from disk. */
  bytes?: Buffer;
  outDir: string;
  /** When the container arrived on this workstation (inbox); a file from disk arrives now. */
  arrivedAt?: number;
  /** Called after the unlock (integrity key attached): the arrival time to judge by, replacing
   * `arrivedAt`; throws if it cannot be trusted (the inbox checks its row's MAC). */
  proveArrival?: () => number;
  onProgress?: (done: number, total: number) => void;
  /** Each file's SHA-256, for a caller that shows it (the desktop app's « code de contrôle »);
   * false spares a whole pass over the plaintext (the command line prints no digest). Default true. */
  fileDigests?: boolean;
}

/** A file written, with its SHA-256 (DecryptRequest.fileDigests, the default). */
export type DigestedFile = WrittenFile & { sha256: string };

export interface DecryptResult<File extends WrittenFile = DigestedFile> {
  containerId: string;
  senderId: string;
  senderName: string;
  files: File[];
  /** What the manifest says it was sent under (minor 1), or null: « sans convention ». */
  convention: ManifestConvention | null;
}

/** The own identity whose keys (current or retired) the container is addressed to. */
function addressedIdentity(ctx: Context, header: ParsedHeader, as?: string): IdentityRow {
  const db = ctx.profile.db;
  const candidates = new Map<string, IdentityRow>();
  for (const entry of header.recipients) {
    if (entry.type !== 'xwing') continue;
    const key = keyByFingerprint(db, entry.keyFpr);
    const owner = key && getIdentity(db, key.identity_id);
    if (owner?.own === 1) candidates.set(owner.id, owner);
  }
  if (as) {
    const chosen = resolveIdentity(db, as, { own: true });
    if (!candidates.has(chosen.id)) throw notAddressed(chosen.name, whoCanOpen(ctx, header));
    return chosen;
  }
  if (candidates.size === 0) throw notAddressed(undefined, whoCanOpen(ctx, header));
  if (candidates.size > 1) throw inputError('choose-identity', 'Ce pli est adressé à plusieurs personnes de ce poste : précisez laquelle l’ouvre.', { count: candidates.size });
  return [...candidates.values()][0]!;
}

/** Names of the people a container was addressed to, as far as this workstation knows them. */
function whoCanOpen(ctx: Context, header: ParsedHeader): string[] {
  return header.recipients.flatMap((entry) => {
    if (entry.type !== 'xwing') return [];
    const key = keyByFingerprint(ctx.profile.db, entry.keyFpr);
    const owner = key && getIdentity(ctx.profile.db, key.identity_id);
    return [owner ? `${owner.name} (${owner.org})` : `clé ${formatFingerprint(entry.keyFpr)}`];
  });
}

const notAddressed = (name?: string, who: string[] = []) => securityError('not-addressed',
  `Ce pli n'est pas adressé à ${name ?? 'une personne de ce poste'} : il ne peut pas être ouvert ici.${who.length ? ` Il peut être ouvert par : ${who.join(', ')}.` : ''} Demandez à l'expéditeur de vous l'adresser.`,
  { name: name ?? null, openers: who.join(', ') });

function resolveSigner(ctx: Context, header: ParsedHeader, senderId: string): Signer {
  const key = keyByFingerprint(ctx.profile.db, header.senderSigFpr);
  if (!key || key.kind !== 'ed25519') {
    throw securityError('unknown-sender', `Expéditeur inconnu (identifiant ${senderId}, empreinte ${formatFingerprint(header.senderSigFpr)}) : pli refusé. Importez sa carte après avoir vérifié l'empreinte avec lui.`, { senderId, fingerprint: formatFingerprint(header.senderSigFpr) });
  }
  if (key.identity_id !== senderId) {
    throw securityError('sender-mismatch', "L'expéditeur annoncé dans le pli ne correspond pas à la clé qui l'a signé. Pli refusé ; signalez-le à l'officier SSI.");
  }
  return { identityId: key.identity_id, publicKey: key.public_key };
}

async function unwrapWithIdentity(header: ParsedHeader, identity: UnlockedIdentity): Promise<Buffer> {
  for (const entry of header.recipients) {
    if (entry.type !== 'xwing') continue;
    const keySet = identity.keySets.find((k) => k.encFpr.equals(entry.keyFpr));
    if (!keySet) continue;
    const fileKey = await unwrapFromXWing(entry.kemCiphertext, keySet.encSecret, entry.wrapped, header.containerId, xwingWrapInfo(entry.keyFpr));
    if (fileKey) return fileKey;
    throw securityError('tampered', "La clé du pli qui vous est destinée est invalide : le pli a été modifié ou abîmé. Demandez à l'expéditeur de le renvoyer.");
  }
  throw notAddressed(identity.name);
}

async function unwrapWithPassword(header: ParsedHeader, password: string): Promise<Buffer> {
  const entry = header.recipients[0];
  if (!entry || entry.type !== 'password') throw securityError('not-addressed', "Ce pli n'est pas protégé par un mot de passe : ouvrez-le avec votre identité.", { protection: 'identity' });
  // The parse refuses these already (format.ts, malformed); kept here, before any derivation, so
  // that no header reaching this function can make Argon2id allocate beyond the bound.
  if (argon2Problem(entry.opslimit, entry.memlimitKib)) {
    throw securityError('bad-kdf-params', 'Les paramètres de protection du mot de passe de ce pli sont hors des limites admises : pli refusé.');
  }
  const secret = Buffer.from(password.normalize('NFC'), 'utf8');
  const passwordKey = await argon2id(secret, entry.salt, { opslimit: entry.opslimit, memlimitKib: entry.memlimitKib });
  secret.fill(0);
  const kek = hkdf(passwordKey, header.containerId, KDF_INFO.wrapPassword);
  passwordKey.fill(0);
  const fileKey = unwrapKey(kek, entry.wrapped);
  kek.fill(0);
  if (!fileKey) throw securityError('bad-password', 'Mot de passe du pli incorrect. Vérifiez-le auprès de l’expéditeur.');
  return fileKey;
}

export async function decrypt(ctx: Context, request: DecryptRequest & { fileDigests: false }): Promise<DecryptResult<WrittenFile>>;
export async function decrypt(ctx: Context, request: DecryptRequest & { fileDigests?: true }): Promise<DecryptResult>;
export async function decrypt(ctx: Context, request: DecryptRequest): Promise<DecryptResult<WrittenFile>> {
  // Before anything is read, written or logged (the log below names the input): the container is
  // no profile's file (its locks, own-files.ts) and its files go nowhere in the profile's folder
  // (a file named `profile.sqlite-journal` there would be rolled into the database).
  if (!request.bytes) refuseProfileFile(request.input, ctx.profile.home, 'open');
  refuseProfileFolder(request.outDir, ctx.profile.home, 'folder');
  const source = request.bytes ? { ...bufferSource(request.bytes), fd: null, close: async () => {} } : await fileSource(request.input);
  let actor: string | null = null;
  let info: ContainerInfo | undefined;
  let openerThread: OpenerThread | null = null;
  let fileReader: FileReader | null = null;
  try {
    info = await readInfo(source);
    const header = info.header;
    const signer = resolveSigner(ctx, header, info.senderId);
    let arrivedAt = request.arrivedAt ?? Date.now();
    requireSigner(ctx.profile.db, header.senderSigFpr, arrivedAt);
    // A password container, too, is opened by a person of the profile (habilitated 'reader' when
    // an authority is pinned), who signs in: the log then names who opened it.
    const reader = request.usePassword ? resolveOwn(ctx.profile.db, request.as) : addressedIdentity(ctx, header, request.as);
    actor = reader.id;
    if (request.usePassword) requirePasswordAllowed(ctx.profile.db);
    requireRole(ctx.profile.db, reader, 'reader');
    // Started now, the block worker of a large payload gets ready, and starts the signature's
    // digest from the file, on the core that the Argon2id unlock leaves idle (the passphrase's
    // below, or the password's in openStream).
    const prehash = source.fd === null ? null : { fd: source.fd, prefix: signaturePrefix(header), start: header.headerBytes.length, chunks: info.chunks };
    // Where no file's digest is asked (the command line), the addon's reader does the same,
    // natively, and then opens the payload straight into the files (gcm.ts, native/reader.c).
    fileReader = request.fileDigests === false && prehash && info.payloadBytes > OFF_THREAD_OPEN_BYTES
      ? startFileReader(prehash.fd, prehash.start, prehash.chunks, prehash.prefix) : null;
    openerThread = fileReader ? null : startOpenerThread(info.payloadBytes, prehash);
    if (!request.usePassword) warmUpXWing(); // ML-KEM compiled while Argon2id runs (keys.ts)
    let identity: UnlockedIdentity | null = await ctx.unlocker.unlock(reader);
    let password: string | null = null;
    // Again after the unlock: the integrity key is now attached, the state read is the sealed one.
    try {
      if (request.proveArrival) arrivedAt = request.proveArrival();
      requireSigner(ctx.profile.db, header.senderSigFpr, arrivedAt);
    } catch (error) {
      identity.wipe();
      throw error;
    }
    if (request.usePassword) {
      // The sign-in was the proof of presence; the keys themselves open nothing here.
      identity.wipe();
      identity = null;
      password = (await ctx.unlocker.containerPassword?.()) ?? null;
      if (!password) throw inputError('no-password', 'Mot de passe du pli manquant.');
    }
    const folder = await FolderSink.create(request.outDir, { digests: request.fileDigests ?? true });
    const openedBy = reader;
    let convention: ManifestConvention | null = null;
    // Before any file is created: a container naming a convention opens only for, and from, people
    // on its list (docs/format.md 5.3, docs/convention.md 7). The refusal aborts the sink.
    const sink = {
      begin: async (manifest: Manifest): Promise<void> => {
        if (manifest.convention) {
          await checkConventionOpening(ctx.profile.db, manifest.convention, openedBy, { id: signer.identityId, name: getIdentity(ctx.profile.db, signer.identityId)?.name ?? signer.identityId }, arrivedAt);
          convention = manifest.convention;
          // The retention run's HMAC of each file, computed as it is written (no second read).
          const macKey = writtenFileMacKey(ctx.profile.db);
          try {
            await folder.begin(manifest, macKey ?? undefined);
          } finally {
            macKey?.fill(0);
          }
          return;
        }
        await folder.begin(manifest);
      },
      write: (index: number, parts: Buffer[]) => folder.write(index, parts),
      direct: () => folder.direct(),
      commit: () => folder.commit(),
      abort: () => folder.abort(),
    };
    try {
      await openStream(source, sink, {
        resolveSigner: async () => signer,
        unwrapFileKey: async (h) => (identity ? unwrapWithIdentity(h, identity) : unwrapWithPassword(h, password!)),
        onProgress: request.onProgress,
        openerThread,
        fileReader,
        info,
      });
    } finally {
      identity?.wipe();
    }
    const containerId = info.containerIdHex;
    const sender = getIdentity(ctx.profile.db, info.senderId)!;
    const files = folder.written;
    const under = convention as ManifestConvention | null;
    if (under) {
      // For the retention run (docs/convention.md 8): what Pli wrote, to destroy it only unchanged.
      const written = [];
      for (const [i, file] of files.entries()) written.push({ path: file.path, size: file.size, mac: folder.writtenMacs[i] ?? null });
      recordWrittenFiles(ctx.profile.db, containerId, written);
    }
    audit(ctx, { actor, action: 'container.opened', object: containerId, detail: { sender: sender.id, files: files.length, ...(under ? { convention: under.id, period: under.period } : {}) } });
    for (const file of files) {
      // Name and size only: a digest of the plaintext would let whoever reads the log confirm a
      // guess of a file's content (a small statistics table), without any key.
      audit(ctx, { actor, action: 'file.written', object: containerId, detail: { path: file.path, size: file.size } });
      // A state sent under a convention feeds the indicators (docs/indicators.md 8); never throws:
      // a file that is no state is « non reconnu », and the opening stands.
      if (under) await importFromOpenedFile(ctx, { convention: under.id, period: under.period, commune: communeOf(reader.org), file: file.path, container: containerId });
    }
    return { containerId, senderId: sender.id, senderName: sender.name, files, convention: under };
  } catch (error) {
    // Every decryption leaves its event, success or not: a security refusal 'container.refused',
    // any other failure (disk full, no name left...) 'container.opened' with outcome 'failed'
    // and a reason code. Best effort: when the profile itself cannot be written (read-only,
    // full), the error that says so is the one to show.
    try {
      if (error instanceof PliError && error.kind === 'security') {
        audit(ctx, { actor, action: 'container.refused', object: info?.containerIdHex ?? null, outcome: 'refused', detail: { reason: error.code, input: request.input } });
      } else {
        const reason = error instanceof PliError ? error.code : faultError(error, null)?.code ?? 'unexpected';
        audit(ctx, { actor, action: 'container.opened', object: info?.containerIdHex ?? null, outcome: 'failed', detail: { reason, input: request.input } });
      }
    } catch {
      // the profile refused the event: the original error is thrown below
    }
    throw error;
  } finally {
    await openerThread?.close();
    fileReader?.close();
    await source.close();
  }
}

export async function inspect(input: string, home?: string): Promise<{ version: number; containerId: string; senderId: string; senderKey: string; createdMs: number; recipients: number; passwordProtected: boolean; payloadBytes: number; size: number }> {
  refuseProfileFile(input, home, 'open'); // no profile may be open here: any profile's folder is refused
  const source = await fileSource(input);
  try {
    const info = await readInfo(source);
    return {
      version: info.header.version,
      containerId: info.containerIdHex,
      senderId: info.senderId,
      senderKey: formatFingerprint(info.header.senderSigFpr),
      createdMs: info.header.createdMs,
      recipients: info.header.recipients.length,
      passwordProtected: info.header.recipients[0]?.type === 'password',
      payloadBytes: info.payloadBytes,
      size: source.size,
    };
  } finally {
    await source.close();
  }
}
