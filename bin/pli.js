#!/usr/bin/env -S PLI_EXTRA_CA_CERTS=${NODE_EXTRA_CA_CERTS} NODE_EXTRA_CA_CERTS=${PLI_NODE_EXTRA_CA_CERTS} node
// The line above starts Node without NODE_EXTRA_CA_CERTS: Node 20 reads and parses every
// certificate that variable names at each start, before any code runs (~90 ms a command on the
// benchmark's machine, bench/README.md), and only a mailbox connection needs them. Its value goes
// to PLI_EXTRA_CA_CERTS instead, which the mailbox's connections add to Node's own authorities
// (electron/core/mail/connect.ts), so they trust what they trusted. PLI_NODE_EXTRA_CA_CERTS, unset
// unless someone sets it, gives Node its variable back. `env -S` expands ${...} on Linux and
// macOS; npm's Windows shims turn each ${NAME} into %NAME%, which is the same. `node bin/pli.js`
// bypasses this line and pays the start-up cost.
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
