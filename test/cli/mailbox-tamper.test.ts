// The security review's two attacks on the functional mailbox, replayed with the real `pli` binary
// (docs/profile.md, "The mailbox row: settings bound to the password"). The attacker can write the
// profile's database (python3's sqlite3 module, as the review did; better-sqlite3 to plant a key)
// but knows no passphrase.
// Win 1: the mailbox row pointed at their server (ports, CA) → the next receive or mailbox test
// sent them the password. Now refused (exit 2) before any connection: a TCP listener on loopback
// standing for their server must see none.
// Win 2: a keys row planted in the person's own name received a wrap of the profile key (and so the
// password). Now no wrap for it.
// Needs `npm run build`.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cpSync, rmSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import Database from 'better-sqlite3';
import { xwingKeygen } from '../../electron/core/crypto/keys.js';
import { fingerprint } from '../../electron/core/crypto/primitives.js';
import { openProfile } from '../../electron/core/profile/profile.js';
import { listEvents } from '../../electron/core/profile/events.js';
import { cliSandbox } from './support.js';

const PASS = 'une phrase de passe de test';
const MAIL_PASSWORD = 'S3cret-Mailbox-Pw';
const cli = cliSandbox('pli-mailbox-tamper-', PASS);
const { at, ok, pli, refused } = cli;
const TAMPERED = /réglages de la boîte aux lettres .* ont été modifiés en dehors de Pli : connexion refusée, le mot de passe de la boîte n'a pas été envoyé/;

/** A loopback listener that records every connection and closes it at once. */
interface Listener { port: number; connections: number; server: net.Server }
async function listener(): Promise<Listener> {
  const l: Listener = { port: 0, connections: 0, server: net.createServer((socket) => { l.connections++; socket.destroy(); }) };
  await new Promise<void>((resolve) => l.server.listen(0, '127.0.0.1', resolve));
  l.port = (l.server.address() as net.AddressInfo).port;
  return l;
}
let honest: Listener;
let attacker: Listener;
let alice = '';

let copies = 0;
function copy(home: string): string {
  const name = `${home}-copy-${copies++}`;
  cpSync(at(home), at(name), { recursive: true });
  return name;
}

beforeAll(async () => {
  honest = await listener();
  attacker = await listener();
  await ok('A', ['init']);
  alice = await ok('A', ['id', 'new', '--name', 'Alice Martin', '--email', 'alice@police.test', '--org', 'Police municipale']);
  await ok('A', ['mailbox', 'set', '--imap', `127.0.0.1:${honest.port}`, '--smtp', `127.0.0.1:${honest.port}`, '--user', 'alice@police.test'],
    { env: { PLI_MAIL_PASSWORD: MAIL_PASSWORD } });
  writeFileSync(at('ca2.pem'), '-----BEGIN CERTIFICATE-----\nMIIBattacker\n-----END CERTIFICATE-----\n');
}, 120_000);
afterAll(async () => {
  await new Promise((resolve) => honest.server.close(resolve));
  await new Promise((resolve) => attacker.server.close(resolve));
  rmSync(cli.root, { recursive: true, force: true }); // its profiles and their copies, in /dev/shm
});

describe('win 1: the mailbox row edited', () => {
  it('control: with the settings as saved, pli does connect (the listener sees it)', async () => {
    const before = honest.connections;
    const run = await pli('A', ['mailbox', 'test']);
    expect(run.code).not.toBe(0); // the listener speaks no TLS
    expect(honest.connections).toBeGreaterThan(before);
  });

  it('the review\'s edit (python3 sqlite3: ports and CA) → receive and mailbox test refused, exit 2, no connection', async () => {
    const home = copy('A');
    execFileSync('python3', ['-c', `import sqlite3,sys
d=sqlite3.connect(sys.argv[1])
d.execute('UPDATE mailbox SET imap_port=?,smtp_port=?,ca_pem=?',(int(sys.argv[2]),int(sys.argv[2]),open(sys.argv[3]).read()))
d.commit()`, path.join(at(home), 'profile.sqlite'), String(attacker.port), at('ca2.pem')]);
    const before = { honest: honest.connections, attacker: attacker.connections };
    await refused(2, home, ['receive'], TAMPERED);
    const run = await refused(2, home, ['mailbox', 'test'], TAMPERED);
    expect(run.stderr).toMatch(/Paramètres.*prévenez l'officier SSI/);
    await refused(2, home, ['receive', '--as', alice], TAMPERED);
    expect(attacker.connections).toBe(before.attacker);
    expect(honest.connections).toBe(before.honest);
    // audited as a refusal, with the reason
    const profile = openProfile(at(home));
    try {
      const refusals = listEvents(profile.db).filter((e) => e.action === 'mailbox.settings-changed' && e.outcome === 'refused');
      expect(refusals.map((e) => e.detail)).toEqual(Array(3).fill(JSON.stringify({ reason: 'mailbox-tampered' })));
      expect(refusals.map((e) => e.actor)).toEqual([alice, alice, alice]);
    } finally {
      profile.db.close();
    }
  });

  it('the user or the maximum size edited alone is refused too', async () => {
    for (const edit of ["UPDATE mailbox SET user='attacker@pirate.test'", 'UPDATE mailbox SET max_message_bytes=999999999', "UPDATE mailbox SET smtp_mode='starttls'"]) {
      const home = copy('A');
      execFileSync('python3', ['-c', `import sqlite3,sys
d=sqlite3.connect(sys.argv[1])
d.execute(sys.argv[2])
d.commit()`, path.join(at(home), 'profile.sqlite'), edit]);
      const before = honest.connections;
      await refused(2, home, ['mailbox', 'test'], TAMPERED);
      expect(honest.connections, edit).toBe(before);
    }
  });
});

describe('win 2: the profile key is not wrapped for a planted key', () => {
  it('a keys row (xwing, key_set 2) planted in Alice\'s own name gets no wrap at her next receive', async () => {
    const home = copy('A');
    const planted = await xwingKeygen();
    const fpr = fingerprint('xwing', planted.publicKey);
    const file = path.join(at(home), 'profile.sqlite');
    const db = new Database(file);
    try {
      db.prepare("INSERT INTO keys (fpr, identity_id, kind, public_key, key_set, created_at) VALUES (?, ?, 'xwing', ?, 2, ?)")
        .run(fpr, alice, Buffer.from(planted.publicKey), Date.now());
    } finally {
      db.close();
    }
    // the receive goes on to the honest server (which speaks no TLS): the wraps are written before
    const run = await pli(home, ['receive', '--as', alice]);
    expect(run.stderr).not.toMatch(TAMPERED);
    const check = new Database(file, { readonly: true });
    try {
      const wraps = check.prepare('SELECT key_fpr FROM profile_key_wraps').pluck().all() as Buffer[];
      expect(wraps.length).toBeGreaterThan(0);
      expect(wraps.some((w) => w.equals(fpr))).toBe(false);
    } finally {
      check.close();
    }
  });
});
