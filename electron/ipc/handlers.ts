// The IPC handler table: every request the interface can make, over the core services. No
// Electron import: main binds it to ipcMain, and the end-to-end tests bind the very same table to
// a loopback HTTP bridge. Native dialogs and "show in folder" come in through the ShellPort.
//
// The signed-in person's unlocked keys live here, in main, for the length of the session; the
// renderer only ever learns an id and a name. Passphrases arrive in sign-in and create requests
// and are never stored or sent back. The one secret that goes the other way is a provisioned key
// file's one-time passphrase, which the officer must read on screen to dictate it.
//
// Audit checkpoints: after every call in which the session's signing key was unlocked or lent to
// a service (sign-in included), and at sign-out, main signs the chain head with that key
// (services/audit.ts writeCheckpoint), as the CLI does at the end of each command.
//
// Files the core reads (directory, key file, card to certify, certificate, mailbox CA) are chosen
// in main's native dialogs: the renderer never names a path for them.
//
// The functional mailbox: its password crosses once, renderer → main, in mailbox:set, and is
// never sent back (the core seals it for the workstation's people). While a person is signed in
// and a mailbox is set, a watcher (receiveImap in watch mode: IDLE, reconnection, outbox drain)
// runs here and pushes each new arrival to the renderer (emitMailEvent); it stops at sign-out,
// which the renderer's idle lock also goes through. The watcher unlocks the mailbox password
// once with the session's key; the events it writes are covered by the sign-out checkpoint.
import { readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { provideZod } from '../core/zod.js';
import { PliError, inputError, securityError } from '../core/errors.js';
import { getMeta, initProfile, isProfile, openProfile, setMeta, type Profile } from '../core/profile/profile.js';
import {
  createIdentity, currentKeys, getIdentity, importCard, listIdentities, verifyCard,
  type IdentityRow, type UnlockedIdentity,
} from '../core/profile/identities.js';
import { appendEvent, listEvents } from '../core/profile/events.js';
import { decrypt, encrypt, generateContainerPassword, inspect } from '../core/services/containers.js';
import { attachIntegrityKey, detachIntegrityKey } from '../core/profile/integrity.js';
import { getSettings as sessionSettings, setSettings as setSessionSettings, signIn as unlockWithLockout } from '../core/services/session.js';
import type { Context } from '../core/context.js';
import { certificateState, getTrust, roleIncludes, type CertificateState } from '../core/authority/certificates.js';
import { directoryFreshness, importDirectory, importKeyfile, installCertificate } from '../core/authority/directory.js';
import { certifyCard, exportDirectory, getAuthority, initAuthority, provisionPerson, revokePerson } from '../core/authority/authority.js';
import { hasAuthority, requireRole } from '../core/services/policy.js';
import { exportAudit, people as habilitatedPeople, signerOf, verifyAudit, writeCheckpoint } from '../core/services/audit.js';
import { getMailbox, parseEndpoint, readCaFile, setMailbox, unlockMailboxPassword, type Endpoint, type MailboxSettings } from '../core/mail/settings.js';
import { probeMailbox } from '../core/mail/probe.js';
import { flushOutbox, listOutbox, queueSend, type FlushOptions, type FlushResult, type OutboxRow } from '../core/mail/outbox.js';
import { listInbox, openInbox, receiveFolder, refusedRoom, type InboxRow, type IngestResult } from '../core/mail/inbox.js';
import { receiveImap } from '../core/mail/imap.js';
import { formatFingerprint } from '../../shared/ids.js';
import { isChannel } from '../../shared/channels.js';
import {
  contract, type Certificate, type Channel, type EndpointInput, type Envelope, type InboxItem, type IpcError, type MailEvent, type MailboxView,
  type OutboxItem, type Person, type Progress, type ResponseOf, type Settings, type WatcherStatus,
} from '../../shared/ipc.js';
import type { DB } from '../core/profile/profile.js';

// This process already holds zod's ES module (the IPC schemas): the core's schemas use it too.
provideZod(z);

export interface ShellPort {
  /** A native "save as" dialog; null when the person cancels. */
  saveFile(options: { title: string; defaultName: string; filters: { name: string; extensions: string[] }[] }): Promise<string | null>;
  /** A native folder chooser; null when the person cancels. */
  chooseFolder(options: { title: string }): Promise<string | null>;
  /** A native "open file" dialog; null when the person cancels. */
  openFile(options: { title: string; filters: { name: string; extensions: string[] }[] }): Promise<string | null>;
  showInFolder(target: string): void;
}

export interface HandlerOptions {
  home: string;
  shell: ShellPort;
  emitProgress(progress: Progress): void;
  /** Mailbox events for the renderer (new arrival, outbox change, watcher state). */
  emitMailEvent(event: MailEvent): void;
}

export interface HandlerTable {
  /** Parses `payload` against the channel's schema, runs the handler, never throws. */
  invoke(channel: string, payload: unknown): Promise<Envelope<Channel>>;
  /** Signs out (wiping the keys) and closes the profile. */
  close(): void;
}

const MAX_CARD_BYTES = 64 * 1024;
const MAX_DIRECTORY_BYTES = 32 * 1024 * 1024;
const ANY_FILE = { name: 'Tous les fichiers', extensions: ['*'] };
const PROGRESS_INTERVAL_MS = 100;
const MAX_CA_BYTES = 256 * 1024;
/** The watcher's safety re-check and outbox drain period (IDLE wakes it at once on new mail). */
const WATCH_TICK_MS = 60_000;
/** How long sign-out waits for the watcher to close its IMAP connection. */
const WATCH_STOP_MS = 3_000;

const notSignedIn = () => securityError('not-signed-in', 'Aucune personne n’est connectée : connectez-vous avec votre phrase de passe, puis recommencez.');

/** A copy of the session's keys for one service call: the services wipe what they are given. */
function lend(identity: UnlockedIdentity): UnlockedIdentity {
  const keySets = identity.keySets.map((k) => ({ ...k, encSecret: Uint8Array.from(k.encSecret), sigSecret: Uint8Array.from(k.sigSecret) }));
  return {
    id: identity.id, name: identity.name, keySets, current: keySets[keySets.length - 1]!, integrityKey: null,
    wipe: () => keySets.forEach((k) => { k.encSecret.fill(0); k.sigSecret.fill(0); }),
  };
}

function certificateOf(db: DB, id: string): Certificate {
  const state: CertificateState = certificateState(db, id);
  return { state: state.state, role: state.role, notAfter: state.notAfter, revocationReason: state.revocation?.reason ?? null };
}

/** Reads a small text file chosen in a native dialog, or says which file and what to do. */
async function readChosen(file: string, maxBytes: number, what: string): Promise<string> {
  try {
    const info = await stat(file);
    if (!info.isFile() || info.size > maxBytes) {
      throw inputError('wrong-file', `${path.basename(file)} n’est pas ${what} (trop gros ou pas un fichier). Choisissez le fichier remis par l’officier SSI.`);
    }
    return await readFile(file, 'utf8');
  } catch (error) {
    if (error instanceof PliError) throw error;
    throw inputError('missing-file', `Fichier introuvable ou illisible : ${file}. Vérifiez le fichier et recommencez.`);
  }
}

function toPerson(profile: Profile, row: IdentityRow): Person {
  let fingerprint = '—';
  let encryptionFingerprint = '—';
  try {
    const keys = currentKeys(profile.db, row.id);
    fingerprint = formatFingerprint(keys.sig.fpr);
    encryptionFingerprint = formatFingerprint(keys.enc.fpr);
  } catch {
    // A person whose keys were all retired stays listed, without a current fingerprint.
  }
  return {
    id: row.id, name: row.name, email: row.email, org: row.org, own: row.own === 1,
    fingerprint, encryptionFingerprint, addedAt: row.added_at, certificate: certificateOf(profile.db, row.id),
  };
}

function slug(text: string): string {
  return text.normalize('NFD').replace(/[\u0300-\u036f]/g, '').replace(/[^A-Za-z0-9]+/g, '-').replace(/^-|-$/g, '').toLowerCase() || 'carte';
}

function toIpcError(error: unknown): IpcError {
  if (error instanceof PliError) return { kind: error.kind, code: error.code, message: error.message };
  if (error instanceof z.ZodError) {
    return { kind: 'input', code: 'bad-request', message: 'Demande invalide reçue de l’interface : elle a été ignorée. Relancez Pli ; si cela se reproduit, signalez-le à l’officier SSI.' };
  }
  const code = (error as { code?: string }).code;
  if (code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED') {
    return { kind: 'temporary', code: 'busy', message: 'Le profil est occupé par une autre commande : réessayez dans un instant.' };
  }
  const detail = String((error as Error)?.message ?? error).slice(0, 500);
  return { kind: 'input', code: 'unexpected', message: `Erreur inattendue : ${detail}. Réessayez ; si elle persiste, signalez-la à l’officier SSI avec ce message.` };
}

function toMailboxView(settings: MailboxSettings): MailboxView {
  return {
    imap: { ...settings.imap }, smtp: { ...settings.smtp }, user: settings.user,
    privateCa: settings.caPem !== null, maxMessageBytes: settings.maxMessageBytes,
  };
}

/** Goes through the core's parser, so the interface and the CLI accept exactly the same servers. */
function toEndpoint(input: EndpointInput, what: string): Endpoint {
  return parseEndpoint(`${input.mode === 'starttls' ? 'starttls://' : ''}${input.host}:${input.port}`, what);
}

function toOutboxItem(row: OutboxRow): OutboxItem {
  return {
    id: row.id, containerId: row.container_id, transport: row.transport, destination: row.destination, state: row.state,
    attempts: row.attempts, lastError: row.last_error, queuedAt: row.queued_at, sentAt: row.sent_at, nextAttemptAt: row.next_attempt_at, size: row.size,
  };
}

function toInboxItem(db: DB, row: InboxRow): InboxItem {
  const sender = row.sender_id ? getIdentity(db, row.sender_id) : undefined;
  return {
    id: row.id, containerId: row.container_id, state: row.state, reason: row.reason, flags: row.flags ? row.flags.split(',') : [],
    senderId: row.sender_id, senderName: sender?.name ?? null, senderOrg: sender?.org ?? null,
    createdMs: row.created_ms, arrivedAt: row.arrived_at, openedAt: row.opened_at, source: row.source, size: row.size,
  };
}

function countResults(results: IngestResult[]): { received: number; refused: number; known: number } {
  const fresh = results.filter((r) => r.isNew);
  return { received: fresh.filter((r) => r.row.state !== 'refused').length, refused: fresh.filter((r) => r.row.state === 'refused').length, known: results.length - fresh.length };
}

export function createHandlers(options: HandlerOptions): HandlerTable {
  const { home, shell } = options;
  let opened: Profile | null = null;
  let session: UnlockedIdentity | null = null;
  /** Paths this process wrote or was given: the only ones "show in folder" will reveal. */
  const revealable = new Set<string>();
  let memoryLanguage: Settings['language'] = 'fr';
  /** The mailbox CA chosen in the dialog, held until the settings are saved. */
  let pendingCa: { pem: string; fileName: string } | null = null;
  let watcher: { controller: AbortController; done: Promise<void> } | null = null;
  let watcherStatus: WatcherStatus = { state: 'off', message: null };
  /** Sending is serialised: two rounds must never pick up the same queued row. */
  let sending: Promise<unknown> = Promise.resolve();

  const profile = (): Profile => {
    opened ??= openProfile(home);
    return opened;
  };
  const audit = (event: Parameters<typeof appendEvent>[2]) => {
    const p = profile();
    appendEvent(p.db, p.workstation, event);
  };
  const requireSession = (): UnlockedIdentity => {
    if (!session) throw notSignedIn();
    return session;
  };
  /** Set when the session's key was unlocked or lent during the current call: checkpoint after it. */
  let keyUsed = false;
  const checkpoint = async (): Promise<void> => {
    if (!keyUsed || !session || !opened) return;
    keyUsed = false;
    await writeCheckpoint(opened, signerOf(session));
  };
  /** Audits the sign-out, checkpoints the chain with the key one last time, then wipes it. */
  const signOut = async (): Promise<boolean> => {
    if (!session) return false;
    const ending = session;
    await stopWatcher();
    if (opened) {
      audit({ actor: ending.id, action: 'session.closed', object: ending.id });
      keyUsed = true;
      try {
        await checkpoint();
      } catch {
        // The next checkpoint will cover these events; signing out must always succeed.
      }
    }
    ending.wipe();
    // The integrity key leaves with the person: no sealed write without a signed-in person.
    if (opened) detachIntegrityKey(opened.db);
    if (session === ending) session = null;
    keyUsed = false;
    return true;
  };
  /** Refuses the officer console's actions unless the signed-in person is the authority's officer. */
  const requireOfficer = (): UnlockedIdentity => {
    const active = requireSession();
    const db = profile().db;
    const state = certificateState(db, active.id);
    if (!getAuthority(db) || state.state !== 'valid' || !roleIncludes(state.role!, 'officer')) {
      throw securityError('role', 'Action réservée à l’officier SSI, sur le poste de l’autorité, avec un certificat d’officier valide. Connectez-vous sous le nom de l’officier SSI.');
    }
    return active;
  };
  /** As the CLI's `audited`: a security refusal by the core is written to the audit log, then rethrown. */
  const audited = async <T>(action: string, run: () => Promise<T>): Promise<T> => {
    try {
      return await run();
    } catch (error) {
      if (error instanceof PliError && error.kind === 'security') {
        audit({ actor: session?.id ?? null, action, outcome: 'refused', detail: { reason: error.code } });
      }
      throw error;
    }
  };
  const day = () => new Date().toISOString().slice(0, 10);
  const progress = (opId: string, phase: Progress['phase']) => {
    let last = 0;
    return (done: number, total: number) => {
      const now = Date.now();
      if (done < total && now - last < PROGRESS_INTERVAL_MS) return;
      last = now;
      options.emitProgress({ opId, phase, done, total });
    };
  };
  const context = (): Context => {
    const active = requireSession();
    return {
      profile: profile(),
      unlocker: {
        unlock: async (row: IdentityRow) => {
          if (session !== active) throw notSignedIn(); // signed out meanwhile (a background watcher)
          if (row.id !== active.id) {
            throw securityError('other-identity', `Cette opération demande les clés de ${row.name}, qui n’est pas la personne connectée : connectez-vous sous ce nom.`);
          }
          keyUsed = true;
          return lend(active);
        },
      },
    };
  };
  /** The same context, giving `password` as the container password (never stored nor logged). */
  const withPassword = (ctx: Context, password: string): Context => ({ ...ctx, unlocker: { ...ctx.unlocker, containerPassword: async () => password } });
  const setWatcher = (status: WatcherStatus) => {
    watcherStatus = status;
    options.emitMailEvent({ type: 'watcher', watcher: status });
  };
  const flush = (ctx: Context, flushOptions: FlushOptions): Promise<FlushResult> => {
    const run = sending.then(() => flushOutbox(ctx, flushOptions));
    sending = run.catch(() => undefined);
    return run;
  };
  const stopWatcher = async (): Promise<void> => {
    const running = watcher;
    if (!running) return;
    watcher = null;
    running.controller.abort();
    await Promise.race([running.done, new Promise((resolve) => setTimeout(resolve, WATCH_STOP_MS).unref?.())]);
    setWatcher({ state: 'off', message: null });
  };
  /** Starts receiving in the background (IDLE) for the signed-in person, when a mailbox is set. */
  const startWatcher = (): void => {
    const active = session;
    if (!active || watcher || !opened || !getMailbox(opened.db)) return;
    const controller = new AbortController();
    const ctx = context();
    setWatcher({ state: 'starting', message: null });
    const done = receiveImap(ctx, {
      as: active.id, watch: true, signal: controller.signal, tickMs: WATCH_TICK_MS,
      onItem: (result) => {
        if (result.isNew) options.emitMailEvent({ type: 'inbox', id: result.row.id, state: result.row.state });
      },
      onRound: () => {
        if (!controller.signal.aborted && watcherStatus.state !== 'watching') setWatcher({ state: 'watching', message: null });
      },
      onStatus: (line) => {
        if (controller.signal.aborted) return;
        if (/^(Envoyé|Échec d'envoi|Envoi impossible)/.test(line)) {
          options.emitMailEvent({ type: 'outbox' });
          if (line.startsWith('Envoi impossible')) setWatcher({ state: watcherStatus.state, message: line });
        } else {
          setWatcher({ state: 'reconnecting', message: line });
        }
      },
    }).then(() => undefined, (error: unknown) => {
      if (!controller.signal.aborted) setWatcher({ state: 'stopped', message: toIpcError(error).message });
    }).finally(() => {
      if (watcher?.controller === controller) watcher = null;
    });
    watcher = { controller, done };
  };

  const signIn = async (opId: string, id: string, passphrase: string): Promise<UnlockedIdentity> => {
    const p = profile();
    const row = getIdentity(p.db, id);
    if (!row || row.own !== 1) throw inputError('unknown-id', 'Cette personne n’a pas de clés sur ce poste : choisissez votre nom dans la liste.');
    // The nominative list: once an authority is pinned, only a person holding a valid certificate
    // from it may sign in (checked before the passphrase: no key is unlocked for anyone else).
    if (hasAuthority(p.db) && certificateState(p.db, row.id).state !== 'valid') {
      audit({ actor: row.id, action: 'login.refused', outcome: 'refused', detail: { reason: 'not-habilitated' } });
      requireRole(p.db, row, 'reader');
    }
    options.emitProgress({ opId, phase: 'unlock', done: 0, total: 1 });
    // The core's sign-in enforces the lockout after repeated wrong passphrases and audits every attempt.
    const unlocked = await unlockWithLockout(p, row, passphrase);
    options.emitProgress({ opId, phase: 'done', done: 1, total: 1 });
    await signOut();
    // The unlock attached the integrity key (and verified the seal); the sign-out of the previous
    // person detached it: attach this person's again for the length of the session.
    if (unlocked.integrityKey) attachIntegrityKey(p.db, unlocked.integrityKey);
    session = unlocked;
    keyUsed = true;
    startWatcher();
    return unlocked;
  };

  type Impl = { [C in Channel]: (request: z.output<(typeof contract)[C]['request']>) => Promise<ResponseOf<C>> };
  const impl: Impl = {
    async 'profile:status'() {
      const exists = opened !== null || isProfile(home);
      const db = exists ? profile().db : null;
      const own = db ? listIdentities(db).filter((r) => r.own === 1) : [];
      const trust = db ? getTrust(db) : undefined;
      const isAuthority = db ? getAuthority(db) !== undefined : false;
      let authority: ResponseOf<'profile:status'>['authority'] = null;
      if (db && trust) {
        const fresh = directoryFreshness(db);
        authority = {
          name: trust.name, fingerprint: formatFingerprint(trust.fpr), serial: trust.serial,
          nextUpdate: fresh.nextUpdate ?? trust.next_update, refuseAfter: fresh.refuseAfter ?? trust.next_update,
          freshness: fresh.state === 'stale' || fresh.state === 'expired' ? fresh.state : 'fresh', isAuthority,
        };
      }
      let officer = false;
      if (db && session && isAuthority) {
        const state = certificateState(db, session.id);
        officer = state.state === 'valid' && roleIncludes(state.role!, 'officer');
      }
      return {
        home, exists,
        ownIdentities: own.map((r) => ({ id: r.id, name: r.name, org: r.org, certificate: certificateOf(db!, r.id) })),
        session: session ? { id: session.id, name: session.name } : null,
        authority, officer, mailbox: db && getMailbox(db) ? 'configured' : 'none',
      };
    },

    async 'profile:init'() {
      const result = initProfile(home);
      if (opened) result.profile.close();
      else opened = result.profile;
      if (result.created) audit({ action: 'profile.created', object: home });
      return { home, created: result.created };
    },

    async 'identities:list'() {
      const p = profile();
      return { people: listIdentities(p.db).map((row) => toPerson(p, row)) };
    },

    async 'identities:create'(request) {
      const p = profile();
      const person = { name: request.name, email: request.email, org: request.org };
      const created = await createIdentity(p.db, person, request.passphrase);
      audit({ actor: created.id, action: 'identity.created', object: created.id, detail: { name: person.name, org: person.org, fingerprint: formatFingerprint(created.sigFpr) } });
      // With an authority pinned, the new person waits for a certificate before signing in.
      if (hasAuthority(p.db)) return { person: toPerson(p, getIdentity(p.db, created.id)!), session: null };
      const unlocked = await signIn(request.opId, created.id, request.passphrase);
      return { person: toPerson(p, getIdentity(p.db, created.id)!), session: { id: unlocked.id, name: unlocked.name } };
    },

    async 'identities:importKeyfile'(request) {
      const p = profile();
      if (!getTrust(p.db)) throw inputError('no-authority', 'Aucune autorité épinglée sur ce poste : importez d’abord l’annuaire de l’officier SSI (étape 2), puis le fichier de clés.');
      const file = await shell.openFile({ title: 'Fichier de clés remis par l’officier SSI', filters: [{ name: 'Fichier de clés Pli', extensions: ['json', 'key'] }, ANY_FILE] });
      if (!file) return { status: 'cancelled' };
      const text = await readChosen(file, MAX_CARD_BYTES, 'un fichier de clés Pli');
      options.emitProgress({ opId: request.opId, phase: 'unlock', done: 0, total: 1 });
      const result = await audited('identity.imported', () => importKeyfile(p.db, text, request.oneTimePassphrase, request.passphrase));
      audit({ actor: result.id, action: 'identity.imported', object: result.id, detail: { name: result.name, provisioned: true } });
      const person = toPerson(p, getIdentity(p.db, result.id)!);
      if (certificateState(p.db, result.id).state !== 'valid') {
        options.emitProgress({ opId: request.opId, phase: 'done', done: 1, total: 1 });
        return { status: 'done', person, session: null };
      }
      const unlocked = await signIn(request.opId, result.id, request.passphrase);
      return { status: 'done', person, session: { id: unlocked.id, name: unlocked.name } };
    },

    async 'identities:installCertificate'() {
      const p = profile();
      if (!getTrust(p.db)) throw inputError('no-authority', 'Aucune autorité épinglée sur ce poste : importez d’abord l’annuaire de l’officier SSI, puis le certificat.');
      const file = await shell.openFile({ title: 'Certificat remis par l’officier SSI', filters: [{ name: 'Certificat Pli', extensions: ['json'] }, ANY_FILE] });
      if (!file) return { status: 'cancelled' };
      const text = await readChosen(file, MAX_CARD_BYTES, 'un certificat Pli');
      const cert = await audited('identity.certificate-installed', () => installCertificate(p.db, text));
      audit({ actor: cert.body.id, action: 'identity.certificate-installed', object: cert.body.id, detail: { role: cert.body.role, notAfter: cert.body.notAfter } });
      return { status: 'done', id: cert.body.id, name: cert.body.name, role: cert.body.role, notAfter: cert.body.notAfter };
    },

    async 'directory:import'(request) {
      const p = profile();
      const pin = request.pin?.trim() ? request.pin.trim() : undefined;
      if (!getTrust(p.db) && !pin) {
        throw inputError('pin-required', 'Première importation : faites-vous lire au téléphone l’empreinte de l’autorité par l’officier SSI, tapez-la, puis choisissez le fichier d’annuaire.');
      }
      const file = await shell.openFile({ title: 'Annuaire signé par l’officier SSI', filters: [{ name: 'Annuaire Pli', extensions: ['json'] }, ANY_FILE] });
      if (!file) return { status: 'cancelled' };
      const text = await readChosen(file, MAX_DIRECTORY_BYTES, 'un annuaire Pli');
      const result = await audited('directory.imported', () => importDirectory(p.db, text, pin));
      audit({ actor: session?.id ?? null, action: 'directory.imported', object: String(result.serial), detail: { authority: result.authorityName, fingerprint: result.fingerprint, certificates: result.certificates, revocations: result.revocations, pinned: result.pinnedNow, keyChanged: result.keyChanged } });
      return {
        status: 'done', authorityName: result.authorityName, fingerprint: result.fingerprint, serial: result.serial,
        certificates: result.certificates, revocations: result.revocations, pinnedNow: result.pinnedNow, nextUpdate: result.nextUpdate,
      };
    },

    async 'directory:people'() {
      const db = profile().db;
      return { people: habilitatedPeople(db).map((person) => ({
        id: person.id, name: person.name, org: person.org, email: person.email, fingerprint: person.fingerprint, certificate: certificateOf(db, person.id),
      })) };
    },

    async 'identities:importCard'(request) {
      requireSession();
      const p = profile();
      let text: string;
      try {
        const info = await stat(request.path);
        if (!info.isFile() || info.size > MAX_CARD_BYTES) throw inputError('not-a-card', `${path.basename(request.path)} n’est pas une carte Pli (trop gros ou pas un fichier). Choisissez le fichier de carte reçu.`);
        text = await readFile(request.path, 'utf8');
      } catch (error) {
        if (error instanceof PliError) throw error;
        throw inputError('missing-file', `Fichier introuvable ou illisible : ${request.path}. Vérifiez le fichier et recommencez.`);
      }
      try {
        const result = await importCard(p.db, text);
        audit({ actor: session?.id ?? null, action: 'identity.imported', object: result.id, detail: { name: result.card.body.name, org: result.card.body.org, fingerprint: formatFingerprint(result.card.sigFpr), added: result.added } });
        return { person: toPerson(p, getIdentity(p.db, result.id)!), added: result.added };
      } catch (error) {
        if (error instanceof PliError && error.kind === 'security') {
          audit({ actor: session?.id ?? null, action: 'identity.imported', outcome: 'refused', detail: { reason: error.code } });
        }
        throw error;
      }
    },

    async 'identities:exportCard'(request) {
      const p = profile();
      const row = getIdentity(p.db, request.id);
      if (!row) throw inputError('unknown-id', 'Cette personne n’est pas dans l’annuaire de ce poste.');
      // A person of this workstation waiting for a certificate exports their card before signing in.
      const actor = session?.id ?? (row.own === 1 ? row.id : requireSession().id);
      const target = await shell.saveFile({
        title: `Carte de ${row.name}`, defaultName: `carte-pli-${slug(row.name)}.json`,
        filters: [{ name: 'Carte Pli', extensions: ['json'] }],
      });
      if (!target) return { status: 'cancelled' };
      await writeFile(target, row.card, { mode: 0o644 });
      revealable.add(target);
      audit({ actor, action: 'identity.exported', object: row.id });
      return { status: 'done', path: target };
    },

    async 'session:signIn'(request) {
      const unlocked = await signIn(request.opId, request.id, request.passphrase);
      return { id: unlocked.id, name: unlocked.name };
    },

    async 'session:signOut'() {
      return { signedOut: await signOut() };
    },

    async 'containers:inspect'(request) {
      const info = await inspect(request.path);
      revealable.add(request.path);
      const sender = opened || isProfile(home) ? getIdentity(profile().db, info.senderId) : undefined;
      const senderCertificate = sender && hasAuthority(profile().db) ? certificateOf(profile().db, sender.id) : null;
      return {
        path: request.path, fileName: path.basename(request.path),
        containerId: info.containerId, senderId: info.senderId,
        senderName: sender?.name ?? null, senderOrg: sender?.org ?? null, senderKey: info.senderKey, senderCertificate,
        createdMs: info.createdMs, recipients: info.recipients, passwordProtected: info.passwordProtected,
        payloadBytes: info.payloadBytes, size: info.size,
      };
    },

    async 'containers:encrypt'(request) {
      const active = requireSession();
      const ctx = context();
      const day = new Date().toISOString().slice(0, 10);
      const out = await shell.saveFile({
        title: 'Enregistrer le pli chiffré', defaultName: `pli-${day}.pli`,
        filters: [{ name: 'Pli chiffré', extensions: ['pli'] }],
      });
      if (!out) return { status: 'cancelled' };
      if (session !== active) throw notSignedIn(); // signed out while the dialog was open
      const resolved = path.resolve(out);
      if (request.files.some((f) => path.resolve(f) === resolved)) {
        throw inputError('out-is-input', 'Le pli ne peut pas remplacer un des fichiers à chiffrer : choisissez un autre nom.');
      }
      const password = request.password;
      const result = await encrypt(password === undefined ? ctx : withPassword(ctx, password), {
        as: active.id, to: request.to, self: request.self, usePassword: password !== undefined,
        files: request.files, out: resolved, onProgress: progress(request.opId, 'seal'),
      });
      options.emitProgress({ opId: request.opId, phase: 'done', done: 1, total: 1 });
      revealable.add(result.out);
      return { status: 'done', out: result.out, size: result.size, containerId: result.containerId, recipients: result.recipients, warnings: result.warnings };
    },

    async 'containers:generatePassword'() {
      requireSession();
      return { password: generateContainerPassword() };
    },

    async 'containers:open'(request) {
      const active = requireSession();
      const password = request.password;
      // A password container too is opened by the signed-in person: the core checks their role
      // and lends their keys as proof of the session (the actor of the events).
      const ctx = password === undefined ? context() : withPassword(context(), password);
      const outDir = await shell.chooseFolder({ title: 'Dossier où enregistrer les fichiers du pli' });
      if (!outDir) return { status: 'cancelled' };
      if (session !== active) throw notSignedIn();
      const result = await decrypt(ctx, {
        as: active.id, usePassword: password !== undefined, input: request.path, outDir,
        onProgress: progress(request.opId, 'open'),
      });
      options.emitProgress({ opId: request.opId, phase: 'done', done: 1, total: 1 });
      revealable.add(outDir);
      for (const file of result.files) revealable.add(file.path);
      return { status: 'done', containerId: result.containerId, senderId: result.senderId, senderName: result.senderName, outDir, files: result.files };
    },

    async 'events:list'(request) {
      requireSession();
      const p = profile();
      const names = new Map(listIdentities(p.db).map((r) => [r.id, r.name]));
      const all = listEvents(p.db, request.since);
      const actors = [...new Set(all.map((e) => e.actor).filter((a): a is string => a !== null))]
        .map((id) => ({ id, name: names.get(id) ?? id })).sort((x, y) => x.name.localeCompare(y.name, 'fr'));
      const actions = [...new Set(all.map((e) => e.action))].sort();
      const matching = all.filter((e) => (request.actor === undefined || e.actor === request.actor)
        && (request.action === undefined || e.action === request.action)
        && (request.outcome === undefined || e.outcome === request.outcome));
      const limit = request.limit ?? 500;
      const events = matching.slice(-limit).reverse().map((e) => ({
        seq: e.seq, at: e.at, actor: e.actor, actorName: e.actor ? names.get(e.actor) ?? null : null,
        workstation: e.workstation, action: e.action, object: e.object, outcome: e.outcome, detail: e.detail,
      }));
      return { events, total: matching.length, actors, actions };
    },

    async 'audit:verify'() {
      const active = requireSession();
      const p = profile();
      const result = await verifyAudit(p.db);
      // As `pli audit verify`: the verification itself is an event.
      audit({ actor: active.id, action: 'audit.verified', outcome: result.ok ? 'ok' : 'failed', detail: result.ok ? { events: result.events } : { firstBad: result.firstBad?.seq } });
      return { ok: result.ok, events: result.events, checkpoints: result.checkpoints, lastCheckpoint: result.lastCheckpoint, firstBad: result.firstBad ?? null };
    },

    async 'audit:export'() {
      const active = requireSession();
      const ctx = context();
      const target = await shell.saveFile({ title: 'Exporter le journal d’audit signé', defaultName: `journal-pli-${day()}.csv`, filters: [{ name: 'CSV', extensions: ['csv'] }] });
      if (!target) return { status: 'cancelled' };
      if (session !== active) throw notSignedIn();
      const result = await exportAudit(ctx, active.id, target);
      revealable.add(target);
      return { status: 'done', path: target, sigPath: `${target}.sig`, events: result.events, signer: result.signer };
    },

    async 'authority:init'(request) {
      const active = requireSession();
      const ctx = context();
      const result = await initAuthority(ctx, request.name, active.id);
      audit({ actor: active.id, action: 'authority.created', object: result.fingerprint, detail: { name: request.name } });
      return { fingerprint: result.fingerprint };
    },

    async 'authority:certify'(request) {
      const active = requireOfficer();
      const ctx = context();
      const file = await shell.openFile({ title: 'Carte Pli à certifier', filters: [{ name: 'Carte Pli', extensions: ['json'] }, ANY_FILE] });
      if (!file) return { status: 'cancelled' };
      const cardText = await readChosen(file, MAX_CARD_BYTES, 'une carte Pli');
      const card = await verifyCard(cardText);
      const target = await shell.saveFile({
        title: `Certificat de ${card.body.name}`, defaultName: `certificat-pli-${slug(card.body.name)}.json`,
        filters: [{ name: 'Certificat Pli', extensions: ['json'] }],
      });
      if (!target) return { status: 'cancelled' };
      if (session !== active) throw notSignedIn();
      const result = await audited('identity.certified', () => certifyCard(ctx, cardText, request.role, request.days));
      await writeFile(target, result.certificate, { mode: 0o644 });
      revealable.add(target);
      audit({ actor: active.id, action: 'identity.certified', object: result.id, detail: { name: result.name, role: request.role } });
      return { status: 'done', id: result.id, name: result.name, role: request.role, path: target };
    },

    async 'authority:provision'(request) {
      const active = requireOfficer();
      const ctx = context();
      const target = await shell.saveFile({
        title: `Fichier de clés de ${request.name}`, defaultName: `cles-pli-${slug(request.name)}.json`,
        filters: [{ name: 'Fichier de clés Pli', extensions: ['json'] }],
      });
      if (!target) return { status: 'cancelled' };
      if (session !== active) throw notSignedIn();
      const person = { name: request.name, email: request.email, org: request.org };
      const result = await audited('identity.provisioned', () => provisionPerson(ctx, person, request.role, request.days));
      await writeFile(target, result.keyfile, { mode: 0o600 });
      revealable.add(target);
      audit({ actor: active.id, action: 'identity.provisioned', object: result.id, detail: { name: person.name, org: person.org, role: request.role } });
      return { status: 'done', id: result.id, name: person.name, path: target, oneTimePassphrase: result.oneTimePassphrase };
    },

    async 'authority:revoke'(request) {
      const active = requireOfficer();
      const ctx = context();
      const row = getIdentity(ctx.profile.db, request.id);
      if (!row) throw inputError('unknown-id', 'Cette personne n’est pas dans l’annuaire de ce poste.');
      await audited('identity.revoked', () => revokePerson(ctx, row, request.reason));
      audit({ actor: active.id, action: 'identity.revoked', object: row.id, detail: { name: row.name, reason: request.reason } });
      return { name: row.name };
    },

    async 'authority:exportDirectory'() {
      const active = requireOfficer();
      const ctx = context();
      const target = await shell.saveFile({ title: 'Exporter l’annuaire signé', defaultName: `annuaire-pli-${day()}.json`, filters: [{ name: 'Annuaire Pli', extensions: ['json'] }] });
      if (!target) return { status: 'cancelled' };
      if (session !== active) throw notSignedIn();
      const result = await audited('directory.exported', () => exportDirectory(ctx));
      await writeFile(target, result.text, { mode: 0o644 });
      revealable.add(target);
      audit({ actor: active.id, action: 'directory.exported', object: String(result.serial) });
      return { status: 'done', serial: result.serial, path: target };
    },

    async 'settings:get'() {
      const stored = opened || isProfile(home) ? getMeta(profile().db, 'ui.language') : undefined;
      const language = stored === 'en' || stored === 'fr' ? stored : memoryLanguage;
      const idleLockMinutes = opened || isProfile(home) ? sessionSettings(profile().db).idleLockMinutes : null;
      return { language, idleLockMinutes };
    },

    async 'settings:set'(request) {
      const stored = opened || isProfile(home);
      if (request.idleLockMinutes !== undefined) {
        const active = requireSession();
        const before = sessionSettings(profile().db).idleLockMinutes;
        setSessionSettings(profile().db, { idleLockMinutes: request.idleLockMinutes });
        audit({ actor: active.id, action: 'settings.changed', detail: { idleLockMinutes: request.idleLockMinutes, before } });
      }
      if (request.language !== undefined) {
        memoryLanguage = request.language;
        if (stored) setMeta(profile().db, 'ui.language', request.language);
      }
      const language = stored ? getMeta(profile().db, 'ui.language') : undefined;
      return {
        language: language === 'en' || language === 'fr' ? language : memoryLanguage,
        idleLockMinutes: stored ? sessionSettings(profile().db).idleLockMinutes : null,
      };
    },

    async 'shell:showInFolder'(request) {
      if (!revealable.has(request.path)) {
        throw inputError('not-revealable', 'Pli ne montre que les fichiers et dossiers qu’il vient d’ouvrir ou d’enregistrer.');
      }
      shell.showInFolder(request.path);
      return { shown: true };
    },

    async 'mailbox:get'() {
      const settings = opened || isProfile(home) ? getMailbox(profile().db) : undefined;
      return { settings: settings ? toMailboxView(settings) : null, watcher: watcherStatus };
    },

    async 'mailbox:chooseCa'() {
      requireSession();
      const file = await shell.openFile({ title: 'Autorité de certification interne (fichier PEM)', filters: [{ name: 'Certificat PEM', extensions: ['pem', 'crt', 'cer'] }, ANY_FILE] });
      if (!file) return { status: 'cancelled' };
      await readChosen(file, MAX_CA_BYTES, 'un certificat PEM');
      pendingCa = { pem: readCaFile(file), fileName: path.basename(file) };
      return { status: 'done', fileName: pendingCa.fileName };
    },

    async 'mailbox:set'(request) {
      const active = requireSession();
      const ctx = context();
      const existing = getMailbox(ctx.profile.db);
      let caPem: string | null;
      if (request.ca === 'keep') caPem = existing?.caPem ?? null;
      else if (request.ca === 'none') caPem = null;
      else if (pendingCa) caPem = pendingCa.pem;
      else throw inputError('no-ca-chosen', 'Aucun fichier d’autorité de certification choisi : cliquez sur « Choisir le fichier de l’autorité… », puis enregistrez.');
      const settings: MailboxSettings = {
        imap: toEndpoint(request.imap, 'Serveur IMAP'), smtp: toEndpoint(request.smtp, 'Serveur SMTP'), user: request.user.trim(),
        caPem, maxMessageBytes: Math.round(request.maxMessageMb * 1_000_000),
      };
      let password = request.password;
      if (!password) {
        if (!existing) throw inputError('password-required', 'Mot de passe de la boîte obligatoire au premier réglage : tapez-le, puis enregistrez.');
        // Left empty on edit: unchanged (unsealed here with the session's key, sealed again).
        password = await unlockMailboxPassword(ctx, active.id);
      }
      await stopWatcher();
      await setMailbox(ctx, settings, password);
      pendingCa = null;
      startWatcher();
      return { settings: toMailboxView(settings) };
    },

    async 'mailbox:test'() {
      const active = requireSession();
      const lines = await probeMailbox(context(), active.id);
      return { lines: lines.map((line) => ({ what: line.what, ok: line.ok, text: line.text, code: line.error?.code ?? null })) };
    },

    async 'outbox:send'(request) {
      const active = requireSession();
      const ctx = context();
      let folder: string | undefined;
      if (request.transport === 'folder') {
        folder = (await shell.chooseFolder({ title: 'Dossier où déposer le pli (clé USB, partage…)' })) ?? undefined;
        if (!folder) return { status: 'cancelled' };
        if (session !== active) throw notSignedIn();
      }
      options.emitProgress({ opId: request.opId, phase: 'seal', done: 0, total: 0 });
      const result = await queueSend(ctx, { as: active.id, to: request.to, files: request.files, folder, self: request.self });
      options.emitMailEvent({ type: 'outbox' });
      let sendError: string | null = null;
      if (!folder) {
        const count = result.outboxIds.length;
        options.emitProgress({ opId: request.opId, phase: 'send', done: 0, total: count });
        const flushed = await flush(ctx, { as: active.id, force: true, ids: result.outboxIds });
        sendError = flushed.error?.message ?? null;
        options.emitProgress({ opId: request.opId, phase: 'send', done: count, total: count });
        options.emitMailEvent({ type: 'outbox' });
      } else {
        revealable.add(folder);
      }
      options.emitProgress({ opId: request.opId, phase: 'done', done: 1, total: 1 });
      const items = listOutbox(ctx.profile.db).filter((row) => result.outboxIds.includes(row.id)).map(toOutboxItem);
      return { status: 'done', containerId: result.containerId, destinations: result.destinations, size: result.size, warnings: result.warnings, items, sendError };
    },

    async 'outbox:list'() {
      requireSession();
      return { items: listOutbox(profile().db).map(toOutboxItem).reverse() };
    },

    async 'outbox:flush'(request) {
      const active = requireSession();
      const ctx = context();
      options.emitProgress({ opId: request.opId, phase: 'send', done: 0, total: 0 });
      try {
        const result = await flush(ctx, { as: active.id, force: true, ids: request.ids });
        return { sent: result.sent.length, failed: result.failed.length, pending: result.pending.length, error: result.error?.message ?? null };
      } finally {
        options.emitProgress({ opId: request.opId, phase: 'done', done: 1, total: 1 });
        options.emitMailEvent({ type: 'outbox' });
      }
    },

    async 'inbox:list'() {
      requireSession();
      const db = profile().db;
      return { items: listInbox(db).map((row) => toInboxItem(db, row)).reverse(), mailbox: getMailbox(db) !== undefined, watcher: watcherStatus, refusedRoom: refusedRoom(db) };
    },

    async 'inbox:receive'(request) {
      const active = requireSession();
      const ctx = context();
      options.emitProgress({ opId: request.opId, phase: 'receive', done: 0, total: 0 });
      try {
        const results = await receiveImap(ctx, {
          as: active.id,
          onItem: (result) => { if (result.isNew) options.emitMailEvent({ type: 'inbox', id: result.row.id, state: result.row.state }); },
        });
        return countResults(results);
      } finally {
        options.emitProgress({ opId: request.opId, phase: 'done', done: 1, total: 1 });
      }
    },

    async 'inbox:importFolder'(request) {
      const active = requireSession();
      const folder = await shell.chooseFolder({ title: 'Dossier contenant les plis reçus (clé USB…)' });
      if (!folder) return { status: 'cancelled' };
      if (session !== active) throw notSignedIn();
      const ctx = context();
      options.emitProgress({ opId: request.opId, phase: 'receive', done: 0, total: 0 });
      try {
        const results = await receiveFolder(ctx, folder, (result) => {
          if (result.isNew) options.emitMailEvent({ type: 'inbox', id: result.row.id, state: result.row.state });
        });
        return { status: 'done', folder, ...countResults(results) };
      } finally {
        options.emitProgress({ opId: request.opId, phase: 'done', done: 1, total: 1 });
      }
    },

    async 'inbox:open'(request) {
      const active = requireSession();
      const ctx = context();
      const outDir = await shell.chooseFolder({ title: 'Dossier où enregistrer les fichiers du pli' });
      if (!outDir) return { status: 'cancelled' };
      if (session !== active) throw notSignedIn();
      options.emitProgress({ opId: request.opId, phase: 'open', done: 0, total: 0 });
      const result = await openInbox(ctx, request.id, outDir, active.id);
      options.emitProgress({ opId: request.opId, phase: 'done', done: 1, total: 1 });
      options.emitMailEvent({ type: 'inbox', id: request.id, state: 'opened' });
      revealable.add(outDir);
      for (const file of result.files) revealable.add(file.path);
      return {
        status: 'done', id: request.id, containerId: result.containerId, senderId: result.senderId, senderName: result.senderName,
        outDir, files: result.files.map((f) => ({ name: f.name, path: f.path, size: f.size, sha256: f.sha256 })),
      };
    },
  };

  return {
    async invoke(channel: string, payload: unknown): Promise<Envelope<Channel>> {
      try {
        if (!isChannel(channel)) throw inputError('unknown-channel', `Canal inconnu : ${channel.slice(0, 60)}.`);
        const request = contract[channel].request.parse(payload ?? {});
        const run = impl[channel] as (r: unknown) => Promise<unknown>;
        const value = await run(request);
        return { ok: true, value } as Envelope<Channel>;
      } catch (error) {
        return { ok: false, error: toIpcError(error) };
      } finally {
        // Sign the chain head with the session's key when this call used it (see the header).
        try {
          await checkpoint();
        } catch {
          // Never fails the call: the next checkpoint covers these events.
        }
      }
    },
    close() {
      // Synchronous (application quit): the keys are wiped; the events since the last
      // checkpoint (at most this sign-out) are covered by the next session's first checkpoint.
      watcher?.controller.abort();
      watcher = null;
      if (session) {
        if (opened) audit({ actor: session.id, action: 'session.closed', object: session.id });
        session.wipe();
        session = null;
      }
      if (opened) detachIntegrityKey(opened.db);
      opened?.close();
      opened = null;
    },
  };
}
