// The audit log read while another program of the workstation appends to it (docs/profile.md,
// "Several programs on one profile"): a `pli` writes an entry and signs a checkpoint over it at the
// worst moment of another's verification or checkpoint. Both tables only grow, and a checkpoint is
// written after its entry: read in that order (checkpoints, then entries), what another program
// appends in between can never look like tampering. Found as a rare false alarm of three `pli send`
// at once (test/unit/profile-concurrency.test.ts, CI): « historique réécrit avant le point de
// contrôle signé ». Here the other program is a second connection whose entry and checkpoint are
// written in a transaction held open, committed at the chosen moment: just before this
// connection prepares the statement named.
import { afterAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { closeProfiles } from './helpers.js';
import { initProfile, openProfile, type DB, type Profile } from '../../electron/core/profile/profile.js';
import { createIdentity, unlockIdentity } from '../../electron/core/profile/identities.js';
import { appendEvent } from '../../electron/core/profile/events.js';
import { makeAuditAnchor, signerOf, verifyAudit, writeCheckpoint, type CheckpointSigner } from '../../electron/core/services/audit.js';

const PASS = 'une phrase de passe de test';
const LIGHT = { opslimit: 1, memlimitKib: 8 };
const root = mkdtempSync(path.join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'pli-audit-race-'));
const opened: Profile[] = [];
let counter = 0;
afterAll(() => closeProfiles(opened, root));

interface Two { mine: Profile; other: Profile; signer: CheckpointSigner; otherSigner: CheckpointSigner }

/** One profile opened twice (two programs), a person, `entries` entries, and a checkpoint if asked. */
async function twoPrograms(entries: number, checkpoint: boolean): Promise<Two> {
  const home = path.join(root, `p${++counter}`);
  const { profile: mine } = initProfile(home);
  opened.push(mine);
  const made = await createIdentity(mine.db, { name: 'Claire Dumont', email: 'claire@exemple.fr', org: 'Mairie de Nancy' }, PASS, LIGHT);
  for (let i = 0; i < entries; i++) appendEvent(mine.db, mine.workstation, { actor: made.id, action: 'identity.listed' });
  const signer = signerOf(await unlockIdentity(mine.db, made.id, PASS));
  if (checkpoint) expect(await writeCheckpoint(mine, signer)).toBe(true);
  const other = openProfile(home);
  opened.push(other);
  return { mine, other, signer, otherSigner: signerOf(await unlockIdentity(other.db, made.id, PASS)) };
}

/** The other program's entry and its checkpoint over it, written and held uncommitted; returns the commit. */
async function staged(other: Profile, signer: CheckpointSigner): Promise<() => void> {
  other.db.exec('BEGIN IMMEDIATE');
  appendEvent(other.db, other.workstation, { actor: signer.id, action: 'container.sealed', object: 'c'.repeat(64) });
  expect(await writeCheckpoint(other, signer)).toBe(true);
  return () => other.db.exec('COMMIT');
}

/** Runs `action` once, just before `db` prepares the nth statement matching `pattern`. */
function atNth(db: DB, pattern: RegExp, nth: number, action: () => void): { fired: () => boolean; restore: () => void } {
  const prepare = db.prepare;
  let seen = 0;
  let fired = false;
  db.prepare = function (this: DB, sql: string) {
    if (!fired && pattern.test(sql) && ++seen === nth) {
      fired = true;
      action();
    }
    return prepare.call(this, sql);
  } as DB['prepare'];
  return { fired: () => fired, restore: () => { db.prepare = prepare; } };
}

const refusals = (db: DB): number => db.prepare("SELECT COUNT(*) FROM events WHERE CAST(canonical AS TEXT) LIKE '%audit.checkpoint-refused%'").pluck().get() as number;

async function race<T>(two: Two, pattern: RegExp, run: () => Promise<T>, nth = 1): Promise<T> {
  const commit = await staged(two.other, two.otherSigner);
  const hook = atNth(two.mine.db, pattern, nth, commit);
  try {
    const result = await run();
    expect(hook.fired(), `no statement matched ${pattern}`).toBe(true);
    return result;
  } finally {
    hook.restore();
  }
}

describe('the audit log while another program appends to it: no false alarm', () => {
  it.each([
    { when: 'before any checkpoint: an entry and the first checkpoint', checkpoint: false, checkpoints: 1 },
    { when: 'after checkpoints: one more entry and checkpoint', checkpoint: true, checkpoints: 2 },
  ])('verification, $when appended as the entries are read', async ({ checkpoint, checkpoints }) => {
    const two = await twoPrograms(12, checkpoint);
    const result = await race(two, /FROM events/, () => verifyAudit(two.mine.db));
    expect(result.firstBad).toBeUndefined();
    expect(result.ok).toBe(true);
    expect((await verifyAudit(two.mine.db)).checkpoints).toBe(checkpoints);
  });

  it('a checkpoint, before any other: the other program signs the first one as the log is checked', async () => {
    const two = await twoPrograms(12, false);
    appendEvent(two.mine.db, two.mine.workstation, { actor: two.signer.id, action: 'container.sealed', object: 'd'.repeat(64) });
    // the 1st read of the entries is the head's; the 2nd, the whole log's (no checkpoint to start from)
    await race(two, /FROM events/, () => writeCheckpoint(two.mine, two.signer), 2);
    expect(refusals(two.mine.db)).toBe(0);
    expect((await verifyAudit(two.mine.db)).ok).toBe(true);
  });

  // Either way the other program's checkpoint covers this one's entry too: nothing left to sign
  // here, two checkpoints in all.
  it.each([
    ['the last checkpoint is read', /FROM audit_checkpoints ORDER BY id DESC/],
    ['the checkpoints are counted', /COUNT\(\*\) FROM audit_checkpoints/],
  ])('a checkpoint: the other program signs one just as %s', async (_moment, statement) => {
    const two = await twoPrograms(12, true);
    appendEvent(two.mine.db, two.mine.workstation, { actor: two.signer.id, action: 'container.sealed', object: 'd'.repeat(64) });
    await race(two, statement, () => writeCheckpoint(two.mine, two.signer));
    expect(refusals(two.mine.db)).toBe(0);
    const verified = await verifyAudit(two.mine.db);
    expect(verified.ok).toBe(true);
    expect(verified.checkpoints).toBe(2);
  });

  it('an anchor names a checkpoint at or before its head, counted up to it, whatever is appended meanwhile', async () => {
    const two = await twoPrograms(12, true);
    // Nothing new to checkpoint: the anchor's writeCheckpoint reads the last checkpoint once (the
    // 1st read), the anchor itself then reads it again (the 2nd), where the other program commits.
    const anchor = await race(two, /FROM audit_checkpoints ORDER BY id DESC/, async () =>
      JSON.parse(await makeAuditAnchor(two.mine, two.signer)) as { seq: number; checkpoint: { counter: number } | null }, 2);
    const checkpoints = two.mine.db.prepare('SELECT seq FROM audit_checkpoints ORDER BY id').pluck().all() as number[];
    expect(anchor.checkpoint).not.toBeNull();
    expect(checkpoints[anchor.checkpoint!.counter - 1]).toBeLessThanOrEqual(anchor.seq);
  });
});
