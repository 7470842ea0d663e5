// Numbered schema migrations of the profile database (docs/profile.md). Each runs once, in order,
// inside a transaction; `PRAGMA user_version` records the last one applied. Never edit a
// migration that has shipped: add the next number.
export const MIGRATIONS: { version: number; sql: string }[] = [
  {
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
  },
  {
    version: 2,
    sql: `
-- This profile is an authority (the SSI officer's). Its Ed25519 seed is wrapped (X-Wing) for the
-- officer's encryption key, itself sealed under the officer's passphrase: unlocking the officer
-- unlocks the authority, and the authority key is still not any person's key.
CREATE TABLE authority (
  one INTEGER PRIMARY KEY CHECK (one = 1),
  name TEXT NOT NULL,
  public_key BLOB NOT NULL,
  fpr BLOB NOT NULL,
  officer_id TEXT NOT NULL REFERENCES identities(id),
  wrap_fpr BLOB NOT NULL,
  kem_ciphertext BLOB NOT NULL,
  wrapped_seed BLOB NOT NULL,
  next_cert_serial INTEGER NOT NULL,
  next_dir_serial INTEGER NOT NULL,
  created_at INTEGER NOT NULL
) STRICT;
CREATE TABLE issued_certificates (
  serial INTEGER PRIMARY KEY,
  identity_id TEXT NOT NULL,
  text TEXT NOT NULL,
  issued_at INTEGER NOT NULL
) STRICT;
CREATE TABLE issued_revocations (
  identity_id TEXT PRIMARY KEY,
  reason TEXT NOT NULL,
  at INTEGER NOT NULL
) STRICT;

-- The authority this workstation trusts (pinned at the first directory import).
CREATE TABLE trust (
  one INTEGER PRIMARY KEY CHECK (one = 1),
  name TEXT NOT NULL,
  public_key BLOB NOT NULL,
  fpr BLOB NOT NULL,
  serial INTEGER NOT NULL,
  issued INTEGER NOT NULL,
  next_update INTEGER NOT NULL,
  allow_password INTEGER NOT NULL,
  grace_days INTEGER NOT NULL,
  pinned_at INTEGER NOT NULL,
  imported_at INTEGER NOT NULL
) STRICT;
-- Certificates known to this workstation (verified against the trusted authority).
-- Serials are unique per authority only (a signed handover brings a new authority).
CREATE TABLE certificates (
  authority BLOB NOT NULL,
  serial INTEGER NOT NULL,
  identity_id TEXT NOT NULL,
  role TEXT NOT NULL CHECK (role IN ('officer', 'operator', 'reader')),
  name TEXT NOT NULL,
  email TEXT NOT NULL,
  org TEXT NOT NULL,
  not_before INTEGER NOT NULL,
  not_after INTEGER NOT NULL,
  enc_fpr BLOB NOT NULL,
  sig_fpr BLOB NOT NULL,
  issued INTEGER NOT NULL,
  text TEXT NOT NULL,
  PRIMARY KEY (authority, serial)
) STRICT;
CREATE INDEX certificates_identity ON certificates(identity_id);
CREATE INDEX certificates_sig ON certificates(sig_fpr);
-- imported_at is this workstation's clock when it first saw the revocation (never the signer's).
CREATE TABLE revocations (
  identity_id TEXT PRIMARY KEY,
  reason TEXT NOT NULL,
  revoked_at INTEGER NOT NULL,
  imported_at INTEGER NOT NULL
) STRICT;
`,
  },
  {
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
  },
  {
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
  },
  {
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
  },
  {
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
  },
  {
    version: 7,
    sql: `
-- Who is sending an outbox row ("host|pid|start", docs/mailbox.md section 3): a row whose sender
-- process is gone goes back to the queue at the next flush instead of waiting for the lease.
ALTER TABLE outbox ADD COLUMN lease_owner TEXT;
-- One receive per profile at a time across processes (docs/mailbox.md section 5).
CREATE TABLE mail_lock (
  name TEXT PRIMARY KEY,
  owner TEXT NOT NULL,
  expires_at INTEGER NOT NULL
) STRICT;
`,
  },
  {
    version: 8,
    sql: `
-- The seal of an inbox row (docs/profile.md, table inbox): HMAC under the integrity key over its
-- id, bytes, size, arrival time, source, container id, sender and creation time, written at
-- receipt when the key is in hand. NULL: stored without the key; its arrival time is not proven.
ALTER TABLE inbox ADD COLUMN mac BLOB;
`,
  },
];
