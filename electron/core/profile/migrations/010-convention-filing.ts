// Migration 10: containers filed under a convention, the files Pli wrote, retention records
// (docs/convention.md 7 and 8).
// Shipped: never edit this SQL (a test compares its hash); a change is a new migration.
import type { Migration } from './migration.js';

export const migration: Migration = {
  version: 10,
  sql: `
-- What a container was sent under (manifest minor 1, docs/format.md 5.3): the convention id, the
-- period, the document names (a JSON array) and the subject. Outbox: written when it is sealed.
-- Inbox: written when it is opened (the manifest is inside the encryption), with filed_at; NULL
-- convention_id and a filed_at: filed « sans convention ». filing_mac: HMAC under the integrity
-- key over the row's id, bytes and these fields (docs/convention.md 7), so that a row re-filed
-- under another period shows. destroyed_at: when the retention run destroyed its file.
ALTER TABLE inbox ADD COLUMN convention_id TEXT;
ALTER TABLE inbox ADD COLUMN period TEXT;
ALTER TABLE inbox ADD COLUMN documents TEXT;
ALTER TABLE inbox ADD COLUMN subject TEXT;
ALTER TABLE inbox ADD COLUMN filed_at INTEGER;
ALTER TABLE inbox ADD COLUMN filing_mac BLOB;
ALTER TABLE inbox ADD COLUMN destroyed_at INTEGER;
ALTER TABLE outbox ADD COLUMN convention_id TEXT;
ALTER TABLE outbox ADD COLUMN period TEXT;
ALTER TABLE outbox ADD COLUMN documents TEXT;
ALTER TABLE outbox ADD COLUMN subject TEXT;
ALTER TABLE outbox ADD COLUMN filing_mac BLOB;
ALTER TABLE outbox ADD COLUMN destroyed_at INTEGER;
CREATE INDEX inbox_convention ON inbox(convention_id, period);
CREATE INDEX outbox_convention ON outbox(convention_id, period);
-- Every file Pli wrote when opening a container: where, its size, and an HMAC of its content
-- under a key derived from the integrity key (never a plain hash: whoever reads the database
-- could confirm a guess of a small table). The retention run destroys a file only when it is
-- still what Pli wrote.
CREATE TABLE written_files (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  container_id TEXT NOT NULL,
  path TEXT NOT NULL,
  size INTEGER NOT NULL,
  hmac BLOB,
  written_at INTEGER NOT NULL,
  destroyed_at INTEGER
) STRICT;
CREATE INDEX written_files_container ON written_files(container_id);
-- The signed records of the retention runs (docs/convention.md 8), as signed.
CREATE TABLE retention_records (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  convention_id TEXT NOT NULL,
  text TEXT NOT NULL,
  made_at INTEGER NOT NULL
) STRICT;
`,
};
