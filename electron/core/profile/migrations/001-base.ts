// Migration 1: The base schema: identities, keys, the sealed secrets and the append-only event log.
// Shipped: never edit this SQL (a test compares its hash); a change is a new migration.
import type { Migration } from './migration.js';

export const migration: Migration = {
  version: 1,
  sql: `
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;

-- People: own identities (private keys on this workstation) and correspondents (public card only).
CREATE TABLE identities (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  email TEXT NOT NULL,
  org TEXT NOT NULL,
  own INTEGER NOT NULL CHECK (own IN (0, 1)),
  card TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  added_at INTEGER NOT NULL
) STRICT;

-- Public keys, current and retired (rotation keeps old keys to read and verify old containers).
CREATE TABLE keys (
  fpr BLOB PRIMARY KEY,
  identity_id TEXT NOT NULL REFERENCES identities(id),
  kind TEXT NOT NULL CHECK (kind IN ('xwing', 'ed25519')),
  public_key BLOB NOT NULL,
  key_set INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  retired_at INTEGER
) STRICT;
CREATE INDEX keys_identity ON keys(identity_id);

-- Own identities: a random master key, wrapped under the person's passphrase (Argon2id).
CREATE TABLE unlock (
  identity_id TEXT PRIMARY KEY REFERENCES identities(id),
  salt BLOB NOT NULL,
  opslimit INTEGER NOT NULL,
  memlimit_kib INTEGER NOT NULL,
  nonce BLOB NOT NULL,
  wrapped_master BLOB NOT NULL
) STRICT;

-- Own identities' private keys, one row per key set, sealed under the master key.
CREATE TABLE secrets (
  identity_id TEXT NOT NULL REFERENCES identities(id),
  key_set INTEGER NOT NULL,
  enc_fpr BLOB NOT NULL,
  sig_fpr BLOB NOT NULL,
  nonce BLOB NOT NULL,
  sealed BLOB NOT NULL,
  PRIMARY KEY (identity_id, key_set)
) STRICT;

-- The event log (made tamper-evident by the audit chain): append-only. The canonical bytes are
-- the event (docs/audit.md); \`at\` is repeated only to filter by date, and checked against them.
CREATE TABLE events (
  seq INTEGER PRIMARY KEY,
  at INTEGER NOT NULL,
  canonical BLOB NOT NULL,
  hash BLOB NOT NULL
) STRICT;
CREATE INDEX events_at ON events(at);
CREATE TRIGGER events_no_update BEFORE UPDATE ON events
  BEGIN SELECT RAISE(ABORT, 'the event log is append-only'); END;
CREATE TRIGGER events_no_delete BEFORE DELETE ON events
  BEGIN SELECT RAISE(ABORT, 'the event log is append-only'); END;
-- INSERT OR REPLACE deletes without firing DELETE triggers: refuse reusing an existing number.
CREATE TRIGGER events_no_replace BEFORE INSERT ON events WHEN EXISTS (SELECT 1 FROM events WHERE seq = NEW.seq)
  BEGIN SELECT RAISE(ABORT, 'the event log is append-only'); END;
`,
};
