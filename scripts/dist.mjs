// `npm run dist`: packages the desktop app with electron-builder from a staging copy (release/stage):
// production dependencies installed there from the lock file, then rebuilt for Electron by
// electron-builder (npmRebuild). The working tree's node_modules are never rebuilt in place.
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const stage = path.join(root, 'release', 'stage');
const electronVersion = JSON.parse(readFileSync(path.join(root, 'node_modules/electron/package.json'), 'utf8')).version;
for (const built of ['dist/electron/main.js', 'dist/electron/preload.cjs', 'dist-renderer/index.html']) {
  if (!existsSync(path.join(root, built))) throw new Error(`${built} missing: run npm run dist (it builds first).`);
}
rmSync(stage, { recursive: true, force: true });
mkdirSync(stage, { recursive: true });
// native/: the chunk cipher's addon (optional dependency pli-native), sources only: electron-builder
// rebuilds it for Electron with the other native modules; where it does not load there, Node's
// Cipher API serves (electron/core/container/gcm.ts).
for (const entry of ['package.json', 'package-lock.json', 'dist', 'dist-renderer', 'build', 'native']) {
  cpSync(path.join(root, entry), path.join(stage, entry), { recursive: true, filter: (source) => !source.startsWith(path.join(root, 'native', 'build')) });
}
const run = (cmd, args) => execFileSync(cmd, args, { cwd: stage, stdio: 'inherit', env: { ...process.env, npm_config_ignore_scripts: 'true' } });
run('npm', ['ci', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund']);
execFileSync(path.join(root, 'node_modules/.bin/electron-builder'),
  ['--config', 'build/electron-builder.yml', `-c.electronVersion=${electronVersion}`, `-c.directories.output=${path.join(root, 'release')}`, ...process.argv.slice(2)],
  { cwd: stage, stdio: 'inherit' });
