// Bounds that both the writer (seal.ts) and the reader (format.ts) of a container apply, from one
// place: the writer must never make a container that a reader refuses (docs/format.md section 9).
import { XWING_CIPHERTEXT_BYTES } from '../crypto/keys.js';

export const CONTAINER_ID_BYTES = 16;
export const CREATED_BYTES = 8;
export const SENDER_ID_BYTES = 10;
export const FPR_BYTES = 32;
export const COUNT_BYTES = 2;
export const COMMITMENT_BYTES = 32;
/** Header bytes before the recipient entries (container id, date, sender, key fingerprint, count). */
export const HEADER_FIXED_BYTES = CONTAINER_ID_BYTES + CREATED_BYTES + SENDER_ID_BYTES + FPR_BYTES + COUNT_BYTES;
/** An X-Wing recipient entry: type (1), body_len (2), key_fpr, kem_ct, wrapped file key (48). */
export const XWING_BODY_BYTES = FPR_BYTES + XWING_CIPHERTEXT_BYTES + 48;
export const XWING_ENTRY_BYTES = 3 + XWING_BODY_BYTES;

/** Largest header_len a reader accepts (the header is read into memory before authentication). */
export const MAX_HEADER = 1024 * 1024;
/**
 * Most recipients in one container: as many X-Wing entries as fit in MAX_HEADER with the fixed
 * fields and the commitment (871). Derived, not chosen: a larger count could never be read.
 */
export const MAX_RECIPIENTS = Math.floor((MAX_HEADER - HEADER_FIXED_BYTES - COMMITMENT_BYTES) / XWING_ENTRY_BYTES);

/** Earliest creation date accepted: 2020-01-01T00:00:00Z (Pli did not exist before). */
export const CREATED_MIN_MS = Date.UTC(2020, 0, 1);
/** Latest creation date accepted, ahead of the reader's clock: ten years (3 653 days). */
export const CREATED_MAX_AHEAD_MS = 3653 * 24 * 3600 * 1000;

/**
 * Why a claimed creation date is refused, or null if it is accepted. The window keeps every value
 * a valid JavaScript date (|ms| <= 8.64e15), so nothing downstream can throw on it.
 */
export function createdProblem(createdMs: number, now: number = Date.now()): string | null {
  if (!Number.isSafeInteger(createdMs)) return 'date de création illisible';
  if (createdMs < CREATED_MIN_MS) return 'date de création antérieure au 1er janvier 2020';
  if (createdMs > now + CREATED_MAX_AHEAD_MS) return 'date de création à plus de dix ans dans le futur';
  return null;
}
