// The real `pli` binary in a temporary folder, shared by the CLI test files: a runner that can
// shift the child's clock (a preloaded module moves Date.now; the binary itself is unchanged),
// and assertions for success and for refusals with their exit code and one-line French message.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { expect } from 'vitest';

export const BIN = fileURLToPath(new URL('../../bin/pli.js', import.meta.url));

export interface Run { code: number; stdout: string; stderr: string }
export interface RunOptions { env?: Record<string, string>; offsetMs?: number }

export function cliSandbox(prefix: string, passphrase: string) {
  const root = mkdtempSync(path.join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), prefix));
  const at = (name: string): string => path.join(root, name);
  const clock = at('clock.mjs');
  writeFileSync(clock, `const offset = Number(process.env.PLI_TEST_CLOCK_OFFSET_MS || 0);
const realNow = Date.now.bind(Date);
Date.now = () => realNow() + offset;
`);

  function pli(home: string, args: string[], options: RunOptions = {}): Promise<Run> {
    const env: NodeJS.ProcessEnv = { ...process.env, PLI_PASSPHRASE: passphrase, PLI_TEST_CLOCK_OFFSET_MS: String(options.offsetMs ?? 0) };
    delete env.PLI_HOME;
    delete env.PLI_NEW_PASSPHRASE;
    Object.assign(env, options.env);
    const argv = [...(options.offsetMs ? ['--import', pathToFileURL(clock).href] : []), BIN, '--home', at(home), ...args];
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, argv, { env, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    });
  }

  /** Runs and expects success; returns the last line of stdout. */
  async function ok(home: string, args: string[], options?: RunOptions): Promise<string> {
    const run = await pli(home, args, options);
    expect(run.code, `pli ${args.join(' ')}\n${run.stderr}`).toBe(0);
    return run.stdout.trim().split('\n').pop() ?? '';
  }

  /** Runs and expects exit `code` with a `pli: ` message matching `words`. */
  async function refused(code: number, home: string, args: string[], words: RegExp, options?: RunOptions): Promise<Run> {
    const run = await pli(home, args, options);
    expect(run.code, `pli ${args.join(' ')}\nstdout: ${run.stdout}\nstderr: ${run.stderr}`).toBe(code);
    expect(run.stderr).toMatch(/^pli: /m);
    expect(run.stderr).toMatch(words);
    return run;
  }

  return { root, at, pli, ok, refused };
}
