// The IPC layer's layout (issue 11): each file has one job and stays short enough to read whole,
// and handlers.ts only assembles the table (parse, dispatch, checkpoint, close). The checks read
// the sources, so a channel body added back into handlers.ts, or a file growing into a new
// closure of everything, fails here.
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { CHANNELS as VERBS } from '../../shared/channels.js';

const IPC = path.resolve(__dirname, '../../electron/ipc');
const MAX_LINES = 250;
const CHANNELS = Object.keys(VERBS);

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sources(full);
    return entry.name.endsWith('.ts') ? [full] : [];
  });
}

const files = sources(IPC);
const text = (file: string) => readFileSync(file, 'utf8');
const rel = (file: string) => path.relative(IPC, file);
/** A channel implemented in a file: its name as an object key (quoted, then `(` or `:`). */
const implementsChannel = (source: string, channel: string) =>
  new RegExp(`['"]${channel.replace(/[:]/g, '\\:')}['"]\\s*(\\(|:)`).test(source);

describe('electron/ipc layout', () => {
  it(`no file is longer than ${MAX_LINES} lines`, () => {
    const long = files.map((f) => ({ file: rel(f), lines: text(f).split('\n').length })).filter((f) => f.lines > MAX_LINES);
    expect(long).toEqual([]);
  });

  it('handlers.ts only assembles: no channel body, no core service call, no file or dialog access', () => {
    const source = text(path.join(IPC, 'handlers.ts'));
    expect(CHANNELS.filter((channel) => source.includes(`'${channel}'`) || source.includes(`"${channel}"`))).toEqual([]);
    // Its only core import is zod's hand-over; the services are reached through channels/.
    const imports = [...source.matchAll(/from '([^']+)'/g)].map((m) => m[1]!);
    expect(imports.filter((spec) => spec.startsWith('../core/') && spec !== '../core/zod.js' && spec !== '../core/errors.js')).toEqual([]);
    expect(imports.filter((spec) => spec.startsWith('node:'))).toEqual([]);
    expect(source).not.toMatch(/\bshell\.(saveFile|openFile|chooseFolder|showInFolder)\b/);
  });

  it('every channel of the contract is implemented in exactly one file under channels/', () => {
    const channelFiles = files.filter((f) => rel(f).startsWith(`channels${path.sep}`));
    expect(channelFiles.length).toBeGreaterThan(1);
    const where = CHANNELS.map((channel) => ({ channel, in: channelFiles.filter((f) => implementsChannel(text(f), channel)).map(rel) }));
    expect(where.filter((w) => w.in.length !== 1)).toEqual([]);
  });

  it('the desktop writers never replace a file: no plain writeFile to a chosen path in the IPC layer', () => {
    // fs's writeFile opens with 'w' (truncate, follow symlinks): only files.ts writes, through O_EXCL.
    const plain = files.filter((f) => /import\s*\{[^}]*\bwriteFile(Sync)?\b[^}]*\}\s*from\s*'node:fs|\bfs\.writeFile/.test(text(f))).map(rel);
    expect(plain).toEqual([]);
  });
});
