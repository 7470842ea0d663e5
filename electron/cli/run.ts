// Entry point of the `pli` binary (bin/pli.js imports the compiled form of this file).
// First, before the command's code loads, a passphrase given in PLI_PASSPHRASE starts its Argon2id
// (early.ts); then the command (pli.ts, imported only now so that its loading runs beside it).
import { startEarly } from './early.js';
import { dropEarlyUnlock } from '../core/crypto/early-unlock.js';

startEarly(process.argv.slice(2));
const { main, reportFailure } = await import('./pli.js');

// main() reports every failure itself; this catch is the last resort, so that nothing ends the
// command with a stack trace instead of one French line and an exit code.
main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.exitCode = reportFailure(error, undefined);
  },
).finally(dropEarlyUnlock);
