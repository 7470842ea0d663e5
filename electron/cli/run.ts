// Entry point of the `pli` binary (bin/pli.js imports the compiled form of this file).
import { main } from './pli.js';

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
