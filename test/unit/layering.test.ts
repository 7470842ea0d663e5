// The core's floors (issue 11, eslint.config.js, rule pli/core-floors): crypto < container,
// profile < context.ts < authority < services < mail; a floor imports only from below. This runs
// ESLint's Node API with the project's configuration on small in-memory files, so that the rule
// cannot disappear, or stop seeing one kind of import, without a test failing.
import { describe, it, expect } from 'vitest';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const eslint = new ESLint({ cwd: ROOT });

/** The pli/core-floors messages for `code` placed at `file` (relative to the project). */
async function floorErrors(file: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: path.join(ROOT, file) });
  expect(result!.messages.filter((m) => m.fatal), 'the probe must parse').toEqual([]);
  return result!.messages.filter((m) => m.ruleId === 'pli/core-floors').map((m) => m.message);
}

describe('a floor may not import from a floor above it', () => {
  it('crypto/ importing ../services/policy.js fails the lint', async () => {
    const errors = await floorErrors('electron/core/crypto/probe.ts', "import { x } from '../services/policy.js';\nexport const y = x;\n");
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/^electron\/core\/crypto\/ may not import from services\//);
  });

  it('the arrow that ran back up (authority/ taking Context from services/) fails, also as a type import', async () => {
    expect(await floorErrors('electron/core/authority/probe.ts', "import type { Context } from '../services/context.js';\nexport type C = Context;\n")).toHaveLength(1);
  });

  it('every way of reaching a module is seen: export from, dynamic import, typeof import', async () => {
    const code = [
      "export * from '../mail/inbox.js';",
      "export { audit } from '../context.js';",
      "export const later = () => import('../authority/authority.js');",
      "export type P = typeof import('../profile/profile.js');",
    ].join('\n');
    const errors = await floorErrors('electron/core/container/probe.ts', code);
    expect(errors.map((e) => /from (\S+) /.exec(e)?.[1])).toEqual(['mail/', 'context.ts', 'authority/', 'profile/']);
  });

  it('each floor, from every floor below it', async () => {
    const floors = ['crypto', 'container', 'authority', 'services', 'mail'];
    for (const [i, from] of floors.entries()) {
      for (const to of floors.slice(i + 1)) {
        expect(await floorErrors(`electron/core/${from}/probe.ts`, `export * from '../${to}/x.js';\n`), `${from} -> ${to}`).toHaveLength(1);
      }
    }
    for (const to of ['context', 'authority', 'services', 'mail']) {
      const target = to === 'context' ? '../context.js' : `../${to}/x.js`;
      expect(await floorErrors('electron/core/profile/probe.ts', `export * from '${target}';\n`), `profile -> ${to}`).toHaveLength(1);
    }
    // The ground floor (errors.ts, workers.ts, ...) imports no floor at all.
    expect(await floorErrors('electron/core/workers.ts', "export * from './crypto/keys.js';\n")).toHaveLength(1);
  });
});

describe('what runs downwards is allowed', () => {
  for (const [file, target] of [
    ['electron/core/container/probe.ts', '../crypto/keys.js'],
    ['electron/core/authority/probe.ts', '../context.js'],
    ['electron/core/authority/probe.ts', '../profile/identities.js'],
    ['electron/core/context.ts', './profile/events.js'],
    ['electron/core/mail/probe.ts', '../services/containers.js'],
    ['electron/core/crypto/probe.ts', '../errors.js'],
    ['electron/core/crypto/probe.ts', './sodium.js'],
    ['electron/cli/probe.ts', '../core/mail/inbox.js'],
  ] as const) {
    it(`${file} -> ${target}`, async () => {
      expect(await floorErrors(file, `export * from '${target}';\n`)).toEqual([]);
    });
  }
});
