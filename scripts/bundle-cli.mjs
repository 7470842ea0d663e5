#!/usr/bin/env node
// Bundles the `pli` command (electron/cli/run.ts) with esbuild into dist/cli/, which bin/pli.js
// runs when present (else dist/electron/cli/run.js): one file to resolve and read instead of a
// few hundred modules, which was a third of a command's start-up (bench/README.md, "Where the
// fixed cost goes"). Run by `npm run build`, after tsc, so it is never older than dist/.
//   - Lazy imports stay lazy: code split into chunks (format esm, splitting), loaded on first use.
//   - Our code and the pure JavaScript it needs before the unlock (@noble) are bundled, zod in a
//     file of its own (zod.cjs, loaded on first use);
//     every other package stays external and loads from node_modules as before: native bindings
//     (better-sqlite3, sodium-native), and packages that read files beside their own code
//     (pdfkit's font metrics) or are loaded only by some commands (mail, spreadsheets).
//   - Each worker (`*.worker.ts`, found by name) is an entry of its own, written beside the
//     chunks: workerEntry() looks for `<name>.worker.js` next to the module that starts it.
// Code that finds a file relative to its own module (import.meta.url) other than a worker
// must not be bundled: keep it in a package, or read the path from the caller.
import { build } from 'esbuild';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const OUT = path.join(ROOT, 'dist', 'cli');
const BUNDLED_PACKAGES = ['@noble/post-quantum', '@noble/hashes', '@noble/curves'];

const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
const external = [...Object.keys(pkg.dependencies ?? {}), ...Object.keys(pkg.devDependencies ?? {})]
  .filter((name) => !BUNDLED_PACKAGES.includes(name))
  .flatMap((name) => [name, `${name}/*`]);

const workers = readdirSync(path.join(ROOT, 'electron'), { recursive: true })
  .filter((file) => file.endsWith('.worker.ts'))
  .map((file) => ({ in: path.join(ROOT, 'electron', file), out: path.basename(file, '.ts') }));

// zod.ts loads zod with createRequire (synchronously, on first use), which esbuild does not
// follow: inside the bundle the same call becomes require('./zod.cjs'), zod bundled into a file
// of its own (below) beside the chunks, which the chunks' require() (the banner's, relative to
// the chunk) finds. Kept out of the chunks, its ~400 KiB are not even parsed by a command that
// uses no schema, and a command that does reads them when zod.ts asks (the CLI: while Argon2id runs).
const lazyZod = {
  name: 'lazy-zod',
  setup(b) {
    b.onLoad({ filter: /electron[\\/]core[\\/]zod\.ts$/ }, (args) => {
      const text = readFileSync(args.path, 'utf8');
      const call = "createRequire(import.meta.url)('zod')";
      if (!text.includes(call)) return { contents: text, loader: 'ts', warnings: [{ text: `zod.ts no longer loads zod with ${call}: zod is loaded from node_modules (slower)` }] };
      return { contents: text.replace(call, "require('./zod.cjs')"), loader: 'ts' };
    });
    b.onResolve({ filter: /^\.\/zod\.cjs$/ }, () => ({ path: './zod.cjs', external: true }));
  },
};

// zod's index evaluates its ~60 locales (a third of the library, ~20 ms at each start that parses
// anything) to export them as `z.locales`; Pli never calls z.config() with a locale (its messages
// are its own), and zod registers English itself (classic/schemas.cjs). Inside the bundle,
// `locales/index.cjs` is replaced by a module exporting `en` only.
const englishOnlyZod = {
  name: 'english-only-zod',
  setup(b) {
    b.onResolve({ filter: /^\.\.\/locales\/index\.cjs$/ }, (args) => (/[\\/]zod[\\/]v4[\\/](core|classic)$/.test(args.resolveDir)
      ? { path: path.join(args.resolveDir, '..', 'locales', 'en.cjs'), namespace: 'zod-english' }
      : undefined));
    b.onLoad({ filter: /.*/, namespace: 'zod-english' }, (args) => ({
      contents: `exports.en = require(${JSON.stringify(args.path)}).default;`,
      loader: 'js',
      resolveDir: path.dirname(args.path),
    }));
  },
};

// Redundant syntax removed, names kept (profiles, stack traces). Line breaks kept (no
// minifyWhitespace): a stack trace from the bundle then names a line of a readable file, where a
// whitespace-minified one put every frame on line 1 (each chunk one line) and needed a source map
// and --enable-source-maps to read. Its cost, measured when it was made (40 paired runs of
// `pli --help`, CPU of the process, on a busy 2-core machine): none above the noise (median pair
// difference -2.8 ms, the 5 ms budget), for 838 -> 932 KiB on disk (zod.cjs stays minified).
const MINIFY = { minifyWhitespace: false, minifySyntax: true };

rmSync(OUT, { recursive: true, force: true });
const result = await build({
  entryPoints: [{ in: path.join(ROOT, 'electron/cli/run.ts'), out: 'pli' }, ...workers],
  outdir: OUT,
  outExtension: { '.js': '.js' },
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external,
  plugins: [lazyZod, englishOnlyZod],
  // zod.ts's require('./zod.cjs') (and any bundled CommonJS): each chunk gets a require() of its own.
  banner: { js: "import { createRequire as __pliCreateRequire } from 'node:module'; const require = __pliCreateRequire(import.meta.url);" },
  chunkNames: 'chunk-[hash]',
  ...MINIFY,
  legalComments: 'none',
  logLevel: 'warning',
  metafile: true,
});
// zod on its own, CommonJS, English messages only: what zod.ts's require('./zod.cjs') loads.
const zod = await build({
  entryPoints: [createRequire(path.join(ROOT, 'package.json')).resolve('zod')],
  outfile: path.join(OUT, 'zod.cjs'),
  // zod's own code, not ours: its frames matter less than its ~400 KiB parsed on first use.
  ...MINIFY, minifyWhitespace: true,
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  plugins: [englishOnlyZod],
  legalComments: 'none',
  logLevel: 'warning',
  metafile: true,
});
for (const [file, output] of Object.entries(result.metafile.outputs)) {
  // A second copy of zod in the chunks (a module importing it for real) would be loaded at start.
  if (Object.keys(output.inputs).some((input) => /node_modules[\\/]zod[\\/]/.test(input))) throw new Error(`bundle-cli: zod is bundled into ${file}: import it only as a type, load it through electron/core/zod.ts`);
}
result.metafile.outputs = { ...result.metafile.outputs, ...zod.metafile.outputs };
const bytes = Object.values(result.metafile.outputs).reduce((n, o) => n + o.bytes, 0);
process.stdout.write(`pli: CLI bundled into ${path.relative(ROOT, OUT)}/ (${Object.keys(result.metafile.outputs).length} files, ${(bytes / 1024).toFixed(0)} KiB; workers: ${workers.map((w) => w.out).join(', ')})\n`);
