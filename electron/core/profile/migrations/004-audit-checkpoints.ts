// Migration 4: Signed audit checkpoints (append-only) and the sign-in lockout.
// Shipped: never edit this SQL (a test compares its hash); a change is a new migration.
import type { Migration } from './migration.js';

export const migration: Migration = {
  version: 4,
  sql: `
-- Signed checkpoints over the audit chain head (docs/audit.md section 3): append-only too.
CREATE TABLE audit_checkpoints (
  id INTEGER PRIMARY KEY,
  seq INTEGER NOT NULL,
  head_hash BLOB NOT NULL,
  at INTEGER NOT NULL,
  signer_id TEXT NOT NULL,
  sig_fpr BLOB NOT NULL,
  signature BLOB NOT NULL
) STRICT;
CREATE TRIGGER checkpoints_no_update BEFORE UPDATE ON audit_checkpoints
  BEGIN SELECT RAISE(ABORT, 'audit checkpoints are append-only'); END;
CREATE TRIGGER checkpoints_no_delete BEFORE DELETE ON audit_checkpoints
  BEGIN SELECT RAISE(ABORT, 'audit checkpoints are append-only'); END;
CREATE TRIGGER checkpoints_no_replace BEFORE INSERT ON audit_checkpoints WHEN EXISTS (SELECT 1 FROM audit_checkpoints WHERE id = NEW.id)
  BEGIN SELECT RAISE(ABORT, 'audit checkpoints are append-only'); END;

-- Sign-in failures per person: the lockout survives a restart of the application.
CREATE TABLE login_state (
  identity_id TEXT PRIMARY KEY REFERENCES identities(id),
  failures INTEGER NOT NULL,
  locked_until INTEGER NOT NULL
) STRICT;
`,
};
