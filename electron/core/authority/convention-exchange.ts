// Sending and opening under a convention (docs/convention.md 7). One function decides what a
// send under a convention may be (the CLI's `send --convention` and the desktop's send both reach
// it through services/containers.ts encrypt), one what an opening may be (containers.ts decrypt,
// as soon as the manifest is read and before any file is written).
//
// Security invariant (issue 14 section 1): only a person on the convention's nominative list, with
// a valid certificate of the organisation the list gives them, sends under it or opens a container
// that names it. Being certified is not enough: the list is the convention's, signed by the
// authority, read from its verified text (convention-object.ts storedConventions).
import path from 'node:path';
import type { DB } from '../profile/profile.js';
import { inputError, securityError } from '../errors.js';
import type { ManifestConvention } from '../container/manifest.js';
import { currentCertificate } from './certificates.js';
import { endOf, periodsOf, today, type ConventionBody, type VerifiedConvention } from './convention-object.js';
import { findConvention, lastDayOf } from './convention.js';
import { visibleOnly } from '../../../shared/text.js';

export interface ConventionSendInput {
  /** The convention id, or a unique beginning of it. */
  convention: string;
  period: string;
  documents: string[];
  subject?: string;
}

export interface ConventionSendPlan {
  convention: ConventionBody;
  /** What goes into the manifest (docs/format.md 5.3, minor 1). */
  manifest: ManifestConvention;
  /** Without --to: every habilitated person of the other parties. */
  recipients: string[];
  /** The functional mailboxes of the other parties (the sender's own party excluded). */
  addresses: string[];
}

/** Whether `id` is on the list, with a valid certificate of the organisation the list gives. */
export function habilitation(db: DB, body: ConventionBody, id: string, at = Date.now()): { org: string } | null {
  const listed = body.people.find((p) => p.id === id);
  if (!listed) return null;
  const cert = currentCertificate(db, id, at);
  if (!cert || cert.body.org !== listed.org) return null;
  return { org: listed.org };
}

const notListed = (name: string, body: ConventionBody, what: string) => securityError('not-in-convention',
  `${name} ne figure pas sur la liste nominative des personnes habilitées de la convention « ${body.title} » (${body.id}) : ${what} L'officier SSI seul peut modifier cette liste.`,
  { name, convention: body.id });

/**
 * Checks a send under a convention on the day `day` and returns what it goes with. Input errors
 * (exit 1) for what the person can correct; a sender or a recipient outside the list is a
 * security refusal (exit 2). Nothing is sealed before this returns.
 */
export async function planConventionSend(
  db: DB, sender: { id: string; name: string }, input: ConventionSendInput, files: string[], to: { id: string; name: string }[], day = today(),
): Promise<ConventionSendPlan> {
  const { body } = await findConvention(db, input.convention);
  if (day < body.start) {
    throw inputError('convention-not-started', `La convention « ${body.title} » commence le ${body.start} : aucun envoi ne peut être fait sous elle avant cette date.`, { id: body.id, start: body.start });
  }
  if (day >= endOf(body)) {
    const terminated = body.status.state === 'terminated';
    throw inputError('convention-ended', `La convention « ${body.title} » ${terminated ? 'est résiliée' : 'a pris fin'} (dernier jour : ${lastDayOf(body)}) : plus aucun envoi ne peut être fait sous elle. Rien n'a été chiffré.`, { id: body.id, last: lastDayOf(body) });
  }
  const periods = periodsOf(body);
  const period = periods.find((p) => p.period === input.period.trim());
  if (!period) {
    throw inputError('bad-period', `Période inconnue pour cette convention : « ${input.period} ». Écrivez-la comme 2026-T4 (trimestre), 2026-S2 (semestre) ou 2026-11 (mois), selon le calendrier de la convention ; voyez les échéances.`, { period: input.period });
  }
  if (period.begins > day) {
    throw inputError('bad-period', `La période ${period.period} n'a pas encore commencé (elle commence le ${period.begins}) : envoyez les états d'une période commencée.`, { period: period.period });
  }
  const documents = [...new Set(input.documents.map((d) => d.trim()))];
  if (documents.length === 0) throw inputError('bad-document', `Indiquez le ou les documents envoyés : ${body.expect.map((e) => `« ${e} »`).join(', ')}.`, { expected: body.expect.join(', ') });
  for (const document of documents) {
    if (!body.expect.includes(document)) {
      throw inputError('bad-document', `Le document « ${document} » n'est pas attendu par la convention : documents attendus ${body.expect.map((e) => `« ${e} »`).join(', ')}.`, { document, expected: body.expect.join(', ') });
    }
  }
  let subject: string | undefined;
  if (input.subject !== undefined) {
    subject = input.subject.trim();
    if (!subject || subject.length > 200 || !visibleOnly(subject)) throw inputError('bad-subject', "Objet du pli : de 1 à 200 caractères visibles. Corrigez-le.", { max: 200 });
  }
  // Before anything is sealed: the file types the convention allows (its extensions, without case).
  for (const file of files) {
    const name = path.basename(file);
    const extension = path.extname(name).toLowerCase();
    if (!body.types.includes(extension)) {
      throw inputError('type-not-allowed', `Le fichier « ${name} » n'est pas d'un type admis par la convention : types admis ${body.types.join(', ')}. Enregistrez-le dans un de ces formats, puis recommencez. Rien n'a été chiffré.`, { name, types: body.types.join(', ') });
    }
  }
  const senderIn = habilitation(db, body, sender.id);
  if (!senderIn) throw notListed(sender.name, body, "elle ne peut pas envoyer de pli sous cette convention. Rien n'a été chiffré.");
  for (const person of to) {
    if (!habilitation(db, body, person.id)) throw notListed(person.name, body, "elle ne peut pas recevoir de pli de cette convention. Retirez-la des destinataires. Rien n'a été chiffré.");
  }
  const recipients = body.people.filter((p) => p.org !== senderIn.org && habilitation(db, body, p.id)).map((p) => p.id);
  const addresses = body.parties.filter((p) => p.org !== senderIn.org).map((p) => p.address.toLowerCase());
  return {
    convention: body,
    manifest: { id: body.id, period: period.period, documents, ...(subject ? { subject } : {}) },
    recipients,
    addresses,
  };
}

/**
 * At opening, once the manifest is read and before any file is written: a container naming a
 * convention opens only for a person on its list, sent by a person on its list, for a period and
 * documents it expects. Refusals are security refusals (exit 2, audited by decrypt), except a
 * convention this workstation does not know yet (the directory to import: exit 1).
 */
export async function checkConventionOpening(
  db: DB, convention: ManifestConvention, reader: { id: string; name: string }, sender: { id: string; name: string }, arrivedAt: number,
): Promise<VerifiedConvention> {
  let found: VerifiedConvention;
  try {
    found = await findConvention(db, convention.id);
  } catch {
    throw inputError('unknown-convention', `Ce pli est envoyé sous la convention ${convention.id}, que ce poste ne connaît pas : importez le dernier annuaire remis par l'officier SSI, puis ouvrez-le de nouveau. Rien n'a été déchiffré.`, { id: convention.id });
  }
  const body = found.body;
  if (found.body.id !== convention.id) throw inputError('unknown-convention', `Convention inconnue sur ce poste : ${convention.id}.`, { id: convention.id });
  if (!habilitation(db, body, reader.id)) throw notListed(reader.name, body, "elle ne peut pas ouvrir un pli envoyé sous cette convention. Rien n'a été déchiffré.");
  // The sender's certificate is judged at arrival (as the signature is); their place on the list now.
  if (!habilitation(db, body, sender.id, arrivedAt) || !body.people.some((p) => p.id === sender.id)) {
    throw notListed(sender.name, body, "son pli, envoyé sous cette convention, est refusé. Signalez-le à l'officier SSI. Rien n'a été déchiffré.");
  }
  // The periods of the convention as signed, termination aside: a container sent for a quarter
  // that a later termination cut off still opens (it was sent while the convention ran).
  const periods = periodsOf({ ...body, status: { state: 'active' } });
  if (!periods.some((p) => p.period === convention.period) || convention.documents.some((d) => !body.expect.includes(d))) {
    throw securityError('convention-mismatch', `Ce pli annonce une période (${convention.period}) ou des documents que la convention « ${body.title} » ne prévoit pas : pli refusé. Signalez-le à l'officier SSI. Rien n'a été déchiffré.`, { id: body.id, period: convention.period });
  }
  return found;
}
