// The addon's C compiles warning-free off Linux too: binding.gyp builds it with -Werror, and
// node-gyp's make generator (Linux, the BSDs) passes those flags. Code under `#ifdef __linux__`
// once left variables set but unused elsewhere, which only a non-Linux build would have refused.
// Here gcc plays that build on this machine's headers with __linux__ undefined.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const nativeDir = path.resolve(__dirname, '../../native');
const nodeHeaders = path.resolve(path.dirname(process.execPath), '..', 'include', 'node');
const gcc = spawnSync('gcc', ['--version']).status === 0;
const ready = gcc && existsSync(path.join(nodeHeaders, 'node_api.h'));
if (!ready) console.log(`skipped: no gcc or no Node headers at ${nodeHeaders}`);

describe.skipIf(!ready)('native/*.c without __linux__', () => {
  const sources = readdirSync(nativeDir).filter((name) => name.endsWith('.c'));

  it('finds the addon sources binding.gyp lists', () => {
    expect(sources).toEqual(expect.arrayContaining(['gcm.c', 'stream.c', 'reader.c', 'digest.c']));
  });

  it.each(sources)('%s compiles with -Wall -Wextra -Werror', (source) => {
    const run = spawnSync(
      'gcc',
      ['-fsyntax-only', '-O2', '-Wall', '-Wextra', '-Werror', '-U__linux__', `-I${nodeHeaders}`, source],
      { cwd: nativeDir, encoding: 'utf8' },
    );
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
  });
});
