// Issue 12, item 3: names never rewrite the terminal. A card whose name, e-mail or organisation
// holds control, bidirectional or format characters is refused at import and by the authority;
// the same values planted in the profile's database by its attacker (docs/profile.md) reach
// stdout/stderr only escaped as <U+XXXX>. Assertions are on the raw bytes the binary wrote.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import path from 'node:path';
import { makeCard, newPersonCard, unlockIdentity } from '../../electron/core/profile/identities.js';
import { openProfile } from '../../electron/core/profile/profile.js';
import { unlockAuthority } from '../../electron/core/authority/authority.js';
import { verifyCertificate, verifyCertificateSync } from '../../electron/core/authority/certificates.js';
import { makeEnvelope } from '../../electron/core/authority/signed.js';
import { cliSandbox, type Run } from './support.js';

const PASS = 'une phrase de passe de test';
const cli = cliSandbox('pli-escapes-cli-', PASS);
const { root, at, pli, ok, refused } = cli;

// A row of `pli id list` forged by CR LF, then the conceal sequence to hide what follows.
const FORGED = 'Eve\r\nABCDEFGHIJKLMNOPQRSTUVWXYZ  personnelle      Officier SSI <ssi@police.fr>  DIPN 54  certificat : valide\x1b[8m';
const EMAIL = 'eve@x.fr\x1b]8;;http://x\x07cliquez\x1b]8;;\x07';
const ORG = 'Pirates\x1b]0;titre\x07\u202eexe.fdp';
// Bytes that must never come out raw: C0 but LF (LF is checked per line), DEL, C1, bidi, format.
// eslint-disable-next-line no-control-regex
const RAW = /[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200b-\u200f\u202a-\u202e\u2028\u2029\u2066-\u2069\ufeff]/u;

function clean(run: Run, lines?: number): void {
  for (const stream of [run.stdout, run.stderr]) {
    expect(Buffer.from(stream, 'utf8').includes(0x1b), stream).toBe(false);
    expect(stream, stream).not.toMatch(RAW);
  }
  if (lines !== undefined) expect(run.stdout.split('\n').length - 1, run.stdout).toBe(lines);
}

async function hostileCard(file: string, person: { name: string; email: string; org: string }): Promise<void> {
  const fresh = await newPersonCard({ name: 'Eve', email: 'eve@x.fr', org: 'Pirates' });
  writeFileSync(file, await makeCard({ ...fresh.body, ...person }, fresh.keys.sigSecret));
}

function plant(home: string, sql: string, ...params: unknown[]): void {
  const db = new Database(path.join(at(home), 'profile.sqlite'));
  try {
    db.prepare(sql).run(...params);
  } finally {
    db.close();
  }
}

let aliceId = '';
let bobId = '';

beforeAll(async () => {
  await Promise.all([
    (async () => {
      await ok('A', ['init']);
      aliceId = await ok('A', ['id', 'new', '--name', 'Alice Martin', '--email', 'police@nancy.fr', '--org', 'Police municipale']);
      await ok('A', ['id', 'export', aliceId, '--out', at('alice.card')]);
    })(),
    (async () => {
      await ok('B', ['init']);
      bobId = await ok('B', ['id', 'new', '--name', 'Bob Durand', '--email', 'mairie@nancy.fr', '--org', 'Mairie de Nancy']);
      await ok('B', ['id', 'export', bobId, '--out', at('bob.card')]);
    })(),
    (async () => {
      await ok('O', ['init']);
      await ok('O', ['id', 'new', '--name', 'Olivier Ssi', '--email', 'ssi@police.fr', '--org', 'DIPN 54']);
      await ok('O', ['authority', 'init', '--name', 'SSI DIPN 54']);
    })(),
  ]);
  await Promise.all([ok('A', ['id', 'import', at('bob.card')]), ok('B', ['id', 'import', at('alice.card')])]);
  await Promise.all([
    hostileCard(at('eve-all.card'), { name: FORGED, email: EMAIL, org: ORG }),
    hostileCard(at('eve-name.card'), { name: FORGED, email: 'eve@x.fr', org: 'Pirates' }),
    hostileCard(at('eve-email.card'), { name: 'Eve', email: EMAIL, org: 'Pirates' }),
    hostileCard(at('eve-org.card'), { name: 'Eve', email: 'eve@x.fr', org: ORG }),
    hostileCard(at('eve-rlo.card'), { name: 'Eve \u202eeciffo', email: 'eve@x.fr', org: 'Pirates' }),
  ]);
}, 300_000);

afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('a hostile card', () => {
  it('is refused by id import (exit 2), the message shows the value escaped, nothing is added', async () => {
    for (const card of ['eve-all', 'eve-name', 'eve-email', 'eve-org', 'eve-rlo']) {
      const run = await refused(2, 'A', ['id', 'import', at(`${card}.card`)], /Carte d'identité refusée : .*caractère/);
      clean(run, 0);
      expect(run.stderr).toMatch(/<U\+(000D|001B|202E)>/);
    }
    const listed = JSON.parse((await pli('A', ['id', 'list', '--json'])).stdout) as { name: string }[];
    expect(listed.map((r) => r.name).sort()).toEqual(['Alice Martin', 'Bob Durand']);
  }, 60000);

  it('is refused by authority certify (exit 2): no certificate written', async () => {
    for (const card of ['eve-all', 'eve-rlo']) {
      const target = at(`${card}.cert`);
      const run = await refused(2, 'O', ['authority', 'certify', at(`${card}.card`), '--role', 'operator', '--out', target], /Carte d'identité refusée/);
      clean(run, 0);
      expect(existsSync(target)).toBe(false);
    }
  }, 60000);

  it('authority provision and id new refuse such a person (exit 1): no key file, no identity', async () => {
    const target = at('eve.key');
    for (const [flag, value] of [['--name', FORGED], ['--email', EMAIL], ['--org', ORG], ['--name', 'Eve \u202eeciffo']] as const) {
      const person: Record<string, string> = { '--name': 'Eve', '--email': 'eve@x.fr', '--org': 'Pirates', [flag]: value };
      const args = Object.entries(person).flat();
      clean(await refused(1, 'O', ['authority', 'provision', ...args, '--role', 'reader', '--out', target], /caractère/), 0);
      expect(existsSync(target)).toBe(false);
      clean(await refused(1, 'O', ['id', 'new', ...args], /caractère/), 0);
    }
    const listed = JSON.parse((await pli('O', ['id', 'list', '--json'])).stdout) as { name: string }[];
    expect(listed.map((r) => r.name)).toEqual(['Olivier Ssi']);
  }, 120000);
});

describe('a certificate signed by the authority with such a name', () => {
  it('is refused at verification (async and sync), an honest one re-signed the same way is not', async () => {
    await ok('O', ['authority', 'certify', at('alice.card'), '--role', 'operator', '--out', at('alice.cert')]);
    const certText = readFileSync(at('alice.cert'), 'utf8');
    const body = JSON.parse((JSON.parse(certText) as { body: string }).body) as Record<string, unknown>;
    const profile = openProfile(at('O'));
    try {
      const authority = await unlockAuthority({ profile, unlocker: { unlock: (row) => unlockIdentity(profile.db, row.id, PASS) } });
      try {
        const key = authority.row.public_key;
        const honest = await makeEnvelope('certificate', body, authority.secretKey);
        expect((await verifyCertificate(honest, key)).body.name).toBe('Alice Martin');
        for (const [field, value] of [['name', FORGED], ['email', EMAIL], ['org', ORG], ['name', 'Alice \u202eeciffo']] as const) {
          const forged = await makeEnvelope('certificate', { ...body, [field]: value }, authority.secretKey);
          await expect(verifyCertificate(forged, key)).rejects.toThrow(/Certificat non conforme/);
          expect(() => verifyCertificateSync(forged, key)).toThrow(/Certificat non conforme/);
        }
      } finally {
        authority.wipe();
      }
    } finally {
      profile.close();
    }
  }, 60000);
});

describe('the same values planted in the profile database', () => {
  it('id list, receive and inbox print them escaped, one line per entry', async () => {
    plant('A', 'UPDATE identities SET name = ?, email = ?, org = ? WHERE id = ?', FORGED, EMAIL, ORG, bobId);
    const list = await pli('A', ['id', 'list']);
    expect(list.code, list.stderr).toBe(0);
    clean(list, 3); // the authority line, Alice, Bob
    expect(list.stdout).toContain('Eve<U+000D><U+000A>ABCDEFGHIJKLMNOPQRSTUVWXYZ  personnelle');
    expect(list.stdout).toContain('<U+001B>[8m');
    expect(list.stdout).toContain('<U+202E>exe.fdp');

    const folder = at('usb');
    mkdirSync(folder);
    writeFileSync(at('IS101.txt'), 'état nominatif\n');
    await ok('B', ['encrypt', '--to', aliceId, '--out', path.join(folder, 'a.pli'), at('IS101.txt')]);
    const received = await pli('A', ['receive', '--folder', folder]);
    expect(received.code, received.stderr).toBe(0);
    clean(received, 1);
    expect(received.stdout).toContain('Eve<U+000D><U+000A>');

    const inbox = await pli('A', ['inbox']);
    expect(inbox.code, inbox.stderr).toBe(0);
    clean(inbox, 1);
    expect(inbox.stdout).toContain('<U+001B>]0;titre<U+0007>');

    // A refusal reason planted too.
    plant('A', "UPDATE inbox SET state = 'refused', reason = ?", `signature\r\n2  ${FORGED}  vérifié\u202e`);
    const refusedInbox = await pli('A', ['inbox']);
    expect(refusedInbox.code, refusedInbox.stderr).toBe(0);
    clean(refusedInbox, 1);
  }, 120000);
});
