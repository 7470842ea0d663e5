// Migration 2: The SSI authority: its own key (on the officer's profile), the trusted authority, certificates and revocations.
// Shipped: never edit this SQL (a test compares its hash); a change is a new migration.
import type { Migration } from './migration.js';

export const migration: Migration = {
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
};
