// Issue 11, item 1: the same operations through the CLI (the real `pli` binary) and through the
// desktop's IPC handler table (as main and the end-to-end bridge bind it) give the same events:
// the core writes them, the front ends only say who is acting. An officer's workstation O and a
// member's workstation W, played twice: once with `pli`, once with createHandlers.
// Compared: the sequence of (action, outcome, actor, object, detail keys), with identity ids
// mapped to names and values that differ by nature (container ids, fingerprints, paths) to their
// kind. Sign-ins (login.*, session.*) are left out: the CLI signs in at each command, the desktop
// once per session. The one difference by design: a CLI command that asks for no passphrase
// (`pli id import`, `pli audit verify`) has no proven person, so its events have no actor, where
// the desktop names the signed-in person.
// Needs `npm run build`.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { openProfile } from '../../electron/core/profile/profile.js';
import { listEvents } from '../../electron/core/profile/events.js';
import { listIdentities } from '../../electron/core/profile/identities.js';
import { createHandlers } from '../../electron/ipc/handlers.js';
import { cliSandbox } from './support.js';

const PASS = 'une phrase de passe de test';
const cli = cliSandbox('pli-audit-owners-', PASS);
const { root, at, ok, refused } = cli;
const DATA = at('IS101.txt');
writeFileSync(DATA, 'état statistique du trimestre\n');

const OFFICER = { name: 'Olivier Ssi', email: 'ssi@police.fr', org: 'DIPN 54' };
const ALICE = { name: 'Alice Martin', email: 'mairie@nancy.fr', org: 'Mairie de Nancy' };
const BOB = { name: 'Bob Durand', email: 'mairie@nancy.fr', org: 'Mairie de Nancy' };
/** Written by a CLI command that asks for no passphrase: no actor there (see the header). */
const NO_PASSPHRASE_IN_CLI = new Set(['identity.imported', 'audit.verified']);

interface Seen { action: string; outcome: string; actor: string | null; object: string | null; detail: string[] }

/** A station's events, as compared: sign-ins left out, ids as names, varying values as kinds. */
function seen(home: string): Seen[] {
  const profile = openProfile(home);
  try {
    const names = new Map(listIdentities(profile.db).map((r) => [r.id, r.name]));
    const kind = (value: string | null): string | null => {
      if (value === null) return null;
      if (names.has(value)) return names.get(value)!;
      if (value === home) return '<profile>';
      if (/^\d+$/.test(value)) return `serial ${value}`;
      if (/^[0-9A-Z]{4}(-[0-9A-Z]{4}){4}$/.test(value)) return '<fingerprint>';
      if (path.isAbsolute(value)) return '<file>';
      return '<container>';
    };
    return listEvents(profile.db)
      .filter((e) => !e.action.startsWith('login.') && !e.action.startsWith('session.'))
      .map((e) => ({
        action: e.action, outcome: e.outcome, actor: e.actor === null ? null : names.get(e.actor) ?? '<unknown>',
        object: kind(e.object), detail: e.detail ? Object.keys(JSON.parse(e.detail) as object).sort() : [],
      }));
  } finally {
    profile.close();
  }
}

const viaCli = { O: [] as Seen[], W: [] as Seen[] };
let notOfficer = { kind: '', code: '', message: '' };
const viaIpc = { O: [] as Seen[], W: [] as Seen[] };

async function runCli(): Promise<void> {
  await ok('O', ['init']);
  const officer = await ok('O', ['id', 'new', '--name', OFFICER.name, '--email', OFFICER.email, '--org', OFFICER.org]);
  const pin = await ok('O', ['authority', 'init', '--name', 'SSI DIPN 54']);
  await ok('O', ['id', 'export', officer, '--out', at('cli-olivier.card')]);
  await ok('W', ['init']);
  const alice = await ok('W', ['id', 'new', '--name', ALICE.name, '--email', ALICE.email, '--org', ALICE.org]);
  await ok('W', ['id', 'export', alice, '--out', at('cli-alice.card')]);
  await ok('O', ['authority', 'certify', at('cli-alice.card'), '--role', 'operator', '--out', at('cli-alice.cert')]);
  const bob = await ok('O', ['authority', 'provision', '--name', BOB.name, '--email', BOB.email, '--org', BOB.org, '--role', 'reader', '--out', at('cli-bob.key')]);
  await ok('O', ['authority', 'revoke', bob, '--reason', 'mutation']);
  await ok('O', ['directory', 'export', '--out', at('cli-d1.json')]);
  await ok('W', ['directory', 'import', at('cli-d1.json'), '--pin', pin]);
  await ok('W', ['id', 'install', at('cli-alice.cert')]);
  await refused(2, 'W', ['directory', 'import', at('cli-d1.json')], /n'est pas plus récent/);
  await ok('W', ['id', 'import', at('cli-olivier.card')]);
  await ok('W', ['encrypt', '--as', alice, '--to', officer, '--out', at('cli-etat.pli'), DATA]);
  await ok('W', ['decrypt', '--out', at('cli-ouvert'), at('cli-etat.pli')]);
  await ok('W', ['audit', 'verify']);
  await ok('W', ['audit', 'export', '--as', alice, '--out', at('cli-journal.csv')]);
  viaCli.O = seen(at('O'));
  viaCli.W = seen(at('W'));
}

/** One desktop app on `home`; native dialogs answer from `answers`, in order. */
function desktop(home: string) {
  const answers: (string | null)[] = [];
  const next = async () => answers.shift() ?? null;
  const table = createHandlers({
    home, emitProgress: () => undefined, emitMailEvent: () => undefined,
    shell: { openFile: next, saveFile: next, chooseFolder: next, showInFolder: () => undefined },
  });
  const call = async <T = Record<string, unknown>>(channel: string, request: unknown = {}, ...dialogs: string[]): Promise<T> => {
    answers.push(...dialogs);
    const answer = await table.invoke(channel, request);
    expect(answer.ok, `${channel}: ${answer.ok ? '' : answer.error.message}`).toBe(true);
    return (answer as unknown as { value: T }).value;
  };
  const refusal = async (channel: string, request: unknown, ...dialogs: string[]): Promise<{ kind: string; code: string; message: string }> => {
    answers.push(...dialogs);
    const answer = await table.invoke(channel, request);
    expect(answer.ok, channel).toBe(false);
    return answer.ok ? { kind: '', code: '', message: '' } : { kind: answer.error.kind, code: answer.error.code, message: answer.error.message };
  };
  // The person picks or drops a file (the preload's pathForFile): the interface may then name it.
  const choose = (...paths: string[]) => paths.forEach((p) => expect(table.chooseFile(p)).toBe(true));
  return { call, refusal, choose, close: () => table.close() };
}

async function runIpc(): Promise<void> {
  const [homeO, homeW] = [at('desktop-O'), at('desktop-W')];
  const O = desktop(homeO);
  const W = desktop(homeW);
  try {
    await O.call('profile:init');
    const officer = (await O.call<{ person: { id: string } }>('identities:create', { opId: 'o1', ...OFFICER, passphrase: PASS })).person.id;
    const { fingerprint: pin } = await O.call<{ fingerprint: string }>('authority:init', { name: 'SSI DIPN 54' });
    await O.call('identities:exportCard', { id: officer }, at('ipc-olivier.card'));
    await W.call('profile:init');
    const alice = (await W.call<{ person: { id: string } }>('identities:create', { opId: 'w1', ...ALICE, passphrase: PASS })).person.id;
    await W.call('identities:exportCard', { id: alice }, at('ipc-alice.card'));
    await O.call('authority:certify', { role: 'operator', days: 365 }, at('ipc-alice.card'), at('ipc-alice.cert'));
    const bob = (await O.call<{ id: string }>('authority:provision', { ...BOB, role: 'reader', days: 365 }, at('ipc-bob.key'))).id;
    await O.call('authority:revoke', { id: bob, reason: 'mutation' });
    await O.call('authority:exportDirectory', {}, at('ipc-d1.json'));
    await W.call('directory:import', { pin }, at('ipc-d1.json'));
    await W.call('identities:installCertificate', {}, at('ipc-alice.cert'));
    expect((await W.refusal('directory:import', {}, at('ipc-d1.json'))).code).toBe('rollback');
    W.choose(at('ipc-olivier.card'), DATA);
    await W.call('identities:importCard', { path: at('ipc-olivier.card') });
    // The officer console's check is the core's now (requireOfficer, as unlockAuthority makes
    // it): same refusal as the interface's own check gave, before any dialog, and no event.
    // No dialog answer queued: a check made after the dialog would see it cancelled (ok).
    notOfficer = await W.refusal('authority:exportDirectory', {});
    const sealed = await W.call<{ out: string }>('containers:encrypt', { opId: 'w2', files: [DATA], to: [officer], self: true }, at('ipc-etat.pli'));
    mkdirSync(at('ipc-ouvert'));
    W.choose(sealed.out);
    await W.call('containers:open', { opId: 'w3', path: sealed.out }, at('ipc-ouvert'));
    await W.call('audit:verify');
    await W.call('audit:export', {}, at('ipc-journal.csv'));
  } finally {
    O.close();
    W.close();
  }
  viaIpc.O = seen(homeO);
  viaIpc.W = seen(homeW);
}

beforeAll(async () => {
  await Promise.all([runCli(), runIpc()]);
}, 600_000);

afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('the CLI and the desktop log the same operation the same way (the core writes both)', () => {
  it('the officer workstation: profile, identity, authority, card export, certify, provision, revoke, directory export', () => {
    expect(viaCli.O.map((e) => e.action)).toEqual([
      'profile.created', 'identity.created', 'authority.created', 'identity.exported',
      'identity.certified', 'identity.provisioned', 'identity.revoked', 'directory.exported',
    ]);
    expect(viaCli.O).toEqual(viaIpc.O);
    // The officer acts in every event after the profile's creation, in both front ends.
    expect(viaCli.O.slice(1).map((e) => e.actor)).toEqual(Array(7).fill(OFFICER.name));
  });

  it('the member workstation: directory import (and its refusal), certificate, card import, encrypt, decrypt, audit verify and export', () => {
    expect(viaCli.W.map((e) => [e.action, e.outcome])).toEqual([
      ['profile.created', 'ok'], ['identity.created', 'ok'], ['identity.exported', 'ok'], ['directory.imported', 'ok'],
      ['identity.certificate-installed', 'ok'], ['directory.imported', 'refused'], ['identity.imported', 'ok'],
      ['container.sealed', 'ok'], ['container.opened', 'ok'], ['file.written', 'ok'], ['audit.verified', 'ok'], ['audit.exported', 'ok'],
    ]);
    const expected = viaIpc.W.map((e) => (NO_PASSPHRASE_IN_CLI.has(e.action) ? { ...e, actor: null } : e));
    expect(viaCli.W).toEqual(expected);
    // The desktop names its signed-in person there; every other event has the same actor.
    expect(viaIpc.W.filter((e) => NO_PASSPHRASE_IN_CLI.has(e.action)).map((e) => e.actor)).toEqual([ALICE.name, ALICE.name]);
    expect(viaCli.W.find((e) => e.action === 'directory.imported' && e.outcome === 'refused')).toMatchObject({ actor: ALICE.name, detail: ['reason'] });
  });

  it('the officer console refuses anyone else with the same words as before, the core checking', () => {
    expect(notOfficer).toEqual({
      kind: 'security', code: 'role',
      message: 'Action réservée à l’officier SSI, sur le poste de l’autorité, avec un certificat d’officier valide. Connectez-vous sous le nom de l’officier SSI.',
    });
  });
});
