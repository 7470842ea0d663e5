// The sender's own copy of what they send, against the attacker of docs/profile.md (who writes the
// profile's files, knows no passphrase). Without an SSI authority no certificate vouches for a key:
// the attacker plants an X-Wing key of their own in `keys` for the sender (a newer key set), and the
// sender's next container, their own copy included, was sealed to it; the attacker read it with
// their own passphrase. The copy now goes only to the key sealed with the sender's private keys, or
// nothing is kept. Played with the real `pli` and better-sqlite3 on the profile's own database.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import { cliSandbox } from './support.js';

const PASS = 'une phrase de passe de test';
const TAMPERED = /le profil de ce poste a été modifié en dehors de Pli \(la clé de chiffrement de l’expéditeur n’est pas celle de ses clés privées\)/i;
const { root, at, ok, refused } = cliSandbox('pli-self-key-', PASS);
afterAll(() => rmSync(root, { recursive: true, force: true }));

const ids: Record<string, string> = {};
beforeAll(async () => {
  writeFileSync(at('note.txt'), 'note de service\n');
  await Promise.all([
    (async () => {
      await ok('A', ['init']);
      ids.alice = await ok('A', ['id', 'new', '--name', 'Alice Martin', '--email', 'alice@mairie.fr', '--org', 'Mairie']);
    })(),
    (async () => {
      await ok('M', ['init']);
      ids.mallory = await ok('M', ['id', 'new', '--name', 'Mallory Pirate', '--email', 'm@pirate.fr', '--org', 'Pirates']);
    })(),
  ]);
});

describe('the sender\'s own copy', () => {
  it('is sealed to the sender\'s own key: the test\'s set-up works before the attack', async () => {
    await ok('A', ['encrypt', '--to', ids.alice!, '--out', at('avant.pli'), at('note.txt')]);
    await ok('A', ['decrypt', '--out', at('avant'), at('avant.pli')]);
    expect(readdirSync(at('avant'))).toEqual(['note.txt']);
  });

  it('an X-Wing key planted for the sender: refused, nothing kept, and the attacker reads nothing', async () => {
    const planted = new Database(at('M/profile.sqlite'), { readonly: true })
      .prepare("SELECT fpr, public_key FROM keys WHERE identity_id = ? AND kind = 'xwing'").get(ids.mallory) as { fpr: Buffer; public_key: Buffer };
    const db = new Database(at('A/profile.sqlite'));
    db.prepare("INSERT INTO keys (fpr, identity_id, kind, public_key, key_set, created_at) VALUES (?, ?, 'xwing', ?, 2, ?)")
      .run(planted.fpr, ids.alice, planted.public_key, Date.now());
    db.close();

    await refused(2, 'A', ['encrypt', '--to', ids.alice!, '--out', at('apres.pli'), at('note.txt')], TAMPERED);
    expect(existsSync(at('apres.pli'))).toBe(false);
    expect(readdirSync(root).filter((f) => f.includes('apres'))).toEqual([]);
  });
});
