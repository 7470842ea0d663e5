// Signed receipts (docs/objects.md 3; issue 14 section 4): "remis" when a container is received
// and verified (or refused, with its code), "ouvert" when a habilitated person opens it and a
// convention asks for it, "annuaire appliqué" when a pushed directory was applied (issue 17).
//
// Invariants held here:
// - a receipt is signed twice by the same person: the object container (format.md 6) and the
//   receipt text itself (label `receipt`), so the stored text proves itself later on its own;
// - a receipt is accepted only from a person the receipt's container was addressed to (the keys
//   in the header of this workstation's own copy), and only if its inner signer is the person who
//   signed the container: anything else is refused, never stored as a delivery;
// - stored once: the receipt's random id is UNIQUE (table receipts, migration 11);
// - a receipt is never answered by a receipt (objects never pass through the inbox's ingest).
import { createHash, randomBytes } from 'node:crypto';
import type { z } from 'zod';
import { lazySchema } from '../zod.js';
import type { DB } from '../profile/profile.js';
import { getIdentity, type IdentityRow, type UnlockedIdentity } from '../profile/identities.js';
import { readInfo } from '../container/open.js';
import { bufferSource } from '../container/sinks.js';
import { getTrust } from '../authority/certificates.js';
import { storedConventions } from '../authority/convention-object.js';
import { makeAuditAnchor, readAuditAnchor, signerOf } from '../services/audit.js';
import { resolveRecipients } from '../services/policy.js';
import { actorOf, audit, type Context } from '../context.js';
import type { DecryptResult } from '../services/containers.js';
import type { InboxRow } from './inbox.js';
import { PliError, securityError } from '../errors.js';
import { dispatchObject, objectSignedBy, parseObjectText, sealObject, signObjectText, type ObjectDestination, type OpenedObject } from './objects.js';
import { readOutboxCopy, type OutboxRow } from './outbox.js';

export type ReceiptType = 'delivered' | 'opened' | 'directory-applied';

const HEX32 = /^[0-9a-f]{32}$/;
const receiptBodySchema = lazySchema((z) => z.strictObject({
  v: z.literal(1),
  type: z.enum(['delivered', 'opened', 'directory-applied']),
  id: z.string().regex(HEX32),
  signer: z.string().max(100),
  org: z.string().max(200),
  at: z.number().int().nonnegative().max(8.64e15),
  container: z.string().regex(HEX32).nullable(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/).nullable(),
  verdict: z.enum(['verified', 'refused']).nullable(),
  reason: z.string().regex(/^[a-z0-9-]{1,64}$/).nullable(),
  openedBy: z.strictObject({ id: z.string().max(100), name: z.string().max(200) }).nullable(),
  serial: z.number().int().positive().nullable(),
  anchor: z.string().max(60000).nullable(),
}));
export type ReceiptBody = z.infer<ReturnType<typeof receiptBodySchema>>;

/** Most containers one batched receipt names (a receive batch is 50: docs/objects.md 3.1). */
export const BATCH_RECEIPT_MAX = 500;
/**
 * The batched "remis" receipt (v2, docs/objects.md 3.1): one receipt per sender for the containers
 * of one receive batch, instead of one each (issue 13: 200 receipts were 200 seals, anchors and
 * messages). Only `delivered`; the same person's signature covers every entry.
 */
const batchBodySchema = lazySchema((z) => z.strictObject({
  v: z.literal(2),
  type: z.literal('delivered'),
  id: z.string().regex(HEX32),
  signer: z.string().max(100),
  org: z.string().max(200),
  at: z.number().int().nonnegative().max(8.64e15),
  containers: z.array(z.strictObject({
    container: z.string().regex(HEX32),
    sha256: z.string().regex(/^[0-9a-f]{64}$/),
    verdict: z.enum(['verified', 'refused']),
    reason: z.string().regex(/^[a-z0-9-]{1,64}$/).nullable(),
  })).min(1).max(BATCH_RECEIPT_MAX),
  anchor: z.string().max(60000).nullable(),
}));
export type BatchReceiptBody = z.infer<ReturnType<typeof batchBodySchema>>;
/** One container named by a "remis" receipt. */
export type DeliveredEntry = BatchReceiptBody['containers'][number];

/** A receipt's body, v1 or v2, with every entry it names as one v1-shaped body each (v1: itself). */
function parseReceiptBody(body: string): { entries: ReceiptBody[]; id: string; signer: string; anchor: string | null; batched: boolean } {
  const value = JSON.parse(body) as { v?: unknown };
  if (value && typeof value === 'object' && value.v === 2) {
    const b = batchBodySchema().parse(value);
    // Each container once: a list naming one twice is not a receipt this code makes.
    if (new Set(b.containers.map((c) => c.container)).size !== b.containers.length) throw new Error('container named twice');
    return {
      id: b.id, signer: b.signer, anchor: b.anchor, batched: true,
      entries: b.containers.map((c) => ({ v: 1, type: 'delivered', id: b.id, signer: b.signer, org: b.org, at: b.at, container: c.container, sha256: c.sha256, verdict: c.verdict, reason: c.reason, openedBy: null, serial: null, anchor: b.anchor })),
    };
  }
  const b = receiptBodySchema().parse(value);
  return { id: b.id, signer: b.signer, anchor: b.anchor, batched: false, entries: [b] };
}

/** The stored row id of entry `index` of a receipt: the receipt's id (v1), `<id>:<container>` (v2 entry). */
const rowIdOf = (id: string, entry: ReceiptBody, batched: boolean): string => (batched ? `${id}:${entry.container}` : id);

export interface ReceiptRow {
  id: number; receipt_id: string; type: ReceiptType; state: 'matched' | 'set-aside'; container_id: string | null; serial: number | null;
  signer_id: string; org: string; at: number; received_at: number; verdict: string | null; reason: string | null;
  opened_by: string | null; same_bytes: number | null; anchor_seq: number | null; anchor_hash: string | null; text: string;
}

export type ReceiptFields = Pick<ReceiptBody, 'type'> & Partial<Pick<ReceiptBody, 'container' | 'sha256' | 'verdict' | 'reason' | 'openedBy' | 'serial'>>;

/**
 * Signs a receipt as `signer` and sends it to the organisation of `to` (its certified members),
 * by mail to `to`'s functional mailbox or into the exchange folder. The receiving profile's audit
 * anchor goes inside when one can be signed (else null: the receipt still goes).
 */
export async function sendReceipt(ctx: Context, signer: UnlockedIdentity, to: IdentityRow, fields: ReceiptFields, destination: 'mail' | 'pending-folder' | { folder: string }): Promise<number[]> {
  const own = getIdentity(ctx.profile.db, signer.id)!;
  const anchor = await anchorOrNull(ctx, signer);
  const body: ReceiptBody = {
    v: 1, type: fields.type, id: randomBytes(16).toString('hex'), signer: signer.id, org: own.org, at: Date.now(),
    container: fields.container ?? null, sha256: fields.sha256 ?? null, verdict: fields.verdict ?? null, reason: fields.reason ?? null,
    openedBy: fields.openedBy ?? null, serial: fields.serial ?? null, anchor,
  };
  return sealAndDispatch(ctx, signer, to, body, destination);
}

/**
 * One "remis" receipt for several containers from the same sender (a receive batch): v2 with the
 * list when there are two or more, the v1 form for one (which every version reads). One audit
 * anchor, one seal, one message for the whole list.
 */
export async function sendDeliveredReceipt(ctx: Context, signer: UnlockedIdentity, to: IdentityRow, entries: DeliveredEntry[], destination: 'mail' | { folder: string }): Promise<number[]> {
  if (entries.length === 0) return [];
  if (entries.length === 1) {
    const [e] = entries as [DeliveredEntry];
    return sendReceipt(ctx, signer, to, { type: 'delivered', container: e.container, sha256: e.sha256, verdict: e.verdict, reason: e.reason }, destination);
  }
  if (entries.length > BATCH_RECEIPT_MAX) throw new Error('too many containers for one receipt');
  const own = getIdentity(ctx.profile.db, signer.id)!;
  const anchor = await anchorOrNull(ctx, signer);
  const body: BatchReceiptBody = { v: 2, type: 'delivered', id: randomBytes(16).toString('hex'), signer: signer.id, org: own.org, at: Date.now(), containers: entries, anchor };
  return sealAndDispatch(ctx, signer, to, body, destination);
}

async function anchorOrNull(ctx: Context, signer: UnlockedIdentity): Promise<string | null> {
  try {
    return await makeAuditAnchor(ctx.profile, signerOf(signer));
  } catch {
    return null; // no certificate, or a log that cannot be anchored: the receipt says nothing of it
  }
}

async function sealAndDispatch(ctx: Context, signer: UnlockedIdentity, to: IdentityRow, body: ReceiptBody | BatchReceiptBody, destination: 'mail' | 'pending-folder' | { folder: string }): Promise<number[]> {
  const db = ctx.profile.db;
  const text = await signObjectText('receipt', body, signer.current.sigSecret);
  const people = resolveRecipients(db, [`org:${to.org}`]);
  const sealed = await sealObject(ctx, 'receipt', text, signer, people);
  const where: ObjectDestination = destination === 'mail' ? { mail: [to.email] } : destination === 'pending-folder' ? { pendingFolder: true } : destination;
  return dispatchObject(ctx, sealed, signer.id, where);
}

export type ReceiptOutcome =
  /** `row`: the first entry's row; `rows`: every entry's (one for v1, the list's for a batched v2). */
  | { result: 'stored' | 'duplicate' | 'set-aside'; row: ReceiptRow; rows: ReceiptRow[] }
  | { result: 'refused'; error: PliError };

const forged = (detail: string): PliError => securityError('receipt-forged', `Accusé de réception refusé : ${detail}. Il n'a pas été enregistré ; signalez-le à l'officier SSI.`, { detail });

/** This workstation's copy of a container it sent, when it still has one: its SHA-256 and the
 * encryption keys it was addressed to. The copy is the profile's own (outbox/<container id>.pli,
 * never the row's `path`, which the profile's attacker can point anywhere), read once without
 * following a symlink and checked to be that container, signed by its sender (readOutboxCopy). */
async function sentCopy(ctx: Context, rows: OutboxRow[]): Promise<{ sha256: string; recipients: Buffer[] } | null> {
  for (const row of rows) {
    try {
      const bytes = await readOutboxCopy(ctx, row, { signature: true });
      if (!bytes) continue;
      const info = await readInfo(bufferSource(bytes));
      return { sha256: createHash('sha256').update(bytes).digest('hex'), recipients: info.header.recipients.flatMap((e) => (e.type === 'xwing' ? [e.keyFpr] : [])) };
    } catch {
      // gone, replaced or unreadable: the next row's copy, else only the destinations are left to check
    }
  }
  return null;
}

/**
 * A received receipt object: its inner signature by the container's signer, its body, then what it
 * names. Stored once; set aside (logged, kept apart) when it names nothing this workstation sent.
 * A batched receipt (v2) is checked entry by entry, and is refused whole, nothing stored, when any
 * entry would be refused alone (a signer who was not a recipient of one container it names).
 */
export async function receiveReceipt(ctx: Context, opened: OpenedObject, source: string, origin: string): Promise<ReceiptOutcome> {
  const db = ctx.profile.db;
  const refuse = (error: PliError): ReceiptOutcome => {
    audit(ctx, { action: 'receipt.received', object: opened.containerId, outcome: 'refused', detail: { reason: error.code, sender: opened.sender.id, source, origin } });
    return { result: 'refused', error };
  };
  if (!(await objectSignedBy(opened.object, 'receipt', opened.senderSigPublic))) return refuse(forged("il n'est pas signé par la personne qui l'a envoyé"));
  let parsed: ReturnType<typeof parseReceiptBody>;
  try {
    parsed = parseReceiptBody(opened.object.body);
  } catch {
    return refuse(forged('contenu non conforme'));
  }
  if (parsed.signer !== opened.sender.id) return refuse(forged(`il se dit de ${parsed.signer} mais il est signé par ${opened.sender.id}`));
  const rowIds = parsed.entries.map((e) => rowIdOf(parsed.id, e, parsed.batched));
  const getRow = db.prepare('SELECT * FROM receipts WHERE receipt_id = ?');
  const known = getRow.get(rowIds[0]) as ReceiptRow | undefined;
  if (known) return { result: 'duplicate', row: known, rows: rowIds.map((id) => getRow.get(id) as ReceiptRow | undefined).filter((r): r is ReceiptRow => r !== undefined) };

  let anchorSeq: number | null = null;
  let anchorHash: string | null = null;
  if (parsed.anchor !== null) {
    try {
      const trust = getTrust(db);
      const read = await readAuditAnchor(parsed.anchor, trust?.public_key ?? null);
      if (read.anchor.signer !== parsed.signer) throw new Error('anchor of someone else');
      anchorSeq = read.anchor.seq;
      anchorHash = read.anchor.hash;
    } catch {
      return refuse(forged("l'ancre de journal qu'il contient n'est pas valide"));
    }
  }

  const signerKeys = (db.prepare("SELECT fpr FROM keys WHERE identity_id = ? AND kind = 'xwing'").pluck().all(parsed.signer) as Buffer[]);
  const judged: { body: ReceiptBody; state: 'matched' | 'set-aside'; sameBytes: number | null }[] = [];
  for (const body of parsed.entries) {
    let state: 'matched' | 'set-aside' = 'set-aside';
    let sameBytes: number | null = null;
    if (body.type === 'directory-applied') {
      const published = db.prepare('SELECT 1 FROM directory_publications WHERE serial = ? LIMIT 1').get(body.serial ?? -1);
      if (published) state = 'matched';
    } else if (body.container) {
      const sent = db.prepare('SELECT * FROM outbox WHERE container_id = ? AND object_kind IS NULL ORDER BY id').all(body.container) as OutboxRow[];
      if (sent.length > 0) {
        const copy = await sentCopy(ctx, sent);
        const addressed = copy
          ? copy.recipients.some((r) => signerKeys.some((k) => k.equals(r)))
          : sent.some((row) => row.destination === opened.sender.email.trim().toLowerCase());
        if (!addressed) return refuse(forged(`${opened.sender.name} n'était pas destinataire de ce pli`));
        state = 'matched';
        if (copy && body.sha256) sameBytes = copy.sha256 === body.sha256 ? 1 : 0;
      }
    }
    judged.push({ body, state, sameBytes });
  }
  const now = Date.now();
  const insert = db.prepare(`INSERT OR IGNORE INTO receipts (receipt_id, type, state, container_id, serial, signer_id, org, at, received_at, verdict, reason, opened_by, same_bytes, anchor_seq, anchor_hash, text)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
  // Every entry of the receipt, or none (one transaction): a batched receipt is never half stored.
  const inserted = db.transaction(() => judged.map(({ body, state, sameBytes }, i) => {
    const changes = insert.run(rowIds[i], body.type, state, body.container, body.serial, body.signer, opened.sender.org, body.at, now,
      body.verdict, body.reason, body.openedBy ? JSON.stringify(body.openedBy) : null, sameBytes, anchorSeq, anchorHash, opened.object.text).changes;
    if (changes === 0) return false;
    const object = body.container ?? (body.serial !== null ? String(body.serial) : null);
    const detail = { type: body.type, signer: body.signer, org: opened.sender.org, at: body.at, ...(body.verdict ? { verdict: body.verdict } : {}), ...(body.reason ? { reason: body.reason } : {}), ...(sameBytes !== null ? { sameBytes: sameBytes === 1 } : {}), ...(anchorSeq !== null ? { anchorSeq } : {}), source };
    if (state === 'matched') audit(ctx, { action: 'receipt.received', object, detail });
    else audit(ctx, { action: 'receipt.set-aside', object, detail: { ...detail, origin } });
    return true;
  }))();
  const rows = rowIds.map((id) => getRow.get(id) as ReceiptRow);
  if (!inserted[0]) return { result: 'duplicate', row: rows[0]!, rows };
  return { result: judged.some((j) => j.state === 'matched') ? 'stored' : 'set-aside', row: rows[0]!, rows };
}

export function listReceipts(db: DB, options: { container?: string; includeSetAside?: boolean } = {}): ReceiptRow[] {
  const rows = options.container
    ? db.prepare('SELECT * FROM receipts WHERE container_id = ? ORDER BY at, id').all(options.container)
    : db.prepare('SELECT * FROM receipts ORDER BY at, id').all();
  return (rows as ReceiptRow[]).filter((r) => options.includeSetAside || r.state === 'matched');
}

/** The receipt state of a container sent from here, for `pli due`, the outbox and the register. */
export function deliveryOf(db: DB, containerId: string): { state: 'sent' | 'delivered' | 'opened'; receipts: ReceiptRow[] } {
  const receipts = listReceipts(db, { container: containerId });
  const state = receipts.some((r) => r.type === 'opened') ? 'opened' : receipts.some((r) => r.type === 'delivered' && r.verdict === 'verified') ? 'delivered' : 'sent';
  return { state, receipts };
}

/**
 * Whether the opening of a container from `sender` is to be acknowledged: the convention named
 * in the opened manifest asks for it (openReceipts), or — when the manifest names none — an
 * active convention of this workstation with open receipts has both the sender's organisation
 * and the opener's as parties.
 */
export async function openReceiptWanted(db: DB, sender: IdentityRow, opener: IdentityRow, conventionId: string | null): Promise<boolean> {
  const same = (a: string, b: string) => a.trim().toLowerCase() === b.trim().toLowerCase();
  for (const { body } of await storedConventions(db)) {
    if (body.status.state !== 'active' || !body.openReceipts) continue;
    if (conventionId !== null) {
      if (body.id === conventionId) return true;
      continue;
    }
    if (body.parties.some((p) => same(p.org, sender.org)) && body.parties.some((p) => same(p.org, opener.org))) return true;
  }
  return false;
}

/** The convention named in an opened container's manifest (its convention fields, docs/convention.md
 * 7, checked against the convention's list before any file was written), or null when it names none. */
export function conventionOfOpened(result: Pick<DecryptResult, 'convention'>): string | null {
  return result.convention?.id ?? null;
}

/**
 * After `pli open`: the "ouvert" receipt, when the convention asks for it, signed by the person
 * who opened it, to the sender's organisation, by the transport the container came by (folder:
 * kept until the next `receive --folder`, which writes it into the exchange folder). Never fails
 * the opening: a receipt that cannot be sent is said in the log.
 */
export async function sendOpenedReceipt(ctx: Context, row: InboxRow, result: DecryptResult): Promise<boolean> {
  const db = ctx.profile.db;
  const sender = getIdentity(db, result.senderId);
  const openerId = actorOf(ctx);
  const opener = openerId ? getIdentity(db, openerId) : undefined;
  if (!sender || sender.own === 1 || !opener || opener.own !== 1 || !row.container_id) return false;
  if (!(await openReceiptWanted(db, sender, opener, conventionOfOpened(result)))) return false;
  let unlocked: UnlockedIdentity | null = null;
  try {
    unlocked = await ctx.unlocker.unlock(opener);
    await sendReceipt(ctx, unlocked, sender, { type: 'opened', container: row.container_id, sha256: row.sha256, openedBy: { id: opener.id, name: opener.name } },
      row.source === 'folder' ? 'pending-folder' : 'mail');
    return true;
  } catch (error) {
    if (!(error instanceof PliError)) throw error;
    audit(ctx, { actor: opener.id, action: 'object.sent', object: row.container_id, outcome: 'failed', detail: { kind: 'receipt', reason: error.code } });
    return false;
  } finally {
    unlocked?.wipe();
  }
}

export interface PartnerAnchor { signer: string; org: string; seq: number; hash: string; at: number; receivedAt: number; text: string }

/**
 * The partner's signed audit anchors kept from its receipts (docs/objects.md 3.3), for the
 * partner's workstation to prove later that its log still holds them (`audit verify --anchor`).
 * `from` is an organisation (as in its certificates) or a person's id. Each anchor is read again
 * from the stored receipt text and authenticated again (card, signature, certificate under this
 * workstation's authority): a row planted or edited with the database is never handed on as the
 * partner's word; it is counted in `rejected`. One anchor per signer and entry number.
 */
export async function partnerAnchors(db: DB, from: string): Promise<{ anchors: PartnerAnchor[]; rejected: number }> {
  const wanted = from.trim().toLowerCase();
  const rows = listReceipts(db, { includeSetAside: true })
    .filter((r) => r.anchor_seq !== null && (r.signer_id === from || r.org.trim().toLowerCase() === wanted));
  const trust = getTrust(db);
  const seen = new Set<string>();
  const anchors: PartnerAnchor[] = [];
  let rejected = 0;
  for (const row of rows) {
    try {
      const object = parseObjectText(row.text);
      const body = object ? parseReceiptBody(object.body) : null;
      if (!body?.anchor || body.signer !== row.signer_id) throw new Error('no anchor');
      const read = await readAuditAnchor(body.anchor, trust?.public_key ?? null);
      if (read.anchor.signer !== body.signer) throw new Error('anchor of someone else');
      const key = `${read.anchor.signer} ${read.anchor.seq} ${read.anchor.hash}`;
      if (seen.has(key)) continue;
      seen.add(key);
      anchors.push({ signer: read.anchor.signer, org: row.org, seq: read.anchor.seq, hash: read.anchor.hash, at: read.anchor.at, receivedAt: row.received_at, text: body.anchor });
    } catch {
      rejected += 1;
    }
  }
  return { anchors: anchors.sort((a, b) => a.at - b.at || a.seq - b.seq), rejected };
}
