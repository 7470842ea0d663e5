// Migration 9: conventions signed by the SSI authority (docs/convention.md).
// Shipped: never edit this SQL (a test compares its hash); a change is a new migration.
import type { Migration } from './migration.js';

export const migration: Migration = {
  version: 9,
  sql: `
-- The conventions this workstation knows, latest version each, as received in the directory (or
-- signed here, on the officer's profile). Every value used is read from the signed text; the rows
-- are covered by the trust seal (docs/profile.md, "Integrity of trust state").
CREATE TABLE conventions (
  id TEXT PRIMARY KEY,
  authority BLOB NOT NULL,
  version INTEGER NOT NULL,
  text TEXT NOT NULL,
  imported_at INTEGER NOT NULL
) STRICT;
-- The officer's profile: every version it signed (each edit is signed again).
CREATE TABLE issued_conventions (
  id TEXT NOT NULL,
  version INTEGER NOT NULL,
  text TEXT NOT NULL,
  issued_at INTEGER NOT NULL,
  PRIMARY KEY (id, version)
) STRICT;
`,
};
