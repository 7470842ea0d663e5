// `npm run demo`: the whole exchange on the folder transport, in a temporary folder, with no
// server. Every step runs the real command line (`node bin/pli.js`) as a person would type it:
// an SSI officer creates the authority, a police clerk (operator, enrolled by card certification)
// and a town-hall secretary (reader, provisioned with a key file and a one-time passphrase) join;
// the clerk sends an IS 101 statement and an IST PDF through a "USB key" folder; the town hall
// receives, checks and opens them; the files are compared.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const BIN = path.join(ROOT, 'bin', 'pli.js');
const work = mkdtempSync(path.join(os.tmpdir(), 'pli-demo-'));
const keep = process.argv.includes('--keep');

const say = (text: string): void => void process.stdout.write(`${text}\n`);
const step = (n: number, text: string): void => say(`\n=== Étape ${n} : ${text}`);
const rel = (p: string): string => path.relative(work, p) || '.';

/** Runs `pli ARGS` as a person would, prints the command and its output, fails the demo on error. */
function pli(args: string[], options: { expect?: number } = {}): { stdout: string; stderr: string } {
  const shown = args.map((a) => (a.startsWith(work) ? rel(a) : a)).map((a) => (/\s/.test(a) ? `"${a}"` : a)).join(' ');
  say(`$ pli ${shown}`);
  const result = spawnSync(process.execPath, [BIN, ...args], { cwd: work, encoding: 'utf8', env: { ...process.env, PLI_PASSPHRASE: '', PLI_HOME: '' } });
  const print = (text: string): void => text.trimEnd().split('\n').filter(Boolean).forEach((line) => say(`  ${line.replaceAll(work + path.sep, '')}`));
  print(result.stdout);
  print(result.stderr);
  if (result.status !== (options.expect ?? 0)) {
    throw new Error(`la commande « pli ${shown} » s'est terminée avec le code ${result.status}`);
  }
  return { stdout: result.stdout.trim(), stderr: result.stderr.trim() };
}

function secretFile(name: string, value: string): string {
  const file = path.join(work, 'secrets', name);
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  writeFileSync(file, `${value}\n`, { mode: 0o600 });
  return file;
}

/** A minimal but valid one-page PDF (correct xref offsets). */
function makePdf(lines: string[]): Buffer {
  const text = lines.map((l, i) => `BT /F1 12 Tf 56 ${780 - i * 18} Td (${l.replace(/[()\\]/g, '\\$&')}) Tj ET`).join('\n');
  const objects = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>',
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>',
    `<< /Length ${Buffer.byteLength(text, 'latin1')} >>\nstream\n${text}\nendstream`,
  ];
  let body = '%PDF-1.4\n%\xe2\xe3\xcf\xd3\n';
  const offsets: number[] = [];
  objects.forEach((object, i) => {
    offsets.push(Buffer.byteLength(body, 'latin1'));
    body += `${i + 1} 0 obj\n${object}\nendobj\n`;
  });
  const xref = Buffer.byteLength(body, 'latin1');
  body += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n${offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n \n`).join('')}`;
  body += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(body, 'latin1');
}

function makeIs101(): Buffer {
  const rows = [
    ['Index', 'Nature de l’infraction', 'T3 2026', 'T3 2025'],
    ['1', 'Homicides', '0', '1'],
    ['2', 'Vols à main armée', '1', '0'],
    ['3', 'Vols avec violence sans arme', '7', '9'],
    ['4', 'Vols sans violence contre des personnes', '64', '71'],
    ['5', 'Coups et blessures volontaires sur personnes de plus de 15 ans', '38', '35'],
    ['6', 'Cambriolages de logements', '22', '27'],
    ['7', 'Vols de véhicules', '11', '14'],
    ['8', 'Vols à la roulotte', '19', '23'],
    ['9', "Vols d'accessoires sur véhicules", '6', '8'],
  ];
  return Buffer.from(`\ufeff${rows.map((r) => r.map((c) => `"${c.replaceAll('"', '""')}"`).join(';')).join('\r\n')}\r\n`, 'utf8');
}

const sha = (file: string): string => createHash('sha256').update(readFileSync(file)).digest('hex');

function main(): void {
  say('Démonstration de Pli : un échange complet police → mairie, par clé USB (dossier), sans serveur.');
  say(`Dossier de travail temporaire : ${work}`);
  const home = { ssi: path.join(work, 'poste-ssi'), police: path.join(work, 'poste-police'), mairie: path.join(work, 'poste-mairie') };
  const usb = path.join(work, 'cle-usb');
  const pass = { ssi: secretFile('ssi', 'officier SSI, phrase de démonstration'), police: secretFile('police', 'greffière, phrase de démonstration'), mairie: secretFile('mairie', 'secrétaire, phrase de démonstration') };

  step(1, "l'officier SSI prépare son poste et crée l'autorité");
  pli(['--home', home.ssi, 'init']);
  pli(['--home', home.ssi, 'id', 'new', '--name', 'Officier SSI', '--email', 'ssi@dipn54.interieur.test', '--org', 'DIPN 54', '--passphrase-file', pass.ssi]);
  const authorityPin = pli(['--home', home.ssi, 'authority', 'init', '--name', 'Autorité SSI DIPN 54', '--passphrase-file', pass.ssi]).stdout;
  say(`L'empreinte de l'autorité (${authorityPin}) est lue au téléphone à chaque poste.`);

  step(2, 'la greffière de la police crée son identité et la fait certifier (rôle opérateur)');
  pli(['--home', home.police, 'init']);
  const clerk = pli(['--home', home.police, 'id', 'new', '--name', 'Greffière DIPN', '--email', 'statistiques@dipn54.interieur.test', '--org', 'DIPN 54', '--passphrase-file', pass.police]).stdout;
  const card = path.join(work, 'greffiere.carte');
  pli(['--home', home.police, 'id', 'export', clerk, '--out', card]);
  const cert = path.join(work, 'greffiere.certificat');
  pli(['--home', home.ssi, 'authority', 'certify', card, '--role', 'operator', '--out', cert, '--passphrase-file', pass.ssi]);

  step(3, "l'officier SSI prépare les clés de la secrétaire de mairie (rôle lecteur)");
  const keyfile = path.join(work, 'mairie.cles');
  const provision = pli(['--home', home.ssi, 'authority', 'provision', '--name', 'Secrétaire générale', '--email', 'mairie@ville.test', '--org', 'Mairie', '--role', 'reader', '--out', keyfile, '--passphrase-file', pass.ssi]);
  const oneTime = /:\s*([0-9a-z]{4}(?:-[0-9a-z]{4}){5})/i.exec(provision.stderr)?.[1];
  if (!oneTime) throw new Error('phrase de passe à usage unique introuvable');
  say('La phrase de passe à usage unique est dictée de vive voix à la secrétaire.');

  step(4, "l'officier SSI publie l'annuaire ; chaque poste l'importe en vérifiant l'empreinte");
  const directory = path.join(work, 'annuaire.json');
  pli(['--home', home.ssi, 'directory', 'export', '--out', directory, '--passphrase-file', pass.ssi]);
  // The clerk already exists on this workstation: importing and installing sign her in.
  pli(['--home', home.police, 'directory', 'import', directory, '--pin', authorityPin, '--passphrase-file', pass.police]);
  pli(['--home', home.police, 'id', 'install', cert, '--passphrase-file', pass.police]);
  pli(['--home', home.mairie, 'init']);
  pli(['--home', home.mairie, 'directory', 'import', directory, '--pin', authorityPin]);
  const secretary = pli(['--home', home.mairie, 'id', 'import-key', keyfile, '--passphrase-file', secretFile('usage-unique', oneTime), '--new-passphrase-file', pass.mairie]).stdout;

  step(5, "la greffière envoie l'état IS 101 et l'IST à la mairie, sur la clé USB");
  const docs = path.join(work, 'documents-police');
  mkdirSync(docs, { recursive: true });
  const is101 = path.join(docs, 'IS101_T3_2026_Ville.csv');
  writeFileSync(is101, makeIs101());
  const ist = path.join(docs, 'IST_T3_2026_Ville.pdf');
  writeFileSync(ist, makePdf(['Indicateur Statistique Territorial - 3e trimestre 2026', 'Atteintes a l\'integrite physique : 41', 'Atteintes aux biens : 148', 'Infractions a la paix et la sante publiques : 17']));
  pli(['--home', home.police, 'send', '--as', clerk, '--to', secretary, '--folder', usb, is101, '--passphrase-file', pass.police]);
  pli(['--home', home.police, 'send', '--as', clerk, '--to', secretary, '--folder', usb, ist, '--passphrase-file', pass.police]);
  pli(['--home', home.police, 'outbox']);

  step(6, 'la mairie reçoit les plis de la clé USB : signature et certificat vérifiés, sans rien déchiffrer');
  pli(['--home', home.mairie, 'receive', '--folder', usb]);
  say('Relire la clé une seconde fois ne crée pas de doublon :');
  pli(['--home', home.mairie, 'receive', '--folder', usb]);
  pli(['--home', home.mairie, 'inbox']);

  step(7, 'la secrétaire ouvre les plis');
  const received = path.join(work, 'recu-mairie');
  const opened = [
    ...pli(['--home', home.mairie, 'open', '1', '--out', received, '--passphrase-file', pass.mairie]).stdout.split('\n'),
    ...pli(['--home', home.mairie, 'open', '2', '--out', received, '--passphrase-file', pass.mairie]).stdout.split('\n'),
  ].filter(Boolean);

  step(8, 'comparaison des fichiers envoyés et reçus');
  for (const original of [is101, ist]) {
    const copy = opened.find((p) => path.basename(p) === path.basename(original));
    if (!copy) throw new Error(`${path.basename(original)} n'a pas été reçu`);
    const same = sha(original) === sha(path.isAbsolute(copy) ? copy : path.join(work, copy));
    say(`${path.basename(original)} : ${same ? 'identique' : 'DIFFÉRENT'} (SHA-256 ${sha(original).slice(0, 16)}…)`);
    if (!same) throw new Error(`${path.basename(original)} diffère après l'échange`);
  }
  step(9, "chaque poste vérifie son journal d'audit (chaîne d'empreintes et points de contrôle signés)");
  pli(['--home', home.police, 'audit', 'verify']);
  pli(['--home', home.mairie, 'audit', 'verify']);
  say('Le journal de la mairie (qui a fait quoi, quand, avec quel résultat) :');
  pli(['--home', home.mairie, 'audit', 'list']);

  say('\nDémonstration terminée');
}

try {
  main();
} catch (error) {
  process.stderr.write(`Échec de la démonstration : ${(error as Error).message}\n`);
  process.exitCode = 1;
} finally {
  if (keep) say(`(dossier conservé : ${work})`);
  else rmSync(work, { recursive: true, force: true });
}
