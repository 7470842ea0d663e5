// `pli open` of an inbox entry killed mid-way (Ctrl-C, a service stop): like `pli decrypt`
// (test/cli/cli.test.ts, "interrompu"), the command exits 128 + the signal's number and leaves
// no temporary folder and no partial file in the output folder. Needs `npm run build`.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { BIN, cliSandbox, midWay, stopAfterFirstPlaintext, untilStopped } from './support.js';

const PASS = 'une phrase de passe de test';
const cli = cliSandbox('pli-inbox-signals-', PASS);
const { root, at, ok } = cli;
let inboxId = '';

beforeAll(async () => {
  await Promise.all([ok('A', ['init']), ok('B', ['init'])]);
  const [alice, bob] = await Promise.all([
    ok('A', ['id', 'new', '--name', 'Alice Martin', '--email', 'police@nancy.fr', '--org', 'Police municipale']),
    ok('B', ['id', 'new', '--name', 'Bob Durand', '--email', 'mairie@nancy.fr', '--org', 'Mairie de Nancy']),
  ]);
  await Promise.all([ok('A', ['id', 'export', alice, '--out', at('alice.card')]), ok('B', ['id', 'export', bob, '--out', at('bob.card')])]);
  await Promise.all([ok('A', ['id', 'import', at('bob.card')]), ok('B', ['id', 'import', at('alice.card')])]);
  const big = at('releve-annuel.csv');
  writeFileSync(big, randomBytes(96 * 1024 * 1024));
  mkdirSync(at('cle-usb'));
  await ok('A', ['encrypt', '--to', bob, '--out', path.join(at('cle-usb'), 'releve.pli'), big]);
  rmSync(big);
  inboxId = (await ok('B', ['receive', '--folder', at('cle-usb')])).split(/\s+/)[0]!;
  expect(inboxId).toMatch(/^\d+$/);
}, 180000);

afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

describe('pli open of an inbox entry killed mid-way leaves no temporary folder and no partial file', () => {
  for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
    it(`${signal}: exit ${code}, the folder left empty, the entry still to open`, async () => {
      const out = at(`interrompu-${signal}`);
      mkdirSync(out);
      const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('PLI_'))) as Record<string, string>;
      // pli stops itself right after its first plaintext bytes: the signal lands mid-way on any
      // machine (a poll of the folder could see it done already, or not begun).
      const stop = stopAfterFirstPlaintext(out);
      const child = spawn(process.execPath, [...stop.execArgv, BIN, '--home', at('B'), 'open', inboxId, '--out', out], { env: { ...base, ...stop.env, PLI_PASSPHRASE: PASS }, stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      child.stdout.resume();
      child.stderr.on('data', (d: Buffer) => { stderr += d.toString('utf8'); });
      const closed = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
        child.on('error', reject);
        child.on('close', (exit, killed) => resolve({ code: exit, signal: killed }));
      });
      await untilStopped(child.pid!, closed);
      expect(midWay(out), 'the decryption was caught mid-way').toBe(true);
      child.kill(signal);
      child.kill('SIGCONT');
      expect(await closed, stderr).toEqual({ code, signal: null });
      expect(stderr).toContain('interrompu');
      expect(readdirSync(out)).toEqual([]);
      // Nothing was recorded as opened: the entry is still there to open.
      expect(await ok('B', ['inbox'])).toMatch(new RegExp(`^${inboxId} .*vérifié`));
    }, 90000);
  }
});
