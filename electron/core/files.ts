// Writing a new file at a path the person chose (an `--out`, a save dialog, a printed document, an
// audit export): the one writer behind the core's (pdf/new-file.ts, services/audit.ts), the CLI's
// (cli/pli.ts) and the desktop app's (ipc/files.ts). Each caller keeps its own words for the
// refusals (`NewFileWords`); the behaviour is the same everywhere.
//
// Invariant: an existing path is never replaced and a symlink is never followed: the file is
// opened O_CREAT | O_EXCL | O_NOFOLLOW, so a file, a folder or a link (even dangling) planted at the
// name, before the call or between a caller's early check and the write, is refused and what it
// points to is left untouched (ELOOP, O_NOFOLLOW meeting a link, counts as "exists"). The bytes
// are fsync'ed before the call returns; a failed write leaves nothing behind (the file this call
// created, partial, is removed). The mode is the caller's (0600 for a secret such as a key file),
// applied at creation, so no other account can open the file in between.
//
// Invariant (docs/profile.md, "The profile's own files are never a person's file"): no file is
// ever created inside a Pli profile's folder (the open profile's or any folder holding a Pli
// database, through a symlinked folder or `..` too): a `profile.sqlite-journal` or `-wal` there
// would be rolled into the database at its next opening. The early check (somethingAt) and the
// write both refuse it (own-files.ts; no profile is needed to know a profile's folder).
import { closeSync, constants, fsyncSync, lstatSync, openSync, unlinkSync, writeSync } from 'node:fs';
import { copyFile, link, lstat, open, stat, unlink, type FileHandle } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { refuseProfileFolder } from './own-files.js';

/** What the caller says when its file cannot be made: each front end has its own words. */
export interface NewFileWords {
  /** Something is already at the name (a file, a folder, a link even dangling). */
  exists(target: string): Error;
  /** The system refused the creation or the write (`stage`): a missing folder, no rights, disk full… */
  failed(target: string, error: unknown, stage: 'open' | 'write'): Error;
}

const NEW_FILE = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | (constants.O_NOFOLLOW ?? 0);

/** True when anything is at `target`, a dangling link included (lstat: the link itself).
 * Throws 'profile-folder' when `target` lies in a profile's folder: every writer's early check
 * (the CLI's, the app's, the core's) goes through here, so the refusal comes before any work. */
export function somethingAt(target: string): boolean {
  refuseProfileFolder(target);
  try {
    return lstatSync(target) !== undefined;
  } catch {
    return false; // absent (or unreachable: the write says why)
  }
}

function openFailed(target: string, error: unknown, words: NewFileWords): Error {
  const code = (error as NodeJS.ErrnoException).code;
  // ELOOP: O_NOFOLLOW met a link planted at the name.
  return code === 'EEXIST' || code === 'ELOOP' ? words.exists(target) : words.failed(target, error, 'open');
}

const bytesOf = (data: Uint8Array | string): Uint8Array => (typeof data === 'string' ? Buffer.from(data, 'utf8') : data);

/** Creates `target` holding `data` with `mode` (see the invariant above), synchronously. `data`
 * may come in pieces (a generator that makes them as they are written: a large export never sits
 * whole in memory); an error the generator throws leaves nothing either, and goes up as it came. */
export function writeNewFileSync(target: string, data: Uint8Array | string | Iterable<Uint8Array | string>, mode: number, words: NewFileWords): void {
  refuseProfileFolder(target);
  let fd: number;
  try {
    fd = openSync(target, NEW_FILE, mode);
  } catch (error) {
    throw openFailed(target, error, words);
  }
  let writing = false;
  try {
    const pieces = typeof data === 'string' || data instanceof Uint8Array ? [data] : data;
    for (const piece of pieces) {
      const bytes = bytesOf(piece);
      writing = true;
      for (let at = 0; at < bytes.length;) at += writeSync(fd, bytes, at, bytes.length - at);
      writing = false;
    }
    writing = true;
    fsyncSync(fd);
    closeSync(fd);
  } catch (error) {
    try {
      closeSync(fd);
    } catch {
      // already closed
    }
    try {
      unlinkSync(target); // the file this call created, partial
    } catch {
      // already gone
    }
    // The system's failure in the caller's words; the generator's own error as it came.
    throw writing ? words.failed(target, error, 'write') : error;
  }
}

/** The same, without blocking the event loop (the desktop app's main process). */
export async function writeNewFile(target: string, data: Uint8Array | string, mode: number, words: NewFileWords): Promise<void> {
  refuseProfileFolder(target);
  let handle;
  try {
    handle = await open(target, NEW_FILE, mode);
  } catch (error) {
    throw openFailed(target, error, words);
  }
  try {
    await handle.writeFile(bytesOf(data));
    await handle.sync();
    await handle.close();
  } catch (error) {
    await handle.close().catch(() => undefined);
    await unlink(target).catch(() => undefined); // the file this call created, partial
    throw words.failed(target, error, 'write');
  }
}

// ---- reading a file the profile's attacker may have swapped ------------------------------------

/** Why `readRegularFile` refused a file. */
export class NotRegularFileError extends Error {
  constructor(readonly reason: 'not-regular' | 'too-big' | 'changed') {
    super(reason);
  }
}

/**
 * The regular file at `file`, opened once for reading without following a symlink (O_NOFOLLOW;
 * O_NONBLOCK so that a FIFO planted there does not block), with its stat; null when nothing is
 * there. NotRegularFileError('not-regular') for a symlink (even to a file), a folder, a device or
 * a FIFO. lstat first and the same (dev, ino) once open: where O_NOFOLLOW does not exist
 * (Windows) a symlink is still refused, and so is a file swapped between the two. The caller
 * reads from this handle only, never the name again, and closes it.
 */
export async function openRegularFile(file: string | Buffer): Promise<{ handle: FileHandle; info: Stats } | null> {
  let seen;
  try {
    seen = await lstat(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  if (!seen.isFile()) throw new NotRegularFileError('not-regular');
  let handle;
  try {
    handle = await open(file, constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0) | (constants.O_NONBLOCK ?? 0));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return null;
    if (code === 'ELOOP' || code === 'EISDIR' || code === 'ENXIO') throw new NotRegularFileError('not-regular');
    throw error;
  }
  const info = await handle.stat().catch(async (error: unknown) => {
    await handle.close();
    throw error;
  });
  if (!info.isFile() || info.ino !== seen.ino || info.dev !== seen.dev) {
    await handle.close();
    throw new NotRegularFileError('not-regular');
  }
  return { handle, info };
}

/**
 * The whole content of the regular file at `file`, read through ONE descriptor opened without
 * following a symlink (O_NOFOLLOW; O_NONBLOCK so that a FIFO planted there does not block); null
 * when nothing is there. Throws NotRegularFileError for a symlink (even to a file), a folder, a
 * device or a FIFO ('not-regular'), a file over `limit` bytes ('too-big'), one that grows while
 * read ('changed'). lstat first and the same (dev, ino) once open: where O_NOFOLLOW does not exist
 * (Windows) a symlink is still refused, and so is a file swapped between the two. What is returned
 * is what the caller checks and uses: never reopen the name afterwards.
 */
export async function readRegularFile(file: string | Buffer, limit: number): Promise<Buffer | null> {
  const opened = await openRegularFile(file);
  if (!opened) return null;
  const { handle, info } = opened;
  try {
    if (info.size > limit) throw new NotRegularFileError('too-big');
    // One byte more than announced: a file that grows while read is refused, not read on.
    const buffer = Buffer.alloc(info.size + 1);
    let length = 0;
    while (length < buffer.length) {
      const { bytesRead } = await handle.read(buffer, length, buffer.length - length, length);
      if (bytesRead === 0) break;
      length += bytesRead;
    }
    if (length > info.size) throw new NotRegularFileError('changed');
    return buffer.subarray(0, length);
  } finally {
    await handle.close();
  }
}

/**
 * Gives the complete file `from` the name `to` unless something is already there (false then,
 * `from` left in place): link() never replaces an existing name, a symlink (even dangling)
 * included, whereas rename() would. Where hard links are missing (FAT on a USB key, some network
 * shares), an exclusive copy (COPYFILE_EXCL) instead. On success `from` is removed.
 */
export async function placeNoReplace(from: string, to: string): Promise<boolean> {
  let placed = false;
  try {
    await link(from, to);
    placed = true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    // EISDIR: Windows on FAT and exFAT (ERROR_INVALID_FUNCTION, as libuv maps it); EACCES: some
    // network shares. A refusal that is not about links fails the copy below the same way.
    if (!['EPERM', 'ENOTSUP', 'EXDEV', 'ENOSYS', 'EOPNOTSUPP', 'EISDIR', 'EACCES'].includes(code ?? '')) throw error;
  }
  if (!placed) {
    try {
      await copyFile(from, to, constants.COPYFILE_EXCL);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw error;
    }
    // The copy on the disk before the name counts as written (the temporary was synced, not this).
    // Not synced: the copy this call made is removed, `from` is kept, and the failure goes up.
    try {
      const copied = await open(to, 'r+');
      try {
        await copied.sync();
      } finally {
        await copied.close();
      }
    } catch (error) {
      await unlink(to).catch(() => undefined);
      throw error;
    }
  }
  await unlink(from).catch(() => undefined);
  return true;
}

/** A mailbox file's mode in `folder` (docs/profile.md): 0660 when the folder is the group's (a
 * shared profile, 2770: another person's flush reads it), else 0600. Set with chmod (the umask
 * would take the group's write away). */
export async function mailFileMode(folder: string): Promise<number> {
  return ((await stat(folder)).mode & 0o070) !== 0 ? 0o660 : 0o600;
}
