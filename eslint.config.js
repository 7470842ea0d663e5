// Lint, and the layer rules of the README (its folder table) enforced here rather than by goodwill:
//   shared/   imports no Electron, no Node built-in, no DOM (it is used on both sides);
//   renderer/ never imports electron/ (nor Electron, nor Node);
//   electron/ never imports renderer/;
//   electron/core/ and electron/ipc/ never import Electron (they must run under plain Node: tests,
//   CLI, and the end-to-end bridge that binds the IPC handler table to loopback HTTP);
//   the core's floors import only from below (pli/core-floors, after VS Code's code-layering):
//   crypto < container, profile < context.ts < authority < services < mail.
import path from 'node:path';
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

const nodeBuiltins = ['node:*', 'fs', 'path', 'os', 'crypto', 'child_process', 'worker_threads', 'net', 'tls', 'stream', 'util', 'events', 'url', 'buffer'];
const pattern = (group, message) => ({ group, message });

// The core's floors: what each one may not import. A module at the core's root other than
// context.ts (errors.ts, zod.ts, workers.ts) is the ground floor, below them all.
const CORE = path.join(import.meta.dirname, 'electron', 'core');
const FOLDERS = ['crypto', 'container', 'profile', 'authority', 'services', 'mail', 'indicators'];
const FLOOR_MAY_NOT_IMPORT = {
  crypto: ['container', 'profile', 'context', 'authority', 'services', 'mail'],
  container: ['profile', 'context', 'authority', 'services', 'mail'],
  profile: ['context', 'authority', 'services', 'mail'],
  context: ['authority', 'services', 'mail'],
  authority: ['services', 'mail'],
  services: ['mail'],
  mail: [],
  indicators: ['mail'], // above services: reads conventions and the inbox's rows, never the mail code
};
/** The floor of a path inside electron/core/ (its first folder, or a root module's name), else null. */
function floorOf(file) {
  const relative = path.relative(CORE, file);
  if (relative.startsWith('..') || path.isAbsolute(relative)) return null;
  const [first, ...rest] = relative.split(path.sep);
  return rest.length ? first : first.replace(/\.[cm]?[jt]s$/, '');
}
const label = (floor) => (FOLDERS.includes(floor) ? `${floor}/` : `${floor}.ts`);
const coreFloors = {
  meta: { type: 'problem', schema: [], messages: { up: 'electron/core/{{from}} may not import from {{to}} (a floor above it): crypto < container, profile < context.ts < authority < services < mail. Move what both need down a floor.' } },
  create(context) {
    const from = floorOf(context.filename);
    if (!from) return {};
    const forbidden = FLOOR_MAY_NOT_IMPORT[from] ?? [...FOLDERS, 'context']; // the ground floor
    const check = (node, source) => {
      if (typeof source?.value !== 'string' || !source.value.startsWith('.')) return;
      const to = floorOf(path.resolve(path.dirname(context.filename), source.value));
      if (to && to !== from && forbidden.includes(to)) context.report({ node, messageId: 'up', data: { from: label(from), to: label(to) } });
    };
    return {
      ImportDeclaration: (node) => check(node, node.source),
      ExportAllDeclaration: (node) => check(node, node.source),
      ExportNamedDeclaration: (node) => check(node, node.source),
      ImportExpression: (node) => check(node, node.source),
      TSImportType: (node) => check(node, node.argument?.literal ?? node.argument),
    };
  },
};

export default tseslint.config(
  { ignores: ['dist/**', 'dist-renderer/**', 'release/**', 'node_modules/**', 'test/artifacts/**', 'bench/out/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'off',
    },
  },
  {
    files: ['shared/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [
        pattern(['electron', 'electron/*'], 'shared/ must not import Electron.'),
        pattern(nodeBuiltins, 'shared/ must not import Node built-ins: it runs in the renderer too.'),
        pattern(['**/electron/**', '**/renderer/**'], 'shared/ must not import either side.'),
      ] }],
      'no-restricted-globals': ['error', 'window', 'document', 'process', 'Buffer', 'require'],
    },
  },
  {
    files: ['renderer/**/*.ts', 'renderer/**/*.tsx'],
    languageOptions: { globals: { ...globals.browser } },
    rules: {
      'no-restricted-imports': ['error', { patterns: [
        pattern(['electron', 'electron/*'], 'The renderer is sandboxed: it talks to main only through the preload bridge.'),
        pattern(['**/electron/**'], 'renderer/ must never import electron/: use the IPC contract in shared/.'),
        pattern(nodeBuiltins, 'The renderer has no Node.'),
      ] }],
    },
  },
  {
    files: ['electron/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [
        pattern(['**/renderer/**'], 'electron/ must never import renderer/.'),
      ] }],
    },
  },
  {
    files: ['electron/core/**/*.ts'],
    plugins: { pli: { rules: { 'core-floors': coreFloors } } },
    rules: { 'pli/core-floors': 'error' },
  },
  {
    files: ['electron/core/**/*.ts', 'electron/cli/**/*.ts', 'electron/ipc/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [
        pattern(['electron', 'electron/*'], 'Core and CLI run under plain Node (tests, CLI): no Electron import.'),
        pattern(['**/renderer/**'], 'electron/ must never import renderer/.'),
      ] }],
    },
  },
  {
    // The audit log has one owner, the core: the front ends write no event (docs/audit.md,
    // "Who writes what"). They pass the core who is acting (Context.actor) and it logs.
    files: ['electron/cli/**/*.ts', 'electron/ipc/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [
        pattern(['electron', 'electron/*'], 'Core and CLI run under plain Node (tests, CLI): no Electron import.'),
        pattern(['**/renderer/**'], 'electron/ must never import renderer/.'),
        { group: ['**/core/profile/events.js'], importNames: ['appendEvent'], message: 'Only the core writes audit events: call the core operation that makes the change; it logs it.' },
        { group: ['**/core/context.js'], importNames: ['audit', 'audited'], message: 'Only the core writes audit events: call the core operation that makes the change; it logs it.' },
      ] }],
    },
  },
);
