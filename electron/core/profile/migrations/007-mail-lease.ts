// Migration 7: The outbox lease owner and the one-receive-at-a-time mail lock.
// Shipped: never edit this SQL (a test compares its hash); a change is a new migration.
import type { Migration } from './migration.js';

export const migration: Migration = {
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
};
