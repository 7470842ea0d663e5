// A compromised interface (a script running in the page) plays the attacker: it names, as inputs,
// files the person never picked nor dropped: a secret to seal into a file or into the outbox
// (then mailed to a correspondent), a container to open, a card to import. Main refuses each
// before any dialog or work (electron/ipc/chosen.ts); the same paths, once the person chose them
// (the preload's pathForFile, HandlerTable.chooseFile), go through.
import { afterAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createHandlers } from '../../electron/ipc/handlers.js';
import { createChosenFiles } from '../../electron/ipc/chosen.js';

const PASS = 'phrase de passe des essais, assez longue';
const root = mkdtempSync(path.join(tmpdir(), 'pli-chosen-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

type Refusal = { kind: string; code: string; message: string };

function desktop(home: string) {
  const answers: (string | null)[] = [];
  let dialogs = 0;
  const next = async () => { dialogs += 1; return answers.shift() ?? null; };
  const table = createHandlers({
    home, emitProgress: () => undefined, emitMailEvent: () => undefined,
    shell: { saveFile: next, chooseFolder: next, openFile: next, showInFolder: () => undefined },
  });
  const invoke = (channel: string, request: unknown) => table.invoke(channel, request);
  const call = async <T>(channel: string, request: unknown): Promise<T> => {
    const answer = await invoke(channel, request);
    expect(answer.ok, `${channel}: ${answer.ok ? '' : answer.error.message}`).toBe(true);
    return (answer as unknown as { value: T }).value;
  };
  const refusal = async (channel: string, request: unknown): Promise<Refusal> => {
    const answer = await invoke(channel, request);
    expect(answer.ok, `${channel} should be refused`).toBe(false);
    return (answer as unknown as { error: Refusal }).error;
  };
  return { table, answers, dialogs: () => dialogs, call, refusal };
}

describe('the interface names only the files the person chose', () => {
  it('refuses a secret the person never chose, in every channel that takes a path, before any dialog; the chosen ones go through', async () => {
    const app = desktop(path.join(root, 'home'));
    try {
      await app.call('profile:init', {});
      const me = (await app.call<{ person: { id: string } }>('identities:create', { opId: 'c1', name: 'Karine Leroy', email: 'karine@mairie.example', org: 'Mairie', passphrase: PASS })).person.id;
      const secret = path.join(root, 'secret.txt');
      writeFileSync(secret, 'ce que la personne n’a jamais choisi d’envoyer\n');
      const state = path.join(root, 'etat.csv');
      writeFileSync(state, 'commune;faits\nNancy;12\n');
      const folder = path.join(root, 'cle-usb');
      mkdirSync(folder);
      const sealedOut = path.join(root, 'scelle.pli');

      // The person chose the state (picked or dropped); never the secret.
      expect(app.table.chooseFile(state)).toBe(true);
      // The attacker's requests: each refused for security, no dialog shown, nothing written or queued.
      const send = { opId: 's1', files: [secret], to: [], self: true };
      for (const [channel, request] of [
        ['outbox:send', { ...send, transport: 'folder' }],
        ['outbox:send', { ...send, transport: 'mail' }],
        ['outbox:send', { ...send, files: [state, secret], transport: 'folder' }],
        ['containers:encrypt', { opId: 'e1', files: [secret], to: [me], self: false }],
        ['containers:inspect', { path: secret }],
        ['containers:open', { opId: 'o1', path: secret }],
        ['identities:importCard', { path: secret }],
      ] as const) {
        app.answers.push(folder, sealedOut);
        const error = await app.refusal(channel, request);
        expect(error, channel).toMatchObject({ kind: 'security', code: 'file-not-chosen' });
        expect(error.message).toContain('secret.txt');
        expect(app.dialogs(), channel).toBe(0);
        app.answers.length = 0;
      }
      expect(readdirSync(folder)).toEqual([]);
      expect(existsSync(sealedOut)).toBe(false);
      expect((await app.call<{ items: unknown[] }>('outbox:list', {})).items).toEqual([]);

      // Not the chosen string: the same file by another spelling, a relative path, not a string.
      const elsewhere = `${root}${path.sep}.${path.sep}etat.csv`;
      expect((await app.refusal('containers:encrypt', { opId: 'e2', files: [elsewhere], to: [me], self: false })).code).toBe('file-not-chosen');
      for (const bad of ['etat.csv', '', 42, null, { path: state }, `/${'a'.repeat(5000)}`]) expect(app.table.chooseFile(bad)).toBe(false);

      // The person's own choices: sealed into a file, then sent into the folder.
      app.answers.push(sealedOut);
      await app.call('containers:encrypt', { opId: 'e3', files: [state], to: [me], self: false });
      expect(existsSync(sealedOut)).toBe(true);
      app.answers.push(folder);
      const sent = await app.call<{ status: string }>('outbox:send', { ...send, opId: 's2', files: [state], transport: 'folder' });
      expect(sent.status).toBe('done');
      expect(readdirSync(folder).filter((f) => f.endsWith('.pli'))).toHaveLength(1);
      // A container is inspected and opened once chosen (dropped on the window).
      expect((await app.refusal('containers:inspect', { path: sealedOut })).code).toBe('file-not-chosen');
      expect(app.table.chooseFile(sealedOut)).toBe(true);
      expect((await app.call<{ path: string }>('containers:inspect', { path: sealedOut })).path).toBe(sealedOut);
    } finally {
      app.table.close();
    }
  });

  it('on a shared workstation, what one person chose is not the next person\'s: refused once another signs in, theirs again after', async () => {
    const app = desktop(path.join(root, 'shared-home'));
    try {
      await app.call('profile:init', {});
      const anne = (await app.call<{ person: { id: string } }>('identities:create', { opId: 'a1', name: 'Anne Martin', email: 'anne@mairie.example', org: 'Mairie', passphrase: PASS })).person.id;
      const hers = path.join(root, 'dossier-d-anne.csv');
      writeFileSync(hers, 'commune;faits\nToul;3\n');
      expect(app.table.chooseFile(hers)).toBe(true);
      await app.call('session:signOut', {});
      // Someone else signs in (identities:create signs the new person in); the page's script names Anne's file.
      await app.call('identities:create', { opId: 'b1', name: 'Bruno Petit', email: 'bruno@mairie.example', org: 'Mairie', passphrase: PASS });
      const out = path.join(root, 'fuite.pli');
      app.answers.push(out);
      const error = await app.refusal('containers:encrypt', { opId: 'b2', files: [hers], to: [], self: true });
      expect(error).toMatchObject({ kind: 'security', code: 'file-not-chosen' });
      expect(error.message).toContain('dossier-d-anne.csv');
      expect(app.dialogs()).toBe(0);
      expect(existsSync(out)).toBe(false);
      // Anne back (her draft kept across an idle lock names it again): hers, as chosen.
      await app.call('session:signOut', {});
      await app.call('session:signIn', { opId: 'a2', id: anne, passphrase: PASS });
      await app.call('containers:encrypt', { opId: 'a3', files: [hers], to: [], self: true });
      expect(existsSync(out)).toBe(true);
      // Chosen while nobody is signed in (a .pli dropped on the sign-in screen): the next person's.
      await app.call('session:signOut', {});
      expect(app.table.chooseFile(out)).toBe(true);
      expect((await app.call<{ path: string }>('containers:inspect', { path: out })).path).toBe(out);
    } finally {
      app.table.close();
    }
  });

  it('forgets the oldest choice beyond 10,000, and a choice made again is the newest', () => {
    const chosen = createChosenFiles(() => null);
    const first = path.join(root, 'premier.csv');
    const second = path.join(root, 'second.csv');
    expect(chosen.choose(first)).toBe(true);
    expect(chosen.choose(second)).toBe(true);
    for (let i = 0; i < 9_998; i++) chosen.choose(path.join(root, `f${i}.csv`));
    expect(() => chosen.require([first, second])).not.toThrow();
    chosen.choose(first); // chosen again: now the newest
    chosen.choose(path.join(root, 'un-de-plus.csv'));
    expect(() => chosen.require([first])).not.toThrow();
    expect(() => chosen.require([second])).toThrow(expect.objectContaining({ code: 'file-not-chosen' }));
  });
});
