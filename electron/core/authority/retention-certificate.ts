// The retention certificate (issue 14 §5, docs/convention.md 8.2): the signed records of a
// convention's destruction as an A4 PDF (procès-verbal de destruction), with a detached signature
// FILE.pdf.sig, and its check on any workstation (`retention verify`).
//
// Invariants:
// - the PDF is made only from records that verify (retentionRecords: a record edited in the
//   profile is `profile-tampered`, nothing is written);
// - the signature covers the PDF's SHA-256 and the signed records themselves, and is made by a
//   person who ran one of those destructions, with their current key: a certificate signed by
//   someone else, a flipped byte in the PDF or in the signature file, is refused (security error);
// - the check needs no profile content beyond the pinned authority: the signers' cards and
//   certificates travel in the .sig, each verified (card self-signature, certificate under the
//   authority, valid on the day they signed, not revoked before as this workstation knows).
import { createHash } from 'node:crypto';
import { lstatSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { z } from 'zod';
import { lazySchema } from '../zod.js';
import { actorOf, audit, type Context } from '../context.js';
import type { DB } from '../profile/profile.js';
import { getIdentity, resolveOwn, verifyCard, type VerifiedCard } from '../profile/identities.js';
import { inputError, securityError } from '../errors.js';
import { refuseProfileFile } from '../own-files.js';
import { ed25519Sign, ed25519Verify } from '../crypto/keys.js';
import { fingerprint, signedDigest } from '../crypto/primitives.js';
import { getTrust, revocationOf, verifyCertificate } from './certificates.js';
import { findConvention, type ConventionBody } from './convention.js';
import { readRetentionRecord, retentionRecords, type RetentionRecordBody } from './convention-retention.js';
import { renderPdf } from '../pdf/document.js';
import { writeNewFile } from '../pdf/new-file.js';
import { formatFingerprint } from '../../../shared/ids.js';
import { frenchDay } from '../../../shared/french.js';

const personSchema = lazySchema((z) => z.strictObject({ id: z.string().max(100), card: z.string().max(20000), certificate: z.string().max(20000).nullable() }));
const bodySchema = lazySchema((z) => z.strictObject({
  v: z.literal(1),
  convention: z.string().max(100),
  title: z.string().max(1000),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  at: z.number().int().nonnegative(),
  signer: z.string().max(100),
  records: z.array(z.string().max(2_000_000)).min(1).max(1000),
  people: z.array(personSchema()).min(1).max(1000),
}));
const envelopeSchema = lazySchema((z) => z.strictObject({ pli: z.literal('retention-certificate'), v: z.literal(1), body: z.string(), signature: z.string().max(200) }));
type CertificateBody = z.infer<ReturnType<typeof bodySchema>>;

export const sigPathOf = (pdf: string): string => `${pdf}.sig`;

const frTime = (ms: number): string => {
  const d = new Date(ms);
  return `${frenchDay(d.toISOString().slice(0, 10))} à ${String(d.getUTCHours()).padStart(2, '0')} h ${String(d.getUTCMinutes()).padStart(2, '0')} (UTC)`;
};
const MANUAL_REASON: Record<RetentionRecordBody['manual'][number]['reason'], string> = {
  moved: 'déplacé ou supprimé depuis son ouverture',
  changed: 'modifié depuis son ouverture',
  'not-a-file': 'remplacé par un lien ou un dossier',
  unverifiable: 'écrit sans la clé d’intégrité : impossible de vérifier qu’il est intact',
  ambiguous: 'pli jamais ouvert, d’une personne habilitée de plusieurs conventions : à rattacher par la personne qui détruit',
  unsealed: 'pli jamais ouvert, dont le rattachement à la convention n’est pas scellé',
};
const direction = (d: RetentionRecordBody['destroyed'][number]): string =>
  d.direction === 'sent' ? 'envoyé' : d.unopened ? 'reçu, jamais ouvert' : 'reçu';

/** The certificate as an A4 PDF (docs/convention.md 8.2): made from verified records only. */
export function certificatePdf(convention: ConventionBody, records: RetentionRecordBody[], signer: { name: string; org: string; key: string }, created: Date): Promise<Buffer> {
  const day = created.toISOString().slice(0, 10);
  return renderPdf({ title: `Procès-verbal de destruction — ${convention.title}`, subject: `Destruction des données de la convention ${convention.id}`, author: signer.org, created }, (pdf) => {
    pdf.title('Procès-verbal de destruction des données', `Convention « ${convention.title} »`);
    pdf.fields([
      ['Convention', `${convention.id}, version ${convention.version}`],
      ['Parties', convention.parties.map((p) => p.org).join(' ; ')],
      ['Fin de la convention', `${frenchDay(records[0]!.lastDay)}${convention.status.state === 'terminated' ? ` (résiliée, motif : ${convention.status.reason})` : ''}`],
      ['Durée de conservation', `${records[0]!.retentionDays} jour${records[0]!.retentionDays > 1 ? 's' : ''} après la fin`],
      ['Empreinte de l’autorité SSI', formatFingerprint(Buffer.from(convention.authority, 'base64'))],
    ]);
    pdf.heading('Destructions effectuées');
    pdf.table([
      { header: 'Date', width: 2.4 }, { header: 'Par', width: 2.4 }, { header: 'Organisation', width: 2.4 }, { header: 'Poste', width: 1.6 },
      { header: 'Empreinte (clé de signature)', width: 3.2 },
    ], records.map((r) => [frTime(r.at), r.by.name, r.by.org, r.workstation, formatFingerprint(Buffer.from(r.by.key, 'base64'))]));
    const containers = records.flatMap((r) => r.destroyed.filter((d) => d.what === 'container').map((d) => [d.container, direction(d), frenchDay(r.day)]));
    pdf.heading(`Plis détruits : ${containers.length}`);
    pdf.table([{ header: 'Pli (identifiant)', width: 4 }, { header: 'Sens', width: 2 }, { header: 'Détruit le', width: 2 }], containers, 'Aucun pli.');
    const files = records.flatMap((r) => r.destroyed.filter((d) => d.what === 'file').map((d) => [d.path ?? '', d.container.slice(0, 16), frenchDay(r.day)]));
    pdf.heading(`Fichiers ouverts par Pli et détruits : ${files.length}`);
    pdf.table([{ header: 'Fichier', width: 5 }, { header: 'Du pli', width: 2.2 }, { header: 'Détruit le', width: 1.8 }], files, 'Aucun fichier.');
    const manual = records.flatMap((r) => r.manual.map((m) => [m.path, MANUAL_REASON[m.reason], m.container.slice(0, 16)]));
    pdf.heading(`Reste à détruire à la main : ${manual.length}`);
    pdf.table([{ header: 'Fichier', width: 3.8 }, { header: 'Pourquoi Pli ne l’a pas détruit', width: 3.2 }, { header: 'Du pli', width: 2 }], manual, 'Rien : toutes les données connues de Pli ont été détruites.');
    if (manual.length > 0) pdf.paragraph('Ces fichiers sont à détruire à la main par la personne habilitée, puis à mentionner sur ce procès-verbal (date et signature manuscrite).', { bold: true });
    pdf.heading('Signature');
    pdf.fields([
      ['Établi le', frenchDay(day)],
      ['Signé électroniquement par', `${signer.name} (${signer.org})`],
      ['Empreinte de sa clé de signature', formatFingerprint(Buffer.from(signer.key, 'base64'))],
    ]);
    pdf.paragraph('Ce procès-verbal est accompagné d’un fichier de signature du même nom suivi de « .sig ». Un poste Pli vérifie avec lui que ce document n’a pas été modifié, qui l’a signé, et que cette personne a fait la destruction. Les copies de fichiers faites hors de Pli (clés USB, autres dossiers) ne sont pas connues de Pli : elles sont à détruire par chaque personne habilitée.', { muted: true });
  });
}

export interface CertificateResult { pdf: string; sig: string; convention: ConventionBody; records: RetentionRecordBody[]; signer: { id: string; name: string } }

/**
 * `retention certificate --convention ID --out FILE.pdf`: FILE.pdf and FILE.pdf.sig, new files
 * both (never one without the other). Signed by the person signed in, who must have run one of
 * the convention's recorded destructions on this workstation.
 */
export async function writeRetentionCertificate(ctx: Context, conventionText: string, target: string, options: { as?: string; now?: Date } = {}): Promise<CertificateResult> {
  const sig = sigPathOf(target);
  for (const file of [target, sig]) {
    if (lstatSync(file, { throwIfNoEntry: false })) {
      throw inputError('exists', `Le fichier ${path.basename(file)} existe déjà dans ce dossier : il n'a pas été remplacé. Choisissez un autre nom, ou déplacez ce fichier, puis recommencez.`, { path: file });
    }
  }
  const db = ctx.profile.db;
  const person = resolveOwn(db, options.as);
  const unlocked = await ctx.unlocker.unlock(person);
  try {
    const { body: convention } = await findConvention(db, conventionText);
    const stored = await retentionRecords(db, convention.id);
    if (stored.length === 0) {
      throw inputError('no-retention-record', `Aucune destruction n'a été faite sur ce poste pour la convention « ${convention.title} » : il n'y a pas encore de procès-verbal à établir. La destruction se fait à la fin de la durée de conservation.`, { convention: convention.id });
    }
    const key = unlocked.current.sigFpr.toString('base64');
    const runners = new Map(stored.map((r) => [r.body.by.id, r.body.by]));
    if (!stored.some((r) => r.body.by.id === person.id && r.body.by.key === key)) {
      const names = [...runners.values()].map((b) => b.name).join(', ');
      throw securityError('retention-signer', `Le procès-verbal est signé par une personne qui a fait la destruction (${names}) avec sa clé actuelle : ${person.name} ne l'a pas faite. Connectez-vous sous son nom.`, { names });
    }
    const now = options.now ?? new Date(Date.now()); // Date.now: the clock every other date of Pli reads
    const records = stored.map((r) => r.body);
    const own = getIdentity(db, person.id)!;
    const pdfBytes = await certificatePdf(convention, records, { name: own.name, org: own.org, key }, now);
    const certificateOf = (id: string, sigFpr?: Buffer): string | null => (db.prepare(`SELECT text FROM certificates WHERE identity_id = ? ${sigFpr ? 'AND sig_fpr = ?' : ''} ORDER BY issued DESC, serial DESC LIMIT 1`)
      .pluck().get(...(sigFpr ? [id, sigFpr] : [id])) as string | undefined) ?? null;
    const people = [...new Set([person.id, ...runners.keys()])].map((id) => {
      const identity = getIdentity(db, id);
      if (!identity) throw inputError('unknown-id', `La carte de ${runners.get(id)?.name ?? id} n'est plus sur ce poste : le procès-verbal ne pourrait pas être vérifié ailleurs. Importez l'annuaire à jour.`, { id });
      return { id, card: identity.card, certificate: certificateOf(id, id === person.id ? unlocked.current.sigFpr : undefined) };
    });
    const body: CertificateBody = {
      v: 1, convention: convention.id, title: convention.title, sha256: createHash('sha256').update(pdfBytes).digest('hex'),
      at: now.getTime(), signer: person.id, records: stored.map((r) => r.text), people,
    };
    const bodyText = JSON.stringify(body);
    const signature = await ed25519Sign(unlocked.current.sigSecret, signedDigest('retentionCertificate', Buffer.from(bodyText, 'utf8')));
    writeNewFile(target, pdfBytes);
    try {
      writeNewFile(sig, `${JSON.stringify({ pli: 'retention-certificate', v: 1, body: bodyText, signature: Buffer.from(signature).toString('base64') }, null, 1)}\n`);
    } catch (error) {
      rmSync(target, { force: true }); // the certificate is the pair: never one without the other
      throw error;
    }
    audit(ctx, { actor: actorOf(ctx) ?? person.id, action: 'convention.printed', object: convention.id, detail: { document: 'retention-certificate', records: records.length } });
    return { pdf: target, sig, convention, records, signer: { id: person.id, name: own.name } };
  } finally {
    unlocked.wipe();
  }
}

export interface CertificateCheck {
  convention: string;
  title: string;
  at: number;
  signer: { id: string; name: string; org: string };
  /** Every signer holds a certificate of this workstation's authority (false: none pinned). */
  certified: boolean;
  containers: number;
  files: number;
  manual: number;
  runs: { day: string; name: string }[];
}

const modified = () => securityError('certificate-modified', 'Le procès-verbal de destruction a été modifié après sa signature (ou ce n’est pas le document signé) : il ne fait pas foi.');
const badSignature = () => securityError('certificate-signature', 'La signature du procès-verbal de destruction est invalide : elle a été modifiée ou fabriquée, le document ne fait pas foi.');

/**
 * Checks FILE.pdf against FILE.pdf.sig (docs/convention.md 8.2): the PDF's hash, the signature by
 * the joined card, every record's signature by its runner's joined card, the signer among the
 * runners; with a pinned authority, every card certified by it on the day it signed, not revoked
 * before. Any failure on the content is a security error.
 */
export async function verifyRetentionCertificate(db: DB, file: string): Promise<CertificateCheck> {
  let pdf: Buffer;
  let sigText: string;
  // Never a profile's file (its SQLite locks, own-files.ts): checked without opening it.
  for (const chosen of [file, sigPathOf(file)]) refuseProfileFile(chosen, undefined, 'read');
  try {
    pdf = readFileSync(file);
    sigText = readFileSync(sigPathOf(file), 'utf8');
  } catch {
    throw inputError('missing-file', `Il faut ${path.basename(file)} et ${path.basename(sigPathOf(file))} côte à côte : vérifiez les noms et le dossier.`, { path: file });
  }
  let envelope: z.infer<ReturnType<typeof envelopeSchema>>;
  let body: CertificateBody;
  try {
    envelope = envelopeSchema().parse(JSON.parse(sigText));
    body = bodySchema().parse(JSON.parse(envelope.body));
  } catch {
    // A signature file edited so that it no longer reads is refused as a forgery, not as a typo:
    // it is the right file name, and only an edit makes it unreadable.
    if (/"retention-certificate"/.test(sigText)) throw badSignature();
    throw inputError('not-retention-signature', `${path.basename(sigPathOf(file))} n'est pas la signature d'un procès-verbal de destruction Pli.`, { path: file });
  }
  if (createHash('sha256').update(pdf).digest('hex') !== body.sha256) throw modified();
  const cards = new Map<string, VerifiedCard>();
  for (const p of body.people) {
    const card = await verifyCard(p.card).catch(() => null);
    if (!card || card.body.id !== p.id) throw badSignature();
    cards.set(p.id, card);
  }
  const signerCard = cards.get(body.signer);
  if (!signerCard || !(await ed25519Verify(signerCard.sigPublic, signedDigest('retentionCertificate', Buffer.from(envelope.body, 'utf8')), Buffer.from(envelope.signature, 'base64')))) throw badSignature();
  const records: RetentionRecordBody[] = [];
  for (const text of body.records) {
    const record = await readRetentionRecord(text, async (by) => {
      const card = cards.get(by.id);
      return card && fingerprint('ed25519', card.sigPublic).toString('base64') === by.key ? card.sigPublic : null;
    }).catch(() => null);
    if (!record || record.convention !== body.convention) throw badSignature();
    records.push(record);
  }
  const signerKey = fingerprint('ed25519', signerCard.sigPublic).toString('base64');
  if (!records.some((r) => r.by.id === body.signer && r.by.key === signerKey)) {
    throw securityError('retention-signer', `Le procès-verbal est signé par ${signerCard.body.name}, qui n'a fait aucune des destructions qu'il décrit : il ne fait pas foi.`, { names: signerCard.body.name });
  }
  const trust = getTrust(db);
  if (trust) {
    // Each person on the day they signed: the runners on their run, the signer on the certificate.
    const signings = [...records.map((r) => ({ id: r.by.id, at: r.at })), { id: body.signer, at: body.at }];
    for (const { id, at } of signings) {
      const card = cards.get(id)!;
      const text = body.people.find((p) => p.id === id)?.certificate
        ?? (db.prepare('SELECT text FROM certificates WHERE identity_id = ? AND sig_fpr = ? ORDER BY issued DESC, serial DESC LIMIT 1').pluck().get(id, card.sigFpr) as string | undefined);
      const cert = text ? await verifyCertificate(text, trust.public_key).catch(() => null) : null;
      const revoked = revocationOf(db, id);
      if (!cert || cert.body.id !== id || !cert.sigFpr.equals(card.sigFpr) || at < cert.body.notBefore || at > cert.body.notAfter
        || (revoked && Math.min(revoked.revoked_at, revoked.imported_at) <= at)) {
        throw securityError('certificate-not-certified', `${card.body.name} n'avait pas de certificat valide de l'autorité de ce poste le ${frenchDay(new Date(at).toISOString().slice(0, 10))}, jour de sa signature : le procès-verbal ne fait pas foi ici.`, { name: card.body.name });
      }
    }
  }
  return {
    convention: body.convention, title: body.title, at: body.at,
    signer: { id: body.signer, name: signerCard.body.name, org: signerCard.body.org }, certified: trust !== undefined,
    containers: records.reduce((n, r) => n + r.destroyed.filter((d) => d.what === 'container').length, 0),
    files: records.reduce((n, r) => n + r.destroyed.filter((d) => d.what === 'file').length, 0),
    manual: records.reduce((n, r) => n + r.manual.length, 0),
    runs: records.map((r) => ({ day: r.day, name: r.by.name })),
  };
}
