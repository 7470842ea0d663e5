// Migration 8: the seal (MAC) of an inbox row under the integrity key.
// Shipped: never edit this SQL (a test compares its hash); a change is a new migration.
import type { Migration } from './migration.js';

export const migration: Migration = {
  version: 8,
  sql: `
-- The seal of an inbox row (docs/profile.md, table inbox): HMAC under the integrity key over its
-- id, bytes, size, arrival time, source, container id, sender and creation time, written at
-- receipt when the key is in hand. NULL: stored without the key; its arrival time is not proven.
ALTER TABLE inbox ADD COLUMN mac BLOB;
`,
};
