// `npm run lint:electron`: Doyensec's Electronegativity over the desktop shell (main, preload,
// IPC handlers) and the interface's HTML. Fails on any HIGH finding not listed, with its reason,
// in docs/electronegativity.md. Offline: the Electron version is given, not looked up.
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const require = createRequire(import.meta.url);
const electronegativity = require('@doyensec/electronegativity'); // the runner: returns the findings with their severity
const electronVersion = JSON.parse(readFileSync(path.join(root, 'node_modules/electron/package.json'), 'utf8')).version;
const stage = mkdtempSync(path.join(os.tmpdir(), 'pli-electronegativity-'));
const report = path.join(root, 'test/artifacts/electronegativity.json');
let result;
try {
  // What ships in the shell: main, preload, the IPC table, and the page with its CSP meta tag.
  for (const entry of ['electron/main.ts', 'electron/preload.ts', 'electron/ipc', 'renderer/index.html']) {
    cpSync(path.join(root, entry), path.join(stage, entry), { recursive: true });
  }
  // Offline: skip the one check that downloads Electron's release list (its version is known here).
  result = await electronegativity({ input: stage, isRelative: true, electronVersionOverride: electronVersion, excludeFromScan: ['AvailableSecurityFixesGlobalCheck'] });
} finally {
  rmSync(stage, { recursive: true, force: true });
}

const exceptions = new Set([...readFileSync(path.join(root, 'docs/electronegativity.md'), 'utf8').matchAll(/^\| `([A-Z_]+)` \| HIGH \|/gm)].map((m) => m[1]));
const findings = result.issues.map((i) => ({
  issue: i.id, severity: i.severity.name, confidence: i.confidence.name,
  at: `${i.file}:${i.location?.line ?? 0}`, description: i.description, manualReview: i.manualReview,
}));
mkdirSync(path.dirname(report), { recursive: true });
writeFileSync(report, `${JSON.stringify({ electronVersion, errors: result.errors.length, findings }, null, 2)}\n`);
for (const f of findings) console.log(`${f.severity.padEnd(13)} ${f.issue.padEnd(24)} ${f.at.padEnd(26)} ${f.description}`);
const high = findings.filter((f) => (f.severity === 'HIGH' || f.severity === 'CRITICAL') && !exceptions.has(f.issue));
console.log(`electronegativity: ${result.globalChecks + result.atomicChecks} checks, ${findings.length} finding(s), ${result.errors.length} file error(s), ${high.length} high-severity not excepted (report: test/artifacts/electronegativity.json)`);
process.exit(high.length === 0 && result.errors.length === 0 ? 0 : 1);
