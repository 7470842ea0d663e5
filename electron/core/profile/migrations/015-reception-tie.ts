// Migration 15: received containers tied to a convention at reception (docs/convention.md 8.3).
// Shipped: never edit this SQL (a test compares its hash); a change is a new migration.
import type { Migration } from './migration.js';

export const migration: Migration = {
  version: 15,
  sql: `
-- What reception could tell of a container that may never be opened (its manifest is encrypted):
-- tie, the JSON array of the conventions whose habilitated list holds its verified signer and
-- whose days hold its arrival ([] for none; NULL: not computed, as for rows received before this
-- migration); tie_mac, HMAC under the integrity key over the row's identity and tie, so that a
-- row re-tied or untied with the database shows. The retention run destroys the unopened
-- containers tied to exactly one convention, and lists the others « à détruire à la main ».
ALTER TABLE inbox ADD COLUMN tie TEXT;
ALTER TABLE inbox ADD COLUMN tie_mac BLOB;
`,
};
