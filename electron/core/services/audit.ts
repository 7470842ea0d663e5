// The tamper-evident audit log (docs/audit.md): signed checkpoints, verification that names the
// first bad entry, CSV export with a detached signature, and the list of habilitated people.
// Nothing here updates or deletes an audit row.
import { createHash, hash as hashOnce } from 'node:crypto';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { readFileSync, writeFileSync, renameSync } from 'node:fs';
import type { z } from 'zod';
import { lazySchema } from '../zod.js';
import type { DB, Profile } from '../profile/profile.js';
import { GENESIS, appendEvent, listEvents, type EventRow } from '../profile/events.js';
import { ed25519Sign, ed25519Verify } from '../crypto/keys.js';
import { signedDigest } from '../crypto/primitives.js';
import { getIdentity, keyByFingerprint, listIdentities, resolveOwn, verifyCard, type UnlockedIdentity } from '../profile/identities.js';
import { certificateState, describeState, getTrust, verifyCertificate, type CertificateState } from '../authority/certificates.js';
import { inputError, securityError } from '../errors.js';
import type { Context } from './context.js';
import { requireRole } from './policy.js';
import { formatFingerprint } from '../../../shared/ids.js';

function checkpointDigest(seq: number, hash: Buffer, at: number, signer: string): Buffer {
  const numbers = Buffer.alloc(16);
  numbers.writeBigUInt64BE(BigInt(seq), 0);
  numbers.writeBigUInt64BE(BigInt(at), 8);
  return signedDigest('auditCheckpoint', numbers.subarray(0, 8), hash, numbers.subarray(8), Buffer.from(signer, 'ascii'));
}

export interface CheckpointSigner { id: string; sigSecret: Uint8Array; sigFpr: Buffer }

export const signerOf = (identity: UnlockedIdentity): CheckpointSigner => ({ id: identity.id, sigSecret: identity.current.sigSecret, sigFpr: identity.current.sigFpr });

/** Signs the current chain head with an unlocked person's key, unless nothing new was appended. */
export async function writeCheckpoint(profile: Profile, identity: CheckpointSigner, now = Date.now()): Promise<boolean> {
  const db = profile.db;
  const head = db.prepare('SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1').get() as { seq: number; hash: Buffer } | undefined;
  if (!head) return false;
  const last = db.prepare('SELECT MAX(seq) FROM audit_checkpoints').pluck().get() as number | null;
  if (last !== null && last >= head.seq) return false;
  const signature = await ed25519Sign(identity.sigSecret, checkpointDigest(head.seq, head.hash, now, identity.id));
  db.prepare('INSERT INTO audit_checkpoints (seq, head_hash, at, signer_id, sig_fpr, signature) VALUES (?, ?, ?, ?, ?, ?)')
    .run(head.seq, head.hash, now, identity.id, identity.sigFpr, Buffer.from(signature));
  return true;
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

interface SegmentJob { file: string; from: number; to: number; start: Uint8Array; checkpoints: number[] }
interface SegmentResult { bad: { seq: number; kind: 'inserted' | 'deleted' | 'chain' } | null; marks: [number, Uint8Array][] }

/** Verifies events from..to against their stored hashes. Self-contained on purpose: its source is
 * also run as is in a worker thread (no closure, no import; `db` or `Database` is passed in). */
function verifySegment(job: SegmentJob, db?: DB, Database?: new (file: string, options: object) => DB): SegmentResult {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { hash } = typeof require === 'function' ? require('node:crypto') : { hash: hashOnce };
  const conn = db ?? new Database!(job.file, { readonly: true, fileMustExist: true });
  let previous: Buffer = Buffer.from(job.start);
  let expected = job.from;
  const wanted = new Set(job.checkpoints);
  const marks: [number, Uint8Array][] = [];
  let bad: SegmentResult['bad'] = null;
  // Numbering (gaps, inserts) is checked in SQL by the caller, concurrently: here the chain only,
  // and the row's number is its position.
  const rows = conn.prepare('SELECT canonical, hash FROM events WHERE seq >= ? AND seq <= ? ORDER BY seq').raw().iterate(job.from, job.to) as IterableIterator<[Buffer, Buffer]>;
  for (const [canonical, stored] of rows) {
    const seq = expected;
    const computed = hash('sha256', Buffer.concat([previous, canonical]), 'buffer') as Buffer;
    if (!computed.equals(stored)) {
      bad = { seq, kind: 'chain' };
      break;
    }
    if (wanted.has(seq)) marks.push([seq, stored]);
    previous = stored;
    expected++;
  }
  if (!bad && expected !== job.to + 1) bad = { seq: expected, kind: 'deleted' };
  if (!db) conn.close();
  return { bad, marks };
}

const sqlitePath = createRequire(import.meta.url).resolve('better-sqlite3');
const SEGMENT_WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.sqlitePath);
const hashOnce = undefined;
${verifySegment.toString()}
parentPort.postMessage(verifySegment(workerData.job, undefined, Database));
`;

function verifySegmentInWorker(job: SegmentJob): Promise<SegmentResult> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(SEGMENT_WORKER, { eval: true, workerData: { sqlitePath, job } });
    worker.once('message', (result: SegmentResult) => {
      void worker.terminate();
      resolve(result);
    });
    worker.once('error', reject);
  });
}

/** One pass over the chain, hashing the stored canonical bytes, then the signed checkpoints. */
export async function verifyAudit(db: DB): Promise<VerifyResult> {
  let count = 0;
  const hashes = new Map<number, Buffer>();
  const checkpointSeqs = new Set(db.prepare('SELECT seq FROM audit_checkpoints').pluck().all() as number[]);
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
    return parallel ? verifySegmentInWorker(job) : Promise.resolve(verifySegment(job, db));
  }));
  chain.catch(() => {});
  // Meanwhile, the structure inside SQLite (no per-row JavaScript): numbers 1..N without gaps,
  // and the indexed columns (seq, at) agreeing with the canonical bytes, which start "[1,seq,at,".
  const problems: { seq: number; problem: string }[] = [];
  if ((bounds.min ?? 1) < 1) problems.push({ seq: bounds.min!, problem: `entrée n° ${bounds.min} insérée hors séquence` });
  const rowCount = db.prepare('SELECT COUNT(*) FROM events').pluck().get() as number;
  if (rowCount !== total) {
    const gap = db.prepare(`SELECT CASE WHEN NOT EXISTS (SELECT 1 FROM events WHERE seq = 1) THEN 1
      ELSE (SELECT e.seq + 1 FROM events e WHERE e.seq >= 1 AND e.seq < (SELECT MAX(seq) FROM events)
        AND NOT EXISTS (SELECT 1 FROM events f WHERE f.seq = e.seq + 1) ORDER BY e.seq LIMIT 1) END`).pluck().get() as number | null;
    if (gap !== null) problems.push({ seq: gap, problem: `entrée n° ${gap} supprimée ou renumérotée` });
  }
  const mismatch = db.prepare(`SELECT seq FROM events WHERE CAST(substr(canonical, 1, length('[1,' || seq || ',' || at || ',')) AS TEXT)
    != '[1,' || seq || ',' || at || ',' ORDER BY seq LIMIT 1`).pluck().get() as number | undefined;
  if (mismatch !== undefined) problems.push({ seq: mismatch, problem: `entrée n° ${mismatch} modifiée (son numéro ou sa date ne correspondent plus à sa forme enregistrée)` });
  const results = await chain;
  for (const result of results) {
    if (result.bad) problems.push({ seq: result.bad.seq, problem: `entrée n° ${result.bad.seq} modifiée, insérée ou déplacée (chaînage rompu)` });
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
  const checkpoints = db.prepare('SELECT * FROM audit_checkpoints ORDER BY id').all() as { seq: number; head_hash: Buffer; at: number; signer_id: string; sig_fpr: Buffer; signature: Buffer }[];
  let lastCheckpoint: number | null = null;
  for (const cp of checkpoints) {
    const key = keyByFingerprint(db, cp.sig_fpr);
    const valid = key !== undefined && key.kind === 'ed25519' && key.identity_id === cp.signer_id
      && (await ed25519Verify(key.public_key, checkpointDigest(cp.seq, cp.head_hash, cp.at, cp.signer_id), cp.signature));
    if (!valid) return { ...fail(cp.seq, `point de contrôle sur l'entrée n° ${cp.seq} à la signature invalide`), events: count };
    if (cp.seq > count) return { ...fail(count + 1, `journal tronqué : le point de contrôle signé couvre ${cp.seq} entrées, il n'en reste que ${count}`), events: count };
    if (!hashes.get(cp.seq)?.equals(cp.head_hash)) return { ...fail(cp.seq, `historique réécrit avant le point de contrôle signé de l'entrée n° ${cp.seq}`), events: count };
    lastCheckpoint = Math.max(lastCheckpoint ?? 0, cp.seq);
  }
  return { ok: true, events: count, checkpoints: checkpoints.length, lastCheckpoint };
}

export const auditRows = (db: DB, since?: number): EventRow[] => listEvents(db, since);

const csvField = (value: unknown): string => {
  const text = value === null || value === undefined ? '' : String(value);
  // Quote everything that could break a row; neutralise spreadsheet formulas (CSV injection).
  const safe = /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
  return `"${safe.replace(/"/g, '""')}"`;
};

export const CSV_HEADER = ['n°', 'date (UTC)', 'personne', 'nom', 'poste', 'action', 'objet', 'résultat', 'détail', 'empreinte de chaîne'];

export function auditCsv(db: DB): string {
  const names = new Map(listIdentities(db).map((r) => [r.id, r.name]));
  const outcome: Record<string, string> = { ok: 'fait', refused: 'refusé', failed: 'échec' };
  const lines = [CSV_HEADER.map(csvField).join(';')];
  for (const e of auditRows(db)) {
    lines.push([e.seq, new Date(e.at).toISOString(), e.actor, e.actor ? names.get(e.actor) ?? '' : '', e.workstation, e.action, e.object, outcome[e.outcome] ?? e.outcome, e.detail, e.hash.toString('hex')].map(csvField).join(';'));
  }
  return `\ufeff${lines.join('\r\n')}\r\n`;
}

const exportSigSchema = lazySchema((z) => z.strictObject({
  pli: z.literal('audit-export'), v: z.literal(1), signer: z.string(), card: z.string(), certificate: z.string().nullable(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/), signature: z.string(),
}));

/** Writes FILE.csv and FILE.csv.sig (detached signature by the exporting person). */
export async function exportAudit(ctx: Context, as: string | undefined, out: string): Promise<{ events: number; signer: string }> {
  const db = ctx.profile.db;
  const signer = resolveOwn(db, as);
  requireRole(db, signer, 'reader');
  const unlocked = await ctx.unlocker.unlock(signer);
  try {
    appendEvent(db, ctx.profile.workstation, { actor: signer.id, action: 'audit.exported', object: out });
    const csv = Buffer.from(auditCsv(db), 'utf8');
    const hash = createHash('sha256').update(csv).digest();
    const signature = await ed25519Sign(unlocked.current.sigSecret, signedDigest('auditExport', hash));
    const certificate = db.prepare(`SELECT c.text FROM certificates c WHERE c.identity_id = ? AND c.sig_fpr = ? ORDER BY issued DESC, serial DESC LIMIT 1`).pluck().get(signer.id, unlocked.current.sigFpr) as string | undefined;
    const sig = { pli: 'audit-export', v: 1, signer: signer.id, card: getIdentity(db, signer.id)!.card, certificate: certificate ?? null, sha256: hash.toString('hex'), signature: Buffer.from(signature).toString('base64') };
    writeFileSync(`${out}.tmp`, csv);
    writeFileSync(`${out}.sig`, `${JSON.stringify(sig, null, 1)}\n`);
    renameSync(`${out}.tmp`, out);
    return { events: csv.toString('utf8').split('\r\n').length - 2, signer: signer.name };
  } finally {
    await writeCheckpoint(ctx.profile, signerOf(unlocked));
    unlocked.wipe();
  }
}

/** Checks FILE.csv against FILE.csv.sig: content hash, signature, and (with an authority) the signer's certificate. */
export async function verifyAuditExport(db: DB, file: string): Promise<{ signer: string; name: string; certified: boolean }> {
  let csv: Buffer;
  let sigText: string;
  try {
    csv = readFileSync(file);
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
  const hash = createHash('sha256').update(csv).digest();
  if (hash.toString('hex') !== sig.sha256) throw securityError('export-modified', "L'export du journal a été modifié après sa signature : il ne fait pas foi.");
  const card = await verifyCard(sig.card);
  if (card.body.id !== sig.signer) throw securityError('export-signer', "La signature de l'export ne correspond pas à la carte jointe.");
  const ok = await ed25519Verify(card.sigPublic, signedDigest('auditExport', hash), Buffer.from(sig.signature, 'base64'));
  if (!ok) throw securityError('export-signature', "La signature de l'export du journal est invalide : il ne fait pas foi.");
  const trust = getTrust(db);
  let certified = false;
  if (trust) {
    if (!sig.certificate) throw securityError('export-not-certified', "L'export est signé par une personne sans certificat de l'autorité de ce poste.");
    const cert = await verifyCertificate(sig.certificate, trust.public_key);
    if (!cert.sigFpr.equals(card.sigFpr)) throw securityError('export-not-certified', "Le certificat joint ne correspond pas à la clé qui a signé l'export.");
    certified = true;
  }
  return { signer: sig.signer, name: card.body.name, certified };
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
