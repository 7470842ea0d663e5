// What `receive` does with Pli objects (docs/objects.md 2): tries a candidate as an object, hands
// it to its kind (receipt, directory), and after an ordinary container was stored, sends its
// "remis" receipt. One receiver per receive round; the person whose keys read the objects and sign
// the receipts is unlocked once, when first needed, and wiped by release().
import type { IdentityRow, UnlockedIdentity } from '../profile/identities.js';
import { getIdentity, resolveOwn } from '../profile/identities.js';
import { audit, type Context } from '../context.js';
import { PliError } from '../errors.js';
import type { IngestResult } from './inbox.js';
import { isObjectName, openObject, type ObjectKind } from './objects.js';
import { BATCH_RECEIPT_MAX, receiveReceipt, sendDeliveredReceipt, type DeliveredEntry } from './receipts.js';
import { applyPushedDirectory } from './publish.js';

/** What became of one object, as data: each front end words it (cli/mail.ts, the interface). */
export interface ObjectResult {
  name: string;
  kind: ObjectKind | null;
  /** stored: a receipt recorded; duplicate: already recorded; set-aside: names nothing sent from here;
   * applied / ignored: a directory; refused: see code; skipped: not addressed to this workstation's reader. */
  result: 'stored' | 'duplicate' | 'set-aside' | 'applied' | 'ignored' | 'refused' | 'skipped';
  code?: string;
  message?: string;
  /** Receipts: type, container, signer; directories: serial (and current when ignored). */
  receipt?: { type: string; container: string | null; signer: string; signerName: string | null; at: number; verdict: string | null; serial: number | null; count?: number };
  serial?: number | null;
  current?: number;
  acknowledged?: boolean;
}

export interface ObjectReceiverOptions {
  /** The own identity that reads objects and signs receipts (else the only one of this workstation). */
  as?: string;
  /** Folder transport: receipts are written back into this folder. */
  replyFolder?: string;
}

export class ObjectReceiver {
  private reader: UnlockedIdentity | null | undefined;
  /** Outbox rows queued during this round (receipts to send by mail). */
  readonly queued: number[] = [];
  /** "remis" entries waiting for their receipt, by sender (made by receiptsForBatch). */
  private readonly pending = new Map<string, { sender: IdentityRow; entries: DeliveredEntry[] }>();

  constructor(private readonly ctx: Context, private readonly options: ObjectReceiverOptions = {}) {}

  /** The person reading objects and signing receipts; null when none can be unlocked (said once in the log). */
  private async unlocked(): Promise<UnlockedIdentity | null> {
    if (this.reader !== undefined) return this.reader;
    try {
      this.reader = await this.ctx.unlocker.unlock(resolveOwn(this.ctx.profile.db, this.options.as));
    } catch (error) {
      if (!(error instanceof PliError)) throw error;
      this.reader = null;
    }
    return this.reader;
  }

  /**
   * `bytes` named `name`: if the name marks an object candidate and it opens as one for this
   * workstation's reader, it is handled here and its result returned; null: handle it as an
   * ordinary container (the inbox).
   */
  async take(bytes: Buffer, source: 'imap' | 'folder', origin: string, name: string): Promise<ObjectResult | null> {
    if (!isObjectName(name)) return null;
    const reader = await this.unlocked();
    if (!reader) return null;
    const outcome = await openObject(this.ctx, bytes, reader);
    if ('notObject' in outcome) {
      // Our own receipts written into a shared exchange folder, or an object for another
      // organisation: not ours to read, and not a container for the inbox either.
      if (outcome.notObject === 'not-addressed') return { name, kind: null, result: 'skipped' };
      return null;
    }
    if ('refused' in outcome) {
      audit(this.ctx, { action: 'object.refused', object: null, outcome: 'refused', detail: { reason: outcome.refused.code, source, origin } });
      return { name, kind: null, result: 'refused', code: outcome.refused.code, message: outcome.refused.message };
    }
    const opened = outcome.opened;
    if (opened.object.kind === 'receipt') {
      const r = await receiveReceipt(this.ctx, opened, source, origin);
      if (r.result === 'refused') return { name, kind: 'receipt', result: 'refused', code: r.error.code, message: r.error.message };
      return {
        name, kind: 'receipt', result: r.result,
        receipt: { type: r.row.type, container: r.row.container_id, signer: r.row.signer_id, signerName: getIdentity(this.ctx.profile.db, r.row.signer_id)?.name ?? null, at: r.row.at, verdict: r.row.verdict, serial: r.row.serial, count: r.rows.length },
      };
    }
    if (opened.object.kind === 'directory') {
      const d = await applyPushedDirectory(this.ctx, opened, reader, source, origin, this.options.replyFolder);
      if (d.result === 'refused') return { name, kind: 'directory', result: 'refused', code: d.error.code, message: d.error.message };
      if (d.result === 'ignored') return { name, kind: 'directory', result: 'ignored', serial: d.serial, current: d.current };
      this.collectQueued();
      return { name, kind: 'directory', result: 'applied', serial: d.serial, acknowledged: d.acknowledged };
    }
    audit(this.ctx, { action: 'object.refused', object: opened.containerId, outcome: 'refused', detail: { reason: 'unknown-object', source, origin } });
    return { name, kind: null, result: 'refused', code: 'unknown-object', message: `Objet Pli d'un type inconnu (${opened.object.kind.slice(0, 40)}) : refusé.` };
  }

  /**
   * After an ordinary container was stored for the first time: its "remis" entry is kept for the
   * receipt of its sender's organisation, made by receiptsForBatch (one receipt per sender for
   * the batch: docs/objects.md 3.1). The caller makes them before the batch's rows commit, in the
   * same transaction when it batches its writes, so that a stored container never loses its receipt.
   */
  async ingested(result: IngestResult): Promise<void> {
    const row = result.row;
    if (!result.isNew || !row.container_id || !row.sender_id) return;
    const sender = getIdentity(this.ctx.profile.db, row.sender_id);
    // Unknown or own senders get none (nobody to encrypt to, or nobody to tell).
    if (!sender || sender.own === 1) return;
    const entry: DeliveredEntry = { container: row.container_id, sha256: row.sha256, verdict: row.state === 'refused' ? 'refused' : 'verified', reason: row.state === 'refused' ? row.reason : null };
    // The same container id twice in a batch (other bytes, each with its own verdict): the list so
    // far leaves first, as a receipt names each container once (docs/objects.md 3.1).
    const kept = this.pending.get(sender.id);
    if (kept?.entries.some((e) => e.container === entry.container)) await this.sendGroup(kept);
    const group = this.pending.get(sender.id) ?? { sender, entries: [] };
    group.entries.push(entry);
    this.pending.set(sender.id, group);
    if (group.entries.length >= BATCH_RECEIPT_MAX) await this.sendGroup(group);
  }

  /** The receipts of the entries kept since the last call: one per sender. */
  async receiptsForBatch(): Promise<void> {
    for (const group of [...this.pending.values()]) await this.sendGroup(group);
  }

  private async sendGroup(group: { sender: IdentityRow; entries: DeliveredEntry[] }): Promise<void> {
    this.pending.delete(group.sender.id);
    if (group.entries.length === 0) return;
    const reader = await this.unlocked();
    if (!reader) return;
    try {
      await sendDeliveredReceipt(this.ctx, reader, group.sender, group.entries, this.options.replyFolder ? { folder: this.options.replyFolder } : 'mail');
      this.collectQueued();
    } catch (error) {
      if (!(error instanceof PliError)) throw error;
      // Not sent (the sender's organisation has no valid member, a full disk…): said in the log, for each container.
      for (const e of group.entries) audit(this.ctx, { actor: reader.id, action: 'object.sent', object: e.container, outcome: 'failed', detail: { kind: 'receipt', reason: error.code } });
    }
  }

  /** Forgets the entries kept and not yet acknowledged (their batch was rolled back). */
  dropPending(): void {
    this.pending.clear();
  }

  private collectQueued(): void {
    const ids = this.ctx.profile.db.prepare("SELECT id FROM outbox WHERE object_kind IS NOT NULL AND state = 'queued'").pluck().all() as number[];
    for (const id of ids) if (!this.queued.includes(id)) this.queued.push(id);
  }

  /** Wipes the reader's keys (end of a receive round). */
  release(): void {
    this.reader?.wipe();
    this.reader = undefined;
  }
}
