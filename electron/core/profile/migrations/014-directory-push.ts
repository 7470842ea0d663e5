// Migration 14: the authority's directory pushed through the functional mailbox (docs/objects.md 4).
// Shipped: never edit this SQL (a test compares its hash); a change is a new migration.
import type { Migration } from './migration.js';

export const migration: Migration = {
  version: 14,
  sql: `
-- How each directory applied on this workstation arrived: 'imap' or 'folder' (a pushed directory
-- object), with when and from where (none: imported from a file). Information for the directory's
-- status only: the trust state itself stays in the sealed table trust.
CREATE TABLE directory_arrivals (
  serial INTEGER PRIMARY KEY,
  issuer TEXT NOT NULL,
  via TEXT NOT NULL,
  origin TEXT,
  arrived_at INTEGER NOT NULL
) STRICT;
-- The officer's workstation: each directory published, to which organisations, when.
CREATE TABLE directory_publications (
  serial INTEGER NOT NULL,
  org TEXT NOT NULL,
  destination TEXT NOT NULL,
  published_at INTEGER NOT NULL,
  PRIMARY KEY (serial, org, destination)
) STRICT;
`,
};
