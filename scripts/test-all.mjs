// `npm test`: every check, in order, then ONE summary line over all test runs
// ("Tests: N passed, N failed, N skipped"), whatever failed on the way. Exit code non-zero if
// anything failed. CI (.ci/run) runs exactly this.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const out = path.join(root, 'test', 'artifacts');
mkdirSync(out, { recursive: true });

const steps = [
  { name: 'build', cmd: ['npm', 'run', '--silent', 'build'] },
  { name: 'build renderer', cmd: ['npm', 'run', '--silent', 'build:renderer'] },
  { name: 'build preload', cmd: ['npm', 'run', '--silent', 'build:electron'] },
  { name: 'lint', cmd: ['npx', 'eslint', '.'] },
  { name: 'typecheck', cmd: ['npm', 'run', '--silent', 'typecheck'] },
  { name: 'unit, CLI and mail tests', report: 'vitest-main.json', summary: 'faults-summary.txt', cmd: ['npx', 'vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile=${path.join(out, 'vitest-main.json')}`] },
  { name: 'end-to-end tests', report: 'vitest-e2e.json', cmd: ['npx', 'vitest', 'run', '--config', 'test/e2e/vitest.config.ts', '--reporter=default', '--reporter=json', `--outputFile=${path.join(out, 'vitest-e2e.json')}`] },
  { name: 'electron security check', cmd: ['node', 'scripts/electronegativity.mjs'] },
];

let failedSteps = [];
const totals = { passed: 0, failed: 0, skipped: 0 };
for (const step of steps) {
  if (step.report) rmSync(path.join(out, step.report), { force: true });
  if (step.summary) rmSync(path.join(out, step.summary), { force: true });
  const started = Date.now();
  process.stdout.write(`\n=== ${step.name}\n`);
  const result = spawnSync(step.cmd[0], step.cmd.slice(1), { cwd: root, stdio: 'inherit', env: process.env });
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  if (result.status !== 0) failedSteps.push(step.name);
  process.stdout.write(`=== ${step.name}: ${result.status === 0 ? 'ok' : `FAILED (exit ${result.status})`} in ${seconds} s\n`);
  if (step.report) {
    const file = path.join(out, step.report);
    if (existsSync(file)) {
      const report = JSON.parse(readFileSync(file, 'utf8'));
      totals.passed += report.numPassedTests ?? 0;
      totals.failed += report.numFailedTests ?? 0;
      totals.skipped += (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
      // A test file that crashed before running counts as a failure too.
      totals.failed += (report.testResults ?? []).filter((r) => r.status === 'failed' && (r.assertionResults ?? []).length === 0).length;
    } else {
      totals.failed += 1;
    }
  }
}
// The fault-injection run's own line (test/mail/faults.test.ts), repeated here so that the end
// of the CI log says how many faults were injected and what was lost; the Tests line stays last.
for (const step of steps) {
  const file = step.summary && path.join(out, step.summary);
  if (!file) continue;
  process.stdout.write(existsSync(file) ? `\n${readFileSync(file, 'utf8').trimEnd()}\n`
    : `\nInjection de pannes : aucun résultat (test/mail/faults.test.ts n'est pas allé jusqu'à son bilan).\n`);
}
if (failedSteps.length) process.stdout.write(`\nFailed steps: ${failedSteps.join(', ')}\n`);
process.stdout.write(`\nTests: ${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped\n`);
process.exit(failedSteps.length ? 1 : 0);
