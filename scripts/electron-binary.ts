// Where the Electron binary is, or null when it is not installed. The electron package downloads
// its binary lazily on first require() (a network fetch, impossible on offline machines), so this
// reads the package's path.txt instead of requiring it.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

export function electronBinary(): string | null {
  let dir: string;
  try {
    dir = path.dirname(createRequire(import.meta.url).resolve('electron/package.json'));
  } catch {
    return null;
  }
  const pathFile = path.join(dir, 'path.txt');
  if (!existsSync(pathFile)) return null;
  const relative = readFileSync(pathFile, 'utf8').trim();
  const base = process.env.ELECTRON_OVERRIDE_DIST_PATH ?? path.join(dir, 'dist');
  const executable = path.join(base, relative);
  return existsSync(executable) ? executable : null;
}
