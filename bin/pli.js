#!/usr/bin/env node
// The `pli` command: runs the compiled CLI (npm ci builds it through the "prepare" script).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const entry = new URL('../dist/electron/cli/run.js', import.meta.url);
if (!existsSync(fileURLToPath(entry))) {
  process.stderr.write('pli: the program is not built yet: run "npm ci" (or "npm run build") in the project folder.\n');
  process.exit(1);
}
await import(entry.href);
