// Mappers from the core's rows and errors to the contract's shapes (shared/ipc.ts). Pure reads:
// nothing here writes, and no secret is ever part of a view.
import { z } from 'zod';
import { PliError } from '../core/errors.js';
import { faultError, isProfileBusy, placeOf } from '../core/faults.js';
import { resolveHome, type DB, type Profile } from '../core/profile/profile.js';
import { currentKeys, getIdentity, type IdentityRow } from '../core/profile/identities.js';
import { certificateState, type CertificateState } from '../core/authority/certificates.js';
import { parseEndpoint, type Endpoint, type MailboxSettings } from '../core/mail/settings.js';
import type { OutboxRow } from '../core/mail/outbox.js';
import { inboxRefusal, type InboxRow, type IngestResult } from '../core/mail/inbox.js';
import type { InboxDetails, ListFiling, ListPerson, OutboxDetails } from '../core/mail/lists.js';
import { currentVoiceCheck } from '../core/services/voice.js';
import { formatFingerprint } from '../../shared/ids.js';
import type { RetentionNotice } from '../core/authority/convention-retention.js';
import type { RetentionView } from '../../shared/retention-words.js';
import type { Certificate, EndpointInput, InboxDetailsView, InboxItem, IpcError, ListFilingView, ListPersonView, MailboxView, OutboxDetailsView, OutboxItem, Person, VoiceCheckView } from '../../shared/ipc.js';

export function certificateOf(db: DB, id: string): Certificate {
  const state: CertificateState = certificateState(db, id);
  return { state: state.state, role: state.role, notAfter: state.notAfter, revocationReason: state.revocation?.reason ?? null };
}

export function toPerson(profile: Profile, row: IdentityRow): Person {
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
    voiceCheck: row.own === 1 ? null : voiceCheckView(profile.db, row.id),
  };
}

/** The voice check that holds for the subject's current fingerprint (a broken seal throws). */
export function voiceCheckView(db: DB, subject: string): VoiceCheckView | null {
  const check = currentVoiceCheck(db, subject);
  return check ? { at: check.checkedAt, byName: check.checkedByName } : null;
}

/** A file name made from a person's name (the default name in save dialogs). */
export function slug(text: string): string {
  return text.normalize('NFD').replace(/[\u0300-\u036f]/g, '').replace(/[^A-Za-z0-9]+/g, '-').replace(/^-|-$/g, '').toLowerCase() || 'carte';
}

/** A PliError as the contract carries it: code + params; a server's reply or the system's text only as the detail. */
function fromPliError(error: PliError): IpcError {
  const { server, system, ...params } = error.params;
  const detail = typeof server === 'string' ? server : typeof system === 'string' ? system : null;
  return { kind: error.kind, code: error.code, message: error.message, params, detail };
}

/**
 * Any rejection as the contract carries it. `home`: the table's profile (HandlerOptions.home), so
 * that a fault of the profile (full or read-only disk, damaged database) names it as the CLI
 * does; without it, such a fault has no place to name.
 */
export function toIpcError(error: unknown, home?: string): IpcError {
  if (error instanceof PliError) return fromPliError(error);
  if (error instanceof z.ZodError) {
    return { kind: 'input', code: 'bad-request', message: 'Demande invalide reçue de l’interface : elle a été ignorée. Relancez Pli ; si cela se reproduit, signalez-le à l’officier SSI.' };
  }
  if (isProfileBusy(error)) {
    return { kind: 'temporary', code: 'busy', message: 'Le profil est occupé par une autre commande : réessayez dans un instant.' };
  }
  // Expected system faults (disk full, read-only folder, no name left…) get their French message,
  // as in the CLI; "Erreur inattendue" stays for real bugs.
  const fault = faultError(error, placeOf(error, home === undefined ? null : resolveHome(home)));
  if (fault) return fromPliError(fault);
  // A bug's own text (often English) is a detail, never the message.
  const detail = String((error as Error | null | undefined)?.message ?? error).slice(0, 500);
  return { kind: 'input', code: 'unexpected', message: `Erreur inattendue : ${detail}. Réessayez ; si elle persiste, signalez-la à l’officier SSI avec ce message.`, params: {}, detail };
}

/** The mailbox settings without the password (sealed in the core, never sent to the renderer). */
export function toMailboxView(settings: MailboxSettings): MailboxView {
  return {
    imap: { ...settings.imap }, smtp: { ...settings.smtp }, user: settings.user,
    privateCa: settings.caPem !== null, maxMessageBytes: settings.maxMessageBytes,
  };
}

/** Goes through the core's parser, so the interface and the CLI accept exactly the same servers. */
export function toEndpoint(input: EndpointInput, what: string): Endpoint {
  return parseEndpoint(`${input.mode === 'starttls' ? 'starttls://' : ''}${input.host}:${input.port}`, what);
}

export function toOutboxItem(row: OutboxRow): OutboxItem {
  return {
    id: row.id, containerId: row.container_id, transport: row.transport, destination: row.destination, state: row.state,
    attempts: row.attempts, lastError: row.last_error, queuedAt: row.queued_at, sentAt: row.sent_at, nextAttemptAt: row.next_attempt_at, size: row.size,
  };
}

/** The refusal as the contract carries it: the row's code is outside text, cut to the schema's bounds. */
function refusalView(row: InboxRow): InboxItem['refusal'] {
  const refusal = inboxRefusal(row);
  if (!refusal) return null;
  const params = Object.fromEntries(Object.entries(refusal.params).map(([name, value]) => [name, typeof value === 'string' ? value.slice(0, 2000) : value]));
  return { code: refusal.code.slice(0, 200), params, message: refusal.message.slice(0, 2000) };
}

export function toInboxItem(db: DB, row: InboxRow): InboxItem {
  const sender = row.sender_id ? getIdentity(db, row.sender_id) : undefined;
  return {
    id: row.id, containerId: row.container_id, state: row.state, refusal: refusalView(row), flags: row.flags ? row.flags.split(',') : [],
    senderId: row.sender_id, senderName: sender?.name ?? null, senderOrg: sender?.org ?? null,
    createdMs: row.created_ms, arrivedAt: row.arrived_at, openedAt: row.opened_at, source: row.source, size: row.size,
  };
}

export function countResults(results: IngestResult[]): { received: number; refused: number; known: number } {
  const fresh = results.filter((r) => r.isNew);
  return { received: fresh.filter((r) => r.row.state !== 'refused').length, refused: fresh.filter((r) => r.row.state === 'refused').length, known: results.length - fresh.length };
}

/** The retention run's notice as data, which the inbox words in its language (one line; docs/convention.md 8.1). */
export function toRetentionView(notice: RetentionNotice | null): RetentionView | null {
  return notice ? {
    day: notice.day, state: notice.state, message: notice.message.slice(0, 2000),
    conventions: notice.conventions, titles: notice.titles.slice(0, 50).map((title) => title.slice(0, 300)),
    containers: notice.containers, files: notice.files, manual: notice.manual,
    error: notice.error ? toIpcError(notice.error) : null,
  } : null;
}

// ---- c2-lists: what makes a row recognisable (issue 15) ----------------------------------------
// Each text is outside text (the profile's attacker writes the rows, a correspondent names their
// files): cut to the contract's bounds here, shown through forScreen by the interface.
const cut = (text: string, max: number): string => text.slice(0, max);

function filingView(f: ListFiling): ListFilingView {
  if (f.state !== 'filed') return { state: f.state };
  return {
    state: 'filed', convention: cut(f.convention, 100), title: f.title === null ? null : cut(f.title, 500), period: cut(f.period, 20),
    documents: f.documents.slice(0, 20).map((d) => cut(d, 100)), subject: f.subject === null ? null : cut(f.subject, 200),
  };
}

const personView = (p: ListPerson): ListPersonView => ({ id: p.id, name: p.name, org: p.org });

export function toInboxDetails(d: InboxDetails): InboxDetailsView {
  // File names only (the core took the base name): never the folder they were written to.
  return { id: d.id, filing: filingView(d.filing), openedBy: d.openedBy ? personView(d.openedBy) : null, files: d.files.map((f) => ({ name: cut(f.name, 500), size: f.size })) };
}

export function toOutboxDetails(d: OutboxDetails): OutboxDetailsView {
  return {
    container: d.container, object: d.object === null ? null : cut(d.object, 40), filing: filingView(d.filing), recipients: d.recipients.map(personView), files: d.files,
    // Names only (the core keeps no folder), cut to the contract's bounds.
    names: d.names.state === 'known' ? { state: 'known', files: d.names.files.slice(0, 1000).map((f) => ({ name: cut(f.name, 500), size: f.size })) } : { state: d.names.state },
    receipts: d.receipts.map((r) => ({ kind: r.kind, at: r.at, by: personView(r.by), org: r.org })),
  };
}
