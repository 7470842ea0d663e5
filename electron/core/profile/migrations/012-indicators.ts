// Migration 12: the indicators' figures and the mappings people set (docs/indicators.md 3, 4).
// Shipped: never edit this SQL (a test compares its hash); a change is a new migration.
import type { Migration } from './migration.js';

export const migration: Migration = {
  version: 12,
  sql: `
-- One row per figure written (docs/indicators.md 4): never updated; a later row of the same key
-- replaces an earlier one. Each row is sealed under the integrity key (mac) and tied to the audit
-- event of the write that made it (write_id = that event's object).
CREATE TABLE indicator_figures (
  id INTEGER PRIMARY KEY,
  convention TEXT NOT NULL,
  commune TEXT NOT NULL,
  period TEXT NOT NULL,
  indicator TEXT NOT NULL,
  value INTEGER NOT NULL,
  source_container TEXT,
  source_file TEXT NOT NULL,
  write_id TEXT NOT NULL,
  written_at INTEGER NOT NULL,
  mac BLOB
) STRICT;
CREATE INDEX indicator_figures_key ON indicator_figures(convention, commune, period, indicator);
CREATE INDEX indicator_figures_write ON indicator_figures(write_id);
-- Mappings set by a person (docs/indicators.md 3), tried before the ready-made ones.
CREATE TABLE indicator_mappings (
  name TEXT PRIMARY KEY,
  text TEXT NOT NULL,
  updated_at INTEGER NOT NULL
) STRICT;
`,
};
