// Where the PDF fonts are. Pli embeds DejaVu Sans (regular and bold: every French letter, « », ’,
// and the non-breaking spaces) in every PDF it writes, so that a document reads and prints the same
// on any workstation and its text can be selected and searched.
//
// Two places, tried in this order:
//   1. the packaged app: electron-builder copies build/fonts/ as extra resources into
//      `process.resourcesPath/fonts` (build/electron-builder.yml). `process.resourcesPath` exists
//      only inside Electron; the folder must hold the files (a development Electron run has a
//      resources folder without them, and then falls through to 2);
//   2. the source tree: build/fonts/ at the repository's root, found by walking up from this
//      module, which runs from electron/core/pdf/ (tests, tsx) or from dist/electron/core/pdf/
//      (the built CLI and app).
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { temporaryError } from '../errors.js';

export const REGULAR_FONT = 'DejaVuSans.ttf';
export const BOLD_FONT = 'DejaVuSans-Bold.ttf';

const hasFonts = (dir: string): boolean => existsSync(path.join(dir, REGULAR_FONT)) && existsSync(path.join(dir, BOLD_FONT));

let found: string | undefined;

/** The folder holding both font files; throws (temporary: the installation is incomplete) when
 * neither place has them. */
export function fontsFolder(): string {
  if (found) return found;
  const resources = (process as { resourcesPath?: string }).resourcesPath;
  if (typeof resources === 'string' && hasFonts(path.join(resources, 'fonts'))) return (found = path.join(resources, 'fonts'));
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let up = 0; up < 6; up += 1) {
    const candidate = path.join(dir, 'build', 'fonts');
    if (hasFonts(candidate)) return (found = candidate);
    dir = path.dirname(dir);
  }
  throw temporaryError('pdf-fonts-missing', "Les polices de caractères des documents PDF sont introuvables : l'installation de Pli est incomplète. Rien n'a été écrit. Réinstallez Pli ou prévenez le support informatique.");
}
