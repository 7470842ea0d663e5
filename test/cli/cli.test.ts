// The real `pli` binary (bin/pli.js over dist/, so run `npm run build` first) in temporary folders:
// the CLI contract of exit codes (0 done, 1 usage/input, 2 security), one-line `pli: ` errors, and
// the promise that nothing is left in the output folder when a container is refused.
// Profiles are created once (each command costs ~0.3-0.6 s, mostly Node start-up and Argon2).
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, statSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { createHash, randomBytes } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

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
  }, 30000);

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
  }, 30000);

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
  }, 30000);
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
  }, 30000);
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
  }, 30000);
});
