// The nominative list of habilitated people as annexed to the paper convention (issue 14 §2,
// docs/convention.md section 9): per party, each person's name, function, role, certificate
// validity and signing-key fingerprint, dated, with the authority's fingerprint and the
// convention's version. The same function serves `pli convention annex` and the Convention screen.
//
// Every value printed comes from signed text verified at this read: the convention (signed by the
// authority, storedConventions) and each person's certificate (currentCertificate, verified under
// the pinned authority). A person whose certificate is not valid today is printed with its state
// and no fingerprint: the annex never vouches for a key the authority does not vouch for now.
import type { Scope } from '../context.js';
import { actorOf, audit } from '../context.js';
import { certificateState, currentCertificate, describeState, getTrust, ROLE_LABEL } from '../authority/certificates.js';
import { findConvention, lastDayOf, today, type ConventionBody } from '../authority/convention.js';
import { renderPdf } from '../pdf/document.js';
import { refuseExistingFile, writeNewFile } from '../pdf/new-file.js';
import { formatFingerprint } from '../../../shared/ids.js';
import { frenchDay } from '../../../shared/french.js';

export interface AnnexPerson {
  id: string;
  name: string;
  function: string;
  role: string;
  /** « du 1er janvier 2026 au 31 décembre 2026 », or the certificate's state when not valid. */
  certificate: string;
  /** The signing key's fingerprint in groups (XXXX-XXXX-…), or null when not certified today. */
  fingerprint: string | null;
}

export interface Annex {
  convention: ConventionBody;
  authorityName: string;
  authorityFingerprint: string;
  lastDay: string;
  /** The day it was made, `YYYY-MM-DD`. */
  day: string;
  parties: { org: string; address: string; people: AnnexPerson[] }[];
}

const dayOf = (ms: number) => frenchDay(today(new Date(ms)));

/** The annex's content, read and verified now. */
export async function conventionAnnex(scope: Scope, idText: string, now = new Date()): Promise<Annex> {
  const db = scope.profile.db;
  const { body } = await findConvention(db, idText);
  const trust = getTrust(db)!; // findConvention found a convention: an authority is pinned
  const person = (p: ConventionBody['people'][number]): AnnexPerson => {
    const cert = currentCertificate(db, p.id, now.getTime());
    const base = { id: p.id, name: p.name, function: p.function, role: ROLE_LABEL[p.role] };
    if (cert) return { ...base, certificate: `valide du ${dayOf(cert.body.notBefore)}\nau ${dayOf(cert.body.notAfter)}`, fingerprint: formatFingerprint(cert.sigFpr) };
    const state = certificateState(db, p.id, now.getTime());
    return { ...base, certificate: state.state === 'none' ? 'aucun certificat sur ce poste' : describeState(state), fingerprint: null };
  };
  return {
    convention: body,
    authorityName: trust.name,
    authorityFingerprint: formatFingerprint(Buffer.from(body.authority, 'base64')),
    lastDay: lastDayOf(body),
    day: today(now),
    parties: body.parties.map((party) => ({ ...party, people: body.people.filter((p) => p.org === party.org).map(person) })),
  };
}

const statusText = (b: ConventionBody): string => (b.status.state === 'terminated'
  ? `résiliée le ${frenchDay(b.status.date)} (motif\u00a0: ${b.status.reason})`
  : 'en vigueur');

/** The annex as an A4 PDF (document.ts). */
export function annexPdf(annex: Annex, created = new Date()): Promise<Buffer> {
  const b = annex.convention;
  return renderPdf({ title: `Liste nominative des personnes habilitées — ${b.title}`, subject: `Annexe à la convention ${b.id}`, author: annex.authorityName, created }, (pdf) => {
    pdf.title('Liste nominative des personnes habilitées', `Annexe à la convention « ${b.title} »`);
    pdf.fields([
      ['Convention', `${b.id}, version ${b.version}, signée par l’autorité le ${dayOf(b.issued)}`],
      ['Durée', `du ${frenchDay(b.start)} au ${frenchDay(annex.lastDay)}${b.renewMax !== null && b.renewMax > b.years ? ` (${b.years} an${b.years > 1 ? 's' : ''}, reconduction tacite jusqu’à ${b.renewMax} ans)` : ''}`],
      ['État', statusText(b)],
      ['Autorité SSI', annex.authorityName],
      ['Empreinte de l’autorité', annex.authorityFingerprint],
      ['Liste établie le', frenchDay(annex.day)],
    ]);
    pdf.heading('Parties');
    pdf.table([{ header: 'Organisation', width: 3 }, { header: 'Boîte aux lettres fonctionnelle', width: 3 }, { header: 'Personnes habilitées', width: 1.4, align: 'right' }],
      annex.parties.map((p) => [p.org, p.address, String(p.people.length)]));
    for (const party of annex.parties) {
      pdf.heading(`${party.org} — ${party.people.length} personne${party.people.length > 1 ? 's' : ''} habilitée${party.people.length > 1 ? 's' : ''}`);
      pdf.table([
        // The fingerprint's column holds its 24 characters on one line: a group never splits.
        { header: 'Nom', width: 2 }, { header: 'Fonction', width: 2.6 }, { header: 'Rôle', width: 1.3 },
        { header: 'Certificat', width: 2.1 }, { header: 'Empreinte (clé de signature)', width: 3.4 },
      ], party.people.map((p) => [p.name, p.function, p.role, p.certificate, p.fingerprint ?? '—']), 'Aucune personne habilitée.');
    }
    pdf.heading('Engagements');
    pdf.paragraph('Chaque personne habilitée est tenue au secret professionnel (article 226-13 du code pénal). Les fichiers échangés ne sont ouverts que sur le poste dédié, avec l’outil de chiffrement, par les personnes de cette liste.');
    pdf.paragraph('Les empreintes se vérifient de vive voix avec l’officier SSI ou la personne concernée : une différence, même d’un caractère, signifie qu’il ne s’agit pas de la même clé.', { muted: true });
    pdf.paragraph(`Document établi par Pli le ${frenchDay(annex.day)}, d’après la convention signée par l’autorité SSI (version ${b.version}).`, { muted: true });
  });
}

/** Writes the annex to `target`, a new file (never replaced; nothing left on failure), and logs
 * it: the nominative list leaves the workstation (docs/audit.md `convention.printed`). */
export async function writeConventionAnnex(scope: Scope, idText: string, target: string, created = new Date()): Promise<Annex> {
  refuseExistingFile(target); // before any work
  const annex = await conventionAnnex(scope, idText, created);
  writeNewFile(target, await annexPdf(annex, created));
  audit(scope, { actor: actorOf(scope), action: 'convention.printed', object: annex.convention.id, detail: { document: 'annex', version: annex.convention.version, people: annex.convention.people.length } });
  return annex;
}
