// Migration 16: the names and sizes of the files of a container sent from here (issue 15).
// Shipped: never edit this SQL (a test compares its hash); a change is a new migration.
import type { Migration } from './migration.js';

export const migration: Migration = {
  version: 16,
  sql: `
-- files_sealed: the JSON list of the names and sizes of the files sent, encrypted with AES-256-GCM
-- under a key derived from K, the profile integrity key (label outboxFiles), the row's identity
-- (id, container, sender, destination) as additional data: version (1) || nonce (12) ||
-- ciphertext || tag (16). NULL: sent before this migration, or without the key; the lists then
-- show the number of files and the size only (docs/profile.md).
ALTER TABLE outbox ADD COLUMN files_sealed BLOB;
`,
};
