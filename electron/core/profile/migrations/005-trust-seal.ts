// Migration 5: The seal of the trust state and the integrity key hand-over.
// Shipped: never edit this SQL (a test compares its hash); a change is a new migration.
import type { Migration } from './migration.js';

export const migration: Migration = {
  version: 5,
  sql: `
-- The seal of the trust state (docs/profile.md, "Integrity of trust state"): an HMAC under the
-- profile's integrity key over the trust row and the revocations, rewritten with every write.
CREATE TABLE trust_seal (
  one INTEGER PRIMARY KEY CHECK (one = 1),
  counter INTEGER NOT NULL,
  mac BLOB NOT NULL
) STRICT;
-- The integrity key wrapped (X-Wing) for an own identity that does not hold it yet; opened and
-- checked against the seal at that person's next unlock, then deleted.
CREATE TABLE integrity_handover (
  identity_id TEXT PRIMARY KEY REFERENCES identities(id),
  key_fpr BLOB NOT NULL,
  kem_ciphertext BLOB NOT NULL,
  wrapped BLOB NOT NULL,
  created_at INTEGER NOT NULL
) STRICT;
`,
};
