// Numbered schema migrations of the profile database (docs/profile.md), one file each, named
// NNN-what.ts. Each runs once, in order, inside a transaction; `PRAGMA user_version` records the
// last one applied. Never edit a migration that has shipped: add the next number, as a new file,
// at the end of this list (test/unit/migrations.test.ts checks the list runs 1..N, and the SQL of
// every shipped migration).
import type { Migration } from './migration.js';
import { migration as m001 } from './001-base.js';
import { migration as m002 } from './002-authority.js';
import { migration as m003 } from './003-mailbox.js';
import { migration as m004 } from './004-audit-checkpoints.js';
import { migration as m005 } from './005-trust-seal.js';
import { migration as m006 } from './006-audit-chain.js';
import { migration as m007 } from './007-mail-lease.js';
import { migration as m008 } from './008-inbox-mac.js';
import { migration as m009 } from './009-conventions.js';
import { migration as m010 } from './010-convention-filing.js';
import { migration as m011 } from './011-receipts.js';
import { migration as m012 } from './012-indicators.js';
import { migration as m013 } from './013-voice-checks.js';
import { migration as m014 } from './014-directory-push.js';
import { migration as m015 } from './015-reception-tie.js';
import { migration as m016 } from './016-outbox-files.js';
import { migration as m017 } from './017-outbox-time-mac.js';

export type { Migration };

/** In order: the version of the i-th entry is i + 1. */
export const MIGRATIONS: readonly Migration[] = [
  m001,
  m002,
  m003,
  m004,
  m005,
  m006,
  m007,
  m008,
  m009,
  m010,
  m011,
  m012,
  m013,
  m014,
  m015,
  m016,
  m017,
];
