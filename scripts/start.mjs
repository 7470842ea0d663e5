// `npm run start`: launches the desktop app on the freshly built sources, or says in one line
// (French, then English) what to use instead when the Electron binary is not on this machine.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { electronBinary } from '../dist/scripts/electron-binary.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const executable = electronBinary();
if (!executable) {
  process.stderr.write("Pli : Electron n'est pas installé sur ce poste (binaire introuvable) ; utilisez la ligne de commande « npx pli --help » ou « npm run demo ». / Pli: the Electron binary is not installed here; use the command line (npx pli --help) or npm run demo.\n");
  process.exit(1);
}
const child = spawn(executable, [root], { stdio: 'inherit' });
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
