// Where a worker thread's code is. Each worker is a module of its own (`*.worker.ts` next to the
// module that starts it), compiled with the rest, so that the type checker and the linter read it.
//
// The compiled program (dist/: the CLI, the desktop app) runs the `.worker.js` beside the
// compiled module that starts it. Under vitest the modules are the TypeScript sources themselves,
// which Node 20 cannot run in a worker thread (no type stripping, and vitest transforms only its
// own thread): there the `.worker.ts` is bundled once per process with esbuild (a development
// dependency, present wherever the sources are) into CommonJS that the worker evaluates. So tests
// always run the sources they test, never a stale build; the compiled program never loads esbuild.
// A worker run as a child process (workerFile: the reader of states) needs a file: the same
// bundle, written into a private temporary folder.
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { temporaryError } from './errors.js';

/** What `new Worker` needs: a module to run, or source text to evaluate. */
export type WorkerEntry = { file: URL; eval: false; execArgv: string[] } | { file: string; eval: true; execArgv?: undefined };

const bundled = new Map<string, string>();

/**
 * The worker module `<name>.worker.js` (or `.ts`, from the sources) next to `from`, the
 * `import.meta.url` of the module that starts it. Throws if it is missing (an incomplete
 * installation): better a clear message now than a worker that fails to start later.
 */
export function workerEntry(name: string, from: string): WorkerEntry {
  const { file, fromSources } = located(name, from);
  // A module worker gets none of this process's Node options: it needs none, and some make it
  // fail to start (`node --input-type=module -e ...` refuses to run a file in the worker).
  if (!fromSources) return { file: new URL(`./${name}.worker.js`, from), eval: false, execArgv: [] };
  return { file: bundle(file), eval: true };
}

/**
 * The file a child process runs (child_process.fork) for the worker module `name` next to
 * `from`: the compiled `<name>.worker.js` itself, or, from the sources, its esbuild bundle written
 * into a private folder of this user's (0700, checked: this user's, no link, nobody else's
 * access), named by its content's hash, so that test processes share it and never run a stale one
 * (a test process is killed at its end: nothing removed at exit would be).
 */
export function workerFile(name: string, from: string): string {
  const { file, fromSources } = located(name, from);
  if (!fromSources) return file;
  const source = bundle(file);
  const dir = privateFolder();
  const out = path.join(dir, `${name}.worker-${createHash('sha256').update(source).digest('hex').slice(0, 16)}.cjs`);
  if (!existsSync(out)) {
    const partial = path.join(dir, `.${name}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
    writeFileSync(partial, source, { mode: 0o600, flag: 'wx' });
    renameSync(partial, out);
  }
  return out;
}

let folder: string | null = null;

function privateFolder(): string {
  if (folder !== null) return folder;
  const uid = typeof process.getuid === 'function' ? process.getuid() : null;
  if (uid !== null) {
    const dir = path.join(os.tmpdir(), `pli-workers-${uid}`);
    try { mkdirSync(dir, { mode: 0o700 }); } catch (error) { if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error; }
    const stat = lstatSync(dir);
    if (stat.isDirectory() && stat.uid === uid && (stat.mode & 0o077) === 0) return (folder = dir);
  }
  // Windows (os.tmpdir() is the user's own), or a folder of that name not safely ours.
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pli-workers-'));
  chmodSync(dir, 0o700);
  return (folder = dir);
}

function located(name: string, from: string): { file: string; fromSources: boolean } {
  const fromSources = new URL(from).pathname.endsWith('.ts');
  const file = fileURLToPath(new URL(`./${name}.worker.${fromSources ? 'ts' : 'js'}`, from));
  if (!existsSync(file)) {
    // The file and the developer's command are for IT support: the detail (params.system), not the sentence.
    throw temporaryError('worker-missing', "Un fichier du programme Pli est introuvable : l'installation de Pli est incomplète. Réinstallez Pli, ou appelez le support informatique.", undefined, {
      system: `${name}.worker.js introuvable (${file}) ; depuis les sources : npm run build`,
    });
  }
  return { file, fromSources };
}

/** The worker module's sources bundled with esbuild into CommonJS, once per process. */
function bundle(file: string): string {
  let source = bundled.get(file);
  if (source === undefined) {
    const esbuild = createRequire(import.meta.url)('esbuild') as typeof import('esbuild');
    const result = esbuild.buildSync({ entryPoints: [file], bundle: true, platform: 'node', format: 'cjs', target: 'node20', write: false, logLevel: 'error' });
    source = result.outputFiles[0]!.text;
    bundled.set(file, source);
  }
  return source;
}
