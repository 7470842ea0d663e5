// The helpers the signal tests rely on (support.ts): a helper that misreads the child fails those
// tests at random, in CI, far from its cause.
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { untilStopped } from './support.js';

describe('untilStopped', () => {
  it('waits through threads that come and go, then sees the process stopped', async () => {
    // Worker threads that end at once, one after the other, for 1.5 s; then the child stops
    // itself, as pli does under the stop shim. A thread that ends between the listing of
    // /proc/PID/task and the reading of its state once made the helper report the process gone
    // (CI, stop 31; here the test then failed 2 times in 6).
    const churn = "const {Worker}=require('node:worker_threads');const t=Date.now();" +
      "(function go(){if(Date.now()-t>1500)return process.kill(process.pid,'SIGSTOP');new Worker('0',{eval:true}).on('exit',go);})()";
    const child = spawn(process.execPath, ['-e', churn], { stdio: 'ignore' });
    const closed = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
    try {
      await untilStopped(child.pid!, closed, 30_000);
    } finally {
      child.kill('SIGKILL');
    }
    expect(await closed).toEqual({ code: null, signal: 'SIGKILL' });
  }, 40_000);

  it('rejects with how the process ended when it ends without stopping', async () => {
    const child = spawn(process.execPath, ['-e', "process.stderr.write('refusé'); process.exit(3)"], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => { stderr += d.toString('utf8'); });
    const closed = new Promise((resolve) => child.on('close', (code) => resolve({ code, stderr })));
    await expect(untilStopped(child.pid!, closed, 30_000)).rejects.toThrow(/ended without stopping: \{"code":3,"stderr":"refusé"\}/);
  });
});
