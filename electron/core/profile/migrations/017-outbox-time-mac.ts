// Migration 17: the seal (MAC) of an outbox row's time under the integrity key.
// Shipped: never edit this SQL (a test compares its hash); a change is a new migration.
import type { Migration } from './migration.js';

export const migration: Migration = {
  version: 17,
  sql: `
-- The seal of an outbox row's time (docs/profile.md, "Outbox rows: the time sent"): HMAC under a
-- key derived from K, the profile integrity key (label integrity/outbox-time), over its id,
-- container, sender, transport, destination, queued and sent times and object kind, rewritten by
-- every write of those columns when the key is in hand. NULL: made before this migration or
-- without the key; the register then marks the date of its container as not proven.
ALTER TABLE outbox ADD COLUMN time_mac BLOB;
`,
};
