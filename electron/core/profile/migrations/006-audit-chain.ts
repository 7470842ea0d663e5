// Migration 6: Chained audit checkpoints (format v2).
// Shipped: never edit this SQL (a test compares its hash); a change is a new migration.
import type { Migration } from './migration.js';

export const migration: Migration = {
  version: 6,
  sql: `
-- Chained checkpoints (docs/audit.md section 3, format v2): each row carries its counter (1, 2,
-- 3... over all rows), the previous row's hash, and the signer's card or certificate text it was
-- signed under (its signer is verified from that signed text, never from a bare key row). Rows
-- written before this migration keep v = 1 and stay verifiable while no v2 row precedes them.
ALTER TABLE audit_checkpoints ADD COLUMN v INTEGER NOT NULL DEFAULT 1;
ALTER TABLE audit_checkpoints ADD COLUMN counter INTEGER;
ALTER TABLE audit_checkpoints ADD COLUMN prev_hash BLOB;
ALTER TABLE audit_checkpoints ADD COLUMN signer_doc TEXT;
`,
};
