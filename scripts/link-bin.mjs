#!/usr/bin/env node
// Leaves a `pli` command in node_modules/.bin after `npm ci` (the "prepare" script runs this):
// npm links the bins of a project's dependencies there, never the project's own. It is a
// symbolic link to bin/pli.js, so it runs through that file's first line (which keeps Node's
// start short, bin/pli.js says how) and never through npx. Replaced only when it is a link.
// Windows gets nothing here: `npm link` makes npm's own shims there.
import { lstatSync, mkdirSync, readlinkSync, rmSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

if (process.platform !== 'win32') {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
  const link = path.join(root, 'node_modules', '.bin', 'pli');
  const target = path.join('..', '..', 'bin', 'pli.js');
  const present = lstatSync(link, { throwIfNoEntry: false });
  if (present && !present.isSymbolicLink()) {
    process.stderr.write(`link-bin: ${link} is not a link made by this script: left as it is.\n`);
  } else if (!present || readlinkSync(link) !== target) {
    if (present) rmSync(link);
    mkdirSync(path.dirname(link), { recursive: true });
    symlinkSync(target, link);
  }
}
