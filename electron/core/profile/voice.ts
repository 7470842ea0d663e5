// Fingerprints checked by voice ("vérifiée de vive voix, le …, par …"): a person of this
// workstation read the fingerprint with its owner on the phone and confirmed it matched.
//
// Invariant: a check counts only for the very fingerprint that was read aloud (a new card or a
// new authority key shows as not checked), and the rows are covered by the trust seal
// (integrity.ts): every read verifies the seal when the integrity key is in hand, every write
// goes through sealedTrustWrite. The attacker of docs/profile.md who plants or edits a row with
// SQL is refused (`profile-tampered`) at the next sign-in or read with the key in hand.
import type { DB } from './profile.js';
import { sealedTrustWrite, verifyTrustSeal } from './integrity.js';

/** The subject of the pinned SSI authority's check (identity ids are base32, never this word). */
export const AUTHORITY_SUBJECT = 'authority';

export interface VoiceCheck { subject: string; fpr: Buffer; checkedAt: number; checkedBy: string; checkedByName: string }

interface Row { subject: string; fpr: Buffer; checked_at: number; checked_by: string; checked_by_name: string }

const toCheck = (row: Row): VoiceCheck => ({ subject: row.subject, fpr: row.fpr, checkedAt: row.checked_at, checkedBy: row.checked_by, checkedByName: row.checked_by_name });

/** The subject's voice check when it is for `currentFpr`; null when none, or for another key. */
export function voiceCheckOf(db: DB, subject: string, currentFpr: Uint8Array): VoiceCheck | null {
  verifyTrustSeal(db);
  const row = db.prepare('SELECT * FROM voice_checks WHERE subject = ?').get(subject) as Row | undefined;
  if (!row || !Buffer.isBuffer(row.fpr) || !row.fpr.equals(Buffer.from(currentFpr))) return null;
  return toCheck(row);
}

/** Records (or renews) a check, sealed with the trust state in one transaction. */
export function recordVoiceCheck(db: DB, check: VoiceCheck): void {
  sealedTrustWrite(db, () => {
    db.prepare(`INSERT INTO voice_checks (subject, fpr, checked_at, checked_by, checked_by_name) VALUES (?, ?, ?, ?, ?)
      ON CONFLICT(subject) DO UPDATE SET fpr = excluded.fpr, checked_at = excluded.checked_at, checked_by = excluded.checked_by, checked_by_name = excluded.checked_by_name`)
      .run(check.subject, check.fpr, check.checkedAt, check.checkedBy, check.checkedByName);
  });
}
