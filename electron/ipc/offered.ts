// The .pli files handed to Pli from outside: a double-click in the file manager (the association
// of build/electron-builder.yml), "open with", the command line at start, a second instance, or
// macOS's open-file. main passes each path here; the interface gets a reference and the file's
// name only, and can open nothing else through it.
//
// Invariant: a reference names a path main received from the system, checked here as an absolute
// path to a regular .pli file (lstat: a symlink is refused); the interface can neither choose nor
// learn a path through the offered:* channels.
import { lstatSync } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { inputError } from '../core/errors.js';
import type { OfferedFile } from '../../shared/ipc.js';

/** Older references are forgotten beyond this many (a burst of double-clicks). */
const MAX_OFFERED = 20;

export type OfferedFiles = ReturnType<typeof createOfferedFiles>;

export function createOfferedFiles(emit: () => void) {
  const files = new Map<string, { path: string; fileName: string; shown: boolean }>();
  return {
    offer(candidate: string): string | null {
      if (typeof candidate !== 'string' || !path.isAbsolute(candidate) || path.extname(candidate).toLowerCase() !== '.pli') return null;
      try {
        if (!lstatSync(candidate).isFile()) return null;
      } catch {
        return null;
      }
      const ref = `f${randomBytes(10).toString('hex')}`;
      files.set(ref, { path: candidate, fileName: path.basename(candidate), shown: false });
      while (files.size > MAX_OFFERED) files.delete(files.keys().next().value!);
      emit();
      return ref;
    },
    /** The files not listed yet (each is listed once: the interface shows it at once). */
    take(): OfferedFile[] {
      const fresh = [...files.entries()].filter(([, f]) => !f.shown);
      for (const [, f] of fresh) f.shown = true;
      return fresh.map(([ref, f]) => ({ ref, fileName: f.fileName }));
    },
    pathOf(ref: string): string {
      const file = files.get(ref);
      if (!file) throw inputError('offered-gone', 'Ce pli n’est plus disponible dans Pli : ouvrez-le à nouveau depuis le gestionnaire de fichiers, ou déposez-le dans la fenêtre.');
      return file.path;
    },
  };
}
