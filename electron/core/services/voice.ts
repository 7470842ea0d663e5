// The voice check of a fingerprint (issue 15): the signed-in person read a correspondent's or the
// SSI authority's fingerprint aloud with its owner, on the phone, and confirms they matched.
// Audited here (`fingerprint.voice-verified`, docs/audit.md 1.1); stored and sealed by
// profile/voice.ts.
import { audited, actorOf, type Scope } from '../context.js';
import { inputError, securityError } from '../errors.js';
import { currentKeys, getIdentity } from '../profile/identities.js';
import { AUTHORITY_SUBJECT, recordVoiceCheck, voiceCheckOf, type VoiceCheck } from '../profile/voice.js';
import { getTrust } from '../authority/certificates.js';
import { formatFingerprint, normalizeFingerprintText } from '../../../shared/ids.js';
import type { DB } from '../profile/profile.js';

export { AUTHORITY_SUBJECT } from '../profile/voice.js';

/** The subject's current fingerprint and its name (the authority's, or the correspondent's). */
function currentOf(db: DB, subject: string): { fpr: Buffer; name: string } {
  if (subject === AUTHORITY_SUBJECT) {
    const trust = getTrust(db);
    if (!trust) throw inputError('no-authority', "Aucune autorité reconnue sur ce poste : importez d'abord l'annuaire de l'officier SSI.");
    return { fpr: trust.fpr, name: trust.name };
  }
  const row = getIdentity(db, subject);
  if (!row) throw inputError('unknown-id', "Cette personne n'est pas dans l'annuaire de ce poste.");
  if (row.own === 1) throw inputError('own-fingerprint', "C'est une personne de ce poste : sa propre empreinte n'a pas à être vérifiée de vive voix.");
  return { fpr: currentKeys(db, row.id).sig.fpr, name: row.name };
}

/** The voice check that holds now for `subject` (its current fingerprint), or null. */
export function currentVoiceCheck(db: DB, subject: string): VoiceCheck | null {
  try {
    const fpr = subject === AUTHORITY_SUBJECT ? getTrust(db)?.fpr : currentKeys(db, subject).sig.fpr;
    return fpr ? voiceCheckOf(db, subject, fpr) : null;
  } catch (error) {
    // A person without a current key has nothing checked; a broken seal is refused as tampering.
    if ((error as { code?: string }).code === 'profile-tampered') throw error;
    return null;
  }
}

/**
 * Marks `subject`'s fingerprint as checked by voice by the person acting. `heard` is the
 * fingerprint the person had on screen when they confirmed: when the subject's key changed since
 * (a new card, a new directory), nothing is recorded and the refusal is audited.
 */
export async function markVoiceChecked(scope: Scope, subject: string, heard: string, now = Date.now()): Promise<VoiceCheck> {
  const db = scope.profile.db;
  return audited(scope, 'fingerprint.voice-verified', async () => {
    const actor = actorOf(scope);
    const checker = actor ? getIdentity(db, actor) : undefined;
    if (!checker || checker.own !== 1) throw inputError('sign-in-required', 'Connectez-vous, puis recommencez : la vérification de vive voix est faite au nom de la personne connectée.');
    const current = currentOf(db, subject);
    if (normalizeFingerprintText(heard) !== normalizeFingerprintText(formatFingerprint(current.fpr))) {
      throw securityError('fingerprint-changed', `L'empreinte de ${current.name} a changé depuis son affichage : rien n'a été enregistré. Relisez la nouvelle empreinte avec son titulaire, au téléphone, avant de la marquer vérifiée.`);
    }
    const check: VoiceCheck = { subject, fpr: current.fpr, checkedAt: now, checkedBy: checker.id, checkedByName: checker.name };
    recordVoiceCheck(db, check);
    return check;
  }, (check) => ({
    actor: check.checkedBy, object: subject, outcome: 'ok',
    detail: { fingerprint: formatFingerprint(check.fpr), authority: subject === AUTHORITY_SUBJECT },
  }));
}
