// Every domain-separation label of Pli, in one table: HKDF info strings, AEAD additional-data
// prefixes, fingerprint and signature labels. Invariant: each is a distinct ASCII string, so that
// no derived key, sealed box or signature made for one purpose can stand for another; the table is
// checked against the documents (docs/format.md section 6 lists them all) by test/unit/labels.test.ts.
// These are on-disk and on-wire constants: never change one; a new purpose gets a new label.

/** HKDF `info` strings (some are followed by a key fingerprint: see the users). */
export const KDF_INFO = {
  /** Container recipient entry, X-Wing: info = label ‖ key fingerprint (format.md 4.1). */
  wrapXwing: 'pli/v1/wrap/xwing',
  /** Container password entry (format.md 4.2). */
  wrapPassword: 'pli/v1/wrap/password',
  /** Container payload key and commitment key (format.md 5). */
  payload: 'pli/v1/payload',
  commit: 'pli/v1/commit',
  /** The authority's key wrapped for its officer: info = label ‖ encryption fingerprint (authority.md). */
  wrapAuthority: 'pli/v1/wrap/authority',
  /** The profile key wrapped for a person's X-Wing key (mailbox.md). */
  wrapProfileKey: 'pli/v1/wrap/profile-key',
  /** The profile integrity key handed over to a person: info = label ‖ fingerprint (profile.md). */
  wrapIntegrity: 'pli/v1/wrap/integrity',
  /** MAC key of the profile's trust seal, and first field of its canonical text (profile.md). */
  integrityTrust: 'pli/v1/integrity/trust',
  /** The seal of an inbox row under the profile integrity key (profile.md, table inbox). */
  integrityInbox: 'pli/v1/integrity/inbox',
  /** The seal of an outbox row's time under the profile integrity key (profile.md, table outbox). */
  integrityOutboxTime: 'pli/v1/integrity/outbox-time',
  /** The seal of a container's filing under a convention (convention.md 7). */
  integrityFiling: 'pli/v1/integrity/filing',
  /** The MAC of the content of a file Pli wrote, checked before the retention run deletes it (convention.md 8). */
  integrityWrittenFile: 'pli/v1/integrity/written-file',
  /** The seal of a figure of the indicators under the profile integrity key (indicators.md 4.1). */
  integrityIndicators: 'pli/v1/integrity/indicators',
  /** The key, and first field of the AEAD additional data, of the names of the files an outbox row sent (profile.md). */
  outboxFiles: 'pli/v1/profile/outbox-files',
} as const;

/** AEAD additional data (the `\0`-terminated ones are followed by an id and more: see the users). */
export const AAD = {
  /** Every AES-256-GCM key wrap under a single-use KEK (format.md 4). */
  wrap: 'pli/v1/wrap',
  /** An identity's passphrase-wrapped master key: label ‖ id (profile.md). */
  master: 'pli/v1/master\0',
  /** An identity's sealed key set: label ‖ id ‖ \0 ‖ key set ‖ \0 ‖ fingerprints (profile.md). */
  secrets: 'pli/v1/secrets\0',
  /** A provisioned key file's sealed keys: label ‖ id (authority.md 6). */
  keyfile: 'pli/v1/keyfile\0',
  /** The mailbox password sealed in the profile (mailbox.md). */
  mailboxPassword: 'pli/v1/mailbox-password',
  /** The mailbox password's seal v2: label, then every setting a connection uses (mailbox.md 1). */
  mailboxPasswordSettings: 'pli/v1/mailbox-password/settings',
} as const;

/** Key fingerprints: SHA-256(label ‖ public key) (format.md 8). */
export const FINGERPRINT_LABELS = {
  xwing: 'pli/v1/fpr/xwing\0',
  ed25519: 'pli/v1/fpr/ed25519\0',
} as const;

/** Signature labels, one per kind of signed object: Ed25519 signs SHA-256(label ‖ ...) (format.md 6). */
export const SIGNATURE_LABELS = {
  container: 'pli/v1/sig/container\0',
  /** Container format version 2: the digest over per-block leaves (format.md 11). */
  containerV2: 'pli/v1/sig/container/v2\0',
  card: 'pli/v1/sig/card\0',
  certificate: 'pli/v1/sig/certificate\0',
  directory: 'pli/v1/sig/directory\0',
  auditCheckpoint: 'pli/v1/sig/audit-checkpoint\0',
  keyfile: 'pli/v1/sig/keyfile\0',
  auditExport: 'pli/v1/sig/audit-export\0',
  /** Chained audit checkpoint (audit.md 3.1). */
  auditCheckpointV2: 'pli/v1/sig/audit-checkpoint/v2\0',
  /** Audit anchor (audit.md 5.1). */
  auditAnchor: 'pli/v1/sig/audit-anchor\0',
  /** Convention signed by the SSI authority (convention.md 2). */
  convention: 'pli/v1/sig/convention\0',
  /** Record of a retention run's destruction (convention.md 8). */
  retentionRecord: 'pli/v1/sig/retention-record\0',
  /** Detached signature of a retention certificate, the PDF (convention.md 8.2). */
  retentionCertificate: 'pli/v1/sig/retention-certificate\0',
  /** Signed receipt carried as a Pli object: delivered, opened, directory applied (objects.md 3). */
  receipt: 'pli/v1/sig/receipt\0',
} as const;

/** Every label above, for the checks of uniqueness and documentation. */
export const ALL_LABELS: readonly string[] = [KDF_INFO, AAD, FINGERPRINT_LABELS, SIGNATURE_LABELS].flatMap((table) => Object.values(table));
