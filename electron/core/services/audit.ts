// The tamper-evident audit log (docs/audit.md): signed checkpoints, verification that names the
// first bad entry, CSV export with a detached signature, and the list of habilitated people.
// Nothing here updates or deletes an audit row.
import { createHash, hash as hashOnce } from 'node:crypto';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { closeSync, openSync, readFileSync, readSync, rmSync } from 'node:fs';
import type { z } from 'zod';
import { lazySchema } from '../zod.js';
import type { DB, Profile } from '../profile/profile.js';
import { GENESIS, appendEvent, eachEvent, eachEventLine, type EventFields, type Outcome } from '../profile/events.js';
import { ed25519Sign, ed25519Verify } from '../crypto/keys.js';
import { fingerprint, sha256, signedDigest } from '../crypto/primitives.js';
import { SIGNATURE_LABELS } from '../crypto/labels.js';
import { getIdentity, keyByFingerprint, listIdentities, resolveOwn, verifyCard, type UnlockedIdentity, type VerifiedCard } from '../profile/identities.js';
import { certificateState, describeState, getTrust, revocationOf, verifyCertificate, type CertificateState, type TrustRow } from '../authority/certificates.js';
import { inputError, PliError, securityError } from '../errors.js';
import { writeFault } from '../faults.js';
import { actorOf, audit, type Context, type Scope } from '../context.js';
import { requireRole } from './policy.js';
import { placeNoReplace, somethingAt, writeNewFileSync } from '../files.js';
import { refuseProfileFile } from '../own-files.js';
import { loadChainCheck, verifySegment, type ChainCheck, type SegmentJob, type SegmentResult } from './audit-segment.js';
import { gcmAddonFile } from '../container/gcm.js';
import type { SegmentAnswer, SegmentWorkerData } from './audit-segment.worker.js';
import { workerEntry } from '../workers.js';
import { formatFingerprint } from '../../../shared/ids.js';

// ---- checkpoint formats (docs/audit.md section 3) ----------------------------------------------

const ZERO32 = Buffer.alloc(32);
/** v2 checkpoints and anchors have their own labels (crypto/labels.ts), distinct from v1's. */
const CHECKPOINT_V2_LABEL = Buffer.from(SIGNATURE_LABELS.auditCheckpointV2, 'ascii');
const ANCHOR_LABEL = Buffer.from(SIGNATURE_LABELS.auditAnchor, 'ascii');

const u64 = (n: number): Buffer => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(n));
  return b;
};

/** v1 (before migration 6): the head alone, signed; kept to verify rows of upgraded profiles. */
function checkpointDigestV1(seq: number, hash: Buffer, at: number, signer: string): Buffer {
  return signedDigest('auditCheckpoint', u64(seq), hash, u64(at), Buffer.from(signer, 'ascii'));
}

interface CheckpointFields { counter: number; prev: Buffer; seq: number; hash: Buffer; at: number; doc: string; signer: string }

/** v2: chained to the previous checkpoint (its hash) with a counter, bound to the signer's card or certificate text. */
function checkpointDigestV2(c: CheckpointFields): Buffer {
  return sha256(CHECKPOINT_V2_LABEL, u64(c.counter), c.prev, u64(c.seq), c.hash, u64(c.at), sha256(Buffer.from(c.doc, 'utf8')), Buffer.from(c.signer, 'ascii'));
}

interface CheckpointRow {
  id: number; seq: number; head_hash: Buffer; at: number; signer_id: string; sig_fpr: Buffer; signature: Buffer;
  v: number; counter: number | null; prev_hash: Buffer | null; signer_doc: string | null;
}

const digestOf = (cp: CheckpointRow): Buffer => (cp.v === 2
  ? checkpointDigestV2({ counter: cp.counter ?? 0, prev: cp.prev_hash ?? ZERO32, seq: cp.seq, hash: cp.head_hash, at: cp.at, doc: cp.signer_doc ?? '', signer: cp.signer_id })
  : checkpointDigestV1(cp.seq, cp.head_hash, cp.at, cp.signer_id));
/** A checkpoint's hash (what the next one chains to, what an anchor names) is its signed digest. */
const checkpointHash = digestOf;

/** `ownSigFprs`: the fingerprints of all the person's signing keys, retired ones included, as
 * proven by unlocking their sealed secrets (optional). */
export interface CheckpointSigner { id: string; sigSecret: Uint8Array; sigFpr: Buffer; ownSigFprs?: Buffer[] }

export const signerOf = (identity: UnlockedIdentity): CheckpointSigner => ({
  id: identity.id, sigSecret: identity.current.sigSecret, sigFpr: identity.current.sigFpr, ownSigFprs: identity.keySets.map((k) => k.sigFpr),
});

// ---- who may sign a checkpoint: this profile's own people, proven by signed data ---------------

/** `strong`: proven by itself (a certificate under the pinned authority; without an authority, the
 * self-signed card of an own identity). Weak: only a key (retired key of a v1 row, card not
 * certified while an authority is pinned, certificate of a former authority): accepted only when
 * a later strong checkpoint chains over it, since its writer verified the checkpoint it chained to. */
type SignerCheck = { key: Buffer; strong: boolean } | { problem: string };

const isOwn = (db: DB, id: string): boolean => db.prepare('SELECT 1 FROM identities WHERE id = ? AND own = 1').pluck().get(id) === 1;

/** The newest certificate of `id` for this signing key that verifies under the pinned authority. */
async function certifiedText(db: DB, trust: TrustRow, id: string, sigFpr: Buffer): Promise<string | null> {
  const texts = db.prepare('SELECT text FROM certificates WHERE identity_id = ? AND sig_fpr = ? ORDER BY issued DESC, serial DESC').pluck().all(id, sigFpr) as string[];
  for (const text of texts) {
    try {
      const cert = await verifyCertificate(text, trust.public_key);
      if (cert.body.id === id && cert.sigFpr.equals(sigFpr)) return text;
    } catch {
      // Not under the pinned authority (or damaged): look at the next one.
    }
  }
  return null;
}

async function verifiedCard(text: string): Promise<VerifiedCard | null> {
  try {
    return await verifyCard(text);
  } catch {
    return null;
  }
}

/** Resolves checkpoint signers once per distinct signer document (a verification pass sees few). */
class SignerResolver {
  private readonly trust: TrustRow | undefined;
  private readonly cache = new Map<string, Promise<SignerCheck>>();
  constructor(private readonly db: DB) {
    this.trust = getTrust(db);
  }

  check(cp: CheckpointRow): Promise<SignerCheck> {
    const key = `${cp.v}|${cp.signer_id}|${cp.sig_fpr.toString('hex')}|${cp.signer_doc ? sha256(Buffer.from(cp.signer_doc, 'utf8')).toString('hex') : ''}`;
    let found = this.cache.get(key);
    if (!found) {
      found = cp.v === 2 ? this.fromDocument(cp) : this.fromProfile(cp);
      this.cache.set(key, found);
    }
    return found;
  }

  private async strength(id: string, sigFpr: Buffer): Promise<boolean> {
    return !this.trust || (await certifiedText(this.db, this.trust, id, sigFpr)) !== null;
  }

  /** v2: the card or certificate text stored with the row, which the signature also covers. */
  private async fromDocument(cp: CheckpointRow): Promise<SignerCheck> {
    const { db, trust } = this;
    if (!isOwn(db, cp.signer_id)) return { problem: `${cp.signer_id} n'est pas une personne de ce poste` };
    let kind: unknown;
    try {
      kind = (JSON.parse(cp.signer_doc ?? '') as { pli?: unknown }).pli;
    } catch {
      return { problem: 'justificatif du signataire illisible' };
    }
    if (kind === 'card') {
      const card = await verifiedCard(cp.signer_doc!);
      if (!card || card.body.id !== cp.signer_id || !card.sigFpr.equals(cp.sig_fpr)) return { problem: 'carte du signataire invalide ou étrangère à sa clé' };
      return { key: card.sigPublic, strong: await this.strength(cp.signer_id, cp.sig_fpr) };
    }
    if (kind === 'certificate') {
      if (!trust) return { problem: 'signé sous un certificat alors qu’aucune autorité n’est épinglée sur ce poste' };
      try {
        const cert = await verifyCertificate(cp.signer_doc!, trust.public_key);
        if (cert.body.id !== cp.signer_id || !cert.sigFpr.equals(cp.sig_fpr)) return { problem: 'certificat du signataire étranger à sa clé' };
        return { key: cert.sigPublic, strong: true };
      } catch {
        // A former authority's certificate (before a signed handover): its key, weakly.
        const key = keyOfUnverifiedCertificate(cp.signer_doc!, cp.signer_id);
        if (!key || !fingerprint('ed25519', key).equals(cp.sig_fpr)) return { problem: 'certificat du signataire invalide' };
        return { key, strong: await this.strength(cp.signer_id, cp.sig_fpr) };
      }
    }
    return { problem: 'justificatif du signataire inconnu' };
  }

  /** v1 (no document stored): the person's current card, a certificate under the pinned
   * authority, or, weakly, a key row of the person (retired keys of old checkpoints). */
  private async fromProfile(cp: CheckpointRow): Promise<SignerCheck> {
    const { db, trust } = this;
    const identity = getIdentity(db, cp.signer_id);
    if (!identity || identity.own !== 1) return { problem: `${cp.signer_id} n'est pas une personne de ce poste` };
    const card = await verifiedCard(identity.card);
    if (card && card.body.id === cp.signer_id && card.sigFpr.equals(cp.sig_fpr)) return { key: card.sigPublic, strong: await this.strength(cp.signer_id, cp.sig_fpr) };
    if (trust) {
      const text = await certifiedText(db, trust, cp.signer_id, cp.sig_fpr);
      if (text) return { key: (await verifyCertificate(text, trust.public_key)).sigPublic, strong: true };
    }
    const key = keyByFingerprint(db, cp.sig_fpr);
    if (key && key.kind === 'ed25519' && key.identity_id === cp.signer_id) return { key: key.public_key, strong: false };
    return { problem: 'clé du signataire inconnue' };
  }
}

function keyOfUnverifiedCertificate(text: string, id: string): Buffer | null {
  try {
    const body = JSON.parse((JSON.parse(text) as { body: string }).body) as { id?: unknown; ed25519?: unknown };
    return body.id === id && typeof body.ed25519 === 'string' ? Buffer.from(body.ed25519, 'base64') : null;
  } catch {
    return null;
  }
}

/** The signed text a new checkpoint is signed under: with an authority, the signer's certificate
 * under it (null if none: an uncertified person signs no checkpoint, the next certified one
 * covers the events); without one, the person's own self-signed card, which must match the key. */
async function signerDocument(db: DB, signer: CheckpointSigner): Promise<string | null> {
  const trust = getTrust(db);
  if (trust) return certifiedText(db, trust, signer.id, signer.sigFpr);
  const identity = getIdentity(db, signer.id);
  const card = identity && identity.own === 1 ? await verifiedCard(identity.card) : null;
  if (!card || card.body.id !== signer.id || !card.sigFpr.equals(signer.sigFpr)) {
    throw securityError('audit-signer', `La carte de ${identity?.name ?? signer.id} enregistrée sur ce poste ne correspond plus à sa clé : le profil a été modifié. Aucun point de contrôle n'a été signé ; conservez ce poste en l'état et prévenez l'officier SSI.`);
  }
  return card.text;
}

/** How many checkpoints there are up to `id`, included: the counter of the checkpoint `id`. Counted
 * up to it, not in the whole table: another program may append checkpoints meanwhile (docs/audit.md 3.3). */
const checkpointsUpTo = (db: DB, id: number): number => db.prepare('SELECT COUNT(*) FROM audit_checkpoints WHERE id <= ?').pluck().get(id) as number;

const lastCheckpointRow = (db: DB): CheckpointRow | undefined => db.prepare('SELECT * FROM audit_checkpoints ORDER BY id DESC LIMIT 1').get() as CheckpointRow | undefined;

/** Verifies what a new checkpoint would chain onto: the last checkpoint (format, place in the
 * chain, signer, signature) and the entries since it (numbers, columns, hashes). Only the new
 * entries are hashed: cheap at every command. Returns the first problem, or null. */
async function checkSinceLastCheckpoint(db: DB, last: CheckpointRow | undefined, headSeq: number, signer?: CheckpointSigner): Promise<{ seq: number; problem: string } | null> {
  if (!last) {
    const full = await verifyAudit(db);
    return full.ok ? null : full.firstBad!;
  }
  // Only the rows up to `last`: another program may append checkpoints while this one checks
  // (append-only tables: what `last` chains onto cannot change, what follows it may grow).
  const total = checkpointsUpTo(db, last.id);
  if (last.v === 1 && (db.prepare('SELECT COUNT(*) FROM audit_checkpoints WHERE v = 2 AND id < ?').pluck().get(last.id) as number) > 0) {
    return { seq: last.seq, problem: `point de contrôle à l'ancien format (v1) ajouté après les points de contrôle chaînés` };
  }
  if (last.v === 2) {
    const previous = db.prepare('SELECT * FROM audit_checkpoints WHERE id < ? ORDER BY id DESC LIMIT 1').get(last.id) as CheckpointRow | undefined;
    if (last.counter !== total || !(last.prev_hash ?? Buffer.alloc(0)).equals(previous ? checkpointHash(previous) : ZERO32)) {
      return { seq: last.seq, problem: `chaîne des points de contrôle rompue au dernier point de contrôle (n° ${last.counter ?? '?'} sur ${total})` };
    }
  } else if (last.v !== 1) {
    return { seq: last.seq, problem: `point de contrôle de format inconnu (v${last.v})` };
  }
  const lastSigner = await new SignerResolver(db).check(last);
  if ('problem' in lastSigner) return { seq: last.seq, problem: `dernier point de contrôle (entrée n° ${last.seq}) : ${lastSigner.problem}` };
  // A key only the keys table knows (a v1 row signed before a rotation) is justified when it is one
  // of the signing person's own keys, proven by their unlocked secrets.
  const provenBySigner = signer !== undefined && last.signer_id === signer.id && (signer.ownSigFprs ?? []).some((f) => f.equals(last.sig_fpr));
  if (!lastSigner.strong && !provenBySigner) return { seq: last.seq, problem: `dernier point de contrôle (entrée n° ${last.seq}) signé par une clé que ni une carte de ce poste ni un certificat de l'autorité ne justifient` };
  if (!(await ed25519Verify(lastSigner.key, digestOf(last), last.signature))) return { seq: last.seq, problem: `dernier point de contrôle (entrée n° ${last.seq}) à la signature invalide` };
  if (last.seq > headSeq) return { seq: headSeq + 1, problem: `journal tronqué : le point de contrôle signé couvre ${last.seq} entrées, il n'en reste que ${headSeq}` };
  const anchorRow = db.prepare('SELECT hash FROM events WHERE seq = ?').pluck().get(last.seq) as Buffer | undefined;
  if (!anchorRow) return { seq: last.seq, problem: `entrée n° ${last.seq} supprimée ou renumérotée` };
  if (!anchorRow.equals(last.head_hash)) return { seq: last.seq, problem: `historique réécrit avant le point de contrôle signé de l'entrée n° ${last.seq}` };
  const rows = db.prepare('SELECT seq, at, canonical, hash FROM events WHERE seq > ? ORDER BY seq').raw().iterate(last.seq) as IterableIterator<[number, number, Buffer, Buffer]>;
  let previous = last.head_hash;
  let expected = last.seq + 1;
  for (const [seq, at, canonical, stored] of rows) {
    if (seq !== expected) return { seq: Math.min(seq, expected), problem: `entrée n° ${Math.min(seq, expected)} supprimée, insérée ou renumérotée` };
    const prefix = Buffer.from(`[1,${seq},${at},`, 'utf8');
    if (!canonical.subarray(0, prefix.length).equals(prefix)) return { seq, problem: `entrée n° ${seq} modifiée (son numéro ou sa date ne correspondent plus à sa forme enregistrée)` };
    const computed = hashOnce('sha256', Buffer.concat([previous, canonical]), 'buffer');
    if (!computed.equals(stored)) return { seq, problem: `entrée n° ${seq} modifiée, insérée ou déplacée (chaînage rompu)` };
    previous = stored;
    expected++;
  }
  return null;
}

/** The refusal event a profile's last refused checkpoint appended (this process only). */
const refusedAt = new WeakMap<Profile, number>();

/** Signs the current chain head with an unlocked person's key, unless nothing new was appended.
 * Security invariant: it never signs over a break. The entries since the last checkpoint and
 * that checkpoint itself are verified first; a problem is written to the log and thrown
 * (security error naming the first bad entry), and no checkpoint is written. */
export async function writeCheckpoint(profile: Profile, identity: CheckpointSigner, now = Date.now()): Promise<boolean> {
  const db = profile.db;
  // Another process may append a checkpoint meanwhile: then chain onto it (a few tries).
  for (let attempt = 0; attempt < 3; attempt++) {
    // The last checkpoint before the head: a checkpoint is written after its entry, and both
    // tables only grow, so a head read after it is at or past it whatever another program
    // appends meanwhile (read the other way round, that program's new checkpoint could be past
    // the head read: a truncation that is not one).
    const last = lastCheckpointRow(db);
    const head = db.prepare('SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1').get() as { seq: number; hash: Buffer } | undefined;
    if (!head) return false;
    // Refused already, nothing appended since (e.g. the CLI's end-of-command checkpoint right
    // after a service's): not signed, and not reported twice.
    if (refusedAt.get(profile) === head.seq) return false;
    const bad = await checkSinceLastCheckpoint(db, last, head.seq, identity);
    if (bad) {
      const refused = appendEvent(db, profile.workstation, { actor: identity.id, action: 'audit.checkpoint-refused', outcome: 'refused', detail: { firstBad: bad.seq } });
      refusedAt.set(profile, refused.seq);
      throw securityError('audit-tampered', `Journal d'audit altéré : ${bad.problem}. Première entrée en cause : n° ${bad.seq}. Aucun point de contrôle n'a été signé par-dessus ; conservez ce poste en l'état et prévenez l'officier SSI.`);
    }
    if (last && last.seq >= head.seq) return false;
    const doc = await signerDocument(db, identity);
    if (doc === null) return false;
    const counter = (last ? checkpointsUpTo(db, last.id) : 0) + 1; // the one after `last`, as `prev` says
    const fields: CheckpointFields = { counter, prev: last ? checkpointHash(last) : ZERO32, seq: head.seq, hash: head.hash, at: now, doc, signer: identity.id };
    const signature = Buffer.from(await ed25519Sign(identity.sigSecret, checkpointDigestV2(fields)));
    const written = db.transaction((): boolean => {
      if (lastCheckpointRow(db)?.id !== last?.id) return false;
      db.prepare('INSERT INTO audit_checkpoints (seq, head_hash, at, signer_id, sig_fpr, signature, v, counter, prev_hash, signer_doc) VALUES (?, ?, ?, ?, ?, ?, 2, ?, ?, ?)')
        .run(head.seq, head.hash, now, identity.id, identity.sigFpr, signature, counter, fields.prev, doc);
      return true;
    }).immediate();
    if (written) return true;
  }
  return false;
}

export interface VerifyResult {
  ok: boolean;
  events: number;
  checkpoints: number;
  lastCheckpoint: number | null;
  firstBad?: { seq: number; problem: string };
}

/** From this many events on, the chain is verified on two threads (1 million in about 2 s here). */
const PARALLEL_FROM = 50_000;

const sqlitePath = createRequire(import.meta.url).resolve('better-sqlite3');

/** A segment verified on a worker thread of its own (audit-segment.worker.ts), on its own
 * read-only connection. */
function verifySegmentInWorker(job: SegmentJob): Promise<SegmentResult> {
  return new Promise((resolve, reject) => {
    const entry = workerEntry('audit-segment', import.meta.url); // throws (rejects) if the file is missing
    const workerData: SegmentWorkerData = { sqlitePath, addon: gcmAddonFile(), job };
    const worker = new Worker(entry.file, { eval: entry.eval, execArgv: entry.execArgv, workerData });
    worker.once('message', (result: SegmentAnswer) => {
      void worker.terminate();
      resolve(result);
    });
    worker.once('error', reject);
  });
}

let chainCheck: ChainCheck | null | undefined;
/** The addon's chain walk in this thread (loaded once), or null for the JavaScript one. */
const localChainCheck = (): ChainCheck | null => (chainCheck === undefined ? (chainCheck = loadChainCheck(gcmAddonFile())) : chainCheck);

/** Which walk verifies the chain here (the benchmarks print it). */
export const chainWalkBackend = (): 'addon' | 'javascript' => (localChainCheck() ? 'addon' : 'javascript');

/** One pass over the chain, hashing the stored canonical bytes, then the signed checkpoints. */
export async function verifyAudit(db: DB): Promise<VerifyResult> {
  let count = 0;
  const hashes = new Map<number, Buffer>();
  // The checkpoints first, once, and the entries after them: another program may append both
  // while this one verifies; each checkpoint is written after its entry, and both tables only
  // grow, so every checkpoint read here names an entry the reads below see. (Read the other way
  // round, a checkpoint appended in between named an entry never hashed here: a false alarm.)
  const checkpoints = db.prepare('SELECT * FROM audit_checkpoints ORDER BY id').all() as CheckpointRow[];
  const checkpointSeqs = new Set(checkpoints.map((cp) => cp.seq));
  const fail = (seq: number, problem: string): VerifyResult => ({ ok: false, events: count, checkpoints: checkpointSeqs.size, lastCheckpoint: null, firstBad: { seq, problem } });
  const bounds = db.prepare('SELECT MIN(seq) AS min, MAX(seq) AS max FROM events').get() as { min: number | null; max: number | null };
  const total = bounds.max ?? 0;
  count = total;
  // The chain, hashing exactly the stored canonical bytes. A large log is cut in two segments
  // verified in parallel on two threads: the second starts from the stored hash that ends the
  // first, and the first checks that stored hash, so together they check the whole chain.
  const start = (seq: number): Buffer => (seq === 0 ? GENESIS : ((db.prepare('SELECT hash FROM events WHERE seq = ?').pluck().get(seq) as Buffer | undefined) ?? GENESIS));
  const segments = total >= PARALLEL_FROM ? [[1, Math.floor(total / 2)], [Math.floor(total / 2) + 1, total]] : [[1, total]];
  const wanted = [...checkpointSeqs];
  const parallel = segments.length > 1 && db.name !== ':memory:';
  const chain = total === 0 ? Promise.resolve([] as SegmentResult[]) : Promise.all(segments.map(([from, to]) => {
    const job: SegmentJob = { file: db.name, from: from!, to: to!, start: start(from! - 1), checkpoints: wanted };
    return parallel ? verifySegmentInWorker(job) : Promise.resolve(verifySegment(job, db, localChainCheck()));
  }));
  chain.catch(() => {});
  // Meanwhile, the numbering inside SQLite (no per-row JavaScript): numbers 1..N without gaps.
  // That the indexed columns (seq, at) agree with the canonical bytes is checked by the segments,
  // in the same pass over the rows as the chain (audit-segment.ts).
  const problems: { seq: number; problem: string }[] = [];
  if ((bounds.min ?? 1) < 1) problems.push({ seq: bounds.min!, problem: `entrée n° ${bounds.min} insérée hors séquence` });
  const rowCount = db.prepare('SELECT COUNT(*) FROM events').pluck().get() as number;
  if (rowCount !== total) {
    const gap = db.prepare(`SELECT CASE WHEN NOT EXISTS (SELECT 1 FROM events WHERE seq = 1) THEN 1
      ELSE (SELECT e.seq + 1 FROM events e WHERE e.seq >= 1 AND e.seq < (SELECT MAX(seq) FROM events)
        AND NOT EXISTS (SELECT 1 FROM events f WHERE f.seq = e.seq + 1) ORDER BY e.seq LIMIT 1) END`).pluck().get() as number | null;
    if (gap !== null) problems.push({ seq: gap, problem: `entrée n° ${gap} supprimée ou renumérotée` });
  }
  const results = await chain;
  for (const result of results) {
    if (result.bad?.kind === 'renumbered') problems.push({ seq: result.bad.seq, problem: `entrée n° ${result.bad.seq} modifiée (son numéro ou sa date ne correspondent plus à sa forme enregistrée)` });
    else if (result.bad) problems.push({ seq: result.bad.seq, problem: `entrée n° ${result.bad.seq} modifiée, insérée ou déplacée (chaînage rompu)` });
  }
  if (problems.length > 0) {
    // The first bad entry, whichever check saw it; numbering problems first at equal numbers.
    const first = problems.reduce((a, b) => (b.seq < a.seq ? b : a));
    count = rowCount;
    return fail(first.seq, first.problem);
  }
  for (const result of results) {
    for (const [seq, hash] of result.marks) hashes.set(seq, Buffer.from(hash));
  }
  // The checkpoints, in the order written: each v2 row chains to the previous row (counter and
  // hash), v1 rows (upgraded profiles) only before the first v2 one; every signer is proven by
  // signed data (SignerResolver), and a weakly proven one needs a strong one after it.
  const signers = new SignerResolver(db);
  let lastCheckpoint: number | null = null;
  let previousHash: Buffer = ZERO32;
  let previousSeq = 0;
  let seenV2 = false;
  let unconfirmed: CheckpointRow | null = null;
  for (const [index, cp] of checkpoints.entries()) {
    const failAt = (problem: string): VerifyResult => ({ ...fail(cp.seq, problem), events: count });
    if (cp.v === 1) {
      if (seenV2) return failAt(`point de contrôle de l'entrée n° ${cp.seq} à l'ancien format (v1) après un point de contrôle chaîné : ajouté après coup`);
    } else if (cp.v === 2) {
      seenV2 = true;
      if (cp.counter !== index + 1 || !(cp.prev_hash ?? Buffer.alloc(0)).equals(previousHash) || cp.seq <= previousSeq) {
        return failAt(`chaîne des points de contrôle rompue : le point de contrôle n° ${cp.counter ?? '?'} (entrée n° ${cp.seq}) ne suit pas le n° ${index} (point de contrôle supprimé, inséré ou modifié)`);
      }
    } else {
      return failAt(`point de contrôle de l'entrée n° ${cp.seq} de format inconnu (v${cp.v})`);
    }
    const signer = await signers.check(cp);
    if ('problem' in signer) return failAt(`point de contrôle sur l'entrée n° ${cp.seq} au signataire non justifié : ${signer.problem}`);
    if (!(await ed25519Verify(signer.key, digestOf(cp), cp.signature))) return failAt(`point de contrôle sur l'entrée n° ${cp.seq} à la signature invalide`);
    if (signer.strong) unconfirmed = null;
    else unconfirmed ??= cp;
    if (cp.seq > count) return { ...fail(count + 1, `journal tronqué : le point de contrôle signé couvre ${cp.seq} entrées, il n'en reste que ${count}`), events: count };
    if (!hashes.get(cp.seq)?.equals(cp.head_hash)) return failAt(`historique réécrit avant le point de contrôle signé de l'entrée n° ${cp.seq}`);
    lastCheckpoint = Math.max(lastCheckpoint ?? 0, cp.seq);
    previousHash = checkpointHash(cp);
    previousSeq = Math.max(previousSeq, cp.seq);
  }
  if (unconfirmed) {
    const cp = unconfirmed;
    return { ...fail(cp.seq, `point de contrôle sur l'entrée n° ${cp.seq} signé par une clé que ni une carte de ce poste ni un certificat de l'autorité ne justifient (signataire non certifié), et qu'aucun point de contrôle justifié ne confirme`), events: count };
  }
  return { ok: true, events: count, checkpoints: checkpoints.length, lastCheckpoint };
}

/** The events since `since`, one at a time (eachEvent). */
export const auditRows = (db: DB, since?: number): Generator<EventFields> => eachEvent(db, { since });

export interface JournalQuery { since?: number; actor?: string; action?: string; outcome?: Outcome; limit?: number }
export interface JournalPage {
  /** The last `limit` events matching the query, newest first. */
  events: EventFields[];
  /** How many match it. */
  total: number;
  /** Who and what the events since `since` name: the choices of the filters. */
  actors: string[]; actions: string[];
}

/** The Journal screen's page, in one pass over the log that keeps only the page: a million events
 * take about a second and no more memory than the page (listEvents held them all: 5 s, 1.7 GB). */
export function journalPage(db: DB, query: JournalQuery): JournalPage {
  const limit = query.limit ?? 500;
  const actors = new Set<string>();
  const actions = new Set<string>();
  const last: EventFields[] = []; // a ring of the last `limit` matches: the match n goes at n % limit
  let total = 0;
  for (const e of eachEvent(db, { since: query.since })) {
    if (e.actor !== null) actors.add(e.actor);
    actions.add(e.action);
    if ((query.actor === undefined || e.actor === query.actor) && (query.action === undefined || e.action === query.action)
      && (query.outcome === undefined || e.outcome === query.outcome)) {
      last[total % limit] = e;
      total++;
    }
  }
  const start = total % limit; // the oldest kept, once the ring has wrapped
  const events = total > limit ? [...last.slice(start), ...last.slice(0, start)] : last;
  return { events: events.reverse(), total, actors: [...actors], actions: [...actions].sort() };
}

/** The first characters a spreadsheet reads as a formula (=, +, -, @, tab, CR). */
const FORMULA = new Set([0x3d, 0x2b, 0x2d, 0x40, 0x09, 0x0d]);

const csvField = (value: unknown): string => {
  const text = value === null || value === undefined ? '' : String(value);
  // Quote everything that could break a row; neutralise spreadsheet formulas (CSV injection).
  // (Tests of characters, not regular expressions: a million events are ten million fields.)
  const safe = FORMULA.has(text.charCodeAt(0)) ? `'${text}` : text;
  return `"${safe.includes('"') ? safe.replaceAll('"', '""') : safe}"`;
};

export const CSV_HEADER = ['n°', 'date (UTC)', 'personne', 'nom', 'poste', 'action', 'objet', 'résultat', 'détail', 'empreinte de chaîne'];

/** The signed export's text, in pieces of about 64 KiB as they are made (a million events make
 * about 300 MB: never whole in memory), hashed on the way; `done` receives the hash and the
 * number of events once the last piece is out. */
export function* auditCsv(db: DB, done: (sha256: Buffer, events: number) => void = () => undefined): Generator<Buffer> {
  const names = new Map(listIdentities(db).map((r) => [r.id, r.name]));
  const outcome: Record<string, string> = { ok: 'fait', refused: 'refusé', failed: 'échec' };
  const hash = createHash('sha256');
  let text = `\ufeff${CSV_HEADER.map(csvField).join(';')}\r\n`;
  let events = 0;
  const piece = (): Buffer => {
    const bytes = Buffer.from(text, 'utf8');
    hash.update(bytes);
    text = '';
    return bytes;
  };
  for (const e of eachEventLine(db)) {
    text += `${csvField(e.seq)};${csvField(new Date(e.at).toISOString())};${csvField(e.actor)};${csvField(e.actor ? names.get(e.actor) ?? '' : '')};${csvField(e.workstation)};${
      csvField(e.action)};${csvField(e.object)};${csvField(outcome[e.outcome] ?? e.outcome)};${csvField(e.detail)};${csvField(e.hashHex)}\r\n`;
    events++;
    if (text.length >= 65536) yield piece();
  }
  yield piece();
  done(hash.digest(), events);
}

const exportSigSchema = lazySchema((z) => z.strictObject({
  pli: z.literal('audit-export'), v: z.literal(1), signer: z.string(), card: z.string(), certificate: z.string().nullable(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/), signature: z.string(),
}));

/** Writes FILE.csv and FILE.csv.sig (detached signature by the exporting person). */
export async function exportAudit(ctx: Context, as: string | undefined, out: string): Promise<{ events: number; signer: string }> {
  // Never over an existing file (a previous export, or a name planted to be overwritten); nor
  // with FILE.csv.tmp there (the CSV is written there first: an export stopped half-way).
  const partial = `${out}.tmp`;
  for (const file of [out, `${out}.sig`, partial]) refuseExisting(file, exportExists);
  const db = ctx.profile.db;
  const signer = resolveOwn(db, as);
  requireRole(db, signer, 'reader');
  const unlocked = await ctx.unlocker.unlock(signer);
  try {
    appendEvent(db, ctx.profile.workstation, { actor: signer.id, action: 'audit.exported', object: out });
    // The CSV goes to FILE.csv.tmp as it is made, hashed on the way (a million events: about
    // 300 MB, never whole in memory). Once it is whole: its signature FILE.csv.sig, then the CSV
    // takes its name, never over a file (placeNoReplace: a link, or where links are missing a copy,
    // which takes a while). An export stopped half-way (the process killed) leaves FILE.csv.tmp, or
    // a FILE.csv cut during that copy whose signature refuses it: never a FILE.csv that passes
    // for whole. A failure removes what this call made: the export is the pair.
    const made: { hash?: Buffer; events: number } = { events: 0 };
    writeExclusive(partial, auditCsv(db, (hash, events) => Object.assign(made, { hash, events })), exportExists);
    let signed = false;
    try {
      const { hash } = made;
      if (!hash) throw new Error('auditCsv: no hash'); // never: done() runs before the file is closed
      const signature = await ed25519Sign(unlocked.current.sigSecret, signedDigest('auditExport', hash));
      const certificate = db.prepare(`SELECT c.text FROM certificates c WHERE c.identity_id = ? AND c.sig_fpr = ? ORDER BY issued DESC, serial DESC LIMIT 1`).pluck().get(signer.id, unlocked.current.sigFpr) as string | undefined;
      const sig = { pli: 'audit-export', v: 1, signer: signer.id, card: getIdentity(db, signer.id)!.card, certificate: certificate ?? null, sha256: hash.toString('hex'), signature: Buffer.from(signature).toString('base64') };
      writeExclusive(`${out}.sig`, `${JSON.stringify(sig, null, 1)}\n`, exportExists);
      signed = true;
      let placed: boolean;
      try {
        placed = await placeNoReplace(partial, out); // removes its own copy if it fails
      } catch (error) {
        throw writeFault(out, error);
      }
      if (!placed) throw exportExists(out); // a file made meanwhile under that name
    } catch (error) {
      // Each removal tried on its own (a key gone read-only fails them all); the export's own
      // failure goes up, not a removal's.
      for (const file of signed ? [partial, `${out}.sig`] : [partial]) {
        try {
          rmSync(file, { force: true });
        } catch {
          // left in the folder: the failure reported names the folder
        }
      }
      throw error;
    }
    return { events: made.events, signer: signer.name };
  } finally {
    try {
      await writeCheckpoint(ctx.profile, signerOf(unlocked));
    } finally {
      unlocked.wipe();
    }
  }
}

/** How much of an export's last line is kept to read its date (the date is its second field). */
const LINE_START = 4096;

/** Reads an export once, in pieces (a million events: about 300 MB, never whole in memory): its
 * SHA-256, and the start of its last non-empty line as `split('\r\n')` would cut it, from the same
 * bytes (a file rewritten meanwhile cannot give the date of another text than the one hashed). */
export function readExport(file: string, pieceSize = 1 << 20): { hash: Buffer; lastLine: Buffer | null } {
  const hash = createHash('sha256');
  const piece = Buffer.alloc(pieceSize);
  let line: Buffer[] = []; // the current line's start, at most LINE_START bytes
  let kept = 0;
  let empty = true;
  let last: Buffer | null = null;
  let carry = false; // the previous piece ended with \r
  const add = (bytes: Buffer): void => {
    if (bytes.length === 0) return;
    empty = false;
    if (kept < LINE_START) {
      const part = bytes.subarray(0, LINE_START - kept);
      line.push(Buffer.from(part));
      kept += part.length;
    }
  };
  const end = (): void => {
    if (!empty) last = Buffer.concat(line);
    line = [];
    kept = 0;
    empty = true;
  };
  const fd = openSync(file, 'r');
  try {
    for (let n; (n = readSync(fd, piece, 0, piece.length, null)) > 0;) {
      const chunk = piece.subarray(0, n);
      hash.update(chunk);
      const text: Buffer = carry ? Buffer.concat([Buffer.from('\r'), chunk]) : chunk;
      let at = 0;
      for (let i; (i = text.indexOf('\r\n', at)) !== -1; at = i + 2) {
        add(text.subarray(at, i));
        end();
      }
      carry = text[text.length - 1] === 0x0d && at < text.length;
      add(text.subarray(at, carry ? text.length - 1 : text.length));
    }
  } finally {
    closeSync(fd);
  }
  if (carry) add(Buffer.from('\r'));
  end();
  return { hash: hash.digest(), lastLine: last };
}

/** The export's date: that of its last line, the `audit.exported` entry (covered by the signature). */
function exportDate(lastLine: Buffer | null): number | null {
  const match = /^"\d+";"([^"]+)";/.exec(lastLine?.toString('utf8') ?? '');
  const at = match ? Date.parse(match[1]!) : NaN;
  return Number.isNaN(at) ? null : at;
}

const day = (ms: number): string => new Date(ms).toISOString().slice(0, 10);

/** Checks FILE.csv against FILE.csv.sig: content hash, signature, and (with an authority) that the
 * signer held a certificate under it, valid and not revoked (as this workstation knows) at the
 * export's date. Without an authority the result says the export is not certified. */
export async function verifyAuditExport(db: DB, file: string): Promise<{ signer: string; name: string; certified: boolean; at: number | null }> {
  let csv: ReturnType<typeof readExport>;
  let sigText: string;
  // Never a profile's file (its SQLite locks, own-files.ts): checked without opening it.
  for (const chosen of [file, `${file}.sig`]) refuseProfileFile(chosen, undefined, 'read');
  try {
    csv = readExport(file);
    sigText = readFileSync(`${file}.sig`, 'utf8');
  } catch {
    throw inputError('missing-file', `Il faut ${file} et ${file}.sig côte à côte : vérifiez les chemins.`);
  }
  let sig: z.infer<ReturnType<typeof exportSigSchema>>;
  try {
    sig = exportSigSchema().parse(JSON.parse(sigText));
  } catch {
    throw inputError('not-audit-signature', `${file}.sig n'est pas une signature d'export de journal Pli.`);
  }
  const { hash } = csv;
  if (hash.toString('hex') !== sig.sha256) throw securityError('export-modified', "L'export du journal a été modifié après sa signature : il ne fait pas foi.");
  const card = await verifyCard(sig.card);
  if (card.body.id !== sig.signer) throw securityError('export-signer', "La signature de l'export ne correspond pas à la carte jointe.");
  const ok = await ed25519Verify(card.sigPublic, signedDigest('auditExport', hash), Buffer.from(sig.signature, 'base64'));
  if (!ok) throw securityError('export-signature', "La signature de l'export du journal est invalide : il ne fait pas foi.");
  const at = exportDate(csv.lastLine);
  const trust = getTrust(db);
  if (!trust) return { signer: sig.signer, name: card.body.name, certified: false, at };
  // The certificate joined to the export, or one this workstation knows for the same key.
  const text = sig.certificate ?? await certifiedText(db, trust, sig.signer, card.sigFpr);
  if (!text) throw securityError('export-not-certified', "L'export est signé par une personne sans certificat de l'autorité de ce poste.");
  const cert = await verifyCertificate(text, trust.public_key);
  if (!cert.sigFpr.equals(card.sigFpr) || cert.body.id !== sig.signer) throw securityError('export-not-certified', "Le certificat joint ne correspond pas à la clé qui a signé l'export.");
  if (at === null) throw securityError('export-date', "L'export ne porte pas de date lisible (dernière ligne) : impossible de vérifier le certificat de son signataire à cette date.");
  if (at < cert.body.notBefore || at > cert.body.notAfter) {
    throw securityError('export-not-certified', `Le certificat de ${card.body.name} n'était pas valide le ${day(at)}, date de l'export (valide du ${day(cert.body.notBefore)} au ${day(cert.body.notAfter)}) : l'export ne fait pas foi.`);
  }
  const revoked = revocationOf(db, sig.signer);
  // Revoked from the earlier of the authority's date and the day this workstation learned it.
  if (revoked && Math.min(revoked.revoked_at, revoked.imported_at) <= at) {
    throw securityError('export-revoked', `Le certificat de ${card.body.name} était révoqué (${revoked.reason}) le ${day(at)}, date de l'export : l'export ne fait pas foi.`);
  }
  return { signer: sig.signer, name: card.body.name, certified: true, at };
}

// ---- anchors: the head, signed, kept outside the workstation (docs/audit.md section 5) ---------

const anchorSchema = lazySchema((z) => z.strictObject({
  pli: z.literal('audit-anchor'), v: z.literal(1),
  log: z.string().regex(/^[0-9a-f]{64}$/), seq: z.number().int().positive(), hash: z.string().regex(/^[0-9a-f]{64}$/), at: z.number().int().nonnegative(),
  checkpoint: z.strictObject({ counter: z.number().int().positive(), hash: z.string().regex(/^[0-9a-f]{64}$/) }).nullable(),
  signer: z.string().max(100), card: z.string().max(20000), certificate: z.string().max(20000).nullable(), signature: z.string().max(200),
}));
export type AuditAnchor = z.infer<ReturnType<typeof anchorSchema>>;

function anchorDigest(a: Pick<AuditAnchor, 'log' | 'seq' | 'hash' | 'at' | 'checkpoint' | 'signer'>): Buffer {
  return sha256(ANCHOR_LABEL, Buffer.from(a.log, 'hex'), u64(a.seq), Buffer.from(a.hash, 'hex'), u64(a.at),
    u64(a.checkpoint?.counter ?? 0), a.checkpoint ? Buffer.from(a.checkpoint.hash, 'hex') : ZERO32, Buffer.from(a.signer, 'ascii'));
}

/** Produces an anchor of the current head, signed by `signer` (core: also for signed receipts).
 * The chain since the last checkpoint is verified and checkpointed first (writeCheckpoint), so
 * an anchor is never signed over a break. */
export async function makeAuditAnchor(profile: Profile, signer: CheckpointSigner, now = Date.now()): Promise<string> {
  const db = profile.db;
  await writeCheckpoint(profile, signer, now);
  // The checkpoint, then the head, as writeCheckpoint reads them: another program's appends
  // meanwhile leave the head at or past the checkpoint the anchor names.
  const last = lastCheckpointRow(db);
  const head = db.prepare('SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1').get() as { seq: number; hash: Buffer } | undefined;
  if (!head) throw inputError('empty-log', "Le journal d'audit est vide : rien à ancrer.");
  if (last && last.seq < head.seq) {
    // Not covered by a checkpoint (an uncertified signer): verify those entries all the same.
    const bad = await checkSinceLastCheckpoint(db, last, head.seq, signer);
    if (bad) throw securityError('audit-tampered', `Journal d'audit altéré : ${bad.problem}. Première entrée en cause : n° ${bad.seq}. Aucune ancre n'a été signée ; prévenez l'officier SSI.`);
  }
  const identity = getIdentity(db, signer.id);
  const card = identity ? await verifiedCard(identity.card) : null;
  if (!identity || !card || !card.sigFpr.equals(signer.sigFpr)) {
    throw securityError('audit-signer', `La carte de ${identity?.name ?? signer.id} enregistrée sur ce poste ne correspond plus à sa clé : profil modifié. Prévenez l'officier SSI.`);
  }
  const trust = getTrust(db);
  const certificate = trust ? await certifiedText(db, trust, signer.id, signer.sigFpr) : null;
  if (trust && !certificate) throw securityError('not-habilitated', `${identity.name} n'a pas de certificat de l'autorité de ce poste pour sa clé actuelle : l'ancre ne pourrait pas être vérifiée. Adressez-vous à l'officier SSI.`);
  const log = db.prepare('SELECT hash FROM events WHERE seq = 1').pluck().get() as Buffer;
  const body = {
    log: log.toString('hex'), seq: head.seq, hash: head.hash.toString('hex'), at: now,
    checkpoint: last ? { counter: checkpointsUpTo(db, last.id), hash: checkpointHash(last).toString('hex') } : null,
    signer: signer.id,
  };
  const signature = Buffer.from(await ed25519Sign(signer.sigSecret, anchorDigest(body))).toString('base64');
  const anchor: AuditAnchor = { pli: 'audit-anchor', v: 1, ...body, card: card.text, certificate, signature };
  // One field per line: a few lines that can be printed and kept on paper.
  return `{\n${Object.entries(anchor).map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(',\n')}\n}\n`;
}

export interface AnchorCheck { ok: boolean; seq: number; signer: string; name: string; at: number; firstBad?: { seq: number; problem: string } }

export interface ReadAnchor { anchor: AuditAnchor; card: VerifiedCard; certified: boolean }

/** Authenticates an anchor anywhere (no profile needed: e.g. inside a signed receipt): the card's
 * self-signature and id, the anchor's signature with the card's key, and, given an authority key,
 * the joined certificate under it for that key (else a security error). */
export async function readAuditAnchor(text: string, authorityKey: Uint8Array | null): Promise<ReadAnchor> {
  let anchor: AuditAnchor;
  try {
    anchor = anchorSchema().parse(JSON.parse(text));
  } catch {
    throw inputError('not-audit-anchor', "Ce fichier n'est pas une ancre de journal Pli : choisissez le fichier d'ancre enregistré depuis ce poste.");
  }
  const forged = (): PliError => securityError('anchor-signature', "L'ancre du journal a une signature invalide : elle a été modifiée ou fabriquée, elle ne prouve rien. Prévenez l'officier SSI.");
  const card = await verifiedCard(anchor.card);
  if (!card || card.body.id !== anchor.signer) throw forged();
  if (!(await ed25519Verify(card.sigPublic, anchorDigest(anchor), Buffer.from(anchor.signature, 'base64')))) throw forged();
  if (!authorityKey) return { anchor, card, certified: false };
  let cert;
  try {
    cert = anchor.certificate ? await verifyCertificate(anchor.certificate, authorityKey) : null;
  } catch {
    cert = null;
  }
  if (!cert || cert.body.id !== anchor.signer || !cert.sigFpr.equals(card.sigFpr)) {
    throw securityError('anchor-not-certified', "L'ancre n'est pas signée sous un certificat de l'autorité de ce poste : elle ne prouve rien ici.");
  }
  return { anchor, card, certified: true };
}

/** `pli audit verify [--anchor ...]`, the interface's "Vérifier le journal": the chain and its
 * checkpoints, then each anchor (read by the caller: a missing file changes nothing), until the
 * first break. The verification is itself an event: ok, failed (the first bad entry) or refused
 * (an anchor that cannot be trusted). */
export async function checkAudit(scope: Scope, anchors: string[] = []): Promise<{ result: VerifyResult; firstBad?: { seq: number; problem: string }; found: AnchorCheck[] }> {
  const db = scope.profile.db;
  const result = await verifyAudit(db);
  let firstBad = result.ok ? undefined : result.firstBad;
  const found: AnchorCheck[] = [];
  try {
    for (const text of anchors) {
      if (firstBad) break;
      const check = await verifyAuditAnchor(db, text);
      if (!check.ok) firstBad = check.firstBad;
      else found.push(check);
    }
  } catch (error) {
    audit(scope, { actor: actorOf(scope), action: 'audit.verified', outcome: 'refused', detail: { anchors: anchors.length, reason: (error as { code?: string }).code ?? 'error' } });
    throw error;
  }
  audit(scope, {
    actor: actorOf(scope), action: 'audit.verified', outcome: firstBad ? 'failed' : 'ok',
    detail: firstBad ? { firstBad: firstBad.seq, anchors: anchors.length } : { events: result.events, anchors: anchors.length },
  });
  return { result, firstBad, found };
}

/** Checks that this log still contains an anchored head. Throws when the anchor itself cannot be
 * trusted (input error: not an anchor; security error: bad signature, signer not of this
 * workstation or not certified by its authority); returns ok false, naming the first missing or
 * changed entry, when the log was cut back or rewritten under it. */
export async function verifyAuditAnchor(db: DB, text: string): Promise<AnchorCheck> {
  const trust = getTrust(db);
  const { anchor, card } = await readAuditAnchor(text, trust?.public_key ?? null);
  // The signer must be a person of this workstation: otherwise the anchor is another log's.
  const key = keyByFingerprint(db, card.sigFpr);
  if (!isOwn(db, anchor.signer) || (!trust && (!key || key.identity_id !== anchor.signer))) {
    throw securityError('anchor-foreign', `Cette ancre est signée par ${card.body.name} (${anchor.signer}), qui n'est pas une personne de ce poste : elle vient d'un autre profil et ne dit rien de ce journal.`);
  }
  const result = { seq: anchor.seq, signer: anchor.signer, name: card.body.name, at: anchor.at };
  const bad = (seq: number, problem: string): AnchorCheck => ({ ok: false, ...result, firstBad: { seq, problem } });
  // Entries 1..seq must all be there: the first missing one is named.
  const present = db.prepare('SELECT COUNT(*) FROM events WHERE seq BETWEEN 1 AND ?').pluck().get(anchor.seq) as number;
  if (present < anchor.seq) {
    const missing = db.prepare(`SELECT CASE WHEN NOT EXISTS (SELECT 1 FROM events WHERE seq = 1) THEN 1
      ELSE (SELECT e.seq + 1 FROM events e WHERE e.seq >= 1 AND e.seq < ? AND NOT EXISTS (SELECT 1 FROM events f WHERE f.seq = e.seq + 1) ORDER BY e.seq LIMIT 1) END`).pluck().get(anchor.seq) as number;
    return bad(missing, `entrée n° ${missing} manquante : le journal a été coupé ou vidé sous l'ancre de l'entrée n° ${anchor.seq} signée par ${card.body.name} le ${day(anchor.at)}`);
  }
  const first = db.prepare('SELECT hash FROM events WHERE seq = 1').pluck().get() as Buffer;
  if (first.toString('hex') !== anchor.log) return bad(1, `entrée n° 1 modifiée : le journal a été réécrit depuis son début sous l'ancre de l'entrée n° ${anchor.seq}`);
  const stored = db.prepare('SELECT hash FROM events WHERE seq = ?').pluck().get(anchor.seq) as Buffer;
  if (stored.toString('hex') !== anchor.hash) {
    // One hash tells that the entry or one before it changed. The checkpoints narrow it down: the
    // first one whose head no longer matches its entry, else the anchored entry itself.
    const rows = db.prepare('SELECT seq, head_hash FROM audit_checkpoints WHERE seq <= ? ORDER BY seq').all(anchor.seq) as { seq: number; head_hash: Buffer }[];
    let from = 2;
    for (const row of rows) {
      const hash = db.prepare('SELECT hash FROM events WHERE seq = ?').pluck().get(row.seq) as Buffer | undefined;
      if (hash?.equals(row.head_hash)) from = row.seq + 1;
      else break;
    }
    return bad(Math.min(from, anchor.seq), `entrée n° ${anchor.seq} ancrée par ${card.body.name} le ${day(anchor.at)} changée : une entrée entre les n° ${Math.min(from, anchor.seq)} et ${anchor.seq} a été modifiée, insérée ou supprimée, puis le chaînage recalculé`);
  }
  if (anchor.checkpoint) {
    const row = db.prepare('SELECT * FROM audit_checkpoints ORDER BY id LIMIT 1 OFFSET ?').get(anchor.checkpoint.counter - 1) as CheckpointRow | undefined;
    if (!row || checkpointHash(row).toString('hex') !== anchor.checkpoint.hash) {
      return bad(row?.seq ?? anchor.seq, `point de contrôle n° ${anchor.checkpoint.counter} ancré supprimé ou remplacé`);
    }
  }
  return { ok: true, ...result };
}

/** The refusal of an existing file, for what the file would have been ("un export du journal"). */
const alreadyThere = (what: string) => (file: string): PliError =>
  inputError('exists', `${file} existe déjà : ${what} ne remplace jamais un fichier. Choisissez un autre nom.`);
const exportExists = alreadyThere('un export du journal');
const anchorExists = alreadyThere('une ancre');

/** Refuses `file` if anything is there, a dangling link included (before any unlock). */
function refuseExisting(file: string, exists: (file: string) => PliError): void {
  if (somethingAt(file)) throw exists(file);
}

/** Creates `file` (electron/core/files.ts: never replaces, never follows a planted link, leaves
 * nothing partial); a system failure goes up as it came (the callers word it). */
function writeExclusive(file: string, data: Buffer | string | Iterable<Buffer>, exists: (file: string) => PliError): void {
  // A full disk, a read-only key, missing rights... in their words, naming the folder.
  writeNewFileSync(file, data, 0o644, { exists, failed: (target, error) => writeFault(target, error) });
}

/** `pli audit anchor`: writes the anchor to `out`, never over an existing file. */
export async function writeAuditAnchor(ctx: Context, as: string | undefined, out: string): Promise<{ seq: number; signer: string }> {
  refuseExisting(out, anchorExists);
  const db = ctx.profile.db;
  const signer = resolveOwn(db, as);
  requireRole(db, signer, 'reader');
  const unlocked = await ctx.unlocker.unlock(signer);
  try {
    appendEvent(db, ctx.profile.workstation, { actor: signer.id, action: 'audit.anchored', object: out });
    const text = await makeAuditAnchor(ctx.profile, signerOf(unlocked));
    writeExclusive(out, text, anchorExists);
    return { seq: (JSON.parse(text) as AuditAnchor).seq, signer: signer.name };
  } finally {
    unlocked.wipe();
  }
}

export interface Person { id: string; name: string; role: string | null; org: string; email: string; validUntil: number | null; state: CertificateState['state']; stateText: string; fingerprint: string }

/** The nominative list: own identities of this workstation and their certificate state. */
export function people(db: DB, now = Date.now()): Person[] {
  return listIdentities(db).filter((r) => r.own === 1).map((r) => {
    const state = certificateState(db, r.id, now);
    const key = db.prepare("SELECT fpr FROM keys WHERE identity_id = ? AND kind = 'ed25519' AND retired_at IS NULL").pluck().get(r.id) as Buffer;
    return { id: r.id, name: r.name, role: state.role, org: r.org, email: r.email, validUntil: state.notAfter, state: state.state, stateText: describeState(state), fingerprint: formatFingerprint(key) };
  });
}
