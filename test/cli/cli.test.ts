// The real `pli` binary (bin/pli.js over dist/, so run `npm run build` first) in temporary folders:
// the CLI contract of exit codes (0 done, 1 usage/input, 2 security), one-line `pli: ` errors, and
// the promise that nothing is left in the output folder when a container is refused.
// Profiles are created once (each command costs ~0.3-0.6 s, mostly Node start-up and Argon2).
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, lstatSync, statSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { createHash, randomBytes } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { openProfile, DB_FILE } from '../../electron/core/profile/profile.js';
import { currentKeys, unlockIdentity } from '../../electron/core/profile/identities.js';
import { rawPlaintext, sealRawPlaintext, type TestPerson } from '../unit/helpers.js';
import { midWay, stopAfterFirstPlaintext, untilStopped } from './support.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const BIN = path.join(ROOT, 'bin', 'pli.js');
const PASS_A = 'phrase de passe alice 1';
const PASS_B = 'phrase de passe bob 22';

interface Run { code: number | null; stdout: string; stderr: string }

/** Runs pli; never through a shell. PLI_* of the outer environment are dropped. */
function pli(args: string[], env: Record<string, string> = {}): Promise<Run> {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('PLI_'))) as Record<string, string>;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { ...base, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString('utf8'); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString('utf8'); });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** A failure: the expected exit code, nothing on stdout, one stderr line starting with "pli: ". */
function expectFailure(run: Run, code: number): void {
  expect(run.code, run.stderr).toBe(code);
  expect(run.stderr.endsWith('\n')).toBe(true);
  const lines = run.stderr.slice(0, -1).split('\n');
  expect(lines, run.stderr).toHaveLength(1);
  expect(lines[0]!.startsWith('pli: ')).toBe(true);
}
function expectOk(run: Run): void {
  expect(run.code, run.stderr).toBe(0);
}
const lastLine = (text: string): string => text.trimEnd().split('\n').at(-1)!;
/** Entries of a folder that should hold no plaintext: none at all, and no temporary folder. */
const leftovers = (dir: string): string[] => (existsSync(dir) ? readdirSync(dir) : []);

let work: string;
let homeA: string, homeB: string;
let aliceId: string, bobId: string;
let xls: string, pdf: string;
const asAlice = (args: string[]) => pli(['--home', homeA, ...args], { PLI_PASSPHRASE: PASS_A });
const asBob = (args: string[]) => pli(['--home', homeB, ...args], { PLI_PASSPHRASE: PASS_B });

beforeAll(async () => {
  expect(existsSync(path.join(ROOT, 'dist/electron/cli/run.js')), 'run `npm run build` first').toBe(true);
  work = mkdtempSync(path.join(os.tmpdir(), 'pli-cli-'));
  homeA = path.join(work, 'homeA');
  homeB = path.join(work, 'homeB');
  const [initA, initB] = await Promise.all([pli(['--home', homeA, 'init']), pli(['--home', homeB, 'init'])]);
  expectOk(initA);
  expectOk(initB);
  const [newA, newB] = await Promise.all([
    asAlice(['id', 'new', '--name', 'Alice Martin', '--email', 'alice@sdis.example', '--org', 'SDIS 99']),
    pli(['--home', homeB, 'id', 'new', '--name', 'Bob Durand', '--email', 'bob@prefecture.example', '--org', 'Préfecture', '--passphrase-file', writeSecret('passB', PASS_B)]),
  ]);
  expectOk(newA);
  expectOk(newB);
  aliceId = lastLine(newA.stdout);
  bobId = lastLine(newB.stdout);
  expect(aliceId).toMatch(/^[0-9a-hjkmnp-tv-z]{16}$/);
  expect(bobId).toMatch(/^[0-9a-hjkmnp-tv-z]{16}$/);
  const cardA = path.join(work, 'alice.card');
  const cardB = path.join(work, 'bob.card');
  const [expA, expB] = await Promise.all([asAlice(['id', 'export', aliceId, '--out', cardA]), asBob(['id', 'export', bobId, '--out', cardB])]);
  expectOk(expA);
  expectOk(expB);
  const [impA, impB] = await Promise.all([asAlice(['id', 'import', cardB]), asBob(['id', 'import', cardA])]);
  expectOk(impA);
  expectOk(impB);
  expect(lastLine(impA.stdout)).toBe(bobId);
  expect(lastLine(impB.stdout)).toBe(aliceId);
  // An .xls (OLE2 signature) and a PDF-like file, with binary content.
  xls = path.join(work, 'IS101.xls');
  pdf = path.join(work, 'rapport annuel.pdf');
  writeFileSync(xls, Buffer.concat([Buffer.from('d0cf11e0a1b11ae1', 'hex'), randomBytes(150000)]));
  writeFileSync(pdf, Buffer.concat([Buffer.from('%PDF-1.7\n%\xe2\xe3\xcf\xd3\n', 'latin1'), randomBytes(3000), Buffer.from('\n%%EOF\n')]));
}, 60000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

function writeSecret(name: string, value: string): string {
  const file = path.join(work, name);
  writeFileSync(file, `${value}\n`, { mode: 0o600 });
  return file;
}
const dir = (name: string): string => path.join(work, name);
const same = (a: string, b: string): boolean => readFileSync(a).equals(readFileSync(b));

describe('profile and identities', () => {
  it('init is idempotent and refuses a non-empty folder that is not a profile', async () => {
    const again = await pli(['--home', homeA, 'init']);
    expectOk(again);
    expect(again.stdout).toContain(homeA);
    const foreign = dir('foreign');
    mkdirSync(foreign);
    writeFileSync(path.join(foreign, 'notes.txt'), 'x');
    expectFailure(await pli(['--home', foreign, 'init']), 1);
    expect(readdirSync(foreign)).toEqual(['notes.txt']);
  });

  it('id list --json lists the own identity and the correspondent', async () => {
    const run = await asAlice(['id', 'list', '--json']);
    expectOk(run);
    const rows = JSON.parse(run.stdout) as { id: string; own: boolean; kind: string; name: string; fingerprint: string }[];
    expect(rows.map((r) => [r.id, r.own, r.kind])).toEqual([[aliceId, true, 'own'], [bobId, false, 'correspondent']]);
    expect(rows[0]!.fingerprint).toMatch(/^[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){4}$/);
    expect(run.stdout).not.toContain(PASS_A);
  });

  it('a card edited by one byte is refused (exit 2); the same card imported again is not', async () => {
    const card = readFileSync(path.join(work, 'bob.card'), 'utf8');
    expect(card).toContain('Bob Durand');
    const edited = path.join(work, 'bob-edited.card');
    writeFileSync(edited, card.replace('Bob Durand', 'Bob Durant'));
    expectFailure(await pli(['--home', homeA, 'id', 'import', edited]), 2);
    expectOk(await pli(['--home', homeA, 'id', 'import', path.join(work, 'bob.card')]));
  });
});

describe('encrypt and decrypt', () => {
  let sealed: string; // alice -> bob (+ alice by default), .xls and .pdf

  beforeAll(async () => {
    sealed = dir('envoi.pli');
    // Recipient given as an 8-character prefix; --as omitted (one own identity).
    const run = await asAlice(['encrypt', '--to', bobId.slice(0, 8), '--out', sealed, xls, pdf]);
    expectOk(run);
    expect(lastLine(run.stdout)).toBe(sealed);
  }, 90000);

  it('round trip to the recipient: the files come back equal', async () => {
    const out = dir('recu-bob');
    const run = await asBob(['decrypt', '--out', out, sealed]);
    expectOk(run);
    expect(run.stdout.trim().split('\n')).toEqual([path.join(out, 'IS101.xls'), path.join(out, 'rapport annuel.pdf')]);
    expect(same(path.join(out, 'IS101.xls'), xls)).toBe(true);
    expect(same(path.join(out, 'rapport annuel.pdf'), pdf)).toBe(true);
    expect(readdirSync(out).sort()).toEqual(['IS101.xls', 'rapport annuel.pdf']);
  });

  it('the sender is a recipient by default', async () => {
    const out = dir('recu-alice');
    expectOk(await asAlice(['decrypt', '--out', out, sealed]));
    expect(same(path.join(out, 'IS101.xls'), xls)).toBe(true);
  });

  it('--no-self: the sender cannot decrypt (exit 2), and the folder is left without any file', async () => {
    const noSelf = dir('noself.pli');
    expectOk(await asAlice(['encrypt', '--to', bobId, '--no-self', '--out', noSelf, xls]));
    const out = dir('noself-alice');
    expectFailure(await asAlice(['decrypt', '--out', out, noSelf]), 2);
    expect(leftovers(out)).toEqual([]);
    // Bob can.
    const outBob = dir('noself-bob');
    expectOk(await asBob(['decrypt', '--out', outBob, noSelf]));
    expect(same(path.join(outBob, 'IS101.xls'), xls)).toBe(true);
  });

  it('inspect --json: sender, recipient count, payload size, and nothing secret', async () => {
    const run = await pli(['inspect', sealed, '--json']);
    expectOk(run);
    const info = JSON.parse(run.stdout) as Record<string, unknown>;
    expect(info.senderId).toBe(aliceId);
    expect(info.recipients).toBe(2);
    expect(info.passwordProtected).toBe(false);
    expect(info.payloadBytes).toBe(3 * 65536); // 150 KB + 3 KB + manifest: three chunks
    expect(info.size).toBe(readFileSync(sealed).length);
    for (const secret of ['IS101', 'xls', 'rapport', 'pdf', PASS_A, 'application/']) expect(run.stdout).not.toContain(secret);
    expect(Object.keys(info).sort()).toEqual(['containerId', 'createdMs', 'passwordProtected', 'payloadBytes', 'recipients', 'senderId', 'senderKey', 'size', 'version']);
    expect(info.version).toBe(2); // what every Pli writes (docs/format.md 11)
  });

  it('inspect reports the version in the preamble: 2 and 1 for the vectors of each version', async () => {
    for (const version of [1, 2]) {
      const vector = path.join(ROOT, 'test', 'vectors', `container-v${version}-one-file.pli`);
      const run = await pli(['inspect', vector, '--json']);
      expectOk(run);
      expect((JSON.parse(run.stdout) as { version: number }).version).toBe(version);
      const text = await pli(['inspect', vector]);
      expectOk(text);
      expect(text.stdout.split('\n')[0]).toBe(`Pli chiffré, format version ${version}`);
    }
  });

  it('wrong passphrase: exit 2', async () => {
    const out = dir('wrong-pass');
    expectFailure(await pli(['--home', homeB, 'decrypt', '--out', out, sealed], { PLI_PASSPHRASE: 'pas la bonne phrase' }), 2);
    expect(leftovers(out)).toEqual([]);
  });

  // Above 8 MiB the block worker starts before the Argon2id unlock: it must open the container
  // as usual, and be ended when the unlock fails (else the process would never exit).
  it('a 12 MiB container: round trip; with a wrong passphrase, exit 2, nothing kept, and the process ends', async () => {
    const big = dir('etat-annuel.csv');
    writeFileSync(big, randomBytes(12 * 1024 * 1024));
    const bigSealed = dir('grand.pli');
    expectOk(await asAlice(['encrypt', '--to', bobId, '--out', bigSealed, big]));
    const out = dir('grand-bob');
    expectOk(await asBob(['decrypt', '--out', out, bigSealed]));
    expect(same(path.join(out, 'etat-annuel.csv'), big)).toBe(true);
    const refused = dir('grand-refuse');
    expectFailure(await pli(['--home', homeB, 'decrypt', '--out', refused, bigSealed], { PLI_PASSPHRASE: 'pas la bonne phrase' }), 2);
    expect(leftovers(refused)).toEqual([]);
    // Encrypting: the payload is sealed while the unlock runs (services/containers.ts); a wrong
    // passphrase still ends in exit 2 with the passphrase's message, and neither the container
    // nor its temporary file is left.
    const sealFolder = dir('grand-scelle');
    mkdirSync(sealFolder);
    const wrong = await pli(['--home', homeA, 'encrypt', '--to', bobId, '--out', path.join(sealFolder, 'grand.pli'), big], { PLI_PASSPHRASE: 'pas la bonne phrase' });
    expectFailure(wrong, 2);
    expect(wrong.stderr).toMatch(/phrase de passe/i);
    expect(readdirSync(sealFolder)).toEqual([]);
  }, 90000);

  it('a tampered container: exit 2 and nothing in the folder', async () => {
    const bytes = readFileSync(sealed);
    bytes[bytes.length - 70000]! ^= 0x20; // inside the payload
    const bad = dir('tampered.pli');
    writeFileSync(bad, bytes);
    const out = dir('tampered-out');
    expectFailure(await asBob(['decrypt', '--out', out, bad]), 2);
    expect(leftovers(out)).toEqual([]);
    const badSig = Buffer.from(readFileSync(sealed));
    badSig[badSig.length - 1]! ^= 1; // the signature: every chunk decrypts, then refused
    writeFileSync(bad, badSig);
    expectFailure(await asBob(['decrypt', '--out', out, bad]), 2);
    expect(leftovers(out)).toEqual([]);
  });

  it('never overwrites an existing file: a numbered name is chosen and printed', async () => {
    const out = dir('existing');
    mkdirSync(out);
    writeFileSync(path.join(out, 'IS101.xls'), 'mine');
    const run = await asBob(['decrypt', '--out', out, sealed]);
    expectOk(run);
    expect(run.stdout).toContain(path.join(out, 'IS101 (2).xls'));
    expect(readFileSync(path.join(out, 'IS101.xls'), 'utf8')).toBe('mine');
    expect(same(path.join(out, 'IS101 (2).xls'), xls)).toBe(true);
    const again = await asBob(['decrypt', '--out', out, sealed]);
    expectOk(again);
    expect(again.stdout).toContain(path.join(out, 'IS101 (3).xls'));
    expect(again.stdout).toContain(path.join(out, 'rapport annuel (2).pdf'));
  });

  it('a leftover temporary folder of a dead process is swept; a live one is kept', async () => {
    const out = dir('sweep');
    mkdirSync(out);
    const dead = spawnSync(process.execPath, ['-e', '0']).pid!; // has exited by now
    const stale = path.join(out, `.pli-tmp-${dead}-a1b2c3d4e5f6`);
    mkdirSync(stale);
    writeFileSync(path.join(stale, '0'), 'plaintext left by a crash');
    const live = path.join(out, `.pli-tmp-${process.pid}-000000000000`);
    mkdirSync(live);
    expectOk(await asBob(['decrypt', '--out', out, sealed]));
    expect(existsSync(stale)).toBe(false);
    expect(existsSync(live)).toBe(true);
    expect(readdirSync(out).sort()).toEqual([path.basename(live), 'IS101.xls', 'rapport annuel.pdf'].sort());
  });

  // Regression: a file dated before 1970 has a negative mtime; it must round-trip with its date.
  it('a file dated before 1970 round-trips', async () => {
    const old = dir('archive.csv');
    writeFileSync(old, 'a;b\n');
    utimesSync(old, new Date('1969-07-20T20:17:00Z'), new Date('1969-07-20T20:17:00Z'));
    const sealedOld = dir('old.pli');
    expectOk(await asAlice(['encrypt', '--to', bobId, '--out', sealedOld, old]));
    const run = await asBob(['decrypt', '--out', dir('old-out'), sealedOld]);
    expectOk(run);
    expect(statSync(path.join(dir('old-out'), 'archive.csv')).mtime.toISOString()).toBe('1969-07-20T20:17:00.000Z');
  });

  it('input errors: missing file, unknown id, bad usage → exit 1', async () => {
    expectFailure(await asAlice(['encrypt', '--to', bobId, '--out', dir('x.pli'), dir('absent.xls')]), 1);
    expect(existsSync(dir('x.pli'))).toBe(false);
    expectFailure(await asAlice(['encrypt', '--to', 'zzzzzzzz', '--out', dir('x.pli'), xls]), 1);
    expectFailure(await asAlice(['encrypt', '--to', 'abc', '--out', dir('x.pli'), xls]), 1);
    expectFailure(await asAlice(['decrypt', '--out', dir('y'), dir('absent.pli')]), 1);
    expectFailure(await pli(['--home', homeA, 'frobnicate']), 1);
  });
});

describe('password recipient', () => {
  it('round trip with --password-file; wrong password → 2; password with --to → 1', async () => {
    const password = writeSecret('pw', 'mot de passe du pli 2026');
    const sealed = dir('pw.pli');
    expectOk(await asAlice(['encrypt', '--password-file', password, '--out', sealed, pdf]));
    const info = JSON.parse((await pli(['inspect', '--json', sealed])).stdout) as { passwordProtected: boolean; recipients: number };
    expect(info).toMatchObject({ passwordProtected: true, recipients: 1 });
    const out = dir('pw-out');
    const [good, bad] = await Promise.all([
      asBob(['decrypt', '--password-file', password, '--out', out, sealed]),
      asBob(['decrypt', '--password-file', writeSecret('pw-wrong', 'mot de passe du pli 2025'), '--out', dir('pw-bad'), sealed]),
    ]);
    expectOk(good);
    expect(same(path.join(out, 'rapport annuel.pdf'), pdf)).toBe(true);
    expectFailure(bad, 2);
    expect(leftovers(dir('pw-bad'))).toEqual([]);
    expectFailure(await asAlice(['encrypt', '--password-file', password, '--to', bobId, '--out', dir('pw2.pli'), pdf]), 1);
    expect(existsSync(dir('pw2.pli'))).toBe(false);
  }, 90000);
});

interface AuditLine { seq: number; actor: string | null; action: string; outcome: string; detail: Record<string, unknown> | null }
async function auditOf(home: string): Promise<AuditLine[]> {
  const run = await pli(['--home', home, 'audit', 'list', '--json']);
  expectOk(run);
  return JSON.parse(run.stdout) as AuditLine[];
}

describe('password recipient: strength and the person who opens', () => {
  it('a password shorter than 16 characters is refused (exit 1) before anything is asked or written', async () => {
    const out = dir('pw-weak.pli');
    for (const weak of ['a', '15 caractères !']) {
      const run = await pli(['--home', homeA, 'encrypt', '--password-file', writeSecret('pw-weak', weak), '--out', out, pdf]);
      expectFailure(run, 1);
      expect(run.stderr).toContain('16 caractères');
      expect(existsSync(out)).toBe(false);
    }
  });

  it('--as with --password-file: the person signs in (wrong passphrase → 2) and is the actor of the events; no digest in the log', async () => {
    const password = writeSecret('pw-as', 'mot de passe du pli 2026');
    const sealed = dir('pw-as.pli');
    expectOk(await asAlice(['encrypt', '--password-file', password, '--out', sealed, xls]));
    const refused = dir('pw-as-refused');
    expectFailure(await pli(['--home', homeB, 'decrypt', '--as', bobId, '--password-file', password, '--out', refused, sealed], { PLI_PASSPHRASE: 'pas la bonne phrase' }), 2);
    expect(leftovers(refused)).toEqual([]);
    const out = dir('pw-as-out');
    expectOk(await asBob(['decrypt', '--as', bobId, '--password-file', password, '--out', out, sealed]));
    expect(same(path.join(out, 'IS101.xls'), xls)).toBe(true);
    const events = await auditOf(homeB);
    const opened = events.filter((e) => e.action === 'container.opened').at(-1)!;
    expect(opened.actor).toBe(bobId);
    const written = events.filter((e) => e.action === 'file.written' && e.seq > opened.seq - 1);
    expect(written.map((e) => [e.actor, Object.keys(e.detail ?? {}).sort()])).toEqual([[bobId, ['path', 'size']]]);
    expect(JSON.stringify(events)).not.toContain(createHash('sha256').update(readFileSync(xls)).digest('hex'));
  }, 90000);
});

describe('inbox files on disk', () => {
  it('the stored file of an entry replaced by another container of the same sender: pli open exits 2 and writes nothing', async () => {
    const folder = dir('usb-swap');
    mkdirSync(folder);
    expectOk(await asAlice(['encrypt', '--to', bobId, '--out', path.join(folder, 'a-premier.pli'), xls]));
    expectOk(await asAlice(['encrypt', '--to', bobId, '--out', path.join(folder, 'b-second.pli'), pdf]));
    expectOk(await pli(['--home', homeB, 'receive', '--folder', folder]));
    const inbox = JSON.parse((await pli(['--home', homeB, 'inbox', '--json'])).stdout) as { id: number; sha256: string }[];
    expect(inbox).toHaveLength(2);
    const [first, second] = inbox as [{ id: number; sha256: string }, { id: number; sha256: string }];
    const stored = (row: { sha256: string }): string => path.join(homeB, 'inbox', `${row.sha256}.pli`);
    writeFileSync(stored(first), readFileSync(stored(second)));
    const out = dir('open-swapped');
    const run = await asBob(['open', String(first.id), '--out', out]);
    expectFailure(run, 2);
    expect(run.stderr).toContain(`n° ${first.id}`);
    expect(run.stderr).toMatch(/modifié sur le disque/);
    expect(leftovers(out)).toEqual([]);
    const refusal = (await auditOf(homeB)).filter((e) => e.action === 'container.refused').at(-1)!;
    expect(refusal.detail).toMatchObject({ inbox: first.id, reason: 'inbox-modified' });
    // The untouched entry still opens.
    const good = await asBob(['open', String(second.id), '--out', dir('open-second')]);
    expectOk(good);
    expect(same(good.stdout.trim(), pdf)).toBe(true);
  }, 90000);
});

// ---- writers never replace a file; the decryption temporary folder (issue 10, items 5 and 7) ----

/** pli with a passphrase, started but not awaited: for the tests that kill it (`node`, Node's
 * own arguments and environment from stopAfterFirstPlaintext). */
function startPli(args: string[], passphrase: string, node: { execArgv: string[]; env: Record<string, string> } = { execArgv: [], env: {} }) {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('PLI_'))) as Record<string, string>;
  const child = spawn(process.execPath, [...node.execArgv, BIN, ...args], { env: { ...base, ...node.env, PLI_PASSPHRASE: passphrase }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stdout.resume();
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString('utf8'); });
  const closed = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stderr }));
  });
  return { child, closed };
}

describe('writers never replace an existing file (exit 1, the file keeps its bytes)', () => {
  const MINE = 'fichier de l’utilisateur, à garder tel quel\n';
  const existing = (name: string): string => {
    const folder = dir(`existant-${name}`);
    mkdirSync(folder);
    const file = path.join(folder, name);
    writeFileSync(file, MINE);
    return file;
  };
  const expectKept = (file: string): void => {
    expect(readFileSync(file, 'utf8')).toBe(MINE);
    expect(readdirSync(path.dirname(file))).toEqual([path.basename(file)]);
  };

  it('encrypt --out', async () => {
    const target = existing('envoi.pli');
    const run = await asAlice(['encrypt', '--to', bobId, '--out', target, pdf]);
    expectFailure(run, 1);
    expect(run.stderr).toContain('existe déjà');
    expectKept(target);
    // Not even a dangling symlink is followed.
    const link = dir('lien-envoi.pli');
    symlinkSync(dir('cible-du-lien.pli'), link);
    expectFailure(await asAlice(['encrypt', '--to', bobId, '--out', link, pdf]), 1);
    expect(existsSync(dir('cible-du-lien.pli'))).toBe(false);
  });

  it('id export --out', async () => {
    const target = existing('alice.card');
    const run = await asAlice(['id', 'export', aliceId, '--out', target]);
    expectFailure(run, 1);
    expect(run.stderr).toContain('existe déjà');
    expectKept(target);
    const fresh = dir('alice-nouvelle.card');
    expectOk(await asAlice(['id', 'export', aliceId, '--out', fresh]));
    expect(readFileSync(fresh, 'utf8')).toContain('Alice Martin');
  });

  describe('the officer’s writers', () => {
    let homeO: string;
    const PASS_O = 'phrase de passe officier 333';
    const asOfficer = (args: string[]) => pli(['--home', homeO, ...args], { PLI_PASSPHRASE: PASS_O });
    beforeAll(async () => {
      homeO = dir('homeO');
      expectOk(await pli(['--home', homeO, 'init']));
      expectOk(await asOfficer(['id', 'new', '--name', 'Olivier Ssi', '--email', 'ssi@police.example', '--org', 'DIPN 99']));
      expectOk(await asOfficer(['authority', 'init', '--name', 'SSI DIPN 99']));
    }, 60000);

    it('authority certify --out: refused before anything is certified', async () => {
      const target = existing('alice.cert');
      const run = await asOfficer(['authority', 'certify', path.join(work, 'alice.card'), '--role', 'operator', '--out', target]);
      expectFailure(run, 1);
      expect(run.stderr).toContain('existe déjà');
      expectKept(target);
      const fresh = dir('alice-neuve.cert');
      expectOk(await asOfficer(['authority', 'certify', path.join(work, 'alice.card'), '--role', 'operator', '--out', fresh]));
      expect(readFileSync(fresh, 'utf8').length).toBeGreaterThan(0);
    });

    it('authority provision --out: refused before anyone is created', async () => {
      const target = existing('nina.key');
      const run = await asOfficer(['authority', 'provision', '--name', 'Nina Roux', '--email', 'mairie@exemple.fr', '--org', 'Mairie', '--role', 'reader', '--out', target]);
      expectFailure(run, 1);
      expect(run.stderr).toContain('existe déjà');
      expectKept(target);
      const listed = await asOfficer(['id', 'list', '--json']);
      expect(listed.stdout).not.toContain('Nina Roux');
    });

    it('directory export --out', async () => {
      const target = existing('annuaire.json');
      const run = await asOfficer(['directory', 'export', '--out', target]);
      expectFailure(run, 1);
      expect(run.stderr).toContain('existe déjà');
      expectKept(target);
      expectOk(await asOfficer(['directory', 'export', '--out', dir('annuaire-neuf.json')]));
    });
  });
});

describe('the decryption temporary folder', () => {
  let sealed: string;
  beforeAll(async () => {
    sealed = dir('temp-envoi.pli');
    expectOk(await asAlice(['encrypt', '--to', bobId, '--out', sealed, xls, pdf]));
  }, 90000);

  it('a symlink planted in the destination under a file’s name is never followed', async () => {
    const out = dir('piege');
    mkdirSync(out);
    const outside = dir('hors-destination.xls');
    writeFileSync(outside, 'fichier hors du dossier');
    symlinkSync(outside, path.join(out, 'IS101.xls'));
    symlinkSync(dir('absent-hors-destination.pdf'), path.join(out, 'rapport annuel.pdf')); // dangling
    const run = await asBob(['decrypt', '--out', out, sealed]);
    expectOk(run);
    expect(readFileSync(outside, 'utf8')).toBe('fichier hors du dossier');
    expect(existsSync(dir('absent-hors-destination.pdf'))).toBe(false);
    expect(lstatSync(path.join(out, 'IS101.xls')).isSymbolicLink()).toBe(true);
    expect(same(path.join(out, 'IS101 (2).xls'), xls)).toBe(true);
    expect(same(path.join(out, 'rapport annuel (2).pdf'), pdf)).toBe(true);
  });

  it('a user’s own .pli-tmp-mine folder survives a decryption', async () => {
    const out = dir('dossier-utilisateur');
    mkdirSync(path.join(out, '.pli-tmp-mine'), { recursive: true });
    writeFileSync(path.join(out, '.pli-tmp-mine', 'notes.txt'), 'à moi');
    expectOk(await asBob(['decrypt', '--out', out, sealed]));
    expect(readFileSync(path.join(out, '.pli-tmp-mine', 'notes.txt'), 'utf8')).toBe('à moi');
  });

  // An older sender's software accepted a name that now hides its real extension.
  it('a container whose manifest holds a disguised name: exit 2, the name shown escaped, nothing written', async () => {
    const profile = openProfile(homeA);
    let bytes: Buffer;
    try {
      const alice = await unlockIdentity(profile.db, aliceId, PASS_A);
      try {
        const bob = currentKeys(profile.db, bobId).enc;
        const none = new Uint8Array(0);
        const sender: TestPerson = { id: aliceId, enc: { publicKey: alice.current.encPublic, secretKey: none, fpr: alice.current.encFpr }, sig: { publicKey: alice.current.sigPublic, secretKey: alice.current.sigSecret, fpr: alice.current.sigFpr } };
        const recipient: TestPerson = { id: bobId, enc: { publicKey: bob.public_key, secretKey: none, fpr: bob.fpr }, sig: { publicKey: none, secretKey: none, fpr: Buffer.alloc(0) } };
        const manifest = { v: 1, sender: aliceId, files: [
          { name: 'IS101.xls', type: 'application/vnd.ms-excel', size: 5, mtime: null },
          { name: 'facture\u202efdp.exe', type: 'application/pdf', size: 4, mtime: null },
        ] };
        bytes = await sealRawPlaintext(sender, [recipient], rawPlaintext(manifest, [Buffer.from('12345'), Buffer.from('MZ\x90\x00', 'latin1')]));
      } finally {
        alice.wipe();
      }
    } finally {
      profile.close();
    }
    const file = dir('ancien-logiciel.pli');
    writeFileSync(file, bytes);
    const out = dir('ancien-logiciel');
    const run = await asBob(['decrypt', '--out', out, file]);
    expectFailure(run, 2);
    expect(run.stderr).toContain('« facture<U+202E>fdp.exe »');
    expect(run.stderr).not.toMatch(/\p{Cf}/u); // the raw control never reaches the terminal
    expect(leftovers(out)).toEqual([]);
  });

  describe('a decryption killed mid-way leaves no temporary folder and no partial file', () => {
    let big: string;
    let bigSealed: string;
    beforeAll(async () => {
      big = dir('releve-annuel.csv');
      writeFileSync(big, randomBytes(96 * 1024 * 1024));
      bigSealed = dir('releve-annuel.pli');
      expectOk(await asAlice(['encrypt', '--to', bobId, '--out', bigSealed, big]));
      rmSync(big);
    }, 120000);

    for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
      it(`${signal}: exit ${code}, the folder left empty`, async () => {
        const out = dir(`interrompu-${signal}`);
        mkdirSync(out);
        // pli stops itself right after its first plaintext bytes: the signal lands mid-way on any
        // machine (a poll of the folder could see it done already, or not begun).
        const { child, closed } = startPli(['--home', homeB, 'decrypt', '--out', out, bigSealed], PASS_B, stopAfterFirstPlaintext(out));
        await untilStopped(child.pid!, closed);
        expect(midWay(out), 'the decryption was caught mid-way').toBe(true);
        child.kill(signal);
        child.kill('SIGCONT');
        const result = await closed;
        expect({ code: result.code, signal: result.signal }, result.stderr).toEqual({ code, signal: null });
        expect(result.stderr).toContain('interrompu');
        expect(readdirSync(out)).toEqual([]);
      }, 90000);
    }
  });
});

// ---- issue 12, item 1: a forged creation date never jams the inbox ----

describe('a container whose creation date is out of range (issue 12)', () => {
  /** Byte offset of created_ms: preamble (16) + container_id (16) (docs/format.md sections 2-3). */
  const CREATED = 32;
  const forge = (source: string, target: string, value: bigint): void => {
    const bytes = readFileSync(source);
    bytes.writeBigUInt64BE(value, CREATED);
    writeFileSync(target, bytes);
  };
  interface InboxJson { id: number; state: string; reason: string | null; createdAt: string | null; arrivedAt: string | null; openedAt: string | null; sha256: string }
  let folder: string;
  let good: string;

  beforeAll(async () => {
    folder = dir('usb-dates');
    mkdirSync(folder);
    good = path.join(folder, 'a-bon.pli');
    expectOk(await asAlice(['encrypt', '--to', bobId, '--out', good, pdf]));
    forge(good, path.join(folder, 'b-9e15.pli'), 9_000_000_000_000_000n);
    forge(good, path.join(folder, 'c-2p53.pli'), 2n ** 53n - 1n);
    forge(good, path.join(folder, 'd-zero.pli'), 0n);
  }, 90000);

  it('pli inspect refuses it as malformed (exit 2) with the reason, never "Invalid time value"', async () => {
    for (const name of ['b-9e15.pli', 'c-2p53.pli', 'd-zero.pli']) {
      for (const json of [[], ['--json']]) {
        const run = await pli(['inspect', path.join(folder, name), ...json]);
        expectFailure(run, 2);
        expect(run.stderr).toMatch(/date de création/);
        expect(run.stderr).not.toMatch(/Invalid time value|inattendue/);
      }
    }
    const fine = await pli(['inspect', good]);
    expectOk(fine);
    expect(fine.stdout).toMatch(/Créé le \(selon l'expéditeur\) : 20\d\d-\d\d-\d\dT/);
  });

  it('pli receive --folder refuses it cleanly; inbox and inbox --json keep working and show no date for it', async () => {
    const before = (JSON.parse((await pli(['--home', homeB, 'inbox', '--json'])).stdout) as InboxJson[]).length;
    const run = await pli(['--home', homeB, 'receive', '--folder', folder]);
    expectOk(run);
    expect(run.stderr).toMatch(/date de création/);
    const listed = await pli(['--home', homeB, 'inbox', '--json']);
    expectOk(listed);
    const rows = (JSON.parse(listed.stdout) as InboxJson[]).slice(before);
    expect(rows.map((r) => [r.state, r.reason])).toEqual([['verified', null], ['refused', 'malformed'], ['refused', 'malformed'], ['refused', 'malformed']]);
    expect(rows[0]!.createdAt).toMatch(/^20\d\d-/);
    expect(rows.slice(1).map((r) => r.createdAt)).toEqual([null, null, null]);
    const text = await pli(['--home', homeB, 'inbox']);
    expectOk(text);
    expect(text.stdout.trimEnd().split('\n')).toHaveLength(before + 4);
  }, 60000);

  it('rows stored before the bound (or edited in the database) with out-of-range dates: inbox, inbox --json and open still work', async () => {
    // The profile attacker (docs/profile.md) writes the database directly: the date fields of
    // existing rows, and a row of its own with a null sender and huge strings.
    const listed = JSON.parse((await pli(['--home', homeB, 'inbox', '--json'])).stdout) as InboxJson[];
    // The entry of this block's good container (earlier blocks left other entries in this inbox).
    const goodSha = createHash('sha256').update(readFileSync(good)).digest('hex');
    const verified = listed.find((r) => r.sha256 === goodSha && r.state === 'verified')!;
    expect(verified).toBeDefined();
    const db = new Database(path.join(homeB, DB_FILE));
    try {
      db.prepare('UPDATE inbox SET created_ms = ? WHERE id = ?').run(9_000_000_000_000_000, verified.id);
      db.prepare(`INSERT INTO inbox (container_id, sha256, size, state, reason, flags, sender_id, created_ms, arrived_at, source, origin, path, opened_at)
        VALUES (?, ?, 1, 'refused', ?, ?, NULL, ?, ?, 'folder', ?, '/nowhere', ?)`).run(
        'f'.repeat(5000), 'e'.repeat(64), 'x'.repeat(100_000), 'old,'.repeat(1000), 2 ** 53 - 1, 9_000_000_000_000_000, 'y'.repeat(10_000), -9_000_000_000_000_000);
    } finally {
      db.close();
    }
    const json = await pli(['--home', homeB, 'inbox', '--json']);
    expectOk(json);
    const rows = JSON.parse(json.stdout) as InboxJson[];
    expect(rows.find((r) => r.id === verified.id)!.createdAt).toBeNull();
    expect(rows.at(-1)).toMatchObject({ createdAt: null, arrivedAt: null, openedAt: null, state: 'refused' });
    const text = await pli(['--home', homeB, 'inbox']);
    expectOk(text);
    expect(text.stdout.trimEnd().split('\n').at(-1)).toMatch(/expéditeur illisible .*arrivé le date illisible$/);
    // The stored date is display only: the entry whose date was edited still opens.
    const out = dir('open-dated');
    const opened = await asBob(['open', String(verified.id), '--out', out]);
    expectOk(opened);
    expect(same(opened.stdout.trim(), pdf)).toBe(true);
  }, 60000);
});
