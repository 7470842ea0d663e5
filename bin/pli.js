#!/usr/bin/env node
// The `pli` command. Runs the bundled CLI (dist/cli/pli.js, scripts/bundle-cli.mjs: one file to
// load instead of a few hundred, a faster start) when it is there and not older than the compiled
// modules, else the compiled modules themselves (dist/electron/cli/run.js). Both come from
// `npm run build` (npm ci runs it through the "prepare" script). Run it through its bin link
// (`npm link`, or ./node_modules/.bin/pli), not `npx pli`, which adds npm's own start-up.
import { statSync } from 'node:fs';

const modules = new URL('../dist/electron/cli/run.js', import.meta.url);
const bundle = new URL('../dist/cli/pli.js', import.meta.url);
const mtime = (url) => statSync(url, { throwIfNoEntry: false })?.mtimeMs;
const built = mtime(modules);
if (built === undefined) {
  process.stderr.write('pli: the program is not built yet: run "npm ci" (or "npm run build") in the project folder.\n');
  process.exit(1);
}
// A bundle older than the modules is stale (tsc run alone after a change): never run it.
const bundled = mtime(bundle);
await import((bundled !== undefined && bundled >= built ? bundle : modules).href);
