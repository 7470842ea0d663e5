// A retry whose new reader cannot start (read.ts `lost`): the reader is killed while idle, the
// next read goes to a new reader, and starting it throws (the worker's file missing, a fork
// refused). That read is rejected as a first read would be, and the reads after it are answered:
// the throw once went into the dead reader's 'exit' handler, and every later read waited forever.
import { afterAll, describe, expect, it, vi } from 'vitest';

const control = vi.hoisted(() => ({ refuse: false }));
vi.mock('../../electron/core/workers.js', async (original) => {
  const real = await original<typeof import('../../electron/core/workers.js')>();
  return {
    ...real,
    workerFile: (name: string, from: string) => {
      if (control.refuse) throw new Error('le fichier du lecteur manque');
      return real.workerFile(name, from);
    },
  };
});

const { readerPidForTests, readState, stopReading } = await import('../../electron/core/indicators/read.js');
const { BUILT_IN_MAPPINGS } = await import('../../electron/core/indicators/mapping.js');
const { small } = await import('./indicators-reader-support.js');

const within = <T>(promise: Promise<T>, ms: number) => Promise.race([promise, new Promise<'no answer'>((resolve) => setTimeout(resolve, ms, 'no answer'))]);

afterAll(async () => {
  await stopReading();
});

describe('a retry whose new reader cannot start', () => {
  it('rejects that read, and the next reads are answered', async () => {
    expect((await readState(small(), BUILT_IN_MAPPINGS, null)).recognised).toBe(true);
    process.kill(readerPidForTests()!, 'SIGKILL');
    control.refuse = true;
    // Same tick: the dead reader takes the job, its exit hands it to a new one, which cannot start.
    const failed = await within(readState(small(), BUILT_IN_MAPPINGS, null).then(() => 'answered', (error: Error) => error.message), 5000);
    expect(failed).toBe('le fichier du lecteur manque');
    control.refuse = false;
    const next = await within(readState(small(), BUILT_IN_MAPPINGS, null), 5000);
    expect(next).toMatchObject({ recognised: true });
  });
});
