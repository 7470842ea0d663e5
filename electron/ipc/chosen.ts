// The files the person chose in the interface: picked with a « Choisir » button or dropped on the
// window. The preload hands main the path of each such File (webUtils.getPathForFile, which gives
// no path for a File the page made itself); main keeps them here.
//
// Invariant: a path the interface names as an input (a file to seal or to send, a container to
// inspect or open, a card to import) is used only when the person signed in chose it during this
// run of Pli (or someone chose it while nobody was signed in, e.g. a .pli dropped on the sign-in
// screen). A script running in the page (a compromised interface) can still reach what that
// person chose, never another file they can read, nor what the previous person of a shared
// workstation chose: without this, it could name any of them to be sealed and mailed to a
// certified correspondent (README.md, "What the interface may name").
import path from 'node:path';
import { securityError } from '../core/errors.js';
import { filePath } from '../../shared/ipc.js';

/** The oldest choices are forgotten beyond this many (each is a path the contract accepts). */
const MAX_CHOSEN = 10_000;

export type ChosenFiles = ReturnType<typeof createChosenFiles>;

/** `signedIn`: the id of the person signed in now, null when nobody is. */
export function createChosenFiles(signedIn: () => string | null) {
  /** Each path chosen, and who was signed in when it was (null: nobody). */
  const chosen = new Map<string, string | null>();
  return {
    /** Records a path the person chose; false (nothing recorded) for anything but an absolute path
     * the contract's requests could name (shared/ipc.ts filePath). */
    choose(candidate: unknown): boolean {
      const parsed = filePath.safeParse(candidate);
      if (!parsed.success || !path.isAbsolute(parsed.data)) return false;
      chosen.delete(parsed.data); // the newest choice is the last forgotten
      chosen.set(parsed.data, signedIn());
      while (chosen.size > MAX_CHOSEN) chosen.delete(chosen.keys().next().value!);
      return true;
    },
    /** Refuses, before any work, when one of `paths` (exact strings) was not chosen, or was chosen
     * while another person was signed in. */
    require(paths: readonly string[]): void {
      const now = signedIn();
      const stranger = paths.find((p) => {
        const by = chosen.get(p);
        return by === undefined || (by !== null && by !== now);
      });
      if (stranger !== undefined) {
        const file = path.basename(stranger);
        // Only a script in the page, or a file chosen by the previous person, comes here: the
        // interface itself names only what pathForFile gave it.
        throw securityError('file-not-chosen',
          `Demande refusée : Pli n’a pas utilisé « ${file} », qui n’a pas été choisi dans cette fenêtre par la personne connectée. Rien n’a été fait. Si vous venez de choisir ce fichier, choisissez-le à nouveau ; sinon, prévenez l’officier SSI : la demande ne vient pas de vous.`,
          { file });
      }
    },
  };
}
