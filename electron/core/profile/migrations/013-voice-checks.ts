// Migration 13: fingerprints checked by voice (issue 15, "vérifiée de vive voix").
// Shipped: never edit this SQL (a test compares its hash); a change is a new migration.
import type { Migration } from './migration.js';

export const migration: Migration = {
  version: 13,
  sql: `
-- A fingerprint read aloud on the phone and confirmed by a signed-in person: one row per subject
-- (an identity id, or 'authority' for the pinned SSI authority), for the fingerprint heard. It
-- holds only while that fingerprint is still the subject's current one. The rows are covered by
-- the trust seal (docs/profile.md, "Integrity of trust state"): a row planted or edited without
-- the integrity key is refused at the next read with the key in hand.
CREATE TABLE voice_checks (
  subject TEXT PRIMARY KEY,
  fpr BLOB NOT NULL,
  checked_at INTEGER NOT NULL,
  checked_by TEXT NOT NULL,
  checked_by_name TEXT NOT NULL
) STRICT;
`,
};
