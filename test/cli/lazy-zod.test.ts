// zod is loaded by the first schema used, not at start-up (electron/core/zod.ts): a decryption
// parses nothing before its Argon2id unlock, and zod's ~9 MiB then stay out of that unlock's
// peak memory. In the desktop app the core uses the ES module the IPC layer already loaded.
// Runs the compiled modules (dist/, `npm run build` first) in a fresh Node process.
import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const DIST = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../dist/electron');
const url = (file: string): string => JSON.stringify(pathToFileURL(path.join(DIST, file)).href);

/** Runs `body` (an ES module) in a new Node process; returns what it printed, parsed. */
function probe(body: string): Record<string, boolean> {
  const run = spawnSync(process.execPath, ['--input-type=module', '-e', body], { encoding: 'utf8' });
  expect(run.status, run.stderr).toBe(0);
  return JSON.parse(run.stdout) as Record<string, boolean>;
}

// zod's core marks its first load with this global, whether loaded as ES module or CommonJS.
const LOADED = 'globalThis.__zod_globalConfig !== undefined';
const USE_A_SCHEMA = `
  const { encodeManifest, decodeManifest } = await import(${url('core/container/manifest.js')});
  decodeManifest(encodeManifest({ v: 1, sender: 'T0ABBCSWKRYFFYH0'.toLowerCase(), files: [] }));`;
const COMMONJS_ZOD = `Object.keys((await import('node:module')).createRequire(import.meta.url).cache).some((k) => k.includes('/node_modules/zod/'))`;

describe('zod is loaded on first use', () => {
  it('the whole command line loads without zod; the first schema used loads it', () => {
    const seen = probe(`
      await import(${url('cli/pli.js')});
      const atStart = ${LOADED};
      ${USE_A_SCHEMA}
      console.log(JSON.stringify({ atStart, afterUse: ${LOADED} }));`);
    expect(seen).toEqual({ atStart: false, afterUse: true });
  });

  it('with the IPC layer loaded (desktop app), the core uses its copy: zod is not loaded a second time', () => {
    const seen = probe(`
      await import(${url('ipc/handlers.js')});
      ${USE_A_SCHEMA}
      console.log(JSON.stringify({ commonJsCopy: ${COMMONJS_ZOD} }));`);
    expect(seen).toEqual({ commonJsCopy: false });
  });
});
