// The `pli` command line run in this test's process, its output captured: one runner for the unit
// and mail tests that need the CLI's exact words without a child process.
import { main } from '../../electron/cli/pli.js';

/** Runs `pli argv` with `env` set for the call only (each variable put back as it was). */
export async function captureMain(argv: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const outChunks: string[] = [];
  const errChunks: string[] = [];
  const w1 = process.stdout.write.bind(process.stdout);
  const w2 = process.stderr.write.bind(process.stderr);
  const before = Object.fromEntries(Object.keys(env).map((name) => [name, process.env[name]]));
  process.stdout.write = ((c: string) => { outChunks.push(String(c)); return true; }) as typeof process.stdout.write;
  process.stderr.write = ((c: string) => { errChunks.push(String(c)); return true; }) as typeof process.stderr.write;
  Object.assign(process.env, env);
  try {
    const code = await main(argv);
    return { code, stdout: outChunks.join(''), stderr: errChunks.join('') };
  } finally {
    process.stdout.write = w1;
    process.stderr.write = w2;
    for (const [name, value] of Object.entries(before)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
}
