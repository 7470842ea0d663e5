// Migration 3: The functional mailbox: its settings, the profile key wraps, the outbox and the inbox.
// Shipped: never edit this SQL (a test compares its hash); a change is a new migration.
import type { Migration } from './migration.js';

export const migration: Migration = {
  version: 3,
  sql: `
-- The functional mailbox (docs/mailbox.md). The password is sealed under the profile key.
CREATE TABLE mailbox (
  one INTEGER PRIMARY KEY CHECK (one = 1),
  imap_host TEXT NOT NULL,
  imap_port INTEGER NOT NULL,
  imap_mode TEXT NOT NULL CHECK (imap_mode IN ('tls', 'starttls')),
  smtp_host TEXT NOT NULL,
  smtp_port INTEGER NOT NULL,
  smtp_mode TEXT NOT NULL CHECK (smtp_mode IN ('tls', 'starttls')),
  user TEXT NOT NULL,
  ca_pem TEXT,
  max_message_bytes INTEGER NOT NULL,
  password_nonce BLOB NOT NULL,
  password_sealed BLOB NOT NULL,
  updated_at INTEGER NOT NULL
) STRICT;
-- The random profile key, wrapped (X-Wing) for each own identity's encryption key.
CREATE TABLE profile_key_wraps (
  key_fpr BLOB PRIMARY KEY,
  identity_id TEXT NOT NULL REFERENCES identities(id),
  kem_ciphertext BLOB NOT NULL,
  wrapped BLOB NOT NULL,
  created_at INTEGER NOT NULL
) STRICT;
CREATE TABLE outbox (
  id INTEGER PRIMARY KEY,
  container_id TEXT NOT NULL,
  sender_id TEXT NOT NULL,
  transport TEXT NOT NULL CHECK (transport IN ('mail', 'folder')),
  destination TEXT NOT NULL,
  message_id TEXT NOT NULL UNIQUE,
  path TEXT NOT NULL,
  size INTEGER NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('queued', 'sending', 'sent', 'failed')),
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL,
  last_error TEXT,
  queued_at INTEGER NOT NULL,
  sent_at INTEGER
) STRICT;
CREATE INDEX outbox_state ON outbox(state, next_attempt_at);
CREATE TABLE inbox (
  id INTEGER PRIMARY KEY,
  container_id TEXT,
  sha256 TEXT NOT NULL,
  size INTEGER NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('verified', 'refused', 'opened')),
  reason TEXT,
  flags TEXT,
  sender_id TEXT,
  created_ms INTEGER,
  arrived_at INTEGER NOT NULL,
  source TEXT NOT NULL CHECK (source IN ('imap', 'folder')),
  origin TEXT,
  path TEXT NOT NULL,
  opened_at INTEGER
) STRICT;
CREATE UNIQUE INDEX inbox_bytes ON inbox(sha256);
CREATE INDEX inbox_container ON inbox(container_id);
-- IMAP catch-up position per folder.
CREATE TABLE mail_state (
  folder TEXT PRIMARY KEY,
  uidvalidity TEXT NOT NULL,
  last_uid INTEGER NOT NULL
) STRICT;
`,
};
