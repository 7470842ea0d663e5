// The IPC handler table: every request the interface can make, over the core services. No
// Electron import: main binds it to ipcMain, and the end-to-end tests bind the very same table to
// a loopback HTTP bridge. Native dialogs and "show in folder" come in through the ShellPort.
//
// The signed-in person's unlocked keys live here, in main, for the length of the session; the
// renderer only ever learns an id and a name. Passphrases arrive in sign-in and create requests
// and are never stored or sent back.
import { readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { PliError, inputError, securityError } from '../core/errors.js';
import { getMeta, initProfile, isProfile, openProfile, setMeta, type Profile } from '../core/profile/profile.js';
import {
  createIdentity, currentKeys, getIdentity, importCard, listIdentities, 
  type IdentityRow, type UnlockedIdentity,
} from '../core/profile/identities.js';
import { appendEvent, listEvents } from '../core/profile/events.js';
import { decrypt, encrypt, inspect } from '../core/services/containers.js';
import { getSettings as sessionSettings, signIn as unlockWithLockout } from '../core/services/session.js';
import type { Context } from '../core/services/context.js';
import { formatFingerprint } from '../../shared/ids.js';
import { isChannel } from '../../shared/channels.js';
import {
  contract, type Channel, type Envelope, type IpcError, type Person, type Progress, type ResponseOf, type Settings,
} from '../../shared/ipc.js';

export interface ShellPort {
  /** A native "save as" dialog; null when the person cancels. */
  saveFile(options: { title: string; defaultName: string; filters: { name: string; extensions: string[] }[] }): Promise<string | null>;
  /** A native folder chooser; null when the person cancels. */
  chooseFolder(options: { title: string }): Promise<string | null>;
  showInFolder(target: string): void;
}

export interface HandlerOptions {
  home: string;
  shell: ShellPort;
  emitProgress(progress: Progress): void;
}

export interface HandlerTable {
  /** Parses `payload` against the channel's schema, runs the handler, never throws. */
  invoke(channel: string, payload: unknown): Promise<Envelope<Channel>>;
  /** Signs out (wiping the keys) and closes the profile. */
  close(): void;
}

const MAX_CARD_BYTES = 64 * 1024;
const PROGRESS_INTERVAL_MS = 100;

const notSignedIn = () => securityError('not-signed-in', 'Aucune personne n’est connectée : connectez-vous avec votre phrase de passe, puis recommencez.');

/** A copy of the session's keys for one service call: the services wipe what they are given. */
function lend(identity: UnlockedIdentity): UnlockedIdentity {
  const keySets = identity.keySets.map((k) => ({ ...k, encSecret: Uint8Array.from(k.encSecret), sigSecret: Uint8Array.from(k.sigSecret) }));
  return {
    id: identity.id, name: identity.name, keySets, current: keySets[keySets.length - 1]!,
    wipe: () => keySets.forEach((k) => { k.encSecret.fill(0); k.sigSecret.fill(0); }),
  };
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
    fingerprint, encryptionFingerprint, addedAt: row.added_at, certificate: 'none',
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

export function createHandlers(options: HandlerOptions): HandlerTable {
  const { home, shell } = options;
  let opened: Profile | null = null;
  let session: UnlockedIdentity | null = null;
  /** Paths this process wrote or was given: the only ones "show in folder" will reveal. */
  const revealable = new Set<string>();
  let memoryLanguage: Settings['language'] = 'fr';

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
  const signOut = (): boolean => {
    if (!session) return false;
    const id = session.id;
    session.wipe();
    session = null;
    if (opened) audit({ actor: id, action: 'session.closed', object: id });
    return true;
  };
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
          if (row.id !== active.id) {
            throw securityError('other-identity', `Cette opération demande les clés de ${row.name}, qui n’est pas la personne connectée : connectez-vous sous ce nom.`);
          }
          return lend(active);
        },
      },
    };
  };
  const signIn = async (opId: string, id: string, passphrase: string): Promise<UnlockedIdentity> => {
    const p = profile();
    const row = getIdentity(p.db, id);
    if (!row || row.own !== 1) throw inputError('unknown-id', 'Cette personne n’a pas de clés sur ce poste : choisissez votre nom dans la liste.');
    options.emitProgress({ opId, phase: 'unlock', done: 0, total: 1 });
    // The core's sign-in enforces the lockout after repeated wrong passphrases and audits every attempt.
    const unlocked = await unlockWithLockout(p, row, passphrase);
    options.emitProgress({ opId, phase: 'done', done: 1, total: 1 });
    signOut();
    session = unlocked;
    return unlocked;
  };

  type Impl = { [C in Channel]: (request: z.output<(typeof contract)[C]['request']>) => Promise<ResponseOf<C>> };
  const impl: Impl = {
    async 'profile:status'() {
      const exists = opened !== null || isProfile(home);
      const own = exists ? listIdentities(profile().db).filter((r) => r.own === 1) : [];
      return {
        home, exists,
        ownIdentities: own.map((r) => ({ id: r.id, name: r.name, org: r.org })),
        session: session ? { id: session.id, name: session.name } : null,
        authority: 'pending', mailbox: 'pending',
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
      const unlocked = await signIn(request.opId, created.id, request.passphrase);
      return { person: toPerson(p, getIdentity(p.db, created.id)!), session: { id: unlocked.id, name: unlocked.name } };
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
      const active = requireSession();
      const p = profile();
      const row = getIdentity(p.db, request.id);
      if (!row) throw inputError('unknown-id', 'Cette personne n’est pas dans l’annuaire de ce poste.');
      const target = await shell.saveFile({
        title: `Carte de ${row.name}`, defaultName: `carte-pli-${slug(row.name)}.json`,
        filters: [{ name: 'Carte Pli', extensions: ['json'] }],
      });
      if (!target) return { status: 'cancelled' };
      await writeFile(target, row.card, { mode: 0o644 });
      revealable.add(target);
      audit({ actor: active.id, action: 'identity.exported', object: row.id });
      return { status: 'done', path: target };
    },

    async 'session:signIn'(request) {
      const unlocked = await signIn(request.opId, request.id, request.passphrase);
      return { id: unlocked.id, name: unlocked.name };
    },

    async 'session:signOut'() {
      return { signedOut: signOut() };
    },

    async 'containers:inspect'(request) {
      const info = await inspect(request.path);
      revealable.add(request.path);
      const sender = opened || isProfile(home) ? getIdentity(profile().db, info.senderId) : undefined;
      return {
        path: request.path, fileName: path.basename(request.path),
        containerId: info.containerId, senderId: info.senderId,
        senderName: sender?.name ?? null, senderOrg: sender?.org ?? null, senderKey: info.senderKey,
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
      const result = await encrypt(ctx, {
        as: active.id, to: request.to, self: request.self, usePassword: false,
        files: request.files, out: resolved, onProgress: progress(request.opId, 'seal'),
      });
      options.emitProgress({ opId: request.opId, phase: 'done', done: 1, total: 1 });
      revealable.add(result.out);
      return { status: 'done', out: result.out, size: result.size, containerId: result.containerId, recipients: result.recipients };
    },

    async 'containers:open'(request) {
      const active = requireSession();
      const ctx = context();
      const outDir = await shell.chooseFolder({ title: 'Dossier où enregistrer les fichiers du pli' });
      if (!outDir) return { status: 'cancelled' };
      if (session !== active) throw notSignedIn();
      const result = await decrypt(ctx, {
        as: active.id, usePassword: false, input: request.path, outDir,
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
      const all = listEvents(p.db);
      const limit = request.limit ?? 500;
      const events = all.slice(-limit).reverse().map((e) => ({
        seq: e.seq, at: e.at, actor: e.actor, actorName: e.actor ? names.get(e.actor) ?? null : null,
        workstation: e.workstation, action: e.action, object: e.object, outcome: e.outcome, detail: e.detail,
      }));
      return { events, total: all.length };
    },

    async 'settings:get'() {
      const stored = opened || isProfile(home) ? getMeta(profile().db, 'ui.language') : undefined;
      const language = stored === 'en' || stored === 'fr' ? stored : memoryLanguage;
      const idleLockMinutes = opened || isProfile(home) ? sessionSettings(profile().db).idleLockMinutes : null;
      return { language, idleLockMinutes };
    },

    async 'settings:set'(request) {
      memoryLanguage = request.language;
      const stored = opened || isProfile(home);
      if (stored) setMeta(profile().db, 'ui.language', request.language);
      return { language: request.language, idleLockMinutes: stored ? sessionSettings(profile().db).idleLockMinutes : null };
    },

    async 'shell:showInFolder'(request) {
      if (!revealable.has(request.path)) {
        throw inputError('not-revealable', 'Pli ne montre que les fichiers et dossiers qu’il vient d’ouvrir ou d’enregistrer.');
      }
      shell.showInFolder(request.path);
      return { shown: true };
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
      }
    },
    close() {
      signOut();
      opened?.close();
      opened = null;
    },
  };
}
