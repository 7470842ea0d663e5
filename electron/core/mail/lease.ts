// Who holds a lease (an outbox row being sent, the receive lock): "host|pid|start", where start is
// the process's start time as the kernel counts it (Linux /proc/<pid>/stat, field 22) so that a pid
// reused by another program after a crash is not taken for the holder. docs/mailbox.md section 3.
import { readFileSync } from 'node:fs';
import os from 'node:os';

/** The start marker of process `pid` ('' where the system does not expose it). */
function startMarker(pid: number): string {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count fields after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19] ?? '';
  } catch {
    return '';
  }
}

let own: string | undefined;
/** This process as a lease holder. */
export function leaseOwner(): string {
  own ??= `${os.hostname()}|${process.pid}|${startMarker(process.pid)}`;
  return own;
}

export interface HolderInfo { host: string; pid: number; start: string }

export function parseOwner(owner: string | null): HolderInfo | null {
  if (owner === null) return null;
  const [host, pid, start, ...rest] = owner.split('|');
  if (host === undefined || pid === undefined || start === undefined || rest.length > 0 || !/^[1-9]\d{0,9}$/.test(pid)) return null;
  return { host, pid: Number(pid), start };
}

/**
 * 'alive' when the holder runs on this host, 'gone' when it does not (no such pid, or the pid now
 * belongs to a process started at another time), 'unknown' when it cannot be told from here
 * (another host sharing the profile, or no owner recorded): the caller then waits for the expiry.
 */
export function holderState(owner: string | null): 'alive' | 'gone' | 'unknown' {
  const holder = parseOwner(owner);
  if (!holder || holder.host !== os.hostname()) return 'unknown';
  if (holder.pid === process.pid) return holder.start === startMarker(process.pid) ? 'alive' : 'gone';
  try {
    process.kill(holder.pid, 0);
  } catch (error) {
    // EPERM: the pid exists but belongs to someone else (then the start marker decides).
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return 'gone';
  }
  const start = startMarker(holder.pid);
  if (holder.start !== '' && start !== '' && start !== holder.start) return 'gone';
  return 'alive';
}
