// The authority's directory pushed through the functional mailbox (docs/objects.md 4; issue 17).
// The officer publishes the signed directory as a Pli object to every organisation with a
// certified member; each workstation applies it on arrival exactly as `directory import` does
// against its pinned authority, and answers with a signed acknowledgement (a receipt).
//
// Invariants held here:
// - nothing pins itself from the mailbox: without a pinned authority a pushed directory is refused;
// - the directory's own signature by the pinned authority decides (importDirectory: signature,
//   increasing serial, endorsement of a changed key, every certificate valid); the person who
//   signed the carrying container decides nothing;
// - an older or equal serial changes nothing (ignored and logged); any other refusal changes
//   nothing either (importDirectory writes in one sealed transaction, after every check).
import type { DB } from '../profile/profile.js';
import { getIdentity, listIdentities, type IdentityRow, type UnlockedIdentity } from '../profile/identities.js';
import { certificateState, getTrust } from '../authority/certificates.js';
import { DAY, directoryFreshness, importDirectory } from '../authority/directory.js';
import { exportDirectory, getAuthority, requireOfficer } from '../authority/authority.js';
import { audit, type Context } from '../context.js';
import { inputError, PliError, securityError } from '../errors.js';
import { dispatchObject, sealObject, type OpenedObject } from './objects.js';
import { sendReceipt } from './receipts.js';

/** The officer is warned this long before the directory's next update. */
export const PUBLISH_WARNING_MS = 7 * DAY;

export interface Publication { serial: number; orgs: { org: string; people: number; destinations: string[] }[]; outboxIds: number[] }

/** Organisations that have a certified member (certificate valid now), other than this workstation's own people only. */
export function publicationTargets(db: DB, now = Date.now()): Map<string, IdentityRow[]> {
  const byOrg = new Map<string, IdentityRow[]>();
  for (const row of listIdentities(db)) {
    if (certificateState(db, row.id, now).state !== 'valid') continue;
    const key = row.org.trim().toLowerCase();
    byOrg.set(key, [...(byOrg.get(key) ?? []), row]);
  }
  for (const [key, people] of byOrg) if (people.every((p) => p.own === 1)) byOrg.delete(key);
  return byOrg;
}

/**
 * `pli authority publish`: signs the current directory (a new serial, as `directory export`) and
 * sends it, as a directory object signed by the officer, to the functional mailboxes of every
 * organisation with a certified member, or into `folder`.
 */
export async function publishDirectory(ctx: Context, to: 'mail' | { folder: string }): Promise<Publication> {
  const db = ctx.profile.db;
  const officer = requireOfficer(ctx);
  const targets = publicationTargets(db);
  if (targets.size === 0) throw inputError('no-organisation', "Aucune organisation n'a de personne certifiée en dehors de ce poste : il n'y a personne à qui publier l'annuaire. Certifiez d'abord les personnes des organisations partenaires.");
  // The officer's keys are unlocked once for both signatures (the directory's, by the authority
  // key they open, and the objects'), then wiped: one passphrase derivation, not two.
  let held: UnlockedIdentity | null = null;
  const once: Context = {
    ...ctx,
    unlocker: {
      ...ctx.unlocker,
      unlock: async (row) => {
        if (row.id !== officer.id) return ctx.unlocker.unlock(row);
        held ??= await ctx.unlocker.unlock(row);
        return { ...held, wipe: () => undefined };
      },
    },
  };
  const publication: Publication = { serial: 0, orgs: [], outboxIds: [] };
  try {
    const { text, serial } = await exportDirectory(once);
    publication.serial = serial;
    const unlocked = await once.unlocker.unlock(officer);
    const now = Date.now();
    for (const people of targets.values()) {
      const org = people[0]!.org;
      const destinations = [...new Set(people.filter((p) => p.own !== 1).map((p) => p.email.trim().toLowerCase()))];
      const sealed = await sealObject(ctx, 'directory', text, unlocked, people);
      const ids = await dispatchObject(ctx, sealed, officer.id, to === 'mail' ? { mail: destinations } : to);
      publication.outboxIds.push(...ids);
      const insert = db.prepare('INSERT OR IGNORE INTO directory_publications (serial, org, destination, published_at) VALUES (?, ?, ?, ?)');
      for (const d of to === 'mail' ? destinations : [to.folder]) insert.run(publication.serial, org, d, now);
      publication.orgs.push({ org, people: people.length, destinations: to === 'mail' ? destinations : [to.folder] });
    }
  } finally {
    (held as UnlockedIdentity | null)?.wipe();
  }
  audit(ctx, { actor: officer.id, action: 'directory.published', object: String(publication.serial), detail: { transport: to === 'mail' ? 'mail' : 'folder', orgs: publication.orgs.map((o) => o.org) } });
  return publication;
}

export type DirectoryOutcome =
  | { result: 'applied'; serial: number; acknowledged: boolean }
  | { result: 'ignored'; serial: number | null; current: number }
  | { result: 'refused'; error: PliError };

/** The serial a directory text claims (not trusted: for the log of an ignored one). */
function claimedSerial(text: string): number | null {
  try {
    const serial = (JSON.parse((JSON.parse(text) as { body: string }).body) as { serial?: unknown }).serial;
    return typeof serial === 'number' && Number.isSafeInteger(serial) ? serial : null;
  } catch {
    return null;
  }
}

/**
 * A received directory object: applied as `directory import` would (never pinning), recorded with
 * how it arrived, then acknowledged to the organisation of the person who sent it (`reader` signs).
 */
export async function applyPushedDirectory(ctx: Context, opened: OpenedObject, reader: UnlockedIdentity, via: 'imap' | 'folder', origin: string, replyFolder?: string): Promise<DirectoryOutcome> {
  const db = ctx.profile.db;
  const before = getTrust(db);
  if (!before) {
    const error = securityError('directory-not-pinned', "Annuaire reçu par la messagerie refusé : aucune autorité n'est épinglée sur ce poste, et un annuaire ne s'épingle jamais tout seul. Importez d'abord l'annuaire remis par l'officier SSI en saisissant l'empreinte qu'il vous dicte.");
    audit(ctx, { action: 'directory.applied', object: null, outcome: 'refused', detail: { reason: error.code, sender: opened.sender.id, source: via, origin } });
    return { result: 'refused', error };
  }
  try {
    const result = await importDirectory(db, opened.object.text);
    db.prepare('INSERT OR REPLACE INTO directory_arrivals (serial, issuer, via, origin, arrived_at) VALUES (?, ?, ?, ?, ?)').run(result.serial, opened.sender.id, via, origin, Date.now());
    audit(ctx, { actor: reader.id, action: 'directory.applied', object: String(result.serial), detail: { authority: result.authorityName, fingerprint: result.fingerprint, certificates: result.certificates, revocations: result.revocations, keyChanged: result.keyChanged, sender: opened.sender.id, source: via, origin } });
    let acknowledged = false;
    try {
      await sendReceipt(ctx, reader, opened.sender, { type: 'directory-applied', serial: result.serial }, replyFolder ? { folder: replyFolder } : 'mail');
      acknowledged = true;
    } catch (error) {
      audit(ctx, { actor: reader.id, action: 'object.sent', object: String(result.serial), outcome: 'failed', detail: { kind: 'receipt', reason: error instanceof PliError ? error.code : 'error' } });
    }
    return { result: 'applied', serial: result.serial, acknowledged };
  } catch (error) {
    if (!(error instanceof PliError)) throw error;
    if (error.code === 'rollback') {
      const serial = claimedSerial(opened.object.text);
      audit(ctx, { action: 'directory.ignored', object: serial === null ? null : String(serial), detail: { current: before.serial, sender: opened.sender.id, source: via, origin } });
      return { result: 'ignored', serial, current: before.serial };
    }
    audit(ctx, { action: 'directory.applied', object: null, outcome: 'refused', detail: { reason: error.code, sender: opened.sender.id, source: via, origin } });
    return { result: 'refused', error };
  }
}

export interface DirectoryStatus {
  pinned: boolean;
  authority?: string;
  serial?: number;
  issued?: number;
  nextUpdate?: number;
  refuseAfter?: number;
  state?: 'fresh' | 'soon' | 'stale' | 'expired';
  /** How the current directory arrived: a pushed object (imap/folder), else the file import. */
  arrival?: { via: 'import' | 'imap' | 'folder'; at: number; issuer: string | null; issuerName: string | null; origin: string | null };
  /** Whom to call past nextUpdate: the authority's officers as this workstation knows them. */
  officers?: { id: string; name: string; email: string }[];
  /** The officer's workstation: each organisation published to, and what it acknowledged. */
  organisations?: { org: string; published: number; publishedAt: number; acknowledged: number | null; acknowledgedAt: number | null; workstations: { signer: string; name: string | null; serial: number; at: number }[] }[];
}

/** `pli directory status`: the serial, its issuer, when and how it came, nextUpdate, acknowledgements. */
export function directoryStatus(db: DB, now = Date.now()): DirectoryStatus {
  const trust = getTrust(db);
  if (!trust) return { pinned: false };
  const fresh = directoryFreshness(db, now);
  const state = fresh.state === 'fresh' ? (trust.next_update - now <= PUBLISH_WARNING_MS ? 'soon' : 'fresh') : (fresh.state as 'stale' | 'expired');
  const arrivalRow = db.prepare('SELECT * FROM directory_arrivals WHERE serial = ?').get(trust.serial) as { via: 'imap' | 'folder'; arrived_at: number; issuer: string; origin: string | null } | undefined;
  const arrival = arrivalRow
    ? { via: arrivalRow.via, at: arrivalRow.arrived_at, issuer: arrivalRow.issuer, issuerName: getIdentity(db, arrivalRow.issuer)?.name ?? null, origin: arrivalRow.origin }
    : { via: 'import' as const, at: trust.imported_at, issuer: null, issuerName: null, origin: null };
  const officers = listIdentities(db).flatMap((row) => {
    const c = certificateState(db, row.id, now);
    return c.state === 'valid' && c.role === 'officer' ? [{ id: row.id, name: row.name, email: row.email }] : [];
  });
  const status: DirectoryStatus = {
    pinned: true, authority: trust.name, serial: trust.serial, issued: trust.issued, nextUpdate: trust.next_update,
    refuseAfter: fresh.refuseAfter, state, arrival, officers,
  };
  if (getAuthority(db)) {
    const published = db.prepare('SELECT org, MAX(serial) AS serial, MAX(published_at) AS at FROM directory_publications GROUP BY lower(org) ORDER BY org').all() as { org: string; serial: number; at: number }[];
    status.organisations = published.map((p) => {
      const acks = db.prepare("SELECT signer_id, MAX(serial) AS serial, MAX(at) AS at FROM receipts WHERE type = 'directory-applied' AND state = 'matched' AND lower(org) = lower(?) GROUP BY signer_id ORDER BY signer_id")
        .all(p.org) as { signer_id: string; serial: number; at: number }[];
      const best = acks.reduce<{ serial: number; at: number } | null>((m, a) => (!m || a.serial > m.serial ? { serial: a.serial, at: a.at } : m), null);
      return {
        org: p.org, published: p.serial, publishedAt: p.at, acknowledged: best?.serial ?? null, acknowledgedAt: best?.at ?? null,
        workstations: acks.map((a) => ({ signer: a.signer_id, name: getIdentity(db, a.signer_id)?.name ?? null, serial: a.serial, at: a.at })),
      };
    });
  }
  return status;
}
