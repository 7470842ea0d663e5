// Migration 11: signed receipts carried as Pli objects (docs/objects.md).
// Shipped: never edit this SQL (a test compares its hash); a change is a new migration.
import type { Migration } from './migration.js';

export const migration: Migration = {
  version: 11,
  sql: `
-- Receipts received from partners (and the acknowledgements of a published directory), each
-- stored once: receipt_id is the random id inside the signed receipt, so the same receipt arriving
-- again (a resent message, a copied folder) adds nothing. 'text' is the signed receipt itself,
-- kept so that it, and the partner's audit anchor inside it, can be checked again later.
-- state: 'matched' (names a container this workstation sent, or a directory it published) or
-- 'set-aside' (names nothing known here: logged and kept apart, never shown as a delivery).
CREATE TABLE receipts (
  id INTEGER PRIMARY KEY,
  receipt_id TEXT NOT NULL UNIQUE,
  type TEXT NOT NULL,
  state TEXT NOT NULL,
  container_id TEXT,
  serial INTEGER,
  signer_id TEXT NOT NULL,
  org TEXT NOT NULL,
  at INTEGER NOT NULL,
  received_at INTEGER NOT NULL,
  verdict TEXT,
  reason TEXT,
  opened_by TEXT,
  same_bytes INTEGER,
  anchor_seq INTEGER,
  anchor_hash TEXT,
  text TEXT NOT NULL
) STRICT;
CREATE INDEX receipts_container ON receipts (container_id);
-- What an outbox row carries: NULL a container of files, else the kind of Pli object
-- ('receipt', 'directory'): sent under its own subject and attachment name, never answered.
ALTER TABLE outbox ADD COLUMN object_kind TEXT;
`,
};
