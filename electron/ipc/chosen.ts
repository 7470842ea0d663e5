// The files the person chose in the interface: picked with a « Choisir » button or dropped on the
// window. The preload hands main the path of each such File (webUtils.getPathForFile, which gives
// no path for a File the page made itself); main keeps them here.
//
// Invariant: a path the interface names as an input (a file to seal or to send, a container to
// inspect or open, a card to import) is used only when the person chose it during this run of
// Pli. A script running in the page (a compromised interface) can still reach what the person
// chose, never another file they can read: without this, it could name any of them to be sealed
// and mailed to a certified correspondent (README.md, "What the interface may name").
import path from 'node:path';
import { securityError } from '../core/errors.js';

/** The oldest choices are forgotten beyond this many (each is a path, at most 4096 characters). */
const MAX_CHOSEN = 10_000;
const MAX_PATH = 4096;

export type ChosenFiles = ReturnType<typeof createChosenFiles>;

export function createChosenFiles() {
  const chosen = new Set<string>();
  return {
    /** Records a path the person chose; false (nothing recorded) for anything but an absolute path. */
    choose(candidate: unknown): boolean {
      if (typeof candidate !== 'string' || candidate.length === 0 || candidate.length > MAX_PATH || !path.isAbsolute(candidate)) return false;
      chosen.delete(candidate); // the newest choice is the last forgotten
      chosen.add(candidate);
      while (chosen.size > MAX_CHOSEN) chosen.delete(chosen.values().next().value!);
      return true;
    },
    /** Refuses, before any work, when one of `paths` was not chosen by the person (exact string). */
    require(paths: readonly string[]): void {
      const stranger = paths.find((p) => !chosen.has(p));
      if (stranger !== undefined) {
        throw securityError('file-not-chosen',
          `Pli n’a pas utilisé ${path.basename(stranger)} : ce fichier n’a pas été choisi dans sa fenêtre, et rien n’a été fait. Choisissez-le avec le bouton ou déposez-le dans la fenêtre, puis recommencez.`,
          { file: path.basename(stranger) });
      }
    },
  };
}
