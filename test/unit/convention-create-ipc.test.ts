// The officer creates and edits a convention from the desktop app (issue 14 §6): the channels
// conventions:create and conventions:edit, through the same IPC handler table main binds. They call
// the core's createConvention / editConvention (the CLI's `convention new`), officer only, checked
// in main: a certified person who is not the officer is refused and nothing is signed.
import { scriptedTable } from './handler-table.js';
import { afterAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { contract } from '../../shared/ipc.js';
import { cliMessage } from '../../electron/cli/hints.js';

const PASS = 'une phrase de passe de test';
const root = mkdtempSync(path.join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'pli-convedit-unit-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

interface View { id: string; version: number; title: string; people: { id: string; function: string }[]; expect: string[]; state: string }

describe('conventions:create and conventions:edit (desktop, officer only)', () => {
  it('the officer creates then edits (same id, version 2, audited); an operator is refused, nothing signed', async () => {
    const home = path.join(root, 'app');
    const { opens, saves, table, call } = scriptedTable(home);
    try {
      await call('profile:init', {});
      const officer = await call<{ person: { id: string } }>('identities:create', { opId: 'op-1', name: 'Officier Test', email: 'ssi@exemple.fr', org: 'SSI DIPN 62', passphrase: PASS });
      await call('authority:init', { name: 'SSI DIPN 62' });
      // A clerk of the town hall on this profile, certified as operator by the officer.
      const clerk = await call<{ person: { id: string } }>('identities:create', { opId: 'op-2', name: 'Claire Martin', email: 'claire@exemple.fr', org: 'Mairie d’Arras', passphrase: PASS });
      const card = path.join(root, 'claire.json');
      saves.push(card);
      await call('identities:exportCard', { id: clerk.person.id });
      await call('session:signIn', { opId: 'op-3', id: officer.person.id, passphrase: PASS });
      opens.push(card);
      saves.push(path.join(root, 'certificat-claire.json'));
      expect(await call('authority:certify', { role: 'operator', days: 365 })).toMatchObject({ status: 'done' });

      const request = {
        title: 'Convention IS 101 — Arras', start: '2026-01-01', years: 3, renewMax: 5, retentionDays: 15, openReceipts: true,
        parties: [{ org: 'SSI DIPN 62', address: 'ssi-dipn62@interieur.gouv.fr' }, { org: 'Mairie d’Arras', address: 'police-municipale@arras.fr' }],
        people: [{ id: clerk.person.id, function: 'Directrice générale des services' }],
        types: ['.pdf', 'CSV'], schedule: { every: 'quarterly', day: 8 }, expect: ['IS 101', 'IST'],
      };
      expect(contract['conventions:create'].request.safeParse(request).success).toBe(true);
      expect(contract['conventions:create'].request.safeParse({ ...request, schedule: { every: 'weekly', day: 8 } }).success).toBe(false);

      const created = (await call<{ convention: View }>('conventions:create', request)).convention;
      expect(created).toMatchObject({ version: 1, title: request.title, state: 'active', expect: ['IS 101', 'IST'] });
      expect(created.people).toEqual([expect.objectContaining({ id: clerk.person.id, function: 'Directrice générale des services' })]);
      const listed = (await call<{ conventions: View[] }>('conventions:list', {})).conventions;
      expect(listed.map((c) => c.id)).toEqual([created.id]);

      // A core refusal comes back with its field, nothing signed: a party nobody certified belongs to.
      const unknown = await table.invoke('conventions:create', { ...request, parties: [request.parties[0], { org: 'Mairie inconnue', address: 'x@y.fr' }], people: [] });
      expect(!unknown.ok && unknown.error.code).toBe('unknown-party');
      // A start the app's field takes (jj/mm/aaaa from 1970) but a convention may not have: the
      // allowed days in words, never a format the field does not use (AAAA-MM-JJ, 2000-01-01).
      const early = await table.invoke('conventions:create', { ...request, start: '1999-12-31' });
      expect(!early.ok && [early.error.code, early.error.params]).toEqual(['bad-date', { field: 'start' }]);
      expect(!early.ok && early.error.message).toBe('Date de début : donnez une date réelle entre le 1er\u00a0janvier\u00a02000 et le 31\u00a0décembre\u00a02199.');
      expect(!early.ok && early.error.message).not.toMatch(/AAAA|jj|\d{4}-\d{2}-\d{2}/i);
      // The command line gives its option and the format it takes as its hint.
      expect(!early.ok && cliMessage({ ...early.error, params: early.error.params ?? {} })).toMatch(/ \(option --start AAAA-MM-JJ\)$/);

      // Edit: the same id, version 2, signed again, and the new list of documents.
      const edited = (await call<{ convention: View }>('conventions:edit', { ...request, id: created.id, expect: ['IS 101', 'IST', 'État 4001'] })).convention;
      expect(edited).toMatchObject({ id: created.id, version: 2, expect: ['IS 101', 'IST', 'État 4001'] });
      const events = (await call<{ events: { action: string; object: string | null }[] }>('events:list', {})).events;
      expect(events.filter((e) => e.object === created.id).map((e) => e.action)).toEqual(expect.arrayContaining(['convention.created', 'convention.edited']));

      // The clerk, certified but not the officer, is refused by main: nothing created, nothing changed.
      await call('session:signIn', { opId: 'op-4', id: clerk.person.id, passphrase: PASS });
      for (const [channel, body] of [['conventions:create', request], ['conventions:edit', { ...request, id: created.id, title: 'Piratée' }]] as const) {
        const refused = await table.invoke(channel, body);
        expect(refused.ok, channel).toBe(false);
        if (!refused.ok) expect(refused.error.kind).toBe('security');
      }
    } finally {
      table.close();
    }
    // The attacker's view of the profile: exactly one convention, version 2, two issued versions.
    const db = new Database(path.join(home, 'profile.sqlite'), { readonly: true });
    try {
      expect(db.prepare('SELECT version FROM conventions').pluck().all()).toEqual([2]);
      expect(db.prepare('SELECT COUNT(*) FROM issued_conventions').pluck().get()).toBe(2);
    } finally {
      db.close();
    }
  }, 120_000);
});
