// Entry point of the `pli` binary (bin/pli.js imports the compiled form of this file).
import { main, reportFailure } from './pli.js';

// main() reports every failure itself; this catch is the last resort, so that nothing ends the
// command with a stack trace instead of one French line and an exit code.
main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.exitCode = reportFailure(error, undefined);
  },
);
