// Lint, and the layer rules of DEVELOPERS.md enforced here rather than by goodwill:
//   shared/   imports no Electron, no Node built-in, no DOM (it is used on both sides);
//   renderer/ never imports electron/ (nor Electron, nor Node);
//   electron/ never imports renderer/;
//   electron/core/ and electron/ipc/ never import Electron (they must run under plain Node: tests,
//   CLI, and the end-to-end bridge that binds the IPC handler table to loopback HTTP).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

const nodeBuiltins = ['node:*', 'fs', 'path', 'os', 'crypto', 'child_process', 'worker_threads', 'net', 'tls', 'stream', 'util', 'events', 'url', 'buffer'];
const pattern = (group, message) => ({ group, message });

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
    files: ['electron/core/**/*.ts', 'electron/cli/**/*.ts', 'electron/ipc/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [
        pattern(['electron', 'electron/*'], 'Core and CLI run under plain Node (tests, CLI): no Electron import.'),
        pattern(['**/renderer/**'], 'electron/ must never import renderer/.'),
      ] }],
    },
  },
);
