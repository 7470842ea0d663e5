// Leases bound to a live process (docs/mailbox.md sections 3 and 5): an outbox row left 'sending'
// by a process that is gone goes back to the queue at the next flush (not 30 minutes later); a row
// held by a live process is skipped and `outbox flush` says so (exit 3, not a silent 0); a pid
// reused by another program does not keep a row; the receive lock follows the same rules. Rows
// are written as a crashed sender leaves them, straight into the profile's database.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { describe, it, expect, beforeAll, afterAll, afterEach } from 'vitest';
import { initProfile, type Profile } from '../../electron/core/profile/profile.js';
import { createIdentity, unlockIdentity } from '../../electron/core/profile/identities.js';
import { setMailbox, DEFAULT_MAX_MESSAGE_BYTES } from '../../electron/core/mail/settings.js';
import { flushOutbox, queueSend, reclaimAbandoned, SEND_LEASE_MS, type OutboxRow } from '../../electron/core/mail/outbox.js';
import { releaseReceiveLock, tryReceiveLock, RECEIVE_LOCK_MS } from '../../electron/core/mail/imap.js';
import { leaseOwner } from '../../electron/core/mail/lease.js';
import type { Context } from '../../electron/core/context.js';
import { captureMain } from './capture-main.js';
import { closeProfiles } from './helpers.js';

const LIGHT = { opslimit: 1, memlimitKib: 8 };
const PASSPHRASE = 'phrase de la greffière';
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pli-lease-'));
const hasProc = fs.existsSync(`/proc/${process.pid}/stat`);

let profile: Profile;
let ctx: Context;
let identityId: string;
let containerId: string;
const children: ChildProcess[] = [];

/** A process's start time as Linux counts it (what a real sender records), '' elsewhere. */
function startOf(pid: number): string {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? '';
  } catch {
    return '';
  }
}
const ownerOf = (pid: number, start = startOf(pid), host = os.hostname()): string => `${host}|${pid}|${start}`;

function liveChild(): ChildProcess {
  const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 120000)'], { stdio: 'ignore' });
  children.push(child);
  return child;
}
async function deadChild(): Promise<{ pid: number; start: string }> {
  const child = liveChild();
  await new Promise((r) => setTimeout(r, 100));
  const pid = child.pid!;
  const start = startOf(pid);
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await exited;
  return { pid, start };
}

/** A row as a sender killed in the middle of its SMTP transaction leaves it. */
function sendingRow(owner: string | null, leaseUntil = Date.now() + SEND_LEASE_MS): number {
  return Number(profile.db.prepare(`INSERT INTO outbox (container_id, sender_id, transport, destination, message_id, path, size, state, attempts, next_attempt_at, queued_at, lease_owner)
    VALUES (?, ?, 'mail', 'mairie@x.test', ?, ?, 10, 'sending', 1, ?, ?, ?)`)
    .run(containerId, identityId, `<pli.${Math.random().toString(16).slice(2)}@x.test>`, path.join(profile.home, 'outbox', `${containerId}.pli`), leaseUntil, Date.now(), owner).lastInsertRowid);
}
const rowOf = (id: number): OutboxRow => profile.db.prepare('SELECT * FROM outbox WHERE id = ?').get(id) as OutboxRow;

const cli = (argv: string[]): ReturnType<typeof captureMain> => captureMain(['--home', profile.home, ...argv], { PLI_PASSPHRASE: PASSPHRASE });

/** A loopback port nobody listens on: the flush's connection is refused at once (temporary). */
async function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
  });
}

beforeAll(async () => {
  profile = initProfile(path.join(tmp, 'police')).profile;
  const created = await createIdentity(profile.db, { name: 'Greffière', email: 'police@x.test', org: 'Police' }, PASSPHRASE, LIGHT);
  identityId = created.id;
  ctx = { profile, unlocker: { unlock: (row) => unlockIdentity(profile.db, row.id, PASSPHRASE) } };
  const port = await closedPort();
  await setMailbox(ctx, { imap: { host: '127.0.0.1', port, mode: 'tls' }, smtp: { host: '127.0.0.1', port, mode: 'tls' }, user: 'police@x.test', caPem: null, maxMessageBytes: DEFAULT_MAX_MESSAGE_BYTES }, 'mot de passe');
  // A real container in the profile's outbox: the flush mails only the profile's own copy of the
  // row's container, checked (outbox.ts readOutboxCopy), whatever the row's path says.
  const file = path.join(tmp, 'etat.csv');
  fs.writeFileSync(file, 'IS 101;T3\n');
  ({ containerId } = await queueSend(ctx, { to: [identityId], files: [file], mail: ['mairie@x.test'] }));
  profile.db.prepare('DELETE FROM outbox').run();
});

afterEach(() => {
  profile.db.prepare('DELETE FROM outbox').run();
});

afterAll(() => {
  for (const child of children) child.kill('SIGKILL');
  closeProfiles([profile], tmp);
});

describe('outbox lease bound to the sending process', () => {
  it('a row whose sender was killed goes back at the next flush, long before its lease runs out', async () => {
    const dead = await deadChild();
    const id = sendingRow(ownerOf(dead.pid, dead.start));
    const flushed = await cli(['outbox', 'flush']);
    // Taken back and tried at once: the closed port makes it a temporary failure (exit 3).
    const row = rowOf(id);
    expect(row.state).toBe('queued');
    expect(row.attempts).toBe(2);
    expect(row.last_error).toBeTruthy();
    expect(row.lease_owner).toBeNull();
    expect(flushed.code).toBe(3);
  });

  it('a row held by a live process is skipped, and outbox flush says so (exit 3, not a silent 0)', async () => {
    const child = liveChild();
    await new Promise((r) => setTimeout(r, 100));
    const id = sendingRow(ownerOf(child.pid!));
    const result = await flushOutbox(ctx, { force: true });
    expect(result.busy.map((r) => r.id)).toEqual([id]);
    expect(rowOf(id).state).toBe('sending');
    const flushed = await cli(['outbox', 'flush']);
    expect(flushed.code).toBe(3);
    expect(flushed.stderr).toContain(`en cours d'envoi par un autre programme Pli de ce poste (processus ${child.pid})`);
    expect(flushed.stderr).not.toContain('Rien à envoyer');
    expect(rowOf(id).state).toBe('sending');
    // The holder dies: the next flush takes the row back.
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
    expect(reclaimAbandoned(profile.db)).toEqual([]);
    expect(rowOf(id).state).toBe('queued');
  });

  it.runIf(hasProc)('a pid now used by another program (other start time) does not keep the row', async () => {
    const child = liveChild();
    await new Promise((r) => setTimeout(r, 100));
    const id = sendingRow(ownerOf(child.pid!, String(Number(startOf(child.pid!)) - 1)));
    expect(reclaimAbandoned(profile.db)).toEqual([]);
    expect(rowOf(id).state).toBe('queued');
  });

  it('a row held by this very process (another flush running here) stays with it', () => {
    const id = sendingRow(leaseOwner());
    expect(reclaimAbandoned(profile.db).map((r) => r.id)).toEqual([id]);
    expect(rowOf(id).state).toBe('sending');
  });

  it('a holder that cannot be checked (another host, or no owner recorded) keeps the row until its lease runs out', () => {
    const now = Date.now();
    const other = sendingRow(ownerOf(4242, '99', 'autre-poste'), now + 60_000);
    const legacy = sendingRow(null, now + 60_000);
    expect(reclaimAbandoned(profile.db, now).map((r) => r.id)).toEqual([other, legacy]);
    expect(reclaimAbandoned(profile.db, now + 60_001)).toEqual([]);
    expect(rowOf(other).state).toBe('queued');
    expect(rowOf(legacy).state).toBe('queued');
  });
});

describe('receive lock (one receive per profile across processes)', () => {
  const plant = (owner: string, expiresAt: number): void => {
    profile.db.prepare("INSERT INTO mail_lock (name, owner, expires_at) VALUES ('receive', ?, ?) ON CONFLICT(name) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at").run(owner, expiresAt);
  };

  it('held by a live process: not taken; by a gone process or past its expiry: taken; released by its holder only', async () => {
    const child = liveChild();
    await new Promise((r) => setTimeout(r, 100));
    plant(ownerOf(child.pid!), Date.now() + RECEIVE_LOCK_MS);
    expect(tryReceiveLock(profile.db)).toEqual({ taken: false, holder: ownerOf(child.pid!) });
    releaseReceiveLock(profile.db); // not ours: stays
    expect(tryReceiveLock(profile.db).taken).toBe(false);

    const dead = await deadChild();
    plant(ownerOf(dead.pid, dead.start), Date.now() + RECEIVE_LOCK_MS);
    expect(tryReceiveLock(profile.db).taken).toBe(true);
    releaseReceiveLock(profile.db);
    expect(profile.db.prepare('SELECT COUNT(*) AS n FROM mail_lock').get()).toEqual({ n: 0 });

    plant(ownerOf(4242, '99', 'autre-poste'), Date.now() + RECEIVE_LOCK_MS);
    expect(tryReceiveLock(profile.db).taken).toBe(false);
    plant(ownerOf(4242, '99', 'autre-poste'), Date.now() - 1);
    expect(tryReceiveLock(profile.db).taken).toBe(true);
    releaseReceiveLock(profile.db);
  });
});
