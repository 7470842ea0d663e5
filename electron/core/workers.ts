// Where a worker thread's code is. Each worker is a module of its own (`*.worker.ts` next to the
// module that starts it), compiled with the rest, so that the type checker and the linter read it.
//
// The compiled program (dist/: the CLI, the desktop app) runs the `.worker.js` beside the
// compiled module that starts it. Under vitest the modules are the TypeScript sources themselves,
// which Node 20 cannot run in a worker thread (no type stripping, and vitest transforms only its
// own thread): there the `.worker.ts` is bundled once per process with esbuild (a development
// dependency, present wherever the sources are) into CommonJS that the worker evaluates. So tests
// always run the sources they test, never a stale build; the compiled program never loads esbuild.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
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
  const fromSources = new URL(from).pathname.endsWith('.ts');
  const file = fileURLToPath(new URL(`./${name}.worker.${fromSources ? 'ts' : 'js'}`, from));
  if (!existsSync(file)) {
    // The file and the developer's command are for IT support: the detail (params.system), not the sentence.
    throw temporaryError('worker-missing', "Un fichier du programme Pli est introuvable : l'installation de Pli est incomplète. Réinstallez Pli, ou appelez le support informatique.", undefined, {
      system: `${name}.worker.js introuvable (${file}) ; depuis les sources : npm run build`,
    });
  }
  // A module worker gets none of this process's Node options: it needs none, and some make it
  // fail to start (`node --input-type=module -e ...` refuses to run a file in the worker).
  if (!fromSources) return { file: new URL(`./${name}.worker.js`, from), eval: false, execArgv: [] };
  let source = bundled.get(file);
  if (source === undefined) {
    const esbuild = createRequire(import.meta.url)('esbuild') as typeof import('esbuild');
    const result = esbuild.buildSync({ entryPoints: [file], bundle: true, platform: 'node', format: 'cjs', target: 'node20', write: false, logLevel: 'error' });
    source = result.outputFiles[0]!.text;
    bundled.set(file, source);
  }
  return { file: source, eval: true };
}
